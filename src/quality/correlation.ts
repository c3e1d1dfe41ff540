/**
 * The largest absolute Pearson correlation between numerical features, as Evidently's "highly correlated
 * columns" test reads it from `DataFrame.corr("pearson")` with the diagonal set to 0.
 */

/**
 * Pearson correlation of two columns over the rows where both are finite, computed like pandas' `nancorr`
 * (Welford updates in row order, then `cov / sqrt(ssx * ssy)` clipped to [-1, 1]); NaN with no such row or when
 * either column is constant there. O(n).
 */
export function pearsonPairwiseComplete(x: Float64Array, y: Float64Array): number {
  let nobs = 0;
  let meanx = 0;
  let meany = 0;
  let ssqdmx = 0;
  let ssqdmy = 0;
  let covxy = 0;
  for (let i = 0; i < x.length; i++) {
    const vx = x[i]!;
    const vy = y[i]!;
    // pandas masks with isfinite: an infinite value drops the row from the pair, unlike mean and quantiles.
    if (!Number.isFinite(vx) || !Number.isFinite(vy)) continue;
    nobs++;
    const dx = vx - meanx;
    const dy = vy - meany;
    meanx += (1 / nobs) * dx;
    meany += (1 / nobs) * dy;
    ssqdmx += (vx - meanx) * dx;
    ssqdmy += (vy - meany) * dy;
    covxy += (vx - meanx) * dy;
  }
  if (nobs < 1) return Number.NaN;
  const divisor = Math.sqrt(ssqdmx * ssqdmy);
  if (divisor === 0) return Number.NaN;
  return Math.min(1, Math.max(-1, covxy / divisor));
}

/**
 * max |r| over pairs of `features` (each a numerical column with at least two distinct values). With one feature
 * the answer is 0, because the zeroed diagonal is all there is; with none it is null (Evidently: no value, so the
 * test cannot pass). Pairs whose correlation is NaN are skipped, as pandas' `max()` skips them.
 * O(rows x features^2).
 */
export function maxAbsCorrelation(features: ReadonlyArray<Float64Array>): number | null {
  if (features.length === 0) return null;
  // Columns without a missing or infinite value take every row: their pairs run without the per-row checks,
  // and with the Welford weights 1/nobs (nobs = row + 1) computed once for all pairs instead of per pair and row.
  const complete = features.map(allFinite);
  const rows = Math.max(...features.map((f) => f.length));
  const weights = complete.filter(Boolean).length >= 2 ? welfordWeights(rows) : null;
  let best = 0;
  for (let i = 0; i < features.length; i++) {
    for (let j = 0; j < i; j++) {
      // pandas walks (xi, yi) with yi <= xi, the later column in the x role; the formula is not symmetric in
      // the last bits, so keep the same roles.
      const x = features[i]!;
      const y = features[j]!;
      const r = Math.abs(weights && complete[i] && complete[j] && x.length === y.length ? pearsonComplete(x, y, weights) : pearsonPairwiseComplete(x, y));
      if (r > best) best = r;
    }
  }
  return best;
}

function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

/** 1 / (row + 1) for each row: the weight pandas' update uses at that row when no row is skipped. */
function welfordWeights(rows: number): Float64Array {
  const w = new Float64Array(rows);
  for (let i = 0; i < rows; i++) w[i] = 1 / (i + 1);
  return w;
}

/**
 * `pearsonPairwiseComplete` for two columns of finite values only (no row is skipped), with the weights taken
 * from `weights`: the same operations in the same order, so the same bits.
 */
function pearsonComplete(x: Float64Array, y: Float64Array, weights: Float64Array): number {
  let meanx = 0;
  let meany = 0;
  let ssqdmx = 0;
  let ssqdmy = 0;
  let covxy = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const vx = x[i]!;
    const vy = y[i]!;
    const w = weights[i]!;
    const dx = vx - meanx;
    const dy = vy - meany;
    meanx += w * dx;
    meany += w * dy;
    ssqdmx += (vx - meanx) * dx;
    ssqdmy += (vy - meany) * dy;
    covxy += (vx - meanx) * dy;
  }
  if (n < 1) return Number.NaN;
  const divisor = Math.sqrt(ssqdmx * ssqdmy);
  if (divisor === 0) return Number.NaN;
  return Math.min(1, Math.max(-1, covxy / divisor));
}
