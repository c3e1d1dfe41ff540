/**
 * Reference-vs-current distributions for the HTML report, computed straight from the typed-array columns (one
 * pass per side, no object per value):
 * - numerical: one set of edges over the pooled finite range of both sides (at most `maxBins` equal bins; integer
 *   columns with a short range get one bin per integer), and each side's share of its own finite values per bin;
 * - categorical: the `maxCategories` categories with the largest pooled share (reference share + current share,
 *   rather than pooled count, so a category that only the smaller side has still makes the list), the rest summed
 *   into one "(other)" bucket (only when it holds two categories or more: one would take a bar of its own anyway).
 * Missing values (NaN, ±inf in number columns, null in text columns) are left out of both sides and counted apart.
 */
import type { Column } from '../../core/table.js';
import { compareCodePoints } from '../../profile/categories.js';

/** Histogram of a numerical column: `edges.length === reference.length + 1` (empty when neither side has values). */
export interface NumericalHistogram {
  readonly kind: 'numerical';
  /** Ascending bin edges; bin i is [edges[i], edges[i+1]), the last bin closed. */
  readonly edges: ReadonlyArray<number>;
  /** Share of the reference's finite values per bin (sums to 1, or all 0 when the side has none). */
  readonly reference: ReadonlyArray<number>;
  readonly current: ReadonlyArray<number>;
  /** Finite values counted per side. */
  readonly referenceCount: number;
  readonly currentCount: number;
  /** Values left out per side (NaN, ±inf). */
  readonly referenceMissing: number;
  readonly currentMissing: number;
}

/** Category shares of both sides; when `otherBucket` is true the last entry is the sum of the categories not listed. */
export interface CategoricalHistogram {
  readonly kind: 'categorical';
  /** Category labels (numbers written as JavaScript prints them), largest pooled share first. */
  readonly categories: ReadonlyArray<string>;
  readonly reference: ReadonlyArray<number>;
  readonly current: ReadonlyArray<number>;
  /** The last entry is "(other)": every category past the top ones. */
  readonly otherBucket: boolean;
  /** Distinct categories over both sides (before the cut). */
  readonly distinct: number;
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly referenceMissing: number;
  readonly currentMissing: number;
}

/** Either kind of histogram, as the report model carries it. */
export type Histogram = NumericalHistogram | CategoricalHistogram;

/** Bins of a numerical histogram unless told otherwise. */
export const DEFAULT_MAX_BINS = 20;
/** Categories shown by name unless told otherwise; the rest go to "(other)". */
export const DEFAULT_MAX_CATEGORIES = 12;
/** The label of the bucket holding the categories past the top ones. */
export const OTHER_LABEL = '(other)';

/** Options of `numericalHistogram`. */
export interface NumericalHistogramOptions {
  /** At most this many bins (default 20, at least 1). */
  readonly maxBins?: number;
  /** One bin per integer when both sides are integer-typed and the range fits in `maxBins` (default true). */
  readonly integerBins?: boolean;
}

/**
 * Shared-edge histogram of two numerical columns (a text column on either side counts as all missing). O(n + m).
 */
export function numericalHistogram(reference: Column, current: Column, options: NumericalHistogramOptions = {}): NumericalHistogram {
  const maxBins = Math.max(1, Math.floor(options.maxBins ?? DEFAULT_MAX_BINS));
  const ref = finiteRange(reference);
  const cur = finiteRange(current);
  const base = {
    kind: 'numerical' as const,
    referenceCount: ref.count,
    currentCount: cur.count,
    referenceMissing: ref.missing,
    currentMissing: cur.missing,
  };
  if (ref.count + cur.count === 0) return { ...base, edges: [], reference: [], current: [] };
  const min = Math.min(ref.min, cur.min);
  const max = Math.max(ref.max, cur.max);
  const integer = (options.integerBins ?? true) && isInteger(reference) && isInteger(current);
  let lo: number;
  let bins: number;
  let width: number;
  if (integer && max - min + 1 <= maxBins) {
    lo = min - 0.5;
    bins = max - min + 1;
    width = 1;
  } else if (max === min) {
    lo = min - 0.5;
    bins = 1;
    width = 1;
  } else {
    lo = min;
    bins = maxBins;
    width = (max - min) / bins;
    // A range so narrow that the bins cannot be told apart in floating point: one bin.
    if (!(width > 0) || lo + width === lo) {
      bins = 1;
      width = max - min;
    }
  }
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = lo + i * width;
  if (!integer && max !== min) edges[bins] = max;
  return {
    ...base,
    edges,
    reference: binShares(reference, lo, width, bins, ref.count),
    current: binShares(current, lo, width, bins, cur.count),
  };
}

