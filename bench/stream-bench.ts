import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import type { PipelineEvent } from '../src/pipeline/pipeline.js';
import type { LaunchedBroker } from '../test/kafka/broker.js';
import { machineInfo, machineLine } from './machine.js';
import { RssSampler, type StepMemory } from './rss-sampler.js';
import { median, positiveInt, fmtRate } from './common.js';
// driftwatch's modules (and the embedded engine they load), the broker helpers and the data generator are imported
// where they are used, so that the bare consumer's process holds kafkajs and nothing else.

/**
 * `node dist/bench/stream-bench.js`: sustained throughput of the streaming pipeline through a real Kafka broker,
 * next to a bare kafkajs consumer reading the same topic (the ceiling) and the same consumer decoding the records.
 *
 * Setup (timed, not measured): one single-node KRaft broker (test/kafka/broker.ts, loopback only); two topics of
 * `--partitions` partitions; `--records` records of `--models` models (model i on partition i, keyed by model),
 * 20 numerical features each (stream-data.ts, seeded), produced once as JSON (one record per message) and once as
 * Arrow IPC streams (`--arrow-batch` records per message, header content-type application/vnd.apache.arrow.stream),
 * the same values in both; one reference per model (`--reference-rows` rows of the undrifted distribution) created
 * and promoted in an embedded store in a temporary data directory.
 *
 * Measured, each in a fresh child process, `--repeats` times per format (the order of the sides reverses each repeat):
 *   - bare: a kafkajs consumer in its own group, `eachBatch` only counts messages, until it has seen them all;
 *   - decode: the same, also decoding every message and reading every feature value (JSON.parse; Arrow tableFromIPC);
 *   - reader: the same, decoding every message with driftwatch's own decoder (`batchDecoder`, as the pipeline does:
 *     every record checked against its model's schema and made a record), nothing else: the ceiling of driftwatch
 *     itself, before windowing, evaluation, storage and publishing;
 *   - driftwatch: `startService` in Kafka mode (own group, count windows of `--window` records per model, drift
 *     events published to a topic of their own, dead letters too), until every window is reported.
 * Throughput: records / seconds from the first delivered batch (bare, decode, reader: first `eachBatch`; driftwatch:
 * first 'records' pipeline event) to the last message counted (bare, decode, reader) or the last window reported (driftwatch: its
 * report written and its drift event acknowledged). Latency: the pipeline's 'window' events' `latencyMs` (window
 * due -> report written and drift event published). Memory: peak RSS of the child (worker-thread sampler, and the
 * kernel's VmHWM), from before the client starts to the end of the measured interval.
 *
 * Checks (the run fails otherwise): every run sees every record; driftwatch accepts all of them with no dead letter,
 * reports exactly the expected windows, and the drift-events topic holds one event per window; every driftwatch
 * run, JSON or Arrow, computes the very same reports (a digest of model, bounds, rows and every score).
 *
 * Options: --records (1000000), --models (4), --partitions (4), --window (10000), --arrow-batch (1000),
 * --reference-rows (50000), --sample-rows (rows stored with each window report, 1000 as in the service's defaults),
 * --max-bytes-per-partition (bytes per partition and fetch, both consumers; 1 MiB as in the service's defaults),
 * --repeats (3), --formats (json,arrow), --sides (bare,decode,reader,driftwatch: e.g. only driftwatch
 * to profile it), --seed, --timeout (seconds per run, 300), --results (the JSON's path, bench/results/stream-latest.json);
 * for the driftwatch runs, --evaluation-workers and --results-wait (pipeline.evaluation_workers and .results_wait,
 * a duration or null; unset: the service's defaults).
 *
 * Diagnostics: the driftwatch child times the store's `putWindowResults` (a wrapper on the prototype, nothing else changed),
 * so each window's latency is split into evaluation + waiting for the writer, the store write, and the publish.
 * STREAM_BENCH_TIMELINE=1 prints each window's due / evaluation start and end / write / event times. Node flags reach the children
 * (`node --cpu-prof --cpu-prof-dir=DIR dist/bench/stream-bench.js --sides driftwatch` profiles driftwatch alone).
 */

const MB = 2 ** 20;
const SAMPLE_INTERVAL_MS = 20;
const CLOCK_TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
const scriptPath = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));

const { values: opts } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    models: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
    window: { type: 'string', default: '10000' },
    'arrow-batch': { type: 'string', default: '1000' },
    'reference-rows': { type: 'string', default: '50000' },
    // The service's default (windows.sample_rows): rows stored with each window report.
    'sample-rows': { type: 'string', default: '1000' },
    // The service's default (kafka.max_bytes_per_partition, 1 MiB): bytes per partition and fetch, for both sides.
    'max-bytes-per-partition': { type: 'string', default: String(2 ** 20) },
    repeats: { type: 'string', default: '3' },
    formats: { type: 'string', default: 'json,arrow' },
    sides: { type: 'string', default: 'bare,decode,reader,driftwatch' },
    seed: { type: 'string', default: '20240611' },
    timeout: { type: 'string', default: '300' },
    // Where the results JSON goes (default bench/results/stream-latest.json), e.g. elsewhere for a what-if run.
    results: { type: 'string' },
    // The paced run: JSON records produced live at this rate (records/s; 'half': half the measured driftwatch JSON
    // median; 0: no paced run), this many of them.
    'paced-rate': { type: 'string', default: 'half' },
    'paced-records': { type: 'string', default: '400000' },
    // pipeline.evaluation_workers for driftwatch (default: the service's own default for this machine).
    'evaluation-workers': { type: 'string' },
    // pipeline.results_wait of the driftwatch runs (a duration, or null); unset: the service's default.
    'results-wait': { type: 'string' },
    // Internal: set by the parent for its child processes.
    phase: { type: 'string' },
    brokers: { type: 'string' },
    topic: { type: 'string' },
    format: { type: 'string' },
    dir: { type: 'string' },
    out: { type: 'string' },
    ready: { type: 'string' },
  },
});

type Format = 'json' | 'arrow';
type Side = 'bare' | 'decode' | 'reader' | 'driftwatch';
const SIDES: ReadonlyArray<Side> = ['bare', 'decode', 'reader', 'driftwatch'];

interface Settings {
  readonly records: number;
  readonly models: number;
  readonly partitions: number;
  readonly window: number;
  readonly arrowBatch: number;
  readonly referenceRows: number;
  readonly sampleRows: number;
  readonly maxBytesPerPartition: number;
  readonly repeats: number;
  readonly formats: ReadonlyArray<Format>;
  readonly sides: ReadonlyArray<Side>;
  readonly seed: number;
  readonly timeoutMs: number;
}

/** What a measured child reports. */
interface RunResult {
  readonly side: Side;
  readonly format: Format;
  readonly messages: number;
  readonly records: number;
  /** Bytes of message values counted (bare, decode, reader); null where the process does not see them (driftwatch). */
  readonly messageBytes: number | null;
  /** First delivered batch -> last message counted / last window reported. */
  readonly seconds: number;
  /** Start call -> first delivered batch (connect, group join; driftwatch: also the store and the references). */
  readonly startupSeconds: number;
  readonly recordsPerSecond: number;
  /** driftwatch: first delivered batch -> last batch decoded and windowed (the reports may still be being written). */
  readonly consumedSeconds: number | null;
  /** driftwatch: how often the pipeline paused the source because too many reports waited to be written, and for how long. */
  readonly backpressure: { readonly pauses: number; readonly pausedSeconds: number } | null;
  /** driftwatch: per window, its latency in parts (ms): due -> write starts, the store's putWindowResults, the publish. */
  readonly latencyParts: {
    readonly evaluateAndWaitMs: number[];
    readonly storeMs: number[];
    readonly publishMs: number[];
    /** Per window: how many windows its store write covered (the writer writes what is queued together). */
    readonly windowsPerWrite: number[];
  } | null;
  /** CPU of the child over the measured interval (all threads: kafkajs, the pipeline, the embedded engine). */
  readonly cpuSeconds: number;
  /**
   * CPU of the child's main thread over the measured interval: kafkajs and what the consumer does with the
   * records (driftwatch: decoding, windowing, the store's and the Kafka producer's client side); not the evaluation worker
   * or the embedded engine's threads. NaN where /proc is not there.
   */
  readonly mainThreadCpuSeconds: number;
  /** RSS after a full GC, before any client was created. */
  readonly rssAtStartBytes: number;
  /** driftwatch: RSS once `startService` returned (store open, references loaded), before the first record. */
  readonly rssReadyBytes: number | null;
  /** From before the client starts to the end of the measured interval. */
  readonly memory: StepMemory;
  readonly latenciesMs: number[];
  readonly windows: number;
  readonly driftEvents: number;
  readonly driftEventsOnTopic: number | null;
  readonly datasetDrifted: Readonly<Record<string, number>>;
  readonly deadLetters: number;
  readonly digest: string | null;
  readonly load: readonly [number, number];
}

