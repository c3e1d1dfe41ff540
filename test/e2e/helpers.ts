/**
 * End-to-end helpers: `driftwatch run` as a child process (`node dist/src/cli/main.js`, so `npm run build` first)
 * against the run's real Kafka broker (test/kafka/global-setup.ts), fed by a kafkajs producer and read back from
 * its output topics by a kafkajs consumer.
 *
 * Rules kept here: children bind nothing (HTTP off; Kafka and chDB are clients or in-process), every wait is
 * bounded, every child is tracked and killed (SIGTERM, then SIGKILL) by `stopAll` and, as a last resort, when the
 * test process exits. Each driftwatch process gets its own embedded-engine data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AssignerProtocol,
  Kafka,
  logLevel,
  Partitioners,
  type Consumer,
  type IHeaders,
  type Message,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import type { DriftEvent } from '../../src/pipeline/window-report.js';
import { mulberry32 } from '../../bench/seeded-random.js';
import { defaultLibsDir, waitForBroker } from '../kafka/broker.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
export const FIXTURES = join(REPO_ROOT, 'fixtures/demo');

export const WINDOW_MS = 5 * 60_000;
export const STEP_MS = 1000;
export const ROWS_PER_WINDOW = WINDOW_MS / STEP_MS;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs` with `what` and `detail()`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
    await sleep(50);
  }
}

/** A promise with an upper bound: resolves `fallback` after `ms`. */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- data ----

/** Deterministic random numbers in [0, 1): the benchmarks' mulberry32, so data are the same everywhere. */
export const seeded = mulberry32;

export type FeatureRow = Record<string, number | string | boolean | null>;

const NUMERICAL = new Set(['temp_c', 'pressure_bar', 'vibration_mm_s', 'cycle_time_s', 'shift']);
const DROPPED = new Set(['ts', 'lot_id']);

/** The feature rows of a fixture CSV (no quoting in these files): `ts` and `lot_id` dropped, values typed. */
export function featureRows(file: 'reference.csv' | 'current.csv'): FeatureRow[] {
  const [header, ...lines] = readFileSync(join(FIXTURES, file), 'utf8').trim().split('\n');
  const names = header!.trim().split(',');
  return lines.map((line) => {
    const cells = line.trim().split(',');
    const row: FeatureRow = {};
    names.forEach((name, i) => {
      if (DROPPED.has(name)) return;
      const cell = cells[i] ?? '';
      if (cell === '') row[name] = null;
      else if (NUMERICAL.has(name)) row[name] = Number(cell);
      else if (name === 'seal_ok') row[name] = cell === 'true';
      else row[name] = cell;
    });
    return row;
  });
}

/** fixtures/demo/reference.csv without `ts` and `lot_id`: what references are made of. */
export function writeReferenceCsv(dir: string): string {
  const [header, ...lines] = readFileSync(join(FIXTURES, 'reference.csv'), 'utf8').trim().split('\n');
  const names = header!.trim().split(',');
  const keep = names.map((n, i) => (DROPPED.has(n) ? -1 : i)).filter((i) => i >= 0);
  const out = [keep.map((i) => names[i]).join(','), ...lines.map((l) => keep.map((i) => l.trim().split(',')[i] ?? '').join(','))].join('\n') + '\n';
  const file = join(dir, 'reference-features.csv');
  writeFileSync(file, out);
  return file;
}

export interface PlannedRecord {
  readonly model: string;
  readonly ts: number;
  /** The JSON value produced. */
  readonly value: string;
}

export interface ExpectedWindow {
  readonly model: string;
  readonly start: number;
  readonly end: number;
  readonly drifted: boolean;
  readonly rows: number;
}

export interface Plan {
  /** Window-aligned event time of the first record. */
  readonly base: number;
  /** Every record of every model in event-time order (models interleaved second by second), trailing ones last. */
  readonly records: PlannedRecord[];
  /** The windows that must be reported, oldest first per model. */
  readonly windows: ExpectedWindow[];
}

/** `model|ISO start`: how windows are named in assertions. */
export function windowName(model: string, start: number | string): string {
  return `${model}|${typeof start === 'number' ? new Date(start).toISOString() : start}`;
}

