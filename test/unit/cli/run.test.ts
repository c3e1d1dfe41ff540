import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { freePort, uniqueTopic, waitForBroker } from '../../kafka/broker.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'driftwatch-run-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => void vi.unstubAllEnvs());
/** The embedded engine binds one data directory per process: every test here that opens the store uses this one. */
const storeDir = join(dir, 'empty');
const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('driftwatch run', () => {
  it('reports every problem of a bad configuration file with its place, and exits 2 without starting', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      ['windows:', '  size: soon', '  type: hoping', 'models:', '  press-qa:', '    kind: prediction', 'kafka:', '  brokerz: [a:1]', ''].join('\n'),
    );
    const r = await run('run', '--config', file, '--data-dir', join(dir, 'data'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:2:9`);
    expect(r.err).toMatch(/windows\.size: .*duration/);
    expect(r.err).toMatch(/windows\.type/);
    expect(r.err).toMatch(/models\.press-qa\.task/);
    expect(r.err).toMatch(/brokerz.*did you mean "brokers"/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('says which file is missing', async () => {
    const r = await run('run', '--config', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.yaml/);
  });
});

describe('driftwatch dead-letters list', () => {
  it('lists what the store holds (nothing in a new data directory)', async () => {
    const r = await run('dead-letters', 'list', '--data-dir', join(dir, 'empty'), '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
    expect((await run('dead-letters', 'list', '--data-dir', join(dir, 'empty'))).out).toBe('no dead letters\n');
  });
});

/** `run` on the embedded engine with its own database, no alert rules, no evaluation threads, HTTP on loopback. */
function runEnv(database: string): void {
  vi.stubEnv('CLICKHOUSE_URL', '');
  vi.stubEnv('CLICKHOUSE_DATABASE', database);
  vi.stubEnv('KAFKA_BROKERS', '');
  vi.stubEnv('DRIFTWATCH_HTTP_HOST', '127.0.0.1');
  vi.stubEnv('DRIFTWATCH_HTTP_PORT', '0');
  vi.stubEnv('DRIFTWATCH__ALERTS__ENABLED', 'false');
  vi.stubEnv('DRIFTWATCH__PIPELINE__EVALUATION_WORKERS', '0');
}

const lastLine = (text: string) => text.trimEnd().split('\n').pop();

describe('driftwatch run: the environment\'s mistakes, one line each', () => {
  it('an HTTP port already in use names the address and the setting, exit 2', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      runEnv('run_port_in_use');
      vi.stubEnv('DRIFTWATCH_HTTP_PORT', String(port));
      const r = await run('run', '--data-dir', storeDir);
      expect(r.code).toBe(2);
      expect(lastLine(r.err)).toBe(`error: cannot listen on 127.0.0.1:${port}: the address is already in use (http.port / DRIFTWATCH_HTTP_PORT)`);
      expect(r.err).not.toContain('internal error');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('Kafka brokers that cannot be reached are a Kafka error, exit 4, not a bug', async () => {
    const port = await freePort(); // nothing listens there
    runEnv('run_kafka_down');
    vi.stubEnv('KAFKA_BROKERS', `127.0.0.1:${port}`);
    const r = await run('run', '--data-dir', storeDir);
    expect(lastLine(r.err)).toBe(
      `error: cannot connect to the Kafka brokers (kafka.brokers / KAFKA_BROKERS): broker 127.0.0.1:${port} refused the connection (ECONNREFUSED)`,
    );
    expect(r.code).toBe(4);
    expect(r.err).not.toContain('internal error');
  });

  it('a CLICKHOUSE_URL the ClickHouse client refuses is a store configuration error, exit 2, its values not shown', async () => {
    for (const argv of [['run'], ['reference', 'list'], ['dead-letters', 'list']]) {
      runEnv('run_bad_url');
      vi.stubEnv('CLICKHOUSE_URL', 'http://127.0.0.1:9/?foo=s3cret-value');
      const r = await run(...argv);
      expect(r.code).toBe(2);
      expect(lastLine(r.err)).toMatch(/^error: .*CLICKHOUSE_URL.*foo/);
      expect(r.err).not.toContain('s3cret-value');
      expect(r.err).not.toContain('internal error');
    }
  });

  it('a topic the brokers do not have stops the process with a Kafka error, exit 4, without leaving it hanging', async () => {
    const kafkaError = inject('kafkaError');
    if (kafkaError) throw new Error(kafkaError);
    const brokers = inject('kafkaBrokers');
    await waitForBroker(brokers, { timeoutMs: 40_000, logDir: inject('kafkaLogDir') });
    const missing = uniqueTopic('run-missing-telemetry');
    // The built command line, as a process of its own: it must exit by itself (a consumer left connected would keep it up).
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'run', '--data-dir', join(dir, 'spawned')], {
      env: {
        PATH: process.env['PATH'] ?? '',
        KAFKA_BROKERS: brokers,
        DRIFTWATCH__KAFKA__TOPICS__TELEMETRY: `[${missing}]`,
        DRIFTWATCH__KAFKA__TOPICS__PREDICTIONS: '[]',
        DRIFTWATCH__KAFKA__TOPICS__DRIFT_EVENTS: 'null',
        DRIFTWATCH__KAFKA__TOPICS__DEAD_LETTERS: 'null',
        DRIFTWATCH__ALERTS__ENABLED: 'false',
        DRIFTWATCH__PIPELINE__EVALUATION_WORKERS: '0',
        DRIFTWATCH_HTTP_HOST: '127.0.0.1',
        DRIFTWATCH_HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.resume();
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      const code = await exit;
      expect(lastLine(err)).toMatch(/^error: Kafka: a topic in kafka\.topics does not exist on the brokers .*\(UNKNOWN_TOPIC_OR_PARTITION\)$/);
      expect(code).toBe(4);
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
  }, 60_000);
});
