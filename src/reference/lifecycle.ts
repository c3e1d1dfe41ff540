/**
 * The reference lifecycle: create (sample, profile, store), promote, roll back, load, delete. Works on the store
 * port only, so the same code runs on the embedded engine and on a server.
 *
 * Versions of a model: candidate -> active (promote) -> retired. Promotion and rollback are one atomic write of the
 * catalogue rows involved, so a reader sees either the old active snapshot or the new one, never none or two.
 */
import { createHash } from 'node:crypto';
import { StoreError } from '../core/errors.js';
import { inferColumnType } from '../core/column-type.js';
import type { ReferenceSnapshot, ReferenceSource, SnapshotChange, SnapshotColumn, Store } from '../core/store.js';
import type { Column, ColumnType, Table } from '../core/table.js';
import { ownValue } from '../core/records.js';
import { buildReferenceProfile, type ReferenceProfile } from '../profile/reference-profile.js';
import { decodeProfile, encodeProfile } from '../profile/stored-profile.js';
import { reservoirIndices } from '../stats/reservoir.js';

/** Rows kept per snapshot unless configured otherwise. */
export const DEFAULT_MAX_ROWS = 200_000;
export const DEFAULT_SEED = 42;

export type CreatePhase = 'sample' | 'profile' | 'store';

export interface CreateOptions {
  readonly model: string;
  readonly modelVersion?: string;
  readonly source: ReferenceSource;
  readonly maxRows?: number;
  readonly seed?: number;
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
  readonly by: string;
  readonly reason?: string;
  readonly now?: () => number;
  readonly onProgress?: (phase: CreatePhase, done: number, total: number) => void;
}

export interface Created {
  readonly snapshot: ReferenceSnapshot;
  /** False when an identical snapshot (same model, version and sampled rows) already existed. */
  readonly created: boolean;
}

/** A usage problem with a lifecycle request (bad model name, empty input...): shown as one line, exit 2. */
export class ReferenceError extends Error {
  override readonly name = 'ReferenceError';
}

/**
 * Creates a candidate snapshot from `table`: samples it (seeded reservoir) to `maxRows`, profiles the sample once,
 * and stores rows and profile. The id is derived from the content, so creating the same reference twice is a no-op.
 */
export async function createReference(store: Store, table: Table, options: CreateOptions): Promise<Created> {
  const model = options.model;
  if (model.trim() === '') throw new ReferenceError('a reference needs a model name');
  if (table.columns.length === 0) throw new ReferenceError(`${table.source}: no columns to build a reference from`);
  if (table.rowCount === 0) throw new ReferenceError(`${table.source}: no rows to build a reference from`);
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new ReferenceError(`the row cap must be a whole number >= 1, got ${maxRows}`);
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ReferenceError(`the seed must be a whole number from 0 to 4294967295, got ${seed}`);
  const now = options.now ?? Date.now;
  const progress = options.onProgress ?? (() => undefined);

  progress('sample', 0, table.rowCount);
  const sample = sampleRows(table, maxRows, seed);
  progress('sample', table.rowCount, table.rowCount);

  const types: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
  const columns: SnapshotColumn[] = sample.columns.map((c) => {
    const type = ownValue(options.columnTypes ?? {}, c.name) ?? inferColumnType(c);
    types[c.name] = type;
    return c.kind === 'number'
      ? { name: c.name, kind: 'number', type, integer: c.integer }
      : { name: c.name, kind: 'category', type, dtype: c.dtype };
  });
  const modelVersion = options.modelVersion ?? '';
  const id = snapshotId(model, modelVersion, columns, sample);
  const existing = await store.getReference(id);
  if (existing) return { snapshot: existing, created: false };

  progress('profile', 0, 1);
  const profile = buildReferenceProfile(sample, { columnTypes: types });
  progress('profile', 1, 1);

  const at = now();
  const snapshot: ReferenceSnapshot = {
    id,
    model,
    modelVersion,
    createdAt: at,
    source: options.source,
    rowCount: sample.rowCount,
    sourceRowCount: table.rowCount,
    sampling: { seed, maxRows },
    columns,
    status: 'candidate',
    activatedAt: null,
    previousActive: null,
    changedBy: options.by,
    reason: options.reason ?? 'created',
    changedAt: at,
  };
  await store.putReference(snapshot, sample, encodeProfile(profile), {
    onProgress: (done, total) => progress('store', done, total),
  });
  return { snapshot, created: true };
}