/**
 * Per model: `clean` windows of rows drawn from the reference, then `drifted` windows drawn from the drifted batch,
 * one record per second of event time (300 per window), then one trailing record at the start of the next window
 * so that every earlier window closes by watermark. Draws are seeded per model: the same plan is the same bytes.
 */
export function makePlan(o: { models: ReadonlyArray<string>; clean: number; drifted: number; base: number; seed: number }): Plan {
  const normal = featureRows('reference.csv');
  const shifted = featureRows('current.csv');
  const windows = o.clean + o.drifted;
  const rngs = o.models.map((_, i) => seeded(o.seed * 1000 + i));
  const records: PlannedRecord[] = [];
  for (let i = 0; i < windows * ROWS_PER_WINDOW; i++) {
    const drifted = Math.floor(i / ROWS_PER_WINDOW) >= o.clean;
    const pool = drifted ? shifted : normal;
    o.models.forEach((model, m) => {
      const row = pool[Math.floor(rngs[m]!() * pool.length)]!;
      const ts = o.base + i * STEP_MS;
      records.push({ model, ts, value: JSON.stringify({ model, ts, features: row }) });
    });
  }
  const trailingTs = o.base + windows * WINDOW_MS;
  for (const model of o.models) records.push({ model, ts: trailingTs, value: JSON.stringify({ model, ts: trailingTs, features: normal[0] }) });
  const expected: ExpectedWindow[] = [];
  for (const model of o.models) {
    for (let w = 0; w < windows; w++) {
      const start = o.base + w * WINDOW_MS;
      expected.push({ model, start, end: start + WINDOW_MS, drifted: w >= o.clean, rows: ROWS_PER_WINDOW });
    }
  }
  return { base: o.base, records, windows: expected };
}

/** A window-aligned event time `hoursAgo` before now: recent enough for the default `ingest.max_past` (30 d). */
export function alignedBase(hoursAgo = 24): number {
  return Math.floor((Date.now() - hoursAgo * 3_600_000) / WINDOW_MS) * WINDOW_MS;
}

// ---- files, config, references ----

export interface ConfigOptions {
  readonly models: ReadonlyArray<string>;
  readonly maxRecordBytes?: number;
  /** `kafka.max_bytes_per_partition` (default 1MiB): how much one fetch of a partition may return. */
  readonly maxBytesPerPartition?: string;
}

/** A config file for `driftwatch run`: 5-minute tumbling windows closed by the watermark alone, HTTP off. */
export function writeConfig(dir: string, o: ConfigOptions): string {
  const window = '{type: tumbling, size: 5m, watermark_delay: 0s, allowed_lateness: 0s, idle_timeout: 0}';
  const lines = [
    'version: 1',
    'kafka:',
    '  from_beginning: true',
    `  max_bytes_per_partition: ${o.maxBytesPerPartition ?? '1MiB'}`,
    '  topics:',
    '    predictions: []',
    '    labels: []',
    'http:',
    '  enabled: false',
    'ingest:',
    `  max_record_bytes: ${o.maxRecordBytes ?? 1048576}`,
    '  max_future: 1h',
    '  max_past: 30d',
    'windows:',
    '  type: tumbling',
    '  size: 5m',
    '  watermark_delay: 0s',
    '  allowed_lateness: 0s',
    '  idle_timeout: 0',
    'models:',
    ...o.models.flatMap((m) => [`  ${m}:`, '    kind: telemetry', `    window: ${window}`]),
  ];
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'driftwatch.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** The environment of a child: the test's own, without any driftwatch, Kafka, ClickHouse or action setting, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(DRIFTWATCH|KAFKA_|CLICKHOUSE_|SLACK_|AIRFLOW_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the CLI to completion (bounded); rejects on a non-zero exit with its output. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv({ CLICKHOUSE_URL: '' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(out);
      else reject(new Error(`driftwatch ${args.join(' ')} failed (code ${code}, signal ${signal}):\n${out}\n${err}`));
    });
  });
}

/**
 * Creates and promotes a reference per model from the features-only reference CSV in `dataDir`, one CLI process
 * after the other (one process per data directory at a time). Returns model -> reference id.
 */
