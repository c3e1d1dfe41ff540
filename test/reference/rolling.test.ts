import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store.js';
import { createReference, loadReference, promoteReference, ReferenceError, rollbackReference } from '../../src/reference/lifecycle.js';
import {
  rollReference,
  scheduleRolling,
  validateRollingSpecs,
  type RollDone,
  type RollResult,
  type RollingSpec,
} from '../../src/reference/rolling.js';
import { categories, engineHarness, HOUR, MINUTE, numbers, range, table, waitFor, windowWith } from './helpers.js';

const engine = engineHarness('rolling');
const by = 'test';

/** The run time: the last full hour (recent, so no stored window is past its retention). */
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const TRAILING = 2 * HOUR;

function spec(over: Partial<RollingSpec> = {}): RollingSpec {
  return { model: 'press', schedule: '0 * * * *', trailingMs: TRAILING, excludeDrifted: false, promote: false, ...over };
}

/** Rows of one window: x from `start` on, an integer code 1..3, a line. */
function rows(start: number, n: number) {
  return table([
    numbers('x', range(start, n)),
    numbers('code', range(0, n).map((i) => 1 + (i % 3))),
    categories('line', range(0, n).map((i) => `L${i % 2}`)),
  ]);
}

/**
 * Windows of `press` (start: rows):
 * - NOW - 5h: 900.. (before the range)
 * - NOW - 2h: 50.. (on the range's first instant: in)
 * - NOW - 90m: 100..; NOW - 60m: 200.. (drifted); NOW - 30m: 300..
 * - NOW: 800.. (the range's end is exclusive: out)
 * and one window of another model inside the range.
 */
async function seedWindows(store: Store): Promise<void> {
  await store.putWindow(windowWith('press', NOW - 5 * HOUR, rows(900, 10)));
  await store.putWindow(windowWith('press', NOW - 2 * HOUR, rows(50, 10)));
  await store.putWindow(windowWith('press', NOW - 90 * MINUTE, rows(100, 20)));
  await store.putWindow(windowWith('press', NOW - 60 * MINUTE, rows(200, 20), true));
  await store.putWindow(windowWith('press', NOW - 30 * MINUTE, rows(300, 20)));
  await store.putWindow(windowWith('press', NOW, rows(800, 10)));
  await store.putWindow(windowWith('oven', NOW - 30 * MINUTE, rows(700, 10)));
}

/** A file-based reference of press, active: `code` is an integer column (so categorical). */
async function seedFileReference(store: Store): Promise<string> {
  const file = table([
    numbers('x', range(0, 40)),
    numbers('code', range(0, 40).map((i) => 1 + (i % 3)), true),
    categories('line', range(0, 40).map((i) => `L${i % 2}`)),
  ]);
  const { snapshot } = await createReference(store, file, { model: 'press', source: { kind: 'file', path: 'press.csv', format: 'csv' }, by });
  await promoteReference(store, snapshot.id, { by });
  return snapshot.id;
}

function done(result: RollResult): RollDone {
  if (result.status === 'skipped') throw new Error(`expected a reference, got skipped: ${result.reason}`);
  return result;
}

async function storedX(store: Store, id: string): Promise<number[]> {
  const loaded = await loadReference(store, id);
  const x = loaded.rows.columns.find((c) => c.name === 'x');
  if (!x || x.kind !== 'number') throw new Error('no x');
  return Array.from(x.values);
}

