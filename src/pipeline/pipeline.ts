/**
 * The one path every record takes (`../shared/design.md`): decode and validate, window, evaluate at close, write
 * the report and publish its drift event, and only then commit the source. Kafka, HTTP ingest, file replay and the
 * demo generator all feed it through the same `SourceHandler` calls.
 *
 * Writes run behind the stream on one ordered queue, so decoding goes on while ClickHouse and Kafka catch up;
 * a window's rows keep its source offsets uncommitted until its report is durable. When the queue grows past its
 * bound the source is paused (backpressure) and resumed once the queue has drained to half.
 */
import type { BatchOutcome, Checkpoint, LabelRecord, OutgoingMessage, PartitionId, Publisher, Source, SourceBatch, SourceHandler, SourceMessage, StreamRecord } from '../core/stream.js';
import type { DeadLetter, Store, WindowRecord } from '../core/store.js';
import type { Table } from '../core/table.js';
import type { LoadedReference } from '../reference/lifecycle.js';
import { appendRow, bufferTable, createBuffer, type RowBuffer } from '../window/buffer.js';
import {
  addLabels,
  addRecords,
  advance,
  LABEL_COLUMN,
  STATUS_COLUMN,
  assignPartition,
  beginStep,
  checkpoints,
  checkpointsCommitted,
  createWindowState,
  flushAll,
  heldUntil,
  readPosition,
  readThrough,
  revokePartitions,
  type DueWindow,
  type StepStart,
  type WindowModel,
  type WindowState,
} from '../window/engine.js';
import { batchDecoder, type DeadLetterDraft, type DecodeLimits, type ModelSchema } from './decode.js';
import { resolveModel, type ModelSettings, type ResolvedModel } from './models.js';
import { InlineEvaluator, type Evaluator } from './evaluator.js';
import { deadLetterId, driftEvent, storedSample, windowRecord, type DriftEvent, type WindowEvaluation } from './window-report.js';

/** What the pipeline tells the outside (console summary, metrics, alert rules). */
export type PipelineEvent =
  | {
      readonly type: 'records';
      readonly partition: PartitionId;
      readonly accepted: number;
      readonly rejected: number;
      readonly byModel: ReadonlyMap<string, number>;
      /** Messages behind the partition's end after this batch (Kafka only). */
      readonly lag?: number;
    }
  | { readonly type: 'dead_letter'; readonly letter: DeadLetter }
  | { readonly type: 'window'; readonly evaluation: WindowEvaluation; readonly event: DriftEvent | null; readonly latencyMs: number }
  | { readonly type: 'backpressure'; readonly paused: boolean; readonly queued: number }
  | { readonly type: 'commit'; readonly checkpoints: ReadonlyArray<Checkpoint> }
  /** Partitions this instance gave up in a rebalance. */
  | { readonly type: 'revoked'; readonly partitions: ReadonlyArray<PartitionId> }
  /** A step's reports' drift results written to the store (their drift events are published next; details and alerts follow). */
  | { readonly type: 'write'; readonly windows: number; readonly durationMs: number }
  | { readonly type: 'error'; readonly where: string; readonly error: Error };

export interface PipelineOptions {
  readonly store: Store;
  readonly source: Source;
  /** Kafka producer for drift events and dead letters; null without Kafka. */
  readonly publisher: Publisher | null;
  readonly topics: { readonly driftEvents: string | null; readonly deadLetters: string | null };
  /** The active reference of a model (the service's ActiveReferences). */
  readonly reference: (model: string) => LoadedReference | undefined;
  /** Settings of a configured model; undefined for others (which are then known only by an active reference). */
  readonly settings: (model: string) => ModelSettings | undefined;
  /** Settings for a model that is not configured but has an active reference. */
  readonly defaults: Omit<ModelSettings, 'features' | 'segmentBy' | 'kind'>;
  readonly limits: DecodeLimits;
  readonly idleTimeoutMs: number;
  /** Commit at most this often (ms). */
  readonly commitIntervalMs?: number;
  /** Windows waiting to be written before the source is paused. */
  readonly maxQueuedWindows?: number;
  /**
   * Windows waiting for their evaluation at most (default 2): a batch that leaves more is not finished (the source
   * does not hand over the next one) until the evaluations catch up. When evaluation is slower than the input,
   * records then wait in the source rather than as closed windows in memory, which bounds the latency from a
   * window's close to its report without pausing (a pause drops what Kafka already fetched).
   */
  readonly maxEvaluatingWindows?: number;
  /**
   * How long (ms) after its close an evaluated window may still wait for its drift results to be stored before
   * batches wait for it (default: no limit). A batch that ends while the oldest window not yet stored is evaluated
   * and was closed longer ago than this is not finished (the source hands over no next batch) until that window's
   * results are stored. For a store whose work runs on this machine's cores (the embedded engine): when they are
   * saturated, decoding more records competes with the store for them, and the latency from a window's close to
   * its drift event grows with the input's rate. Windows still being evaluated never hold the source (that is
   * `maxEvaluatingWindows`), nor do writes within the limit, so a slow evaluation does not stall the input and
   * writes still gather the windows of a burst.
   */
  readonly resultsWaitMs?: number;
  /**
   * Alert rules: given the drift events of the steps written since the last call, in window order, once they are
   * published and before the source is committed (its outbox rows must be durable by then). A failure stops the
   * pipeline like a failed store write.
   */
  readonly alerts?: { onReports(events: ReadonlyArray<DriftEvent>): Promise<(() => void) | void> } | null;
  /**
   * The report page of a drift event's window, for its `links` (none when this is absent or says null). It must
   * not change while the service runs, nor between runs: a report issued again must be the same event.
   */
  readonly reportLink?: (event: DriftEvent) => string | null;
  /** Where closed windows are evaluated (default: on this thread). The caller owns it (and closes it). */
  readonly evaluator?: Evaluator;
  readonly now?: () => number;
  readonly onEvent?: (event: PipelineEvent) => void;
}