export async function createReferences(dataDir: string, models: ReadonlyArray<string>, csv: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const model of models) {
    const out = await runCli(['reference', 'create', '--model', model, '--file', csv, '--promote', '--data-dir', dataDir, '--format', 'json']);
    const parsed = JSON.parse(out) as { reference: { id: string; status: string } };
    if (parsed.reference.status !== 'active') throw new Error(`reference of ${model} is ${parsed.reference.status}, not active`);
    ids.set(model, parsed.reference.id);
  }
  return ids;
}

// ---- driftwatch run ----

export interface RunOptions {
  readonly name: string;
  readonly dir: string;
  readonly config: string;
  readonly dataDir: string;
  readonly brokers: string;
  readonly groupId: string;
  readonly telemetry: ReadonlyArray<string>;
  readonly driftEvents: string;
  readonly deadLetters: string;
  /** More environment for the child (e.g. `DRIFTWATCH__KAFKA__CLIENT_ID`). */
  readonly env?: Readonly<Record<string, string>>;
}

const running = new Set<Driftwatch>();

process.once('exit', () => {
  for (const d of running) d.child.kill('SIGKILL');
});

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `driftwatch run` in a child process: stdout lines (one per reported window), stderr kept in a file and a tail. */
export class Driftwatch {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  private stderrTail = '';
  private partial = '';
  private readonly logFile: WriteStream;
  private exitInfo: Exit | null = null;
  readonly exited: Promise<Exit>;

  private constructor(readonly o: RunOptions, readonly incarnation: number) {
    mkdirSync(o.dir, { recursive: true });
    this.logFile = createWriteStream(join(o.dir, `${o.name}-${incarnation}.log`));
    this.child = spawn(process.execPath, [CLI, 'run', '--config', o.config, '--data-dir', o.dataDir], {
      cwd: o.dir,
      env: childEnv({
        KAFKA_BROKERS: o.brokers,
        KAFKA_GROUP_ID: o.groupId,
        DRIFTWATCH_DATA_DIR: o.dataDir,
        CLICKHOUSE_URL: '',
        DRIFTWATCH__KAFKA__TOPICS__TELEMETRY: `[${o.telemetry.join(',')}]`,
        DRIFTWATCH__KAFKA__TOPICS__DRIFT_EVENTS: o.driftEvents,
        DRIFTWATCH__KAFKA__TOPICS__DEAD_LETTERS: o.deadLetters,
        ...o.env,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.exited = new Promise<Exit>((r) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        running.delete(this);
        r(this.exitInfo);
      });
      this.child.once('error', (e) => {
        this.stderrTail += `\nspawn error: ${e.message}\n`;
        this.exitInfo ??= { code: null, signal: null };
        running.delete(this);
        r(this.exitInfo);
      });
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.logFile.write(chunk);
      const text = this.partial + chunk;
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      this.stdout.push(...lines);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.logFile.write(chunk);
      this.stderrTail = (this.stderrTail + chunk).slice(-20_000);
    });
  }

  static start(o: RunOptions, incarnation = 1): Driftwatch {
    return new Driftwatch(o, incarnation);
  }

  /** The same options again (a restart after a crash): same group, data directory and topics. */
  restart(): Driftwatch {
    if (this.exitInfo === null) throw new Error(`${this.o.name} is still running`);
    return new Driftwatch(this.o, this.incarnation + 1);
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  get exit(): Exit | null {
    return this.exitInfo;
  }

  /** stdout lines that report a window. */
  windowLines(): string[] {
    return this.stdout.filter((l) => l.startsWith('window '));
  }

  /** The stderr text so far (last 20 000 characters). */
  stderr(): string {
    return this.stderrTail;
  }

  describe(lines = 40): string {
    const tail = (s: string) => s.split('\n').slice(-lines).join('\n');
    return `--- ${this.o.name}#${this.incarnation} (exit ${JSON.stringify(this.exitInfo)}) stdout:\n${tail(this.stdout.join('\n'))}\n--- stderr:\n${tail(this.stderrTail)}`;
  }

  /** Resolves when the consumer is started (stderr `source: kafka:...`); throws when the process exits first. */
  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(`${this.o.name} to start its Kafka source`, () => !this.running || /\nsource: kafka:/.test(`\n${this.stderrTail}`), timeoutMs, () =>
      this.describe(),
    );
    if (!this.running) throw new Error(`${this.o.name} exited while starting\n${this.describe()}`);
  }

  /** SIGKILL (a crash), and waits for the exit. */
  async crash(timeoutMs = 15_000): Promise<Exit> {
    if (this.running) this.child.kill('SIGKILL');
    const exit = await within(this.exited, timeoutMs, null);
    if (exit === null) throw new Error(`${this.o.name} did not exit after SIGKILL`);
    return exit;
  }

  /** SIGTERM (a clean stop) and waits up to `timeoutMs` for the exit; SIGKILL after that (and then throws). */
  async stop(timeoutMs = 45_000): Promise<Exit> {
    if (this.running) this.child.kill('SIGTERM');
    const exit = await within(this.exited, timeoutMs, null);
    if (exit !== null) {
      await new Promise<void>((r) => this.logFile.end(r));
      return exit;
    }
    this.child.kill('SIGKILL');
    await within(this.exited, 10_000, null);
    throw new Error(`${this.o.name} did not stop within ${timeoutMs} ms of SIGTERM (killed)\n${this.describe()}`);
  }
}

/** Stops every driftwatch child still running: SIGTERM, then SIGKILL. For afterEach/afterAll. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (d) => {
      d.child.kill('SIGTERM');
      if ((await within(d.exited, 20_000, null)) === null) {
        d.child.kill('SIGKILL');
        await within(d.exited, 10_000, null);
      }
    }),
  );
}

// ---- Kafka ----

/**
 * Sets (`rate` in bytes per second) or removes (null) a produce quota for a Kafka client id, with the broker's own
 * `kafka-configs` tool (kafka.admin.ConfigCommand, from the jars test/kafka/broker.ts runs the broker from). A
 * client over its quota gets its produce responses delayed (up to about 11 s each with the default quota window).
 */
export function setProduceQuota(brokers: string, clientId: string, rate: number | null, timeoutMs = 60_000): Promise<void> {
  const libs = defaultLibsDir();
  const change = rate === null ? ['--delete-config', 'producer_byte_rate'] : ['--add-config', `producer_byte_rate=${rate}`];
  const args = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${libs}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', brokers, '--alter', ...change, '--entity-type', 'clients', '--entity-name', clientId];
  return new Promise((resolveRun, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else reject(new Error(`kafka-configs (producer_byte_rate ${rate ?? 'removed'} for ${clientId}) failed with ${code}:\n${out.slice(-3000)}`));
    });
  });
}

