/**
 * Duplicated rows and duplicated columns, with pandas' notion of equality (`DataFrame.duplicated()`,
 * `Series.equals`): NaN equals NaN and -0 equals +0. Rows compare values whatever the column types; columns must
 * also have the same storage type (pandas' `equals` compares dtypes: an int64 column never equals a float64 one).
 * Both work on the factorized codes (see column-stats.ts), so a row or a column is compared as integers.
 */
import type { Column } from '../core/table.js';
import { storageOf } from './column-stats.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Rows equal to an earlier row (pandas `duplicated(keep="first").sum()`). Each row's codes are hashed to 32 bits;
 * distinct rows go into an open-addressing table of row indexes (a typed array, no per-row object), and a row is
 * compared code by code only with rows of the same hash, and value by value in the columns whose codes are not
 * exact (`inexact.exact[i]` false: value hashes, see Factorized). O(rows x cols) expected.
 */
export function countDuplicatedRows(
  codes: ReadonlyArray<Int32Array>,
  rowCount: number,
  inexact?: { readonly columns: ReadonlyArray<Column>; readonly exact: ReadonlyArray<boolean> },
): number {
  if (codes.length === 0 || rowCount === 0) return 0;
  const hashes = new Int32Array(rowCount).fill(FNV_OFFSET | 0);
  for (const col of codes) {
    for (let r = 0; r < rowCount; r++) hashes[r] = Math.imul(hashes[r]! ^ col[r]!, FNV_PRIME);
  }
  let capacity = 16;
  while (capacity < 2 * rowCount) capacity *= 2;
  const mask = capacity - 1;
  const table = new Int32Array(capacity).fill(-1);
  // The number columns whose codes are hashes: rows equal by code are compared there by value too.
  const verify = inexact?.columns.filter((c, i): c is Column & { kind: 'number' } => c.kind === 'number' && inexact.exact[i] === false).map((c) => c.values);
  const verifyIfAny = verify && verify.length > 0 ? verify : undefined;
  let duplicated = 0;
  for (let r = 0; r < rowCount; r++) {
    const h = hashes[r]!;
    // FNV's low bits are weak for small codes; fold the high half in before masking.
    let slot = (h ^ (h >>> 16)) & mask;
    for (;;) {
      const other = table[slot]!;
      if (other < 0) {
        table[slot] = r;
        break;
      }
      if (hashes[other] === h && sameRow(codes, other, r) && (!verifyIfAny || sameValuesInRow(verifyIfAny, other, r))) {
        duplicated++;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return duplicated;
}

function sameRow(codes: ReadonlyArray<Int32Array>, a: number, b: number): boolean {
  for (const col of codes) if (col[a] !== col[b]) return false;
  return true;
}

/** Rows a and b hold equal numbers in every column (NaN equals NaN, -0 equals +0). */
function sameValuesInRow(columns: ReadonlyArray<Float64Array>, a: number, b: number): boolean {
  for (const col of columns) {
    const x = col[a]!;
    const y = col[b]!;
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}

/**
 * Pairs of columns holding the same values (Evidently counts `combinations(columns, 2)` with `Series.equals`).
 * Columns are grouped by a hash of their codes (equal columns have equal code sequences, because codes follow
 * first appearance); only columns in one group are compared value by value. Equality is transitive, so a group of
 * g equal columns gives g(g-1)/2 pairs. O(rows x cols) expected.
 */
export function countDuplicatedColumnPairs(columns: ReadonlyArray<Column>, codes: ReadonlyArray<Int32Array>): number {
  const clusters = new Map<string, Array<{ readonly rep: number; size: number }>>();
  for (let i = 0; i < columns.length; i++) {
    const col = codes[i]!;
    let h = FNV_OFFSET;
    for (let r = 0; r < col.length; r++) h = Math.imul(h ^ col[r]!, FNV_PRIME);
    const key = `${storageOf(columns[i]!)}:${h}`;
    let group = clusters.get(key);
    if (group === undefined) {
      group = [];
      clusters.set(key, group);
    }
    const match = group.find((c) => sameValues(columns[c.rep]!, columns[i]!));
    if (match === undefined) group.push({ rep: i, size: 1 });
    else match.size++;
  }
  let pairs = 0;
  for (const group of clusters.values()) for (const c of group) pairs += (c.size * (c.size - 1)) / 2;
  return pairs;
}

function sameValues(a: Column, b: Column): boolean {
  if (storageOf(a) !== storageOf(b) || a.values.length !== b.values.length) return false;
  if (a.kind === 'number' && b.kind === 'number') {
    for (let i = 0; i < a.values.length; i++) {
      const x = a.values[i]!;
      const y = b.values[i]!;
      if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
    }
    return true;
  }
  for (let i = 0; i < a.values.length; i++) if (a.values[i] !== b.values[i]) return false;
  return true;
}
