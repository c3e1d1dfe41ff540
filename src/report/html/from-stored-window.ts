/**
 * The report model of one window kept in the store: what the service's report page shows for a model and window.
 * The caller reads the pieces from the `Store` (`listWindows`, `windowFeatures`, `windowOutliers`, `windowQuality`,
 * `loadReferenceRows`, `windowSamples`) and passes them here; this module does no I/O.
 */
import { inferColumnType } from '../../core/column-type.js';
import type { EpochMs, SnapshotColumn, WindowFeatureResult, WindowOutlierResult, WindowQualityResult, WindowSummary } from '../../core/store.js';
import { getColumn, type ColumnType, type Table } from '../../core/table.js';
import { scoreKindOf } from './from-compare.js';
import { columnHistogram, type CategoricalHistogramOptions, type NumericalHistogramOptions } from './histograms.js';
import {
  planFeatures,
  type FeatureContribution,
  type FeatureLimits,
  type FeatureReport,
  type HistoryPoint,
  type OutlierRow,
  type QualityRow,
  type ReportModel,
  type Verdict,
} from './model.js';

/** One earlier window's per-feature results, for the "recent windows" sparklines. */
export interface WindowHistoryEntry {
  readonly windowEnd: EpochMs;
  readonly features: ReadonlyArray<Pick<WindowFeatureResult, 'feature' | 'score' | 'drifted'>>;
}

/** Everything the store holds about one window that the page shows. */
export interface StoredWindowInput {
  readonly summary: WindowSummary;
  readonly features: ReadonlyArray<WindowFeatureResult>;
  readonly outliers: ReadonlyArray<WindowOutlierResult>;
  readonly quality: ReadonlyArray<WindowQualityResult>;
  /** The reference snapshot's rows (histograms) and columns (feature types); types are inferred without them. */
  readonly reference?: { readonly rows?: Table; readonly columns?: ReadonlyArray<SnapshotColumn>; readonly rowCount?: number };
  /** The window's stored sample rows (histograms of the current side). */
  readonly sample?: Table;
  /** Recent windows of the same model and segment, any order; the window itself is added when missing. */
  readonly history?: ReadonlyArray<WindowHistoryEntry>;
  /** The share of drifted features at which the dataset drifts, when known (the model's settings). */
  readonly driftShare?: number;
  /** The window's outlier and quality results and sample rows are not stored yet (they follow its drift results). */
  readonly detailsPending?: boolean;
}

/** Options of `fromStoredWindow`. */
export interface FromStoredWindowOptions extends FeatureLimits, NumericalHistogramOptions, CategoricalHistogramOptions {
  readonly now?: Date;
  readonly title?: string;
}

/**
 * Builds the report model of a stored window. Histograms need both the reference rows and the window's sample;
 * they are computed only for the features the page charts. O(rows × charted features + history).
 */
export function fromStoredWindow(input: StoredWindowInput, options: FromStoredWindowOptions = {}): ReportModel {
  const { summary } = input;
  const key = summary.key;
  const plan = planFeatures(input.features, options);
  const history = historyByFeature(input);
  const refRows = input.reference?.rows;
  const sample = input.sample;
  const features: FeatureReport[] = input.features.map((f, i) => {
    const refColumn = refRows ? getColumn(refRows, f.feature) : undefined;
    const curColumn = sample ? getColumn(sample, f.feature) : undefined;
    const type = featureType(f.feature, input.reference?.columns, refRows);
    const kind = scoreKindOf(f.method);
    const points = history.get(f.feature);
    return {
      name: f.feature,
      type,
      method: f.method,
      ...(kind ? { scoreKind: kind } : {}),
      score: f.score,
      statistic: f.statistic,
      threshold: f.threshold,
      drifted: f.drifted,
      status: f.status,
      ...(f.reason ? { reason: f.reason } : {}),
      referenceCount: f.referenceSize,
      currentCount: f.currentSize,
      ...(plan.charted[i] && refColumn && curColumn ? { histogram: columnHistogram(type, refColumn, curColumn, options) } : {}),
      // One point (this window alone) says nothing about a trend.
      ...(points && points.length > 1 ? { history: points } : {}),
    };
  });
  const verdict: Verdict = summary.testedFeatures === 0 ? 'insufficient_data' : summary.datasetDrifted ? 'drift' : 'no_drift';
  const segment = Object.keys(key.segment)
    .sort()
    .map((k) => `${k}=${key.segment[k] ?? ''}`)
    .join(', ');
  const windowLabel = `${iso(key.start)} – ${iso(key.end)}`;
  const notes: string[] = [];
  if (sample && refRows && sample.rowCount < summary.rowCount) {
    notes.push(`Current distributions are drawn from the ${sample.rowCount} rows kept of the window's ${summary.rowCount}.`);
  }
  if (input.detailsPending) {
    notes.push("This window's outlier and quality results and sample rows are still being stored, just after its drift results: reload to see them.");
  } else if (!sample || !refRows) {
    notes.push('The rows of this window or of its reference are not available: no distributions are drawn.');
  }
  const referenceLabel = summary.referenceId ? `reference ${summary.referenceId}` : 'no reference';
  return {
    title: options.title ?? `Drift report: ${key.model}${segment ? ` [${segment}]` : ''}`,
    subtitle: `window ${windowLabel} · ${referenceLabel} · computed ${iso(summary.computedAt)}`,
    generatedAt: (options.now ?? new Date()).toISOString(),
    dataset: {
      referenceLabel,
      currentLabel: `window ${windowLabel}`,
      referenceRows: input.reference?.rowCount ?? refRows?.rowCount ?? null,
      currentRows: summary.rowCount,
      tested: summary.testedFeatures,
      drifted: summary.driftedFeatures,
      share: summary.driftShare,
      threshold: input.driftShare ?? null,
      verdict,
    },
    features,
    outliers: storedOutlierRows(input.outliers),
    quality: input.quality.map(storedQualityRow),
    ...(notes.length > 0 ? { notes } : {}),
  };
}

