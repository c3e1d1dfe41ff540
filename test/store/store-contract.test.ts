/**
 * The Store contract: what every part of driftwatch may rely on, checked against the real engine.
 *
 * In CI this runs on the embedded engine (a temp data dir); with CLICKHOUSE_URL (and CLICKHOUSE_USER,
 * CLICKHOUSE_PASSWORD) set, the same suite runs against that ClickHouse server. Each test works in its own database
 * (`dw_test_<random>`), dropped afterwards. The fault tests use the server code path on purpose in every
 * environment, against local sockets that refuse or never answer.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { Column, Table } from '../../src/core/table.js';
import { CHUNK_ROWS, dateTime64 } from '../../src/store/clickhouse/rows.js';
import {
  DEFAULT_RETENTION_DAYS,
  MIGRATIONS,
  openStore,
  RETAINED_TABLES,
  SCHEMA_VERSION,
  tableTtls,
  ttlExpression,
  withRetry,
  ClickHouseStore,
  type StoreConfig,
} from '../../src/store/index.js';
import {
  BASE,
  DAY,
  deadLetter,
  HOSTILE,
  HOSTILE_CATEGORIES,
  HOUR,
  MINUTE,
  categories,
  numbers,
  outboxEntry,
  snapshot,
  SPECIAL_DOUBLES,
  table,
  windowKey,
  windowRecord,
} from './fixtures.js';
import { firstBitDifference, rejection, storeHarness } from './harness.js';

const h = storeHarness();

/** Every table the migrations create, from their DDL. */
const MIGRATED_TABLES = MIGRATIONS.flatMap((m) =>
  m.statements.flatMap((s) => [...s.matchAll(/CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)/g)].map((x) => x[1]!)),
);

async function tablesOf(store: ClickHouseStore): Promise<string[]> {
  const rs = await store.client.query({
    query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
    query_params: { db: store.database },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ name: string }>()).map((r) => r.name);
}

async function recordedMigrations(store: ClickHouseStore): Promise<Array<{ version: number; name: string }>> {
  const rs = await store.client.query({
    query: `SELECT version, name FROM \`${store.database}\`.schema_migrations ORDER BY version`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ version: number | string; name: string }>()).map((r) => ({ version: Number(r.version), name: r.name }));
}

/** Same columns, names, kinds and values; numbers compared bit for bit. */
function expectSameRows(got: Table, want: Table): void {
  expect(got.columns.map((c) => [c.name, c.kind])).toEqual(want.columns.map((c) => [c.name, c.kind]));
  expect(got.rowCount).toBe(want.rowCount);
  want.columns.forEach((w, i) => {
    const g = got.columns[i]!;
    expect(g.values.length, `column ${JSON.stringify(w.name)} length`).toBe(w.values.length);
    if (w.kind === 'number' && g.kind === 'number') {
      const at = firstBitDifference(g.values, w.values);
      expect(at, `column ${JSON.stringify(w.name)}: first differing value at ${at}: ${g.values[at]} vs ${w.values[at]}`).toBe(-1);
    } else {
      expect(g.values, `column ${JSON.stringify(w.name)}`).toEqual(w.values);
    }
  });
}

function column(t: Table, name: string): Column {
  const c = t.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}; have ${t.columns.map((x) => x.name).join(', ')}`);
  return c;
}

/** Order-insensitive comparison of result lists (the port does not promise an order for these). */
function sorted<T>(list: ReadonlyArray<T>): T[] {
  return [...list].sort((a, b) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

// ---- 1. migrations ------------------------------------------------------------------------------------------------

describe('migrations', () => {
  it('brings an empty database to SCHEMA_VERSION, records every migration and creates every table', async () => {
    const store = await h.open(h.config());
    expect(store.migration).toEqual({ from: 0, to: SCHEMA_VERSION, applied: MIGRATIONS.map((m) => m.version) });
    expect(await recordedMigrations(store)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(MIGRATED_TABLES.length).toBeGreaterThanOrEqual(RETAINED_TABLES.length);
    expect(await tablesOf(store)).toEqual([...MIGRATED_TABLES, 'schema_migrations'].sort());
    expect(await store.ping()).toBe(true);
  });

  it('re-opening a migrated database applies nothing and records nothing twice', async () => {
    const config = h.config();
    await (await h.open(config)).close();
    const again = await h.open(config);
    expect(again.migration).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
    expect(await recordedMigrations(again)).toHaveLength(MIGRATIONS.length);
  });

  it('upgrades a database left at an older schema and keeps what it holds', async () => {
    const config = h.config();
    const old = await h.open(config, { migrateTo: 1 });
    expect(old.migration).toEqual({ from: 0, to: 1, applied: [1] });
    const tablesAtV1 = await tablesOf(old);
    expect(tablesAtV1).toContain('reference_snapshots');
    expect(tablesAtV1).not.toContain('windows');
    const snap = snapshot('ref-before-upgrade');
    const rows = table([numbers('temp_c', [21.5, Number.NaN, -0]), categories('line', ['A', null, 'B'])]);
    await old.putReference(snap, rows, '{"profile":1}');
    await old.close();

    const upgraded = await h.open(config);
    expect(upgraded.migration).toEqual({
      from: 1,
      to: SCHEMA_VERSION,
      applied: MIGRATIONS.filter((m) => m.version > 1).map((m) => m.version),
    });
    expect(await recordedMigrations(upgraded)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await tablesOf(upgraded)).toEqual([...MIGRATED_TABLES, 'schema_migrations'].sort());
    expect(await upgraded.getReference(snap.id)).toEqual(snap);
    expectSameRows(await upgraded.loadReferenceRows(snap.id), rows);
    expect(await upgraded.loadReferenceProfile(snap.id)).toBe('{"profile":1}');
  });

  it('refuses a database whose schema is newer than this build (schema_too_new, naming both versions)', async () => {
    const config = h.config();
    const store = await h.open(config);
    const newer = SCHEMA_VERSION + 7;
    await store.client.insert({
      table: `\`${store.database}\`.schema_migrations`,
      values: [{ version: newer, name: 'from the future', applied_at: dateTime64(Date.now()) }],
      format: 'JSONEachRow',
    });
    await store.close();
    const e = await rejection(openStore(config));
    expect(e).toBeInstanceOf(StoreError);
    const err = e as StoreError;
    expect(err.code).toBe('schema_too_new');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(new RegExp(`\\b${newer}\\b`));
    expect(err.message).toMatch(new RegExp(`\\b${SCHEMA_VERSION}\\b`));
  });
});

// ---- 2. retention -------------------------------------------------------------------------------------------------

describe('retention (TTL)', () => {
  it('gives every retained table the configured TTL', async () => {
    const config = h.config();
    const store = await h.open(config);
    const ttls = await tableTtls(store.client, store.database, config.retry);
    for (const t of RETAINED_TABLES) {
      expect(ttls.has(t), t).toBe(true);
      expect(ttls.get(t), t).toBe(ttlExpression(t, config.retentionDays[t]));
    }
    // Reference tables never expire.
    for (const t of ['reference_snapshots', 'reference_values', 'reference_profiles', 'reference_activations']) {
      expect(ttls.get(t), t).toBeNull();
    }
  });

  it('applies a changed retention on reopen; 0 days removes the TTL', async () => {
    const config = h.config();
    await (await h.open(config)).close();
    const samplesDays = config.retentionDays.window_samples === 7 ? 8 : 7;
    const custom: StoreConfig = {
      ...config,
      retentionDays: { ...config.retentionDays, window_samples: samplesDays, dead_letters: 0 },
    };
    const store = await h.open(custom);
    const ttls = await tableTtls(store.client, store.database, config.retry);
    expect(ttls.get('window_samples')).toBe(ttlExpression('window_samples', samplesDays));
    expect(ttls.get('window_samples')).not.toBe(ttlExpression('window_samples', config.retentionDays.window_samples));
    expect(ttls.get('dead_letters')).toBeNull();
    for (const t of RETAINED_TABLES.filter((x) => x !== 'window_samples' && x !== 'dead_letters')) {
      expect(ttls.get(t), t).toBe(ttlExpression(t, config.retentionDays[t]));
    }
    // And back: a TTL removed earlier is set again.
    await store.close();
    const restored = await h.open(config);
    const after = await tableTtls(restored.client, restored.database, config.retry);
    expect(after.get('dead_letters')).toBe(ttlExpression('dead_letters', config.retentionDays.dead_letters));
  });
});