/** What a stream capture collects (a reference from the live stream): the next N records, or an event-time span. */
export interface CaptureRequest {
  /** Stop after this many records of the model. */
  readonly records?: number;
  /** Stop when the model's event time passes the first captured record's time plus this. */
  readonly durationMs?: number;
  /** Called as records are taken. */
  readonly onProgress?: (records: number) => void;
}

interface Capture {
  readonly request: CaptureRequest;
  readonly buffer: RowBuffer;
  firstTs: number;
  /** A prediction model's capture (its `prediction` column as window samples store it). */
  readonly predictions: boolean;
  readonly resolve: (t: Table) => void;
  readonly reject: (e: Error) => void;
}

/** A capture cannot start: the model has no schema (neither configured features nor an active reference). */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

interface Job {
  readonly due: DueWindow;
  readonly dueAt: number;
  /** When (performance.now()) the batch or tick that closed the window started: `resultsWaitMs` counts from it. */
  readonly since: number;
  /** Settles when the evaluation is done (it may run on a worker thread while later windows are decoded). */
  readonly ready: Promise<void>;
  evaluation: WindowEvaluation | null;
  error: Error | null;
}

/** A step whose results are stored, on its way through the writer's later stages. */
interface WrittenStep {
  readonly records: ReadonlyArray<WindowRecord>;
  readonly events: ReadonlyArray<DriftEvent | null>;
  /** Its drift events' publish (after the previous step's); its windows are reported when it resolves. */
  readonly published: Promise<void>;
}

/** Bytes per publish request at most (Kafka's default message.max.bytes is about 1 MiB). */
const PUBLISH_CHUNK_BYTES = 512 * 1024;

/** Bytes of a dead letter's payload published at most (the rest would exceed Kafka's default message size). */
const MAX_DEAD_LETTER_BYTES = 900 * 1024;

/**
 * Decoding gives the event loop a turn after this long (ms): the writer's store and broker calls each need one,
 * so this bounds how long each of them waits behind a large batch. Checked every YIELD_CHECK_RECORDS records.
 */
const YIELD_AFTER_MS = 1;
const YIELD_CHECK_RECORDS = 128;

/** Reports written together at most (one insert per table for all of them). */
const MAX_WRITE_BATCH = 64;

/** Steps waiting for stage 3 (details and alerts) beyond which it no longer lets results writes go first... */
const MAX_UNFINISHED_STEPS = 4;
/** ...and the longest it lets evaluations and their results writes go first (ms). */
const STAGE3_MAX_DEFER_MS = 250;

/** How many rejected records a batch outcome lists (the count is always complete). */
const MAX_LISTED_REJECTIONS = 20;

export class Pipeline implements SourceHandler {
  private readonly state: WindowState;
  private readonly now: () => number;
  private readonly resolved = new Map<string, { referenceId: string | null; model: ResolvedModel | string }>();
  private readonly owned = new Set<PartitionId>();
  /** `close` was called: batches are no longer read. */
  private closed = false;
  private readonly queue: Job[] = [];
  /**
   * Dead letters not written yet (they leave once written), with the source offset each came from and the step
   * that made it (a checkpoint taken meanwhile replays from there: see `checkpoints`).
   */
  private readonly pendingDead: Array<{ readonly letter: DeadLetter; readonly bytes: Uint8Array; readonly partition: PartitionId; readonly offset: bigint; readonly step: StepStart }> = [];
  private writer: Promise<void> | null = null;
  /** Stage 3 while it runs (see `write`), the steps waiting for it, the last step's publish, a results write. */
  private finisher: Promise<void> | null = null;
  private unfinished: WrittenStep[] = [];
  private publishing: Promise<void> | null = null;
  private resultsWrite: Promise<void> | null = null;
  /** Reports at the head of the queue whose drift results are stored, their events, details or alerts not yet. */
  private stored = 0;
  /** While a flush drains: steps may be written in parts (see `writable`). */
  private splitSteps = false;
  private paused = false;
  /** When the source was last resumed, until the next batch or tick notes it (see `inputReleased`). */
  private resumedAt: number | null = null;
  /** A commit failed and none has succeeded since (the failure is reported once). */
  private commitFailing = false;
  /** Windows handed to the evaluator and not evaluated yet. */
  private evaluating = 0;
  /** Batches waiting for evaluations to catch up or for late windows to be stored (see `caughtUp`). */
  private readonly catchUpWaiters: Array<() => void> = [];
  /** Woken at every evaluation's end (stage 3 waiting for its turn). */
  private readonly evaluatedWaiters: Array<() => void> = [];
  private lastCommit = 0;
  private lock: Promise<unknown> = Promise.resolve();
  private fatal: Error | null = null;
  private stats = { accepted: 0, rejected: 0, late: 0, windows: 0 };
  private readonly captures = new Map<string, Capture[]>();

