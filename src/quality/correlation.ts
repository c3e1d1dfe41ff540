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
  let best = 0;
  for (const r of pairCorrelations(features)) {
    const a = Math.abs(r);
    if (a > best) best = a;
  }
  return best;
}

/**
 * Pearson r of every pair (i, j) with j < i, the later column `features[i]` in the x role as pandas walks them, at
 * index i (i - 1) / 2 + j: the very bits `pearsonPairwiseComplete(features[i], features[j])` gives.
 *
 * Columns without a missing or infinite value take every row, so Welford's running mean of a column is the same in
 * every pair it is part of. Each such column's deviations from its running mean, before and after each row's
 * update, are computed once; the pair's co-moment is then the plain sum of (x after) x (y before) in row order,
 * and x's own sum of squares is the same in every pair. Four pairs are summed in one pass so that their additions
 * do not wait on each other. Other pairs take the row-by-row path.
 */
export function pairCorrelations(features: ReadonlyArray<Float64Array>): Float64Array {
  const p = features.length;
  const out = new Float64Array((p * (p - 1)) / 2);
  const moments = features.map((f) => (allFinite(f) ? runningDeviations(f) : null));
  const fast: number[] = [];
  for (let i = 0; i < p; i++) {
    const x = features[i]!;
    const mx = moments[i];
    const base = (i * (i - 1)) / 2;
    fast.length = 0;
    for (let j = 0; j < i; j++) {
      if (mx && moments[j] && features[j]!.length === x.length) fast.push(j);
      else out[base + j] = pearsonPairwiseComplete(x, features[j]!);
    }
    if (!mx) continue;
    const after = mx.after;
    const n = x.length;
    let g = 0;
    for (; g + 4 <= fast.length; g += 4) {
      const j0 = fast[g]!;
      const j1 = fast[g + 1]!;
      const j2 = fast[g + 2]!;
      const j3 = fast[g + 3]!;
      const b0 = moments[j0]!.before;
      const b1 = moments[j1]!.before;
      const b2 = moments[j2]!.before;
      const b3 = moments[j3]!.before;
      let c0 = 0;
      let c1 = 0;
      let c2 = 0;
      let c3 = 0;
      for (let r = 0; r < n; r++) {
        const a = after[r]!;
        c0 += a * b0[r]!;
        c1 += a * b1[r]!;
        c2 += a * b2[r]!;
        c3 += a * b3[r]!;
      }
      out[base + j0] = finishPearson(n, c0, mx.squares, moments[j0]!.squares);
      out[base + j1] = finishPearson(n, c1, mx.squares, moments[j1]!.squares);
      out[base + j2] = finishPearson(n, c2, mx.squares, moments[j2]!.squares);
      out[base + j3] = finishPearson(n, c3, mx.squares, moments[j3]!.squares);
    }
    for (; g < fast.length; g++) {
      const j = fast[g]!;
      const before = moments[j]!.before;
      let c = 0;
      for (let r = 0; r < n; r++) c += after[r]! * before[r]!;
      out[base + j] = finishPearson(n, c, mx.squares, moments[j]!.squares);
    }
  }
  return out;
}

function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

/**
 * A complete column's deviations from Welford's running mean as `pearsonPairwiseComplete` updates it: `before`
 * each row's update (its dx) and `after` it (its vx - meanx), and the sum of their products (its ssqdmx).
 */
function runningDeviations(x: Float64Array): { before: Float64Array; after: Float64Array; squares: number } {
  const n = x.length;
  const before = new Float64Array(n);
  const after = new Float64Array(n);
  let mean = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const d = v - mean;
    mean += (1 / (i + 1)) * d;
    const a = v - mean;
    before[i] = d;
    after[i] = a;
    squares += a * d;
  }
  return { before, after, squares };
}

/** `cov / sqrt(ssx * ssy)` clipped to [-1, 1], NaN without rows or with a constant side (as in the pairwise path). */
function finishPearson(n: number, cov: number, ssx: number, ssy: number): number {
  if (n < 1) return Number.NaN;
  const divisor = Math.sqrt(ssx * ssy);
  if (divisor === 0) return Number.NaN;
  return Math.min(1, Math.max(-1, cov / divisor));
}
