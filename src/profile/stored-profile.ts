/**
 * A reference profile as stored with its snapshot: plain JSON, exact (typed arrays and non-finite numbers are
 * tagged, -0 kept), without the sorted value arrays, which are rebuilt from the stored rows when the snapshot is
 * loaded (one sort per numerical column: the only work repeated at load time).
 */
import { sortedFinite } from '../stats/sorted.js';
import type { Table } from '../core/table.js';
import type { ColumnProfile, ReferenceProfile } from './reference-profile.js';

const F64 = '$f64';
const NUM = '$num';

function encodeNumber(x: number): unknown {
  if (Number.isNaN(x)) return { [NUM]: 'nan' };
  if (x === Infinity) return { [NUM]: 'inf' };
  if (x === -Infinity) return { [NUM]: '-inf' };
  if (Object.is(x, -0)) return { [NUM]: '-0' };
  return x;
}

function decodeNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const tag = (v as Record<string, unknown> | null)?.[NUM];
  if (tag === 'nan') return Number.NaN;
  if (tag === 'inf') return Infinity;
  if (tag === '-inf') return -Infinity;
  if (tag === '-0') return -0;
  throw new Error(`not a stored number: ${JSON.stringify(v)}`);
}

export function encodeProfile(profile: ReferenceProfile): string {
  const withoutSorted = {
    ...profile,
    columns: profile.columns.map((c) => (c.type === 'numerical' ? { ...c, sorted: new Float64Array(0) } : c)),
  };
  return JSON.stringify(withoutSorted, (_key, value: unknown) => {
    if (value instanceof Float64Array) return { [F64]: Array.from(value, encodeNumber) };
    if (typeof value === 'number') return encodeNumber(value);
    return value;
  });
}

/**
 * The profile back from its stored text and the snapshot's rows. Throws when the rows do not match the profile
 * (a column missing, a different count of finite values): the snapshot is then corrupt, never silently wrong.
 */
export function decodeProfile(text: string, rows: Table): ReferenceProfile {
  const parsed = JSON.parse(text, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === F64 && Array.isArray(o[F64])) return Float64Array.from(o[F64] as unknown[], decodeNumber);
      if (keys.length === 1 && keys[0] === NUM) return decodeNumber(o);
    }
    return value;
  }) as ReferenceProfile;
  const columns: ColumnProfile[] = parsed.columns.map((c) => {
    if (c.type !== 'numerical') return c;
    const column = rows.columns.find((r) => r.name === c.name);
    if (!column || column.kind !== 'number') throw new Error(`stored rows have no numerical column ${JSON.stringify(c.name)}`);
    const sorted = sortedFinite(column.values);
    if (sorted.length !== column.values.length - c.dropped) {
      throw new Error(`column ${JSON.stringify(c.name)}: ${sorted.length} finite values stored, the profile counted ${column.values.length - c.dropped}`);
    }
    return { ...c, sorted };
  });
  return { ...parsed, columns };
}
