/**
 * The worker pool on its own: real worker threads, a real reference (the demo's, from the embedded engine), windows
 * of the demo's rows. Results must equal the same evaluation on this thread.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { DEMO_MODEL, prepareDemo } from '../../src/app/demo-data.js';
import type { Table } from '../../src/core/table.js';
import { InlineEvaluator, WARM_UP_CELLS, WARM_UP_ROWS, WARM_UP_WINDOWS, WorkerEvaluator, type EvaluationRequest, type WorkerEvaluatorOptions } from '../../src/pipeline/evaluator.js';
import { ActiveReferences } from '../../src/reference/active.js';
import type { DueWindow } from '../../src/window/engine.js';
import { engineHarness } from '../reference/helpers.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'demo');
const harness = engineHarness('evaluator');

async function demoRequests(count: number): Promise<{ requests: EvaluationRequest[]; stop: () => Promise<void> }> {
  const store = await harness.open();
  const data = await prepareDemo(store, FIXTURES);
  const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
  const reference = refs.get(DEMO_MODEL)!;
  const rows = data.drifted.rowCount;
  const requests = Array.from({ length: count }, (_, i): EvaluationRequest => {
    // Window i: 100 rows of the drifted batch starting at row 7 i (overlapping, all different).
    const from = (7 * i) % (rows - 100);
    const table = {
      ...data.drifted,
      rowCount: 100,
      columns: data.drifted.columns.map((c) => (c.kind === 'number' ? { ...c, values: c.values.subarray(from, from + 100) } : { ...c, values: c.values.slice(from, from + 100) })),
    };
    const due = { key: { model: DEMO_MODEL, segment: {}, start: i, end: i + 1 }, table, version: 100, final: true, cause: 'count', offsets: new Map(), step: { eventTime: 0, positions: new Map() }, route: '', count: true, processingTime: false, id: '', sealAt: NaN, lastOffsets: new Map() } as DueWindow;
    return { due, reference, settings: { driftShare: 0.5, drift: {}, perFeature: new Map() }, prediction: undefined };
  });
  return { requests, stop: () => refs.stop() };
}

/** An evaluation without its clock reading. */
function content(e: { computedAt: number }): unknown {
  const { computedAt: _c, ...rest } = e;
  return rest;
}

/** A pool of `workers` with the demo's first `count` windows; the pool is closed and the references stopped after. */
async function withPool(
  count: number,
  workers: number,
  options: WorkerEvaluatorOptions,
  run: (pool: WorkerEvaluator, requests: EvaluationRequest[]) => Promise<void>,
): Promise<void> {
  const { requests, stop } = await demoRequests(count);
  const pool = new WorkerEvaluator(workers, options);
  try {
    await run(pool, requests);
  } finally {
    await pool.close();
    await stop();
  }
}

/** The reference with a function in it: a structured clone refuses it. */
function unsendable(reference: NonNullable<EvaluationRequest['reference']>): NonNullable<EvaluationRequest['reference']> {
  return { ...reference, snapshot: { ...reference.snapshot, id: 'ref-unsendable', hook: () => 1 } } as NonNullable<EvaluationRequest['reference']>;
}