// ---- 3-6. reference snapshots -------------------------------------------------------------------------------------

describe('reference snapshots', () => {
  it('round-trips catalogue, rows and profile exactly: special doubles and hostile categories', async () => {
    const store = await h.open(h.config());
    // A NaN with a payload, and one with the sign bit: "bit-exact" means these too.
    const payloadNaN = new Float64Array(2);
    const view = new DataView(payloadNaN.buffer);
    view.setBigUint64(0, 0x7ff8_0000_dead_beefn, true);
    view.setBigUint64(8, 0xfff8_0000_0000_0001n, true);
    // The specials, the payload NaNs, then the specials again (so every hostile category fits in the table).
    const values = new Float64Array(2 * SPECIAL_DOUBLES.length + 2);
    values.set(SPECIAL_DOUBLES);
    values.set(payloadNaN, SPECIAL_DOUBLES.length);
    values.set(SPECIAL_DOUBLES, SPECIAL_DOUBLES.length + 2);
    const n = values.length;
    expect(n).toBeGreaterThanOrEqual(HOSTILE_CATEGORIES.length);
    const cats = Array.from({ length: n }, (_, i) => HOSTILE_CATEGORIES[i % HOSTILE_CATEGORIES.length]!);
    const rows = table([
      { kind: 'number', name: 'x', values, integer: false },
      categories('c', cats),
      numbers('ints', Array.from({ length: n }, (_, i) => i - 5), true),
      categories('all_null', Array.from({ length: n }, () => null)),
    ]);
    const snap = snapshot('ref-exact', {
      rowCount: n,
      sourceRowCount: 1_000_000_007,
      source: { kind: 'windows', from: BASE - DAY, to: BASE, excludeDrifted: true, windows: 24 },
      columns: [
        { name: 'x', kind: 'number', type: 'numerical', integer: false },
        { name: 'c', kind: 'category', type: 'categorical', dtype: 'string' },
        { name: 'ints', kind: 'number', type: 'categorical', integer: true },
        { name: 'all_null', kind: 'category', type: 'categorical', dtype: 'boolean' },
      ],
    });
    const profile = JSON.stringify({ version: 1, hostile: HOSTILE, big: 'p'.repeat(200_000) });
    await store.putReference(snap, rows, profile);

    expect(await store.getReference(snap.id)).toEqual(snap);
    expect(await store.listReferences()).toEqual([snap]);
    const back = await store.loadReferenceRows(snap.id);
    expectSameRows(back, rows);
    // The special values by name, for a readable failure.
    const x = column(back, 'x').values as Float64Array;
    expect(Object.is(x[3], -0)).toBe(true);
    expect(x[5]).toBe(5e-324);
    expect(x[8]).toBe(1.7976931348623157e308);
    expect(x[10]).toBe(0.30000000000000004);
    expect(column(back, 'c').values.slice(0, HOSTILE_CATEGORIES.length)).toEqual(HOSTILE_CATEGORIES);
    expect(await store.loadReferenceProfile(snap.id)).toBe(profile);
  });

  it('keeps row order across several chunks', async () => {
    const store = await h.open(h.config());
    const n = 2 * CHUNK_ROWS + 1_234;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = i % 1000 === 0 ? Number.NaN : i * 0.5 - (i % 7) * 1e-9;
    const cats = Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : `v${i}`));
    const rows = table([numbers('x', xs), categories('cat', cats), numbers('desc', Array.from({ length: n }, (_, i) => n - i))]);
    const snap = snapshot('ref-chunked', { rowCount: n });
    await store.putReference(snap, rows, '{}');
    const back = await store.loadReferenceRows(snap.id);
    expectSameRows(back, rows);
    // Chunk boundaries in particular.
    const cat = column(back, 'cat').values;
    for (const i of [CHUNK_ROWS - 1, CHUNK_ROWS, 2 * CHUNK_ROWS - 1, 2 * CHUNK_ROWS, n - 1]) {
      expect(cat[i]).toBe(cats[i]);
      expect(column(back, 'desc').values[i]).toBe(n - i);
    }
  });

  it('round-trips a snapshot with 0 rows: its columns come back, empty, with their kinds', async () => {
    const store = await h.open(h.config());
    const rows = table([numbers('x', []), categories('c', [])]);
    const snap = snapshot('ref-empty', { rowCount: 0, sourceRowCount: 0 });
    await store.putReference(snap, rows, '');
    expect(await store.getReference(snap.id)).toEqual(snap);
    const back = await store.loadReferenceRows(snap.id);
    expect(back.rowCount).toBe(0);
    expectSameRows(back, rows);
    expect(await store.loadReferenceProfile(snap.id)).toBe('');
  });

  it('stores hostile ids, model names, versions and column names and reads them back exactly', async () => {
    const store = await h.open(h.config());
    const written = HOSTILE.map((text, i) => {
      const snap = snapshot(`ref ${i} ${text}`, {
        model: `model ${text}`,
        modelVersion: `v${i} ${text}`,
        changedBy: text,
        reason: text,
        source: { kind: 'file', path: `/tmp/${text}.csv`, format: 'csv' },
        columns: [{ name: text, kind: 'number', type: 'numerical', integer: false }],
        rowCount: 2,
      });
      return { snap, rows: table([numbers(text, [i, -i]), categories(`${text} (category)`, [text, null])]) };
    });
    for (const w of written) await store.putReference(w.snap, w.rows, w.snap.model);
    for (const w of written) {
      expect(await store.getReference(w.snap.id)).toEqual(w.snap);
      expect(await store.listReferences({ model: w.snap.model })).toEqual([w.snap]);
      expectSameRows(await store.loadReferenceRows(w.snap.id), w.rows);
      expect(await store.loadReferenceProfile(w.snap.id)).toBe(w.snap.model);
    }
    expect(sorted((await store.listReferences()).map((s) => s.id))).toEqual(sorted(written.map((w) => w.snap.id)));
    // A filter that only matches by SQL injection matches nothing.
    expect(await store.listReferences({ model: "x' OR '1'='1" })).toEqual([]);
    expect(await store.getReference("' OR 1=1 --")).toBeNull();
  });

  it('listReferences filters by model', async () => {
    const store = await h.open(h.config());
    const a = snapshot('ref-a', { model: 'alpha' });
    const b = snapshot('ref-b', { model: 'beta' });
    const rows = table([numbers('temp_c', [1, 2, 3]), categories('line', ['A', 'B', 'C'])]);
    await store.putReference(a, rows, '{}');
    await store.putReference(b, rows, '{}');
    expect(await store.listReferences({ model: 'alpha' })).toEqual([a]);
    expect(await store.listReferences({ model: 'beta' })).toEqual([b]);
    expect(await store.listReferences({ model: 'gamma' })).toEqual([]);
    expect((await store.listReferences()).map((s) => s.id).sort()).toEqual(['ref-a', 'ref-b']);
  });

  it('putReference twice with the same id leaves one snapshot and one copy of its rows', async () => {
    const store = await h.open(h.config());
    const n = CHUNK_ROWS + 10;
    const rows = table([numbers('x', Array.from({ length: n }, (_, i) => i)), categories('c', Array.from({ length: n }, (_, i) => `c${i % 5}`))]);
    const snap = snapshot('ref-twice', { rowCount: n });
    await store.putReference(snap, rows, '{"p":1}');
    await store.putReference(snap, rows, '{"p":1}');
    expect(await store.listReferences()).toEqual([snap]);
    const back = await store.loadReferenceRows(snap.id);
    expect(back.rowCount).toBe(n);
    expectSameRows(back, rows);
    expect(await store.loadReferenceProfile(snap.id)).toBe('{"p":1}');
  });

  it('a snapshot whose catalogue row was never written (interrupted putReference) is invisible', async () => {
    const store = await h.open(h.config());
    const real = snapshot('ref-real');
    await store.putReference(real, table([numbers('temp_c', [1]), categories('line', ['A'])]), '{}');
    // What a crash after the rows and profile, before the catalogue row, leaves behind.
    await store.client.command({
      query: `INSERT INTO \`${store.database}\`.reference_values (snapshot_id, column_index, column, kind, chunk, hi, lo, categories)
        VALUES ('ref-ghost', 0, 'x', 'number', 0, [1072693248], [0], []), ('ref-ghost', 1, 'c', 'category', 0, [], [], ['a'])`,
    });
    await store.client.command({
      query: `INSERT INTO \`${store.database}\`.reference_profiles (snapshot_id, format_version, profile, created_at)
        VALUES ('ref-ghost', 1, '{}', now64(3))`,
    });
    // The rows are there (so the test can fail if the reader looked at them)...
    expect((await store.loadReferenceRows('ref-ghost')).columns).toHaveLength(2);
    // ...but the snapshot does not exist for any reader.
    expect(await store.getReference('ref-ghost')).toBeNull();
    expect((await store.listReferences()).map((s) => s.id)).toEqual(['ref-real']);
    expect(await store.activeReference('press-line')).toBeNull();
    const e = await rejection(
      store.applySnapshotChanges([
        { id: 'ref-ghost', status: 'active', activatedAt: BASE, previousActive: null, changedBy: 't', reason: 'r', changedAt: BASE },
      ]),
    );
    expect((e as StoreError).code).toBe('not_found');
  });
});

