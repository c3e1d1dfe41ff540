/**
 * The window stage: routes records into per-model (and per-segment) windows, tracks event-time progress per
 * partition, decides what is late, says which windows are due for a report, and which source offsets may be
 * committed. It does no I/O: the pipeline feeds it records and acts on what it returns.
 *
 * Time. Each partition's progress is the newest event time seen on it; the stream's event time is the minimum
 * over the partitions that carry data and are not idle (the slowest partition holds it back). A model's watermark
 * trails that by its `watermarkDelayMs`. A window is reported when the watermark passes its end, and kept for
 * `allowedLatenessMs` more: a record arriving in that time joins it and the report is issued again (the version
 * is the window's row count, so the newest report wins and a repeated one replaces itself). A record whose every
 * window is past that is late. A stream quiet for the idle timeout reports its open windows early.
 *
 * Checkpoints. A partition may be committed up to the first offset still held by a window that can change (open,
 * or within its lateness); the metadata stored with the commit records how far the partition had been read and
 * the stream's event time then. A restart (or a new owner after a rebalance) reads from the committed offset and
 * replays: records below the recorded read position rebuild the windows they belong to without reporting anything
 * already reported, and records of windows that were complete then are skipped. So no closed window is lost and
 * none is reported twice with different content. Windows that cannot be rebuilt by time (count windows, and
 * processing-time windows, whose replayed records get a new arrival time) are rebuilt by offset instead: the
 * metadata records where each route's open ones start, and replayed records below that are skipped.
 */
import { createHash } from 'node:crypto';
import type { Checkpoint, FeatureValue, LabelRecord, PartitionId, StreamRecord } from '../core/stream.js';
import type { WindowKey } from '../core/store.js';
import type { Table } from '../core/table.js';
import {
  appendRow,
  bufferTable,
  createBuffer,
  restoreBuffer,
  setValue,
  snapshotBuffer,
  timeRange,
  type BufferColumnSpec,
  type BufferSnapshot,
  type RowBuffer,
} from './buffer.js';
import { windowsFor, type WindowSpec } from './spec.js';

/** What the window stage must know about a model. */
export interface WindowModel {
  readonly spec: WindowSpec;
  /** The model's features as its window buffers hold them. */
  readonly columns: ReadonlyArray<BufferColumnSpec>;
  /**
   * Prediction models: the buffer column labels are written to, and how long (event time) a prediction waits for
   * a label arriving on its own, or a label for its prediction. Absent for telemetry.
   */
  readonly labels?: { readonly column: string; readonly joinMs: number };
  /**
   * Records are timed by their arrival (processing time): a replayed record gets a new time, so windows already
   * reported cannot be told from its time (see Replay.countStarts).
   */
  readonly processingTime?: boolean;
}

/** Buffer column names the window stage fills from a prediction's own fields (never features of the data). */
export const LABEL_COLUMN = '__label';
export const STATUS_COLUMN = '__status';

export interface EngineOptions {
  /** A stream with no record for this long (processing time) reports its open windows early; 0 disables. */
  readonly idleTimeoutMs: number;
}

interface Replay {
  /** Records below this offset were read before the checkpoint. */
  readonly until: bigint;
  /** The stream's event time when the checkpoint was taken. */
  readonly eventTime: number;
  /**
   * Count windows, and processing-time windows not reported yet, open then, by route hash: the first offset of
   * their rows in this partition. A replayed record of such a route below that offset (or of a route with no such
   * window) belonged to a window already reported. null when there were too many to record, or the metadata
   * predates them (then replayed records rebuild count windows as they come, which can shift their boundaries, and
   * put processing-time records in the window of their new arrival: documented limits).
   */
  readonly countStarts: ReadonlyMap<string, bigint> | null;
  /**
   * Windows kept past their lateness only for labels to join (see `keepFor`), by window id hash: the last offset
   * of their rows in this partition. They took no record after that (later ones were late then); a replayed record
   * of such a window is rebuilt into it only up to that offset. null when there were too many to record or the
   * metadata predates them (then every replayed record of such a window is rebuilt).
   */
  readonly sealed: ReadonlyMap<string, bigint> | null;
}

export interface PartitionProgress {
  /** Newest event time seen (−Infinity before the first record). */
  maxTs: number;
  /** Processing time of the last record (for idleness). */
  lastArrival: number;
  /** The next offset to read (−1 before the first record). */
  next: bigint;
  replay: Replay | null;
  /** The last checkpoint made durable, where a rewind goes. */
  committed: Checkpoint | null;
}

export interface OpenWindow {
  /** State key: the route and the bounds (`count` windows: the route alone). */
  readonly id: string;
  readonly model: string;
  readonly segment: Readonly<Record<string, string>>;
  /** Time windows: fixed bounds. Count windows: NaN until reported. */
  readonly start: number;
  readonly end: number;
  readonly count: boolean;
  readonly rows: RowBuffer;
  /** For each partition that contributed a row: the smallest offset among those rows. */
  readonly firstOffsets: Map<PartitionId, bigint>;
  /** For each partition that contributed a record row: the largest offset among those rows (see Replay.sealed). */
  readonly lastOffsets: Map<PartitionId, bigint>;
  /**
   * Time windows: the stream event time from which it takes no more records (end + lateness + watermark delay).
   * NaN for count windows.
   */
  readonly sealAt: number;
  /** Processing-time windows (see WindowModel.processingTime). */
  readonly processingTime: boolean;
  /** Rows covered by the last report plus labels joined then (0: not reported yet). */
  reported: number;
  /**
   * Labels that arrived on their own and were joined to rows (whether the label or its prediction came first):
   * with the row count, the report's version. Counted alike in either order, so that a replay, which may read the
   * labels partition before the predictions, gives the same version to the same content.
   */
  labelsJoined: number;
  /** Prediction ids of rows still waiting for a label, with their row. */
  readonly waiting: Map<string, number> | null;
  /** Whether the window has been reported (or was, before a restart). */
  closed: boolean;
  /** The model and segment (JSON): what count windows are kept by. */
  readonly route: string;
}

