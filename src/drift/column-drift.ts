import type { Column } from '../core/table.js';
import { alignCategoryCounts, countCategories, type CategoryCounts } from '../profile/categories.js';
import { asNumbers, type ColumnProfile, type NumericalProfile } from '../profile/reference-profile.js';
import { andersonKSample } from '../stats/anderson.js';
import { chiSquareTest } from '../stats/chisquare.js';
import { cramerVonMises2Sample } from '../stats/cramer-von-mises.js';
import { hellingerNumerical, hellingerShares } from '../stats/hellinger.js';
import { jensenShannonDistance } from '../stats/jensen-shannon.js';
import { klDivergence } from '../stats/kl-div.js';
import { ksTwoSample } from '../stats/ks.js';
import { insufficient, scored, type InsufficientData, type StatResult } from '../stats/outcome.js';
import { populationStabilityIndex } from '../stats/psi.js';
import { sharesOf, zeroFilled } from '../stats/shares.js';
import { alignValueCounts, lowerBound, sortedFinite, valueCountsSorted, type SortedFinite } from '../stats/sorted.js';
import { wassersteinNormed } from '../stats/wasserstein.js';
import { zTestProportions } from '../stats/z-test.js';
import { categoricalBinShares, numericalBinShares, type BinShares } from './binning.js';
import { defaultMethod, METHODS, type MethodName } from './methods.js';

/** One column's drift verdict: the `columns[]` entries of a report. */
export interface ColumnDrift {
  readonly column: string;
  readonly type: 'numerical' | 'categorical';
  readonly method: MethodName;
  /** The p-value or the distance (see METHODS[method].scoreKind); null when the data was insufficient. */
  readonly score: number | null;
  readonly statistic?: number;
  readonly threshold: number;
  readonly drifted: boolean;
  readonly n_reference: number;
  readonly n_current: number;
  readonly status: 'ok' | 'insufficient_data';
  readonly reason?: string;
}

export interface ColumnDriftOptions {
  /** 'auto' (Evidently's choice) or a method; a method that does not apply to the column's type falls back to auto. */
  readonly method?: MethodName | 'auto';
  /** Overrides the method's default threshold. */
  readonly threshold?: number;
}

/** The current window's values of one column, prepared once (sorted, or counted) for every method. */
export type CurrentSample =
  | { readonly type: 'numerical'; readonly sorted: Float64Array; readonly integer: boolean }
  | { readonly type: 'categorical'; readonly counts: CategoryCounts };

/**
 * Drift of one current column against its reference profile. NaN and ±inf are dropped from both sides first;
 * an empty side (or a method that cannot work on what is left) gives an `insufficient_data` result with a reason,
 * never NaN and never "drifted". Cost: O(m log m) for the window plus binary searches into the reference.
 */
export function columnDrift(ref: ColumnProfile, current: Column, options: ColumnDriftOptions = {}, sorted: SortedFinite = sortedFinite): ColumnDrift {
  if (ref.type === 'categorical' && ref.counts.size === 0) return emptyCategoricalReference(ref.name, current, options);
  return sampleDrift(ref, prepareSample(ref, current, sorted), options);
}

/**
 * The window's side of a column, done once: finite values sorted for a numerical column, category counts for a
 * categorical one. Several methods on the same window (a report with ks and psi, say) share it. O(m log m).
 */
export function prepareSample(ref: ColumnProfile, current: Column, sorted: SortedFinite = sortedFinite): CurrentSample {
  if (ref.type === 'numerical') {
    const numbers = asNumbers(current);
    return { type: 'numerical', sorted: sorted(numbers.values), integer: numbers.integer };
  }
  return { type: 'categorical', counts: countCategoriesLike(current, ref.source) };
}

/** Drift of a prepared window sample against its reference profile (see `columnDrift`). */
export function sampleDrift(ref: ColumnProfile, sample: CurrentSample, options: ColumnDriftOptions = {}): ColumnDrift {
  const nRef = ref.type === 'numerical' ? ref.sorted.length : ref.counts.size;
  const nCur = sample.type === 'numerical' ? sample.sorted.length : sample.counts.size;
  const method = chooseMethod(ref, sample, options.method ?? 'auto');
  const info = METHODS[method];
  const threshold = options.threshold ?? info.defaultThreshold;
  const base = { column: ref.name, type: ref.type, method, threshold, n_reference: nRef, n_current: nCur };

  let result: StatResult;
  if (nRef === 0) result = insufficient('the reference has no values after dropping missing and infinite ones');
  else if (nCur === 0) result = insufficient('the current data has no values after dropping missing and infinite ones');
  else result = runMethod(method, ref, sample);

  if (result.status === 'ok' && !Number.isNaN(result.score)) {
    const out: ColumnDrift = {
      ...base,
      score: result.score,
      drifted: info.drifted(result.score, threshold),
      status: 'ok',
    };
    // JSON has no Infinity: an infinite statistic (chi-square with a category the reference never saw) is left out;
    // the p-value (0) says it all.
    return result.statistic === undefined || !Number.isFinite(result.statistic) ? out : { ...out, statistic: result.statistic };
  }
  const reason = result.status === 'insufficient_data' ? result.reason : `${method} gave no number for this data`;
  return { ...base, score: null, drifted: false, status: 'insufficient_data', reason };
}

function emptyCategoricalReference(name: string, current: Column, options: ColumnDriftOptions): ColumnDrift {
  const requested = options.method ?? 'auto';
  const method =
    requested !== 'auto' && METHODS[requested].columnTypes.includes('categorical') ? requested : defaultMethod('categorical', 0, 0);
  return {
    column: name,
    type: 'categorical',
    method,
    score: null,
    threshold: options.threshold ?? METHODS[method].defaultThreshold,
    drifted: false,
    n_reference: 0,
    n_current: current.kind === 'number' ? countFinite(current.values) : current.values.filter((v) => v !== null).length,
    status: 'insufficient_data',
    reason: 'the reference has no values after dropping missing and infinite ones',
  };
}

