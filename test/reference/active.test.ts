import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store.js';
import { ActiveReferences } from '../../src/reference/active.js';
import { createReference, promoteReference, ReferenceError, rollbackReference, type LoadedReference } from '../../src/reference/lifecycle.js';
import type { ClickHouseStore } from '../../src/store/index.js';
import { categories, engineHarness, numbers, range, table, waitFor, withListingHook } from './helpers.js';

const engine = engineHarness('active');
const by = 'test';

type SwitchCall = [model: string, from: string | null, to: string | null, loaded: LoadedReference | undefined];
type ErrorCall = [error: Error, where: { model: string | null; id: string | null }];

/** press: A active, B a candidate with other rows; oven: O active. */
async function seed(store: Store) {
  const mk = (model: string, start: number) =>
    createReference(store, table([numbers('x', range(start, 50)), categories('line', range(0, 50).map((i) => `L${i % 3}`))]), {
      model,
      source: { kind: 'file', path: `${model}-${start}.csv`, format: 'csv' },
      by,
    });
  const a = (await mk('press', 0)).snapshot;
  const b = (await mk('press', 1000)).snapshot;
  const o = (await mk('oven', 500)).snapshot;
  await promoteReference(store, a.id, { by });
  await promoteReference(store, o.id, { by });
  return { a: a.id, b: b.id, o: o.id };
}

function recorder() {
  const switches: SwitchCall[] = [];
  const errors: ErrorCall[] = [];
  return {
    switches,
    errors,
    onSwitch: (model: string, from: string | null, to: string | null, loaded: LoadedReference | undefined) => {
      switches.push([model, from, to, loaded]);
    },
    onError: (error: Error, where: { model: string | null; id: string | null }) => {
      errors.push([error, where]);
    },
  };
}

function xs(ref: LoadedReference | undefined): number[] {
  const c = ref?.rows.columns.find((col) => col.name === 'x');
  if (!c || c.kind !== 'number') throw new Error('no numeric column x');
  return Array.from(c.values);
}

async function breakReference(store: ClickHouseStore, id: string, part: 'profile' | 'rows'): Promise<void> {
  const tableName = part === 'profile' ? 'reference_profiles' : 'reference_values';
  await store.client.command({
    query: `DELETE FROM \`${store.database}\`.${tableName} WHERE snapshot_id = {id:String}`,
    query_params: { id },
  });
}