/** The whole state of the window stage: a plain value, changed only by the functions of this module. */
export interface WindowState {
  readonly options: EngineOptions;
  readonly partitions: Map<PartitionId, PartitionProgress>;
  readonly windows: Map<string, OpenWindow>;
  /**
   * Prediction (model and id, see `joinKey`) -> the windows holding that prediction waiting for its label (a hopping
   * window layout puts it in several).
   */
  readonly predictions: Map<string, string[]>;
  /**
   * Labels that came on their own, by prediction (model and id, see `joinKey`), in the order they came, whether
   * before their prediction or after, each until no window a prediction it could join is in can still take it
   * (`until`): a prediction joins the first of them within the join bound (see `withinJoin`) in either order.
   */
  readonly labels: Map<string, KeptLabel[]>;
  /** The stream's event time (see the module comment); never decreases while partitions are owned. */
  eventTime: number;
  /** Where the current step (a batch, a tick) started: what a report not yet written was produced after. */
  step: StepStart;
}

export interface KeptLabel {
  readonly label: LabelRecord;
  readonly partition: PartitionId;
  readonly offset: bigint;
  /** Read before the checkpoint (a report already had it when it joined its prediction). */
  readonly replayed: boolean;
  /** The stream's event time from which it is dropped (see `labelUntil`); NaN: not known yet. */
  readonly until: number;
}

/**
 * The key a prediction and its labels meet by: ids are a model's own, so two models' predictions (and labels) with
 * one id never meet. Unambiguous for any names (the model's length first).
 */
function joinKey(model: string, id: string): string {
  return `${model.length}:${model}:${id}`;
}

/**
 * Whether a label joins a prediction: their event times at most the model's join bound apart, on either side. A label
 * stamped before its prediction counts (its time can be the outcome's, or come from another clock than the
 * prediction's); so does one up to the bound after it. Both orders of arrival, and a replay, judge it the same way:
 * from the two records' times alone.
 */
function withinJoin(labelTs: number, predictionTs: number, joinMs: number): boolean {
  return Math.abs(labelTs - predictionTs) <= joinMs;
}

/** The event time and read positions at the start of a step. */
export interface StepStart {
  readonly eventTime: number;
  readonly positions: ReadonlyMap<PartitionId, bigint>;
}

/**
 * Marks the start of a step (call before `addRecords`/`addLabels`/`advance` of a batch or a tick). Reports made
 * in the step carry it, so that a checkpoint taken while they are still being written can say "as of here,
 * everything was durable" (see `checkpoints`).
 */
export function beginStep(state: WindowState): void {
  const positions = new Map<PartitionId, bigint>();
  for (const [id, p] of state.partitions) positions.set(id, p.replay !== null && p.replay.until > p.next ? p.replay.until : p.next);
  let eventTime = state.eventTime;
  for (const p of state.partitions.values()) if (p.replay !== null && p.replay.eventTime < eventTime) eventTime = p.replay.eventTime;
  state.step = { eventTime, positions };
}

export function createWindowState(options: EngineOptions): WindowState {
  return {
    options,
    partitions: new Map(),
    windows: new Map(),
    predictions: new Map(),
    labels: new Map(),
    eventTime: -Infinity,
    step: { eventTime: -Infinity, positions: new Map() },
  };
}

/** A window due for a report. */
export interface DueWindow {
  readonly key: WindowKey;
  /** The window's rows at the time of the report. */
  readonly table: Table;
  /** The report's version: the number of rows it covers. */
  readonly version: number;
  /** True when the window will not change any more (dropped from state). */
  readonly final: boolean;
  /** Why now: the watermark passed its end, a late record updated it, the stream went idle, a count filled up. */
  readonly cause: 'watermark' | 'late_update' | 'idle' | 'count' | 'flush';
  /** Per partition, the first offset among the window's rows: kept uncommitted until the report is written. */
  readonly offsets: ReadonlyMap<PartitionId, bigint>;
  /** The step it was made in (see `beginStep`). */
  readonly step: StepStart;
  /** The route (model and segment) its rows were kept by, and whether it is a count window. */
  readonly route: string;
  readonly count: boolean;
  /** Whether it is a processing-time window (rebuilt by offset, like count windows). */
  readonly processingTime: boolean;
  /** The window's state key, when it is sealed (see OpenWindow.sealAt), and its rows' last offsets per partition. */
  readonly id: string;
  readonly sealAt: number;
  readonly lastOffsets: ReadonlyMap<PartitionId, bigint>;
}

export interface LateRecord {
  readonly record: StreamRecord;
  readonly offset: bigint;
  readonly reason: string;
}

/** The JSON stored with a commit. */
interface CheckpointMetadata {
  readonly v: 1;
  /** The partition's read position then (decimal). */
  readonly hi: string;
  /** The stream's event time then (null: none yet). */
  readonly et: number | null;
  /** Count and processing-time windows open then (see Replay.countStarts): route hash -> first offset (decimal). */
  readonly cw?: Readonly<Record<string, string>>;
  /** Windows kept only for labels then (see Replay.sealed): window id hash -> last offset (decimal). */
  readonly sw?: Readonly<Record<string, string>>;
}

/** `cw` and `sw` entries recorded per checkpoint at most, together (Kafka's default metadata limit is 4096 bytes). */
const MAX_REPLAY_ENTRIES = 100;

function routeHash(route: string): string {
  return createHash('sha256').update(route).digest('hex').slice(0, 12);
}

/** A route: one model, one segment. Unambiguous for any names (JSON of the pair). */
function routeOf(record: StreamRecord): string {
  const keys = Object.keys(record.segment);
  if (keys.length === 0) {
    // Unsegmented models: one route each, made once (this runs for every record).
    let route = unsegmentedRoutes.get(record.model);
    if (route === undefined) {
      route = JSON.stringify([record.model, []]);
      if (unsegmentedRoutes.size >= MAX_CACHED_ROUTES) unsegmentedRoutes.clear();
      unsegmentedRoutes.set(record.model, route);
    }
    return route;
  }
  const seg = keys.sort().map((k) => [k, record.segment[k]]);
  return JSON.stringify([record.model, seg]);
}