  private readonly evaluator: Evaluator;

  constructor(private readonly o: PipelineOptions) {
    this.now = o.now ?? Date.now;
    this.evaluator = o.evaluator ?? new InlineEvaluator(this.now);
    this.state = createWindowState({ idleTimeoutMs: o.idleTimeoutMs });
  }

  /** Counts since start: records accepted and rejected (late included), windows reported. */
  get counters(): Readonly<{ accepted: number; rejected: number; late: number; windows: number }> {
    return { ...this.stats };
  }

  /** The schema and window layout of a model, re-resolved when its active reference changes. */
  private model(name: string): ResolvedModel | string {
    const ref = this.o.reference(name);
    const refId = ref?.snapshot.id ?? null;
    const cached = this.resolved.get(name);
    if (cached && cached.referenceId === refId) return cached.model;
    const configured = this.o.settings(name);
    let model: ResolvedModel | string;
    if (configured) model = resolveModel(name, configured, ref);
    else if (ref) model = resolveModel(name, { ...this.o.defaults, kind: 'telemetry', segmentBy: [], features: null }, ref);
    else model = `unknown model "${name}": it is not configured and has no active reference`;
    this.resolved.set(name, { referenceId: refId, model });
    // The evaluator gets the reference now, while the model's first window fills.
    if (ref && typeof model !== 'string') this.evaluator.prepare({ reference: ref, settings: model.settings.evaluation, prediction: model.settings.prediction });
    return model;
  }

  /**
   * Resolves these models now, so that the evaluator gets their references (and warms up on them) before the first
   * records arrive instead of while the first windows fill. A model that cannot be resolved yet is simply tried
   * again at its first record.
   */
  prepare(models: Iterable<string>): void {
    for (const name of models) this.model(name);
  }

  featureKind(model: string, feature: string): 'numerical' | 'categorical' | undefined {
    return this.schemaOf(model)?.features.get(feature);
  }

  private readonly schemaOf = (name: string): ModelSchema | undefined => {
    const m = this.model(name);
    return typeof m === 'string' ? undefined : m.schema;
  };

  private readonly windowOf = (name: string): WindowModel | undefined => {
    const m = this.model(name);
    return typeof m === 'string' ? undefined : m.window;
  };

