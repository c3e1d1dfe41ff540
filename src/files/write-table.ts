/**
 * Writes a table as Arrow IPC (file format) or Parquet, so it reads back through `readTable` with the same columns,
 * kinds and values. Missing numbers are written as null; integer columns without missing values as INT64.
 */
import { writeFile } from 'node:fs/promises';
import { Bool, Float64, Int64, Utf8, makeVector, Table as ArrowTable, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { Column, Table } from '../core/table.js';

export type ExportFormat = 'arrow' | 'parquet';

/** Integers that fit a double exactly: written as INT64 when the source said the column was integer. */
function asIntegers(c: Column): BigInt64Array | null {
  if (c.kind !== 'number' || !c.integer) return null;
  const out = new BigInt64Array(c.values.length);
  for (let i = 0; i < c.values.length; i++) {
    const v = c.values[i]!;
    if (!Number.isSafeInteger(v)) return null;
    out[i] = BigInt(v);
  }
  return out;
}

function nullableNumbers(values: Float64Array): Array<number | null> {
  return Array.from(values, (v) => (Number.isNaN(v) ? null : v));
}

function arrowVector(c: Column): Vector {
  const ints = asIntegers(c);
  if (ints) return makeVector({ type: new Int64(), data: ints });
  if (c.kind === 'number') {
    // Arrow keeps NaN apart from null; a missing value is null, as every other reader expects.
    return c.values.some((v) => Number.isNaN(v)) ? vectorFromArray(nullableNumbers(c.values), new Float64()) : makeVector(c.values);
  }
  if (c.dtype === 'boolean') return vectorFromArray(c.values.map((v) => (v === null ? null : v === 'true')), new Bool());
  return vectorFromArray(c.values as Array<string | null>, new Utf8());
}

export function toArrowIpc(table: Table): Uint8Array {
  const vectors: Record<string, Vector> = {};
  for (const c of table.columns) Object.defineProperty(vectors, c.name, { value: arrowVector(c), enumerable: true });
  return tableToIPC(new ArrowTable(vectors), 'file');
}

export function toParquet(table: Table): Uint8Array {
  const columnData = table.columns.map((c) => {
    const ints = asIntegers(c);
    if (ints) return { name: c.name, data: Array.from(ints), type: 'INT64' as const };
    if (c.kind === 'number') return { name: c.name, data: nullableNumbers(c.values), type: 'DOUBLE' as const };
    if (c.dtype === 'boolean') return { name: c.name, data: c.values.map((v) => (v === null ? null : v === 'true')), type: 'BOOLEAN' as const };
    return { name: c.name, data: [...c.values], type: 'STRING' as const };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

export async function writeTable(table: Table, path: string, format: ExportFormat): Promise<number> {
  const bytes = format === 'arrow' ? toArrowIpc(table) : toParquet(table);
  await writeFile(path, bytes);
  return bytes.byteLength;
}
