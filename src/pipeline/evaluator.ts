/**
 * Where closed windows are evaluated: on the pipeline's own thread, or on worker threads so that decoding,
 * windowing and the writer's I/O go on while a window's drift, outliers and quality checks are computed (about
 * 40 ms for 10 000 rows of 20 features, which on the main thread would stall everything else that long).
 *
 * A worker gets each reference once (by snapshot id; a structured clone of its rows and profile) and then, per
 * window, only the window's columns. Results come back in any order; the pipeline keeps its own order. The
 * evaluation itself is the same function either way (`evaluateWindow`), so both give identical reports.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WindowKey } from '../core/store.js';
import type { Table } from '../core/table.js';
import type { LoadedReference } from '../reference/lifecycle.js';
import type { DueWindow } from '../window/engine.js';
import type { EvaluationSettings } from './models.js';
import type { PredictionSettings } from './model-quality.js';
import { evaluateWindow, type WindowEvaluation } from './window-report.js';

export interface EvaluationRequest {
  readonly due: DueWindow;
  readonly reference: LoadedReference | undefined;
  readonly settings: EvaluationSettings;
  readonly prediction: PredictionSettings | undefined;
}

export interface Evaluator {
  /**
   * The window's evaluation; its computedAt is the time the evaluation started. Never throws: every failure is a
   * rejected promise.
   */
  evaluate(request: EvaluationRequest): Promise<WindowEvaluation>;
  /**
   * A model's reference, as soon as the pipeline knows it (at start, or at the model's first record), before any
   * of its windows closes: a worker pool copies it to every worker now, and a worker that has not warmed up yet
   * evaluates a full-size window of the reference's rows (results dropped), so that the first windows wait neither
   * for the copy nor for the compiler. Best effort: never throws; a reference that cannot be copied fails its first
   * window instead, as it would without this.
   */
  prepare(request: PrepareRequest): void;
  /** Stops the workers (pending evaluations are rejected). */
  close(): Promise<void>;
}

export interface PrepareRequest {
  readonly reference: LoadedReference;
  readonly settings: EvaluationSettings;
  readonly prediction: PredictionSettings | undefined;
}

/** Evaluates on the calling thread (tests, and `evaluation_workers: 0`). */
export class InlineEvaluator implements Evaluator {
  constructor(private readonly now: () => number = Date.now) {}