export function kafkaClient(brokers: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

export async function connectProducer(brokers: string): Promise<Producer> {
  const producer = kafkaClient(brokers, 'e2e-producer').producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return producer;
}

/** Sends messages in order, in requests of at most `chunk` (a partition's batch must stay under 1 MB). */
export async function produce(producer: Producer, topic: string, messages: ReadonlyArray<Message>, chunk = 1000): Promise<RecordMetadata[]> {
  const out: RecordMetadata[] = [];
  for (let i = 0; i < messages.length; i += chunk) {
    out.push(...(await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) })));
  }
  return out;
}

/** The planned records as Kafka messages keyed by model. */
export function messagesOf(records: ReadonlyArray<PlannedRecord>): Message[] {
  return records.map((r) => ({ key: r.model, value: r.value }));
}

/**
 * The plan's records split by the window their event time falls in (the trailing records are the last chunk):
 * producing one chunk at a time, with a pause, lets a running service close windows one after the other.
 */
export function chunksByWindow(plan: Plan): PlannedRecord[][] {
  const chunks = new Map<number, PlannedRecord[]>();
  for (const r of plan.records) {
    const k = Math.floor((r.ts - plan.base) / WINDOW_MS);
    const list = chunks.get(k) ?? [];
    list.push(r);
    chunks.set(k, list);
  }
  return [...chunks].sort((a, b) => a[0] - b[0]).map(([, list]) => list);
}

/** The window lines of a driftwatch console, as `model|ISO start` names. */
export function printedWindows(lines: ReadonlyArray<string>): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const m = /^window (\S+) \.\. (\S+)\s+(\S+)/.exec(line);
    if (m) out.add(windowName(m[3]!, new Date(m[1]!).toISOString()));
  }
  return out;
}

export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

