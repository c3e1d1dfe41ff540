/**
 * Rolling references: on a schedule, a model's reference is rebuilt from the rows stored with its recent windows
 * (the trailing `trailingMs` before the run), optionally leaving out windows that drifted, and optionally promoted.
 *
 * Built with `createReference`, so the same rows give the same snapshot id: a run over data that has not changed
 * stores nothing and changes nothing.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { ReferenceSnapshot, Store } from '../core/store.js';
import type { Column, ColumnType, Table } from '../core/table.js';
import { ownValue } from '../core/records.js';
import { createReference, promoteReference, ReferenceError, snapshotColumnTypes } from './lifecycle.js';

export interface RollingSpec {
  readonly model: string;
  readonly modelVersion?: string;
  /** Cron expression (node-cron: 5 fields, or 6 with seconds first). */
  readonly schedule: string;
  /** The reference is built from windows starting in [now - trailingMs, now). */
  readonly trailingMs: number;
  /** Leave out windows whose dataset drifted. */
  readonly excludeDrifted: boolean;
  /** Row cap and seed of the reservoir sample (createReference's defaults when absent). */
  readonly maxRows?: number;
  readonly seed?: number;
  /** Make the new reference the model's active one. */
  readonly promote: boolean;
  /**
   * Declared column types. Otherwise each column takes its type from the model's active reference (same name, same
   * kind), and only columns that reference lacks are inferred.
   */
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
}

export interface RollRange {
  readonly from: number;
  readonly to: number;
}

export interface RollSkipped {
  readonly status: 'skipped';
  readonly model: string;
  readonly range: RollRange;
  /** Windows found in the range (0, or windows without rows). */
  readonly windows: number;
  readonly reason: string;
}

/**
 * What happened to promotion: `promoted` (it is active now), `already_active`, `not_requested` (spec.promote false),
 * `kept_retired` (the same snapshot was active before and has since been retired, by a rollback or another
 * promotion: a rolling run does not undo that decision).
 */
export type RollPromotion = 'promoted' | 'already_active' | 'not_requested' | 'kept_retired';

export interface RollDone {
  /** `created`: a new snapshot was stored; `existing`: the same rows were already a snapshot (nothing stored). */
  readonly status: 'created' | 'existing';
  readonly model: string;
  readonly range: RollRange;
  readonly windows: number;
  /** Rows of the windows before sampling. */
  readonly sourceRows: number;
  readonly snapshot: ReferenceSnapshot;
  readonly promotion: RollPromotion;
  /** The snapshot active before the promotion (null when none, or when nothing was promoted). */
  readonly previousActive: string | null;
}

export type RollResult = RollSkipped | RollDone;

export const DEFAULT_ROLLING_BY = 'rolling';

/**
 * Builds the model's reference from the rows stored with its windows starting in [now - trailingMs, now) and, when
 * `spec.promote`, promotes it. Returns `skipped` (storing nothing) when the range has no stored window rows.
 * Throws ReferenceError for a spec that cannot be used, StoreError when the store fails.
 */
export async function rollReference(store: Store, spec: RollingSpec, now: number, by: string = DEFAULT_ROLLING_BY): Promise<RollResult> {
  const problems = specProblems(spec).filter((p) => p.field !== 'schedule');
  if (problems.length > 0) throw new ReferenceError(`rolling reference: ${problems.map((p) => p.message).join('; ')}`);
  if (!Number.isFinite(now)) throw new ReferenceError(`rolling reference: the run time must be epoch milliseconds, got ${now}`);
  const range: RollRange = { from: now - spec.trailingMs, to: now };
  const where = `windows of model ${JSON.stringify(spec.model)} starting in [${iso(range.from)}, ${iso(range.to)})`;
  const { table, windows } = await store.windowSamples({ model: spec.model, from: range.from, to: range.to, excludeDrifted: spec.excludeDrifted });
  if (windows === 0) {
    const reason = spec.excludeDrifted ? `no stored rows in ${where} that did not drift` : `no stored rows in ${where}`;
    return { status: 'skipped', model: spec.model, range, windows, reason };
  }
  if (table.rowCount === 0 || table.columns.length === 0) {
    return { status: 'skipped', model: spec.model, range, windows, reason: `the ${windows} ${where} stored no rows` };
  }

  const active = await store.activeReference(spec.model);
  const { table: rows, columnTypes } = withReferenceLayout(table, active, spec.columnTypes);
  const created = await createReference(store, rows, {
    model: spec.model,
    ...(spec.modelVersion === undefined ? {} : { modelVersion: spec.modelVersion }),
    source: { kind: 'windows', from: range.from, to: range.to, excludeDrifted: spec.excludeDrifted, windows },
    ...(spec.maxRows === undefined ? {} : { maxRows: spec.maxRows }),
    ...(spec.seed === undefined ? {} : { seed: spec.seed }),
    columnTypes,
    by,
    reason: `rolling reference from ${windows} ${where}${spec.excludeDrifted ? ' (drifted windows left out)' : ''}`,
  });
  const base = {
    status: created.created ? ('created' as const) : ('existing' as const),
    model: spec.model,
    range,
    windows,
    sourceRows: table.rowCount,
  };
  let snapshot = created.snapshot;
  if (!spec.promote) return { ...base, snapshot, promotion: 'not_requested', previousActive: null };
  if (active?.id === snapshot.id) return { ...base, snapshot: active, promotion: 'already_active', previousActive: null };
  // Re-read: the snapshot may have been promoted or retired since createReference looked it up.
  snapshot = (await store.getReference(snapshot.id)) ?? snapshot;
  if (snapshot.status === 'active') return { ...base, snapshot, promotion: 'already_active', previousActive: null };
  if (snapshot.status === 'retired') {
    return { ...base, snapshot, promotion: 'kept_retired', previousActive: null };
  }
  const promoted = await promoteReference(store, snapshot.id, { by, reason: `rolling reference over [${iso(range.from)}, ${iso(range.to)})` });
  return { ...base, snapshot: promoted.snapshot, promotion: 'promoted', previousActive: promoted.previous?.id ?? null };
}

