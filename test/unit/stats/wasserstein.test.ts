import { describe, expect, it } from 'vitest';
import { wassersteinSorted } from '../../../src/stats/wasserstein.js';
import { mulberry32 } from '../../../bench/seeded-random.js';

/** scipy's `_cdf_distance(1, u, v)` written out: |F_u - F_v| over the gaps of the merged, sorted sample. */
function scipyWasserstein(u: Float64Array, v: Float64Array): number {
  const all = Float64Array.from([...u, ...v]).sort();
  const cdf = (xs: Float64Array, x: number): number => {
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo / xs.length;
  };
  let sum = 0;
  for (let i = 0; i + 1 < all.length; i++) sum += Math.abs(cdf(u, all[i]!) - cdf(v, all[i]!)) * (all[i + 1]! - all[i]!);
  return sum;
}

/** The integral over probability as a merge of both samples' breakpoints, one step per breakpoint (N + M steps). */
function mergeByBreakpoints(u: Float64Array, v: Float64Array): number {
  const n = u.length;
  const m = v.length;
  let k = 0;
  let l = 0;
  let sum = 0;
  let at = 0;
  let nextU = m;
  let nextV = n;
  while (k < n && l < m) {
    const d = Math.abs(u[k]! - v[l]!);
    if (nextU <= nextV) {
      sum += d * (nextU - at);
      at = nextU;
      if (nextU === nextV) {
        l++;
        nextV += n;
      }
      k++;
      nextU += m;
    } else {
      sum += d * (nextV - at);
      at = nextV;
      l++;
      nextV += n;
    }
  }
  return sum / n / m;
}

describe('wassersteinSorted (integral over probability)', () => {
  it('gives the bits of the merge by breakpoints, either way round (it walks only the longer sample)', () => {
    const rnd = mulberry32(3);
    for (const [n, m] of [[5000, 1000], [1000, 5000], [997, 89], [64, 64], [3, 1], [1, 1]] as const) {
      const u = Float64Array.from({ length: n }, () => rnd() * 10).sort();
      const v = Float64Array.from({ length: m }, () => rnd() * 10 + 0.2).sort();
      expect(Object.is(wassersteinSorted(u, v), mergeByBreakpoints(u, v))).toBe(true);
      expect(Object.is(wassersteinSorted(v, u), mergeByBreakpoints(v, u))).toBe(true);
    }
    expect(wassersteinSorted(new Float64Array(0), Float64Array.of(1))).toBeNaN();
  });

  it('matches the CDF form for sizes that do and do not divide each other, ties and shifted samples', () => {
    const rnd = mulberry32(11);
    for (const [n, m, shift, round] of [[50, 10, 0, false], [37, 91, 0.5, false], [1, 7, 2, false], [200, 200, 0, true], [64, 3, -1, true]] as const) {
      const draw = (k: number, d: number): Float64Array =>
        Float64Array.from({ length: k }, () => {
          const x = rnd() * 3 + d;
          return round ? Math.round(x * 2) / 2 : x;
        }).sort();
      const u = draw(n, 0);
      const v = draw(m, shift);
      const want = scipyWasserstein(u, v);
      expect(Math.abs(wassersteinSorted(u, v) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
      expect(Math.abs(wassersteinSorted(v, u) - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
    }
  });

  it('is zero for identical samples and the shift for a shifted copy', () => {
    const u = Float64Array.from([1, 2, 2, 3, 7]);
    expect(wassersteinSorted(u, u)).toBe(0);
    expect(wassersteinSorted(u, u.map((x) => x + 1.5))).toBeCloseTo(1.5, 14);
  });
});