/** The rows at `reservoirIndices(rowCount, maxRows, seed)`, in source order (the table itself when it fits). */
export function sampleRows(table: Table, maxRows: number, seed: number): Table {
  if (table.rowCount <= maxRows) return table;
  const keep = reservoirIndices(table.rowCount, maxRows, seed);
  const columns: Column[] = table.columns.map((c) => {
    if (c.kind === 'number') {
      const values = new Float64Array(keep.length);
      for (let i = 0; i < keep.length; i++) values[i] = c.values[keep[i]!]!;
      return { ...c, values };
    }
    const values = new Array<string | null>(keep.length);
    for (let i = 0; i < keep.length; i++) values[i] = c.values[keep[i]!] ?? null;
    return { ...c, values };
  });
  return { source: table.source, rowCount: keep.length, columns };
}

/** `ref-` and 16 hex digits of a SHA-256 over the model, its version, the column layout and every stored value. */
export function snapshotId(model: string, modelVersion: string, columns: ReadonlyArray<SnapshotColumn>, rows: Table): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([model, modelVersion, columns]));
  for (const c of rows.columns) {
    if (c.kind === 'number') h.update(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength));
    else for (const v of c.values) h.update(v === null ? '\u0000N' : `\u0000S${v}`);
    h.update('\u0001');
  }
  return `ref-${h.digest('hex').slice(0, 16)}`;
}

export interface ChangeOptions {
  readonly by: string;
  readonly reason?: string;
  readonly now?: () => number;
}

async function mustGet(store: Store, id: string): Promise<ReferenceSnapshot> {
  const s = await store.getReference(id);
  if (!s) throw new StoreError('not_found', `reference ${id} does not exist`);
  return s;
}

/**
 * Makes `id` the active reference of its model; the previously active one is retired in the same write and
 * remembered as where a rollback goes. Promoting the active snapshot again changes nothing.
 */
export async function promoteReference(store: Store, id: string, options: ChangeOptions): Promise<{ snapshot: ReferenceSnapshot; previous: ReferenceSnapshot | null }> {
  const target = await mustGet(store, id);
  const current = await store.activeReference(target.model);
  if (current?.id === target.id) return { snapshot: target, previous: null };
  const at = (options.now ?? Date.now)();
  const reason = options.reason ?? 'promoted';
  const changes: SnapshotChange[] = [
    { id: target.id, status: 'active', activatedAt: at, previousActive: current?.id ?? null, changedBy: options.by, reason, changedAt: at },
  ];
  if (current) changes.push(retire(current, options.by, reason, at));
  await store.applySnapshotChanges(changes);
  await store.recordActivation({ model: target.model, at, action: 'promote', snapshotId: target.id, previousSnapshotId: current?.id ?? null, by: options.by, reason });
  return { snapshot: (await store.getReference(target.id)) ?? target, previous: current };
}

export interface RollbackOptions extends ChangeOptions {
  /** Roll back to this snapshot instead of the one active before the current. */
  readonly to?: string;
  /** Roll back to the reference of this model version (its most recently active, else newest, snapshot). */
  readonly modelVersion?: string;
}

/**
 * Re-activates the snapshot that was active before the current one (or the one named by `to` / `modelVersion`),
 * retiring the current one in the same write. Rolling back again continues down the history.
 */
