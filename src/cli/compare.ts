import { existsSync } from 'node:fs';
import { ownValue } from '../core/records.js';
import { InputError } from '../core/errors.js';
import type { Column, ColumnType, Table } from '../core/table.js';
import type { MethodName } from '../drift/methods.js';
import { readTable } from '../files/read-table.js';
import { columnTypeName, typeMismatchError, type FileFormat, type FileTable } from '../files/file-table.js';
import { inferColumnType } from '../core/column-type.js';
import { buildReferenceProfile } from '../profile/reference-profile.js';
import { evaluateAgainstReference, type DriftReport, type EvaluateOptions } from '../report/evaluate.js';
import { snapshotColumnTypes, type LoadedReference } from '../reference/lifecycle.js';

export interface CompareArgs {
  readonly reference: string;
  readonly current: string;
  readonly referenceFormat?: FileFormat;
  readonly currentFormat?: FileFormat;
  readonly method: MethodName | 'auto';
  readonly threshold?: number;
  readonly columnTypes: Readonly<Record<string, ColumnType>>;
  readonly columns?: ReadonlyArray<string>;
  readonly driftShare: number;
}

export interface CompareResult {
  readonly reference: {
    readonly path: string;
    readonly rows: number;
    /** Set when the reference is a stored snapshot. */
    readonly snapshot?: { readonly id: string; readonly model: string; readonly modelVersion: string; readonly status: string };
  };
  readonly current: { readonly path: string; readonly rows: number };
  readonly report: DriftReport;
  /**
   * The columns that were compared, lined up and typed as the report saw them (the HTML report draws their
   * distributions). Not part of the `--format json` document.
   */
  readonly tables?: { readonly reference: Table; readonly current: Table };
}

/** How a snapshot is loaded; the CLI passes one that opens the configured store. */
export type SnapshotLoader = (id: string) => Promise<LoadedReference>;

/** `ref-` and 16 hex digits: what `reference create` prints. */
export function looksLikeSnapshotId(s: string): boolean {
  return /^ref-[0-9a-f]{16}$/.test(s);
}

/**
 * Batch drift of a current file against a reference: another file (read both, line their columns up, profile,
 * evaluate) or a stored snapshot id (its stored profile is used as is). A file of that name wins over a snapshot.
 */
export async function runCompare(args: CompareArgs, loadSnapshot?: SnapshotLoader): Promise<CompareResult> {
  if (loadSnapshot && looksLikeSnapshotId(args.reference) && !existsSync(args.reference)) {
    return compareWithSnapshot(args, await loadSnapshot(args.reference));
  }
  const [reference, current] = await Promise.all([
    readTable(args.reference, args.referenceFormat ? { format: args.referenceFormat } : {}),
    readTable(args.current, args.currentFormat ? { format: args.currentFormat } : {}),
  ]);
  const names = selectColumns(reference, current, args.columns);
  // Null prototype: a column may be called `__proto__` or `constructor`.
  const types: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
  const refColumns: Column[] = [];
  const curColumns: Column[] = [];
  for (const name of names) {
    const pair = lineUp(reference, current, name, ownValue(args.columnTypes, name));
    types[name] = pair.type;
    refColumns.push(pair.reference);
    curColumns.push(pair.current);
  }
  const refTable: Table = { source: reference.source, rowCount: reference.rowCount, columns: refColumns };
  const curTable: Table = { source: current.source, rowCount: current.rowCount, columns: curColumns };
  const profile = buildReferenceProfile(refTable, { columnTypes: types });
  const report = evaluateAgainstReference(profile, curTable, evaluateOptions(args));
  return {
    reference: { path: args.reference, rows: reference.rowCount },
    current: { path: args.current, rows: current.rowCount },
    report,
    tables: { reference: refTable, current: curTable },
  };
}

async function compareWithSnapshot(args: CompareArgs, loaded: LoadedReference): Promise<CompareResult> {
  const { snapshot, rows } = loaded;
  const current = await readTable(args.current, args.currentFormat ? { format: args.currentFormat } : {});
  const names = args.columns && args.columns.length > 0 ? [...args.columns] : snapshot.columns.map((c) => c.name);
  const stored = snapshotColumnTypes(snapshot);
  const types: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
  const refColumns: Column[] = [];
  const curColumns: Column[] = [];
  let retyped = args.columns !== undefined && args.columns.length > 0;
  for (const name of names) {
    let ref = rows.columns.find((c) => c.name === name);
    if (!ref) {
      throw new InputError({ code: 'type_mismatch', file: `reference ${snapshot.id}`, column: name, detail: 'no such column in the stored snapshot' });
    }
    let cur = current.columns.find((c) => c.name === name);
    if (!cur) throw missing(current, name, `is in reference ${snapshot.id}`);
    const declared = ownValue(args.columnTypes, name);
    const type = declared ?? ownValue(stored, name)!;
    if (type !== ownValue(stored, name)) retyped = true;
    if (ref.kind !== cur.kind && allMissing(cur)) cur = emptyLike(ref, cur);
    if (ref.kind !== cur.kind) {
      if (type !== 'categorical') throw typeMismatchError(current, name, columnTypeName(ref));
      ref = asText(ref);
      cur = asText(cur);
      retyped = true;
    }
    types[name] = type;
    refColumns.push(ref);
    curColumns.push(cur);
  }
  // The stored profile is used as is unless the comparison asks for other columns or types than it was built with.
  const refTable: Table = { source: rows.source, rowCount: rows.rowCount, columns: refColumns };
  const profile = retyped ? buildReferenceProfile(refTable, { columnTypes: types }) : loaded.profile;
  const curTable: Table = { source: current.source, rowCount: current.rowCount, columns: curColumns };
  const report = evaluateAgainstReference(profile, curTable, evaluateOptions(args));
  return {
    reference: {
      path: `reference ${snapshot.id}`,
      rows: snapshot.rowCount,
      snapshot: { id: snapshot.id, model: snapshot.model, modelVersion: snapshot.modelVersion, status: snapshot.status },
    },
    current: { path: args.current, rows: current.rowCount },
    report,
    tables: { reference: refTable, current: curTable },
  };
}