const unsegmentedRoutes = new Map<string, string>();
const MAX_CACHED_ROUTES = 10_000;

/** Event time used for a partition's lateness decisions, and its share in the stream's event time. */
function effectiveTime(p: PartitionProgress): number {
  return p.replay !== null && p.replay.eventTime < p.maxTs ? p.replay.eventTime : p.maxTs;
}

/**
 * Recomputes the stream's event time: the slowest partition that has data and is not idle. It only moves forward,
 * except when a partition is taken over (`lower`): then a partition that is behind (a rebalance moved it here from
 * an instance that was slower) holds the time back again, so its records are not judged late by the progress of
 * partitions it never shared windows with.
 */
function updateEventTime(state: WindowState, now: number | null, lower = false): void {
  let min = Infinity;
  for (const p of state.partitions.values()) {
    if (p.maxTs === -Infinity) continue;
    if (now !== null && state.options.idleTimeoutMs > 0 && now - p.lastArrival >= state.options.idleTimeoutMs) continue;
    const t = effectiveTime(p);
    if (t < min) min = t;
  }
  if (min !== Infinity && (min > state.eventTime || lower)) state.eventTime = min;
}

/**
 * Takes ownership of a partition, resuming from its checkpoint (null: from wherever the source starts). `now` is
 * the processing time of the assignment: the partition counts as active from then, not idle until it has been quiet
 * for the idle timeout, so that a partition taken over holds the stream's event time back (with the checkpoint's)
 * while its backlog is fetched, instead of letting the first partition to deliver move it alone. Omitted: active
 * only from its first read.
 */
export function assignPartition(state: WindowState, partition: PartitionId, checkpoint: Checkpoint | null, now = -Infinity): void {
  const meta = checkpoint ? parseMetadata(checkpoint.metadata) : null;
  const replay: Replay | null =
    meta && BigInt(meta.hi) > checkpoint!.offset
      ? { until: BigInt(meta.hi), eventTime: meta.et ?? -Infinity, countStarts: offsetsMap(meta.cw), sealed: offsetsMap(meta.sw) }
      : null;
  state.partitions.set(partition, {
    maxTs: meta?.et ?? -Infinity,
    lastArrival: now,
    next: checkpoint ? checkpoint.offset : -1n,
    replay,
    committed: checkpoint,
  });
  updateEventTime(state, null, true);
}

function parseMetadata(text: string): CheckpointMetadata | null {
  try {
    const m = JSON.parse(text) as Partial<CheckpointMetadata>;
    if (m && m.v === 1 && typeof m.hi === 'string' && /^-?\d+$/.test(m.hi) && (m.et === null || typeof m.et === 'number')) {
      const offsets = (o: unknown) =>
        o && typeof o === 'object' && Object.values(o).every((v) => typeof v === 'string' && /^\d+$/.test(v)) ? (o as Readonly<Record<string, string>>) : undefined;
      const cw = offsets(m.cw);
      const sw = offsets(m.sw);
      return { v: 1, hi: m.hi, et: m.et ?? null, ...(cw ? { cw } : {}), ...(sw ? { sw } : {}) };
    }
  } catch {
    // Not ours (committed by another tool): start as if there were no metadata.
  }
  return null;
}

/**
 * Gives up partitions (a rebalance moved them, or the source stopped). Their windows are dropped; a window that
 * also held rows of a partition still owned takes those rows with it, so such partitions are reset to their last
 * checkpoint and returned: the caller rewinds the source there and their windows are rebuilt by replay.
 */
export function revokePartitions(state: WindowState, revoked: ReadonlyArray<PartitionId>): Checkpoint[] {
  const closure = new Set(revoked);
  let grew = true;
  while (grew) {
    grew = false;
    for (const w of state.windows.values()) {
      const parts = [...w.firstOffsets.keys()];
      if (parts.some((p) => closure.has(p)) && parts.some((p) => !closure.has(p))) {
        for (const p of parts) closure.add(p);
        grew = true;
      }
    }
  }
  for (const [id, w] of state.windows) {
    if ([...w.firstOffsets.keys()].some((p) => closure.has(p))) dropWindow(state, id, w);
  }
  for (const [key, kept] of state.labels) {
    const left = kept.filter((k) => !closure.has(k.partition));
    if (left.length === 0) state.labels.delete(key);
    else if (left.length < kept.length) state.labels.set(key, left);
  }
  const rewind: Checkpoint[] = [];
  for (const p of closure) {
    const progress = state.partitions.get(p);
    if (!progress) continue;
    state.partitions.delete(p);
    if (!revoked.includes(p)) {
      const cp = progress.committed ?? { partition: p, offset: 0n, metadata: '' };
      assignPartition(state, p, cp, progress.lastArrival);
      rewind.push(cp);
    }
  }
  return rewind;
}

/** A partition's progress; a partition never assigned (HTTP ingest, the demo) is taken on first use. */
function progressOf(state: WindowState, partition: PartitionId, now: number): PartitionProgress {
  let p = state.partitions.get(partition);
  if (!p) {
    assignPartition(state, partition, null, now);
    p = state.partitions.get(partition)!;
  }
  return p;
}

/** Notes a read at `offset`; says whether it replays what was read before the checkpoint (and ends the replay if not). */
function readAt(p: PartitionProgress, offset: bigint, now: number): boolean {
  if (offset >= p.next) p.next = offset + 1n;
  p.lastArrival = now;
  const replaying = p.replay !== null && offset < p.replay.until;
  if (p.replay !== null && !replaying) p.replay = null;
  return replaying;
}

/**
 * The partition's read position: the next offset not read yet (-1 before anything was read, or assigned from a
 * checkpoint). A message below it was read already, and one a source delivers again (kafkajs retrying a batch whose
 * handler failed after its records were windowed) must be dropped as seen, not windowed twice.
 */