  /** Runs `fn` alone: batches, assignments and ticks never interleave their state changes. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  onAssigned(partitions: ReadonlyArray<{ readonly partition: PartitionId; readonly checkpoint: Checkpoint | null }>): Promise<void> {
    return this.exclusive(async () => {
      const now = this.now();
      for (const { partition, checkpoint } of partitions) {
        assignPartition(this.state, partition, checkpoint, now);
        this.owned.add(partition);
      }
    });
  }

  onRevoked(partitions: ReadonlyArray<PartitionId>): Promise<void> {
    return this.exclusive(async () => {
      // Reports already queued are written (they are complete); offsets of revoked partitions are not ours to commit.
      await this.drain();
      for (const p of partitions) this.owned.delete(p);
      this.emit({ type: 'revoked', partitions });
      const rewind = revokePartitions(this.state, partitions);
      for (const cp of rewind) await this.o.source.rewind(cp.partition, cp.offset);
    });
  }

  onBatch(batch: SourceBatch): Promise<BatchOutcome> {
    return this.exclusive(() => this.process(batch));
  }

  private async process(batch: SourceBatch): Promise<BatchOutcome> {
    if (this.fatal) throw this.fatal;
    if (this.closed) return { accepted: 0, rejected: [], rejectedCount: 0 };
    const started = performance.now();
    const now = this.now();
    this.owned.add(batch.partition);
    this.inputReleased();
    beginStep(this.state);
    // Messages read before (a source delivering a batch again, as kafkajs does after a failed one) are dropped as
    // seen: their records, labels and dead letters were taken the first time.
    const from = readPosition(this.state, batch.partition);
    const messages = batch.messages[0] !== undefined && batch.messages[0].offset < from ? batch.messages.filter((m) => m.offset >= from) : batch.messages;
    const entries: Array<{ record: StreamRecord; offset: bigint }> = [];
    const labels: Array<{ label: LabelRecord; offset: bigint }> = [];
    const dead: DeadLetterDraft[] = [];
    /** The source offset of each dead letter (kept uncommitted until the letter is written). */
    const deadOffsets: bigint[] = [];
    let bodyError: string | undefined;
    let sinceYield = 0;
    let lastYield = performance.now();
    // Messages that carried exactly one record (late records are dead-lettered with their original bytes).
    const single: boolean[] = [];
    let decoder = batchDecoder(this.schemaOf, this.o.limits, now);
    for (const msg of messages) {
      // Give the event loop a turn now and then: queued reports are written while a large batch decodes.
      if (sinceYield >= YIELD_CHECK_RECORDS) {
        sinceYield = 0;
        if (performance.now() - lastYield >= YIELD_AFTER_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = performance.now();
          // A reference may have changed meanwhile: the model plans are looked up again.
          decoder = batchDecoder(this.schemaOf, this.o.limits, now);
        }
      }
      const decoded = decoder.decode(msg);
      single.push(decoded.records.length === 1 && decoded.dead.length === 0);
      sinceYield += decoded.records.length + decoded.dead.length + decoded.labels.length;
      for (const record of decoded.records) entries.push({ record: withPrediction(record), offset: msg.offset });
      for (const label of decoded.labels) labels.push({ label, offset: msg.offset });
      for (const d of decoded.dead) {
        dead.push(d);
        deadOffsets.push(msg.offset);
      }
      if (decoded.bodyError !== undefined && batch.messages.length === 1) bodyError = decoded.bodyError;
    }
    if (this.captures.size > 0) this.feedCaptures(entries);
    const { late, due } = addRecords(this.state, this.windowOf, batch.partition, entries, now);
    if (labels.length > 0) addLabels(this.state, this.windowOf, batch.partition, labels, now);
    // Every message counts as read, one with only dead letters too (else its partition is never committed past it).
    const newest = messages[messages.length - 1];
    if (newest !== undefined) readThrough(this.state, batch.partition, newest.offset, now);
    const singles = new Map<bigint, SourceMessage>();
    if (late.length > 0) messages.forEach((m, i) => single[i] && singles.set(m.offset, m));
    for (const l of late) {
      // A message that carried this one record: its origin and original bytes; else the record as JSON.
      const msg = singles.get(l.offset);
      dead.push({
        origin: msg?.origin ?? `${batch.partition}@${l.offset}`,
        model: l.record.model,
        reasonCode: 'late',
        reason: l.reason,
        payload:
          msg?.value ??
          new TextEncoder().encode(JSON.stringify({ model: l.record.model, ts: new Date(l.record.ts).toISOString(), segment: l.record.segment, features: l.record.features })),
      });
      deadOffsets.push(l.offset);
    }
    due.push(...advance(this.state, this.windowOf, now));
    this.enqueue(due, now, started);
    dead.forEach((d, i) => {
      const letter = toLetter(d, now);
      this.pendingDead.push({ letter, bytes: d.payload, partition: batch.partition, offset: deadOffsets[i]!, step: this.state.step });
      this.emit({ type: 'dead_letter', letter });
    });
    const accepted = entries.length - late.length + labels.length;
    this.stats.accepted += accepted;
    // A `more_refused` letter stands for every record of its message past the dead-letter limit.
    let refused = 0;
    for (const d of dead) refused += d.records ?? 1;
    this.stats.rejected += refused;
    this.stats.late += late.length;
    const byModel = new Map<string, number>();
    // Runs of one model are counted together (a batch usually holds one model, or long runs of each).
    let run = '';
    let inRun = 0;
    for (const e of entries) {
      if (e.record.model === run) inRun++;
      else {
        if (inRun > 0) byModel.set(run, (byModel.get(run) ?? 0) + inRun);
        run = e.record.model;
        inRun = 1;
      }
    }
    if (inRun > 0) byModel.set(run, (byModel.get(run) ?? 0) + inRun);
    const last = batch.messages[batch.messages.length - 1];
    const lag = batch.highWatermark !== undefined && last ? Number(batch.highWatermark - last.offset - 1n) : undefined;
    this.emit({ type: 'records', partition: batch.partition, accepted, rejected: refused, byModel, ...(lag !== undefined ? { lag: Math.max(0, lag) } : {}) });
    this.kick();
    await this.backpressure();
    // The batch was held (the source hands over nothing meanwhile): that time is not the other partitions' quiet.
    if (await this.caughtUp()) heldUntil(this.state, this.owned, this.now());
    await this.maybeCommit(false);
    return {
      accepted,
      rejected: dead.slice(0, MAX_LISTED_REJECTIONS).map((d) => ({ origin: d.origin, reasonCode: d.reasonCode, reason: d.reason })),
      rejectedCount: refused,
      ...(bodyError !== undefined ? { bodyError } : {}),
    };
  }

  /**
   * Collects the model's next records as they pass (whatever the source), for a reference from the live stream.
   * Resolves with them as a table (the model's feature columns) once `records` are taken or the event-time span
   * has passed; rejects on `signal` abort. Every record decoding accepts counts, late ones included. Throws
   * CaptureError at once when the model has no schema (neither configured features nor an active reference).
   */
  capture(model: string, request: CaptureRequest, signal?: AbortSignal): Promise<Table> {
    const m = this.model(model);
    if (typeof m === 'string') throw new CaptureError(m);
    if (request.records === undefined && request.durationMs === undefined) throw new CaptureError('a capture needs a record count or a duration');
    const columns = m.window.columns.filter((c) => c.name !== LABEL_COLUMN && c.name !== STATUS_COLUMN);
    return new Promise<Table>((resolve, reject) => {
      const capture: Capture = { request, buffer: createBuffer(columns), firstTs: NaN, predictions: m.settings.kind === 'prediction', resolve, reject };
      const list = this.captures.get(model) ?? [];
      list.push(capture);
      this.captures.set(model, list);
      signal?.addEventListener('abort', () => {
        this.endCapture(model, capture);
        reject(new CaptureError(`capture of ${model} stopped after ${capture.buffer.length} records`));
      });
    });
  }

  /** The event with its links (see PipelineOptions.reportLink). */
  private withLinks(event: DriftEvent | null): DriftEvent | null {
    const report = event && this.o.reportLink ? this.o.reportLink(event) : null;
    return event && report !== null ? { ...event, links: { report } } : event;
  }

  private endCapture(model: string, capture: Capture): void {
    const rest = (this.captures.get(model) ?? []).filter((c) => c !== capture);
    if (rest.length > 0) this.captures.set(model, rest);
    else this.captures.delete(model);
  }

  private feedCaptures(entries: ReadonlyArray<{ readonly record: StreamRecord }>): void {
    for (const { record } of entries) {
      const list = this.captures.get(record.model);
      if (!list) continue;
      for (const c of [...list]) {
        if (Number.isNaN(c.firstTs)) c.firstTs = record.ts;
        const spanOver = c.request.durationMs !== undefined && record.ts >= c.firstTs + c.request.durationMs;
        if (!spanOver) {
          appendRow(c.buffer, record.ts, record.features);
          c.request.onProgress?.(c.buffer.length);
        }
        if (spanOver || (c.request.records !== undefined && c.buffer.length >= c.request.records)) {
          this.endCapture(record.model, c);
          // As a window's stored sample: probability scores held as text (no reference said otherwise) become
          // numbers, so the reference made of them compares scores as numbers.
          c.resolve(storedSample(bufferTable(c.buffer, `stream capture of ${record.model}`), c.predictions));
        }
      }
    }
  }

  /** Periodic work: idle windows, and commits on a quiet stream. */
  tick(): Promise<void> {
    return this.exclusive(async () => {
      if (this.fatal) throw this.fatal;
      const now = this.now();
      this.inputReleased();
      // While the source is paused the partitions are quiet because of us: none is idle, no window reported early.
      if (this.paused) heldUntil(this.state, this.owned, now);
      beginStep(this.state);
      this.enqueue(advance(this.state, this.windowOf, now), now, performance.now());
      this.kick();
      await this.maybeCommit(false);
    });
  }

  /** End of a finite input: report every open window, write everything, commit. */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      const now = this.now();
      beginStep(this.state);
      this.enqueue(flushAll(this.state), now, performance.now());
      // No commit can come before this drain ends (batches and ticks wait for it), so the flush's one step (every
      // open window, thousands with many segments) is written in parts as its evaluations finish.
      this.splitSteps = true;
      try {
        await this.drain();
      } finally {
        this.splitSteps = false;
      }
      await this.maybeCommit(true);
    });
  }

  /**
   * Writes what is queued and commits: a clean stop. Batches handed over after it are not read (they are not
   * committed, so the partition's next owner reads them): their windows would be written while the store closes.
   */
  close(): Promise<void> {
    this.closed = true;
    return this.exclusive(async () => {
      await this.drain();
      await this.maybeCommit(true);
    });
  }

  private enqueue(due: DueWindow[], now: number, since: number): void {
    for (const d of due) {
      const m = this.model(d.key.model);
      const settings = typeof m === 'string' ? this.o.defaults : m.settings;
      const prediction = typeof m === 'string' ? undefined : m.settings.prediction;
      const request = { due: d, reference: this.o.reference(d.key.model), settings: settings.evaluation, prediction };
      const job: { -readonly [K in keyof Job]: Job[K] } = { due: d, dueAt: now, since, ready: Promise.resolve(), evaluation: null, error: null };
      let evaluation: Promise<WindowEvaluation>;
      try {
        evaluation = this.evaluator.evaluate(request);
      } catch (e) {
        evaluation = Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
      this.evaluating++;
      job.ready = evaluation.then(
        (evaluation) => {
          job.evaluation = evaluation;
          this.evaluated();
        },
        (e: unknown) => {
          job.error = e instanceof Error ? e : new Error(String(e));
          this.evaluated();
        },
      );
      this.queue.push(job);
    }
  }

  private kick(): void {
    if (this.writer || this.fatal) return;
    this.writer = this.write().finally(() => {
      this.writer = null;
      // A batch may have queued reports after the writer's last look and before this ran (its kick found the
      // writer still set): start again for them.
      if (!this.fatal && (this.queue.length > this.stored || this.pendingDead.length > 0)) this.kick();
    });
  }

  /** Waits until every queued report and dead letter is written. */
  private async drain(): Promise<void> {
    for (let i = 0; i < 1_000_000 && (this.writer || this.finisher || this.queue.length > 0 || this.pendingDead.length > 0); i++) {
      if (this.fatal) break;
      this.kick();
      await this.writer;
      this.kickFinisher();
      await this.finisher;
    }
    if (this.fatal) {
      // After a failure nothing more is written (a restart replays from the last commit); what is in flight settles
      // first, so the caller may close the store and the producer.
      await this.writer;
      await this.finisher;
      await this.publishing?.catch(() => undefined);
      throw this.fatal;
    }
  }

  /**
   * Three stages, in queue order, each step (see `writable`) through all three:
   * 1. its reports' drift results and summaries are stored (a listed window has its drift results), by `write`;
   * 2. its drift events are published (after the previous step's), while the next step's results are stored;
   * 3. its details (outlier and quality results, sample rows) are stored and its alerts evaluated and stored
   *    (outbox, history, state), by `finish`, for the steps published so far together, preferably while no
   *    results are being stored.
   * An event waits for its window's drift results and summary (two inserts), never for the stored details (it
   * carries the outlier counts and failed checks itself) or the alerts. A report leaves the queue (and stops holding
   * its offsets back) only after stage 3, so a commit never passes a report whose event, details or alerts are not
   * durable. Alerts see the events in publish order, once acknowledged. A failure in any stage stops the pipeline
   * at once and for good: nothing is stored, published, reported or committed after it.
   */
  private async write(): Promise<void> {
    try {
      for (let i = 0; i < 1_000_000 && (this.queue.length > this.stored || this.pendingDead.length > 0); i++) {
        if (this.fatal) throw this.fatal;
        if (this.pendingDead.length > 0) {
          await this.writeDeadLetters();
          continue;
        }
        const ready = this.writable();
        if (typeof ready !== 'number') {
          await ready;
          continue;
        }
        const jobs = this.queue.slice(this.stored, this.stored + ready);
        const failed = jobs.find((job) => job.error);
        if (failed) throw new Error(`evaluating window ${describeKey(failed.due)} failed: ${failed.error!.message}`, { cause: failed.error });
        const evaluations = jobs.map((job) => job.evaluation!);
        const records = evaluations.map((e) => windowRecord(e, this.settingsFor(e.due.key.model).sampleRows));
        const writeStarted = this.now();
        const results = this.o.store.putWindowResults(records);
        this.resultsWrite = results.then(
          () => undefined,
          () => undefined,
        );
        try {
          await results;
        } finally {
          this.resultsWrite = null;
        }
        if (this.fatal) throw this.fatal;
        this.emit({ type: 'write', windows: records.length, durationMs: this.now() - writeStarted });
        this.stored += jobs.length;
        this.wakeCatchUp();
        const previous = this.publishing;
        const events = evaluations.map((e, i) => this.withLinks(driftEvent(e, records[i]!)));
        const step: WrittenStep = {
          records,
          events,
          published: (async () => {
            await previous;
            await this.publishStep(jobs, evaluations, events);
          })(),
        };
        // A failed publish stops the pipeline at once (no batch is taken after it), not when stage 3 gets to it.
        step.published.catch((e: unknown) => this.failWriter(e));
        this.publishing = step.published;
        this.unfinished.push(step);
        this.kickFinisher();
      }
    } catch (e) {
      this.failWriter(e);
    }
  }

  private kickFinisher(): void {
    if (this.finisher || this.fatal || this.unfinished.length === 0) return;
    this.finisher = this.finish().finally(() => {
      this.finisher = null;
      // Steps stored after the last look.
      this.kickFinisher();
    });
  }

  /**
   * Waits while a results write runs or windows are being evaluated (their results come next, and their events
   * wait for them), for STAGE3_MAX_DEFER_MS at most and not once MAX_UNFINISHED_STEPS steps wait: the embedded
   * engine runs one query at a time, so a details insert started first would hold the next results write back.
   * Stage 3 then writes the steps that gathered meanwhile together.
   */
  private async stage3Turn(): Promise<void> {
    // Elapsed time, not the pipeline's clock (`now` may be a test's fixed clock).
    const deadline = performance.now() + STAGE3_MAX_DEFER_MS;
    for (let j = 0; j < 1_000 && this.unfinished.length < MAX_UNFINISHED_STEPS && !this.fatal; j++) {
      if (this.resultsWrite) {
        await this.resultsWrite;
        continue;
      }
      const left = deadline - performance.now();
      if (this.evaluating === 0 || left <= 0) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.evaluatedWaiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Stage 3, back to back while steps wait for it; never rejects (a failure stops the pipeline). */
  private async finish(): Promise<void> {
    try {
      for (let i = 0; i < 1_000_000 && this.unfinished.length > 0; i++) {
        await this.stage3Turn();
        const steps = this.unfinished.splice(0);
        await steps[steps.length - 1]!.published;
        await this.finishSteps(steps);
      }
    } catch (e) {
      this.failWriter(e);
    }
  }

  /**
   * The store or the broker failed after its own retries: stop taking records and writing; nothing unwritten is
   * committed, and a restart replays from the last commit. Reported once.
   */
  private failWriter(e: unknown): void {
    if (this.fatal) return;
    this.fatal = e instanceof Error ? e : new Error(String(e));
    this.emit({ type: 'error', where: 'write', error: this.fatal });
    this.wakeCatchUp();
  }

  /** Publishes a stored step's drift events; its windows are reported once they are acknowledged. */
  private async publishStep(jobs: ReadonlyArray<Job>, evaluations: ReadonlyArray<WindowEvaluation>, events: ReadonlyArray<DriftEvent | null>): Promise<void> {
    if (this.fatal) throw this.fatal;
    const publish = events.filter((e): e is DriftEvent => e !== null);
    if (publish.length > 0 && this.o.publisher && this.o.topics.driftEvents) {
      await this.publishChunked(
        this.o.topics.driftEvents,
        publish.map((event) => ({ key: event.model, value: JSON.stringify(event), headers: { 'driftwatch-event-id': event.id } })),
      );
    }
    if (this.fatal) throw this.fatal;
    const done = this.now();
    jobs.forEach((job, i) => {
      this.stats.windows++;
      this.emit({ type: 'window', evaluation: evaluations[i]!, event: events[i] ?? null, latencyMs: done - job.dueAt });
    });
  }

  /**
   * Stage 3 for published steps (at the head of the queue, in order): their details, then their alerts; then
   * their reports leave the queue.
   */
  private async finishSteps(steps: ReadonlyArray<WrittenStep>): Promise<void> {
    if (this.fatal) throw this.fatal;
    const records = steps.flatMap((s) => s.records);
    await this.o.store.putWindowDetails(records);
    if (this.fatal) throw this.fatal;
    const publish = steps.flatMap((s) => s.events.filter((e): e is DriftEvent => e !== null));
    // Alerts are announced after their windows (console order); they are stored before anything is committed.
    const announce = publish.length > 0 && this.o.alerts ? await this.o.alerts.onReports(publish) : undefined;
    if (this.fatal) throw this.fatal;
    this.queue.splice(0, records.length);
    this.stored -= records.length;
    announce?.();
    this.maybeResume();
  }

  /** Dead letters to the store and the dead-letter topic; they stay in pendingDead (holding their offsets) until then. */
  private async writeDeadLetters(): Promise<void> {
    const letters = this.pendingDead.slice();
    await this.o.store.putDeadLetters(letters.map((l) => l.letter));
    if (this.o.publisher && this.o.topics.deadLetters) {
      await this.publishChunked(
        this.o.topics.deadLetters,
        letters.map(({ letter: l, bytes }) => ({
          key: l.model,
          // A payload too large for one Kafka message is cut (the store keeps it whole), and says so.
          value: bytes.length > MAX_DEAD_LETTER_BYTES ? bytes.subarray(0, MAX_DEAD_LETTER_BYTES) : bytes,
          headers: {
            'driftwatch-reason-code': l.reasonCode,
            'driftwatch-reason': l.reason,
            'driftwatch-origin': l.source,
            'driftwatch-id': l.id,
            ...(bytes.length > MAX_DEAD_LETTER_BYTES ? { 'driftwatch-truncated': String(bytes.length) } : {}),
          },
        })),
      );
    }
    this.pendingDead.splice(0, letters.length);
  }

  /**
   * How many reports after those already stored (at the head of the queue) to store now, or what to wait for
   * first. Reports are written in
   * queue order, whole steps at a time: the reports one step made (a batch, a tick) are written together or not at
   * all, because a checkpoint taken between two writes records the step of the oldest unwritten report and a
   * replay from it rebuilds every window that step closed; one written alone before it would come back with only
   * the rows above the commit. Up to MAX_WRITE_BATCH reports, or one whole step however large. A step waits until
   * every one of its evaluations is done. During a flush no commit can come between two writes, so reports go in
   * order, up to MAX_WRITE_BATCH at a time, as soon as they are evaluated, steps or not.
   */
  private writable(): number | Promise<void> {
    const q = this.queue;
    const from = this.stored;
    let end = from;
    if (this.splitSteps) {
      for (; end < q.length && end - from < MAX_WRITE_BATCH; end++) {
        const job = q[end]!;
        if (!job.evaluation && !job.error) return end > from ? end - from : job.ready;
      }
      return end - from;
    }
    while (end < q.length) {
      const step = q[end]!.due.step;
      let stepEnd = end;
      while (stepEnd < q.length && q[stepEnd]!.due.step === step) stepEnd++;
      for (let i = end; i < stepEnd; i++) {
        const job = q[i]!;
        if (!job.evaluation && !job.error) return end > from ? end - from : job.ready;
      }
      if (end > from && stepEnd - from > MAX_WRITE_BATCH) break;
      end = stepEnd;
    }
    return end - from;
  }

  /** Publishes in requests of at most PUBLISH_CHUNK_BYTES (a broker refuses requests over its message.max.bytes). */
  private async publishChunked(topic: string, messages: ReadonlyArray<OutgoingMessage>): Promise<void> {
    let chunk: OutgoingMessage[] = [];
    let size = 0;
    for (const m of messages) {
      const bytes = (typeof m.value === 'string' ? Buffer.byteLength(m.value) : m.value.length) + Buffer.byteLength(m.key) + 256;
      if (chunk.length > 0 && size + bytes > PUBLISH_CHUNK_BYTES) {
        await this.o.publisher!.publish(topic, chunk);
        if (this.fatal) throw this.fatal;
        chunk = [];
        size = 0;
      }
      chunk.push(m);
      size += bytes;
    }
    if (chunk.length > 0) await this.o.publisher!.publish(topic, chunk);
  }

  private settingsFor(model: string): Omit<ModelSettings, 'features' | 'segmentBy' | 'kind'> {
    const m = this.model(model);
    return typeof m === 'string' ? this.o.defaults : m.settings;
  }

  private maxQueued(): number {
    return this.o.maxQueuedWindows ?? 64;
  }

  private maxEvaluating(): number {
    return this.o.maxEvaluatingWindows ?? 2;
  }

  private evaluated(): void {
    this.evaluating--;
    for (const wake of this.evaluatedWaiters.splice(0)) wake();
    this.wakeCatchUp();
  }

  private wakeCatchUp(): void {
    for (const wake of this.catchUpWaiters.splice(0)) wake();
  }

  /**
   * Returns once at most `maxEvaluatingWindows` windows wait for their evaluation and no evaluated window has waited
   * longer than `resultsWaitMs` for its drift results to be stored (or the writer has failed: the next batch then
   * fails with it). Says whether it waited.
   */
  private async caughtUp(): Promise<boolean> {
    let waited = false;
    for (let i = 0; i < 1_000_000 && !this.fatal && (this.evaluating > this.maxEvaluating() || this.resultsOverdue()); i++) {
      waited = true;
      await new Promise<void>((resolve) => this.catchUpWaiters.push(resolve));
    }
    return waited;
  }

  private resultsOverdue(): boolean {
    const oldest = this.queue[this.stored];
    if (oldest === undefined || (oldest.evaluation === null && oldest.error === null)) return false;
    return performance.now() - oldest.since > (this.o.resultsWaitMs ?? Number.POSITIVE_INFINITY);
  }

  /** Pauses the source while too many windows wait to be written. */
  private async backpressure(): Promise<void> {
    if (!this.paused && this.queue.length > this.maxQueued()) {
      this.paused = true;
      this.o.source.pause([...this.owned]);
      this.emit({ type: 'backpressure', paused: true, queued: this.queue.length });
    }
  }

  /** Resumes the source once the queue has drained to half its bound. */
  private maybeResume(): void {
    if (this.paused && !this.fatal && this.queue.length <= this.maxQueued() / 2) {
      this.paused = false;
      this.resumedAt = this.now();
      this.o.source.resume([...this.owned]);
      this.emit({ type: 'backpressure', paused: false, queued: this.queue.length });
    }
  }

  /**
   * The source was resumed since the last batch or tick: the partitions were quiet until then because of us (see
   * `heldUntil`). Noted here, where state changes are serialised, not in the writer that resumed it.
   */
  private inputReleased(): void {
    if (this.resumedAt === null) return;
    heldUntil(this.state, this.owned, this.resumedAt);
    this.resumedAt = null;
  }

  private async maybeCommit(force: boolean): Promise<void> {
    // After a failure nothing is committed: a restart replays from the last commit.
    if (this.fatal) return;
    const now = this.now();
    if (!force && now - this.lastCommit < (this.o.commitIntervalMs ?? 1000)) return;
    this.lastCommit = now;
    // Reports still queued keep their rows uncommitted, and the metadata says where a replay makes them again; so
    // do dead letters still being written (a replay from there makes them again, with the same ids).
    const cps = checkpoints(this.state, this.queue.map((job) => job.due), this.pendingDead);
    const mine = cps.filter((cp) => this.owned.has(cp.partition));
    if (mine.length === 0) return;
    try {
      await this.o.source.commit(mine);
    } catch (e) {
      // Nothing is lost: the committed offsets stay behind, and the next commit (after the interval) takes them on.
      // Failing the batch would be worse: its records are windowed already, and the source would deliver it again.
      // At a clean stop (`force`) there is no next commit: the caller is told.
      if (force) throw e;
      if (!this.commitFailing) this.emit({ type: 'error', where: 'commit', error: e instanceof Error ? e : new Error(String(e)) });
      this.commitFailing = true;
      return;
    }
    this.commitFailing = false;
    checkpointsCommitted(this.state, mine);
    this.emit({ type: 'commit', checkpoints: mine });
  }

  private emit(event: PipelineEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch (e) {
      if (event.type !== 'error') this.o.onEvent?.({ type: 'error', where: 'onEvent', error: e as Error });
    }
  }
}

/**
 * A prediction's value is windowed like a feature (`prediction`), so prediction drift is drift of that column; its
 * label (when inline) and status ride along in columns of their own for the model-quality metrics. A failed
 * prediction without a value is a missing one there, and still counts in the error share.
 */
function withPrediction(record: StreamRecord): StreamRecord {
  if (record.kind !== 'prediction') return record;
  return {
    ...record,
    features: { ...record.features, prediction: record.prediction ?? null, [LABEL_COLUMN]: record.label ?? null, [STATUS_COLUMN]: record.status ?? 'ok' },
  };
}

function describeKey(due: DueWindow): string {
  const seg = Object.entries(due.key.segment).map(([k, v]) => `${k}=${v}`).join(',');
  return `${due.key.model}${seg ? `[${seg}]` : ''} ${new Date(due.key.start).toISOString()}`;
}

function toLetter(d: DeadLetterDraft, now: number): DeadLetter {
  return {
    id: deadLetterId(d.origin, d.reasonCode),
    receivedAt: now,
    source: d.origin,
    model: d.model,
    reasonCode: d.reasonCode,
    reason: d.reason,
    payload: payloadText(d.payload),
  };
}

/** The store keeps payloads as text: UTF-8 as is, anything else (an Arrow body) as `base64:` and its base64. */
function payloadText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return `base64:${Buffer.from(bytes).toString('base64')}`;
  }
}