function featureType(name: string, columns: ReadonlyArray<SnapshotColumn> | undefined, rows: Table | undefined): ColumnType {
  const declared = columns?.find((c) => c.name === name);
  if (declared) return declared.type;
  const column = rows ? getColumn(rows, name) : undefined;
  return column ? inferColumnType(column) : 'numerical';
}

function historyByFeature(input: StoredWindowInput): Map<string, HistoryPoint[]> {
  const entries: WindowHistoryEntry[] = [...(input.history ?? [])];
  const end = input.summary.key.end;
  if (entries.length > 0 && !entries.some((e) => e.windowEnd === end)) entries.push({ windowEnd: end, features: input.features });
  entries.sort((a, b) => a.windowEnd - b.windowEnd);
  const byFeature = new Map<string, HistoryPoint[]>();
  for (const e of entries) {
    for (const f of e.features) {
      let points = byFeature.get(f.feature);
      if (!points) byFeature.set(f.feature, (points = []));
      points.push({ windowEnd: e.windowEnd, score: f.score, drifted: f.drifted });
    }
  }
  return byFeature;
}

/**
 * Outlier rows of a stored window: per column when the stored detail lists columns (IQR, z-score), the total
 * otherwise; Mahalanobis with its cut-off and the features that drove it.
 */
export function storedOutlierRows(outliers: ReadonlyArray<WindowOutlierResult>): OutlierRow[] {
  const rows: OutlierRow[] = [];
  for (const o of outliers) {
    const detail = asRecord(o.detail);
    const perColumn = Array.isArray(o.detail) ? o.detail : undefined;
    if (perColumn && perColumn.length > 0) {
      for (const item of perColumn) {
        const c = asRecord(item);
        const column = c?.['column'];
        const scored = num(c?.['rows']);
        const flagged = num(c?.['flagged']);
        if (typeof column !== 'string' || scored === undefined || flagged === undefined) continue;
        const bounds = asRecord(c?.['bounds']);
        const lower = num(bounds?.['lower']);
        const upper = num(bounds?.['upper']);
        rows.push({
          method: o.method,
          column,
          rows: scored,
          flagged,
          share: scored > 0 ? flagged / scored : null,
          status: scored > 0 ? 'ok' : 'insufficient_data',
          ...(lower !== undefined && upper !== undefined ? { bounds: { lower, upper } } : {}),
        });
      }
      continue;
    }
    const threshold = num(detail?.['threshold']);
    const top = contributions(detail?.['top_features']);
    rows.push({
      method: o.method,
      rows: o.scored,
      flagged: o.outliers,
      share: o.share,
      status: o.status,
      ...(o.reason ? { reason: o.reason } : {}),
      ...(threshold === undefined ? {} : { threshold }),
      ...(top.length > 0 ? { topFeatures: top } : {}),
    });
  }
  return rows;
}

/** A stored quality result as a row: the condition and the printed value (which may be "inf") come from its detail. */
export function storedQualityRow(q: WindowQualityResult): QualityRow {
  const detail = asRecord(q.detail);
  const condition = detail?.['condition'];
  const value = detail?.['value'];
  return {
    check: q.check,
    column: q.column,
    status: q.status,
    value: typeof value === 'number' || typeof value === 'string' ? value : q.value,
    condition: typeof condition === 'string' ? condition : '',
  };
}

function contributions(value: unknown): FeatureContribution[] {
  if (!Array.isArray(value)) return [];
  const out: FeatureContribution[] = [];
  for (const item of value) {
    const r = asRecord(item);
    const feature = r?.['feature'];
    const share = num(r?.['share']);
    if (typeof feature === 'string' && share !== undefined) out.push({ feature, share });
  }
  return out;
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function iso(ms: EpochMs): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString().replace('.000Z', 'Z') : String(ms);
}
