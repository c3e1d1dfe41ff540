import type { Column, Table } from '../core/table.js';
import type { NumericalProfile, ReferenceProfile } from '../profile/reference-profile.js';
import { mahalanobisContributions, mahalanobisScores } from '../stats/mahalanobis.js';
import { chi2Ppf } from '../stats/special.js';

/**
 * Outliers of the current rows, scored against the reference profile:
 * - IQR: outside [Q1 - k IQR, Q3 + k IQR] of the reference (quartiles with linear interpolation), k = 1.5;
 * - z-score: |x - mean_R| / std_R > 3, std at ddof 0 (scipy's `zscore`);
 * - Mahalanobis over the numerical features: d2 above the chi-square quantile at 0.999 with as many degrees of
 *   freedom as the covariance has rank (the number of features when it is regular), with each flagged row's
 *   per-feature shares of d2.
 * Each reports rows scored, rows flagged, the share flagged and (bounded) which rows.
 */

export interface OutlierOptions {
  /** IQR multiplier k (default 1.5). */
  readonly iqrK?: number;
  /** z-score cut-off (default 3). */
  readonly zThreshold?: number;
  /** Chi-square quantile for Mahalanobis (default 0.999). */
  readonly mahalanobisQuantile?: number;
  /** At most this many flagged rows are listed per method (default 20). */
  readonly maxExamples?: number;
}

export interface ColumnOutliers {
  readonly column: string;
  readonly rows: number;
  readonly flagged: number;
  readonly share: number;
  readonly bounds?: { readonly lower: number; readonly upper: number };
  /** 0-based row indices of the first flagged rows. */
  readonly flagged_rows: number[];
  readonly status: 'ok' | 'insufficient_data';
  readonly reason?: string;
}

export interface FeatureShare {
  readonly feature: string;
  /** Share of the flagged rows' total d2 that this feature contributed. */
  readonly share: number;
}

export interface MahalanobisOutliers {
  readonly rows: number;
  readonly flagged: number;
  readonly share: number;
  /** The d2 cut-off; absent when nothing was scored. */
  readonly threshold?: number;
  readonly features: string[];
  readonly rank: number;
  readonly top_features?: FeatureShare[];
  readonly examples: Array<{ readonly row: number; readonly d2: number; readonly top_features: FeatureShare[] }>;
  readonly status: 'ok' | 'insufficient_data';
  readonly reason?: string;
}

export interface OutlierReport {
  readonly iqr: ColumnOutliers[];
  readonly zscore: ColumnOutliers[];
  readonly mahalanobis: MahalanobisOutliers;
}

const TOP_FEATURES = 5;

export function detectOutliers(profile: ReferenceProfile, current: Table, options: OutlierOptions = {}): OutlierReport {
  const k = options.iqrK ?? 1.5;
  const zCut = options.zThreshold ?? 3;
  const maxExamples = options.maxExamples ?? 20;
  const byName = new Map(current.columns.map((c) => [c.name, c] as const));
  const iqr: ColumnOutliers[] = [];
  const zscore: ColumnOutliers[] = [];
  for (const ref of profile.columns) {
    if (ref.type !== 'numerical') continue;
    const col = byName.get(ref.name);
    if (!col || col.kind !== 'number') continue;
    iqr.push(iqrOutliers(ref, col.values, k, maxExamples));
    zscore.push(zscoreOutliers(ref, col.values, zCut, maxExamples));
  }
  return {
    iqr,
    zscore,
    mahalanobis: mahalanobisOutliers(profile, byName, options.mahalanobisQuantile ?? 0.999, maxExamples),
  };
}

/**
 * How a value is flagged: outside [lower, upper] (IQR), or a z-score |v - mean| / std above `cut`, compared through
 * the z-score itself as scipy's zscore would (precomputed bounds can differ in the last bit on the boundary).
 */
type OutlierTest =
  | { readonly kind: 'outside'; readonly lower: number; readonly upper: number }
  | { readonly kind: 'zscore'; readonly mean: number; readonly std: number; readonly cut: number };

/**
 * Counts the finite values the test flags, keeping the first `maxExamples` row indices. O(n). The test is a plain
 * expression in one of two loops, not a callback per value (40 columns x 10 000 rows a window).
 */
function countFlagged(name: string, values: Float64Array, test: OutlierTest, maxExamples: number): Omit<ColumnOutliers, 'status'> {
  let rows = 0;
  let flagged = 0;
  const examples: number[] = [];
  const note = (i: number): void => {
    flagged++;
    if (examples.length < maxExamples) examples.push(i);
  };
  if (test.kind === 'outside') {
    const { lower, upper } = test;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      rows++;
      if (v < lower || v > upper) note(i);
    }
  } else {
    const { mean, std, cut } = test;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      rows++;
      if (Math.abs(v - mean) / std > cut) note(i);
    }
  }
  return { column: name, rows, flagged, share: rows === 0 ? 0 : flagged / rows, flagged_rows: examples };
}

