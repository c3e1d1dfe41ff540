/**
 * The data-quality and stability checks of stats-spec.md, with Evidently's default conditions (legacy test suite,
 * evidently 0.7.x), checked against it on fixtures/golden/quality.json.
 *
 * Decisions beyond Evidently, applied the same way everywhere:
 * - A check that cannot run (no reference and no explicit condition, no range, no list) is reported, not skipped:
 *   `value: null`, `condition: "error: ..."`, `passed: false`, as Evidently reports such tests as ERROR. Skip it
 *   explicitly with `config.skip` when that is expected.
 * - A value that cannot be computed from the data (a share of zero rows) is null and does not pass.
 * - A column the reference lacks gets the no-reference fallback of each per-column check; a reference column
 *   missing from the window fails `column_types` and has no other per-column results.
 * - `column_types` is reported per reference column (Evidently reports one verdict); they all pass exactly when
 *   Evidently's test passes.
 */
import { ownValue } from '../core/records.js';
import { inferColumnType } from '../core/column-type.js';
import type { Column, NumberColumn, Table } from '../core/table.js';
import { approxAtMost, approxEqual, conditionHolds, formatCondition, type CheckValue } from './condition.js';
import {
  distinctNonMissing,
  evidentlyShare,
  mostCommonCount,
  pandasMoments,
  pandasQuantileSorted,
  roundTo2,
  sortedNonNaN,
  storageOf,
} from './column-stats.js';
import {
  canonicalCheck,
  parseQuantileCheck,
  QualityConfigError,
  qualityConfigIssues,
  quantileCheckName,
} from './config.js';
import { fromJsonNumber, toJsonNumber } from './json-number.js';
import type { SortedFinite } from '../stats/sorted.js';
import { summarizeTable } from './table-summary.js';
import type {
  BaselineColumn,
  CategoricalBaselineColumn,
  Condition,
  ConditionRule,
  NumericalBaselineColumn,
  QualityBaseline,
  QualityCheckResult,
  QualityConfig,
} from './types.js';

/** The default condition of a check, or why there is none. */
type DefaultCondition = Condition | { readonly error: string };

const NO_REFERENCE = 'needs a reference or an explicit condition';

/**
 * Runs every check on `current` against `baseline` (or the fixed fallbacks when it is null), with `config`'s
 * explicit conditions replacing the defaults. Results come in a stable order: table-level checks, column types,
 * then each current column's checks in column order.
 *
 * Throws QualityConfigError listing every problem when `config` is invalid (see parseQualityConfig to validate
 * user input without throwing). O(rows x cols) plus a sort per numerical column with quantile checks and
 * O(rows x features^2) for the correlations.
 */