export async function rollbackReference(store: Store, model: string, options: RollbackOptions): Promise<{ snapshot: ReferenceSnapshot; from: ReferenceSnapshot }> {
  const current = await store.activeReference(model);
  if (!current) throw new StoreError('conflict', `model ${JSON.stringify(model)} has no active reference to roll back`);
  let target: ReferenceSnapshot;
  if (options.to !== undefined) {
    target = await mustGet(store, options.to);
    if (target.model !== model) throw new StoreError('conflict', `reference ${target.id} belongs to model ${JSON.stringify(target.model)}, not ${JSON.stringify(model)}`);
  } else if (options.modelVersion !== undefined) {
    const candidates = (await store.listReferences({ model })).filter((s) => s.modelVersion === options.modelVersion && s.id !== current.id);
    candidates.sort((a, b) => (b.activatedAt ?? -Infinity) - (a.activatedAt ?? -Infinity) || b.createdAt - a.createdAt);
    const found = candidates[0];
    if (!found) throw new StoreError('not_found', `model ${JSON.stringify(model)} has no reference for model version ${JSON.stringify(options.modelVersion)}`);
    target = found;
  } else {
    if (current.previousActive === null) throw new StoreError('conflict', `reference ${current.id} has no previous active reference to roll back to`);
    const previous = await store.getReference(current.previousActive);
    if (!previous) throw new StoreError('conflict', `the previous reference ${current.previousActive} was deleted; name one with --to`);
    target = previous;
  }
  if (target.id === current.id) throw new StoreError('conflict', `reference ${target.id} is already active`);
  const at = (options.now ?? Date.now)();
  const reason = options.reason ?? 'rolled back';
  await store.applySnapshotChanges([
    // The target keeps its own "previous", so a further rollback goes on down the history.
    { id: target.id, status: 'active', activatedAt: at, previousActive: target.previousActive, changedBy: options.by, reason, changedAt: at },
    retire(current, options.by, reason, at),
  ]);
  await store.recordActivation({ model, at, action: 'rollback', snapshotId: target.id, previousSnapshotId: current.id, by: options.by, reason });
  return { snapshot: (await store.getReference(target.id)) ?? target, from: current };
}

function retire(s: ReferenceSnapshot, by: string, reason: string, at: number): SnapshotChange {
  return { id: s.id, status: 'retired', activatedAt: s.activatedAt, previousActive: s.previousActive, changedBy: by, reason, changedAt: at };
}

export interface LoadedReference {
  readonly snapshot: ReferenceSnapshot;
  /** The stored rows, typed as when the snapshot was created. */
  readonly rows: Table;
  readonly profile: ReferenceProfile;
}

/** A snapshot ready for evaluation: rows as typed arrays (read as Arrow), the stored profile restored on them. */
export async function loadReference(store: Store, id: string): Promise<LoadedReference> {
  const snapshot = await mustGet(store, id);
  const [stored, text] = await Promise.all([store.loadReferenceRows(id), store.loadReferenceProfile(id)]);
  const rows = retype(stored, snapshot);
  let profile: ReferenceProfile;
  try {
    profile = decodeProfile(text, rows);
  } catch (e) {
    throw new StoreError('corrupt', `reference ${id}: the stored profile does not match its rows (${(e as Error).message})`, { cause: e });
  }
  return { snapshot, rows, profile };
}

/** Gives stored columns back their integer flag and category dtype, and checks every catalogued column is there. */
function retype(stored: Table, snapshot: ReferenceSnapshot): Table {
  const columns: Column[] = snapshot.columns.map((meta) => {
    const c = stored.columns.find((x) => x.name === meta.name);
    if (!c || c.kind !== meta.kind) throw new StoreError('corrupt', `reference ${snapshot.id}: stored rows lack column ${JSON.stringify(meta.name)}`);
    if (c.values.length !== snapshot.rowCount) {
      throw new StoreError('corrupt', `reference ${snapshot.id}: column ${JSON.stringify(meta.name)} has ${c.values.length} stored rows, expected ${snapshot.rowCount}`);
    }
    return c.kind === 'number' ? { ...c, integer: meta.integer ?? false } : { ...c, dtype: meta.dtype ?? 'string' };
  });
  return { source: `reference ${snapshot.id}`, rowCount: snapshot.rowCount, columns };
}

/** Column types as the snapshot recorded them: what `compare --reference ID` uses unless told otherwise. */
export function snapshotColumnTypes(snapshot: ReferenceSnapshot): Record<string, ColumnType> {
  const out: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
  for (const c of snapshot.columns) out[c.name] = c.type;
  return out;
}
