/**
 * The per-table numbers shared by the reference baseline and the current window: one factorization per column
 * feeds value counts, uniques, constant columns, duplicated rows and duplicated columns.
 */
import type { Column, ColumnType, Table } from '../core/table.js';
import { distinctNonMissing, factorize, missingCount, type Factorized } from './column-stats.js';
import type { SortedFinite } from '../stats/sorted.js';
import { maxAbsCorrelation } from './correlation.js';
import { countDuplicatedColumnPairs, countDuplicatedRows } from './duplicates.js';

export interface ColumnSummary {
  readonly column: Column;
  readonly factorized: Factorized;
  readonly missingCount: number;
  /** The logical type the checks use: a text or boolean column is categorical whatever was declared. */
  readonly type: ColumnType;
}

export interface TableSummary {
  readonly columns: ReadonlyArray<ColumnSummary>;
  readonly constantColumns: number;
  readonly duplicatedColumns: number;
  readonly duplicatedRows: number;
  readonly maxCorrelation: number | null;
}

/**
 * O(rows x cols) plus O(rows x numerical features^2) for the correlations. With `sorted` (a memo of the sorted
 * finite values that drift shares), number columns are counted from those sorted values instead of a hash table.
 */
export function summarizeTable(table: Table, typeOf: (column: Column, f: Factorized) => ColumnType, sorted?: SortedFinite): TableSummary {
  const columns = table.columns.map((column): ColumnSummary => {
    const factorized = factorize(column, sorted && column.kind === 'number' ? sorted(column.values) : undefined);
    return {
      column,
      factorized,
      missingCount: missingCount(column),
      type: column.kind === 'category' ? 'categorical' : typeOf(column, factorized),
    };
  });
  const codes = columns.map((c) => c.factorized.codes);
  const exact = columns.map((c) => c.factorized.exact);
  // Evidently correlates the numerical features with more than one distinct value (nunique, so ±inf counts).
  const features: Float64Array[] = [];
  for (const c of columns) {
    if (c.column.kind === 'number' && c.type === 'numerical' && distinctNonMissing(c.factorized) > 1) {
      features.push(c.column.values);
    }
  }
  return {
    columns,
    constantColumns: columns.filter((c) => distinctNonMissing(c.factorized) <= 1).length,
    duplicatedColumns: countDuplicatedColumnPairs(table.columns, codes),
    duplicatedRows: countDuplicatedRows(codes, table.rowCount, { columns: table.columns, exact }),
    maxCorrelation: maxAbsCorrelation(features),
  };
}