describe('ActiveReferences', () => {
  it('open() loads every model\u2019s active reference completely (rows as typed arrays, profile)', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const rec = recorder();
    const refs = await ActiveReferences.open(store, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });

    expect(refs.models().sort()).toEqual(['oven', 'press']);
    const press = refs.get('press')!;
    expect(press.snapshot.id).toBe(ids.a);
    expect(press.snapshot.status).toBe('active');
    const x = press.rows.columns.find((c) => c.name === 'x')!;
    expect(x.values).toBeInstanceOf(Float64Array);
    expect(xs(press)).toEqual(range(0, 50));
    expect(press.profile.rowCount).toBe(50);
    expect(press.profile.columns.map((c) => [c.name, c.type])).toEqual([
      ['x', 'numerical'],
      ['line', 'categorical'],
    ]);
    expect(refs.get('oven')?.snapshot.id).toBe(ids.o);
    expect(refs.get('unknown')).toBeUndefined();
    expect(refs.ids()).toEqual(new Map([['press', ids.a], ['oven', ids.o]]));
    // The initial loads are switches from nothing, so metrics can start from them.
    expect(rec.switches.map(([m, f, t, l]) => [m, f, t, l?.snapshot.id]).sort()).toEqual([
      ['oven', null, ids.o, ids.o],
      ['press', null, ids.a, ids.a],
    ]);
    expect(rec.errors).toEqual([]);
    expect(refs.started).toBe(false);
  });

  it('refuses a poll interval that is not > 0', async () => {
    const store = await engine.open();
    await expect(ActiveReferences.open(store, { pollMs: 0 })).rejects.toBeInstanceOf(ReferenceError);
    await expect(ActiveReferences.open(store, { pollMs: Number.NaN })).rejects.toBeInstanceOf(ReferenceError);
  });

  it('a promotion followed by refresh() switches get() to the new rows; onSwitch fires once', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const rec = recorder();
    const refs = await ActiveReferences.open(store, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });
    rec.switches.length = 0;
    const before = refs.get('press')!;

    await promoteReference(store, ids.b, { by });
    expect(refs.get('press')).toBe(before); // nothing changes until a refresh

    const outcome = await refs.refresh();
    expect(outcome.switched).toEqual([{ model: 'press', from: ids.a, to: ids.b }]);
    expect(outcome.failed).toEqual([]);
    const after = refs.get('press')!;
    expect(after.snapshot.id).toBe(ids.b);
    expect(xs(after)).toEqual(range(1000, 50));
    expect(after.profile.rowCount).toBe(50);
    // The old reference object is untouched: a window evaluated against it while the switch ran stays consistent.
    expect(before.snapshot.id).toBe(ids.a);
    expect(xs(before)).toEqual(range(0, 50));
    expect(refs.get('oven')?.snapshot.id).toBe(ids.o);
    expect(rec.switches.map(([m, f, t, l]) => [m, f, t, l?.snapshot.id])).toEqual([['press', ids.a, ids.b, ids.b]]);

    // Nothing changed since: no switch, no callback.
    const again = await refs.refresh();
    expect(again.switched).toEqual([]);
    expect(rec.switches).toHaveLength(1);
    expect(rec.errors).toEqual([]);
  });

  it('a rollback followed by refresh() switches back', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const rec = recorder();
    const refs = await ActiveReferences.open(store, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });
    await promoteReference(store, ids.b, { by });
    await refs.refresh();
    rec.switches.length = 0;

    await rollbackReference(store, 'press', { by });
    const outcome = await refs.refresh();
    expect(outcome.switched).toEqual([{ model: 'press', from: ids.b, to: ids.a }]);
    expect(refs.get('press')?.snapshot.id).toBe(ids.a);
    expect(xs(refs.get('press'))).toEqual(range(0, 50));
    expect(rec.switches.map(([m, f, t]) => [m, f, t])).toEqual([['press', ids.b, ids.a]]);
    expect(rec.errors).toEqual([]);
  });

  it.each([
    ['its stored profile is gone', 'profile', 'not_found'],
    ['its stored rows are gone', 'rows', 'corrupt'],
  ] as const)('a newly active reference that cannot be loaded (%s) leaves the old one served, reports it, and backs off', async (_what, part, code) => {
    const store = await engine.open();
    const ids = await seed(store);
    const rec = recorder();
    const refs = await ActiveReferences.open(store, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });
    rec.switches.length = 0;
    const served = refs.get('press');

    await promoteReference(store, ids.b, { by });
    await breakReference(store, ids.b, part);
    const outcome = await refs.refresh();

    expect(refs.get('press')).toBe(served);
    expect(outcome.switched).toEqual([]);
    expect(outcome.failed).toHaveLength(1);
    expect(outcome.failed[0]).toMatchObject({ model: 'press', id: ids.b });
    expect(rec.errors).toHaveLength(1);
    const [error, where] = rec.errors[0]!;
    expect(where).toEqual({ model: 'press', id: ids.b });
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(code);
    expect(error.message).toContain(ids.b);
    expect(rec.switches).toEqual([]);

    // Backoff: the next refresh does not re-read it (it is deferred), a forced one does.
    const deferred = await refs.refresh();
    expect(deferred.deferred).toEqual([{ model: 'press', id: ids.b, retryAt: expect.any(Number) }]);
    expect(rec.errors).toHaveLength(1);
    const forced = await refs.refresh({ force: true });
    expect(forced.failed).toHaveLength(1);
    expect(rec.errors).toHaveLength(2);
    expect(refs.get('press')).toBe(served);

    // Once the store points back at the served reference, there is nothing left to retry.
    await rollbackReference(store, 'press', { by });
    const settled = await refs.refresh();
    expect(settled).toEqual({ switched: [], failed: [], deferred: [] });
    expect(refs.get('press')).toBe(served);
    expect(rec.switches).toEqual([]);
  });

  it('a reference deleted between the listing and the load leaves the old one served and reports it', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    let armed = false;
    // Right after a refresh lists B as active, an operator rolls back to A and deletes B.
    const hooked = withListingHook(store, async () => {
      if (!armed) return;
      armed = false;
      await rollbackReference(store, 'press', { by });
      await store.deleteReference(ids.b);
    });
    const rec = recorder();
    const refs = await ActiveReferences.open(hooked, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });
    rec.switches.length = 0;
    const served = refs.get('press');

    await promoteReference(store, ids.b, { by });
    armed = true;
    const outcome = await refs.refresh();

    expect(outcome.failed.map((f) => [f.model, f.id, (f.error as StoreError).code])).toEqual([['press', ids.b, 'not_found']]);
    expect(refs.get('press')).toBe(served);
    expect(rec.errors.map(([e, w]) => [(e as StoreError).code, w])).toEqual([['not_found', { model: 'press', id: ids.b }]]);
    expect(rec.switches).toEqual([]);
    expect(await store.getReference(ids.b)).toBeNull();

    // The next refresh sees A active, which is what is served: nothing to do.
    expect(await refs.refresh()).toEqual({ switched: [], failed: [], deferred: [] });
    expect(refs.get('press')?.snapshot.id).toBe(ids.a);
    expect(rec.errors).toHaveLength(1);
  });

  it('a model whose active reference disappears is removed', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const rec = recorder();
    const refs = await ActiveReferences.open(store, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });
    rec.switches.length = 0;
    const oven = (await store.getReference(ids.o))!;
    // Retire the oven's only active snapshot directly (what no lifecycle command does, but the store allows).
    await store.applySnapshotChanges([{ ...oven, status: 'retired', changedBy: by, reason: 'model retired', changedAt: Date.now() }]);

    const outcome = await refs.refresh();
    expect(outcome.switched).toEqual([{ model: 'oven', from: ids.o, to: null }]);
    expect(refs.get('oven')).toBeUndefined();
    expect(refs.models()).toEqual(['press']);
    expect(rec.switches).toEqual([['oven', ids.o, null, undefined]]);
  });

  it('concurrent refresh() calls never overlap, and all of them see the promotion', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const hooked = withListingHook(store);
    const rec = recorder();
    const refs = await ActiveReferences.open(hooked, { pollMs: 60_000, onSwitch: rec.onSwitch, onError: rec.onError });
    rec.switches.length = 0;

    await promoteReference(store, ids.b, { by });
    const outcomes = await Promise.all([refs.refresh(), refs.refresh(), refs.refresh(), refs.refresh()]);
    expect(hooked.maxConcurrent).toBe(1);
    // open() listed once; the first call runs, the other three wait for it and share one more run.
    expect(hooked.listings).toBe(1 + 2);
    expect(outcomes.flatMap((o) => o.switched)).toEqual([{ model: 'press', from: ids.a, to: ids.b }]);
    expect(refs.get('press')?.snapshot.id).toBe(ids.b);
    expect(rec.switches).toHaveLength(1);
  });

  it('start() polls and picks up a promotion within a bounded number of polls; stop() ends polling', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const hooked = withListingHook(store);
    const pollMs = 20;
    let listingAtSwitch = -1;
    const errors: Error[] = [];
    const refs = await ActiveReferences.open(hooked, {
      pollMs,
      onSwitch: (_model, _from, to) => {
        if (to === ids.b) listingAtSwitch = hooked.listings;
      },
      onError: (e) => errors.push(e),
    });
    refs.start();
    refs.start(); // idempotent
    expect(refs.started).toBe(true);
    expect(await waitFor(() => hooked.listings >= 3, 500, pollMs)).toBeGreaterThanOrEqual(0);

    await promoteReference(store, ids.b, { by });
    const listingsAfterPromote = hooked.listings;
    expect(await waitFor(() => refs.get('press')?.snapshot.id === ids.b, 500, pollMs)).toBeGreaterThanOrEqual(0);
    // Every listing that started after the promotion sees it: the first of them (or an earlier one) switched.
    expect(listingAtSwitch).toBeGreaterThan(0);
    expect(listingAtSwitch).toBeLessThanOrEqual(listingsAfterPromote + 1);
    expect(xs(refs.get('press'))).toEqual(range(1000, 50));

    await refs.stop();
    expect(refs.started).toBe(false);
    const stoppedAt = hooked.listings;
    await new Promise((r) => setTimeout(r, 10 * pollMs));
    expect(hooked.listings).toBe(stoppedAt);
    expect(hooked.maxConcurrent).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a throwing onSwitch is reported to onError and polling goes on', async () => {
    const store = await engine.open();
    const ids = await seed(store);
    const hooked = withListingHook(store);
    const errors: ErrorCall[] = [];
    let opened = false;
    const refs = await ActiveReferences.open(hooked, {
      pollMs: 20,
      onSwitch: () => {
        if (opened) throw new Error('metrics exploded');
      },
      onError: (error, where) => errors.push([error, where]),
    });
    opened = true;
    refs.start();
    await promoteReference(store, ids.b, { by });
    expect(await waitFor(() => errors.length > 0, 500, 20)).toBeGreaterThanOrEqual(0);
    expect(errors[0]![0].message).toBe('metrics exploded');
    expect(errors[0]![1]).toEqual({ model: 'press', id: ids.b });
    // The swap happened before the callback; polling still runs.
    expect(refs.get('press')?.snapshot.id).toBe(ids.b);
    const listings = hooked.listings;
    expect(await waitFor(() => hooked.listings > listings + 1, 500, 20)).toBeGreaterThanOrEqual(0);
    await refs.stop();
  });
});