export function readPosition(state: WindowState, partition: PartitionId): bigint {
  return state.partitions.get(partition)?.next ?? -1n;
}

/**
 * Notes that a partition's messages up to `offset` were read, whatever they held: one with only dead letters moves
 * the read position (and the commit) past it too. Call after `addRecords`/`addLabels` of the batch.
 */
export function readThrough(state: WindowState, partition: PartitionId, offset: bigint, now: number): void {
  const p = progressOf(state, partition, now);
  readAt(p, offset, now);
  endReplayIfDone(state, p);
}

/**
 * Ends a partition's replay once everything read before the checkpoint has been read again. Until then its share
 * of the stream's event time is capped at the checkpoint's (see `effectiveTime`); left in place past that point,
 * the cap held the other partitions' new records to the checkpoint's time until this one read a new record, and
 * accepted records the run without a restart had judged late.
 */
function endReplayIfDone(state: WindowState, p: PartitionProgress): void {
  if (p.replay === null || p.next < p.replay.until) return;
  p.replay = null;
  updateEventTime(state, null);
}

/**
 * Notes that the caller held these partitions' input back until `now` (backpressure: the source paused, a batch
 * held): time it held them is not quiet time, so none of them is idle for it (no window reported early, none left
 * out of the stream's event time while the others move it).
 */
export function heldUntil(state: WindowState, partitions: Iterable<PartitionId>, now: number): void {
  for (const id of partitions) {
    const p = state.partitions.get(id);
    if (p && p.lastArrival < now) p.lastArrival = now;
  }
}

/** How long a model's windows stay after their end: their lateness, or for prediction models until labels can no longer join. */
function keepFor(model: WindowModel | undefined): number {
  return Math.max(model?.spec.allowedLatenessMs ?? 0, model?.labels?.joinMs ?? 0);
}

/**
 * Adds a partition's records (in offset order) to their windows. Returns the records that came too late for every
 * window they belong to. `now` is the processing time (for idleness).
 */
export function addRecords(
  state: WindowState,
  modelOf: (model: string) => WindowModel | undefined,
  partition: PartitionId,
  records: ReadonlyArray<{ readonly record: StreamRecord; readonly offset: bigint }>,
  now: number,
): { late: LateRecord[]; due: DueWindow[] } {
  const p = progressOf(state, partition, now);
  const late: LateRecord[] = [];
  const due: DueWindow[] = [];
  for (const { record, offset } of records) {
    // The record before may have been the replay's last.
    endReplayIfDone(state, p);
    const model = modelOf(record.model);
    if (!model) continue;
    const replaying = readAt(p, offset, now);
    if (record.ts > p.maxTs) {
      const wasMin = effectiveTime(p) <= state.eventTime || state.eventTime === -Infinity;
      p.maxTs = record.ts;
      if (wasMin) updateEventTime(state, null);
    }
    const route = routeOf(record);
    // Windows that cannot be rebuilt by time are rebuilt by offset (see Replay.countStarts). A processing-time record
    // replayed past that point goes to the window of its new arrival: its first window was never reported.
    if (replaying && p.replay!.countStarts !== null && (model.spec.shape.type === 'count' || model.processingTime)) {
      const start = p.replay!.countStarts.get(routeHash(route));
      if (start === undefined || offset < start) continue;
    }
    if (model.spec.shape.type === 'count') {
      const filled = addToCountWindow(state, model, route, record, partition, offset);
      if (filled) due.push(filled);
      continue;
    }
    const decisionTime = (replaying ? p.replay!.eventTime : state.eventTime) - model.spec.watermarkDelayMs;
    let accepted = 0;
    let lastEnd = 0;
    for (const b of windowsFor(model.spec.shape, record.ts)) {
      const id = `${route}|${b.start}|${b.end}`;
      // Decided per record, whatever the batch boundaries: past its lateness a window takes nothing more, even
      // when it is still in state (it is dropped at the next `advance`). A replay rebuilds every window still kept
      // then (`advance` keeps prediction windows longer, for labels), with the rows it had.
      const sealed = b.end + model.spec.allowedLatenessMs <= decisionTime;
      if (sealed && !(replaying && b.end + keepFor(model) > decisionTime && tookRow(p.replay!, id, offset))) {
        lastEnd = b.end;
        continue;
      }
      let w = state.windows.get(id);
      if (!w) {
        w = newWindow(id, route, record, b.start, b.end, false, model);
        state.windows.set(id, w);
      }
      appendRow(w.rows, record.ts, record.features);
      noteOffset(w, partition, offset);
      const last = w.lastOffsets.get(partition);
      if (last === undefined || offset > last) w.lastOffsets.set(partition, offset);
      const joinedReplayed = awaitLabel(state, w, record, model);
      if (replaying && b.end <= decisionTime) {
        // Reported before the restart with this row (and an early label it joined, when that too was read before):
        // not reported again for them. Anything else it holds (rows of a partition past its replay) still is.
        w.closed = true;
        w.reported += joinedReplayed ? 2 : 1;
      }
      accepted++;
    }
    if (accepted === 0 && !replaying) {
      late.push({
        record,
        offset,
        reason:
          `event time ${new Date(record.ts).toISOString()} is too late: its window ended ${new Date(lastEnd).toISOString()} ` +
          `and closed for good at watermark ${new Date(decisionTime).toISOString()} (allowed lateness ${model.spec.allowedLatenessMs} ms)`,
      });
    }
  }
  endReplayIfDone(state, p);
  return { late, due };
}

/** Whether a sealed window (see Replay.sealed) took the record at `offset` before the checkpoint. */
function tookRow(replay: Replay, id: string, offset: bigint): boolean {
  if (replay.sealed === null) return true;
  const last = replay.sealed.get(routeHash(id));
  return last !== undefined && offset <= last;
}