function headerMap(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) out[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

/** Reads a topic from the beginning (its own consumer group) into `messages`, until stopped. */
export class TopicReader {
  readonly messages: ReadMessage[] = [];
  private constructor(
    readonly topic: string,
    private readonly consumer: Consumer,
  ) {}

  static async start(brokers: string, topic: string, groupId: string): Promise<TopicReader> {
    const consumer = kafkaClient(brokers, `e2e-reader-${groupId}`).consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    const reader = new TopicReader(topic, consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        reader.messages.push({
          partition,
          offset: message.offset,
          key: message.key ? message.key.toString('utf8') : null,
          value: message.value,
          headers: headerMap(message.headers),
        });
      },
    });
    return reader;
  }

  async stop(): Promise<void> {
    await within(this.consumer.disconnect(), 15_000, undefined);
  }
}

/** The drift events read so far. */
export function driftEvents(reader: TopicReader): DriftEvent[] {
  return reader.messages.map((m) => JSON.parse(m.value!.toString('utf8')) as DriftEvent);
}

/** Distinct event ids among `events`. */
export function distinctIds(events: ReadonlyArray<DriftEvent>): Set<string> {
  return new Set(events.map((e) => e.id));
}

/**
 * Waits (bounded) until `reader` holds `expected` distinct drift-event ids (or `done` says the stream is complete
 * although ids are missing), then `graceMs` more so that duplicates or extra events published right after show up.
 */
export async function waitForEvents(
  reader: TopicReader,
  expected: number,
  timeoutMs: number,
  graceMs: number,
  detail: () => string,
  done: (events: DriftEvent[]) => boolean | Promise<boolean> = () => false,
): Promise<DriftEvent[]> {
  let lastDone = 0;
  await waitFor(
    `${expected} distinct drift events on ${reader.topic}`,
    async () => {
      const events = driftEvents(reader);
      if (distinctIds(events).size >= expected) return true;
      // `done` may ask the broker: at most every 250 ms.
      if (Date.now() - lastDone < 250) return false;
      lastDone = Date.now();
      return done(events);
    },
    timeoutMs,
    () => {
      const events = driftEvents(reader);
      return `${distinctIds(events).size} distinct of ${events.length} so far: ${[...new Set(events.map((e) => windowName(e.model, e.window.start)))].join(' ')}\n${detail()}`;
    },
  );
  await sleep(graceMs);
  return driftEvents(reader);
}

/**
 * Whether the events include every model's last planned window: windows of a partition close in event-time order,
 * so once those are out (and a grace period passed) nothing more will come.
 */
export function lastWindowsReported(plan: Plan): (events: DriftEvent[]) => boolean {
  const lastStart = Math.max(...plan.windows.map((w) => w.start));
  const last = new Set(plan.windows.filter((w) => w.start === lastStart).map((w) => windowName(w.model, w.start)));
  return (events) => {
    const seen = new Set(events.map((e) => windowName(e.model, e.window.start)));
    return [...last].every((name) => seen.has(name));
  };
}

/** A consumer group's committed checkpoint of one partition, with driftwatch's metadata (`hi`: read position). */
export async function committedCheckpoint(brokers: string, groupId: string, topic: string, partition = 0): Promise<{ offset: bigint; hi: bigint | null; et: number | null } | null> {
  const admin = kafkaClient(brokers, 'e2e-offsets').admin();
  await admin.connect();
  try {
    let entry: Awaited<ReturnType<typeof admin.fetchOffsets>>[number] | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
        break;
      } catch (e) {
        // NOT_COORDINATOR and the like while the group is being created or moved: asked again.
        if (attempt >= 20) throw e;
        await sleep(100);
      }
    }
    const p = entry?.partitions.find((x) => x.partition === partition);
    if (!p || BigInt(p.offset) < 0n) return null;
    let meta: { hi?: string; et?: number | null } = {};
    try {
      meta = JSON.parse(p.metadata ?? '') as typeof meta;
    } catch {
      // not driftwatch's
    }
    return { offset: BigInt(p.offset), hi: meta.hi !== undefined ? BigInt(meta.hi) : null, et: meta.et ?? null };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Completion for a run that may have lost windows (and then reports nothing more): the group is stable with one
 * member, not one of `notBy` (a killed process stays a member until its session expires), owning `partitions`,
 * and has been for `settleMs` (reading a few thousand records takes well under that).
 */