describe('rollReference', () => {
  it('builds the reference from the windows that start in [now - trailingMs, now) only, oldest first', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const result = done(await rollReference(store, spec(), NOW));

    expect(result.status).toBe('created');
    expect(result.range).toEqual({ from: NOW - TRAILING, to: NOW });
    expect(result.windows).toBe(4);
    expect(result.sourceRows).toBe(70);
    expect(result.promotion).toBe('not_requested');
    const s = result.snapshot;
    expect(s.model).toBe('press');
    expect(s.status).toBe('candidate');
    expect(s.source).toEqual({ kind: 'windows', from: NOW - TRAILING, to: NOW, excludeDrifted: false, windows: 4 });
    expect(s.rowCount).toBe(70);
    expect(s.changedBy).toBe('rolling'); // the default author
    expect(await storedX(store, s.id)).toEqual([...range(50, 10), ...range(100, 20), ...range(200, 20), ...range(300, 20)]);
    // Nothing else was created or promoted.
    expect((await store.listReferences()).map((r) => r.id)).toEqual([s.id]);
    expect(await store.activeReference('press')).toBeNull();
  });

  it('leaves out drifted windows when asked', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const all = done(await rollReference(store, spec(), NOW));
    const clean = done(await rollReference(store, spec({ excludeDrifted: true }), NOW));

    expect(clean.windows).toBe(3);
    expect(clean.snapshot.source).toEqual({ kind: 'windows', from: NOW - TRAILING, to: NOW, excludeDrifted: true, windows: 3 });
    expect(await storedX(store, clean.snapshot.id)).toEqual([...range(50, 10), ...range(100, 20), ...range(300, 20)]);
    expect(clean.snapshot.id).not.toBe(all.snapshot.id);
  });

  it('is a no-op on the same data: same id, nothing stored, nothing promoted again', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const fileId = await seedFileReference(store);
    const first = done(await rollReference(store, spec({ promote: true }), NOW));
    const second = done(await rollReference(store, spec({ promote: true }), NOW));

    expect(first.status).toBe('created');
    expect(first.promotion).toBe('promoted');
    expect(second.status).toBe('existing');
    expect(second.promotion).toBe('already_active');
    expect(second.snapshot.id).toBe(first.snapshot.id);
    expect((await store.listReferences({ model: 'press' })).map((r) => r.id).sort()).toEqual([fileId, first.snapshot.id].sort());
    expect((await store.activationHistory('press')).map((e) => e.snapshotId)).toEqual([fileId, first.snapshot.id]);

    // Without promotion as well.
    const a = done(await rollReference(store, spec({ excludeDrifted: true }), NOW));
    const b = done(await rollReference(store, spec({ excludeDrifted: true }), NOW));
    expect([a.status, b.status]).toEqual(['created', 'existing']);
    expect(b.snapshot.id).toBe(a.snapshot.id);
  });

  it('promotes when asked, keeping the column layout of the reference it replaces', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const fileId = await seedFileReference(store);
    const result = done(await rollReference(store, spec({ promote: true, modelVersion: '2.0.0', maxRows: 25, seed: 7 }), NOW, 'scheduler'));

    expect(result.promotion).toBe('promoted');
    expect(result.previousActive).toBe(fileId);
    const active = await store.activeReference('press');
    expect(active?.id).toBe(result.snapshot.id);
    expect(active?.previousActive).toBe(fileId);
    expect(active?.modelVersion).toBe('2.0.0');
    expect(active?.changedBy).toBe('scheduler');
    expect(active?.rowCount).toBe(25);
    expect(active?.sourceRowCount).toBe(70);
    expect(active?.sampling).toEqual({ seed: 7, maxRows: 25 });
    expect((await store.getReference(fileId))?.status).toBe('retired');
    // Stored window rows do not keep the integer flag; the replaced reference supplies it and the column's type.
    expect(active?.columns).toEqual([
      { name: 'x', kind: 'number', type: 'numerical', integer: false },
      { name: 'code', kind: 'number', type: 'categorical', integer: true },
      { name: 'line', kind: 'category', type: 'categorical', dtype: 'string' },
    ]);
    const loaded = await loadReference(store, result.snapshot.id);
    expect(loaded.profile.columns.map((c) => [c.name, c.type])).toEqual([
      ['x', 'numerical'],
      ['code', 'categorical'],
      ['line', 'categorical'],
    ]);
  });

  it('does not re-promote a rolled reference an operator rolled back from', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const fileId = await seedFileReference(store);
    const rolled = done(await rollReference(store, spec({ promote: true }), NOW));
    await rollbackReference(store, 'press', { by: 'operator' });

    const again = done(await rollReference(store, spec({ promote: true }), NOW));
    expect(again.snapshot.id).toBe(rolled.snapshot.id);
    expect(again.status).toBe('existing');
    expect(again.promotion).toBe('kept_retired');
    expect((await store.activeReference('press'))?.id).toBe(fileId);
  });

  it('skips with a reason, storing nothing, when the range has no stored rows', async () => {
    const store = await engine.open();
    await seedWindows(store);

    const none = await rollReference(store, spec({ model: 'kiln', promote: true }), NOW);
    expect(none).toMatchObject({ status: 'skipped', model: 'kiln', windows: 0, range: { from: NOW - TRAILING, to: NOW } });
    expect(none.status === 'skipped' && none.reason).toContain('no stored rows in windows of model "kiln"');

    // Every window of the range drifted: nothing left when drifted ones are excluded.
    const drifted = await rollReference(store, spec({ excludeDrifted: true, trailingMs: 10 * MINUTE }), NOW - 55 * MINUTE);
    expect(drifted.status).toBe('skipped');
    expect(drifted.status === 'skipped' && drifted.reason).toContain('did not drift');
    const kept = done(await rollReference(store, spec({ trailingMs: 10 * MINUTE }), NOW - 55 * MINUTE));
    expect(kept.windows).toBe(1);
    await store.deleteReference(kept.snapshot.id);

    // Before the first window.
    const early = await rollReference(store, spec(), NOW - 10 * HOUR);
    expect(early.status).toBe('skipped');
    expect(await store.listReferences()).toEqual([]);
  });

  it('refuses a spec it cannot use', async () => {
    const store = await engine.open();
    await expect(rollReference(store, spec({ trailingMs: 0 }), NOW)).rejects.toBeInstanceOf(ReferenceError);
    await expect(rollReference(store, spec({ model: ' ' }), NOW)).rejects.toThrow(/model/);
    await expect(rollReference(store, spec(), Number.NaN)).rejects.toBeInstanceOf(ReferenceError);
  });
});

