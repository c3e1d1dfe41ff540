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
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
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
  /** The window's evaluation; `now()` is read when it finishes (its computedAt). */
  evaluate(request: EvaluationRequest): Promise<WindowEvaluation>;
  /** Stops the workers (pending evaluations are rejected). */
  close(): Promise<void>;
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

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the main thread sends a worker. */
export type ToWorker =
  | { readonly type: 'reference'; readonly id: string; readonly reference: LoadedReference }
  | { readonly type: 'forget'; readonly id: string }
  | {
      readonly type: 'evaluate';
      readonly job: number;
      readonly table: Table;
      readonly referenceId: string | null;
      readonly settings: EvaluationSettings;
      readonly prediction: PredictionSettings | undefined;
      readonly now: number;
    };

/** The evaluation without what the main thread already holds (the window and the reference). */
export type EvaluationResult = Omit<WindowEvaluation, 'due' | 'reference'>;

export type FromWorker =
  | { readonly type: 'done'; readonly job: number; readonly result: EvaluationResult }
  | { readonly type: 'failed'; readonly job: number; readonly message: string; readonly stack?: string };

interface Pending {
  readonly request: EvaluationRequest;
  readonly resolve: (e: WindowEvaluation) => void;
  readonly reject: (e: Error) => void;
  readonly worker: WorkerSlot;
}

interface WorkerSlot {
  readonly worker: Worker;
  /** Reference snapshot ids this worker holds. */
  readonly references: Set<string>;
  busy: number;
}

/** References a worker keeps at most (one per model in the usual case; older ones are forgotten first). */
const MAX_REFERENCES_PER_WORKER = 64;

/** The compiled worker script (next to this file; from the sources in tests, its built copy under dist/). */
function workerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./evaluation-worker.js', import.meta.url);
  const built = here.replace(/[\\/]src[\\/]pipeline[\\/]evaluator\.ts$/, '/dist/src/pipeline/evaluation-worker.js');
  if (built === here || !existsSync(built)) {
    throw new Error(`the evaluation worker is not built (${built}): run npm run build`);
  }
  return new URL(`file://${built}`);
}

/**
 * A pool of worker threads. Each window goes to the worker with the fewest evaluations in flight (ties: the one
 * already holding its reference). A worker that dies fails its pending evaluations and the pool fails from then
 * on (the pipeline then stops like on a failed store write; nothing unwritten is committed).
 */
export class WorkerEvaluator implements Evaluator {
  private readonly slots: WorkerSlot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextJob = 1;
  private broken: Error | null = null;
  private closed = false;

  constructor(
    workers: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`evaluation workers must be a positive integer, got ${workers}`);
    const script = workerScript();
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(script);
      const slot: WorkerSlot = { worker, references: new Set(), busy: 0 };
      worker.on('message', (m: FromWorker) => this.onMessage(m));
      worker.on('error', (e) => this.fail(new Error(`evaluation worker failed: ${e.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`evaluation worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  evaluate(request: EvaluationRequest): Promise<WindowEvaluation> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('the evaluator is closed'));
    const refId = request.reference?.snapshot.id ?? null;
    let slot = this.slots[0]!;
    for (const s of this.slots) {
      if (s.busy < slot.busy || (s.busy === slot.busy && refId !== null && s.references.has(refId) && !slot.references.has(refId))) slot = s;
    }
    if (refId !== null && !slot.references.has(refId)) {
      if (slot.references.size >= MAX_REFERENCES_PER_WORKER) {
        const oldest = slot.references.values().next().value as string;
        slot.references.delete(oldest);
        slot.worker.postMessage({ type: 'forget', id: oldest } satisfies ToWorker);
      }
      slot.worker.postMessage({ type: 'reference', id: refId, reference: request.reference! } satisfies ToWorker);
      slot.references.add(refId);
    }
    const job = this.nextJob++;
    return new Promise<WindowEvaluation>((resolve, reject) => {
      this.pending.set(job, { request, resolve, reject, worker: slot });
      slot.busy++;
      slot.worker.postMessage({
        type: 'evaluate',
        job,
        table: compactTable(request.due.table),
        referenceId: refId,
        settings: request.settings,
        prediction: request.prediction,
        now: this.now(),
      } satisfies ToWorker);
    });
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.job);
    if (!p) return;
    this.pending.delete(m.job);
    p.worker.busy--;
    if (m.type === 'failed') {
      const e = new Error(m.message);
      if (m.stack) e.stack = m.stack;
      p.reject(e);
      return;
    }
    p.resolve({ ...m.result, due: p.request.due, reference: p.request.reference ?? null });
  }

  private fail(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error('the evaluator is closed'));
    this.pending.clear();
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