/** Options of `categoricalHistogram`. */
export interface CategoricalHistogramOptions {
  /** Categories listed by name (default 12, at least 1); the rest are summed into "(other)" when there are 2+. */
  readonly maxCategories?: number;
}

/**
 * Category shares of two columns of any kind (numbers are categories by value, -0 and 0 being one). O(n + m) plus
 * a sort of the distinct categories.
 */
export function categoricalHistogram(reference: Column, current: Column, options: CategoricalHistogramOptions = {}): CategoricalHistogram {
  const maxCategories = Math.max(1, Math.floor(options.maxCategories ?? DEFAULT_MAX_CATEGORIES));
  const ref = countKeys(reference);
  const cur = countKeys(current);
  const keys = new Set<string>([...ref.counts.keys(), ...cur.counts.keys()]);
  const pooled = (k: string): number =>
    (ref.size > 0 ? (ref.counts.get(k) ?? 0) / ref.size : 0) + (cur.size > 0 ? (cur.counts.get(k) ?? 0) / cur.size : 0);
  const ranked = [...keys]
    .map((k) => ({ k, p: pooled(k) }))
    .sort((a, b) => b.p - a.p || compareCodePoints(a.k, b.k))
    .map((e) => e.k);
  // "(other)" takes a bar, so it is only worth it when it holds at least two categories.
  const shown = ranked.length <= maxCategories + 1 ? ranked : ranked.slice(0, maxCategories);
  const otherBucket = shown.length < ranked.length;
  const share = (counts: Map<string, number>, size: number, k: string): number => (size > 0 ? (counts.get(k) ?? 0) / size : 0);
  const refShares = shown.map((k) => share(ref.counts, ref.size, k));
  const curShares = shown.map((k) => share(cur.counts, cur.size, k));
  if (otherBucket) {
    // Summed from the counts (not 1 - the rest) so rounding never makes a share negative or hides a tiny rest.
    const rest = (counts: Map<string, number>, size: number): number => {
      if (size === 0) return 0;
      let listed = 0;
      for (const k of shown) listed += counts.get(k) ?? 0;
      return (size - listed) / size;
    };
    refShares.push(rest(ref.counts, ref.size));
    curShares.push(rest(cur.counts, cur.size));
  }
  return {
    kind: 'categorical',
    categories: otherBucket ? [...shown, OTHER_LABEL] : shown,
    reference: refShares,
    current: curShares,
    otherBucket,
    distinct: ranked.length,
    referenceCount: ref.size,
    currentCount: cur.size,
    referenceMissing: ref.missing,
    currentMissing: cur.missing,
  };
}

/** The histogram a column of this type gets: numerical edges for a numerical column, category shares otherwise. */
export function columnHistogram(
  type: 'numerical' | 'categorical',
  reference: Column,
  current: Column,
  options: NumericalHistogramOptions & CategoricalHistogramOptions = {},
): Histogram {
  if (type === 'numerical' && reference.kind === 'number' && current.kind === 'number') {
    return numericalHistogram(reference, current, options);
  }
  return categoricalHistogram(reference, current, options);
}

function finiteRange(column: Column): { min: number; max: number; count: number; missing: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let count = 0;
  if (column.kind !== 'number') return { min, max, count, missing: column.values.length };
  const values = column.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
  }
  return { min, max, count, missing: values.length - count };
}

function isInteger(column: Column): boolean {
  return column.kind === 'number' && column.integer;
}

function binShares(column: Column, lo: number, width: number, bins: number, count: number): number[] {
  const counts = new Float64Array(bins);
  if (column.kind === 'number' && count > 0) {
    const values = column.values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      let b = Math.floor((v - lo) / width);
      if (b < 0) b = 0;
      else if (b >= bins) b = bins - 1;
      counts[b]!++;
    }
  }
  return Array.from(counts, (c) => (count > 0 ? c / count : 0));
}

function countKeys(column: Column): { counts: Map<string, number>; size: number; missing: number } {
  const counts = new Map<string, number>();
  let size = 0;
  if (column.kind === 'number') {
    const values = column.values;
    // Count by number first (no string per value), then name the distinct ones.
    const byValue = new Map<number, number>();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      const key = v === 0 ? 0 : v;
      byValue.set(key, (byValue.get(key) ?? 0) + 1);
      size++;
    }
    for (const [v, c] of byValue) counts.set(String(v), c);
    return { counts, size, missing: values.length - size };
  }
  for (const v of column.values) {
    if (v === null) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    size++;
  }
  return { counts, size, missing: column.values.length - size };
}