function countFinite(values: Float64Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) n++;
  return n;
}

/** A categorical current column must be counted with the same kind of keys as the reference. */
function countCategoriesLike(current: Column, refSource: Column['kind']): CategoryCounts {
  if (refSource === 'number' && current.kind !== 'number') {
    throw new TypeError(`column "${current.name}" holds numbers in the reference but ${current.dtype} values here`);
  }
  return countCategories(current);
}

function chooseMethod(ref: ColumnProfile, sample: CurrentSample, requested: MethodName | 'auto'): MethodName {
  if (requested !== 'auto' && METHODS[requested].columnTypes.includes(ref.type)) return requested;
  const nRef = ref.type === 'numerical' ? ref.sorted.length : ref.counts.size;
  return defaultMethod(ref.type, nRef, distinctUnionUpTo(ref, sample, 6));
}

/**
 * Number of distinct values over reference and current together, counted exactly up to `cap` (the default
 * method only asks "more than 5?"), so a window pays O(m) and the reference is never re-scanned.
 */
function distinctUnionUpTo(ref: ColumnProfile, sample: CurrentSample, cap: number): number {
  if (ref.type === 'categorical' || sample.type === 'categorical') {
    const refKeys = ref.type === 'categorical' ? ref.counts.keys : [];
    const curKeys = sample.type === 'categorical' ? sample.counts.keys : [];
    return new Set<string | number>([...refKeys, ...curKeys]).size;
  }
  if (ref.distinctCount >= cap) return ref.distinctCount;
  const seen = new Set<number>(ref.valueCounts ? ref.valueCounts.values : []);
  const s = sample.sorted;
  for (let i = 0; i < s.length && seen.size < cap; i++) seen.add(s[i]!);
  return seen.size;
}

function runMethod(method: MethodName, ref: ColumnProfile, sample: CurrentSample): StatResult {
  if (ref.type === 'numerical' && sample.type === 'numerical') return runNumerical(method, ref, sample.sorted, sample.integer);
  if (ref.type === 'categorical' && sample.type === 'categorical') return runCategorical(method, ref.counts, sample.counts);
  throw new TypeError('reference and current column types differ');
}

function runNumerical(method: MethodName, ref: NumericalProfile, cur: Float64Array, curInteger: boolean): StatResult {
  switch (method) {
    case 'ks':
      return ksTwoSample(ref.sorted, cur);
    case 'wasserstein':
      return scored(wassersteinNormed(ref.sorted, cur, ref.std));
    case 'anderson':
      return andersonKSample(ref.sorted, cur);
    case 'cramer_von_mises':
      return cramerVonMises2Sample(ref.sorted, cur);
    case 'psi':
    case 'kl_div':
    case 'jensenshannon':
      return binnedDistance(method, numericalBinShares(ref, cur, curInteger));
    case 'chisquare':
    case 'z': {
      const aligned = alignValueCounts(ref.valueCounts ?? valueCountsSorted(ref.sorted), valueCountsSorted(cur));
      return method === 'chisquare' ? chiSquareTest(aligned.a, aligned.b) : zTestProportions(aligned.a, aligned.b);
    }
    case 'hellinger': {
      const u = distinctUnion(ref, cur);
      return scored(hellingerNumerical(ref.sorted, cur, u.min, u.max, u.count, ref.integer && curInteger));
    }
  }
}

function runCategorical(method: MethodName, ref: CategoryCounts, cur: CategoryCounts): StatResult {
  switch (method) {
    case 'psi':
    case 'kl_div':
    case 'jensenshannon':
      return binnedDistance(method, categoricalBinShares(ref, cur));
    case 'chisquare':
    case 'z': {
      const aligned = alignCategoryCounts(ref, cur);
      return method === 'chisquare' ? chiSquareTest(aligned.a, aligned.b) : zTestProportions(aligned.a, aligned.b);
    }
    case 'hellinger': {
      const aligned = alignCategoryCounts(ref, cur);
      return scored(hellingerShares(sharesOf(aligned.a, ref.size), sharesOf(aligned.b, cur.size)));
    }
    case 'ks':
    case 'wasserstein':
    case 'anderson':
    case 'cramer_von_mises':
      throw new TypeError(`${method} does not apply to categorical columns`);
  }
}

function binnedDistance(method: 'psi' | 'kl_div' | 'jensenshannon', bins: BinShares | InsufficientData): StatResult {
  if ('status' in bins) return bins;
  if (method === 'jensenshannon') return scored(jensenShannonDistance(bins.reference, bins.current));
  const r = zeroFilled(bins.reference);
  const c = zeroFilled(bins.current);
  return scored(method === 'psi' ? populationStabilityIndex(r, c) : klDivergence(r, c));
}

/**
 * Distinct values of reference and current together: count, min and max. The reference side is its profile's
 * distinct count; values of the window are looked up in the sorted reference. O(m log n).
 */
function distinctUnion(ref: NumericalProfile, cur: Float64Array): { count: number; min: number; max: number } {
  const curDistinct = valueCountsSorted(cur).values;
  let common = 0;
  for (let i = 0; i < curDistinct.length; i++) {
    const v = curDistinct[i]!;
    const at = lowerBound(ref.sorted, v);
    if (at < ref.sorted.length && ref.sorted[at] === v) common++;
  }
  return {
    count: ref.distinctCount + curDistinct.length - common,
    min: Math.min(ref.min, cur[0]!),
    max: Math.max(ref.max, cur[cur.length - 1]!),
  };
}