export function runQualityChecks(
  current: Table,
  baseline: QualityBaseline | null,
  config: QualityConfig = {},
  /** The sorted finite values of each number column, shared with drift (see `sortedFiniteMemo`); optional. */
  sorted?: SortedFinite,
): QualityCheckResult[] {
  const issues = qualityConfigIssues(config);
  if (issues.length > 0) throw new QualityConfigError(issues);
  const rules = new RuleIndex(config.conditions ?? []);
  const skip = new Set((config.skip ?? []).map(canonicalCheck));
  const results: QualityCheckResult[] = [];
  const refColumns = new Map<string, BaselineColumn>((baseline?.columns ?? []).map((c) => [c.name, c]));

  const emit = (check: string, column: string | undefined, value: CheckValue, fallback: DefaultCondition): void => {
    if (skip.has(check)) return;
    const condition = rules.get(check, column) ?? fallback;
    if ('error' in condition) {
      results.push(withColumn({ check, value: null, condition: `error: ${condition.error}`, passed: false }, column));
      return;
    }
    results.push(
      withColumn(
        {
          check,
          value: typeof value === 'number' ? toJsonNumber(value) : value,
          condition: formatCondition(condition),
          passed: conditionHolds(condition, value),
        },
        column,
      ),
    );
  };
  /** The value itself cannot be computed: no condition helps. */
  const emitError = (check: string, column: string | undefined, reason: string): void => {
    if (skip.has(check)) return;
    results.push(withColumn({ check, value: null, condition: `error: ${reason}`, passed: false }, column));
  };

  const summary = summarizeTable(
    current,
    (column, f) => ownValue(config.columnTypes, column.name) ?? refColumns.get(column.name)?.type ?? inferColumnType(column, distinctNonMissing(f)),
    sorted,
  );
  const rows = current.rowCount;

  emit('row_count', undefined, rows, baseline ? approxEqual(baseline.rowCount, 0.1, true) : { gt: 30 });
  emit('column_count', undefined, current.columns.length, baseline ? { eq: baseline.columns.length } : { gt: 0 });
  columnTypeChecks(current, baseline, rules, emit, emitError);
  emit(
    'constant_columns',
    undefined,
    summary.constantColumns,
    baseline ? { lte: baseline.constantColumns } : { eq: 0 },
  );
  emit(
    'duplicated_columns',
    undefined,
    summary.duplicatedColumns,
    baseline ? { lte: baseline.duplicatedColumns } : { eq: 0 },
  );
  let duplicatedRowsDefault: DefaultCondition = { eq: 0 };
  if (baseline) {
    // Evidently scales the reference count to the window's size: ref_duplicates * (rows / ref_rows).
    duplicatedRowsDefault =
      baseline.rowCount === 0
        ? { error: 'the reference has no rows' }
        : approxEqual(baseline.duplicatedRows * (rows / baseline.rowCount), 0.1, true);
  }
  emit('duplicated_rows', undefined, summary.duplicatedRows, duplicatedRowsDefault);
  emit(
    'max_correlation',
    undefined,
    summary.maxCorrelation,
    baseline && baseline.maxCorrelation !== null ? approxEqual(baseline.maxCorrelation, 0.1, false) : { lt: 0.9 },
  );

  const baseQuantiles = config.quantiles ?? baseline?.quantiles ?? [];
  const nSigmas = config.nSigmas ?? 2;
  for (const s of summary.columns) {
    const name = s.column.name;
    const ref = refColumns.get(name);
    const refRows = baseline?.rowCount ?? 0;

    let missingDefault: DefaultCondition = { eq: 0 };
    if (ref !== undefined) {
      missingDefault =
        refRows === 0 ? { error: 'the reference has no rows' } : approxAtMost(ref.missingCount / refRows, 0.1, true);
    }
    emit('missing_share', name, rows > 0 ? s.missingCount / rows : null, missingDefault);

    emit(
      'most_common_value_share',
      name,
      rows > 0 ? evidentlyShare(mostCommonCount(s.factorized), rows) : null,
      // Evidently falls back to "lt 0.8" when the reference has no value to compare with.
      ref !== undefined && refRows > 0
        ? approxEqual(evidentlyShare(ref.mostCommonCount, refRows), 0.1, false)
        : { lt: 0.8 },
    );

    const refNumerical = ref?.type === 'numerical' ? ref : undefined;
    if (s.column.kind === 'number' && s.type === 'numerical') {
      numericalChecks(s.column, refNumerical, config, emit, emitError, {
        quantiles: quantilesFor(name, baseQuantiles, rules),
        nSigmas,
      });
    } else {
      const list = config.lists?.[name];
      const membership =
        list !== undefined ? listMembership(list) : ref?.type === 'categorical' ? baselineMembership(ref) : undefined;
      if (membership === undefined) {
        emitError('out_of_list_share', name, 'needs a reference or a list of allowed values');
      } else {
        const inList = countInList(s.column, membership);
        emit('out_of_list_share', name, rows > 0 ? (rows - inList) / rows : 0, { eq: 0 });
      }
    }
  }
  return results;
}

type Emit = (check: string, column: string | undefined, value: CheckValue, fallback: DefaultCondition) => void;
type EmitError = (check: string, column: string | undefined, reason: string) => void;

function withColumn(result: Omit<QualityCheckResult, 'column'>, column: string | undefined): QualityCheckResult {
  // Built field by field so `column` sits where the JSON output shows it: check, column, value, condition, passed.
  if (column === undefined) return result;
  return { check: result.check, column, value: result.value, condition: result.condition, passed: result.passed };
}

/**
 * Storage type per column: against the reference's columns, or, without a reference, only where explicit
 * conditions say what to expect (Evidently's test cannot run without one or the other).
 */
function columnTypeChecks(
  current: Table,
  baseline: QualityBaseline | null,
  rules: RuleIndex,
  emit: Emit,
  emitError: EmitError,
): void {
  const names: string[] = baseline
    ? baseline.columns.map((c) => c.name)
    : rules.hasCheckWide('column_types')
      ? current.columns.map((c) => c.name)
      : [];
  for (const name of rules.columnsOf('column_types')) if (!names.includes(name)) names.push(name);
  if (names.length === 0) {
    emitError('column_types', undefined, NO_REFERENCE);
    return;
  }
  const currentByName = new Map<string, Column>(current.columns.map((c) => [c.name, c]));
  const refByName = new Map<string, BaselineColumn>((baseline?.columns ?? []).map((c) => [c.name, c]));
  for (const name of names) {
    const col = currentByName.get(name);
    const ref = refByName.get(name);
    const value = col === undefined ? null : storageOf(col);
    emit('column_types', name, value, ref ? { eq: ref.storage } : { error: NO_REFERENCE });
  }
}