function newWindow(id: string, route: string, record: StreamRecord, start: number, end: number, count: boolean, model: WindowModel): OpenWindow {
  return {
    id,
    route,
    model: record.model,
    segment: record.segment,
    start,
    end,
    count,
    rows: createBuffer(model.columns),
    firstOffsets: new Map(),
    lastOffsets: new Map(),
    sealAt: count ? NaN : end + model.spec.allowedLatenessMs + model.spec.watermarkDelayMs,
    processingTime: model.processingTime === true,
    reported: 0,
    labelsJoined: 0,
    waiting: model.labels ? new Map() : null,
    closed: false,
  };
}

/** A report's version: rows plus labels joined (see `labelsJoined`), so any change gives a higher one. */
function version(w: OpenWindow): number {
  return w.rows.length + w.labelsJoined;
}

/**
 * A prediction without its label waits for one (by model and id); when labels came first, the first within the join
 * bound (see `withinJoin`) is joined at once. Count windows are reported when full, so only labels that came first
 * reach them. Says whether it joined a label read before the checkpoint.
 */
function awaitLabel(state: WindowState, w: OpenWindow, record: StreamRecord, model: WindowModel): boolean {
  if (!model.labels || record.kind !== 'prediction' || record.id === undefined || !w.waiting) return false;
  const row = w.rows.length - 1;
  const key = joinKey(record.model, record.id);
  const joinMs = model.labels.joinMs;
  const early = state.labels.get(key)?.find((k) => withinJoin(k.label.ts, record.ts, joinMs));
  if (early) {
    setValue(w.rows, row, model.labels.column, early.label.label);
    w.labelsJoined++;
    noteOffset(w, early.partition, early.offset);
    return early.replayed;
  }
  if (record.label !== undefined) return false;
  w.waiting.set(record.id, row);
  const list = state.predictions.get(key);
  if (list) list.push(w.id);
  else state.predictions.set(key, [w.id]);
  return false;
}


/**
 * Labels that arrive on their own (a labels topic), joined to their predictions by model and id when their event
 * times are within the model's join bound (see `withinJoin`). A label joined to a window already reported makes it
 * due again (a new version). Joined or not, a label is kept (see `WindowState.labels`, `labelUntil`): a prediction
 * of the id that comes later joins the first kept within its bound, so of several labels of one id (duplicates, a
 * correction) the first within the bound wins, whether the prediction came before them or after, and a replay
 * that reads them in another order than the predictions makes the same joins. Labels do not move event time.
 */
export function addLabels(
  state: WindowState,
  modelOf: (model: string) => WindowModel | undefined,
  partition: PartitionId,
  labels: ReadonlyArray<{ readonly label: LabelRecord; readonly offset: bigint }>,
  now: number,
): void {
  const p = progressOf(state, partition, now);
  for (const { label, offset } of labels) {
    endReplayIfDone(state, p);
    const replaying = readAt(p, offset, now);
    const model = modelOf(label.model);
    if (!model?.labels) continue;
    const key = joinKey(label.model, label.id);
    const still: string[] = [];
    for (const id of state.predictions.get(key) ?? []) {
      const w = state.windows.get(id);
      const row = w?.waiting?.get(label.id);
      if (!w || row === undefined) continue;
      // Out of its bound: the prediction waits on (for a later label within it).
      if (!withinJoin(label.ts, w.rows.ts[row]!, model.labels.joinMs)) {
        still.push(id);
        continue;
      }
      w.waiting!.delete(label.id);
      setValue(w.rows, row, model.labels.column, label.label as FeatureValue);
      w.labelsJoined++;
      noteOffset(w, partition, offset);
      // Joined before the restart too: the report then already had it.
      if (replaying && w.closed) w.reported++;
    }
    if (still.length > 0) state.predictions.set(key, still);
    else state.predictions.delete(key);
    const kept: KeptLabel = { label, partition, offset, replayed: replaying, until: labelUntil(model, label.ts) };
    const list = state.labels.get(key);
    if (list) list.push(kept);
    else state.labels.set(key, [kept]);
  }
}

function noteOffset(w: OpenWindow, partition: PartitionId, offset: bigint): void {
  const first = w.firstOffsets.get(partition);
  if (first === undefined || offset < first) w.firstOffsets.set(partition, offset);
}

function addToCountWindow(
  state: WindowState,
  model: WindowModel,
  route: string,
  record: StreamRecord,
  partition: PartitionId,
  offset: bigint,
): DueWindow | null {
  const shape = model.spec.shape as { readonly type: 'count'; readonly count: number };
  const id = `${route}|count`;
  let w = state.windows.get(id);
  if (!w) {
    w = newWindow(id, route, record, NaN, NaN, true, model);
    state.windows.set(id, w);
  }
  appendRow(w.rows, record.ts, record.features);
  noteOffset(w, partition, offset);
  awaitLabel(state, w, record, model);
  if (w.rows.length < shape.count) return null;
  dropWindow(state, id, w);
  return report(state, w, 'count', true);
}

/**
 * A count window's id: 16 hex of SHA-256 over its first offset in each partition it read (partitions in code-point
 * order). A record is in one count window only, so two count windows never share it, whatever their bounds; and it
 * depends only on which records the window holds, so the window rebuilt after a restart gets it again (and a file
 * replayed again, whose offsets are its lines, replaces its earlier reports).
 */
export function countWindowId(firstOffsets: ReadonlyMap<PartitionId, bigint>): string {
  const parts = [...firstOffsets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, o]) => [p, o.toString()]);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/**
 * The report of a window as it stands. Count windows get their bounds from their rows' event times, and an id
 * (see countWindowId), since two of them may share those bounds.
 */