describe('promotion and rollback', () => {
  const rows = table([numbers('temp_c', [20, 21, 22]), categories('line', ['A', 'B', 'A'])]);

  async function withSnapshots(store: ClickHouseStore): Promise<void> {
    await store.putReference(snapshot('ref-old', { status: 'active', activatedAt: BASE + HOUR }), rows, '{}');
    await store.putReference(snapshot('ref-new'), rows, '{}');
  }

  it('applies a promotion (old active -> retired, new -> active) as one change', async () => {
    const store = await h.open(h.config());
    await withSnapshots(store);
    expect((await store.activeReference('press-line'))?.id).toBe('ref-old');
    const at = BASE + 2 * HOUR + 5;
    await store.applySnapshotChanges([
      { id: 'ref-old', status: 'retired', activatedAt: BASE + HOUR, previousActive: null, changedBy: 'alice', reason: 'promote ref-new', changedAt: at },
      { id: 'ref-new', status: 'active', activatedAt: at, previousActive: 'ref-old', changedBy: 'alice', reason: 'promote ref-new', changedAt: at },
    ]);
    const old = await store.getReference('ref-old');
    const fresh = await store.getReference('ref-new');
    expect(old).toMatchObject({ status: 'retired', changedBy: 'alice', changedAt: at });
    expect(fresh).toMatchObject({ status: 'active', activatedAt: at, previousActive: 'ref-old', changedBy: 'alice', reason: 'promote ref-new' });
    // Untouched fields survive a status change.
    expect(fresh).toEqual({ ...snapshot('ref-new'), status: 'active', activatedAt: at, previousActive: 'ref-old', changedBy: 'alice', reason: 'promote ref-new', changedAt: at });
    expect((await store.activeReference('press-line'))?.id).toBe('ref-new');
    expect(await store.activeReferences()).toEqual([{ model: 'press-line', id: 'ref-new' }]);
    expect((await store.listReferences()).map((s) => [s.id, s.status]).sort()).toEqual([
      ['ref-new', 'active'],
      ['ref-old', 'retired'],
    ]);

    // Rollback: the same operation the other way.
    const back = at + MINUTE;
    await store.applySnapshotChanges([
      { id: 'ref-new', status: 'retired', activatedAt: at, previousActive: 'ref-old', changedBy: 'bob', reason: 'rollback', changedAt: back },
      { id: 'ref-old', status: 'active', activatedAt: back, previousActive: 'ref-new', changedBy: 'bob', reason: 'rollback', changedAt: back },
    ]);
    expect((await store.activeReference('press-line'))?.id).toBe('ref-old');
    expect((await store.getReference('ref-new'))?.status).toBe('retired');
  });

  it('activeReference returns the newest activation among active rows, per model', async () => {
    const store = await h.open(h.config());
    await store.putReference(snapshot('ref-1', { status: 'active', activatedAt: BASE + 3 * HOUR }), rows, '{}');
    await store.putReference(snapshot('ref-2', { status: 'active', activatedAt: BASE + 5 * HOUR }), rows, '{}');
    await store.putReference(snapshot('ref-3', { status: 'active', activatedAt: BASE + 4 * HOUR }), rows, '{}');
    await store.putReference(snapshot('ref-4', { status: 'retired', activatedAt: BASE + 9 * HOUR }), rows, '{}');
    await store.putReference(snapshot('ref-other', { model: 'other', status: 'active', activatedAt: BASE }), rows, '{}');
    expect((await store.activeReference('press-line'))?.id).toBe('ref-2');
    expect((await store.activeReference('other'))?.id).toBe('ref-other');
    expect(await store.activeReference('nobody')).toBeNull();
    expect(sorted(await store.activeReferences())).toEqual(sorted([{ model: 'press-line', id: 'ref-2' }, { model: 'other', id: 'ref-other' }]));
  });

  it('a change naming an unknown id fails with not_found and writes nothing', async () => {
    const store = await h.open(h.config());
    await withSnapshots(store);
    const before = await store.listReferences();
    const at = BASE + 2 * HOUR;
    const e = await rejection(
      store.applySnapshotChanges([
        { id: 'ref-old', status: 'retired', activatedAt: BASE + HOUR, previousActive: null, changedBy: 'x', reason: 'r', changedAt: at },
        { id: 'ref-missing', status: 'active', activatedAt: at, previousActive: 'ref-old', changedBy: 'x', reason: 'r', changedAt: at },
      ]),
    );
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('not_found');
    expect((e as StoreError).message).toContain('ref-missing');
    expect(await store.listReferences()).toEqual(before);
    expect((await store.getReference('ref-old'))?.status).toBe('active');
    expect(await store.getReference('ref-missing')).toBeNull();
  });

  it('deleteReference refuses the active snapshot and removes a candidate with its rows', async () => {
    const store = await h.open(h.config());
    await withSnapshots(store);
    const conflict = await rejection(store.deleteReference('ref-old'));
    expect(conflict).toBeInstanceOf(StoreError);
    expect((conflict as StoreError).code).toBe('conflict');
    expect((await store.getReference('ref-old'))?.status).toBe('active');
    expectSameRows(await store.loadReferenceRows('ref-old'), rows);

    await store.deleteReference('ref-new');
    expect(await store.getReference('ref-new')).toBeNull();
    expect((await store.listReferences()).map((s) => s.id)).toEqual(['ref-old']);
    expect((await store.loadReferenceRows('ref-new')).columns).toHaveLength(0);
    expect(((await rejection(store.loadReferenceProfile('ref-new'))) as StoreError).code).toBe('not_found');
    // The other snapshot's rows are untouched.
    expectSameRows(await store.loadReferenceRows('ref-old'), rows);
    // A deleted snapshot cannot be promoted or deleted again.
    const promote = await rejection(
      store.applySnapshotChanges([
        { id: 'ref-new', status: 'active', activatedAt: BASE, previousActive: null, changedBy: 'x', reason: 'r', changedAt: BASE },
      ]),
    );
    expect((promote as StoreError).code).toBe('not_found');
    expect(((await rejection(store.deleteReference('ref-new'))) as StoreError).code).toBe('not_found');
    expect(((await rejection(store.deleteReference('never-was'))) as StoreError).code).toBe('not_found');
  });

  it('records activations and returns a model history in time order, hostile text included', async () => {
    const store = await h.open(h.config());
    const model = HOSTILE[0];
    const events = [
      { model, at: BASE + 2 * HOUR, action: 'rollback' as const, snapshotId: 'ref-1', previousSnapshotId: 'ref-2', by: HOSTILE[3], reason: HOSTILE[4] },
      { model, at: BASE + HOUR, action: 'promote' as const, snapshotId: 'ref-2', previousSnapshotId: null, by: HOSTILE[1], reason: HOSTILE[2] },
    ];
    for (const e of events) await store.recordActivation(e);
    await store.recordActivation(events[0]!); // a retried write
    await store.recordActivation({ ...events[1]!, model: 'other' });
    expect(await store.activationHistory(model)).toEqual([events[1], events[0]]);
    expect(await store.activationHistory('nobody')).toEqual([]);
  });
});

