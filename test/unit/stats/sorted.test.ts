import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../bench/seeded-random.js';
import { sortedFinite, sortFloat64InPlace } from '../../../src/stats/sorted.js';

describe('sorting doubles (bucket sort with insertion and radix finishing)', () => {
  it('orders like Float64Array#sort across signs, zeros, magnitudes, ties and subnormals', () => {
    const rand = mulberry32(42);
    const specials = [0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, 2 ** 52, -(2 ** 52)];
    for (const n of [2048, 5000, 100_000]) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = rand();
        a[i] =
          r < 0.1 ? specials[i % specials.length]! : r < 0.3 ? Math.round((rand() - 0.5) * 20) : (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
      }
      const expected = Float64Array.from(a).sort();
      const got = sortFloat64InPlace(Float64Array.from(a));
      // Equal values may come in any order (-0 and +0 included), so compare with ===; the multiset must be kept.
      for (let i = 0; i < n; i++) if (got[i] !== expected[i]) expect.fail(`n=${n} index ${i}: ${got[i]} vs ${expected[i]}`);
      const zeros = (x: Float64Array): number => x.filter((v) => Object.is(v, -0)).length;
      expect(zeros(got)).toBe(zeros(expected));
    }
  });

  it('sorts evenly spread data, where every bucket is small and one insertion pass finishes the array', () => {
    const rand = mulberry32(9);
    const n = 10_000;
    const uniform = Float64Array.from({ length: n }, () => Math.round(rand() * 1e7) / 1e5);
    // Sums of uniforms: bell-shaped, with the buckets in the tails nearly empty and ties from the rounding.
    const bell = Float64Array.from({ length: n }, () => Math.round((rand() + rand() + rand() - 1.5) * 1e3) / 1e3);
    for (const a of [uniform, bell]) {
      const expected = Float64Array.from(a).sort();
      const got = sortedFinite(a);
      expect(got.length).toBe(n);
      for (let i = 0; i < n; i++) if (got[i] !== expected[i]) expect.fail(`index ${i}: ${got[i]} vs ${expected[i]}`);
    }
  });

  it('sorts clustered and heavy-tailed data (large buckets go to the radix sort)', () => {
    const rand = mulberry32(7);
    const n = 50_000;
    const clustered = Float64Array.from({ length: n }, (_, i) => (i % 1000 === 0 ? 1e12 * rand() : 81 + rand() * 1e-6));
    const heavy = Float64Array.from({ length: n }, () => (rand() - 0.5) / Math.max(rand(), 1e-12) ** 3);
    const subnormal = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 5e-324 * Math.floor(rand() * 100) : -Number.MAX_VALUE * rand()));
    for (const a of [clustered, heavy, subnormal]) {
      const expected = Float64Array.from(a).sort();
      const got = sortFloat64InPlace(Float64Array.from(a));
      for (let i = 0; i < n; i++) if (got[i] !== expected[i]) expect.fail(`index ${i}: ${got[i]} vs ${expected[i]}`);
    }
  });

  it('skips passes where every key shares a digit and still sorts (all equal, one magnitude)', () => {
    const same = new Float64Array(4096).fill(3.25);
    expect(Array.from(sortFloat64InPlace(same)).every((v) => v === 3.25)).toBe(true);
    const ints = Float64Array.from({ length: 4096 }, (_, i) => (i * 7919) % 4096);
    expect(Array.from(sortFloat64InPlace(ints))).toEqual(Array.from({ length: 4096 }, (_, i) => i));
  });

  it('sortedFinite drops NaN and infinities', () => {
    const a = Float64Array.from({ length: 3000 }, (_, i) => (i % 100 === 0 ? Number.NaN : i % 101 === 0 ? Infinity : 3000 - i));
    const s = sortedFinite(a);
    expect(s.every((v) => Number.isFinite(v))).toBe(true);
    for (let i = 1; i < s.length; i++) expect(s[i]! >= s[i - 1]!).toBe(true);
  });
});