function report(state: WindowState, w: OpenWindow, cause: DueWindow['cause'], final: boolean): DueWindow {
  let { start, end } = w;
  if (w.count) {
    const r = timeRange(w.rows);
    start = r.min;
    end = r.max + 1;
  }
  const key: WindowKey = w.count
    ? { model: w.model, segment: w.segment, start, end, countId: countWindowId(w.firstOffsets) }
    : { model: w.model, segment: w.segment, start, end };
  w.reported = version(w);
  w.closed = true;
  return {
    key,
    table: bufferTable(w.rows, `window ${w.model} ${new Date(start).toISOString()}`),
    version: w.reported,
    final,
    cause,
    offsets: new Map(w.firstOffsets),
    step: state.step,
    route: w.route,
    count: w.count,
    processingTime: w.processingTime,
    id: w.id,
    sealAt: w.sealAt,
    lastOffsets: new Map(w.lastOffsets),
  };
}

/**
 * Moves time on: reports windows the watermark has passed, re-reports windows that late records changed, drops
 * windows past their lateness, and, when every partition has been quiet for the idle timeout, reports what is
 * open. Call after each batch and periodically (for idleness).
 */
export function advance(state: WindowState, modelOf: (model: string) => WindowModel | undefined, now: number): DueWindow[] {
  updateEventTime(state, now);
  // Quiet for how long, per idle timeout asked for (a model may set its own; 0 disables).
  const quietCache = new Map<number, boolean>();
  const idleFor = (model: WindowModel | undefined): boolean => {
    const timeout = model?.spec.idleTimeoutMs ?? state.options.idleTimeoutMs;
    let v = quietCache.get(timeout);
    if (v === undefined) quietCache.set(timeout, (v = isIdle(state, now, timeout)));
    return v;
  };
  const due: DueWindow[] = [];
  for (const [id, w] of state.windows) {
    const model = modelOf(w.model);
    if (w.count) {
      if (idleFor(model)) {
        dropWindow(state, id, w);
        due.push(report(state, w, 'idle', true));
      }
      continue;
    }
    const watermark = state.eventTime - (model?.spec.watermarkDelayMs ?? 0);
    // Prediction windows stay until labels can no longer join them.
    const keep = keepFor(model);
    const expired = w.end + keep <= watermark;
    if (!w.closed && w.end <= watermark) due.push(report(state, w, 'watermark', expired));
    else if (w.closed && version(w) > w.reported) due.push(report(state, w, 'late_update', expired));
    else if (!w.closed && idleFor(model)) due.push(report(state, w, 'idle', false));
    if (expired || !model) dropWindow(state, id, w);
  }
  const keeps = (k: KeptLabel) => (Number.isNaN(k.until) ? labelUntil(modelOf(k.label.model), k.label.ts) : k.until) > state.eventTime;
  for (const [key, kept] of state.labels) {
    if (kept.every(keeps)) continue;
    const left = kept.filter(keeps);
    if (left.length === 0) state.labels.delete(key);
    else state.labels.set(key, left);
  }
  return due;
}

/**
 * The stream's event time from which a label (see WindowState.labels) is dropped: no window that holds, or may
 * still take, a prediction it could join is kept any more. The latest such prediction is at the label's time plus
 * the join bound (see `withinJoin`), and its newest window is kept until its end plus `keepFor` past the
 * watermark. So a prediction taken finds every label within its bound that came before it, and a window rebuilt
 * by a replay (kept then) finds its labels read again, however far event time had gone when they came: which label
 * joins never depends on when a label is dropped. Count windows take every record: when the bound has passed.
 */
function labelUntil(model: WindowModel | undefined, labelTs: number): number {
  const latest = labelTs + (model?.labels?.joinMs ?? 0);
  if (!model || model.spec.shape.type === 'count') return latest;
  const windows = windowsFor(model.spec.shape, latest);
  const end = windows[windows.length - 1]?.end ?? latest;
  return end + keepFor(model) + model.spec.watermarkDelayMs;
}

function dropWindow(state: WindowState, id: string, w: OpenWindow): void {
  state.windows.delete(id);
  for (const pid of w.waiting?.keys() ?? []) {
    const key = joinKey(w.model, pid);
    const list = state.predictions.get(key)?.filter((x) => x !== id);
    if (list && list.length > 0) state.predictions.set(key, list);
    else state.predictions.delete(key);
  }
}

function isIdle(state: WindowState, now: number, timeoutMs: number): boolean {
  if (timeoutMs <= 0 || state.windows.size === 0) return false;
  for (const p of state.partitions.values()) {
    if (p.replay !== null) return false;
    if (p.lastArrival !== -Infinity && now - p.lastArrival < timeoutMs) return false;
  }
  return true;
}

/** Reports every open window and empties the state: the end of a finite input (file replay). */
export function flushAll(state: WindowState): DueWindow[] {
  const due: DueWindow[] = [];
  for (const w of state.windows.values()) {
    if (!w.closed || version(w) > w.reported) due.push(report(state, w, 'flush', true));
  }
  state.windows.clear();
  state.predictions.clear();
  return due;
}

/** Something not durable yet that keeps a partition's offset uncommitted (a dead letter being written), and its step. */
export interface Hold {
  readonly partition: PartitionId;
  readonly offset: bigint;
  readonly step: StepStart;
}

/**
 * What may be committed now, per owned partition that has read something: the first offset a window that can
 * still change needs (or the read position when none does), with the metadata a restart replays by.
 *
 * `inflight` are reports made but not yet durable (queued for the store). Their rows stay uncommitted, and the
 * metadata then describes the start of the oldest one's step instead of now (its read position and event time):
 * a restart replays to that point, everything before which was durable, and goes on from there as the first run
 * did, so the reports that were in flight are made again. `held` (in the order they were made) do the same for
 * their own partition: the commit stays at the offset, and the replay stops where the step that made the oldest
 * began, so that it makes them again (a late record's dead letter, which a replay does not make, included).
 */
