import { describe, expect, it } from 'vitest';
import { buildReferenceProfile } from '../../../src/profile/reference-profile.js';
import { decodeProfile, encodeProfile } from '../../../src/profile/stored-profile.js';
import type { Table } from '../../../src/core/table.js';

function table(): Table {
  const n = 500;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const k = new Float64Array(n);
  const c: Array<string | null> = [];
  for (let i = 0; i < n; i++) {
    a[i] = Math.sin(i) * 10;
    b[i] = i % 7 === 0 ? Number.NaN : Math.cos(i * 1.3) + (i % 3);
    k[i] = i % 4;
    c.push(i % 11 === 0 ? null : `cat-${i % 5}`);
  }
  a[3] = Infinity;
  a[4] = -0;
  return {
    source: 't',
    rowCount: n,
    columns: [
      { kind: 'number', name: 'a', values: a, integer: false },
      { kind: 'number', name: 'b', values: b, integer: false },
      { kind: 'number', name: 'k', values: k, integer: true },
      { kind: 'category', name: 'c', values: c, dtype: 'string' },
    ],
  };
}

describe('stored profiles', () => {
  it('round-trip exactly (typed arrays, NaN, infinities, -0), sorted arrays rebuilt from the rows', () => {
    const t = table();
    const profile = buildReferenceProfile(t);
    const text = encodeProfile(profile);
    expect(text).not.toContain('"sorted":{"$f64":[-');
    const back = decodeProfile(text, t);
    expect(back).toEqual(profile);
    // -0 survives (JSON alone would turn it into 0).
    const negZero = { ...profile, columns: profile.columns.map((c) => (c.name === 'a' && c.type === 'numerical' ? { ...c, mean: -0 } : c)) };
    const a = decodeProfile(encodeProfile(negZero), t).columns.find((x) => x.name === 'a');
    expect(a?.type === 'numerical' && Object.is(a.mean, -0)).toBe(true);
  });

  it('is much smaller than the rows it describes', () => {
    const t = table();
    expect(encodeProfile(buildReferenceProfile(t)).length).toBeLessThan(40_000);
  });

  it('refuses rows that do not match the profile', () => {
    const t = table();
    const text = encodeProfile(buildReferenceProfile(t));
    const fewer: Table = { ...t, columns: t.columns.filter((c) => c.name !== 'b') };
    expect(() => decodeProfile(text, fewer)).toThrow(/no numerical column "b"/);
    const changed: Table = {
      ...t,
      columns: t.columns.map((c) => (c.name === 'a' && c.kind === 'number' ? { ...c, values: c.values.map((v, i) => (i === 10 ? Number.NaN : v)) } : c)),
    };
    expect(() => decodeProfile(text, changed)).toThrow(/finite values stored/);
  });
});
