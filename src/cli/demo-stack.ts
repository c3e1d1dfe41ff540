/**
 * The pieces of the docker-compose demo stack, as commands of the same binary:
 * - `driftwatch demo-produce`: streams the bundled press telemetry into Kafka in real time (event time = now), a new
 *   lot every 15 minutes, and switches to the drifted batch after `--drift-after`; with `--reference` it first
 *   creates and promotes the demo reference in the store (idempotent: ids follow content).
 * - `driftwatch demo-receivers`: the local stand-ins for Slack, a signed-webhook receiver and Airflow, printing what
 *   the actions send them.
 */
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { describeReceived } from '../app/console.js';
import { DEMO_LOTS, DEMO_MODEL, DEMO_SEGMENT, prepareDemo, readDemoTables } from '../app/demo-data.js';
import { startDemoReceivers } from '../app/demo-receivers.js';
import { parseDuration } from '../config/duration.js';
import { demoRecords } from '../sources/demo.js';
import { createKafkaPublisher, ensureTopics } from '../sources/kafka-publisher.js';
import { openStore, storeConfigFromEnv } from '../store/index.js';
import type { CliIo } from './main.js';
import { packageRoot } from '../app/package-root.js';
import { UsageError } from './usage-error.js';

function durationMs(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms < 0) throw new InvalidArgumentError(`expected a duration such as 10m, got "${value}"`);
  return ms;
}

function whole(name: string, min: number) {
  return (value: string): number => {
    const x = Number(value);
    if (!Number.isInteger(x) || x < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return x;
  };
}

/** Resolves on the first SIGINT/SIGTERM. */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const once = (s: NodeJS.Signals) => {
      process.off('SIGINT', once);
      process.off('SIGTERM', once);
      resolve(s);
    };
    process.on('SIGINT', once);
    process.on('SIGTERM', once);
  });
}

export function addDemoStackCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('demo-produce')
    .description('Stream the bundled press telemetry into Kafka in real time, with a drift after a while (the compose stack\'s producer).')
    .option('--brokers <list>', 'Kafka brokers, comma-separated (default: env KAFKA_BROKERS)')
    .option('--topic <name>', 'telemetry topic', 'driftwatch.telemetry')
    .option('--rate <n>', 'records per second', whole('--rate', 1), 50)
    .option('--drift-after <duration>', 'how long to send clean records before the drifted ones', durationMs, 10 * 60_000)
    .option('--duration <duration>', 'stop after this long (default: until stopped)', durationMs)
    .option('--reference', 'first create and promote the demo reference in the store (CLICKHOUSE_URL or the embedded engine)')
    .action(async (flags: { brokers?: string; topic: string; rate: number; driftAfter: number; duration?: number; reference?: boolean }) => {
      const brokers = (flags.brokers ?? process.env['KAFKA_BROKERS'] ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
      if (brokers.length === 0) throw new UsageError('give --brokers or set KAFKA_BROKERS');
      const fixtures = join(packageRoot(), 'fixtures', 'demo');
      const data = await readDemoTables(fixtures);
      if (flags.reference) {
        const store = await openStore(storeConfigFromEnv(process.env));
        try {
          const { reference } = await prepareDemo(store, fixtures);
          io.err(`reference ${reference.id} for ${DEMO_MODEL} is active\n`);
        } finally {
          await store.close();
        }
      }
      const client = { clientId: 'driftwatch-demo-producer', log: (level: string, message: string) => io.err(`kafka ${level}: ${message}\n`) };
      await ensureTopics(brokers, [{ topic: flags.topic, partitions: 1 }], client);
      const publisher = createKafkaPublisher({ ...client, brokers });
      const stepMs = 1000 / flags.rate;
      const driftAt = Math.round(flags.driftAfter / stepMs);
      const startTs = Date.now();
      const record = demoRecords({
        model: DEMO_MODEL,
        normal: data.normal,
        drifted: data.drifted,
        segmentBy: DEMO_SEGMENT,
        lots: { ...DEMO_LOTS, records: Math.round((15 * 60_000) / stepMs) },
        driftAfter: driftAt,
        startTs,
        stepMs,
      });
      io.err(`producing ${flags.rate} records/s of ${DEMO_MODEL} to ${flags.topic}; drift after ${Math.round(flags.driftAfter / 1000)} s\n`);
      let stopped = false;
      void untilStopped().then(() => (stopped = true));
      const end = flags.duration !== undefined ? startTs + flags.duration : Infinity;
      let i = 0;
      try {
        for (let last = false; !stopped && !last; ) {
          // Everything due by now (event time follows the clock; with --duration, up to its end), then a short sleep.
          const now = Math.min(Date.now(), end);
          last = now >= end;
          const due = Math.floor((now - startTs) / stepMs) - (last ? 1 : 0);
          while (i <= due) {
            const batch = [];
            for (; i <= due && batch.length < 5000; i++) batch.push({ key: DEMO_MODEL, value: Buffer.from(record(i)) });
            await publisher.publish(flags.topic, batch);
            if (i > driftAt && i - batch.length <= driftAt) io.err(`drift injected at record ${driftAt}\n`);
          }
          if (!last) await new Promise((r) => setTimeout(r, Math.min(200, end - Date.now())));
        }
      } finally {
        await publisher.close();
      }
      io.err(`sent ${i} records\n`);
      setExit(0);
    });

  program
    .command('demo-receivers')
    .description('Run the stand-ins for Slack, a signed-webhook receiver and Airflow, and print what they receive (the compose stack\'s receiver).')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'port', whole('--port', 0), 9000)
    .action(async (flags: { host: string; port: number }) => {
      const secret = process.env['DRIFTWATCH_WEBHOOK_SECRET'];
      const username = process.env['AIRFLOW_USERNAME'];
      const password = process.env['AIRFLOW_PASSWORD'];
      if (!secret || !username || !password) throw new UsageError('set DRIFTWATCH_WEBHOOK_SECRET, AIRFLOW_USERNAME and AIRFLOW_PASSWORD (the same values driftwatch uses)');
      const receivers = await startDemoReceivers({
        host: flags.host,
        port: flags.port,
        webhookSecret: secret,
        airflow: { username, password },
        onReceive: (r) => io.out(describeReceived(r)),
      });
      io.err(`receivers on ${receivers.url}: POST /slack/<any>, POST /hooks/<any>, Airflow API /api/v1/dags/<dag>/dagRuns\n`);
      await untilStopped();
      await receivers.close();
      setExit(0);
    });
}
