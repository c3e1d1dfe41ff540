/**
 * `driftwatch replay`, in process: its usage errors, its output on a terminal (progress bar and window lines on
 * one screen) and off one, and its drift events on Kafka when Kafka is configured (the run's broker,
 * test/kafka/global-setup.ts). One embedded data directory for the whole file (the engine binds one per process).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { uniqueTopic, waitForBroker } from '../../kafka/broker.js';
import { run } from './run-cli.js';
import { screen } from './screen.js';

const dir = mkdtempSync(join(tmpdir(), 'driftwatch-replay-cli-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => void vi.unstubAllEnvs());

const WINDOW_MS = 5 * 60_000;
/** Three five-minute windows of 20 records each, two hours ago (within the default ingest.max_past). */
const START = Math.floor((Date.now() - 2 * 3_600_000) / WINDOW_MS) * WINDOW_MS;
const records = Array.from({ length: 60 }, (_, i) =>
  JSON.stringify({ model: 'm', ts: START + i * 15_000, features: { temp: 80 + (i % 7) + (i >= 40 ? 30 : 0), line: i % 3 === 0 ? 'B' : 'A' } }),
);
const file = join(dir, 'records.ndjson');
const WINDOW_LINE = /^window \S+ \.\. \S+  m  rows 20  drifted \d\/2  (ok|feature drift|DATASET DRIFT: .+)$/;

/** What a run of the pipeline needs from the environment: no evaluation threads, no shipped alert rules. */
function quietEnv(database: string): void {
  vi.stubEnv('DRIFTWATCH__PIPELINE__EVALUATION_WORKERS', '0');
  vi.stubEnv('DRIFTWATCH__ALERTS__ENABLED', 'false');
  vi.stubEnv('CLICKHOUSE_DATABASE', database);
  vi.stubEnv('CLICKHOUSE_URL', '');
  vi.stubEnv('KAFKA_BROKERS', '');
}

beforeAll(async () => {
  writeFileSync(file, `${records.join('\n')}\n`);
  const ref = ['temp,line', ...Array.from({ length: 200 }, (_, i) => `${80 + (i % 7)},${i % 3 === 0 ? 'B' : 'A'}`)].join('\n');
  writeFileSync(join(dir, 'ref.csv'), `${ref}\n`);
  for (const database of ['replay_tty', 'replay_plain', 'replay_kafka']) {
    quietEnv(database);
    const r = await run('reference', 'create', '--model', 'm', '--file', join(dir, 'ref.csv'), '--promote', '--data-dir', dataDir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }
  vi.unstubAllEnvs();
}, 60_000);

describe('driftwatch replay: usage errors', () => {
  it('refuses a CSV file without --model before anything starts, with one line and exit 2', async () => {
    const csv = join(dir, 'cur.csv');
    writeFileSync(csv, `ts,temp\n${START},1\n`);
    const untouched = join(dir, 'never-created');
    for (const model of [[], ['--model', '']]) {
      const r = await run('replay', csv, ...model, '--data-dir', untouched);
      expect(r).toEqual({ code: 2, out: '', err: `error: replay ${csv}: a CSV file needs --model, the model its rows belong to\n` });
    }
    expect(existsSync(untouched)).toBe(false); // no store was opened
  });

  it('says that --speed and --as-fast-as-possible exclude each other, exit 2', async () => {
    const r = await run('replay', file, '--speed', '2', '--as-fast-as-possible', '--data-dir', join(dir, 'never-created'));
    expect(r).toEqual({ code: 2, out: '', err: 'error: --speed and --as-fast-as-possible exclude each other\n' });
  });
});

describe('driftwatch replay: output', () => {
  it('on a terminal, shows every window line whole on its own line, the bar below them, and the summary last', async () => {
    quietEnv('replay_tty');
    // stdout and stderr reach one terminal: one transcript, in the order written.
    let terminal = '';
    const write = (s: string) => void (terminal += s);
    const code = await main(['replay', file, '--data-dir', dataDir], { out: write, err: write, interactive: true, columns: 200 });
    expect(code).toBe(0);
    const lines = screen(terminal);
    const windows = lines.filter((l) => l.startsWith('window '));
    expect(windows).toHaveLength(3);
    for (const l of windows) expect(l).toMatch(WINDOW_LINE);
    expect(lines.filter((l) => l.includes('replay ['))).toEqual([`replay [${'='.repeat(40)}] 60/60 records`]);
    expect(lines.slice(-2)).toEqual([
      `replay [${'='.repeat(40)}] 60/60 records`,
      `replayed ${file}: 60 records accepted, 0 rejected (0 late), 3 windows reported, 1 with dataset drift`,
    ]);
    // The window lines come before the bar's last state.
    expect(lines.indexOf(windows[2]!)).toBeLessThan(lines.length - 2);
  });

  it('off a terminal, prints the window lines and the summary on stdout, and no bar', async () => {
    quietEnv('replay_plain');
    const r = await run('replay', file, '--data-dir', dataDir);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines.slice(0, 3)) expect(l).toMatch(WINDOW_LINE);
    expect(lines[3]).toBe(`replayed ${file}: 60 records accepted, 0 rejected (0 late), 3 windows reported, 1 with dataset drift`);
    expect(r.err).not.toContain('replay [');
    expect(r.err).not.toContain('\x1b');
  });
});

describe('driftwatch replay with Kafka configured', () => {
  it('publishes a drift event per window to the drift-events topic, and keeps the file\'s dead letters off Kafka', async () => {
    const kafkaError = inject('kafkaError');
    if (kafkaError) throw new Error(kafkaError);
    const brokers = inject('kafkaBrokers');
    await waitForBroker(brokers, { timeoutMs: 50_000, logDir: inject('kafkaLogDir') });
    const events = uniqueTopic('replay-drift-events');
    const deadLetters = uniqueTopic('replay-dead-letters');
    const withBad = join(dir, 'with-bad.ndjson');
    writeFileSync(withBad, `${records.join('\n')}\nnot json\n`);
    quietEnv('replay_kafka');
    vi.stubEnv('KAFKA_BROKERS', brokers);
    vi.stubEnv('DRIFTWATCH__KAFKA__TOPICS__DRIFT_EVENTS', events);
    vi.stubEnv('DRIFTWATCH__KAFKA__TOPICS__DEAD_LETTERS', deadLetters);
    const r = await run('replay', withBad, '--data-dir', dataDir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('60 records accepted, 1 rejected (0 late), 3 windows reported');

    const kafka = new Kafka({ clientId: 'replay-test', brokers: [brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(topics).toContain(events);
      expect(topics).not.toContain(deadLetters);
      const offsets = await admin.fetchTopicOffsets(events);
      expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(3);
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: uniqueTopic('replay-reader'), maxWaitTimeInMs: 200 });
    const received: Array<{ schema: string; id: string; model: string; window: { start: string | number } }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: events, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void received.push(JSON.parse(message.value!.toString())) });
      for (const deadline = Date.now() + 20_000; received.length < 3 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await consumer.disconnect();
    }
    expect(received).toHaveLength(3);
    expect(received.every((e) => e.schema === 'driftwatch.drift-event/v1' && e.model === 'm')).toBe(true);
    expect(new Set(received.map((e) => e.id)).size).toBe(3);
  }, 60_000);
});
