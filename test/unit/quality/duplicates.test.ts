import { describe, expect, it } from 'vitest';
import type { Column } from '../../../src/core/table.js';
import { factorize } from '../../../src/quality/column-stats.js';
import { sortedFinite } from '../../../src/stats/sorted.js';
import { countDuplicatedColumnPairs, countDuplicatedRows } from '../../../src/quality/duplicates.js';

/** Deterministic pseudo-random integers (a small LCG): the test needs many repeats, not statistical quality. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The obvious O(rows^2) definition: a row is duplicated when an earlier row has the same values. */
function naiveDuplicatedRows(columns: Column[], rows: number): number {
  const same = (a: unknown, b: unknown): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));
  let count = 0;
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < r; p++) {
      if (columns.every((c) => same(c.values[r], c.values[p]))) {
        count++;
        break;
      }
    }
  }
  return count;
}

describe('duplicated rows', () => {
  it('agrees with the quadratic definition on data full of repeats, NaN, -0 and nulls', () => {
    const rand = lcg(42);
    const rows = 600;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const numbers = (xs: number[]): Float64Array => Float64Array.from({ length: rows }, () => pick(xs));
    const texts = ['x', 'y', '', null];
    const columns: Column[] = [
      { kind: 'number', name: 'a', integer: false, values: numbers([0, -0, 1, NaN, Infinity]) },
      { kind: 'number', name: 'b', integer: true, values: numbers([1, 2, 3]) },
      { kind: 'category', name: 'c', dtype: 'string', values: Array.from({ length: rows }, () => pick(texts)) },
    ];
    const codes = columns.map((c) => factorize(c).codes);
    expect(countDuplicatedRows(codes, rows)).toBe(naiveDuplicatedRows(columns, rows));
    // Number columns counted from their sorted finite values (codes are value hashes): the same answer.
    const hashed = columns.map((c) => (c.kind === 'number' ? factorize(c, sortedFinite(c.values)) : factorize(c)));
    expect(hashed.map((f) => f.exact)).toEqual([false, false, true]);
    expect(countDuplicatedRows(hashed.map((f) => f.codes), rows, { columns, exact: hashed.map((f) => f.exact) })).toBe(naiveDuplicatedRows(columns, rows));
  });

  it('confirms rows equal by inexact codes on their values (codes are hashes there, which may collide)', () => {
    const column: Column = { kind: 'number', name: 'a', integer: false, values: Float64Array.of(1.5, 2.5, 1.5) };
    // Every row given the same code, as if the hashes of 1.5 and 2.5 collided.
    const codes = [new Int32Array(3)];
    expect(countDuplicatedRows(codes, 3, { columns: [column], exact: [false] })).toBe(1);
    // Taken as exact, the codes alone decide.
    expect(countDuplicatedRows(codes, 3, { columns: [column], exact: [true] })).toBe(2);
  });

  it('has no duplicates without rows or columns', () => {
    expect(countDuplicatedRows([], 5)).toBe(0);
    expect(countDuplicatedRows([new Int32Array(0)], 0)).toBe(0);
  });
});

describe('duplicated columns', () => {
  it('counts pairs within groups of equal columns, by value and storage type', () => {
    const f = (name: string, values: number[], integer = false): Column => ({
      kind: 'number',
      name,
      values: Float64Array.from(values),
      integer,
    });
    const s = (name: string, values: Array<string | null>, dtype: 'string' | 'boolean' = 'string'): Column => ({
      kind: 'category',
      name,
      dtype,
      values,
    });
    const columns: Column[] = [
      f('a', [1, NaN, 0]),
      f('b', [1, NaN, -0]),
      f('c', [1, NaN, 0]),
      f('i', [1, 2, 0], true),
      f('j', [1, 2, 0], false),
      s('t', ['true', null, 'false']),
      s('u', ['true', null, 'false'], 'boolean'),
      s('v', ['true', null, 'false']),
    ];
    // a=b=c: 3 pairs; t=v: 1 pair; integer i and float j differ (pandas compares dtypes), so do t and u.
    expect(countDuplicatedColumnPairs(columns, columns.map((c) => factorize(c).codes))).toBe(4);
    // Value hashes as codes for the number columns: the same pairs.
    const hashed = columns.map((c) => (c.kind === 'number' ? factorize(c, sortedFinite(c.values)) : factorize(c)));
    expect(countDuplicatedColumnPairs(columns, hashed.map((f) => f.codes))).toBe(4);
  });
});

describe('factorizing a number column from its sorted finite values', () => {
  it('gives the distinct count, the most common count and missing as the hash table does', () => {
    const rand = lcg(7);
    const pool = [0, -0, 1.25, 3, NaN, Infinity, -Infinity, 1e-300, -2];
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rand() * 300);
      const values = Float64Array.from({ length: n }, () => pool[Math.floor(rand() * (1 + (trial % pool.length)))]!);
      const column: Column = { kind: 'number', name: 'x', integer: false, values };
      const { codes: _a, exact: _e, ...byTable } = factorize(column);
      const { codes: _b, exact, ...bySort } = factorize(column, sortedFinite(values));
      expect(bySort).toEqual(byTable);
      expect(exact).toBe(false);
    }
  });

  it('falls back to the hash table when the sorted values are not the column', () => {
    const column: Column = { kind: 'number', name: 'x', integer: false, values: Float64Array.of(1, 2, 2) };
    expect(factorize(column, Float64Array.of(1, 2)).exact).toBe(true);
  });
});
