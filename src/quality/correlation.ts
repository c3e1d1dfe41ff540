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
 * do not wait on each other. Rows go in blocks of ROW_BLOCK (each sum carried from block to block, so in the same
 * order), which bounds the deviations held at once whatever the window's size. Other pairs take the row-by-row
 * path.
 */
export function pairCorrelations(features: ReadonlyArray<Float64Array>): Float64Array {
  const p = features.length;
  const out = new Float64Array((p * (p - 1)) / 2);
  const n = p > 0 ? features[0]!.length : 0;
  // The columns of the common length with every value finite take the blocked path together.
  const fast = features.map((f) => f.length === n && allFinite(f));
  const fastColumns: number[] = [];
  for (let i = 0; i < p; i++) {
    if (!fast[i]) {
      for (let j = 0; j < i; j++) out[(i * (i - 1)) / 2 + j] = pearsonPairwiseComplete(features[i]!, features[j]!);
      continue;
    }
    for (let j = 0; j < i; j++) if (!fast[j]) out[(i * (i - 1)) / 2 + j] = pearsonPairwiseComplete(features[i]!, features[j]!);
    fastColumns.push(i);
  }
  if (fastColumns.length < 2) return out;
  const block = Math.min(ROW_BLOCK, n);
  const state = fastColumns.map(() => ({ mean: 0, squares: 0, before: new Float64Array(block), after: new Float64Array(block) }));
  // out holds each fast pair's co-moment while the blocks go by; divided at the end.
  for (let from = 0; from < n; from += block) {
    const rows = Math.min(block, n - from);
    fastColumns.forEach((c, k) => runningDeviations(features[c]!, from, rows, state[k]!));
    for (let a = 1; a < fastColumns.length; a++) {
      const after = state[a]!.after;
      const base = (fastColumns[a]! * (fastColumns[a]! - 1)) / 2;
      let b = 0;
      for (; b + 4 <= a; b += 4) {
        const b0 = state[b]!.before;
        const b1 = state[b + 1]!.before;
        const b2 = state[b + 2]!.before;
        const b3 = state[b + 3]!.before;
        const o0 = base + fastColumns[b]!;
        const o1 = base + fastColumns[b + 1]!;
        const o2 = base + fastColumns[b + 2]!;
        const o3 = base + fastColumns[b + 3]!;
        let c0 = out[o0]!;
        let c1 = out[o1]!;
        let c2 = out[o2]!;
        let c3 = out[o3]!;
        for (let r = 0; r < rows; r++) {
          const x = after[r]!;
          c0 += x * b0[r]!;
          c1 += x * b1[r]!;
          c2 += x * b2[r]!;
          c3 += x * b3[r]!;
        }
        out[o0] = c0;
        out[o1] = c1;
        out[o2] = c2;
        out[o3] = c3;
      }
      for (; b < a; b++) {
        const before = state[b]!.before;
        const o = base + fastColumns[b]!;
        let c = out[o]!;
        for (let r = 0; r < rows; r++) c += after[r]! * before[r]!;
        out[o] = c;
      }
    }
  }
  for (let a = 1; a < fastColumns.length; a++) {
    const base = (fastColumns[a]! * (fastColumns[a]! - 1)) / 2;
    for (let b = 0; b < a; b++) {
      const o = base + fastColumns[b]!;
      out[o] = finishPearson(n, out[o]!, state[a]!.squares, state[b]!.squares);
    }
  }
  return out;
}

/** Rows per block of `pairCorrelations` (2 x 8 x 4096 bytes per column at a time). */
const ROW_BLOCK = 4096;

function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

/**
 * Rows [from, from + rows) of a complete column through Welford's running mean as `pearsonPairwiseComplete`
 * updates it: each row's deviation `before` the update (its dx) and `after` it (its vx - meanx), into the block's
 * arrays, and the sum of their products (its ssqdmx) carried on in `state`.
 */
function runningDeviations(
  x: Float64Array,
  from: number,
  rows: number,
  state: { mean: number; squares: number; readonly before: Float64Array; readonly after: Float64Array },
): void {
  const { before, after } = state;
  let mean = state.mean;
  let squares = state.squares;
  for (let r = 0; r < rows; r++) {
    const i = from + r;
    const v = x[i]!;
    const d = v - mean;
    mean += (1 / (i + 1)) * d;
    const a = v - mean;
    before[r] = d;
    after[r] = a;
    squares += a * d;
  }
  state.mean = mean;
  state.squares = squares;
}

/** `cov / sqrt(ssx * ssy)` clipped to [-1, 1], NaN without rows or with a constant side (as in the pairwise path). */
function finishPearson(n: number, cov: number, ssx: number, ssy: number): number {
  if (n < 1) return Number.NaN;
  const divisor = Math.sqrt(ssx * ssy);
  if (divisor === 0) return Number.NaN;
  return Math.min(1, Math.max(-1, cov / divisor));
}