// ---- 4, 5, 7. window history --------------------------------------------------------------------------------------

describe('window history', () => {
  it('round-trips a window: summary, features, outliers and quality, with a hostile model, segment and names', async () => {
    const store = await h.open(h.config());
    const key = windowKey(BASE + 123, {
      model: `model ${HOSTILE[0]}`,
      segment: { "lot'id": HOSTILE[0], 'k\\"\n': HOSTILE[3], '🚀': HOSTILE[5], __proto__x: HOSTILE[6] },
      end: BASE + HOUR + 456,
    });
    const record = windowRecord(key, {
      referenceId: HOSTILE[1],
      features: HOSTILE.map((name, i) => ({
        feature: name,
        method: i % 2 === 0 ? 'ks' : HOSTILE[2],
        status: 'ok' as const,
        score: 0.1 + 0.2 + i,
        statistic: i === 0 ? 5e-324 : -0.5 * i,
        threshold: 0.05,
        drifted: i % 3 === 0,
        reason: name,
        referenceSize: 2 ** 40 + i,
        currentSize: i,
      })),
      outliers: [
        { method: 'mahalanobis', status: 'ok', outliers: 3, scored: 1200, share: 0.0025, reason: '', detail: { top_features: [...HOSTILE] } },
        { method: HOSTILE[0], status: 'insufficient_data', outliers: 0, scored: 0, share: null, reason: HOSTILE[3], detail: null },
      ],
      quality: [
        { check: 'missing_share', column: HOSTILE[4], status: 'failed', value: 0.5, detail: { column: HOSTILE[4] } },
        { check: HOSTILE[6], column: '', status: 'insufficient_data', value: null, detail: [1, 'two', null] },
      ],
    });
    await store.putWindow(record);
    const listed = await store.listWindows({ model: key.model, from: BASE, to: BASE + DAY });
    expect(listed).toEqual([
      {
        key,
        referenceId: record.referenceId,
        rowCount: record.rowCount,
        testedFeatures: record.testedFeatures,
        driftedFeatures: record.driftedFeatures,
        driftShare: record.driftShare,
        datasetDrifted: record.datasetDrifted,
        version: record.version,
        computedAt: record.computedAt,
      },
    ]);
    // The key as listed finds the details (segment key order must not matter).
    const reordered = { ...key, segment: Object.fromEntries(Object.entries(key.segment).reverse()) };
    for (const k of [listed[0]!.key, reordered]) {
      expect(sorted(await store.windowFeatures(k))).toEqual(sorted(record.features));
      expect(sorted(await store.windowOutliers(k))).toEqual(sorted(record.outliers));
      expect(sorted(await store.windowQuality(k))).toEqual(sorted(record.quality));
    }
    // Another segment, model or bounds is another window.
    expect(await store.windowFeatures({ ...key, segment: {} })).toEqual([]);
    expect(await store.windowFeatures({ ...key, model: 'press-line' })).toEqual([]);
    expect(await store.windowFeatures({ ...key, end: key.end + 1 })).toEqual([]);
    expect(await store.listWindows({ model: key.model, from: key.start + 1, to: BASE + DAY })).toEqual([]);
    expect(await store.listWindows({ model: 'press-line', from: BASE, to: BASE + DAY })).toEqual([]);
  });

  it('stores non-finite scores, statistics, shares and values as null', async () => {
    const store = await h.open(h.config());
    const key = windowKey(BASE);
    const base = windowRecord(key);
    await store.putWindow({
      ...base,
      driftShare: Number.NaN,
      features: [
        { ...base.features[0]!, feature: 'a', score: Number.NaN, statistic: Number.POSITIVE_INFINITY },
        { ...base.features[0]!, feature: 'b', score: Number.NEGATIVE_INFINITY, statistic: Number.NaN },
        { ...base.features[0]!, feature: 'c', score: 0, statistic: -2.5 },
      ],
      outliers: [{ ...base.outliers[0]!, share: Number.POSITIVE_INFINITY }],
      quality: [{ ...base.quality[0]!, value: Number.NaN }],
    });
    const [summary] = await store.listWindows({ model: key.model, from: BASE, to: BASE + HOUR });
    expect(summary?.driftShare).toBeNull();
    const features = await store.windowFeatures(key);
    expect(features.map((f) => [f.feature, f.score, f.statistic])).toEqual([
      ['a', null, null],
      ['b', null, null],
      ['c', 0, -2.5],
    ]);
    expect((await store.windowOutliers(key))[0]?.share).toBeNull();
    expect((await store.windowQuality(key))[0]?.value).toBeNull();
  });

  it('putWindow twice with the same key and version leaves one window and one copy of its results', async () => {
    const store = await h.open(h.config());
    const key = windowKey(BASE, { segment: { line: 'A' } });
    const record = windowRecord(key, { sample: table([numbers('x', [1, 2, 3]), categories('c', ['a', 'b', null])]) });
    await store.putWindow(record);
    await store.putWindow(record);
    expect(await store.listWindows({ model: key.model, from: BASE, to: BASE + DAY })).toHaveLength(1);
    expect(await store.windowFeatures(key)).toHaveLength(record.features.length);
    expect(await store.windowOutliers(key)).toHaveLength(record.outliers.length);
    expect(await store.windowQuality(key)).toHaveLength(record.quality.length);
    const samples = await store.windowSamples({ model: key.model, from: BASE, to: BASE + DAY, excludeDrifted: false });
    expect(samples.windows).toBe(1);
    expectSameRows(samples.table, record.sample!);
  });

  it('a higher version replaces the window: summary, features, outliers, quality and sample', async () => {
    const store = await h.open(h.config());
    const key = windowKey(BASE);
    const v1 = windowRecord(key, {
      version: 1,
      sample: table([numbers('x', Array.from({ length: CHUNK_ROWS + 5 }, (_, i) => i)), categories('c', Array.from({ length: CHUNK_ROWS + 5 }, () => 'old'))]),
    });
    const v2 = windowRecord(key, {
      version: 2,
      rowCount: 1201,
      testedFeatures: 1,
      driftedFeatures: 0,
      driftShare: 0,
      datasetDrifted: false,
      computedAt: v1.computedAt + MINUTE,
      // Fewer features, outliers and checks than v1: nothing of v1 may show through.
      features: [{ ...v1.features[0]!, score: 0.02, drifted: false, currentSize: 1201 }],
      outliers: [],
      quality: [{ ...v1.quality[1]!, value: 1201 }],
      sample: table([numbers('x', [100, 200])]),
    });
    await store.putWindow(v1);
    await store.putWindow(v2);
    // A late replay of the older version changes nothing.
    await store.putWindow(v1);
    const listed = await store.listWindows({ model: key.model, from: BASE, to: BASE + DAY });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ version: 2, rowCount: 1201, datasetDrifted: false, driftShare: 0, computedAt: v2.computedAt });
    expect(await store.windowFeatures(key)).toEqual(v2.features);
    expect(await store.windowOutliers(key)).toEqual([]);
    expect(await store.windowQuality(key)).toEqual(v2.quality);
    const samples = await store.windowSamples({ model: key.model, from: BASE, to: BASE + DAY, excludeDrifted: false });
    expect(samples.windows).toBe(1);
    expectSameRows(samples.table, v2.sample!);
  });

  it('putWindows writes many reports at once, each as putWindow would, the highest version of a key winning', async () => {
    const store = await h.open(h.config());
    const a = windowKey(BASE);
    const b = windowKey(BASE + MINUTE, { segment: { lot: 'L"1\\' } });
    const a1 = windowRecord(a, { version: 1, sample: table([numbers('x', [1, 2])]) });
    const a2 = windowRecord(a, { version: 3, rowCount: 3, sample: table([numbers('x', [1, 2, 3])]) });
    const b1 = windowRecord(b, { version: 1, sample: table([numbers('x', [9])]) });
    await store.putWindows([a1, b1, a2]);
    const listed = await store.listWindows({ model: a.model, from: BASE, to: BASE + DAY });
    expect(listed.map((w) => [w.key.start, w.version, w.key.segment])).toEqual([
      [BASE, 3, {}],
      [BASE + MINUTE, 1, { lot: 'L"1\\' }],
    ]);
    const byName = (x: { feature: string }, y: { feature: string }) => (x.feature < y.feature ? -1 : 1);
    expect([...(await store.windowFeatures(b))].sort(byName)).toEqual([...b1.features].sort(byName));
    const samples = await store.windowSamples({ model: a.model, from: BASE, to: BASE + DAY, excludeDrifted: false });
    expect(samples.windows).toBe(2);
    expect(samples.table.rowCount).toBe(4);
  });

  it('keeps count windows that share their bounds apart by their count id, in every table', async () => {
    const store = await h.open(h.config());
    const key = (countId: string) => windowKey(BASE, { end: BASE + 1, countId });
    const a = windowRecord(key('00000000000000aa'), { driftShare: 0.25, sample: table([numbers('x', [1, 2])]) });
    const b = windowRecord(key('00000000000000bb'), {
      driftShare: 0.75,
      features: a.features.map((f) => ({ ...f, score: 0.5 })),
      outliers: [],
      quality: [],
      sample: table([numbers('x', [7])]),
    });
    await store.putWindows([a, b]);
    const listed = await store.listWindows({ model: a.key.model, from: BASE, to: BASE + DAY });
    expect(listed.map((w) => [w.key, w.driftShare])).toEqual([
      [a.key, 0.25],
      [b.key, 0.75],
    ]);
    const byName = (x: { feature: string }, y: { feature: string }) => (x.feature < y.feature ? -1 : 1);
    expect([...(await store.windowFeatures(a.key))].sort(byName)).toEqual([...a.features].sort(byName));
    expect([...(await store.windowFeatures(b.key))].sort(byName)).toEqual([...b.features].sort(byName));
    expect(await store.windowOutliers(a.key)).toEqual(a.outliers);
    expect(await store.windowOutliers(b.key)).toEqual([]);
    expect(await store.windowQuality(b.key)).toEqual([]);
    const range = { model: a.key.model, from: BASE, to: BASE + DAY, excludeDrifted: false };
    expect((await store.windowSamples(range)).windows).toBe(2);
    expectSameRows((await store.windowSamples({ ...range, countId: b.key.countId! })).table, b.sample!);
    // A time window with the same bounds is a third one.
    expect(await store.windowFeatures(windowKey(BASE, { end: BASE + 1 }))).toEqual([]);
  });

  it('reads windows stored before count ids as time windows, after the migration adds them', async () => {
    const config = h.config();
    const old = await h.open(config, { migrateTo: 4 });
    const key = windowKey(BASE);
    await old.client.insert({
      table: `${old.database}.windows`,
      values: [{ model: key.model, segment: '{}', window_start: dateTime64(key.start), window_end: dateTime64(key.end), reference_id: 'ref-1', row_count: 5, tested_features: 2, drifted_features: 0, drift_share: 0, dataset_drifted: 0, computed_at: dateTime64(key.end), version: 5 }],
      format: 'JSONEachRow',
    });
    await old.close();
    const store = await h.open(config);
    const listed = await store.listWindows({ model: key.model, from: BASE, to: BASE + DAY });
    expect(listed.map((w) => [w.key, w.version])).toEqual([[key, 5]]);
    // The same window written again now replaces it.
    await store.putWindows([windowRecord(key, { version: 6 })]);
    expect((await store.listWindows({ model: key.model, from: BASE, to: BASE + DAY })).map((w) => [w.key, w.version])).toEqual([[key, 6]]);
  });

  it('putWindowResults then putWindowDetails store what putWindows stores: the window is listed with its drift results before its details', async () => {
    const store = await h.open(h.config());
    const a = windowKey(BASE);
    const b = windowKey(BASE + MINUTE, { segment: { lot: HOSTILE[0] } });
    const ra = windowRecord(a, { sample: table([numbers('x', SPECIAL_DOUBLES), categories('c', HOSTILE_CATEGORIES.slice(0, SPECIAL_DOUBLES.length))]) });
    const rb = windowRecord(b);
    await store.putWindowResults([ra, rb]);
    expect((await store.listWindows({ model: a.model, from: BASE, to: BASE + DAY })).map((w) => w.key.start)).toEqual([BASE, BASE + MINUTE]);
    const byName = (x: { feature: string }, y: { feature: string }) => (x.feature < y.feature ? -1 : 1);
    expect([...(await store.windowFeatures(a))].sort(byName)).toEqual([...ra.features].sort(byName));
    expect(await store.windowOutliers(a)).toEqual([]);
    expect(await store.windowQuality(a)).toEqual([]);
    const range = { model: a.model, from: BASE, to: BASE + DAY, excludeDrifted: false };
    expect((await store.windowSamples(range)).windows).toBe(0);
    await store.putWindowDetails([ra, rb]);
    expect(await store.windowOutliers(a)).toEqual(ra.outliers);
    expect(await store.windowQuality(a)).toEqual(ra.quality);
    expect(await store.windowQuality(b)).toEqual(rb.quality);
    const samples = await store.windowSamples(range);
    expect(samples.windows).toBe(1);
    expectSameRows(samples.table, ra.sample!);
  });

  it('sends reference rows and window samples as raw bytes where the engine can rebuild them; rows sent either way, before or after the upgrade, read back bit for bit', async () => {
    const config = h.config();
    // NaNs with payloads and the sign bit set, and a column longer than a chunk, read from a view at an offset.
    const nans = new Float64Array(new BigUint64Array([0x7ff4000000000001n, 0xfff8000000000001n, 0x7ff8_0000_dead_beefn]).buffer);
    const long = new Float64Array(CHUNK_ROWS + 9);
    for (let i = 0; i < long.length; i++) long[i] = i % 7 === 0 ? nans[i % 3]! : (i - 4000) * 1.000001e-3;
    const rows = table([
      numbers('x', [...SPECIAL_DOUBLES, ...nans]),
      categories('c', HOSTILE_CATEGORIES.slice(0, SPECIAL_DOUBLES.length + nans.length)),
    ]);
    const longRows = table([{ ...numbers('y', []), values: long.subarray(3) }]);
    const sampled = (i: number) => windowRecord(windowKey(BASE + i * MINUTE), { sample: i === 1 ? longRows : rows });
    const sampleOf = (i: number) => (i === 1 ? longRows : rows);
    const tableSql = async (store: ClickHouseStore) => {
      const rs = await store.client.query({
        query: `SELECT name, create_table_query FROM system.tables WHERE database = {db:String} AND name IN ('reference_values', 'window_samples') ORDER BY name`,
        query_params: { db: store.database },
        format: 'JSONEachRow',
      });
      return rs.json<{ name: string; create_table_query: string }>();
    };
    const readSample = async (store: ClickHouseStore, i: number) =>
      (await store.windowSamples({ model: windowKey(BASE).model, from: BASE + i * MINUTE, to: BASE + i * MINUTE + 1, excludeDrifted: false })).table;
    const putBoth = async (store: ClickHouseStore, i: number) => {
      await store.putReference(snapshot(`ref-${i}`), sampleOf(i), '{"profile":1}');
      await store.putWindows([sampled(i)]);
    };
    // Migrated but without the raw floats' probe, as a build before raw floats left it: the halves.
    const old = await h.open(config, { migrateTo: SCHEMA_VERSION });
    expect(old.floatEncoding).toBe('halves');
    expect((await tableSql(old)).some((t) => t.create_table_query.includes('`raw`'))).toBe(false);
    await putBoth(old, 0);
    await old.close();

    const store = await h.open(config);
    // The embedded engine (26.7) can; a server before ClickHouse 25.7 cannot, and keeps the halves.
    if (h.engine === 'embedded') expect(store.floatEncoding).toBe('raw');
    await putBoth(store, 1);
    // An older build on the upgraded tables sends the halves.
    await putBoth(new ClickHouseStore(store.client, store.config, store.description, store.migration, 'halves'), 2);
    for (const i of [0, 1, 2]) {
      expectSameRows(await store.loadReferenceRows(`ref-${i}`), sampleOf(i));
      expectSameRows(await readSample(store, i), sampleOf(i));
    }
    // Opening again alters nothing.
    const altered = await tableSql(store);
    if (h.engine === 'embedded') expect(altered.every((t) => t.create_table_query.includes('`raw` String EPHEMERAL'))).toBe(true);
    const again = await h.open(config);
    expect(again.floatEncoding).toBe(store.floatEncoding);
    expect(await tableSql(again)).toEqual(altered);
  });

  it('windowSamples stacks the samples of a range oldest first, and can leave out drifted windows', async () => {
    const store = await h.open(h.config());
    const model = `sampled ${HOSTILE[1]}`;
    const w = (i: number) => windowKey(BASE + i * HOUR, { model });
    const put = (i: number, drifted: boolean, x: number[], c: Array<string | null>, m = model) =>
      store.putWindow(windowRecord({ ...w(i), model: m }, { datasetDrifted: drifted, sample: table([numbers('x', x), categories(HOSTILE[0], c)]) }));
    // Written out of time order; one window before the range, one other model, one window without a sample.
    await put(2, false, [20], ['e']);
    await put(0, false, [1, 2, 3], ['a', null, 'b']);
    await put(-1, false, [-1], ['before']);
    await put(1, true, [10, 11], ['c', HOSTILE[3]]);
    await put(1, false, [999], ['other model'], 'another model');
    await store.putWindow(windowRecord(w(3)));

    const all = await store.windowSamples({ model, from: BASE, to: BASE + 4 * HOUR, excludeDrifted: false });
    expect(all.windows).toBe(3);
    expectSameRows(all.table, table([numbers('x', [1, 2, 3, 10, 11, 20]), categories(HOSTILE[0], ['a', null, 'b', 'c', HOSTILE[3], 'e'])]));

    const clean = await store.windowSamples({ model, from: BASE, to: BASE + 4 * HOUR, excludeDrifted: true });
    expect(clean.windows).toBe(2);
    expectSameRows(clean.table, table([numbers('x', [1, 2, 3, 20]), categories(HOSTILE[0], ['a', null, 'b', 'e'])]));

    // `to` is exclusive.
    const first = await store.windowSamples({ model, from: BASE, to: BASE + HOUR, excludeDrifted: false });
    expect(first.windows).toBe(1);
    expect(Array.from(column(first.table, 'x').values as Float64Array)).toEqual([1, 2, 3]);

    // One segment's windows only.
    await store.putWindow(windowRecord({ ...w(0), segment: { lot_id: HOSTILE[2]! } }, { sample: table([numbers('x', [7]), categories(HOSTILE[0], ['lot'])]) }));
    const lot = await store.windowSamples({ model, from: BASE, to: BASE + 4 * HOUR, excludeDrifted: false, segment: { lot_id: HOSTILE[2]! } });
    expect(lot.windows).toBe(1);
    expect(Array.from(column(lot.table, 'x').values as Float64Array)).toEqual([7]);
    const unsegmented = await store.windowSamples({ model, from: BASE, to: BASE + 4 * HOUR, excludeDrifted: false, segment: {} });
    expect(unsegmented.windows).toBe(3);

    const none = await store.windowSamples({ model: 'nobody', from: BASE, to: BASE + 4 * HOUR, excludeDrifted: false });
    expect(none.windows).toBe(0);
    expect(none.table.rowCount).toBe(0);
  });

  it('window samples keep integer and boolean column types', async () => {
    const store = await h.open(h.config());
    const model = 'typed samples';
    const bools = (name: string, values: Array<string | null>): Column => ({ kind: 'category', name, values, dtype: 'boolean' });
    await store.putWindow(windowRecord(windowKey(BASE, { model }), { sample: table([numbers('code', [1, 2, 3], true), bools('ok', ['true', null, 'false'])]) }));
    await store.putWindow(windowRecord(windowKey(BASE + HOUR, { model }), { sample: table([numbers('code', [4], true), bools('ok', ['true'])]) }));
    const both = await store.windowSamples({ model, from: BASE, to: BASE + 2 * HOUR, excludeDrifted: false });
    expect(column(both.table, 'code')).toMatchObject({ kind: 'number', integer: true });
    expect(column(both.table, 'ok')).toMatchObject({ kind: 'category', dtype: 'boolean', values: ['true', null, 'false', 'true'] });
    // A later window holding floats makes the stacked column a float column.
    await store.putWindow(windowRecord(windowKey(BASE + 2 * HOUR, { model }), { sample: table([numbers('code', [4.5]), bools('ok', ['true'])]) }));
    const mixed = await store.windowSamples({ model, from: BASE, to: BASE + 3 * HOUR, excludeDrifted: false });
    expect(column(mixed.table, 'code')).toMatchObject({ kind: 'number', integer: false });
  });

  it('stacks windows whose columns differ, filling what a window lacks with missing values', async () => {
    const store = await h.open(h.config());
    await store.putWindow(windowRecord(windowKey(BASE), { datasetDrifted: false, sample: table([numbers('x', [1, 2]), categories('c', ['a', 'b'])]) }));
    await store.putWindow(windowRecord(windowKey(BASE + HOUR), { datasetDrifted: false, sample: table([numbers('x', [3]), numbers('y', [0.5])]) }));
    const got = await store.windowSamples({ model: 'press-line', from: BASE, to: BASE + DAY, excludeDrifted: false });
    expect(got.windows).toBe(2);
    expectSameRows(got.table, table([numbers('x', [1, 2, 3]), categories('c', ['a', 'b', null]), numbers('y', [Number.NaN, Number.NaN, 0.5])]));
  });
});

