/**
 * A real single-node Apache Kafka broker (KRaft, broker and controller in one JVM) for tests, from the jars that
 * `scripts/kafka/fetch-kafka.sh` resolves with Maven: no docker. Loopback only, free ports, a fresh temporary log
 * folder per broker, stopped by pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

export const KAFKA_VERSION = '3.9.1';
const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const FETCH_SCRIPT = join(REPO_ROOT, 'scripts/kafka/fetch-kafka.sh');

export interface StartBrokerOptions {
  /** Folder of the broker's jars. Default: `$DRIFTWATCH_KAFKA_HOME/libs` (`~/.cache/driftwatch/kafka-3.9.1/libs`). */
  readonly libsDir?: string;
  /** Run `scripts/kafka/fetch-kafka.sh` when the jars are missing (default true); otherwise throw. */
  readonly fetchIfMissing?: boolean;
  /** How long to wait for the broker to answer `describeCluster` (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** Extra or overriding `server.properties` entries. */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  /** JVM heap (default 512m). */
  readonly heap?: string;
}

export interface RunningBroker {
  /** `127.0.0.1:<port>`, for kafkajs's `brokers: [...]`. */
  readonly brokers: string;
  readonly pid: number;
  /** The broker's temporary folder: server.properties, broker.log, data/. Removed by `stop`. */
  readonly logDir: string;
  /** SIGTERM, wait (bounded), SIGKILL, remove the temporary folder. Idempotent. */
  stop(): Promise<void>;
}

export function defaultLibsDir(): string {
  const home = process.env['DRIFTWATCH_KAFKA_HOME'] ?? join(homedir(), '.cache', 'driftwatch', `kafka-${KAFKA_VERSION}`);
  return join(home, 'libs');
}

