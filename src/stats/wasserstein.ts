/**
 * First Wasserstein (earth mover's) distance between two empirical distributions, as scipy's
 * `stats.wasserstein_distance(u, v)`. Both inputs sorted ascending and finite. O(n + m).
 *
 * scipy integrates |F_u - F_v| over x (the gaps of the merged sample); this integrates the same area the other
 * way, over probability: W1 = integral over t in (0, 1) of |Q_u(t) - Q_v(t)|, the quantile functions being
 * u[k] on [k/n, (k+1)/n) and v[l] on [l/m, (l+1)/m). In units of 1/(n m) the breakpoints are the integers
 * (k+1) m and (l+1) n, so which comes next depends only on n and m, never on the data: the loop's one branch
 * follows a fixed pattern the processor predicts, where the merge by value mispredicts about every other step
 * (4-5x slower on 60 000 values). Exact arithmetic gives the same number; in floating point the two sums
 * differ by rounding only (relative 1e-13 or less in the golden cases against scipy).
 */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  // Walk the longer sample's segments: with N >= M, each of them (M units long) holds at most one breakpoint of
  // the shorter sample's (N units apart), so the walk takes N steps instead of N + M and splits a segment in two
  // where a breakpoint falls inside it. The terms and their order are those of the merge by breakpoints, so the
  // sum is the same whichever way round the samples come; |a - b| = |b - a| exactly.
  const [a, b] = u.length >= v.length ? [u, v] : [v, u];
  const n = a.length;
  const m = b.length;
  if (m === 0) return Number.NaN;
  // Breakpoints in units of 1 / (n m): (k + 1) m for a, (l + 1) n for b; they stay at most n m + n, exact in
  // doubles while that is below 2^53 (n = m up to about 9.5e7), and compared exactly.
  let l = 0;
  let nextB = n;
  let start = 0;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const end = start + m;
    const x = a[k]!;
    if (nextB < end) {
      sum += Math.abs(x - b[l]!) * (nextB - start);
      l++;
      sum += Math.abs(x - b[l]!) * (end - nextB);
      nextB += n;
    } else {
      sum += Math.abs(x - b[l]!) * m;
      if (nextB === end) {
        l++;
        nextB += n;
      }
    }
    start = end;
  }
  return sum / u.length / v.length;
}

/**
 * Evidently's normed Wasserstein distance: `W1(R, C) / max(std(R, ddof=0), 0.001)`.
 * `refStd` is the reference's population standard deviation (computed once with the profile).
 */
export function wassersteinNormed(refSorted: Float64Array, curSorted: Float64Array, refStd: number): number {
  return wassersteinSorted(refSorted, curSorted) / Math.max(refStd, 0.001);
}
