import { describe, expect, it } from 'vitest';
import { maxAbsCorrelation, pearsonPairwiseComplete } from '../../../src/quality/correlation.js';
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

  it('is 0 with one feature and null with none', () => {
    expect(maxAbsCorrelation([column(10)])).toBe(0);
    expect(maxAbsCorrelation([])).toBeNull();
  });
});