function iqrOutliers(ref: NumericalProfile, values: Float64Array, k: number, maxExamples: number): ColumnOutliers {
  if (ref.sorted.length === 0) return notScored(ref.name, 'the reference has no finite values');
  const spread = ref.q3 - ref.q1;
  const lower = ref.q1 - k * spread;
  const upper = ref.q3 + k * spread;
  const counted = countFlagged(ref.name, values, { kind: 'outside', lower, upper }, maxExamples);
  if (counted.rows === 0) return notScored(ref.name, 'the current data has no finite values in this column');
  return { ...counted, bounds: { lower, upper }, status: 'ok' };
}

function zscoreOutliers(ref: NumericalProfile, values: Float64Array, cut: number, maxExamples: number): ColumnOutliers {
  if (ref.sorted.length === 0) return notScored(ref.name, 'the reference has no finite values');
  if (!(ref.std > 0)) return notScored(ref.name, 'the reference is constant (standard deviation 0): z-scores are undefined');
  const { mean, std } = ref;
  if (!Number.isFinite(std)) return notScored(ref.name, 'the reference standard deviation overflows a double');
  const counted = countFlagged(ref.name, values, { kind: 'zscore', mean, std, cut }, maxExamples);
  if (counted.rows === 0) return notScored(ref.name, 'the current data has no finite values in this column');
  return { ...counted, bounds: { lower: mean - cut * std, upper: mean + cut * std }, status: 'ok' };
}

function notScored(column: string, reason: string): ColumnOutliers {
  return { column, rows: 0, flagged: 0, share: 0, flagged_rows: [], status: 'insufficient_data', reason };
}

function mahalanobisOutliers(
  profile: ReferenceProfile,
  byName: ReadonlyMap<string, Column>,
  quantile: number,
  maxExamples: number,
): MahalanobisOutliers {
  const empty = { rows: 0, flagged: 0, share: 0, rank: 0, examples: [] };
  const m = profile.mahalanobis;
  if (!m) {
    return {
      ...empty,
      features: [],
      status: 'insufficient_data',
      reason: 'the reference needs at least 2 rows with every numerical feature present',
    };
  }
  const columns: Float64Array[] = [];
  for (const f of m.features) {
    const col = byName.get(f);
    if (!col || col.kind !== 'number') {
      return { ...empty, features: m.features, status: 'insufficient_data', reason: `feature "${f}" is missing or not numerical` };
    }
    columns.push(col.values);
  }
  if (m.model.rank === 0) {
    return { ...empty, features: m.features, status: 'insufficient_data', reason: 'every numerical feature is constant in the reference' };
  }
  const threshold = chi2Ppf(quantile, m.model.rank);
  const scores = mahalanobisScores(m.model, columns);
  const p = m.features.length;
  const totals = new Float64Array(p);
  let flaggedD2 = 0;
  let flagged = 0;
  const examples: MahalanobisOutliers['examples'] = [];
  const x = new Float64Array(p);
  for (let k = 0; k < scores.rows.length; k++) {
    if (!(scores.d2[k]! > threshold)) continue;
    flagged++;
    const row = scores.rows[k]!;
    for (let j = 0; j < p; j++) x[j] = columns[j]![row]!;
    const contrib = mahalanobisContributions(m.model, x);
    for (let j = 0; j < p; j++) totals[j]! += contrib[j]!;
    flaggedD2 += scores.d2[k]!;
    if (examples.length < maxExamples) {
      examples.push({ row, d2: scores.d2[k]!, top_features: topShares(m.features, contrib, scores.d2[k]!) });
    }
  }
  const rows = scores.rows.length;
  if (rows === 0) {
    return {
      ...empty,
      features: m.features,
      rank: m.model.rank,
      status: 'insufficient_data',
      reason: 'no current row has every numerical feature present',
    };
  }
  const out: MahalanobisOutliers = {
    rows,
    flagged,
    share: rows === 0 ? 0 : flagged / rows,
    threshold,
    features: m.features,
    rank: m.model.rank,
    examples,
    status: 'ok',
  };
  return flagged > 0 ? { ...out, top_features: topShares(m.features, totals, flaggedD2) } : out;
}

function topShares(features: ReadonlyArray<string>, contributions: Float64Array, total: number): FeatureShare[] {
  return features
    .map((feature, j) => ({ feature, share: total > 0 ? contributions[j]! / total : 0 }))
    .sort((a, b) => b.share - a.share)
    .slice(0, TOP_FEATURES);
}