/**
 * Stored window rows lose the integer flag of number columns and the boolean dtype of category columns; both come
 * back from the model's active reference where a column of the same name and kind has them and every value allows
 * it. Types: declared, else the active reference's, else inferred (by createReference).
 */
function withReferenceLayout(
  table: Table,
  active: ReferenceSnapshot | null,
  declared: Readonly<Record<string, ColumnType>> | undefined,
): { table: Table; columnTypes: Record<string, ColumnType> } {
  const columnTypes: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
  const inherited = active ? snapshotColumnTypes(active) : null;
  const columns: Column[] = table.columns.map((c) => {
    const meta = active?.columns.find((m) => m.name === c.name && m.kind === c.kind);
    const type = ownValue(declared ?? {}, c.name) ?? (meta && inherited ? ownValue(inherited, c.name) : undefined);
    if (type !== undefined) columnTypes[c.name] = type;
    if (!meta) return c;
    if (c.kind === 'number') return meta.integer === true && !c.integer && allIntegers(c.values) ? { ...c, integer: true } : c;
    return meta.dtype === 'boolean' && c.dtype !== 'boolean' && allBooleans(c.values) ? { ...c, dtype: 'boolean' } : c;
  });
  return { table: { ...table, columns }, columnTypes };
}

function allIntegers(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isInteger(values[i]!)) return false;
  return true;
}

function allBooleans(values: ReadonlyArray<string | null>): boolean {
  return values.every((v) => v === null || v === 'true' || v === 'false');
}

export interface RollingProblem {
  /** Index of the spec in the list. */
  readonly index: number;
  /** The spec's field ('' for the spec itself). */
  readonly field: string;
  /** `[index].field`, e.g. `[2].schedule`. */
  readonly path: string;
  readonly message: string;
}

/**
 * Every problem of every spec (not just the first): a bad cron expression, a trailing range that is not > 0, an
 * empty model, a model scheduled twice, a row cap or seed createReference would refuse, fields of the wrong type.
 * Empty when the specs can be scheduled.
 */
export function validateRollingSpecs(specs: ReadonlyArray<RollingSpec>): RollingProblem[] {
  const problems: RollingProblem[] = [];
  const firstIndex = new Map<string, number>();
  if (!Array.isArray(specs)) return [{ index: -1, field: '', path: '', message: 'rolling references must be a list' }];
  specs.forEach((spec, index) => {
    for (const p of specProblems(spec)) problems.push({ index, field: p.field, path: p.field === '' ? `[${index}]` : `[${index}].${p.field}`, message: p.message });
    const model = (spec as Partial<RollingSpec> | null)?.model;
    if (typeof model !== 'string' || model.trim() === '') return;
    const first = firstIndex.get(model);
    if (first === undefined) firstIndex.set(model, index);
    else problems.push({ index, field: 'model', path: `[${index}].model`, message: `model ${JSON.stringify(model)} already has a rolling reference at [${first}]` });
  });
  return problems;
}