export function checkpoints(state: WindowState, inflight: ReadonlyArray<DueWindow> = [], held: ReadonlyArray<Hold> = []): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (const [partition, p] of state.partitions) {
    if (p.next < 0n) continue;
    let offset = p.next;
    for (const w of state.windows.values()) {
      const first = w.firstOffsets.get(partition);
      if (first !== undefined && first < offset) offset = first;
    }
    for (const kept of state.labels.values()) {
      for (const k of kept) if (k.partition === partition && k.offset < offset) offset = k.offset;
    }
    for (const d of inflight) {
      const first = d.offsets.get(partition);
      if (first !== undefined && first < offset) offset = first;
    }
    let heldStep: StepStart | null = null;
    for (const h of held) {
      if (h.partition !== partition) continue;
      heldStep ??= h.step;
      if (h.offset < offset) offset = h.offset;
    }
    // While replaying, the read position recorded before the restart still stands.
    let hi = p.replay !== null && p.replay.until > p.next ? p.replay.until : p.next;
    let et = p.replay !== null ? p.replay.eventTime : state.eventTime;
    // A partition with no record yet (at that point) has no share in the stream's event time: the metadata says so
    // (et null), or a restart would give it the stream's time as its own and hold the others back with it.
    let noData = p.maxTs === -Infinity;
    for (const oldest of [inflight[0]?.step, heldStep]) {
      if (!oldest) continue;
      // A partition with nothing read when that step began replays nothing (everything after is read anew).
      const before = oldest.positions.get(partition) ?? -1n;
      if (before < 0n) noData = true;
      if (before < hi) hi = before;
      if (oldest.eventTime < et) et = oldest.eventTime;
    }
    if (hi < offset) hi = offset;
    const cw = countStarts(state, partition, p, inflight);
    const sw = cw && sealedWindows(state, partition, p, inflight, et, MAX_REPLAY_ENTRIES - Object.keys(cw).length);
    const meta: CheckpointMetadata = { v: 1, hi: hi.toString(), et: !noData && Number.isFinite(et) ? et : null, ...(cw ? { cw } : {}), ...(sw ? { sw } : {}) };
    out.push({ partition, offset, metadata: JSON.stringify(meta) });
  }
  return out;
}

/**
 * The windows rebuilt by offset (count windows, processing-time windows not reported yet) holding rows of a
 * partition, for its checkpoint (see Replay.countStarts); null when there are too many to record.
 */
function countStarts(state: WindowState, partition: PartitionId, p: PartitionProgress, inflight: ReadonlyArray<DueWindow>): Record<string, string> | null {
  const cw: Record<string, string> = {};
  let n = 0;
  const note = (route: string, first: bigint): boolean => {
    const h = routeHash(route);
    const had = cw[h];
    if (had === undefined && ++n > MAX_REPLAY_ENTRIES) return false;
    if (had === undefined || first < BigInt(had)) cw[h] = first.toString();
    return true;
  };
  // Reports not written yet are made again by the replay: their windows start where their rows start.
  for (const d of inflight) {
    const first = d.count || d.processingTime ? d.offsets.get(partition) : undefined;
    if (first !== undefined && !note(d.route, first)) return null;
  }
  for (const w of state.windows.values()) {
    // A processing-time window reported (and durable) is not rebuilt: its rows would land in another window.
    const first = w.count || (w.processingTime && !w.closed) ? w.firstOffsets.get(partition) : undefined;
    if (first === undefined) continue;
    if (!note(w.route, first)) return null;
  }
  // Still replaying: windows of the old checkpoint not rebuilt yet must not be forgotten.
  if (p.replay?.countStarts) {
    for (const [h, o] of p.replay.countStarts) if (!(h in cw) && o >= p.next) cw[h] = o.toString();
  }
  return cw;
}

/**
 * The windows sealed at event time `et` but still kept (for labels) holding rows of a partition, with the last
 * offset of those rows, for its checkpoint (see Replay.sealed); null when there are more than `room`.
 */
function sealedWindows(state: WindowState, partition: PartitionId, p: PartitionProgress, inflight: ReadonlyArray<DueWindow>, et: number, room: number): Record<string, string> | null {
  const sw: Record<string, string> = {};
  let n = 0;
  const note = (id: string, last: bigint): boolean => {
    const h = routeHash(id);
    const had = sw[h];
    if (had === undefined && ++n > room) return false;
    if (had === undefined || last > BigInt(had)) sw[h] = last.toString();
    return true;
  };
  for (const w of [...inflight, ...state.windows.values()]) {
    const last = w.sealAt <= et ? w.lastOffsets.get(partition) : undefined;
    if (last !== undefined && !note(w.id, last)) return null;
  }
  // Still replaying: windows of the old checkpoint not rebuilt (or not wholly) yet must not be forgotten.
  if (p.replay?.sealed) {
    for (const [h, o] of p.replay.sealed) if (o >= p.next && (sw[h] === undefined || o > BigInt(sw[h]))) sw[h] = o.toString();
  }
  return sw;
}

/** Records that these checkpoints are durable (where a later rewind goes). */
export function checkpointsCommitted(state: WindowState, committed: ReadonlyArray<Checkpoint>): void {
  for (const cp of committed) {
    const p = state.partitions.get(cp.partition);
    if (p) p.committed = cp;
  }
}

