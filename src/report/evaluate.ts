import { getColumn, type Table } from '../core/table.js';
import { columnDrift, type ColumnDrift, type ColumnDriftOptions } from '../drift/column-drift.js';
import { datasetDrift, DEFAULT_DRIFT_SHARE, type DatasetDrift } from '../drift/dataset-drift.js';
import { detectOutliers, type OutlierOptions, type OutlierReport } from '../outliers/outliers.js';
import type { ReferenceProfile } from '../profile/reference-profile.js';
import { runQualityChecks, type QualityCheckResult, type QualityConfig } from '../quality/index.js';
import { sortedFiniteMemo } from '../stats/sorted.js';

/**
 * One comparison of current data against a profiled reference: per-column drift, the dataset verdict, outliers
 * and data-quality checks. `driftwatch compare` prints it; a closing stream window produces the same thing.
 */
export interface DriftReport {
  readonly dataset: DatasetDrift;
  readonly columns: ColumnDrift[];
  readonly outliers: OutlierReport;
  readonly quality: QualityCheckResult[];
}

export interface EvaluateOptions extends ColumnDriftOptions {
  /** Share of drifted columns at which the dataset counts as drifted (default 0.5). */
  readonly driftShare?: number;
  readonly outliers?: OutlierOptions;
  readonly quality?: QualityConfig;
}

/** A profiled column the current data does not have. */
export class MissingColumnError extends Error {
  constructor(readonly column: string) {
    super(`column "${column}" is in the reference but not in the current data`);
    this.name = 'MissingColumnError';
  }
}

export function evaluateAgainstReference(profile: ReferenceProfile, current: Table, options: EvaluateOptions = {}): DriftReport {
  const columns: ColumnDrift[] = [];
  // Each current column is sorted once, for drift and the quality checks' counts.
  const sorted = sortedFiniteMemo();
  for (const ref of profile.columns) {
    const col = getColumn(current, ref.name);
    if (!col) throw new MissingColumnError(ref.name);
    columns.push(columnDrift(ref, col, options, sorted));
  }
  return {
    dataset: datasetDrift(columns, options.driftShare ?? DEFAULT_DRIFT_SHARE),
    columns,
    outliers: detectOutliers(profile, current, options.outliers),
    quality: runQualityChecks(selectColumns(current, profile), profile.quality, options.quality, sorted),
  };
}

/** The current data restricted to the profiled columns, so quality checks look at what drift looked at. */
function selectColumns(current: Table, profile: ReferenceProfile): Table {
  const names = new Set(profile.columns.map((c) => c.name));
  return { ...current, columns: current.columns.filter((c) => names.has(c.name)) };
}