/** One spec's own problems (everything but duplicates). */
function specProblems(spec: RollingSpec): Array<{ field: string; message: string }> {
  if (typeof spec !== 'object' || spec === null) return [{ field: '', message: 'a rolling reference must be an object' }];
  const out: Array<{ field: string; message: string }> = [];
  const s = spec as unknown as Record<string, unknown>;
  if (typeof s['model'] !== 'string' || s['model'].trim() === '') out.push({ field: 'model', message: 'model must be a non-empty name' });
  if (s['modelVersion'] !== undefined && typeof s['modelVersion'] !== 'string') out.push({ field: 'modelVersion', message: 'modelVersion must be text' });
  const schedule = s['schedule'];
  if (typeof schedule !== 'string' || !cron.validate(schedule)) {
    const detail = typeof schedule === 'string' ? cron.validateDetailed(schedule).errors.map((e) => e.message).join(', ') : 'not text';
    out.push({ field: 'schedule', message: `schedule ${JSON.stringify(schedule)} is not a valid cron expression${detail ? ` (${detail})` : ''}` });
  }
  const trailing = s['trailingMs'];
  if (typeof trailing !== 'number' || !Number.isFinite(trailing) || trailing <= 0) {
    out.push({ field: 'trailingMs', message: `trailingMs must be a number of milliseconds > 0, got ${JSON.stringify(trailing)}` });
  }
  if (typeof s['excludeDrifted'] !== 'boolean') out.push({ field: 'excludeDrifted', message: 'excludeDrifted must be true or false' });
  if (typeof s['promote'] !== 'boolean') out.push({ field: 'promote', message: 'promote must be true or false' });
  const maxRows = s['maxRows'];
  if (maxRows !== undefined && !(typeof maxRows === 'number' && Number.isInteger(maxRows) && maxRows >= 1)) {
    out.push({ field: 'maxRows', message: `maxRows must be a whole number >= 1, got ${JSON.stringify(maxRows)}` });
  }
  const seed = s['seed'];
  if (seed !== undefined && !(typeof seed === 'number' && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    out.push({ field: 'seed', message: `seed must be a whole number from 0 to 4294967295, got ${JSON.stringify(seed)}` });
  }
  const types = s['columnTypes'];
  if (types !== undefined) {
    if (typeof types !== 'object' || types === null || Array.isArray(types)) out.push({ field: 'columnTypes', message: 'columnTypes must map column names to numerical or categorical' });
    else {
      for (const [name, type] of Object.entries(types)) {
        if (type !== 'numerical' && type !== 'categorical') out.push({ field: 'columnTypes', message: `columnTypes.${name} must be numerical or categorical, got ${JSON.stringify(type)}` });
      }
    }
  }
  return out;
}

export interface RollingScheduleOptions {
  /** Every run's result (including skips: nothing in range, or the previous run of that spec still going). */
  readonly onResult?: (result: RollResult, spec: RollingSpec) => void;
  /** Every failure of a run (store errors, a throwing onResult). The cron callback itself never throws. */
  readonly onError?: (error: Error, spec: RollingSpec) => void;
  /** The run time, i.e. the end of the trailing range (default: the cron slot that fired). */
  readonly now?: () => number;
  /** Who the snapshots and promotions are attributed to (default 'rolling'). */
  readonly by?: string;
  /** Time zone the cron expressions are read in (default UTC). */
  readonly timezone?: string;
  /** Let the cron timers keep the process alive (default false: the service's servers do that). */
  readonly keepAlive?: boolean;
}

export interface RollingHandle {
  /** Stops every task at once and resolves when runs already started have finished. */
  stop(): Promise<void>;
}

/**
 * One cron task per spec. Throws ReferenceError listing every problem when a spec is invalid (nothing scheduled).
 * A spec's runs never overlap: a tick that comes while the previous run still works is reported as skipped.
 */
export function scheduleRolling(store: Store, specs: ReadonlyArray<RollingSpec>, options: RollingScheduleOptions = {}): RollingHandle {
  const problems = validateRollingSpecs(specs);
  if (problems.length > 0) throw new ReferenceError(`rolling references: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const by = options.by ?? DEFAULT_ROLLING_BY;
  const running = new Set<Promise<void>>();
  const busy = new Set<RollingSpec>();
  let stopped = false;

  const report = (error: unknown, spec: RollingSpec) => {
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)), spec);
    } catch {
      // Nowhere left to report to; the schedule goes on.
    }
  };

  const runOnce = async (spec: RollingSpec, slot: Date | undefined): Promise<void> => {
    let now: number;
    try {
      now = options.now ? options.now() : (slot?.getTime() ?? Date.now());
    } catch (e) {
      report(e, spec);
      return;
    }
    if (busy.has(spec)) {
      const reason = 'the previous run of this rolling reference is still going';
      deliver({ status: 'skipped', model: spec.model, range: { from: now - spec.trailingMs, to: now }, windows: 0, reason }, spec);
      return;
    }
    busy.add(spec);
    try {
      const result = await rollReference(store, spec, now, by);
      deliver(result, spec);
    } catch (e) {
      report(e, spec);
    } finally {
      busy.delete(spec);
    }
  };

  const deliver = (result: RollResult, spec: RollingSpec) => {
    try {
      options.onResult?.(result, spec);
    } catch (e) {
      report(e, spec);
    }
  };

  const tasks: ScheduledTask[] = [];
  try {
    for (const spec of specs) {
      const task = cron.schedule(
        spec.schedule,
        (context) => {
          if (stopped) return;
          const run = runOnce(spec, context?.date).catch((e: unknown) => report(e, spec));
          running.add(run);
          void run.finally(() => running.delete(run));
          // Not awaited: node-cron sees the tick done at once, so it never logs overlaps or failures of its own.
        },
        { name: `driftwatch-rolling-${spec.model}`, timezone: options.timezone ?? 'UTC', unref: options.keepAlive !== true },
      );
      tasks.push(task);
    }
  } catch (e) {
    for (const t of tasks) void Promise.resolve(t.destroy()).catch(() => undefined);
    throw e;
  }

  return {
    async stop() {
      stopped = true;
      await Promise.allSettled(tasks.map((t) => Promise.resolve(t.destroy())));
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
