/**
 * Per-column numbers the checks are built on, computed the way pandas computes them for Evidently: value counts
 * with missing values as a value, the missing-value count, pandas' `mean`/`std`, numpy's rounding. One pass per
 * column over its typed array (or value array), plus one sort for numerical columns.
 */
import type { Column, ColumnType } from '../core/table.js';
import { pairwiseSum } from '../stats/describe.js';
import { quantileSorted } from '../stats/quantile.js';
import type { StorageType } from './types.js';

/**
 * A column's values as integer codes, equal codes exactly for equal values, missing values (NaN / null) included
 * as one value: pandas' `factorize` / `value_counts(dropna=False)`. Equality is pandas' here: NaN equals NaN and
 * -0 equals +0, while ±Infinity and '' are ordinary values (Evidently's counts, duplicates and uniques see them
 * as values; only its missing-value test does not).
 */
export interface Factorized {
  /**
   * Per row. Codes are deterministic in the values and their order, so two columns with the same values get the
   * same code sequence (duplicated columns rely on it); they are not necessarily dense. Equal values always have
   * equal codes; when `exact` is false, unequal values may share one too (the code is a hash of the value), so a
   * comparison by codes must confirm on the values.
   */
  readonly codes: Int32Array;
  readonly exact: boolean;
  /** Distinct values, the missing value counted as one. */
  readonly distinct: number;
  /** Rows holding the most frequent value (missing counted as a value); 0 for an empty column. */
  readonly mostCommon: number;
  readonly hasMissing: boolean;
}

/**
 * With `sortedFinite` (the column's finite values, ascending, as drift sorted them), a number column's counts come
 * from runs in that array and its codes are hashes of the values (not exact); without it, from a hash table (exact
 * codes). Every number column of one table must take the same path, so that equal columns get equal codes.
 */
export function factorize(column: Column, sortedFinite?: Float64Array): Factorized {
  if (column.kind !== 'number') return factorizeValues(column.values);
  return (sortedFinite && factorizeSorted(column.values, sortedFinite)) ?? factorizeNumbers(column.values);
}

/** The code of NaN in hashed codes (any fixed value: NaN equals NaN here). */
const NAN_CODE = 0x7ff80000;

/** murmur3's fmix32 over both words of a double (-0 given as +0 by the caller). */
function hashDouble(bits: Float64Array, words: Uint32Array, v: number): number {
  bits[0] = v;
  let h = words[0]! ^ Math.imul(words[1]!, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Distinct values and the most common one's count from the sorted finite values (a run per value; -0 and +0 are
 * one run, as they compare equal), plus NaN, +inf and -inf counted on the side; codes are value hashes. Null when
 * `sorted` does not hold exactly the column's finite values (then the hash table decides).
 */
function factorizeSorted(values: Float64Array, sorted: Float64Array): Factorized | null {
  const n = values.length;
  const codes = new Int32Array(n);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) {
      nan++;
      codes[i] = NAN_CODE;
      continue;
    }
    if (v === Number.POSITIVE_INFINITY) posInf++;
    else if (v === Number.NEGATIVE_INFINITY) negInf++;
    codes[i] = hashDouble(bits, words, v === 0 ? 0 : v);
  }
  if (sorted.length !== n - nan - posInf - negInf) return null;
  let distinct = 0;
  let mostCommon = 0;
  for (let i = 0; i < sorted.length; ) {
    const v = sorted[i]!;
    let j = i + 1;
    while (j < sorted.length && sorted[j] === v) j++;
    distinct++;
    if (j - i > mostCommon) mostCommon = j - i;
    i = j;
  }
  for (const c of [nan, posInf, negInf]) {
    if (c === 0) continue;
    distinct++;
    if (c > mostCommon) mostCommon = c;
  }
  return { codes, distinct, mostCommon, hasMissing: nan > 0, exact: false };
}

/**
 * Numbers through an open-addressing table on a typed array: the code is the value's slot. A JavaScript Map of
 * doubles costs about ten times more per value, which decides the time of a million-row window.
 */
function factorizeNumbers(values: Float64Array): Factorized {
  const n = values.length;
  let capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  const mask = capacity - 1;
  const keys = new Float64Array(capacity);
  const counts = new Int32Array(capacity);
  const codes = new Int32Array(n);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  let distinct = 0;
  let mostCommon = 0;
  let hasMissing = false;
  for (let i = 0; i < n; i++) {
    let v = values[i]!;
    const isNaN = v !== v;
    if (v === 0) v = 0; // -0 and +0 are one value: hash them alike
    let h: number;
    if (isNaN) {
      h = NAN_CODE;
      hasMissing = true;
    } else {
      // Both words: integers and round decimals differ only in a few high bits.
      h = hashDouble(bits, words, v);
    }
    let slot = h & mask;
    for (;;) {
      if (counts[slot] === 0) {
        keys[slot] = v;
        distinct++;
        break;
      }
      const k = keys[slot]!;
      if (k === v || (isNaN && k !== k)) break;
      slot = (slot + 1) & mask;
    }
    const c = ++counts[slot]!;
    if (c > mostCommon) mostCommon = c;
    codes[i] = slot;
  }
  return { codes, distinct, mostCommon, hasMissing, exact: true };
}

