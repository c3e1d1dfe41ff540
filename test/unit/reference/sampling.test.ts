import { describe, expect, it } from 'vitest';
import { reservoirIndices, seededRandom } from '../../../src/stats/reservoir.js';
import { sampleRows, snapshotId } from '../../../src/reference/lifecycle.js';
import type { Table } from '../../../src/core/table.js';

describe('reservoir sampling', () => {
  it('is deterministic per seed, sorted, distinct and in range', () => {
    const a = reservoirIndices(100_000, 1000, 7);
    const b = reservoirIndices(100_000, 1000, 7);
    const c = reservoirIndices(100_000, 1000, 8);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(a.length).toBe(1000);
    for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThan(a[i - 1]!);
    expect(a[a.length - 1]!).toBeLessThan(100_000);
  });

  it('keeps every row when the input fits', () => {
    expect(Array.from(reservoirIndices(5, 10, 1))).toEqual([0, 1, 2, 3, 4]);
    expect(reservoirIndices(0, 10, 1).length).toBe(0);
  });

  it('is uniform: each position is kept about k/n of the time', () => {
    // 2000 draws of 10 out of 100: each index expected 200 times; a chi-square over 100 cells stays far below
    // the 0.999 quantile (148.2) for a uniform sampler.
    const counts = new Float64Array(100);
    for (let s = 0; s < 2000; s++) for (const i of reservoirIndices(100, 10, s)) counts[i]!++;
    let chi2 = 0;
    for (const c of counts) chi2 += (c - 200) ** 2 / 200;
    expect(chi2).toBeLessThan(148.2);
  });

  it('rejects bad sizes', () => {
    expect(() => reservoirIndices(10, 0, 1)).toThrow(/sample size/);
    expect(() => reservoirIndices(-1, 3, 1)).toThrow(/row count/);
  });

  it('seededRandom gives values in [0, 1)', () => {
    const r = seededRandom(123);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});

describe('sampleRows and snapshot ids', () => {
  const table: Table = {
    source: 't',
    rowCount: 6,
    columns: [
      { kind: 'number', name: 'x', values: new Float64Array([0, 1, 2, 3, 4, 5]), integer: true },
      { kind: 'category', name: 'c', values: ['a', 'b', null, 'd', 'e', 'f'], dtype: 'string' },
    ],
  };

  it('keeps rows aligned across columns', () => {
    const s = sampleRows(table, 3, 99);
    expect(s.rowCount).toBe(3);
    const x = Array.from((s.columns[0] as { values: Float64Array }).values);
    const c = (s.columns[1] as { values: ReadonlyArray<string | null> }).values;
    expect(c).toEqual(x.map((i) => ['a', 'b', null, 'd', 'e', 'f'][i]));
  });

  it('ids change with any value, name or model and not otherwise', () => {
    const cols = [
      { name: 'x', kind: 'number' as const, type: 'numerical' as const, integer: true },
      { name: 'c', kind: 'category' as const, type: 'categorical' as const, dtype: 'string' as const },
    ];
    const id = snapshotId('m', 'v1', cols, table);
    expect(id).toMatch(/^ref-[0-9a-f]{16}$/);
    expect(snapshotId('m', 'v1', cols, table)).toBe(id);
    expect(snapshotId('m2', 'v1', cols, table)).not.toBe(id);
    expect(snapshotId('m', 'v2', cols, table)).not.toBe(id);
    const changed: Table = { ...table, columns: [table.columns[0]!, { ...table.columns[1]!, values: ['a', 'b', 'null', 'd', 'e', 'f'] } as never] };
    expect(snapshotId('m', 'v1', cols, changed)).not.toBe(id);
  });
});