// ---- 4, 5. dead letters and outbox --------------------------------------------------------------------------------

describe('dead letters and the alert outbox', () => {
  it('dead letters round-trip with hostile text, once each however often they are written', async () => {
    const store = await h.open(h.config());
    const now = Date.now();
    const letters = HOSTILE.map((text, i) =>
      deadLetter(`dl ${i} ${text}`, {
        receivedAt: now - (i + 1) * MINUTE,
        source: `file:${text}:${i}`,
        model: i % 2 === 0 ? HOSTILE[0] : 'press-line',
        reasonCode: i % 2 === 0 ? 'bad_json' : HOSTILE[2],
        reason: text,
        payload: `{"raw": ${JSON.stringify(text)}}\n${text}`,
      }),
    );
    await store.putDeadLetters(letters);
    await store.putDeadLetters(letters);
    await store.putDeadLetters([letters[0]!]);
    // Newest first.
    expect(await store.listDeadLetters()).toEqual(letters);
    expect(await store.listDeadLetters({ model: HOSTILE[0] })).toEqual(letters.filter((_, i) => i % 2 === 0));
    expect(await store.listDeadLetters({ model: "' OR '1'='1" })).toEqual([]);
    expect(await store.listDeadLetters({ limit: 2 })).toEqual(letters.slice(0, 2));
  });

  it('outbox entries are written once; a later update replaces the entry and a stale one does not', async () => {
    const store = await h.open(h.config());
    const now = Date.now();
    const a = outboxEntry(`ob-a ${HOSTILE[0]}`, {
      action: HOSTILE[1],
      kind: 'retrain',
      payload: JSON.stringify({ hostile: HOSTILE }),
      createdAt: now - 10 * MINUTE,
      updatedAt: now - 10 * MINUTE,
      nextAttemptAt: now - 10 * MINUTE,
    });
    const b = outboxEntry('ob-b', { createdAt: now - 5 * MINUTE, updatedAt: now - 5 * MINUTE, nextAttemptAt: now + MINUTE, lastError: HOSTILE[3] });
    await store.putOutbox([a, b]);
    await store.putOutbox([a, b]);
    expect(await store.listOutbox()).toEqual([a, b]);
    expect(await store.listOutbox({ status: 'pending' })).toEqual([a, b]);
    expect(await store.listOutbox({ limit: 1 })).toEqual([a]);

    const delivered = { ...a, status: 'delivered' as const, attempts: 1, lastError: '', updatedAt: now - MINUTE };
    await store.putOutbox([delivered]);
    expect(await store.listOutbox()).toEqual([delivered, b]);
    expect(await store.listOutbox({ status: 'pending' })).toEqual([b]);
    expect(await store.listOutbox({ status: 'delivered' })).toEqual([delivered]);
    expect(await store.listOutbox({ status: 'dead' })).toEqual([]);

    // A retried write of the older state does not undo the delivery.
    await store.putOutbox([a]);
    expect(await store.listOutbox({ status: 'delivered' })).toEqual([delivered]);
  });

  it('the outbox answers by ids and by due time', async () => {
    const store = await h.open(h.config());
    const now = Date.now();
    const due = outboxEntry('ob-due', { createdAt: now - 3 * MINUTE, nextAttemptAt: now - MINUTE });
    const later = outboxEntry('ob-later', { createdAt: now - 2 * MINUTE, nextAttemptAt: now + HOUR });
    const other = outboxEntry(`ob-${HOSTILE[0]}`, { createdAt: now - MINUTE, nextAttemptAt: now - MINUTE });
    await store.putOutbox([due, later, other]);
    expect(await store.listOutbox({ ids: ['ob-later', HOSTILE[1], `ob-${HOSTILE[0]}`] })).toEqual([later, other]);
    expect(await store.listOutbox({ ids: [] })).toEqual([]);
    expect(await store.listOutbox({ status: 'pending', dueBy: now })).toEqual([due, other]);
    expect(await store.listOutbox({ status: 'pending', dueBy: now + 2 * HOUR, limit: 2 })).toEqual([due, later]);
    await store.putOutbox([{ ...later, status: 'dead', updatedAt: later.updatedAt + 1 }]);
    expect(await store.countOutbox()).toEqual([
      { status: 'dead', count: 1 },
      { status: 'pending', count: 2 },
    ]);
  });
});