export function ownedFor(brokers: string, groupId: string, topic: string, settleMs: number, notBy: ReadonlySet<string>, partitions: ReadonlyArray<number> = [0]): () => Promise<boolean> {
  let since: number | null = null;
  return async () => {
    const g = await groupAssignment(brokers, groupId, topic).catch(() => null);
    const owned =
      g !== null &&
      g.state === 'Stable' &&
      g.members.length === 1 &&
      !notBy.has(g.members[0]!.memberId) &&
      partitions.every((p) => g.members[0]!.partitions.includes(p));
    if (!owned) since = null;
    else since ??= Date.now();
    return since !== null && Date.now() - since >= settleMs;
  };
}

/** Members of a consumer group and the partitions of `topic` each holds (empty while it is not stable). */
export async function groupAssignment(
  brokers: string,
  groupId: string,
  topic: string,
): Promise<{ state: string; members: Array<{ memberId: string; clientId: string; partitions: number[] }> }> {
  const admin = kafkaClient(brokers, 'e2e-admin').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const g = groups[0];
    if (!g) return { state: 'Unknown', members: [] };
    return {
      state: g.state,
      members: g.members.map((m) => {
        const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
        return { memberId: m.memberId, clientId: m.clientId, partitions: [...(decoded?.assignment[topic] ?? [])] };
      }),
    };
  } finally {
    await admin.disconnect();
  }
}

/** Per window (`model|start`): the distinct events reported for it. */
export function byWindow(events: ReadonlyArray<DriftEvent>): Map<string, DriftEvent[]> {
  const out = new Map<string, DriftEvent[]>();
  for (const e of events) {
    const name = windowName(e.model, e.window.start);
    const list = out.get(name) ?? [];
    if (!list.some((x) => x.id === e.id)) list.push(e);
    out.set(name, list);
  }
  return out;
}

/** The content of an event that must not depend on when or by whom it was computed. */
export function eventContent(e: DriftEvent): unknown {
  return {
    id: e.id,
    model: e.model,
    segment: e.segment,
    window: { start: e.window.start, end: e.window.end, count: e.window.count, version: e.window.version },
    reference_id: e.reference_id,
    dataset: e.dataset,
    features: e.features.map((f) => ({ feature: f.feature, method: f.method, drifted: f.drifted, score: f.score, statistic: f.statistic, status: f.status })),
    outliers: e.outliers,
    quality_failed: e.quality_failed,
  };
}

/** What every end-to-end file sets up: the run's broker, a temp dir, a producer, topic readers to stop. */
export interface Suite {
  readonly brokers: string;
  /** Valid once the suite's beforeAll ran. */
  readonly tmp: string;
  readonly producer: Producer;
  /** Readers a test opened; stopped after each test. */
  readonly readers: TopicReader[];
}

/**
 * Registers the hooks every end-to-end file needs: wait for the broker, a temp dir and a producer before all
 * tests; stop every driftwatch child and reader after each (`afterEachExtra` runs in between); clean up after all.
 */
export function e2eSuite(name: string, afterEachExtra?: () => Promise<void>): Suite {
  const brokers = inject('kafkaBrokers');
  const kafkaError = inject('kafkaError');
  let tmp = '';
  let producer: Producer | undefined;
  const readers: TopicReader[] = [];
  beforeAll(async () => {
    if (kafkaError) throw new Error(kafkaError);
    await waitForBroker(brokers, { timeoutMs: 60_000, logDir: inject('kafkaLogDir') });
    tmp = mkdtempSync(join(tmpdir(), `driftwatch-e2e-${name}-`));
    producer = await connectProducer(brokers);
  }, 90_000);
  afterEach(async () => {
    await stopAll();
    await afterEachExtra?.();
    await Promise.all(readers.splice(0).map((r) => r.stop()));
  }, 60_000);
  afterAll(async () => {
    await stopAll();
    await producer?.disconnect();
    if (tmp && !process.env['DRIFTWATCH_E2E_KEEP']) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);
  return {
    brokers,
    get tmp() {
      return tmp;
    },
    get producer() {
      if (!producer) throw new Error('the suite has not started');
      return producer;
    },
    readers,
  };
}