function numericalChecks(
  column: NumberColumn,
  ref: NumericalBaselineColumn | undefined,
  config: QualityConfig,
  emit: Emit,
  emitError: EmitError,
  opts: { readonly quantiles: ReadonlyArray<number>; readonly nSigmas: number },
): void {
  const name = column.name;
  const explicitRange = config.ranges?.[name];
  const range = explicitRange ?? (ref ? { min: fromJsonNumber(ref.min), max: fromJsonNumber(ref.max) } : undefined);
  if (range === undefined) {
    emitError('out_of_range_share', name, 'needs a reference or a range');
  } else {
    emit('out_of_range_share', name, outOfRangeShare(column.values, range.min, range.max), { eq: 0 });
  }

  // Evidently compares means rounded to 2 decimals, and the bounds from the reference mean and std rounded too.
  const mean = roundTo2(pandasMoments(column.values).mean);
  let meanDefault: DefaultCondition = { error: 'needs a reference' };
  if (ref) {
    const refMean = roundTo2(fromJsonNumber(ref.mean));
    const width = roundTo2(fromJsonNumber(ref.std)) * opts.nSigmas;
    meanDefault = { gt: refMean - width, lt: refMean + width };
  }
  emit('mean_in_n_sigmas', name, column.values.length > 0 ? mean : null, meanDefault);

  if (opts.quantiles.length === 0) return;
  const sorted = sortedNonNaN(column.values);
  for (const q of opts.quantiles) {
    const refQ = ref?.quantiles.find((x) => x.q === q);
    emit(
      quantileCheckName(q),
      name,
      pandasQuantileSorted(sorted, q),
      refQ ? approxEqual(fromJsonNumber(refQ.value), 0.1, false) : { error: NO_REFERENCE },
    );
  }
}

/**
 * Share of the non-NaN values outside [min, max] (inclusive). ±Infinity are values here, as in Evidently: an
 * inf in the window is out of range unless the reference held one too. 0 when there is no value. O(n).
 */
function outOfRangeShare(values: Float64Array, min: number, max: number): number {
  let count = 0;
  let inside = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    count++;
    if (v >= min && v <= max) inside++;
  }
  return count === 0 ? 0 : (count - inside) / count;
}

interface Membership {
  readonly strings: ReadonlySet<string>;
  readonly numbers: ReadonlySet<number>;
}

/** Booleans are stored as 'true' / 'false' in category columns (core/table.ts), so a list's true matches 'true'. */
function listMembership(list: ReadonlyArray<string | number | boolean>): Membership {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  for (const v of list) {
    if (typeof v === 'number') numbers.add(v);
    else strings.add(String(v));
  }
  return { strings, numbers };
}

// The reference's value sets are turned into Sets once per baseline, not once per window.
const membershipCache = new WeakMap<CategoricalBaselineColumn, Membership>();

function baselineMembership(ref: CategoricalBaselineColumn): Membership {
  let m = membershipCache.get(ref);
  if (m === undefined) {
    m =
      ref.categories.kind === 'string'
        ? { strings: new Set(ref.categories.values), numbers: new Set() }
        : { strings: new Set(), numbers: new Set(ref.categories.values.map(fromJsonNumber)) };
    membershipCache.set(ref, m);
  }
  return m;
}

/** Non-missing values found in the list; missing values are never in it (Evidently counts them as out). O(n). */
function countInList(column: Column, m: Membership): number {
  let inside = 0;
  if (column.kind === 'number') {
    const values = column.values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isNaN(v) && m.numbers.has(v)) inside++;
    }
  } else {
    for (const v of column.values) if (v !== null && m.strings.has(v)) inside++;
  }
  return inside;
}

/** The configured quantiles, then any quantile an explicit rule asks for on this column. */
function quantilesFor(column: string, base: ReadonlyArray<number>, rules: RuleIndex): number[] {
  const out: number[] = [];
  for (const q of [...base, ...rules.quantilesOf(column)]) if (!out.includes(q)) out.push(q);
  return out;
}

/** Explicit conditions by (check, column); a rule naming the column wins over the check-wide rule. */
class RuleIndex {
  private readonly byKey = new Map<string, ConditionRule>();
  private readonly rules: ReadonlyArray<ConditionRule>;

  constructor(rules: ReadonlyArray<ConditionRule>) {
    this.rules = rules.map((r) => ({ ...r, check: canonicalCheck(r.check) }));
    for (const r of this.rules) this.byKey.set(RuleIndex.key(r.check, r.column), r);
  }

  private static key(check: string, column: string | undefined): string {
    return `${check}\u0000${column ?? ''}`;
  }

  get(check: string, column: string | undefined): ConditionRule | undefined {
    const own = column !== undefined ? this.byKey.get(RuleIndex.key(check, column)) : undefined;
    return own ?? this.byKey.get(RuleIndex.key(check, undefined));
  }

  hasCheckWide(check: string): boolean {
    return this.byKey.has(RuleIndex.key(check, undefined));
  }

  columnsOf(check: string): string[] {
    return this.rules.filter((r) => r.check === check && r.column !== undefined).map((r) => r.column!);
  }

  quantilesOf(column: string): number[] {
    const out: number[] = [];
    for (const r of this.rules) {
      const q = parseQuantileCheck(r.check);
      if (q !== undefined && (r.column === undefined || r.column === column)) out.push(q);
    }
    return out;
  }
}
