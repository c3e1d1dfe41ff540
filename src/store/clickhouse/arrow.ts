import type { ClickHouseClient } from '@clickhouse/client';
import { tableFromIPC, type Table as ArrowTable } from 'apache-arrow';
import type { Column, Table } from '../../core/table.js';

/** The settings every Arrow read needs: no compression (the JS reader has no codec) and strings as Utf8. */
export const ARROW_SETTINGS =
  "SETTINGS output_format_arrow_compression_method = 'none', output_format_arrow_string_as_string = 1";

/** Runs a SELECT (without FORMAT) and returns its rows as an Arrow table (null when there are none). */
export async function selectArrow(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<ArrowTable | null> {
  const result = await client.exec({ query: `${query} FORMAT ArrowStream ${ARROW_SETTINGS}`, query_params: params });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(chunk as Buffer);
  // The embedded engine hands the whole result over as one chunk: use it as is rather than copy it.
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (bytes.length === 0) return null;
  const table = tableFromIPC(bytes);
  return table.numRows === 0 ? null : table;
}

interface ColumnParts {
  name: string;
  kind: 'number' | 'category';
  integer: boolean;
  dtype: 'string' | 'boolean';
  numbers: Float64Array[];
  /** Every chunk's categories, in order: appended in place (no per-chunk arrays to flatten afterwards). */
  categories: Array<string | null>;
}

/**
 * Reassembles columnar chunks (rows of column_index, column, kind, chunk, numbers, categories, ordered by column
 * then chunk) into one table per group key. `group` names the Arrow column that separates owners, if any.
 */
export function chunksToColumns(arrow: ArrowTable): Array<{ name: string; kind: 'number' | 'category'; column: Column }> {
  const names = arrow.getChild('column')!;
  const kinds = arrow.getChild('kind')!;
  const indexes = arrow.getChild('column_index')!;
  const numbers = arrow.getChild('numbers')!;
  const categories = arrow.getChild('categories')!;
  const integers = arrow.getChild('integer');
  const dtypes = arrow.getChild('dtype');
  const parts = new Map<number, ColumnParts>();
  for (let i = 0; i < arrow.numRows; i++) {
    const index = Number(indexes.get(i));
    let part = parts.get(index);
    if (!part) {
      const kind = String(kinds.get(i)) as 'number' | 'category';
      const integer = integers ? Number(integers.get(i)) === 1 : false;
      const dtype = dtypes && String(dtypes.get(i)) === 'boolean' ? 'boolean' : 'string';
      part = { name: String(names.get(i)), kind, integer, dtype, numbers: [], categories: [] };
      parts.set(index, part);
    }
    if (part.kind === 'number') {
      const v = numbers.get(i);
      part.numbers.push(v ? (v.toArray() as Float64Array) : new Float64Array(0));
    } else {
      const v = categories.get(i);
      const out = part.categories;
      if (v) for (let j = 0; j < v.length; j++) out.push((v.get(j) as string | null) ?? null);
    }
  }
  return [...parts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, p]) => ({ name: p.name, kind: p.kind, column: assemble(p) }));
}

function assemble(p: ColumnParts): Column {
  if (p.kind === 'category') {
    return { kind: 'category', name: p.name, values: p.categories, dtype: p.dtype };
  }
  let n = 0;
  for (const a of p.numbers) n += a.length;
  const values = new Float64Array(n);
  let at = 0;
  for (const a of p.numbers) {
    values.set(a, at);
    at += a.length;
  }
  return { kind: 'number', name: p.name, values, integer: p.integer };
}

export function tableOf(source: string, columns: ReadonlyArray<Column>): Table {
  return { source, rowCount: columns.length === 0 ? 0 : columns[0]!.values.length, columns };
}
