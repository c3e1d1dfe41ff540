/**
 * The streaming commands: `driftwatch run` (the service), `driftwatch replay FILE` (a file through the same
 * pipeline) and `driftwatch demo` (the live demo on the bundled fixtures, with a drift injected).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, parseConfig, describeConfig } from '../config/index.js';
import type { DriftwatchConfig } from '../config/types.js';
import { METHOD_NAMES } from '../drift/methods.js';
import { randomBytes } from 'node:crypto';
import { alertReporter, consoleReporter, describeReceived } from '../app/console.js';
import { startDemoReceivers, type DemoReceivers } from '../app/demo-receivers.js';
import { DEMO_LOTS, DEMO_MODEL, DEMO_SEGMENT, DEMO_STEP_MS, DEMO_WINDOW_MS, demoConfig, prepareDemo } from '../app/demo-data.js';
import { startService, type Service } from '../app/service.js';
import { createDemoSource } from '../sources/demo.js';
import { createFileSource, replayFormatOf } from '../sources/file.js';
import { openStore, storeConfigFromEnv } from '../store/index.js';
import { packageRoot } from '../app/package-root.js';
import { withStore } from './reference.js';
import type { CliIo } from './main.js';
import { UsageError } from './usage-error.js';
import { ProgressLine } from './progress-line.js';

function positiveNumber(name: string) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${name} must be a number > 0, got "${value}"`);
    return x;
  };
}

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const x = Number(value);
    if (!Number.isInteger(x) || x < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return x;
  };
}

async function configFor(flags: { config?: string; dataDir?: string }): Promise<{ config: DriftwatchConfig; file: string | null }> {
  const env = { ...process.env, ...(flags.dataDir ? { DRIFTWATCH_DATA_DIR: resolve(flags.dataDir) } : {}) };
  return loadConfig({ ...(flags.config ? { file: flags.config } : {}), env, cwd: process.cwd(), methods: METHOD_NAMES });
}

/** Resolves on SIGINT/SIGTERM (the first one); a second one exits at once. */
function untilSignal(): { promise: Promise<string>; dispose: () => void } {
  let resolveFn!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolveFn = r));
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    if (seen) process.exit(130);
    seen = true;
    resolveFn(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export function addStreamCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const log = (line: string) => io.err(line);

  program
    .command('dead-letters')
    .description('Records the pipeline refused, newest first, with where they came from and why.')
    .command('list')
    .option('--model <name>', 'only this model\'s (records naming no model: --model "")')
    .option('--limit <n>', 'at most this many', wholeNumber('--limit', 1), 50)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--data-dir <dir>', 'embedded engine data directory (default ./data; ignored with CLICKHOUSE_URL)')
    .action(async (flags: { model?: string; limit: number; format: 'table' | 'json'; dataDir?: string }) => {
      const letters = await withStore(flags.dataDir ? { dataDir: flags.dataDir } : {}, (store) =>
        store.listDeadLetters({ ...(flags.model !== undefined ? { model: flags.model } : {}), limit: flags.limit }),
      );
      if (flags.format === 'json') io.out(`${JSON.stringify(letters, null, 2)}\n`);
      else if (letters.length === 0) io.out('no dead letters\n');
      else {
        for (const l of letters) {
          const payload = l.payload.length > 80 ? `${l.payload.slice(0, 77)}...` : l.payload;
          io.out(`${new Date(l.receivedAt).toISOString()}  ${l.reasonCode}  ${l.source}\n  ${l.reason}\n  ${JSON.stringify(payload)}\n`);
        }
      }
      setExit(0);
    });

  program
    .command('run')
    .description(
      'Run the service: Kafka when KAFKA_BROKERS (or kafka.brokers) is set, otherwise HTTP ingest on the embedded\n' +
        'ClickHouse engine. Windows every model, evaluates each window against its active reference, writes reports.',
    )
    .option('--config <file>', 'configuration file (default: $DRIFTWATCH_CONFIG, else ./driftwatch.yaml if present)')
    .option('--data-dir <dir>', 'embedded engine data directory (default ./data; ignored with CLICKHOUSE_URL)')
    .action(async (flags: { config?: string; dataDir?: string }) => {
      const { config, file } = await configFor(flags);
      log(`driftwatch run${file ? ` (config ${file})` : ' (no config file: embedded defaults)'}\n${describeConfig(config)}\n`);
      const reporter = consoleReporter((l) => io.out(l));
      const signal = untilSignal();
      let service: Service | null = null;
      try {
        const alertLines = alertReporter((l) => io.out(l));
        service = await startService({ config, log, onEvent: reporter.onEvent, onAlert: alertLines.onAlert, onDelivery: alertLines.onDelivery });
        const how = await Promise.race([signal.promise, service.finished.then(() => 'finished')]);
        log(`stopping (${how})\n`);
      } finally {
        signal.dispose();
        await service?.stop();
      }
      const t = reporter.totals();
      log(`stopped: ${t.windows} windows reported, ${t.drifted} with dataset drift, ${t.deadLetters} dead letters\n`);
      setExit(0);
    });

  program
    .command('replay')
    .description('Replay a file (NDJSON, JSON array, Arrow IPC, or CSV with --model) through the pipeline, then report every window.')
    .argument('<file>', 'records to replay')
    .option('--config <file>', 'configuration file (default: $DRIFTWATCH_CONFIG, else ./driftwatch.yaml if present)')
    .option('--data-dir <dir>', 'embedded engine data directory (default ./data; ignored with CLICKHOUSE_URL)')
    .option('--model <name>', 'CSV: the model every row belongs to')
    .option('--segment-by <a,b>', 'CSV: columns that are segment fields', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--speed <n>', 'replay N times faster than the records\' event times', positiveNumber('--speed'))
    .option('--as-fast-as-possible', 'no pacing (the default)')
    .action(async (file: string, flags: { config?: string; dataDir?: string; model?: string; segmentBy?: string[]; speed?: number; asFastAsPossible?: boolean }) => {
      if (flags.speed !== undefined && flags.asFastAsPossible) throw new UsageError('--speed and --as-fast-as-possible exclude each other');
      if (replayFormatOf(file) === 'csv' && !flags.model) throw new UsageError(`replay ${file}: a CSV file needs --model, the model its rows belong to`);
      const { config } = await configFor(flags);
      // On a terminal, a progress bar on stderr with the window lines (stdout) and log lines printed above it.
      const bar = io.interactive ? new ProgressLine({ write: io.err, ...(io.columns !== undefined ? { columns: io.columns } : {}), label: 'replay', unit: 'records' }) : null;
      const out = (line: string) => (bar ? bar.print(line, io.out) : io.out(line));
      const reporter = consoleReporter(out);
      const source = createFileSource({
        path: file,
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.segmentBy ? { segmentBy: flags.segmentBy } : {}),
        speed: flags.speed ?? 'max',
        ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
      });
      let service: Service | null = null;
      try {
        service = await startService({ config, source, http: false, log: (line) => (bar ? bar.print(line, io.err) : io.err(line)), onEvent: reporter.onEvent });
        await service.finished;
      } finally {
        // Reports still pending are written (and printed above the bar) before it ends.
        await service?.stop();
        bar?.stop();
      }
      const c = service.pipeline.counters;
      const t = reporter.totals();
      io.out(`replayed ${file}: ${c.accepted} records accepted, ${c.rejected} rejected (${c.late} late), ${t.windows} windows reported, ${t.drifted} with dataset drift\n`);
      setExit(0);
    });

  program
    .command('demo')
    .description(
      'The live demo: streams the bundled press telemetry through the pipeline on the embedded engine, injects a drift\n' +
        'half-way, and prints every window as it is evaluated.',
    )
    .option('--data-dir <dir>', 'keep the demo\'s store here (default: a temporary directory, removed afterwards)')
    .option('--rules <dir>', 'alert rules and actions (default: the rules/ folder driftwatch ships)')
    .option('--serve [port]', 'after the stream, keep serving the HTTP API (metrics, report pages, alerts) on 127.0.0.1 until Ctrl-C (default port 8080)')
    .option('--no-receivers', 'do not start the local Slack/webhook/Airflow stand-ins: actions use the URLs and secrets from the environment')
    .option('--records <n>', 'records to stream', wholeNumber('--records', 600), 3600)
    .option('--rate <n>', 'records per second (0: as fast as possible)', wholeNumber('--rate', 0), 600)
    .addOption(new Option('--drift-after <n>', 'records before the drift (default: half)').argParser(wholeNumber('--drift-after', 0)))
    .action(async (flags: { dataDir?: string; rules?: string; serve?: string | boolean; receivers: boolean; records: number; rate: number; driftAfter?: number }) => {
      const servePort = flags.serve === undefined || flags.serve === false ? null : flags.serve === true ? 8080 : Number(flags.serve);
      if (servePort !== null && !(Number.isInteger(servePort) && servePort >= 0 && servePort <= 65535)) throw new UsageError(`--serve: expected a port number, got "${String(flags.serve)}"`);
      const dataDir = flags.dataDir ? resolve(flags.dataDir) : mkdtempSync(join(tmpdir(), 'driftwatch-demo-'));
      let receivers: DemoReceivers | null = null;
      try {
        // Local stand-ins for Slack, a webhook receiver and Airflow, so the shipped rules act on something visible.
        let env: NodeJS.ProcessEnv = process.env;
        if (flags.receivers) {
          const secret = `whsec_${randomBytes(24).toString('base64')}`;
          const airflow = { username: 'demo', password: randomBytes(12).toString('hex') };
          receivers = await startDemoReceivers({ webhookSecret: secret, airflow, onReceive: (r) => io.out(describeReceived(r)) });
          env = {
            ...process.env,
            SLACK_WEBHOOK_URL: receivers.slackUrl,
            DRIFTWATCH_WEBHOOK_URL: receivers.webhookUrl,
            DRIFTWATCH_WEBHOOK_SECRET: secret,
            AIRFLOW_URL: receivers.airflowUrl,
            AIRFLOW_USERNAME: airflow.username,
            AIRFLOW_PASSWORD: airflow.password,
          };
        }
        const base = parseConfig('{}', '(demo)', { DRIFTWATCH_DATA_DIR: dataDir }, METHOD_NAMES);
        const stepMs = DEMO_STEP_MS;
        const windowMs = DEMO_WINDOW_MS;
        const demoBase = demoConfig(base, dataDir);
        const config: DriftwatchConfig = {
          ...demoBase,
          http: { ...demoBase.http, host: '127.0.0.1', port: servePort ?? 0 },
          alerts: { ...base.alerts, rulesDir: flags.rules ? resolve(flags.rules) : join(packageRoot(), 'rules') },
        };
        const store = await openStore(storeConfigFromEnv({ ...process.env, CLICKHOUSE_URL: '' }, { dataDir }));
        const fixtures = join(packageRoot(), 'fixtures', 'demo');
        let data;
        try {
          data = await prepareDemo(store, fixtures);
        } finally {
          await store.close();
        }
        const driftAfter = flags.driftAfter ?? Math.floor(flags.records / 2);
        // Event times end now, one second apart: windows of five minutes hold 300 records.
        const startTs = Math.floor((Date.now() - flags.records * stepMs) / windowMs) * windowMs;
        io.out(
          `driftwatch demo: model ${DEMO_MODEL}, reference ${data.reference.id} (fixtures/demo/reference.csv, ${data.reference.rowCount} rows)\n` +
            `streaming ${flags.records} records (one per second of event time, 5-minute windows); drift injected after record ${driftAfter}\n\n`,
        );
        const reporter = consoleReporter((l) => io.out(l));
        const source = createDemoSource({
          model: DEMO_MODEL,
          normal: data.normal,
          drifted: data.drifted,
          segmentBy: DEMO_SEGMENT,
          records: flags.records,
          lots: DEMO_LOTS,
          driftAfter,
          startTs,
          stepMs,
          ratePerSecond: flags.rate,
        });
        const alertLines = alertReporter((l) => io.out(l));
        const service = await startService({
          config,
          source,
          http: servePort !== null,
          httpSettings: { host: '--serve', port: '--serve' },
          env,
          log: (line) => {
            if (line.startsWith('alerts:')) io.out(line);
          },
          onEvent: reporter.onEvent,
          onAlert: alertLines.onAlert,
          onDelivery: alertLines.onDelivery,
        });
        try {
          await service.finished;
          // Let the dispatcher deliver what the last windows queued (bounded).
          for (let i = 0; i < 150 && (await service.store.listOutbox({ status: 'pending', limit: 1 })).length > 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          if (service.url) {
            io.out(
              `\nserving ${service.url} until Ctrl-C:\n` +
                `  report of the newest window  ${service.url}/v1/reports/${DEMO_MODEL}\n` +
                `  metrics                      ${service.url}/metrics\n` +
                `  alerts and deliveries        ${service.url}/v1/alerts, ${service.url}/v1/actions\n`,
            );
            const signal = untilSignal();
            await signal.promise;
            signal.dispose();
          }
        } finally {
          await service.stop();
        }
        const t = reporter.totals();
        const driftWindow = new Date(startTs + driftAfter * stepMs).toISOString();
        io.out(
          `\n${t.windows} windows evaluated; ${t.drifted} with dataset drift` +
            (t.firstDrift ? ` (first: ${t.firstDrift}; the drift was injected at ${driftWindow})` : ' (no drift detected)') +
            '\nReports, dead letters and references are in the store: run `driftwatch run` and POST records to /v1/ingest to watch your own data.\n',
        );
        const a = alertLines.totals();
        io.out(
          `${a.firing} alerts fired, ${a.delivered} notifications and triggers delivered` +
            (receivers ? ` to the local stand-ins (${receivers.received.length} requests received)` : '') +
            (a.dead > 0 ? `, ${a.dead} failed for good (see \`driftwatch actions list\`)` : '') +
            '\n',
        );
        setExit(t.drifted > 0 ? 0 : 1);
      } finally {
        await receivers?.close();
        if (!flags.dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
    });
}