function jarsPresent(libsDir: string): boolean {
  return existsSync(join(libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`)) && existsSync(join(libsDir, `.complete-kafka_2.13-${KAFKA_VERSION}`));
}

/** The folder of the broker's jars, fetching them with the fetch script when allowed. */
export function ensureKafkaLibs(opts: { libsDir?: string; fetchIfMissing?: boolean } = {}): string {
  const libsDir = opts.libsDir ?? defaultLibsDir();
  if (jarsPresent(libsDir)) return libsDir;
  if (opts.fetchIfMissing === false || opts.libsDir !== undefined) {
    throw new Error(`Kafka ${KAFKA_VERSION} jars not found in ${libsDir}: run scripts/kafka/fetch-kafka.sh (needs Java and Maven)`);
  }
  const run = spawnSync('bash', [FETCH_SCRIPT], { encoding: 'utf8', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0 || !jarsPresent(libsDir)) {
    throw new Error(
      `scripts/kafka/fetch-kafka.sh failed (status ${run.status}${run.error ? `, ${run.error.message}` : ''}):\n${tail(`${run.stdout ?? ''}${run.stderr ?? ''}`, 40)}`,
    );
  }
  return libsDir;
}

/** A free TCP port on 127.0.0.1 (bound and released: another process could take it, which is rare enough). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Keeps the last `max` characters written to it. */
class RingLog {
  private text = '';
  constructor(private readonly max = 64 * 1024) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  tail(lines = 60): string {
    return tail(this.text.slice(-this.max), lines);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves true when `promise` settles within `ms`, false otherwise; never keeps the process alive afterwards. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function serverProperties(port: number, controllerPort: number, dataDir: string, extra: StartBrokerOptions['properties']): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': false,
    // Small and quick: tests write little data.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'log.segment.bytes': 16 * 1024 * 1024,
    'log.retention.check.interval.ms': 300_000,
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${String(v)}`).join('\n') + '\n';
}

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
`;

/** JVM flags that make a short-lived test broker start faster (no large heap, quick JIT, one GC thread). */
function jvmFlags(heap: string): string[] {
  return [
    `-Xmx${heap}`,
    '-Xms64m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Xss1m',
    '-Djava.awt.headless=true',
    '-Djava.net.preferIPv4Stack=true',
  ];
}

export interface LaunchedBroker extends RunningBroker {
  /** Resolves once the broker answers `describeCluster`; rejects (with the tail of its output) when it does not. */
  readonly ready: Promise<void>;
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolveRun({ status: null, output: `${output}\n${error.message}` });
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolveRun({ status, output });
    });
  });
}

/**
 * Formats a fresh log folder and starts the broker's JVM, without waiting for it: `brokers` is known at once and
 * `ready` settles later. Use `startBroker` to wait.
 */
export async function launchBroker(opts: StartBrokerOptions = {}): Promise<LaunchedBroker> {
  const libsDir = ensureKafkaLibs(opts);
  const classpath = `${libsDir}/*`;
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();

  const logDir = mkdtempSync(join(tmpdir(), 'driftwatch-kafka-'));
  const dataDir = join(logDir, 'data');
  const propsFile = join(logDir, 'server.properties');
  const log4jFile = join(logDir, 'log4j.properties');
  writeFileSync(propsFile, serverProperties(port, controllerPort, dataDir, opts.properties));
  writeFileSync(log4jFile, LOG4J);
  const javaArgs = [...jvmFlags(opts.heap ?? '512m'), `-Dlog4j.configuration=file:${log4jFile}`, '-cp', classpath];
  const cleanupDir = () => rmSync(logDir, { recursive: true, force: true });

  // A cluster id is 16 random bytes, base64url without padding (22 characters), as `kafka-storage random-uuid` prints.
  // A base64url UUID; one starting with '-' would be read as an option by the storage tool, so draw again.
  let clusterId = randomBytes(16).toString('base64url');
  for (let i = 0; i < 100 && clusterId.startsWith('-'); i++) clusterId = randomBytes(16).toString('base64url');
  const format = await run('java', [...javaArgs, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile], 60_000);
  if (format.status !== 0) {
    cleanupDir();
    throw new Error(`kafka StorageTool format failed (status ${format.status}):\n${tail(format.output, 40)}`);
  }

  const ring = new RingLog();
  const fileLog = createWriteStream(join(logDir, 'broker.log'));
  const child: ChildProcess = spawn('java', [...javaArgs, 'kafka.Kafka', propsFile], { cwd: logDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      r();
    });
    child.once('error', (error) => {
      ring.push(`\n${error.message}\n`);
      exited ??= { code: null, signal: null };
      r();
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      ring.push(chunk);
      if (fileLog.writable) fileLog.write(chunk);
    });
  }
  const pid = child.pid ?? -1;
  // If this process exits without calling stop (a crashed test runner), do not leave the JVM behind.
  const killOnExit = () => {
    if (pid > 0 && exited === null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (exited === null) {
        child.kill('SIGTERM');
        if (!(await settlesWithin(exitPromise, 15_000))) {
          child.kill('SIGKILL');
          await settlesWithin(exitPromise, 5_000);
        }
      }
      await new Promise<void>((r) => fileLog.end(r));
      cleanupDir();
    })();
    return stopping;
  };

  const brokers = `127.0.0.1:${port}`;
  const ready = waitForBroker(brokers, {
    timeoutMs: opts.readyTimeoutMs ?? 60_000,
    failure: () => (exited === null ? null : `the broker exited (code ${exited.code}, signal ${exited.signal})`),
    output: () => ring.tail(),
  });
  ready.catch(() => undefined); // Handled by whoever awaits it; a launch nobody waits for must not crash the runner.
  return { brokers, pid, logDir, stop, ready };
}

/** Starts a single-node KRaft broker on loopback and waits until it answers an admin client. */
export async function startBroker(opts: StartBrokerOptions = {}): Promise<RunningBroker> {
  const broker = await launchBroker(opts);
  try {
    await broker.ready;
  } catch (error) {
    await broker.stop();
    throw error;
  }
  const { brokers, pid, logDir, stop } = broker;
  return { brokers, pid, logDir, stop };
}

export interface WaitForBrokerOptions {
  /** Default 60 s. */
  readonly timeoutMs?: number;
  /** A reason to give up at once (the broker process exited), or null to go on waiting. */
  readonly failure?: () => string | null;
  /** The broker's recent output, for the error message. */
  readonly output?: () => string;
  /** The broker's temporary folder: the tail of its `broker.log` goes into the error message. */
  readonly logDir?: string;
}

/** Waits (bounded) until a kafkajs admin client's `describeCluster` succeeds against `brokers`. */
export async function waitForBroker(brokers: string, opts: WaitForBrokerOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  const output = () => {
    if (opts.output) return opts.output();
    const file = opts.logDir ? join(opts.logDir, 'broker.log') : null;
    return file && existsSync(file) ? tail(readFileSync(file, 'utf8'), 60) : '(no broker output)';
  };
  const kafka = new Kafka({
    clientId: 'driftwatch-test-broker-probe',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  let lastError = '';
  for (;;) {
    const failure = opts.failure?.() ?? null;
    if (failure !== null) throw new Error(`Kafka broker on ${brokers} not ready: ${failure}. Broker output:\n${output()}`);
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) {
        await admin.disconnect();
        return;
      }
      lastError = 'describeCluster returned no brokers';
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await admin.disconnect().catch(() => undefined);
    if (Date.now() > deadline) {
      throw new Error(`Kafka broker on ${brokers} not ready after ${timeoutMs} ms (last error: ${lastError}). Broker output:\n${output()}`);
    }
    await sleep(150);
  }
}

/** A topic name no other test uses: `<prefix>-<time>-<random>`. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Creates a topic (replication factor 1) and waits until its partitions have leaders. */
export async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'driftwatch-test-admin', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