function evaluateOptions(args: CompareArgs): EvaluateOptions {
  return {
    method: args.method,
    ...(args.threshold === undefined ? {} : { threshold: args.threshold }),
    driftShare: args.driftShare,
  };
}

/** 0 when the dataset did not drift, 1 when it did (2 is for usage and input errors, decided by the caller). */
export function exitCodeFor(result: CompareResult): 0 | 1 {
  return result.report.dataset.drifted ? 1 : 0;
}

/** The `--format json` document: the shape other tools parse (extra fields are allowed, these never change). */
export function toJson(result: CompareResult): unknown {
  const { report } = result;
  return {
    dataset: report.dataset,
    columns: report.columns,
    outliers: report.outliers,
    quality: report.quality,
    reference: result.reference,
    current: result.current,
  };
}

function selectColumns(reference: FileTable, current: FileTable, wanted: ReadonlyArray<string> | undefined): string[] {
  const refNames = reference.columns.map((c) => c.name);
  const curNames = new Set(current.columns.map((c) => c.name));
  if (wanted && wanted.length > 0) {
    for (const name of wanted) {
      if (!refNames.includes(name)) throw missing(reference, name, 'was asked for with --columns');
      if (!curNames.has(name)) throw missing(current, name, 'was asked for with --columns');
    }
    return [...wanted];
  }
  for (const name of refNames) if (!curNames.has(name)) throw missing(current, name, 'is in the reference');
  for (const name of curNames) if (!refNames.includes(name)) throw missing(reference, name, `is in ${current.source}`);
  if (refNames.length === 0) {
    throw new InputError({ code: 'empty_file', file: reference.source, detail: 'no columns to compare' });
  }
  return refNames;
}

function missing(table: FileTable, name: string, why: string): InputError {
  return new InputError({
    code: 'type_mismatch',
    file: table.source,
    column: name,
    detail: `no such column, but it ${why} (compare needs every column on both sides, or name them with --columns)`,
  });
}

/**
 * The two sides of one column, made comparable. Numbers against text is an error pointing at the first value
 * that is not a number, unless the column is categorical: then both sides are compared as text.
 */
function lineUp(
  reference: FileTable,
  current: FileTable,
  name: string,
  declared: ColumnType | undefined,
): { type: ColumnType; reference: Column; current: Column } {
  let ref = reference.columns.find((c) => c.name === name)!;
  let cur = current.columns.find((c) => c.name === name)!;
  // A column with no value at all has no type of its own (readers give it NaNs): it takes the other side's kind,
  // so a feature that went missing is reported (insufficient data, missing share 1), not called a type error.
  if (ref.kind !== cur.kind) {
    if (allMissing(cur)) cur = emptyLike(ref, cur);
    else if (allMissing(ref)) ref = emptyLike(cur, ref);
  }
  if (declared === 'numerical') {
    if (ref.kind !== 'number') throw typeMismatchError(reference, name, 'float');
    if (cur.kind !== 'number') throw typeMismatchError(current, name, 'float');
    return { type: 'numerical', reference: ref, current: cur };
  }
  const type = declared ?? inferColumnType(ref);
  if (ref.kind === cur.kind) return { type, reference: ref, current: cur };
  // Numbers on one side, text on the other. Unless the user declared the column categorical (then "1" and 1 are
  // the same category and both sides are compared as text), this is a bad value in the file that has text.
  if (declared !== 'categorical') {
    if (ref.kind === 'number') throw typeMismatchError(current, name, columnTypeName(ref));
    throw typeMismatchError(reference, name, columnTypeName(cur));
  }
  return { type, reference: asText(ref), current: asText(cur) };
}

function allMissing(column: Column): boolean {
  if (column.kind === 'category') return column.values.every((v) => v === null);
  return column.values.every((v) => Number.isNaN(v));
}

/** An all-missing column shaped like `model`, with as many rows as `empty`. */
function emptyLike(model: Column, empty: Column): Column {
  const rows = empty.values.length;
  if (model.kind === 'number') {
    return { kind: 'number', name: empty.name, integer: false, values: new Float64Array(rows).fill(Number.NaN) };
  }
  return { kind: 'category', name: empty.name, dtype: model.dtype, values: new Array<string | null>(rows).fill(null) };
}

function asText(column: Column): Column {
  if (column.kind === 'category') return column;
  return {
    kind: 'category',
    name: column.name,
    dtype: 'string',
    values: Array.from(column.values, (v) => (Number.isNaN(v) ? null : String(v))),
  };
}
