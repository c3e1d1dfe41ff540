/**
 * Data-quality checks against Evidently's legacy test suite (fixtures/golden/quality.json, written by
 * scripts/oracle/cases_quality.py: `npm run golden -- quality`). Values within 1e-9 relative: they come from the
 * same formulas, and only summation order can differ in the last bits (the mean Evidently rounds uses numpy's
 * order here too). Pass/fail must match exactly.
 */
import { describe, expect, it } from 'vitest';
import type { Column, ColumnType, Table } from '../../src/core/table.js';
import { sortedFiniteMemo } from '../../src/stats/sorted.js';
import {
  buildQualityBaseline,
  runQualityChecks,
  type ConditionRule,
  type QualityBaseline,
  type QualityCheckResult,
  type QualityConfig,
} from '../../src/quality/index.js';
import { quantileSorted } from '../../src/stats/quantile.js';
import { decodeNumber, decodeNumbers, expectClose, loadGolden, type EncodedNumber } from './golden.js';

type Dtype = 'float' | 'integer' | 'string' | 'boolean';
type Encoded = EncodedNumber | string | boolean;

interface Expected {
  readonly check: string;
  readonly column?: string;
  /** Evidently's one verdict for column types, next to the per-column entries. */
  readonly summary?: boolean;
  readonly value: EncodedNumber | string;
  readonly passed: boolean;
  readonly evidently_test: string;
  readonly evidently_status: string;
  readonly evidently_condition: string;
}

interface QualityCase {
  readonly id: string;
  readonly description: string;
  readonly reference: Record<string, Encoded[]> | null;
  readonly current: Record<string, Encoded[]>;
  readonly column_types: Record<string, ColumnType>;
  readonly dtypes: Record<string, Dtype>;
  readonly reference_dtypes?: Record<string, Dtype>;
  readonly quantiles?: number[];
  readonly n_sigmas?: number;
  readonly conditions?: ConditionRule[];
  readonly ranges?: Record<string, [number, number]>;
  readonly lists?: Record<string, Array<string | number | boolean>>;
  readonly expected: Expected[];
}

interface QuantileCase {
  readonly values: EncodedNumber[];
  readonly qs: number[];
  readonly expected: EncodedNumber[];
}

const golden = loadGolden<QualityCase>('quality');
const quantileCases = golden['quantile_cases'] as QuantileCase[];
const TOL = { rel: 1e-9 };

function column(name: string, values: ReadonlyArray<Encoded>, dtype: Dtype): Column {
  if (dtype === 'float' || dtype === 'integer') {
    return { kind: 'number', name, values: decodeNumbers(values as EncodedNumber[]), integer: dtype === 'integer' };
  }
  if (dtype === 'boolean') {
    return { kind: 'category', name, dtype: 'boolean', values: values.map((v) => (v === null ? null : String(v))) };
  }
  return { kind: 'category', name, dtype: 'string', values: values.map((v) => (v === null ? null : String(v))) };
}

function table(source: string, data: Record<string, Encoded[]>, dtypes: Record<string, Dtype>): Table {
  const columns = Object.entries(data).map(([name, values]) => column(name, values, dtypes[name]!));
  return { source, rowCount: columns[0]?.values.length ?? 0, columns };
}

function configOf(c: QualityCase): QualityConfig {
  return {
    columnTypes: c.column_types,
    ...(c.quantiles !== undefined ? { quantiles: c.quantiles } : {}),
    ...(c.n_sigmas !== undefined ? { nSigmas: c.n_sigmas } : {}),
    ...(c.conditions !== undefined ? { conditions: c.conditions } : {}),
    ...(c.ranges !== undefined
      ? { ranges: Object.fromEntries(Object.entries(c.ranges).map(([k, [min, max]]) => [k, { min, max }])) }
      : {}),
    ...(c.lists !== undefined ? { lists: c.lists } : {}),
  };
}