// ---- 6. alerts ----------------------------------------------------------------------------------------------------

describe('alert state, history and silences', () => {
  it('state rows: the latest write of a key wins, a deleted key disappears', async () => {
    const store = await h.open(h.config());
    await store.putAlertState([
      { key: 'g/a', state: '{"v":1}', deleted: false },
      { key: `g/${HOSTILE[0]}`, state: JSON.stringify({ text: HOSTILE }), deleted: false },
    ]);
    // Two writes of one key in one call: the later one wins.
    await store.putAlertState([
      { key: 'g/a', state: '{"v":2}', deleted: false },
      { key: 'g/a', state: '{"v":3}', deleted: false },
    ]);
    const byKey = <T extends { key: string }>(rows: T[]) => [...rows].sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(byKey(await store.loadAlertState())).toEqual(
      byKey([
        { key: 'g/a', state: '{"v":3}', deleted: false },
        { key: `g/${HOSTILE[0]}`, state: JSON.stringify({ text: HOSTILE }), deleted: false },
      ]),
    );
    await store.putAlertState([{ key: 'g/a', state: '', deleted: true }]);
    expect((await store.loadAlertState()).map((r) => r.key)).toEqual([`g/${HOSTILE[0]}`]);
  });

  it('history is written once per transition and read newest first, by model and rule', async () => {
    const store = await h.open(h.config());
    const t = (rule: string, model: string, at: number, to: 'pending' | 'firing' | 'resolved', value: number | null) => ({
      fingerprint: `fp-${rule}-${model}`,
      rule,
      model,
      labels: { alertname: rule, model, note: HOSTILE[2]! },
      from: (to === 'pending' ? 'inactive' : to === 'firing' ? 'pending' : 'firing') as 'inactive' | 'pending' | 'firing',
      to,
      at,
      windowStart: at - MINUTE,
      value,
      suppressed: to === 'firing' ? `silenced by ${HOSTILE[0]}` : '',
      eventId: `de-${at}`,
    });
    const list = [
      t('drift', 'press-qa', BASE + MINUTE, 'pending', 0.31),
      t('drift', 'press-qa', BASE + 2 * MINUTE, 'firing', 0.4),
      t('errors', 'press-qa', BASE + 3 * MINUTE, 'pending', null),
      t('drift', HOSTILE[0]!, BASE + 4 * MINUTE, 'resolved', Number.NaN),
    ];
    await store.putAlertHistory(list);
    await store.putAlertHistory(list.slice(0, 2));
    const all = await store.listAlertHistory();
    expect(all.map((x) => [x.rule, x.model, x.to, x.at])).toEqual([...list].reverse().map((x) => [x.rule, x.model, x.to, x.at]));
    expect(all[3]).toEqual(list[0]);
    expect(all[0]!.value).toBeNull();
    expect(await store.listAlertHistory({ model: 'press-qa', rule: 'drift' })).toEqual([list[1], list[0]]);
    expect(await store.listAlertHistory({ model: "' OR 1=1 --" })).toEqual([]);
    expect(await store.listAlertHistory({ limit: 1 })).toHaveLength(1);
  });

  it('silences round-trip, are replaced by id and filtered by their end', async () => {
    const store = await h.open(h.config());
    const now = Date.now();
    const s1 = {
      id: 'sil-1',
      matchers: [{ label: 'model', pattern: 'press-*' }, { label: 'feature', pattern: HOSTILE[0]! }],
      startsAt: now - HOUR,
      endsAt: now + HOUR,
      createdBy: 'ops',
      comment: HOSTILE[1]!,
      createdAt: now - HOUR,
    };
    const s2 = { ...s1, id: 'sil-2', matchers: [{ label: 'alertname', pattern: 'drift' }], endsAt: now - MINUTE, createdAt: now - 2 * HOUR };
    await store.putSilences([s1, s2]);
    expect(await store.listSilences()).toEqual([s1, s2]);
    expect(await store.listSilences({ activeAt: now })).toEqual([s1]);
    const expired = { ...s1, endsAt: now - 1 };
    await store.putSilences([expired]);
    expect(await store.listSilences({ activeAt: now })).toEqual([]);
    expect(await store.listSilences()).toEqual([expired, s2]);
  });
});

