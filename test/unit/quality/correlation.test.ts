import { describe, expect, it } from 'vitest';
import { maxAbsCorrelation, pairCorrelations, pearsonPairwiseComplete } from '../../../src/quality/correlation.js';
import { mulberry32 } from '../../../bench/seeded-random.js';

describe('maxAbsCorrelation', () => {
  const rnd = mulberry32(5);
  const column = (n: number, base?: Float64Array): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => (base ? 0.7 * base[i]! : 0) + rnd() * 10 - 5);

  /** The pair-by-pair definition: pandas' nancorr for every pair, the later column as x. */
  function reference(features: Float64Array[]): number {
    let best = 0;
    for (let i = 0; i < features.length; i++) {
      for (let j = 0; j < i; j++) {
        const r = Math.abs(pearsonPairwiseComplete(features[i]!, features[j]!));
        if (r > best) best = r;
      }
    }
    return best;
  }

  it('gives the very same bits as the pairwise computation on complete columns', () => {
    const a = column(5000);
    const features = [a, column(5000, a), column(5000), column(5000, a)];
    expect(maxAbsCorrelation(features)).toBe(reference(features));
    expect(maxAbsCorrelation(features)).toBeGreaterThan(0.3);
  });

  it('skips the rows a missing or infinite value drops, column by column, as pandas does', () => {
    const a = column(3000);
    const b = column(3000, a);
    const c = column(3000, a);
    b[10] = Number.NaN;
    c[20] = Number.POSITIVE_INFINITY;
    const features = [a, b, c, column(3000)];
    expect(maxAbsCorrelation(features)).toBe(reference(features));
  });

  it('gives every pair the bits of the pairwise computation: complete, incomplete, constant and shorter columns', () => {
    // 9000 rows: the blocked sums cross two block boundaries.
    const a = column(9000);
    const features = Array.from({ length: 11 }, (_, k) => column(9000, k % 3 === 0 ? a : undefined));
    features[4]![7] = Number.NaN;
    features[8]![8999] = Number.NEGATIVE_INFINITY;
    features[9] = new Float64Array(9000).fill(2.5);
    features[10] = column(3000, a);
    const pairs = pairCorrelations(features);
    expect(pairs.length).toBe(55);
    let checked = 0;
    for (let i = 0; i < features.length; i++) {
      for (let j = 0; j < i; j++) {
        expect(Object.is(pairs[(i * (i - 1)) / 2 + j], pearsonPairwiseComplete(features[i]!, features[j]!))).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(55);
    // The constant column's pairs are NaN, and the correlated ones are found.
    expect(Number.isNaN(pairs[(9 * 8) / 2 + 0])).toBe(true);
    expect(Math.abs(pairs[(3 * 2) / 2 + 0]!)).toBeGreaterThan(0.3);
  });

  it('is 0 with one feature and null with none', () => {
    expect(maxAbsCorrelation([column(10)])).toBe(0);
    expect(maxAbsCorrelation([])).toBeNull();
  });
});