describe('WorkerEvaluator', () => {
  it('evaluates many windows at once like this thread does, each with its own window and reference', async () => {
    await withPool(24, 2, {}, async (pool, requests) => {
      const inline = new InlineEvaluator();
      const [onWorkers, here] = await Promise.all([Promise.all(requests.map((r) => pool.evaluate(r))), Promise.all(requests.map((r) => inline.evaluate(r)))]);
      expect(onWorkers.map(content)).toEqual(here.map(content));
      expect(onWorkers.every((e, i) => e.due === requests[i]!.due && e.reference === requests[i]!.reference)).toBe(true);
      expect(new Set(onWorkers.map((e) => e.dataset.share)).size).toBeGreaterThan(1);
    });
  });

  it('skips, on the workers as here, the reference columns a window is segmented by', async () => {
    await withPool(2, 1, {}, async (pool, requests) => {
      const inline = new InlineEvaluator();
      const field = (await inline.evaluate(requests[0]!)).columns[0]!.column;
      const segmented = requests.map((r) => ({ ...r, due: { ...r.due, key: { ...r.due.key, segment: { [field]: 'L1' } } } }));
      const onWorkers = await Promise.all(segmented.map((r) => pool.evaluate(r)));
      const here = await Promise.all(segmented.map((r) => inline.evaluate(r)));
      expect(onWorkers.map(content)).toEqual(here.map(content));
      const tested = onWorkers[0]!.columns.map((c) => c.column);
      expect(tested).not.toContain(field);
      const unsegmented = (await inline.evaluate(requests[0]!)).columns.map((c) => c.column);
      expect(unsegmented).toContain(field);
      expect(tested).toEqual(unsegmented.filter((c) => c !== field));
    });
  });

  it('copies a prepared reference to every worker once with its warm-up windows, before any window, and evaluates as this thread does', async () => {
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    await withPool(6, 2, {}, async (pool, requests) => {
      const { reference, settings, prediction } = requests[0]!;
      pool.prepare({ reference: reference!, settings, prediction });
      type Sent = { type: string; job?: number; referenceId?: string; table?: Table; reference?: unknown };
      const sent = (): Sent[] => posted.mock.calls.map((c) => c[0] as Sent);
      // Per worker: the reference, then its warm-up windows (job 0: nobody waits for their answers).
      const perWorker = ['reference', ...Array<string>(WARM_UP_WINDOWS).fill('evaluate')];
      expect(sent().map((m) => m.type)).toEqual([...perWorker, ...perWorker]);
      const warmUps = sent().filter((m) => m.type === 'evaluate');
      expect(warmUps.every((m) => m.job === 0 && m.referenceId === reference!.snapshot.id)).toBe(true);
      // A warm-up window is the reference's first rows, each column a copy shaped like a window buffer's.
      const rows = reference!.rows;
      const n = Math.min(rows.rowCount, WARM_UP_ROWS);
      expect(n).toBeGreaterThan(0);
      const table = warmUps[0]!.table!;
      expect(table.rowCount).toBe(n);
      expect(table.columns.map((c) => [c.name, c.kind, Object.keys(c)])).toEqual(
        rows.columns.map((c) => [c.name, c.kind, ['kind', 'name', 'values', c.kind === 'number' ? 'integer' : 'dtype']]),
      );
      table.columns.forEach((c, j) => {
        const from = rows.columns[j]!;
        expect(Array.from<unknown>(c.values)).toEqual(Array.from<unknown>(from.values.slice(0, n)));
        if (c.kind === 'number') expect(c.values.buffer).not.toBe((from.values as Float64Array).buffer);
      });
      // Prepared again: nothing to send. Another reference: copied, but the warm-up is done.
      pool.prepare({ reference: reference!, settings, prediction });
      expect(sent().length).toBe(2 * perWorker.length);
      const other = { ...reference!, snapshot: { ...reference!.snapshot, id: 'ref-other' } };
      pool.prepare({ reference: other, settings, prediction });
      expect(sent().slice(2 * perWorker.length).map((m) => m.type)).toEqual(['reference', 'reference']);
      const inline = new InlineEvaluator();
      const [onWorkers, here] = await Promise.all([Promise.all(requests.map((r) => pool.evaluate(r))), Promise.all(requests.map((r) => inline.evaluate(r)))]);
      expect(onWorkers.map(content)).toEqual(here.map(content));
      expect(onWorkers.every((e, i) => e.due === requests[i]!.due)).toBe(true);
      // The windows went without their reference: it was there already.
      expect(sent().filter((m) => m.type === 'reference').length).toBe(4);
      expect(sent().filter((m) => m.type === 'evaluate' && m.job !== 0).length).toBe(6);
    }).finally(() => posted.mockRestore());
  });

  it('warms up on fewer rows of a wide reference, so that its warm-up windows hold no more values than a narrow one', async () => {
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    await withPool(1, 1, {}, async (pool, requests) => {
      const { reference, settings, prediction } = requests[0]!;
      const rows = reference!.rows;
      // 250 columns: the reference's own and copies of them under other names (the window ignores the extra ones).
      const columns = Array.from({ length: 250 }, (_, j) => ({ ...rows.columns[j % rows.columns.length]!, name: j < rows.columns.length ? rows.columns[j]!.name : `extra_${j}` }));
      const wide = { ...reference!, snapshot: { ...reference!.snapshot, id: 'ref-wide' }, rows: { ...rows, rowCount: 50_000, columns: columns.map((c) => (c.kind === 'number' ? { ...c, values: new Float64Array(50_000).fill(1) } : { ...c, values: Array<string | null>(50_000).fill('a') })) } };
      pool.prepare({ reference: wide, settings, prediction });
      const warmUps = posted.mock.calls.map((c) => c[0] as { type: string; table?: Table }).filter((m) => m.type === 'evaluate');
      expect(warmUps).toHaveLength(WARM_UP_WINDOWS);
      expect(warmUps[0]!.table!.rowCount).toBe(WARM_UP_CELLS / 250);
      expect(warmUps[0]!.table!.columns).toHaveLength(250);
      // The worker still answers real windows after its warm-up.
      expect((await pool.evaluate(requests[0]!)).columns.length).toBeGreaterThan(0);
    }).finally(() => posted.mockRestore());
  });

  it('prepares an uncopyable reference without throwing; its window then fails with the reason', async () => {
    await withPool(1, 1, {}, async (pool, requests) => {
      const good = requests[0]!;
      const reference = unsendable(good.reference!);
      expect(() => pool.prepare({ reference, settings: good.settings, prediction: undefined })).not.toThrow();
      await expect(pool.evaluate({ ...good, reference })).rejects.toThrow(/could not be cloned/);
      expect((await pool.evaluate(good)).columns.length).toBeGreaterThan(0);
    });
  });

  it('fails one window whose reference cannot be sent, and goes on with the others', async () => {
    await withPool(2, 1, {}, async (pool, requests) => {
      const good = requests[0]!;
      await expect(pool.evaluate({ ...good, reference: unsendable(good.reference!) })).rejects.toThrow(/could not be cloned/);
      const after = await pool.evaluate(requests[1]!);
      expect(after.columns.length).toBeGreaterThan(0);
    });
  });

  it('fails the pool with the window named when a worker does not answer within the time limit', async () => {
    // 1 ms: the first window (a reference to copy in, code to compile) always takes longer on the worker.
    await withPool(3, 1, { timeoutMs: 1 }, async (pool, requests) => {
      const outcomes = await Promise.allSettled(requests.map((r) => pool.evaluate(r)));
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      const reason = (outcomes[0] as PromiseRejectedResult).reason as Error;
      expect(reason.message).toMatch(/^evaluating window press-qa \S+ \(100 rows\): its worker answered nothing for 1 ms \(pipeline\.evaluation_timeout\) and was stopped$/);
      await expect(pool.evaluate(requests[0]!)).rejects.toThrow(/answered nothing/);
    });
  });

  it('takes a time limit longer than a Node timer keeps as the longest one (not as one that fires at once)', async () => {
    await withPool(2, 1, { timeoutMs: 30 * 86_400_000 }, async (pool, requests) => {
      const results = await Promise.all(requests.map((r) => pool.evaluate(r)));
      expect(results.every((e) => e.columns.length > 0)).toBe(true);
    });
  });

  it('rejects what is in flight or waiting when closed, and everything after', async () => {
    const { requests, stop } = await demoRequests(6);
    const pool = new WorkerEvaluator(1);
    const settled = Promise.allSettled(requests.map((r) => pool.evaluate(r)));
    await pool.close();
    const outcomes = await settled;
    // Closed before any answer could arrive: two were in flight, four waiting.
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('rejected'));
    await expect(pool.evaluate(requests[0]!)).rejects.toThrow(/closed/);
    await stop();
  });
});