// ---- 8. faults ----------------------------------------------------------------------------------------------------

/** A server config for a local address, with a retry budget small enough for a test. */
function serverConfig(url: string, over: { requestTimeoutMs?: number; budgetMs?: number } = {}): StoreConfig {
  return {
    engine: 'server',
    url,
    username: 'default',
    password: '',
    database: 'dw_test_fault',
    requestTimeoutMs: over.requestTimeoutMs ?? 2_000,
    retentionDays: DEFAULT_RETENTION_DAYS,
    retry: { baseDelayMs: 10, maxDelayMs: 50, budgetMs: over.budgetMs ?? 300 },
  };
}

/** openStore that must fail; a store it opens anyway is closed. */
async function openFailure(config: StoreConfig): Promise<StoreError> {
  const outcome = await openStore(config).then(
    async (store) => {
      await store.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(StoreError);
  return outcome as StoreError;
}

function attemptsIn(message: string): number {
  const m = /(\d+) attempts?/.exec(message);
  expect(m, message).not.toBeNull();
  return Number(m![1]);
}

describe('faults (server code path, local sockets)', () => {
  let server: Server | null = null;
  const sockets = new Set<Socket>();

  // @clickhouse/client logs every failed request at ERROR level; the outcome is what these tests check.
  beforeEach(() => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    const s = server;
    server = null;
    if (!s) return;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  it('an unreachable server: unavailable and retriable, after more than one attempt', { timeout: 20_000 }, async () => {
    // A port that was just free: bind it, note it, release it.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const err = await openFailure(serverConfig(`http://127.0.0.1:${port}`));
    expect(err.code).toBe('unavailable');
    expect(err.retriable).toBe(true);
    expect(err.message).not.toContain('\n');
    expect(attemptsIn(err.message)).toBeGreaterThan(1);
  });

  it('a server that accepts requests and never answers: unavailable after the request timeouts', { timeout: 20_000 }, async () => {
    let requests = 0;
    const hung = createHttpServer(() => {
      requests++; // never answered
    });
    hung.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server = hung;
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const port = (hung.address() as AddressInfo).port;

    const err = await openFailure(serverConfig(`http://127.0.0.1:${port}`, { requestTimeoutMs: 200, budgetMs: 700 }));
    expect(err.code).toBe('unavailable');
    expect(err.retriable).toBe(true);
    const attempts = attemptsIn(err.message);
    expect(attempts).toBeGreaterThan(1);
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(requests).toBeLessThanOrEqual(attempts);
  });
});

describe('withRetry', () => {
  function fakeTime() {
    const state = { now: 1_000_000, slept: [] as number[] };
    return {
      state,
      options: {
        sleep: async (ms: number) => {
          state.slept.push(ms);
          state.now += ms;
        },
        random: () => 0.5,
        now: () => state.now,
      },
    };
  }
  const transient = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

  it('retries a transient error with capped exponential backoff, then succeeds', async () => {
    const t = fakeTime();
    let calls = 0;
    const result = await withRetry(
      'reading something',
      { baseDelayMs: 100, maxDelayMs: 300, budgetMs: 10_000 },
      async () => {
        calls++;
        if (calls === 1) throw transient();
        if (calls === 2) throw Object.assign(new Error('Too many simultaneous queries'), { code: '202' });
        if (calls === 3) throw new Error('Timeout error.');
        if (calls === 4) throw transient();
        return 'ok';
      },
      t.options,
    );
    expect(result).toBe('ok');
    expect(calls).toBe(5);
    // random() = 0.5 of min(max, base * 2^attempt): 50, 100, 150 (capped at 300), 150.
    expect(t.state.slept).toEqual([50, 100, 150, 150]);
  });

  it('fails at once with query_failed on a permanent error', async () => {
    const t = fakeTime();
    let calls = 0;
    const e = await rejection(
      withRetry('running a query', { baseDelayMs: 100, maxDelayMs: 300, budgetMs: 10_000 }, async () => {
        calls++;
        throw new Error('syntax');
      }, t.options),
    );
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('query_failed');
    expect((e as StoreError).retriable).toBe(false);
    expect((e as StoreError).message).toContain('running a query');
    expect((e as StoreError).message).toContain('syntax');
    expect((e as StoreError).cause).toBeInstanceOf(Error);
    expect(calls).toBe(1);
    expect(t.state.slept).toEqual([]);
  });

  it('passes a StoreError through untouched', async () => {
    const t = fakeTime();
    const original = new StoreError('conflict', 'no');
    const e = await rejection(withRetry('x', { baseDelayMs: 1, maxDelayMs: 1, budgetMs: 1_000 }, async () => Promise.reject(original), t.options));
    expect(e).toBe(original);
    expect(t.state.slept).toEqual([]);
  });

  it('gives up with unavailable when the next pause would overrun the budget', async () => {
    const t = fakeTime();
    t.options.random = () => 1;
    let calls = 0;
    const e = await rejection(
      withRetry('pinging', { baseDelayMs: 100, maxDelayMs: 400, budgetMs: 1_000 }, async () => {
        calls++;
        throw transient();
      }, t.options),
    );
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('unavailable');
    expect((e as StoreError).retriable).toBe(true);
    // Pauses 100, 200, 400 (700 ms spent); the next 400 would end at 1100 > 1000.
    expect(t.state.slept).toEqual([100, 200, 400]);
    expect(calls).toBe(4);
    expect(attemptsIn((e as StoreError).message)).toBe(4);
  });
});