function key(r: { readonly check: string; readonly column?: string }): string {
  return `${r.check}/${r.column ?? ''}`;
}

function expectValue(actual: QualityCheckResult['value'], expected: EncodedNumber | string, why: string): void {
  if (expected === null) {
    expect(actual, why).toBeNull();
  } else if (typeof expected === 'number') {
    expect(typeof actual, why).toBe('number');
    expectClose(actual as number, expected, TOL, why);
  } else if (expected === 'nan' || expected === 'inf' || expected === '-inf') {
    // Non-finite values are reported as these strings so the JSON output stays valid.
    expect(actual, why).toBe(expected);
  } else {
    expect(actual, why).toBe(expected);
  }
}

describe('quality checks match Evidently (fixtures/golden/quality.json)', () => {
  it.each(golden.cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const config = configOf(c);
    let baseline: QualityBaseline | null = null;
    if (c.reference !== null) {
      const built = buildQualityBaseline(table('reference', c.reference, c.reference_dtypes ?? c.dtypes), {
        columnTypes: c.column_types,
        quantiles: c.quantiles ?? [],
      });
      // The baseline is stored as JSON with reference snapshots: it must survive the round trip unchanged.
      baseline = JSON.parse(JSON.stringify(built)) as QualityBaseline;
      expect(baseline).toEqual(built);
    }
    const current = table('current', c.current, c.dtypes);
    const results = runQualityChecks(current, baseline, config);
    // Counted from the sorted values drift shares (value hashes for codes) instead of hash tables: the same results.
    expect(runQualityChecks(current, baseline, config, sortedFiniteMemo())).toEqual(results);
    const byKey = new Map(results.map((r) => [key(r), r]));
    expect(byKey.size, 'one result per check and column').toBe(results.length);

    for (const e of c.expected) {
      if (e.check === 'column_types') continue;
      const ours = byKey.get(key(e));
      const why = `${c.id} ${key(e)} (Evidently ${e.evidently_test}: ${e.evidently_status}, ${e.evidently_condition})`;
      expect(ours, why).toBeDefined();
      expectValue(ours!.value, e.value, why);
      expect(ours!.passed, `${why}: ours "${ours!.condition}" on ${String(ours!.value)}`).toBe(e.passed);
    }
    const expectedKeys = c.expected.filter((e) => e.check !== 'column_types').map(key).sort();
    const ourKeys = results.filter((r) => r.check !== 'column_types').map(key).sort();
    expect(ourKeys).toEqual(expectedKeys);

    // Column types: Evidently gives one verdict (and per-column types when it could compare them).
    const ours = results.filter((r) => r.check === 'column_types');
    const summary = c.expected.find((e) => e.check === 'column_types' && e.summary === true)!;
    expect(ours.every((r) => r.passed), `${c.id} column_types: ${summary.evidently_condition}`).toBe(summary.passed);
    const perColumn = c.expected.filter((e) => e.check === 'column_types' && e.summary !== true);
    if (perColumn.length > 0) expect(ours.length).toBe(perColumn.length);
    for (const e of perColumn) {
      const r = ours.find((x) => x.column === e.column);
      expect(r, `${c.id} column_types/${e.column}`).toBeDefined();
      expect(r!.value).toBe(e.value);
      expect(r!.passed).toBe(e.passed);
    }
  });
});

describe('quantileSorted equals numpy.quantile(method="linear") to the last bit', () => {
  it.each(quantileCases.map((c, i) => [i, c.values.length, c] as const))('vector %i (n=%i)', (_i, _n, c) => {
    const sorted = decodeNumbers(c.values);
    c.qs.forEach((q, k) => {
      const actual = quantileSorted(sorted, q);
      const expected = decodeNumber(c.expected[k]!);
      if (Number.isNaN(expected)) expect(actual, `q=${q}`).toBeNaN();
      else expect(actual, `q=${q}`).toBe(expected);
    });
  });
});