describe('validateRollingSpecs', () => {
  it('accepts good specs', () => {
    expect(validateRollingSpecs([spec(), spec({ model: 'oven', schedule: '*/10 * * * * *', maxRows: 1000, seed: 0 })])).toEqual([]);
  });

  it('reports every problem of every spec, with its path', () => {
    const problems = validateRollingSpecs([
      spec(),
      spec({ model: 'oven', schedule: '61 * * * *', trailingMs: 0 }),
      spec({ model: '' }),
      spec({ schedule: 'every hour', trailingMs: -5 }),
      spec({ model: 'kiln', maxRows: 0, seed: -1, trailingMs: Number.POSITIVE_INFINITY }),
      { ...spec({ model: 'oven' }), promote: 'yes' } as unknown as RollingSpec,
    ]);
    expect(problems.map((p) => p.path)).toEqual([
      '[1].schedule',
      '[1].trailingMs',
      '[2].model',
      '[3].schedule',
      '[3].trailingMs',
      '[3].model',
      '[4].trailingMs',
      '[4].maxRows',
      '[4].seed',
      '[5].promote',
      '[5].model',
    ]);
    const byPath = new Map(problems.map((p) => [p.path, p]));
    expect(byPath.get('[1].schedule')?.message).toContain('"61 * * * *" is not a valid cron expression');
    expect(byPath.get('[1].schedule')?.index).toBe(1);
    expect(byPath.get('[3].model')?.message).toBe('model "press" already has a rolling reference at [0]');
    expect(byPath.get('[5].model')?.message).toBe('model "oven" already has a rolling reference at [1]');
  });
});

describe('scheduleRolling', () => {
  const tasksNamed = () => [...cron.getTasks().values()].filter((t) => t.name?.startsWith('driftwatch-rolling-'));

  it('runs every second on a * * * * * * schedule, and stop() stops it', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const results: RollResult[] = [];
    const errors: Error[] = [];
    const handle = scheduleRolling(store, [spec({ schedule: '* * * * * *', promote: true })], {
      now: () => NOW,
      onResult: (r) => results.push(r),
      onError: (e) => errors.push(e),
    });
    expect(tasksNamed()).toHaveLength(1);

    expect(await waitFor(() => results.length >= 2, 200, 50)).toBeGreaterThanOrEqual(0);
    await handle.stop();
    expect(tasksNamed()).toHaveLength(0);
    expect(errors).toEqual([]);
    const first = done(results[0]!);
    expect(first.promotion).toBe('promoted');
    expect((await store.activeReference('press'))?.id).toBe(first.snapshot.id);
    // Later runs see the same data: the same snapshot, already active.
    for (const r of results.slice(1)) expect(done(r)).toMatchObject({ status: 'existing', promotion: 'already_active', snapshot: { id: first.snapshot.id } });

    // Stopped: no run in the next second and a half (more than one tick).
    const count = results.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(results.length).toBe(count);
    expect(errors).toEqual([]);
  });

  it('sends failures of a run (store errors, a throwing onResult) to onError; the cron callback never throws', async () => {
    const store = await engine.open();
    await seedWindows(store);
    const errors: Array<[Error, string]> = [];
    let results = 0;
    const handle = scheduleRolling(
      store,
      [spec({ model: 'press', schedule: '* * * * * *' }), spec({ model: 'oven', schedule: '* * * * * *' })],
      {
        now: () => NOW,
        onResult: () => {
          results++;
          throw new Error('result handler broke');
        },
        onError: (e, s) => errors.push([e, s.model]),
      },
    );
    expect(await waitFor(() => errors.length >= 2, 200, 50)).toBeGreaterThanOrEqual(0);
    expect(errors.slice(0, 2).map(([e]) => e.message)).toEqual(['result handler broke', 'result handler broke']);
    expect(new Set(errors.slice(0, 2).map(([, m]) => m))).toEqual(new Set(['press', 'oven']));

    // The store goes away: runs fail with a StoreError, reported, and the schedule keeps running.
    await store.client.command({ query: `DROP DATABASE IF EXISTS \`${store.database}\`` });
    const seen = errors.length;
    expect(await waitFor(() => errors.slice(seen).some(([e]) => e instanceof StoreError), 200, 50)).toBeGreaterThanOrEqual(0);
    await handle.stop();
    expect(results).toBeGreaterThanOrEqual(2);
    expect(tasksNamed()).toHaveLength(0);
  });

  it('refuses invalid specs, listing every problem, and schedules nothing', () => {
    const before = tasksNamed().length;
    let thrown: unknown;
    try {
      scheduleRolling({} as Store, [spec({ schedule: 'nope' }), spec({ trailingMs: 0 })]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ReferenceError);
    expect((thrown as Error).message).toContain('[0].schedule');
    expect((thrown as Error).message).toContain('[1].trailingMs');
    expect((thrown as Error).message).toContain('[1].model');
    expect(tasksNamed()).toHaveLength(before);
  });
});