  evaluate(r: EvaluationRequest): Promise<WindowEvaluation> {
    try {
      return Promise.resolve(evaluateWindow(r.due, r.reference, r.settings, this.now(), r.prediction));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Nothing to copy on this thread; warming up here would only delay the records. */
  prepare(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The warm-up: rows of the reference in each warm-up window (fewer for a wide one, see WARM_UP_CELLS), and warm-up
 * windows per worker. On a fresh worker
 * the first evaluation of a 10 000 x 20 window took about 100 ms and the next ones 25-50 ms, for about 8 windows,
 * while the compiler learns the kernels; later ones take about 20 ms. A single slice of the reference evaluated
 * inside the worker (1000, or 3 x 10 000 rows) left the first real windows that slow; 8 whole windows sent the way
 * real windows are sent (copied columns, a structured clone) bring them to the later ones' time.
 */
export const WARM_UP_ROWS = 10_000;
export const WARM_UP_WINDOWS = 8;
/** Values (rows x columns) in one warm-up window at most: a wide reference warms up on fewer rows, not for longer. */
export const WARM_UP_CELLS = 200_000;

/**
 * The first `rows` rows of a table as a window's table: each column a copy of its own, in the shape the window
 * buffer gives its tables (`kind`, `name`, `values`, then `integer` or `dtype`).
 */
export function warmUpTable(t: Table, rows: number): Table {
  const n = Math.min(rows, t.rowCount);
  return {
    source: `${t.source} (warm-up, first ${n} rows)`,
    rowCount: n,
    columns: t.columns.map((c) =>
      c.kind === 'number'
        ? { kind: 'number', name: c.name, values: c.values.slice(0, n), integer: c.integer ?? false }
        : { kind: 'category', name: c.name, values: c.values.slice(0, n), dtype: c.dtype },
    ),
  };
}

/** The job number of warm-up windows: never a real job's, so their answers are dropped. */
const WARM_UP_JOB = 0;

/** What the main thread sends a worker. */
export type ToWorker =
  | { readonly type: 'reference'; readonly id: string; readonly reference: LoadedReference }
  | { readonly type: 'forget'; readonly id: string }
  | {
      readonly type: 'evaluate';
      /** WARM_UP_JOB: a warm-up window, whose answer nobody waits for. */
      readonly job: number;
      readonly table: Table;
      /** The window's key (evaluation skips reference columns the window is segmented by). */
      readonly key: WindowKey;
      readonly referenceId: string | null;
      readonly settings: EvaluationSettings;
      readonly prediction: PredictionSettings | undefined;
    };

/** The evaluation without what the main thread already holds (the window and the reference). */
export type EvaluationResult = Omit<WindowEvaluation, 'due' | 'reference'>;

export type FromWorker =
  | { readonly type: 'done'; readonly job: number; readonly result: EvaluationResult }
  | { readonly type: 'failed'; readonly job: number; readonly message: string; readonly stack?: string };

interface Job {
  readonly id: number;
  readonly request: EvaluationRequest;
  readonly resolve: (e: WindowEvaluation) => void;
  readonly reject: (e: Error) => void;
}

export interface WorkerEvaluatorOptions {
  /**
   * A worker with windows in flight that answers none of them for this long fails the pool (and is stopped): a
   * stuck evaluation becomes an error the pipeline stops on, not a silent stall. The clock restarts at each answer,
   * so a window queued behind a slow one on the same worker is not charged for it. Default 5 minutes; at most
   * about 24.8 days (the longest timer Node keeps), which longer values mean.
   */
  readonly timeoutMs?: number;
}

/** The longest delay a Node timer keeps (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface WorkerSlot {
  readonly worker: Worker;
  /** Reference snapshot ids this worker holds, least recently used first. */
  readonly references: Set<string>;
  /** Jobs sent to this worker and not answered yet. */
  busy: number;
  /** Runs while the worker has jobs in flight: restarted at each answer (see WorkerEvaluatorOptions.timeoutMs). */
  watchdog: NodeJS.Timeout | null;
  /** Warm-up windows sent to this worker (at most WARM_UP_WINDOWS). */
  warmUps: number;
}

/** References a worker keeps at most (one per model in the usual case; the least recently used go first). */
const MAX_REFERENCES_PER_WORKER = 64;

/** Jobs sent to one worker at a time; the rest wait here, uncopied (a flush of many windows stays bounded). */
const MAX_JOBS_PER_WORKER = 2;

/** The compiled worker script (next to this file; from the sources in tests, its built copy under dist/). */
function workerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./evaluation-worker.js', import.meta.url);
  const built = here.replace(/[\\/]src[\\/]pipeline[\\/]evaluator\.ts$/, '/dist/src/pipeline/evaluation-worker.js');
  if (built === here || !existsSync(built)) {
    throw new Error(`the evaluation worker is not built (${built}): run npm run build`);
  }
  return pathToFileURL(built);
}

/**
 * A pool of worker threads. Each window goes to the worker with the fewest evaluations in flight (ties: the one
 * already holding its reference), at most MAX_JOBS_PER_WORKER at a time; the others wait in order. A worker that
 * dies or sends a message that cannot be read fails every evaluation in flight or waiting, and the pool fails
 * from then on (the pipeline then stops like on a failed store write; nothing unwritten is committed). So does a
 * worker that answers none of its windows within the time limit.
 */
export class WorkerEvaluator implements Evaluator {
  private readonly slots: WorkerSlot[] = [];
  private readonly inFlight = new Map<number, { readonly job: Job; readonly slot: WorkerSlot }>();
  private readonly timeoutMs: number;
  private readonly waiting: Job[] = [];
  private nextJob = 1;
  private broken: Error | null = null;
  private closed = false;

  constructor(workers: number, options: WorkerEvaluatorOptions = {}) {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`evaluation workers must be a positive integer, got ${workers}`);
    this.timeoutMs = Math.min(options.timeoutMs ?? 5 * 60_000, MAX_TIMER_MS);
    const script = workerScript();
    try {
      for (let i = 0; i < workers; i++) {
        const worker = new Worker(script);
        const slot: WorkerSlot = { worker, references: new Set(), busy: 0, watchdog: null, warmUps: 0 };
        worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
        worker.on('messageerror', (e) => this.fail(new Error(`evaluation worker sent a message that cannot be read: ${e.message}`)));
        worker.on('error', (e) => this.fail(new Error(`evaluation worker failed: ${e.message}`)));
        worker.on('exit', (code) => {
          if (!this.closed) this.fail(new Error(`evaluation worker exited with code ${code}`));
        });
        this.slots.push(slot);
      }
    } catch (e) {
      this.closed = true;
      for (const s of this.slots) void s.worker.terminate();
      throw e;
    }
  }

  evaluate(request: EvaluationRequest): Promise<WindowEvaluation> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('the evaluator is closed'));
    return new Promise<WindowEvaluation>((resolve, reject) => {
      this.waiting.push({ id: this.nextJob++, request, resolve, reject });
      this.dispatch();
    });
  }

  /** Sends waiting jobs, oldest first, to workers with room. */
  private dispatch(): void {
    for (let guard = 0; guard < 1_000_000 && this.waiting.length > 0 && !this.broken && !this.closed; guard++) {
      const refId = this.waiting[0]!.request.reference?.snapshot.id ?? null;
      let slot: WorkerSlot | null = null;
      for (const s of this.slots) {
        if (s.busy >= MAX_JOBS_PER_WORKER) continue;
        if (slot === null || s.busy < slot.busy || (s.busy === slot.busy && refId !== null && s.references.has(refId) && !slot.references.has(refId))) slot = s;
      }
      if (slot === null) return;
      const job = this.waiting.shift()!;
      try {
        this.send(slot, job);
      } catch (e) {
        // A reference or a window that cannot be copied to the worker: this window fails, the pool goes on.
        job.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  prepare(request: PrepareRequest): void {
    if (this.broken || this.closed) return;
    const { reference } = request;
    const id = reference.snapshot.id;
    let table: Table | null = null;
    for (const slot of this.slots) {
      if (slot.references.has(id)) continue;
      try {
        this.sendReference(slot, reference);
        // The compiler's work is shared by all references, so the first ones prepared take the worker's warm-up.
        while (slot.warmUps < WARM_UP_WINDOWS && reference.rows.rowCount > 0) {
          table ??= warmUpTable(reference.rows, Math.max(1, Math.min(WARM_UP_ROWS, Math.floor(WARM_UP_CELLS / Math.max(1, reference.rows.columns.length)))));
          // A window like any other (its answer is dropped), so the compiler learns what real windows bring.
          const key: WindowKey = { model: reference.snapshot.model, segment: {}, start: 0, end: 0 };
          slot.worker.postMessage({ type: 'evaluate', job: WARM_UP_JOB, table, key, referenceId: id, settings: request.settings, prediction: request.prediction } satisfies ToWorker);
          slot.warmUps++;
        }
      } catch {
        // Not copyable: the first window against it fails with the reason (see send).
        return;
      }
    }
  }

  /** Copies a reference to a worker (dropping its least recently used one past the bound). */
  private sendReference(slot: WorkerSlot, reference: LoadedReference): void {
    const id = reference.snapshot.id;
    // The copy first: one that cannot be made evicts nothing.
    slot.worker.postMessage({ type: 'reference', id, reference } satisfies ToWorker);
    if (slot.references.size >= MAX_REFERENCES_PER_WORKER) {
      const oldest = slot.references.values().next().value as string;
      slot.references.delete(oldest);
      slot.worker.postMessage({ type: 'forget', id: oldest } satisfies ToWorker);
    }
    slot.references.add(id);
  }

  private send(slot: WorkerSlot, job: Job): void {
    const { request } = job;
    const refId = request.reference?.snapshot.id ?? null;
    if (refId !== null) {
      if (slot.references.has(refId)) {
        // Most recently used last.
        slot.references.delete(refId);
        slot.references.add(refId);
      } else {
        this.sendReference(slot, request.reference!);
      }
    }
    slot.worker.postMessage({
      type: 'evaluate',
      job: job.id,
      table: compactTable(request.due.table),
      key: request.due.key,
      referenceId: refId,
      settings: request.settings,
      prediction: request.prediction,
    } satisfies ToWorker);
    this.inFlight.set(job.id, { job, slot });
    slot.busy++;
    if (slot.watchdog === null) this.arm(slot);
  }

  private onMessage(slot: WorkerSlot, m: FromWorker): void {
    const entry = this.inFlight.get(m.job);
    if (!entry) {
      // A warm-up window's answer: progress, so a window queued behind the warm-up is not charged for it.
      if (m.job === WARM_UP_JOB && slot.busy > 0) {
        this.disarm(slot);
        this.arm(slot);
      }
      return;
    }
    this.inFlight.delete(m.job);
    slot.busy--;
    this.disarm(slot);
    if (slot.busy > 0) this.arm(slot);
    const { job } = entry;
    if (m.type === 'failed') {
      const e = new Error(m.message);
      if (m.stack) e.stack = m.stack;
      job.reject(e);
    } else {
      job.resolve({ ...m.result, due: job.request.due, reference: job.request.reference ?? null });
    }
    this.dispatch();
  }

  private arm(slot: WorkerSlot): void {
    slot.watchdog = setTimeout(() => this.timedOut(slot), this.timeoutMs);
    slot.watchdog.unref();
  }

  private disarm(slot: WorkerSlot): void {
    if (slot.watchdog !== null) clearTimeout(slot.watchdog);
    slot.watchdog = null;
  }

  /** A worker that answered nothing in time: the pool fails, naming its oldest window in flight, and it is stopped. */
  private timedOut(slot: WorkerSlot): void {
    slot.watchdog = null;
    if (this.broken || this.closed || slot.busy === 0) return;
    let oldest: Job | null = null;
    for (const entry of this.inFlight.values()) {
      if (entry.slot === slot) {
        oldest = entry.job;
        break;
      }
    }
    if (oldest === null) return;
    const { key } = oldest.request.due;
    const seconds = this.timeoutMs / 1000;
    this.fail(
      new Error(
        `evaluating window ${key.model} ${new Date(key.start).toISOString()} (${oldest.request.due.table.rowCount} rows): its worker answered nothing ` +
          `for ${seconds < 1 ? `${this.timeoutMs} ms` : `${seconds} s`} (pipeline.evaluation_timeout) and was stopped`,
      ),
    );
    void slot.worker.terminate();
  }

  private fail(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    for (const slot of this.slots) this.disarm(slot);
    for (const { job } of this.inFlight.values()) job.reject(e);
    this.inFlight.clear();
    for (const job of this.waiting.splice(0)) job.reject(e);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const e = new Error('the evaluator is closed');
    for (const slot of this.slots) this.disarm(slot);
    for (const { job } of this.inFlight.values()) job.reject(e);
    this.inFlight.clear();
    for (const job of this.waiting.splice(0)) job.reject(e);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * The window's columns as exact copies: a column of a window still open is a view on a larger buffer, whose
 * whole backing store a structured clone would copy.
 */
function compactTable(t: Table): Table {
  return {
    ...t,
    columns: t.columns.map((c) => (c.kind === 'number' ? { ...c, values: c.values.slice() } : c)),
  };
}
