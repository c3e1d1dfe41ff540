/**
 * The report model of a `driftwatch compare` run: its drift report plus, when given, the two tables that were
 * compared (for the reference-vs-current histograms). The input is described structurally (`CompareRun`), so the
 * CLI's `CompareResult` fits it without this module depending on the command line.
 */
import { basename } from 'node:path';
import { getColumn, type Table } from '../../core/table.js';
import { isMethodName, METHODS } from '../../drift/methods.js';
import type { ColumnOutliers, OutlierReport } from '../../outliers/outliers.js';
import type { QualityCheckResult } from '../../quality/index.js';
import type { DriftReport } from '../evaluate.js';
import { columnHistogram, type CategoricalHistogramOptions, type NumericalHistogramOptions } from './histograms.js';
import { planFeatures, type FeatureLimits, type FeatureReport, type OutlierRow, type QualityRow, type ReportModel, type Verdict } from './model.js';

/** What the adapter needs of a compare run (the CLI's `CompareResult` has this shape). */
export interface CompareRun {
  readonly reference: {
    readonly path: string;
    readonly rows: number;
    readonly snapshot?: { readonly id: string; readonly model: string; readonly modelVersion: string; readonly status: string };
  };
  readonly current: { readonly path: string; readonly rows: number };
  readonly report: DriftReport;
  /** The compared columns of both sides; without them the report has no histograms. */
  readonly tables?: { readonly reference: Table; readonly current: Table };
}

/** Options of `fromCompare`. */
export interface FromCompareOptions extends FeatureLimits, NumericalHistogramOptions, CategoricalHistogramOptions {
  /** When the report was made (default: now). */
  readonly now?: Date;
  /** Overrides the page title. */
  readonly title?: string;
  /** The compared tables, when the run does not carry them. */
  readonly tables?: { readonly reference: Table; readonly current: Table };
}

/**
 * Builds the report model of a comparison. Histograms are computed only for the features the page will chart
 * (`planFeatures` with the same limits; pass the same limits to `renderHtml`). O(rows × charted features).
 */
export function fromCompare(run: CompareRun, options: FromCompareOptions = {}): ReportModel {
  const { report } = run;
  const tables = options.tables ?? run.tables;
  const plan = planFeatures(report.columns, options);
  const features: FeatureReport[] = report.columns.map((c, i) => {
    const ref = tables ? getColumn(tables.reference, c.column) : undefined;
    const cur = tables ? getColumn(tables.current, c.column) : undefined;
    return {
      name: c.column,
      type: c.type,
      method: c.method,
      scoreKind: METHODS[c.method].scoreKind,
      score: c.score,
      statistic: c.statistic ?? null,
      threshold: c.threshold,
      drifted: c.drifted,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      referenceCount: c.n_reference,
      currentCount: c.n_current,
      ...(plan.charted[i] && ref && cur ? { histogram: columnHistogram(c.type, ref, cur, options) } : {}),
    };
  });
  const d = report.dataset;
  const verdict: Verdict = d.columns_tested === 0 ? 'insufficient_data' : d.drifted ? 'drift' : 'no_drift';
  const snapshot = run.reference.snapshot;
  const referenceName = snapshot ? snapshot.id : basename(run.reference.path);
  const notes: string[] = [];
  if (snapshot) {
    notes.push(`Reference: stored snapshot ${snapshot.id} of model ${snapshot.model} ${snapshot.modelVersion} (${snapshot.status}).`);
  }
  if (!tables) notes.push('The compared rows were not available: no distributions are drawn.');
  return {
    title: options.title ?? `Drift report: ${basename(run.current.path)} vs ${referenceName}`,
    subtitle: `reference ${run.reference.path} · current ${run.current.path}`,
    generatedAt: (options.now ?? new Date()).toISOString(),
    dataset: {
      referenceLabel: run.reference.path,
      currentLabel: run.current.path,
      referenceRows: run.reference.rows,
      currentRows: run.current.rows,
      tested: d.columns_tested,
      drifted: d.columns_drifted,
      share: d.columns_tested === 0 ? null : d.share,
      threshold: d.drift_share,
      verdict,
    },
    features,
    outliers: outlierRows(report.outliers),
    quality: qualityRows(report.quality),
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** The outlier rows of a report: Mahalanobis over the rows, then IQR and z-score per column. */
export function outlierRows(outliers: OutlierReport): OutlierRow[] {
  const rows: OutlierRow[] = [];
  const m = outliers.mahalanobis;
  rows.push({
    method: 'mahalanobis',
    rows: m.rows,
    flagged: m.flagged,
    share: m.status === 'ok' ? m.share : null,
    status: m.status,
    ...(m.reason ? { reason: m.reason } : {}),
    ...(m.threshold === undefined ? {} : { threshold: m.threshold }),
    ...(m.top_features && m.top_features.length > 0 ? { topFeatures: m.top_features.map((t) => ({ feature: t.feature, share: t.share })) } : {}),
  });
  const perColumn = (method: string, c: ColumnOutliers): OutlierRow => ({
    method,
    column: c.column,
    rows: c.rows,
    flagged: c.flagged,
    share: c.status === 'ok' ? c.share : null,
    status: c.status,
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.bounds ? { bounds: { lower: c.bounds.lower, upper: c.bounds.upper } } : {}),
  });
  for (const c of outliers.iqr) rows.push(perColumn('iqr', c));
  for (const c of outliers.zscore) rows.push(perColumn('zscore', c));
  return rows;
}

/** Quality results as rows: a check that could not run (`error: ...`, no value) is `insufficient_data`. */
export function qualityRows(quality: ReadonlyArray<QualityCheckResult>): QualityRow[] {
  return quality.map((q) => ({
    check: q.check,
    column: q.column ?? '',
    status: q.condition.startsWith('error:') || q.value === null ? 'insufficient_data' : q.passed ? 'passed' : 'failed',
    value: q.value,
    condition: q.condition,
  }));
}

/** Whether a small score means drift (p-value) or a large one (distance), for a method named by a string. */
export function scoreKindOf(method: string): 'p_value' | 'distance' | undefined {
  return isMethodName(method) ? METHODS[method].scoreKind : undefined;
}