/** The paced run: the rate asked for and the rate the producer kept. */
interface PacedRecord extends RunRecord {
  readonly targetRate: number;
  readonly producedRate: number;
}

/** What the parent adds about a run. */
interface RunRecord extends RunResult {
  readonly repeat: number;
  /** CPU the broker's JVM used over the child's whole life. */
  readonly brokerCpuSeconds: number | null;
  readonly childMaxRssMb: number;
}

if (opts.phase === undefined) await parent();
else await child(opts.phase);

// === the parent: broker, topics, data, references, then the measured children ======================================
async function parent(): Promise<void> {
  const { createTopic, defaultLibsDir, KAFKA_VERSION, launchBroker } = await import('../test/kafka/broker.js');
  const { FEATURES } = await import('./stream-data.js');
  const s = settingsFromOptions();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const workDir = mkdtempSync(join(tmpdir(), 'driftwatch-stream-bench-'));
  const dataDir = join(workDir, 'data');
  console.log(
    `driftwatch stream bench: ${s.records} records x ${FEATURES} numerical features, ${s.models} models on ${s.partitions} partitions, ` +
      `count windows of ${s.window} (${s.sampleRows} rows stored with each report), Arrow messages of ${s.arrowBatch} records, ` +
      `fetches of ${fmtBytes(s.maxBytesPerPartition)} per partition, ` +
      `${s.repeats} repeats, formats ${s.formats.join(', ')}`,
  );
  console.log(machineLine(loadAtStart));

  let broker: LaunchedBroker | null = null;
  let current: ChildProcess | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping the broker and the running child`);
    if (current?.pid) current.kill('SIGKILL');
    void (broker?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runs: RunRecord[] = [];
  let paced: PacedRecord | null = null;
  let setup: Record<string, unknown>;
  let bytes: Record<Format, number>;
  try {
    // --- broker and topics ---------------------------------------------------------------------------------------
    const libsDir = kafkaLibs(defaultLibsDir(), KAFKA_VERSION);
    const started = performance.now();
    // Records of an Arrow message can be large: let the broker take batches up to 16 MiB.
    broker = await launchBroker({ libsDir, heap: '1g', properties: { 'message.max.bytes': 16 * MB } });
    await broker.ready;
    const brokerSeconds = (performance.now() - started) / 1000;
    const b = broker;
    const suffix = randomBytes(4).toString('hex');
    const topics: Record<Format, string> = { json: `stream-bench-json-${suffix}`, arrow: `stream-bench-arrow-${suffix}` };
    for (const f of s.formats) await createTopic(b.brokers, topics[f], s.partitions);
    await warmUp(b.brokers, topics[s.formats[0]!]);
    console.log(`broker: Kafka ${KAFKA_VERSION} on ${b.brokers} (pid ${b.pid}), ready in ${fmtS(brokerSeconds)}; topics ${s.formats.map((f) => topics[f]).join(', ')}`);

    // --- data ------------------------------------------------------------------------------------------------------
    const produced = await produce(b.brokers, topics, s);
    console.log(
      `produced in ${fmtS(produced.seconds)}: ` +
        s.formats
          .map((f) => `${f} ${produced.messages[f]} messages, ${(produced.bytes[f] / MB).toFixed(1)} MB (${(produced.bytes[f] / s.records).toFixed(0)} bytes per record)`)
          .join('; '),
    );

    // --- references --------------------------------------------------------------------------------------------------
    const refs = await runChild<{ seconds: number; ids: Record<string, string> }>(workDir, ['--phase', 'references', '--dir', dataDir], (c) => (current = c));
    console.log(`references: ${s.models} x ${s.referenceRows} rows created and promoted in ${fmtS(refs.value.seconds)} (embedded store in ${dataDir})`);
    bytes = produced.bytes;
    setup = {
      broker_ready_seconds: brokerSeconds,
      produce_seconds: produced.seconds,
      messages: produced.messages,
      bytes: produced.bytes,
      references_seconds: refs.value.seconds,
      reference_ids: refs.value.ids,
    };

    // --- measured runs -----------------------------------------------------------------------------------------------
    for (let repeat = 1; repeat <= s.repeats; repeat++) {
      for (const format of s.formats) {
        const order: Side[] = repeat % 2 === 1 ? [...SIDES] : [...SIDES].reverse();
        for (const side of order.filter((x) => s.sides.includes(x))) {
          const cpuBefore = processCpuSeconds(b.pid);
          const r = await runChild<RunResult>(
            workDir,
            ['--phase', side, '--brokers', b.brokers, '--topic', topics[format], '--format', format, '--dir', dataDir],
            (c) => (current = c),
          );
          const cpuAfter = processCpuSeconds(b.pid);
          const record: RunRecord = {
            ...r.value,
            repeat,
            brokerCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
            childMaxRssMb: r.maxRssMb,
          };
          runs.push(record);
          console.log(runLine(record));
        }
      }
    }
    // --- the paced run: records produced live, below the saturated rate ----------------------------------------------
    const pacedRate = pacedRateFrom(runs);
    if (pacedRate > 0) {
      const pacedTopic = `stream-bench-paced-${suffix}`;
      await createTopic(b.brokers, pacedTopic, s.partitions);
      const records = pacedRecords(s);
      const readyPath = join(workDir, `ready-${suffix}`);
      const cpuBefore = processCpuSeconds(b.pid);
      const consumer = runChild<RunResult>(
        workDir,
        ['--phase', 'driftwatch', '--brokers', b.brokers, '--topic', pacedTopic, '--format', 'json', '--dir', dataDir, '--records', String(records), '--ready', readyPath],
        (c) => (current = c),
      );
      consumer.catch(() => undefined);
      const producedLive = await producePaced(b.brokers, pacedTopic, s, records, pacedRate, readyPath, consumer);
      const r = await consumer;
      const cpuAfter = processCpuSeconds(b.pid);
      paced = {
        ...r.value,
        repeat: 1,
        brokerCpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
        childMaxRssMb: r.maxRssMb,
        targetRate: pacedRate,
        producedRate: producedLive.rate,
      };
      console.log(`${runLine(paced).replace('run 1 json  driftwatch', `paced json driftwatch`)} (produced live at ${fmtRate(producedLive.rate)} records/s, target ${fmtRate(pacedRate)})`);
    }
    current = null;
  } catch (e) {
    console.error(`\nstream bench FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
    return;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await broker?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  // --- checks ----------------------------------------------------------------------------------------------------------
  const problems: string[] = [];
  const digests = new Set(runs.filter((r) => r.side === 'driftwatch').map((r) => r.digest));
  if (digests.size > 1) problems.push(`driftwatch runs computed different reports (${digests.size} digests over the runs)`);

  // --- summary -----------------------------------------------------------------------------------------------------
  const summary = s.formats.map((format) => summarize(format, runs, bytes[format] / s.records));
  printSummary(summary, s);
  const loadAtEnd = loadavg()[0] ?? Number.NaN;
  console.log(`load average: ${loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end (1-minute)`);

  const resultsPath = resolve(opts.results ?? join(root, 'bench', 'results', 'stream-latest.json'));
  mkdirSync(dirname(resultsPath), { recursive: true });
  writeFileSync(
    resultsPath,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: machineInfo(loadAtStart),
        kafka: { version: KAFKA_VERSION, broker: 'single-node KRaft (test/kafka/broker.ts), loopback, heap 1g', partitions: s.partitions },
        data: {
          records: s.records,
          models: s.models,
          features: FEATURES,
          window_records: s.window,
          arrow_records_per_message: s.arrowBatch,
          reference_rows: s.referenceRows,
          sample_rows_per_window_report: s.sampleRows,
          max_bytes_per_partition: s.maxBytesPerPartition,
          seed: s.seed,
          drifting_model: s.models > 1 ? `m${s.models - 1}` : null,
        },
        setup,
        method: {
          repeats: s.repeats,
          throughput:
            'records / seconds from the first delivered batch to the last message counted (bare, decode, reader) or the last window reported (driftwatch); median over the repeats, range beside it',
          decode: 'the bare consumer that also decodes every message (JSON.parse; Arrow tableFromIPC) and reads every feature value, nothing else: what reading the records with JSON.parse or apache-arrow costs at the least',
          reader:
            "the bare consumer that also decodes every message with driftwatch's own decoder (batchDecoder: every record checked against its model's schema and made a record, as the pipeline does), nothing else: driftwatch's ceiling before windowing, evaluation, storage and publishing",
          latency:
            "pipeline 'window' events' latencyMs (window due -> drift results stored and drift event acknowledged; outlier, quality and sample rows and alerts follow); p50 and p99 per run (nearest rank), " +
            'the median of those over the repeats (latency_ms), and over every window of every repeat pooled (latency_ms_pooled)',
          memory: `peak RSS of the child from before its client starts (worker thread sampling process.memoryUsage.rss() every ${SAMPLE_INTERVAL_MS} ms; kernel VmHWM beside it), the largest over the repeats`,
          processes: 'one fresh child process per measured run; the order of bare, decode, reader and driftwatch reverses between repeats',
        },
        targets: { min_ratio_to_bare: 0.7, max_p99_latency_ms: 250 },
        paced: paced
          ? {
              method:
                'JSON records produced live into a fresh topic at a fixed rate (below the saturated rate) while driftwatch consumes it; ' +
                'latency as in the saturated runs (window due -> results stored and drift event acknowledged)',
              target_rate: paced.targetRate,
              produced_rate: paced.producedRate,
              records: paced.records,
              records_per_second: paced.recordsPerSecond,
              latency_ms: latencyStats(paced.latenciesMs),
              cpu_seconds: paced.cpuSeconds,
              broker_cpu_seconds: paced.brokerCpuSeconds,
              peak_rss_mb: paced.memory.peakRssBytes / MB,
              p99_target_met: latencyStats(paced.latenciesMs).p99 < 250,
            }
          : null,
        results: summary.map((x) => ({
          format: x.format,
          bare: x.bare ? caseJson(x.bare) : null,
          decode: x.decode ? caseJson(x.decode) : null,
          reader: x.reader ? caseJson(x.reader) : null,
          driftwatch: x.driftwatch ? caseJson(x.driftwatch) : null,
          ratio: x.ratio,
          decode_ratio: x.decodeRatio,
          reader_ratio: x.readerRatio,
          ratio_target_met: x.ratio === null ? null : x.ratio >= 0.7,
          p99_target_met: x.driftwatch ? x.driftwatch.latency.p99 < 250 : null,
        })),
        runs: runs.map((r) => ({
          repeat: r.repeat,
          side: r.side,
          format: r.format,
          records: r.records,
          messages: r.messages,
          seconds: r.seconds,
          startup_seconds: r.startupSeconds,
          records_per_second: r.recordsPerSecond,
          mb_per_second: (bytes[r.format] * (r.records / s.records)) / MB / r.seconds,
          cpu_seconds: r.cpuSeconds,
          main_thread_cpu_seconds: r.mainThreadCpuSeconds,
          broker_cpu_seconds: r.brokerCpuSeconds,
          rss_at_start_mb: r.rssAtStartBytes / MB,
          rss_ready_mb: r.rssReadyBytes === null ? null : r.rssReadyBytes / MB,
          peak_rss_mb: r.memory.peakRssBytes / MB,
          kernel_peak_rss_mb: r.memory.kernelPeakRssBytes === null ? null : r.memory.kernelPeakRssBytes / MB,
          max_rss_mb: r.childMaxRssMb,
          windows: r.windows,
          drift_events: r.driftEvents,
          drift_events_on_topic: r.driftEventsOnTopic,
          windows_with_dataset_drift: r.datasetDrifted,
          dead_letters: r.deadLetters,
          latency_ms: r.side === 'driftwatch' ? latencyStats(r.latenciesMs) : null,
          consumed_seconds: r.consumedSeconds,
          backpressure: r.backpressure ? { pauses: r.backpressure.pauses, paused_seconds: r.backpressure.pausedSeconds } : null,
          latency_parts_ms: r.latencyParts
            ? {
                evaluate_and_queue: latencyStats(r.latencyParts.evaluateAndWaitMs),
                store_window_results: latencyStats(r.latencyParts.storeMs),
                publish: latencyStats(r.latencyParts.publishMs),
                windows_per_write: latencyStats(r.latencyParts.windowsPerWrite),
              }
            : null,
          report_digest: r.digest,
          load_average: r.load,
        })),
        checks: problems.length === 0 ? ['every driftwatch run computed the same reports (JSON and Arrow alike)'] : problems,
        load_average_end: loadAtEnd,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results written to ${resultsPath}`);
  if (problems.length > 0) {
    console.error(`stream bench FAILED:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

function settingsFromOptions(): Settings {
  const formats = (opts.formats ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  for (const f of formats) if (f !== 'json' && f !== 'arrow') throw new Error(`--formats: json and/or arrow, got "${f}"`);
  if (formats.length === 0) throw new Error('--formats: json and/or arrow');
  const sides = (opts.sides ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  for (const f of sides) if (!(SIDES as readonly string[]).includes(f)) throw new Error(`--sides: ${SIDES.join(', ')} (any of them), got "${f}"`);
  if (sides.length === 0) throw new Error(`--sides: ${SIDES.join(', ')} (any of them)`);
  const s: Settings = {
    records: positiveInt('records', opts.records),
    models: positiveInt('models', opts.models),
    partitions: positiveInt('partitions', opts.partitions),
    window: positiveInt('window', opts.window),
    arrowBatch: positiveInt('arrow-batch', opts['arrow-batch']),
    referenceRows: positiveInt('reference-rows', opts['reference-rows']),
    sampleRows: nonNegativeInt('sample-rows', opts['sample-rows']),
    maxBytesPerPartition: positiveInt('max-bytes-per-partition', opts['max-bytes-per-partition']),
    repeats: positiveInt('repeats', opts.repeats),
    formats: [...new Set(formats)] as Format[],
    sides: [...new Set(sides)] as Side[],
    seed: positiveInt('seed', opts.seed),
    timeoutMs: positiveInt('timeout', opts.timeout) * 1000,
  };
  // Both topics carry the same records, in whole Arrow messages of one model each.
  if (s.records % (s.models * s.arrowBatch) !== 0) {
    throw new Error(`--records (${s.records}) must be a multiple of --models x --arrow-batch (${s.models * s.arrowBatch})`);
  }
  return s;
}

/** The folder of the broker's jars, fetched with scripts/kafka/fetch-kafka.sh (from the repository) when missing. */
function kafkaLibs(libsDir: string, version: string): string {
  const complete = (): boolean => existsSync(join(libsDir, `kafka_2.13-${version}.jar`)) && existsSync(join(libsDir, `.complete-kafka_2.13-${version}`));
  if (complete()) return libsDir;
  console.log(`Kafka ${version} jars not in ${libsDir}: running scripts/kafka/fetch-kafka.sh (Java and Maven)`);
  const r = spawnSync('bash', [join(root, 'scripts', 'kafka', 'fetch-kafka.sh')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
  if (r.status !== 0 || !complete()) throw new Error(`scripts/kafka/fetch-kafka.sh failed (status ${r.status ?? r.signal ?? '?'})`);
  return libsDir;
}

/**
 * The broker's first consumer group creates `__consumer_offsets`, and its first idempotent producer waits for the
 * producer-id machinery: done here once, so that no measured run pays for it (or logs the retries it causes).
 */
/** The paced run's rate: --paced-rate, or half the median driftwatch JSON rate measured (0 when there is none). */
function pacedRateFrom(runs: ReadonlyArray<RunRecord>): number {
  const asked = opts['paced-rate'] ?? 'half';
  if (asked !== 'half') {
    const rate = Number(asked);
    if (!Number.isFinite(rate) || rate < 0) throw new Error(`--paced-rate: a number of records/s >= 0 or "half", got "${asked}"`);
    return rate;
  }
  const measured = runs.filter((r) => r.side === 'driftwatch' && r.format === 'json').map((r) => r.recordsPerSecond);
  return measured.length === 0 ? 0 : Math.round(median(measured) / 2);
}

/** Records of the paced run: --paced-records, rounded down to whole windows of every model. */
function pacedRecords(s: Settings): number {
  const asked = positiveInt('paced-records', opts['paced-records']);
  const unit = s.models * s.window;
  if (asked < unit) throw new Error(`--paced-records must be at least --models x --window (${unit})`);
  return Math.floor(asked / unit) * unit;
}

/**
 * Produces `records` JSON records (the same generator as the saturated runs) at `rate` records/s in real time,
 * once the consumer child has started (its ready file) and had 3 s to join its group; a slice every 20 ms, the
 * models in turn. Gives up when the consumer fails.
 */
async function producePaced(
  brokers: string,
  topic: string,
  s: Settings,
  records: number,
  rate: number,
  readyPath: string,
  consumer: Promise<unknown>,
): Promise<{ rate: number }> {
  const { jsonRecords, ModelStream, modelNames } = await import('./stream-data.js');
  let failed = false;
  consumer.catch(() => (failed = true));
  for (let i = 0; i < 6000 && !existsSync(readyPath); i++) {
    if (failed) throw new Error('the paced consumer failed before it started');
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSync(readyPath)) throw new Error('the paced consumer did not start within 300 s');
  await new Promise((r) => setTimeout(r, 3000));
  const kafka = new Kafka({ clientId: 'driftwatch-stream-bench-paced', brokers: [brokers], logLevel: logLevel.WARN });
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const names = modelNames(s.models);
  const baseTs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const streams = names.map((_, m) => new ModelStream(m, s.models, baseTs, s.seed + 1));
  const SLICE_MS = 20;
  const started = performance.now();
  let sent = 0;
  let model = 0;
  const perModel = records / s.models;
  const producedBy = names.map(() => 0);
  try {
    for (let tick = 0; sent < records && tick < 10_000_000; tick++) {
      if (failed) throw new Error('the paced consumer failed while records were produced');
      // At most 2000 records a request (a partition's batch must stay under the topic's 1 MiB message limit).
      const due = Math.min(records, Math.round(((performance.now() - started) / 1000) * rate), sent + 2000);
      const batch: Message[] = [];
      // The models in turn, each to exactly its share (whole count windows).
      for (let k = 0; k < 100_000 && sent + batch.length < due; k++) {
        const n = Math.min(due - sent - batch.length, perModel - producedBy[model]!, 250);
        if (n > 0) {
          const block = streams[model]!.block(n);
          for (const text of jsonRecords(block)) batch.push({ key: block.model, value: text, partition: model % s.partitions });
          producedBy[model]! += n;
        }
        model = (model + 1) % s.models;
      }
      if (batch.length > 0) {
        await producer.send({ topic, acks: 1, messages: batch });
        sent += batch.length;
      }
      const wait = started + ((tick + 1) * SLICE_MS) - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    await producer.disconnect();
  }
  return { rate: sent / ((performance.now() - started) / 1000) };
}

async function warmUp(brokers: string, topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'driftwatch-stream-bench-warmup', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.fetchOffsets({ groupId: 'stream-bench-warmup', topics: [topic] });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.disconnect();
}

/**
 * Produces the records: per round, one block of `arrowBatch` records per model, sent as JSON messages (one record
 * each) and as one Arrow message per model, model i on partition i % partitions. One send in flight per topic, so
 * each partition holds its model's records in order, the same order in both topics.
 */
async function produce(
  brokers: string,
  topics: Record<Format, string>,
  s: Settings,
): Promise<{ seconds: number; messages: Record<Format, number>; bytes: Record<Format, number> }> {
  const { ARROW_CONTENT_TYPE } = await import('../src/sources/kafka.js');
  const { arrowMessage, jsonRecords, ModelStream, modelNames } = await import('./stream-data.js');
  const started = performance.now();
  const kafka = new Kafka({ clientId: 'driftwatch-stream-bench-producer', brokers: [brokers], logLevel: logLevel.WARN });
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const names = modelNames(s.models);
  // Event times: one millisecond apart per model, starting an hour ago (well inside the default ingest limits).
  const baseTs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const streams = names.map((_, m) => new ModelStream(m, s.models, baseTs, s.seed));
  const messages: Record<Format, number> = { json: 0, arrow: 0 };
  const bytes: Record<Format, number> = { json: 0, arrow: 0 };
  const inFlight: Record<Format, Promise<unknown>> = { json: Promise.resolve(), arrow: Promise.resolve() };
  const rounds = s.records / s.models / s.arrowBatch;
  const json = s.formats.includes('json');
  const arrow = s.formats.includes('arrow');
  let lastReport = performance.now();
  try {
    for (let round = 0; round < rounds; round++) {
      const jsonBatch: Message[] = [];
      const arrowBatch: Message[] = [];
      for (let m = 0; m < s.models; m++) {
        const block = streams[m]!.block(s.arrowBatch);
        const partition = m % s.partitions;
        if (json) {
          for (const text of jsonRecords(block)) {
            jsonBatch.push({ key: block.model, value: text, partition });
            bytes.json += Buffer.byteLength(text);
          }
        }
        if (arrow) {
          const ipc = arrowMessage(block);
          arrowBatch.push({
            key: block.model,
            value: Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength),
            partition,
            headers: { 'content-type': ARROW_CONTENT_TYPE },
          });
          bytes.arrow += ipc.byteLength;
        }
      }
      if (json) {
        await inFlight.json;
        inFlight.json = producer.send({ topic: topics.json, acks: 1, messages: jsonBatch });
        messages.json += jsonBatch.length;
      }
      if (arrow) {
        await inFlight.arrow;
        inFlight.arrow = producer.send({ topic: topics.arrow, acks: 1, messages: arrowBatch });
        messages.arrow += arrowBatch.length;
      }
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`  producing: ${(((round + 1) / rounds) * 100).toFixed(0)} % (${fmtS((lastReport - started) / 1000)})`);
      }
    }
    await Promise.all([inFlight.json, inFlight.arrow]);
  } finally {
    await producer.disconnect();
  }
  return { seconds: (performance.now() - started) / 1000, messages, bytes };
}

/**
 * Runs this script as a child phase (same Node flags, so --cpu-prof reaches it) and reads what it wrote. Spawned
 * asynchronously: the broker's output pipes into this process, which must keep reading them meanwhile.
 */
async function runChild<T>(workDir: string, args: ReadonlyArray<string>, onSpawn: (c: ChildProcess) => void): Promise<{ value: T; maxRssMb: number }> {
  const resultPath = join(workDir, `result-${randomBytes(4).toString('hex')}.json`);
  const child = spawn(process.execPath, [...process.execArgv, scriptPath, ...settingsArgs(), ...args, '--out', resultPath], { stdio: 'inherit' });
  onSpawn(child);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  if (code !== 0) throw new Error(`child ${args.join(' ')} failed (exit ${code ?? signal ?? '?'})`);
  const out = JSON.parse(readFileSync(resultPath, 'utf8')) as { value: T; maxRssMb: number };
  rmSync(resultPath, { force: true });
  return out;
}

/** The options every child needs to know the data's shape. */
function settingsArgs(): string[] {
  const keys = ['records', 'models', 'partitions', 'window', 'arrow-batch', 'reference-rows', 'sample-rows', 'max-bytes-per-partition', 'seed', 'timeout'] as const;
  const optional = (['evaluation-workers', 'results-wait'] as const).filter((k) => opts[k] !== undefined);
  return [...keys.flatMap((k) => [`--${k}`, String(opts[k])]), ...optional.flatMap((k) => [`--${k}`, opts[k]!])];
}

/** A /proc stat file (a process's or a thread's): its command name and user + system CPU in ticks; null if unreadable. */
function readStat(path: string): { readonly name: string; readonly ticks: number } | null {
  try {
    const stat = readFileSync(path, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // After the command: state is field 3, utime 14, stime 15 (1-based over the whole line).
    return { name: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** user + system CPU seconds of a process, from /proc (null elsewhere). */
function processCpuSeconds(pid: number): number | null {
  const stat = readStat(`/proc/${pid}/stat`);
  return stat === null ? null : stat.ticks / CLOCK_TICKS;
}

// === the children ===================================================================================================
async function child(phase: string): Promise<void> {
  try {
    let value: unknown;
    if (phase === 'references') value = await referencesPhase(required('dir', opts.dir));
    else if (phase === 'bare') value = await barePhase('bare');
    else if (phase === 'decode') value = await barePhase('decode');
    else if (phase === 'reader') value = await barePhase('reader');
    else if (phase === 'driftwatch') value = await driftwatchPhase();
    else throw new Error(`unknown phase ${phase}`);
    writeFileSync(required('out', opts.out), JSON.stringify({ value, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  } catch (e) {
    console.error(`${phase} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  }
  // kafkajs and the embedded engine may leave handles behind once stopped; the result is written.
  process.exit();
}

/** CPU ticks (utime + stime, 1/100 s) of this process's main thread; NaN without /proc. */
function mainThreadTicks(): number {
  return readStat(`/proc/self/task/${process.pid}/stat`)?.ticks ?? Number.NaN;
}

/** Diagnostics: CPU ticks (utime + stime, 1/100 s) of each thread of this process, keyed by "tid name". */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  if (!process.env['STREAM_BENCH_THREADS']) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readStat(`/proc/self/task/${tid}/stat`);
    // null: the thread ended meanwhile.
    if (stat !== null) out.set(`${tid} ${stat.name.replace(/[0-9]+$/, '#')}`, stat.ticks);
  }
  return out;
}

/** One reference per model, created and promoted in the embedded store of `dir`. */
async function referencesPhase(dir: string): Promise<{ seconds: number; ids: Record<string, string> }> {
  const { createReference, promoteReference } = await import('../src/reference/lifecycle.js');
  const { openStore, storeConfigFromEnv } = await import('../src/store/index.js');
  const { modelNames, referenceTable } = await import('./stream-data.js');
  const s = settingsFromOptions();
  const started = performance.now();
  // Always the embedded engine: the service's config below names this data directory and no server.
  const store = await openStore(storeConfigFromEnv({}, { dataDir: dir }));
  const ids: Record<string, string> = {};
  try {
    for (const [m, model] of modelNames(s.models).entries()) {
      const table = referenceTable(m, s.referenceRows, s.seed);
      const { snapshot } = await createReference(store, table, {
        model,
        source: { kind: 'file', path: `stream-bench:${model}`, format: 'generated' },
        maxRows: s.referenceRows,
        by: 'stream-bench',
      });
      await promoteReference(store, snapshot.id, { by: 'stream-bench' });
      ids[model] = snapshot.id;
    }
  } finally {
    await store.close();
  }
  return { seconds: (performance.now() - started) / 1000, ids };
}

interface Measurement {
  readonly sampler: RssSampler;
  readonly rssAtStartBytes: number;
  readonly startedAt: number;
}

async function beginMeasurement(): Promise<Measurement> {
  setFlagsFromString('--expose-gc');
  const gc = (runInNewContext('gc') as (() => void) | undefined) ?? ((): void => undefined);
  const sampler = await RssSampler.start(SAMPLE_INTERVAL_MS);
  gc();
  const rssAtStartBytes = process.memoryUsage.rss();
  sampler.begin();
  return { sampler, rssAtStartBytes, startedAt: performance.now() };
}

/**
 * The ceiling: a kafkajs consumer in its own group whose eachBatch only counts messages. With `decode`, the rate of
 * a consumer that only reads the records with these libraries: each message's value is also decoded and every
 * feature value read (JSON: `JSON.parse` of the text; Arrow: apache-arrow's `tableFromIPC` and each column's
 * values), nothing else. With `reader`, the same with driftwatch's own decoder in place of those libraries.
 */
async function barePhase(side: 'bare' | 'decode' | 'reader'): Promise<RunResult> {
  const s = settingsFromOptions();
  const format = formatOption();
  const topic = required('topic', opts.topic);
  const read = side === 'decode' ? await valueReader(format) : side === 'reader' ? await driftwatchReader(format, topic) : null;
  let checksum = 0;
  const expected = format === 'json' ? s.records : s.records / s.arrowBatch;
  const load0 = loadavg()[0] ?? Number.NaN;
  const m = await beginMeasurement();
  const kafka = new Kafka({ clientId: 'driftwatch-stream-bench-bare', brokers: [required('brokers', opts.brokers)], logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: `stream-bench-bare-${randomBytes(4).toString('hex')}`,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: s.maxBytesPerPartition,
  });
  let count = 0;
  let bytes = 0;
  let firstAt: number | null = null;
  let cpuAtFirst: NodeJS.CpuUsage | null = null;
  let mainAtFirst = Number.NaN;
  let mainDone = Number.NaN;
  let doneAt = 0;
  let cpuDone: NodeJS.CpuUsage | null = null;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [required('topic', opts.topic)], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      if (firstAt === null) {
        firstAt = performance.now();
        cpuAtFirst = process.cpuUsage();
        mainAtFirst = mainThreadTicks();
      }
      count += batch.messages.length;
      for (const msg of batch.messages) bytes += msg.value?.length ?? 0;
      if (read) for (const msg of batch.messages) checksum += read(msg.value!, batch.partition, msg.offset);
      if (count >= expected && cpuDone === null) {
        doneAt = performance.now();
        cpuDone = process.cpuUsage(cpuAtFirst ?? undefined);
        mainDone = mainThreadTicks();
        finish();
      }
    },
  });
  await withTimeout(done, s.timeoutMs, () => `bare consumer: ${count} of ${expected} messages after ${s.timeoutMs / 1000} s`);
  const memory = m.sampler.end();
  await consumer.disconnect();
  await m.sampler.stop();
  if (count !== expected) throw new Error(`bare consumer: ${count} messages, expected ${expected}`);
  if (read && !Number.isFinite(checksum)) throw new Error(`${side} consumer: the values read sum to ${checksum}`);
  const seconds = (doneAt - firstAt!) / 1000;
  const records = format === 'json' ? count : count * s.arrowBatch;
  const cpu = cpuDone as NodeJS.CpuUsage | null;
  return {
    side,
    format,
    messages: count,
    records,
    messageBytes: bytes,
    seconds,
    startupSeconds: (firstAt! - m.startedAt) / 1000,
    recordsPerSecond: records / seconds,
    consumedSeconds: null,
    backpressure: null,
    latencyParts: null,
    cpuSeconds: cpu ? (cpu.user + cpu.system) / 1e6 : Number.NaN,
    mainThreadCpuSeconds: (mainDone - mainAtFirst) / CLOCK_TICKS,
    rssAtStartBytes: m.rssAtStartBytes,
    rssReadyBytes: null,
    memory,
    latenciesMs: [],
    windows: 0,
    driftEvents: 0,
    driftEventsOnTopic: null,
    datasetDrifted: {},
    deadLetters: 0,
    digest: null,
    load: [load0, loadavg()[0] ?? Number.NaN],
  };
}

/** Decodes a message's value and reads every feature value; returns their sum (so that nothing is optimised away). */
async function valueReader(format: Format): Promise<(value: Buffer, partition: number, offset: string) => number> {
  const { FEATURE_NAMES } = await import('./stream-data.js');
  if (format === 'json') {
    return (value) => {
      const features = (JSON.parse(value.toString('utf8')) as { features: Record<string, number> }).features;
      let sum = 0;
      for (const name of FEATURE_NAMES) sum += features[name]!;
      return sum;
    };
  }
  const { tableFromIPC } = await import('apache-arrow');
  return (value) => {
    const table = tableFromIPC(value);
    let sum = 0;
    for (const name of FEATURE_NAMES) {
      const values = table.getChild(name)!.toArray() as Float64Array;
      for (let i = 0; i < values.length; i++) sum += values[i]!;
    }
    return sum;
  };
}

/**
 * Decodes a message with driftwatch's decoder, as the pipeline does (one `batchDecoder` per delivered batch there;
 * here one for the run, which only saves making it), with the service's default limits and each model's schema (20
 * numerical features, event time); returns the sum of the records' feature values. Throws on any dead letter: the
 * bench's records are all good, and a refused one would make this consumer's work smaller than the pipeline's.
 */
async function driftwatchReader(format: Format, topic: string): Promise<(value: Buffer, partition: number, offset: string) => number> {
  const { batchDecoder } = await import('../src/pipeline/decode.js');
  const { parseConfig } = await import('../src/config/index.js');
  const { METHOD_NAMES } = await import('../src/drift/methods.js');
  const { FEATURE_NAMES, modelNames } = await import('./stream-data.js');
  const s = settingsFromOptions();
  // The service's limits as its configuration gives them by default.
  const { ingest } = parseConfig(JSON.stringify({ version: 1 }), 'stream-bench reader config', {}, METHOD_NAMES, process.cwd());
  const features: ReadonlyMap<string, 'numerical'> = new Map(FEATURE_NAMES.map((n) => [n, 'numerical' as const]));
  const schemas = new Map(modelNames(s.models).map((model) => [model, { model, kind: 'telemetry' as const, segmentBy: [], features, time: 'event' as const }]));
  const decoder = batchDecoder((model) => schemas.get(model), { maxRecordBytes: ingest.maxRecordBytes, maxFutureMs: ingest.maxFutureMs, maxPastMs: ingest.maxPastMs }, Date.now());
  const payload = format === 'json' ? ('json' as const) : ('arrow' as const);
  return (value, partition, offset) => {
    const decoded = decoder.decode({ partition: `${topic}/${partition}`, offset: BigInt(offset), value, format: payload, receivedAt: Date.now(), origin: `kafka:${topic}/${partition}@${offset}` });
    const dead = decoded.dead[0];
    if (dead !== undefined) throw new Error(`reader consumer: a record was refused (${dead.reasonCode}: ${dead.reason})`);
    let sum = 0;
    for (const record of decoded.records) for (const name of FEATURE_NAMES) sum += record.features[name] as number;
    return sum;
  };
}

/** driftwatch as `driftwatch run` starts it, in Kafka mode, until every window is reported. */
async function driftwatchPhase(): Promise<RunResult> {
  const { startService } = await import('../src/app/service.js');
  const { ClickHouseStore } = await import('../src/store/index.js');
  const { WorkerEvaluator } = await import('../src/pipeline/evaluator.js');
  const { parseConfig } = await import('../src/config/index.js');
  const { METHOD_NAMES } = await import('../src/drift/methods.js');
  const { modelNames } = await import('./stream-data.js');
  const s = settingsFromOptions();
  const format = formatOption();
  const brokers = required('brokers', opts.brokers);
  const names = modelNames(s.models);
  const perModel = s.records / s.models;
  const expectedWindows = Math.floor(perModel / s.window) * s.models;
  const suffix = randomBytes(4).toString('hex');
  const eventsTopic = `stream-bench-drift-events-${suffix}`;
  const config = parseConfig(
    JSON.stringify({
      version: 1,
      store: { data_dir: required('dir', opts.dir) },
      kafka: {
        brokers: [brokers],
        client_id: 'driftwatch-stream-bench',
        group_id: `stream-bench-driftwatch-${suffix}`,
        from_beginning: true,
        max_bytes_per_partition: s.maxBytesPerPartition,
        topics: {
          telemetry: [required('topic', opts.topic)],
          predictions: [],
          labels: [],
          drift_events: eventsTopic,
          dead_letters: `stream-bench-dead-letters-${suffix}`,
        },
      },
      http: { enabled: false },
      pipeline: {
        ...(opts['evaluation-workers'] !== undefined ? { evaluation_workers: nonNegativeInt('evaluation-workers', opts['evaluation-workers']) } : {}),
        ...(opts['results-wait'] !== undefined ? { results_wait: opts['results-wait'] === 'null' ? null : opts['results-wait'] } : {}),
      },
      // Count windows; no idle timeout, so that every window is a full count window whatever the run's pace.
      windows: { type: 'count', count: s.window, idle_timeout: 0, sample_rows: s.sampleRows },
      models: Object.fromEntries(names.map((n) => [n, { kind: 'telemetry' }])),
    }),
    'stream-bench config',
    {},
    METHOD_NAMES,
    process.cwd(),
  );
  // Diagnostics only: the store's putWindowResults, timed. The pipeline's writer stores steps' results in queue
  // order and publishes each step's drift events after that write (while the next step is stored), and reports
  // windows in queue order, so the i-th window written belongs to the i-th 'window' event, and publish = event - end
  // of its write (waiting for the previous step's publish included); the rest of the latency is evaluation and
  // waiting for the store (which also writes earlier steps' details and alerts).
  const writes: Array<{ start: number; end: number; batch: number }> = [];
  const putWindowResults = ClickHouseStore.prototype.putWindowResults;
  ClickHouseStore.prototype.putWindowResults = async function timedPutWindowResults(this: InstanceType<typeof ClickHouseStore>, records) {
    const start = Date.now();
    try {
      return await putWindowResults.call(this, records);
    } finally {
      const end = Date.now();
      for (let i = 0; i < records.length; i++) writes.push({ start, end, batch: records.length });
    }
  };
  // Diagnostics only, for the timeline: when each window's evaluation came back from the worker.
  const evaluatedAt = new Map<string, number>();
  const evaluate = WorkerEvaluator.prototype.evaluate;
  WorkerEvaluator.prototype.evaluate = async function timedEvaluate(this: InstanceType<typeof WorkerEvaluator>, request) {
    const result = await evaluate.call(this, request);
    evaluatedAt.set(`${request.due.key.model} ${request.due.key.start}`, Date.now());
    return result;
  };
  const load0 = loadavg()[0] ?? Number.NaN;
  const m = await beginMeasurement();

  let lastRecordsAt = 0;
  let pauses = 0;
  let pausedMs = 0;
  let pausedAt: number | null = null;
  const windowAt: number[] = [];
  let threadsAtFirst = new Map<string, number>();
  let threadsDone = new Map<string, number>();
  /** When each window's evaluation started (its report's computedAt) and came back, for the timeline. */
  const evaluatedFrom: number[] = [];
  const evaluatedTo: number[] = [];
  let firstAt: number | null = null;
  let cpuAtFirst: NodeJS.CpuUsage | null = null;
  let mainAtFirst = Number.NaN;
  let mainDone = Number.NaN;
  let doneAt = 0;
  let cpuDone: NodeJS.CpuUsage | null = null;
  let accepted = 0;
  let deadLetters = 0;
  let windows = 0;
  let driftEvents = 0;
  const latencies: number[] = [];
  const reports: Array<{ model: string; start: number; end: number; text: string }> = [];
  const datasetDrifted: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let finish: () => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const logLines: string[] = [];
  const onEvent = (e: PipelineEvent): void => {
    switch (e.type) {
      case 'records':
        if (firstAt === null) {
          firstAt = performance.now();
          cpuAtFirst = process.cpuUsage();
          mainAtFirst = mainThreadTicks();
          threadsAtFirst = threadCpu();
        }
        accepted += e.accepted;
        lastRecordsAt = performance.now();
        break;
      case 'dead_letter':
        if (deadLetters++ === 0) console.error(`driftwatch: dead letter: ${e.letter.reasonCode}: ${e.letter.reason}`);
        break;
      case 'window': {
        windows++;
        latencies.push(e.latencyMs);
        windowAt.push(Date.now());
        evaluatedFrom.push(e.evaluation.computedAt);
        evaluatedTo.push(evaluatedAt.get(`${e.evaluation.due.key.model} ${e.evaluation.due.key.start}`) ?? Number.NaN);
        if (e.event) driftEvents++;
        const ev = e.evaluation;
        const key = ev.due.key;
        if (ev.dataset.drifted) datasetDrifted[key.model] = (datasetDrifted[key.model] ?? 0) + 1;
        reports.push({
          model: key.model,
          start: key.start,
          end: key.end,
          text: JSON.stringify([
            key.model,
            key.start,
            key.end,
            ev.due.table.rowCount,
            ev.dataset.columns_drifted,
            ev.columns.map((c) => [c.column, c.method, c.score, c.statistic ?? null, c.drifted]),
            ev.outliers ? [ev.outliers.iqr.map((c) => c.flagged), ev.outliers.zscore.map((c) => c.flagged), ev.outliers.mahalanobis.flagged] : null,
          ]),
        });
        if (windows === expectedWindows) {
          doneAt = performance.now();
          cpuDone = process.cpuUsage(cpuAtFirst ?? undefined);
          mainDone = mainThreadTicks();
          threadsDone = threadCpu();
          finish();
        }
        break;
      }
      case 'backpressure':
        if (e.paused) {
          pauses++;
          pausedAt = performance.now();
        } else if (pausedAt !== null) {
          pausedMs += performance.now() - pausedAt;
          pausedAt = null;
        }
        break;
      case 'error':
        fail(new Error(`pipeline error in ${e.where}: ${e.error.message}`));
        break;
      default:
        break;
    }
  };
  const service = await startService({
    config,
    http: false,
    log: (line) => {
      logLines.push(line);
      if (/\b(error|warn)\b/i.test(line)) process.stderr.write(`driftwatch: ${line}`);
    },
    onEvent,
    env: {},
  });
  const rssReadyBytes = process.memoryUsage.rss();
  if (opts.ready) writeFileSync(opts.ready, 'started');
  try {
    await withTimeout(Promise.race([done, service.finished]), s.timeoutMs, () => `driftwatch: ${windows} of ${expectedWindows} windows, ${accepted} records after ${s.timeoutMs / 1000} s`);
  } catch (e) {
    await service.stop();
    throw e;
  }
  // The memory figure ends with the measured interval, before the service is stopped.
  const memory = m.sampler.end();
  const messages = format === 'json' ? accepted : accepted / s.arrowBatch;
  await service.stop();
  await m.sampler.stop();

  // The drift events topic must hold one event per window.
  const driftEventsOnTopic = await topicMessageCount(brokers, eventsTopic);
  const problems: string[] = [];
  if (accepted !== s.records) problems.push(`${accepted} records accepted, expected ${s.records}`);
  if (deadLetters !== 0) problems.push(`${deadLetters} dead letters`);
  if (windows !== expectedWindows) problems.push(`${windows} windows reported, expected ${expectedWindows}`);
  if (driftEvents !== expectedWindows) problems.push(`${driftEvents} drift events, expected ${expectedWindows}`);
  if (driftEventsOnTopic !== expectedWindows) problems.push(`the drift events topic holds ${driftEventsOnTopic} events, expected ${expectedWindows}`);
  if (problems.length > 0) throw new Error(`driftwatch run: ${problems.join('; ')}`);

  const breakdown = windowAt.map((at, i) => {
    const w = writes[i];
    const due = at - latencies[i]!;
    return w ? { wait: w.start - due, store: w.end - w.start, publish: at - w.end } : { wait: Number.NaN, store: Number.NaN, publish: Number.NaN };
  });
  const pick = (k: 'wait' | 'store' | 'publish'): number[] => breakdown.map((b) => b[k]);
  if (process.env['STREAM_BENCH_TIMELINE']) {
    const t0 = Date.now() - (performance.now() - firstAt!);
    windowAt.forEach((at, i) => {
      const w = writes[i]!;
      console.error(
        `window ${i}: due ${(at - latencies[i]! - t0).toFixed(0)} ` +
          `evaluated ${(evaluatedFrom[i]! - t0).toFixed(0)}-${(evaluatedTo[i]! - t0).toFixed(0)} write ${(w.start - t0).toFixed(0)}-${(w.end - t0).toFixed(0)} (${w.batch} windows) event ${(at - t0).toFixed(0)} (latency ${latencies[i]})`,
      );
    });
  }
  if (process.env['STREAM_BENCH_THREADS']) {
    // CPU seconds per thread name over the measured interval (threads started in it counted from 0).
    // The main thread is named "main"; Node's other threads (workers, the compiler's) share the name "node".
    const byName = new Map<string, number>();
    for (const [key, ticks] of threadsDone) {
      const tid = key.slice(0, key.indexOf(' '));
      const base = key.slice(key.indexOf(' ') + 1);
      const used = ticks - (threadsAtFirst.get(key) ?? 0);
      const name = tid === String(process.pid) ? 'main' : base === 'node' && used >= 20 ? `node ${tid}` : base;
      byName.set(name, (byName.get(name) ?? 0) + used);
    }
    const rows = [...byName].filter(([, t]) => t > 0).sort((a, b) => b[1] - a[1]);
    console.error(`threads (CPU s): ${rows.map(([n, t]) => `${n} ${(t / 100).toFixed(2)}`).join(', ')}`);
  }
  reports.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.start - b.start || a.end - b.end));
  const digest = createHash('sha256').update(reports.map((r) => r.text).join('\n')).digest('hex').slice(0, 16);
  const seconds = (doneAt - firstAt!) / 1000;
  const cpu = cpuDone as NodeJS.CpuUsage | null;
  return {
    side: 'driftwatch',
    format,
    messages,
    records: accepted,
    messageBytes: null,
    seconds,
    startupSeconds: (firstAt! - m.startedAt) / 1000,
    recordsPerSecond: accepted / seconds,
    consumedSeconds: (lastRecordsAt - firstAt!) / 1000,
    backpressure: { pauses, pausedSeconds: (pausedMs + (pausedAt !== null ? doneAt - pausedAt : 0)) / 1000 },
    latencyParts: { evaluateAndWaitMs: pick('wait'), storeMs: pick('store'), publishMs: pick('publish'), windowsPerWrite: writes.map((w) => w.batch) },
    cpuSeconds: cpu ? (cpu.user + cpu.system) / 1e6 : Number.NaN,
    mainThreadCpuSeconds: (mainDone - mainAtFirst) / CLOCK_TICKS,
    rssAtStartBytes: m.rssAtStartBytes,
    rssReadyBytes,
    memory,
    latenciesMs: latencies,
    windows,
    driftEvents,
    driftEventsOnTopic,
    datasetDrifted,
    deadLetters,
    digest,
    load: [load0, loadavg()[0] ?? Number.NaN],
  };
}

async function topicMessageCount(brokers: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'driftwatch-stream-bench-admin', brokers: [brokers], logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((k, p) => k + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function formatOption(): Format {
  const f = required('format', opts.format);
  if (f !== 'json' && f !== 'arrow') throw new Error(`--format: json or arrow, got ${f}`);
  return f;
}

// === summary and output =============================================================================================
interface CaseSummary {
  readonly runs: ReadonlyArray<RunRecord>;
  /** Median, min and max over the repeats. */
  readonly recordsPerSecond: { median: number; min: number; max: number };
  readonly seconds: number;
  readonly mbPerSecond: number;
  /** p50 and p99: the median over the runs of each run's percentile (robust to one disturbed run); max: of all runs. */
  readonly latency: { p50: number; p99: number; max: number; windows: number };
  /** Every window of every run pooled. */
  readonly latencyPooled: { p50: number; p99: number; max: number; windows: number };
  readonly peakRssMb: number;
  readonly kernelPeakRssMb: number | null;
  readonly rssAtStartMb: number;
  readonly rssReadyMb: number | null;
  readonly cpuSeconds: number;
  /** Main-thread CPU per record (µs), median of the runs. */
  readonly mainThreadUsPerRecord: number;
  readonly brokerCpuSeconds: number | null;
  readonly startupSeconds: number;
  /** driftwatch: medians pooled over every window of every run, and the median time to window every record. */
  readonly parts: {
    evaluateAndWaitMs: number;
    storeMs: number;
    publishMs: number;
    windowsPerWrite: number;
    consumedSeconds: number;
    pauses: number;
    pausedSeconds: number;
  } | null;
}

interface FormatSummary {
  readonly format: Format;
  readonly bare: CaseSummary | null;
  readonly decode: CaseSummary | null;
  readonly reader: CaseSummary | null;
  readonly driftwatch: CaseSummary | null;
  readonly ratio: number | null;
  /** The decoding consumer's rate against the bare one's. */
  readonly decodeRatio: number | null;
  /** The consumer with driftwatch's decoder, against the bare one. */
  readonly readerRatio: number | null;
}

/** `bytesPerRecord`: message value bytes per record as produced (for MB/s). */
function summarize(format: Format, runs: ReadonlyArray<RunRecord>, bytesPerRecord: number): FormatSummary {
  const one = (side: Side): CaseSummary | null => {
    const rs = runs.filter((r) => r.format === format && r.side === side);
    if (rs.length === 0) return null;
    const rates = rs.map((r) => r.recordsPerSecond);
    const lat = rs.flatMap((r) => r.latenciesMs);
    const kernel = rs.map((r) => r.memory.kernelPeakRssBytes).filter((x): x is number => x !== null);
    const broker = rs.map((r) => r.brokerCpuSeconds).filter((x): x is number => x !== null);
    const ready = rs.map((r) => r.rssReadyBytes).filter((x): x is number => x !== null);
    const rate = median(rates);
    return {
      runs: rs,
      recordsPerSecond: { median: rate, min: Math.min(...rates), max: Math.max(...rates) },
      seconds: median(rs.map((r) => r.seconds)),
      mbPerSecond: (rate * bytesPerRecord) / MB,
      latency: (() => {
        const per = rs.map((r) => latencyStats(r.latenciesMs));
        return { p50: median(per.map((x) => x.p50)), p99: median(per.map((x) => x.p99)), max: Math.max(...per.map((x) => x.max)), windows: lat.length };
      })(),
      latencyPooled: latencyStats(lat),
      peakRssMb: Math.max(...rs.map((r) => r.memory.peakRssBytes)) / MB,
      kernelPeakRssMb: kernel.length > 0 ? Math.max(...kernel) / MB : null,
      rssAtStartMb: median(rs.map((r) => r.rssAtStartBytes)) / MB,
      rssReadyMb: ready.length > 0 ? median(ready) / MB : null,
      cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
      mainThreadUsPerRecord: median(rs.map((r) => (r.mainThreadCpuSeconds / r.records) * 1e6)),
      brokerCpuSeconds: broker.length > 0 ? median(broker) : null,
      startupSeconds: median(rs.map((r) => r.startupSeconds)),
      parts:
        side === 'driftwatch'
          ? {
              evaluateAndWaitMs: median(rs.flatMap((r) => r.latencyParts?.evaluateAndWaitMs ?? [])),
              storeMs: median(rs.flatMap((r) => r.latencyParts?.storeMs ?? [])),
              publishMs: median(rs.flatMap((r) => r.latencyParts?.publishMs ?? [])),
              windowsPerWrite: median(rs.flatMap((r) => r.latencyParts?.windowsPerWrite ?? [])),
              consumedSeconds: median(rs.map((r) => r.consumedSeconds ?? Number.NaN)),
              pauses: median(rs.map((r) => r.backpressure?.pauses ?? 0)),
              pausedSeconds: median(rs.map((r) => r.backpressure?.pausedSeconds ?? 0)),
            }
          : null,
    };
  };
  const bare = one('bare');
  const decode = one('decode');
  const reader = one('reader');
  const driftwatch = one('driftwatch');
  const toBare = (c: CaseSummary | null): number | null => (bare && c ? c.recordsPerSecond.median / bare.recordsPerSecond.median : null);
  return { format, bare, decode, reader, driftwatch, ratio: toBare(driftwatch), decodeRatio: toBare(decode), readerRatio: toBare(reader) };
}

function latencyStats(xs: ReadonlyArray<number>): { p50: number; p99: number; max: number; windows: number } {
  if (xs.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, windows: 0 };
  const sorted = [...xs].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p of the windows at or below it.
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: rank(0.5), p99: rank(0.99), max: sorted[sorted.length - 1]!, windows: sorted.length };
}

function caseJson(c: CaseSummary): Record<string, unknown> {
  return {
    records_per_second_median: c.recordsPerSecond.median,
    records_per_second_min: c.recordsPerSecond.min,
    records_per_second_max: c.recordsPerSecond.max,
    seconds_median: c.seconds,
    mb_per_second: c.mbPerSecond,
    latency_ms: c.latency,
    latency_ms_pooled: c.latencyPooled,
    peak_rss_mb: c.peakRssMb,
    kernel_peak_rss_mb: c.kernelPeakRssMb,
    rss_at_start_mb: c.rssAtStartMb,
    rss_ready_mb: c.rssReadyMb,
    cpu_seconds_median: c.cpuSeconds,
    main_thread_us_per_record_median: c.mainThreadUsPerRecord,
    broker_cpu_seconds_median: c.brokerCpuSeconds,
    startup_seconds_median: c.startupSeconds,
    ...(c.parts
      ? {
          latency_parts_median_ms: { evaluate_and_queue: c.parts.evaluateAndWaitMs, store_window_results: c.parts.storeMs, publish: c.parts.publishMs },
          windows_per_store_write_median: c.parts.windowsPerWrite,
          every_record_windowed_seconds_median: c.parts.consumedSeconds,
          backpressure_pauses_median: c.parts.pauses,
          backpressure_paused_seconds_median: c.parts.pausedSeconds,
        }
      : {}),
  };
}

function runLine(r: RunRecord): string {
  const lat = r.side === 'driftwatch' ? latencyStats(r.latenciesMs) : null;
  return (
    `  run ${r.repeat} ${r.format.padEnd(5)} ${r.side.padEnd(10)}: ${fmtRate(r.recordsPerSecond)} records/s ` +
    `(${r.records} records in ${fmtS(r.seconds)}, start-up ${fmtS(r.startupSeconds)}), CPU ${fmtS(r.cpuSeconds)} ` +
    `(main thread ${fmtS(r.mainThreadCpuSeconds)}, ${((r.mainThreadCpuSeconds / r.records) * 1e6).toFixed(2)} µs per record)` +
    `${r.brokerCpuSeconds !== null ? `, broker CPU ${fmtS(r.brokerCpuSeconds)}` : ''}, peak RSS ${(r.memory.peakRssBytes / MB).toFixed(0)} MB` +
    (lat ? `, latency p50 ${lat.p50} ms p99 ${lat.p99} ms max ${lat.max} ms, ${r.windows} windows (${Object.values(r.datasetDrifted).reduce((a, b) => a + b, 0)} with dataset drift)` : '') +
    (r.consumedSeconds !== null ? `, every record windowed after ${fmtS(r.consumedSeconds)}` : '') +
    (r.backpressure ? `, source paused ${r.backpressure.pauses} times for ${fmtS(r.backpressure.pausedSeconds)} (backpressure)` : '') +
    (r.latencyParts
      ? `, per window (median) evaluate + queue ${median(r.latencyParts.evaluateAndWaitMs).toFixed(0)} ms, store ${median(r.latencyParts.storeMs).toFixed(0)} ms ` +
        `(${median(r.latencyParts.windowsPerWrite)} windows per write), publish ${median(r.latencyParts.publishMs).toFixed(0)} ms`
      : '') +
    `, load ${r.load[0].toFixed(2)}-${r.load[1].toFixed(2)}`
  );
}

function printSummary(summary: ReadonlyArray<FormatSummary>, s: Settings): void {
  console.log(
    `\nsummary: median of ${s.repeats} runs [range]; latency p50 and p99: median over the runs of each run's percentile, max of all ` +
      `runs; peak RSS the largest of the runs`,
  );
  const rows: string[][] = [
    ['format', 'consumer', 'records/s', 'MB/s', 'vs bare', 'latency p50 / p99 / max ms', 'peak RSS MB', 'RSS ready MB', 'CPU s', 'main thread µs/record', 'broker CPU s', 'start-up s'],
  ];
  for (const f of summary) {
    for (const side of SIDES) {
      const c = f[side];
      if (!c) continue;
      const ratio = side === 'bare' ? 1 : side === 'decode' ? f.decodeRatio : side === 'reader' ? f.readerRatio : f.ratio;
      rows.push([
        f.format === 'json' ? 'JSON (1 record/message)' : `Arrow IPC (${s.arrowBatch} records/message)`,
        side === 'bare'
          ? 'bare kafkajs (count only)'
          : side === 'decode'
            ? `kafkajs + ${f.format === 'json' ? 'JSON.parse' : 'tableFromIPC'} only`
            : side === 'reader'
              ? "kafkajs + driftwatch's decoder only"
              : 'driftwatch (startService)',
        `${fmtRate(c.recordsPerSecond.median)} [${fmtRate(c.recordsPerSecond.min)}-${fmtRate(c.recordsPerSecond.max)}]`,
        c.mbPerSecond.toFixed(1),
        ratio === null ? '-' : side === 'bare' ? '1' : ratio.toFixed(2),
        side !== 'driftwatch' ? '-' : `${c.latency.p50} / ${c.latency.p99} / ${c.latency.max} (${c.latency.windows} windows)`,
        `${c.peakRssMb.toFixed(0)}${c.kernelPeakRssMb !== null ? ` (kernel ${c.kernelPeakRssMb.toFixed(0)})` : ''}`,
        c.rssReadyMb === null ? `${c.rssAtStartMb.toFixed(0)} (at start)` : c.rssReadyMb.toFixed(0),
        c.cpuSeconds.toFixed(1),
        Number.isFinite(c.mainThreadUsPerRecord) ? c.mainThreadUsPerRecord.toFixed(2) : '-',
        c.brokerCpuSeconds === null ? '-' : c.brokerCpuSeconds.toFixed(1),
        c.startupSeconds.toFixed(2),
      ]);
    }
  }
  console.log(alignRows(rows));
  for (const f of summary) {
    if (!f.driftwatch || !f.bare || f.ratio === null) continue;
    const ratioMet = f.ratio >= 0.7;
    const p99Met = f.driftwatch.latency.p99 < 250;
    const p = f.driftwatch.parts;
    if (p) {
      console.log(
        `${f.format}: every record decoded and windowed after ${fmtS(p.consumedSeconds)} of ${fmtS(f.driftwatch.seconds)}; per window (median): ` +
          `evaluation + waiting for the writer ${p.evaluateAndWaitMs.toFixed(0)} ms, store write ${p.storeMs.toFixed(0)} ms ` +
          `(${p.windowsPerWrite} windows per write), publish ${p.publishMs.toFixed(0)} ms; ` +
          `source paused by backpressure ${p.pauses} times for ${fmtS(p.pausedSeconds)} (medians)`,
      );
    }
    console.log(
      `${f.format}: throughput ${f.ratio.toFixed(2)} of the bare consumer (target >= 0.7: ${ratioMet ? 'met' : 'NOT met'}); ` +
        `p99 latency ${f.driftwatch.latency.p99} ms (target < 250 ms: ${p99Met ? 'met' : 'NOT met'})` +
        (f.decodeRatio !== null ? `; a consumer that only decodes the records reaches ${f.decodeRatio.toFixed(2)} of it` : '') +
        (f.readerRatio !== null ? `, one that only decodes them with driftwatch's decoder ${f.readerRatio.toFixed(2)}` : ''),
    );
  }
}

function nonNegativeInt(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number >= 0, got "${raw ?? ''}"`);
  return n;
}

function required(name: string, raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new Error(`--${name} is required with --phase`);
  return raw;
}

function fmtS(seconds: number): string {
  return `${seconds >= 100 ? seconds.toFixed(0) : seconds.toPrecision(3)} s`;
}

function fmtBytes(x: number): string {
  return x % MB === 0 ? `${x / MB} MiB` : x % 1024 === 0 ? `${x / 1024} KiB` : `${x} bytes`;
}

function alignRows(table: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  return table.map((r) => r.map((cell, c) => (c <= 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}