/** JSON-safe form of the whole window state (offsets as decimal strings, buffers as `BufferSnapshot`). */
export interface StateSnapshot {
  readonly v: 1;
  readonly options: EngineOptions;
  readonly eventTime: number | null;
  readonly partitions: ReadonlyArray<{
    readonly partition: PartitionId;
    readonly maxTs: number | null;
    readonly lastArrival: number | null;
    readonly next: string;
    readonly replay: {
      readonly until: string;
      readonly eventTime: number | null;
      readonly countStarts: Record<string, string> | null;
      /** Absent in snapshots taken before it existed: read as null (every replayed record of a sealed window is rebuilt). */
      readonly sealed?: Record<string, string> | null;
    } | null;
    readonly committed: { readonly offset: string; readonly metadata: string } | null;
  }>;
  readonly windows: ReadonlyArray<{
    readonly id: string;
    readonly route: string;
    readonly model: string;
    readonly segment: Readonly<Record<string, string>>;
    readonly start: number | null;
    readonly end: number | null;
    readonly count: boolean;
    readonly rows: BufferSnapshot;
    readonly firstOffsets: Record<string, string>;
    /** The three below are absent in snapshots taken before they existed (see `restoreState`). */
    readonly lastOffsets?: Record<string, string>;
    readonly sealAt?: number | null;
    readonly processingTime?: boolean;
    readonly reported: number;
    readonly labelsJoined: number;
    readonly waiting: Record<string, number> | null;
    readonly closed: boolean;
  }>;
  /** The kept labels (see WindowState.labels), each id's in the order they came. */
  readonly earlyLabels: ReadonlyArray<{
    readonly label: LabelRecord;
    readonly partition: PartitionId;
    readonly offset: string;
    readonly replayed?: boolean;
    /** Absent in snapshots taken before it existed: worked out at the next `advance`. */
    readonly until?: number | null;
  }>;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The state as plain data (e.g. for a debugging dump or a test); `restoreState` rebuilds an equal state. */
export function snapshotState(state: WindowState): StateSnapshot {
  return {
    v: 1,
    options: state.options,
    eventTime: finiteOrNull(state.eventTime),
    partitions: [...state.partitions].map(([partition, p]) => ({
      partition,
      maxTs: finiteOrNull(p.maxTs),
      lastArrival: finiteOrNull(p.lastArrival),
      next: p.next.toString(),
      replay: p.replay
        ? {
            until: p.replay.until.toString(),
            eventTime: finiteOrNull(p.replay.eventTime),
            countStarts: offsetsRecord(p.replay.countStarts),
            sealed: offsetsRecord(p.replay.sealed),
          }
        : null,
      committed: p.committed ? { offset: p.committed.offset.toString(), metadata: p.committed.metadata } : null,
    })),
    windows: [...state.windows.values()].map((w) => ({
      id: w.id,
      route: w.route,
      model: w.model,
      segment: w.segment,
      start: finiteOrNull(w.start),
      end: finiteOrNull(w.end),
      count: w.count,
      rows: snapshotBuffer(w.rows),
      firstOffsets: offsetsRecord(w.firstOffsets),
      lastOffsets: offsetsRecord(w.lastOffsets),
      sealAt: finiteOrNull(w.sealAt),
      processingTime: w.processingTime,
      reported: w.reported,
      labelsJoined: w.labelsJoined,
      waiting: w.waiting ? Object.fromEntries(w.waiting) : null,
      closed: w.closed,
    })),
    earlyLabels: [...state.labels.values()].flatMap((kept) =>
      kept.map((k) => ({ label: k.label, partition: k.partition, offset: k.offset.toString(), replayed: k.replayed, until: finiteOrNull(k.until) })),
    ),
  };
}

function offsetsRecord(m: ReadonlyMap<string, bigint>): Record<string, string>;
function offsetsRecord(m: ReadonlyMap<string, bigint> | null): Record<string, string> | null;
function offsetsRecord(m: ReadonlyMap<string, bigint> | null): Record<string, string> | null {
  return m ? Object.fromEntries([...m].map(([k, v]) => [k, v.toString()])) : null;
}

function offsetsMap(r: Readonly<Record<string, string>>): Map<string, bigint>;
function offsetsMap(r: Readonly<Record<string, string>> | null | undefined): Map<string, bigint> | null;
function offsetsMap(r: Readonly<Record<string, string>> | null | undefined): Map<string, bigint> | null {
  return r ? new Map(Object.entries(r).map(([k, v]) => [k, BigInt(v)])) : null;
}

export function restoreState(s: StateSnapshot): WindowState {
  const state = createWindowState(s.options);
  state.eventTime = s.eventTime ?? -Infinity;
  for (const p of s.partitions) {
    state.partitions.set(p.partition, {
      maxTs: p.maxTs ?? -Infinity,
      lastArrival: p.lastArrival ?? -Infinity,
      next: BigInt(p.next),
      replay: p.replay
        ? {
            until: BigInt(p.replay.until),
            eventTime: p.replay.eventTime ?? -Infinity,
            countStarts: offsetsMap(p.replay.countStarts),
            sealed: offsetsMap(p.replay.sealed),
          }
        : null,
      committed: p.committed ? { partition: p.partition, offset: BigInt(p.committed.offset), metadata: p.committed.metadata } : null,
    });
  }
  for (const w of s.windows) {
    const waiting = w.waiting ? new Map(Object.entries(w.waiting)) : null;
    state.windows.set(w.id, {
      id: w.id,
      route: w.route,
      model: w.model,
      segment: w.segment,
      start: w.start ?? NaN,
      end: w.end ?? NaN,
      count: w.count,
      rows: restoreBuffer(w.rows),
      firstOffsets: offsetsMap(w.firstOffsets),
      // Older snapshots do not know where a window's rows end, nor when it took its last: up to what each partition
      // had read, from its end on (a replay then rebuilds every record of it, as when the metadata has no `sw`).
      lastOffsets: w.lastOffsets
        ? offsetsMap(w.lastOffsets)
        : new Map(Object.keys(w.firstOffsets).map((k) => [k, (state.partitions.get(k)?.next ?? 0n) - 1n])),
      sealAt: w.sealAt ?? (w.count ? NaN : (w.end ?? NaN)),
      processingTime: w.processingTime ?? false,
      reported: w.reported,
      labelsJoined: w.labelsJoined,
      waiting,
      closed: w.closed,
    });
    for (const pid of waiting?.keys() ?? []) {
      const key = joinKey(w.model, pid);
      const list = state.predictions.get(key);
      if (list) list.push(w.id);
      else state.predictions.set(key, [w.id]);
    }
  }
  for (const e of s.earlyLabels) {
    const key = joinKey(e.label.model, e.label.id);
    const kept: KeptLabel = { label: e.label, partition: e.partition, offset: BigInt(e.offset), replayed: e.replayed ?? false, until: e.until ?? NaN };
    const list = state.labels.get(key);
    if (list) list.push(kept);
    else state.labels.set(key, [kept]);
  }
  return state;
}
