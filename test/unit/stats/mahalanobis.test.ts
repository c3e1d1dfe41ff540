import { describe, expect, it } from 'vitest';
import { fitMahalanobis, mahalanobisScores } from '../../../src/stats/mahalanobis.js';
import { mulberry32 } from '../../../bench/seeded-random.js';

describe('mahalanobisScores', () => {
  const rnd = mulberry32(11);
  const columns = (p: number, n: number): Float64Array[] => {
    const base = Float64Array.from({ length: n }, () => rnd() * 4 - 2);
    return Array.from({ length: p }, (_, j) => Float64Array.from({ length: n }, (_, i) => (j % 2 === 0 ? 0.6 * base[i]! : 0) + rnd() * (j + 1)));
  };

  /** One row at a time: d2 = sum_a diff_a (P_aa diff_a + 2 sum_{b>a} P_ab diff_b), in this order. */
  function rowByRow(model: NonNullable<ReturnType<typeof fitMahalanobis>>, cols: Float64Array[], row: number): number {
    const p = model.dim;
    const diff = cols.map((c, j) => c[row]! - model.mean[j]!);
    let total = 0;
    for (let a = 0; a < p; a++) {
      let y = 0;
      for (let b = a + 1; b < p; b++) y += model.precision[a * p + b]! * diff[b]!;
      total += diff[a]! * (model.precision[a * p + a]! * diff[a]! + 2 * y);
    }
    return total;
  }

  it('scores every complete row with the bits of the row-by-row quadratic form (rows not a multiple of four)', () => {
    const model = fitMahalanobis(columns(7, 3000))!;
    const current = columns(7, 1003);
    current[2]![5] = Number.NaN;
    current[6]![1000] = Number.POSITIVE_INFINITY;
    const scores = mahalanobisScores(model, current);
    expect(scores.rows.length).toBe(1001);
    expect(Array.from(scores.rows.slice(4, 6))).toEqual([4, 6]);
    scores.rows.forEach((row, k) => expect(Object.is(scores.d2[k], rowByRow(model, current, row))).toBe(true));
    // Correlated features: the distances are not all alike, and their mean is near the dimension.
    const mean = scores.d2.reduce((s, x) => s + x, 0) / scores.d2.length;
    expect(mean).toBeGreaterThan(4);
    expect(mean).toBeLessThan(10);
  });
});