/** Text values through a Map (strings hash well there); codes in order of first appearance. */
function factorizeValues(values: ReadonlyArray<string | null>): Factorized {
  const seen = new Map<string | null, number>();
  const counts: number[] = [];
  const codes = new Int32Array(values.length);
  let mostCommon = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let code = seen.get(v);
    if (code === undefined) {
      code = counts.length;
      seen.set(v, code);
      counts.push(0);
    }
    codes[i] = code;
    const c = ++counts[code]!;
    if (c > mostCommon) mostCommon = c;
  }
  return { codes, distinct: counts.length, mostCommon, hasMissing: seen.has(null), exact: true };
}

/** Rows holding the most frequent value (missing counted as a value); 0 for an empty column. */
export function mostCommonCount(f: Factorized): number {
  return f.mostCommon;
}

/** pandas `nunique()`: distinct values, missing not counted (±inf and '' are counted). */
export function distinctNonMissing(f: Factorized): number {
  return f.distinct - (f.hasMissing ? 1 : 0);
}

/** Missing for data quality: null, NaN, '' and ±Infinity (Evidently's default missing values). O(n). */
export function missingCount(column: Column): number {
  let missing = 0;
  if (column.kind === 'number') {
    const values = column.values;
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) missing++;
  } else {
    for (const v of column.values) if (v === null || v === '') missing++;
  }
  return missing;
}

/** The non-NaN values (±Infinity kept, as pandas' min/max/quantile keep them), ascending. O(n log n). */
export function sortedNonNaN(values: Float64Array): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) count++;
  const out = new Float64Array(count);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) out[j++] = v;
  }
  return out.sort();
}

export interface Moments {
  /** pandas `Series.mean()`: NaN skipped, ±inf kept; NaN when no value. */
  readonly mean: number;
  /** pandas `Series.std()` (ddof = 1); NaN with fewer than two values. */
  readonly std: number;
}

/**
 * pandas' `nanops.nanmean` / `nanvar` bit for bit: missing values are replaced by 0 *in place* (not dropped), the
 * whole array is summed in numpy's pairwise order, then divided by the count of non-missing values. Keeping the
 * zeros where the NaN were keeps numpy's block boundaries where pandas has them, so the rounded mean Evidently
 * compares lands on the same side of every rounding boundary. O(n).
 */
export function pandasMoments(values: Float64Array): Moments {
  const n = values.length;
  const filled = new Float64Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    filled[i] = v;
    count++;
  }
  // numpy's add.reduce starts from the identity 0.0, which also turns a -0 sum into +0.
  const mean = (0 + pairwiseSum(filled)) / count;
  if (count <= 1) return { mean, std: Number.NaN };
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(values[i]!)) continue;
    const d = mean - filled[i]!;
    sq[i] = d * d;
  }
  return { mean, std: Math.sqrt((0 + pairwiseSum(sq)) / (count - 1)) };
}

/** numpy's `rint`: round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  // Math.round rounds halves up; numpy rounds them to the even neighbour.
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** `np.round(x, 2)`: numpy multiplies by 100, rounds half to even, divides by 100 (not a decimal rounding). */
export function roundTo2(x: number): number {
  return rint(x * 100) / 100;
}

/**
 * Evidently's share of a count, as its column summary reports it: `np.round(100 * count / rows, 2) / 100`
 * (a percentage rounded to two decimals, then back to a share), so 1/3 is 0.3333.
 */
export function evidentlyShare(count: number, rows: number): number {
  return roundTo2((100 * count) / rows) / 100;
}

/** What Evidently's column-type test compares: pandas' dtype (float64, int64, object, bool). */
export function storageOf(column: Column): StorageType {
  if (column.kind === 'number') return column.integer ? 'integer' : 'float';
  return column.dtype === 'boolean' ? 'boolean' : 'string';
}

/**
 * `Series.quantile(q)` on the ascending non-NaN values: pandas hands numpy the percentage `q * 100`, which numpy
 * divides by 100 again, and that round trip is not exact for every q (0.007 comes back as 0.007000000000000001),
 * so it is repeated here to land on the same double.
 */
export function pandasQuantileSorted(sorted: Float64Array, q: number): number {
  return quantileSorted(sorted, (q * 100) / 100);
}
