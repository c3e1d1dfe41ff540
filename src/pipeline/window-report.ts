/**
 * A closed window's evaluation against its model's active reference, and the two things made of it: the window
 * record the store keeps and the drift event pipelines subscribe to. Ids are derived from content, so a report
 * issued again (after a crash, a replay) has the same ids and replaces itself.
 */
import { createHash } from 'node:crypto';
import type { WindowFeatureResult, WindowKey, WindowOutlierResult, WindowQualityResult, WindowRecord } from '../core/store.js';
import { getColumn, type Column, type Table } from '../core/table.js';
import { columnDrift, type ColumnDrift } from '../drift/column-drift.js';
import { datasetDrift, type DatasetDrift } from '../drift/dataset-drift.js';
import { METHODS } from '../drift/methods.js';
import { detectOutliers, type OutlierReport } from '../outliers/outliers.js';
import { runQualityChecks, type QualityCheckResult } from '../quality/index.js';
import { sampleRows, type LoadedReference } from '../reference/lifecycle.js';
import { sortedFiniteMemo } from '../stats/sorted.js';
import type { DriftEvent } from '../core/drift-event.js';
import { LABEL_COLUMN, STATUS_COLUMN, type DueWindow } from '../window/engine.js';
import { RECORD_FIELDS, type EvaluationSettings } from './models.js';
import { modelHealth, scoresOf, type ModelHealth, type PredictionSettings } from './model-quality.js';

/** Seed of the reservoir that picks the rows stored with a window (fixed: the same window stores the same rows). */
const SAMPLE_SEED = 7;

export interface WindowEvaluation {
  readonly due: DueWindow;
  /** null: the model had no active reference when the window closed (nothing to compare with). */
  readonly reference: LoadedReference | null;
  readonly dataset: DatasetDrift;
  readonly columns: ColumnDrift[];
  readonly outliers: OutlierReport | null;
  readonly quality: QualityCheckResult[];
  /** Prediction models: error-status share and model quality against the reference. */
  readonly health: ModelHealth | null;
  /** When the evaluation finished (processing time). */
  readonly computedAt: number;
}

/**
 * Drift of every profiled feature (method per feature), the dataset share, outliers and quality checks. A feature
 * the window does not carry, and a window with no rows, give insufficient-data results, never an exception. A
 * reference column that is no feature is not reported: a record field (`label`, `status`, `id`, ..., RECORD_FIELDS),
 * `prediction` outside prediction models, and the fields the window is segmented by. Reads only the window's table
 * and key of `due` (see evaluation-worker.ts).
 */
export function evaluateWindow(
  due: DueWindow,
  reference: LoadedReference | undefined,
  settings: EvaluationSettings,
  now: number,
  prediction?: PredictionSettings,
): WindowEvaluation {
  const health = prediction ? modelHealth(due.table, reference?.rows ?? null, prediction) : null;
  if (!reference) {
    return { due, reference: null, dataset: datasetDrift([], settings.driftShare), columns: [], outliers: null, quality: [], health, computedAt: now };
  }
  const profile = reference.profile;
  // Each window column is sorted once, for drift and the quality checks' counts.
  const sorted = sortedFiniteMemo();
  const columns: ColumnDrift[] = [];
  const present = new Set<string>();
  for (const ref of profile.columns) {
    // The fields the window is segmented by hold one value in it: they key the window, they are not its features.
    if (RECORD_FIELDS.has(ref.name) || (!prediction && ref.name === 'prediction') || Object.hasOwn(due.key.segment, ref.name)) continue;
    const col = getColumn(due.table, ref.name);
    const options = settings.perFeature.get(ref.name) ?? settings.drift;
    if (!col) {
      const method = options.method && options.method !== 'auto' ? options.method : ref.type === 'numerical' ? 'ks' : 'chisquare';
      columns.push({
        column: ref.name,
        type: ref.type,
        method,
        score: null,
        threshold: options.threshold ?? METHODS[method].defaultThreshold,
        drifted: false,
        n_reference: ref.type === 'numerical' ? ref.sorted.length : ref.counts.size,
        n_current: 0,
        status: 'insufficient_data',
        reason: 'the stream does not carry this feature (not in the model\'s configured features)',
      });
      continue;
    }
    present.add(ref.name);
    columns.push(columnDrift(ref, col, options, sorted));
  }
  const current: Table = { ...due.table, columns: due.table.columns.filter((c) => present.has(c.name)) };
  const profiled = { ...profile, columns: profile.columns.filter((c) => present.has(c.name)) };
  return {
    due,
    reference,
    dataset: datasetDrift(columns, settings.driftShare),
    columns,
    outliers: detectOutliers(profiled, current, settings.outliers),
    quality: runQualityChecks(current, profile.quality, settings.quality ?? {}, sorted),
    health,
    computedAt: now,
  };
}

/** The store's record of a window evaluation, with up to `sampleRows` of its rows. */
export function windowRecord(e: WindowEvaluation, sample: number): WindowRecord {
  const features: WindowFeatureResult[] = e.columns.map((c) => ({
    feature: c.column,
    method: c.method,
    status: c.status,
    score: c.score,
    statistic: c.statistic ?? null,
    threshold: c.threshold,
    drifted: c.drifted,
    reason: c.reason ?? '',
    referenceSize: c.n_reference,
    currentSize: c.n_current,
  }));
  const outliers: WindowOutlierResult[] = [];
  if (e.outliers) {
    for (const [method, list] of [['iqr', e.outliers.iqr], ['zscore', e.outliers.zscore]] as const) {
      const ok = list.filter((c) => c.status === 'ok');
      const scored = ok.reduce((s, c) => s + c.rows, 0);
      const flagged = ok.reduce((s, c) => s + c.flagged, 0);
      outliers.push({
        method,
        status: ok.length > 0 ? 'ok' : 'insufficient_data',
        outliers: flagged,
        scored,
        share: scored > 0 ? flagged / scored : null,
        reason: ok.length > 0 ? '' : 'no numerical feature could be scored',
        detail: list.map((c) => ({ column: c.column, rows: c.rows, flagged: c.flagged, share: c.share, bounds: c.bounds ?? null })),
      });
    }
    const m = e.outliers.mahalanobis;
    outliers.push({
      method: 'mahalanobis',
      status: m.status,
      outliers: m.flagged,
      scored: m.rows,
      share: m.status === 'ok' ? m.share : null,
      reason: m.reason ?? '',
      detail: { threshold: m.threshold ?? null, rank: m.rank, features: m.features, top_features: m.top_features ?? [] },
    });
  }
  const quality: WindowQualityResult[] = e.quality.map((q) => ({
    check: q.check,
    column: q.column ?? '',
    status: q.condition.startsWith('error:') || q.value === null ? 'insufficient_data' : q.passed ? 'passed' : 'failed',
    value: typeof q.value === 'number' ? q.value : null,
    detail: { condition: q.condition, value: q.value },
  }));
  if (e.health) {
    quality.push({
      check: 'error_status_share',
      column: '',
      status: e.health.errorShare === null ? 'insufficient_data' : 'passed',
      value: e.health.errorShare,
      detail: { errors: e.health.errors, rows: e.health.rows },
    });
    for (const m of e.health.metrics) {
      const ok = m.current.status === 'ok';
      quality.push({
        check: `model_${m.metric}`,
        column: '',
        status: ok ? 'passed' : 'insufficient_data',
        value: ok ? m.current.value : null,
        detail: {
          n: m.current.n,
          skipped: m.current.skipped,
          labelled: e.health.labelled,
          ...(ok ? {} : { reason: m.current.reason }),
          reference: m.reference?.status === 'ok' ? m.reference.value : null,
          change: m.change?.status === 'ok' ? { absolute: m.change.absolute, relative: m.change.relative } : null,
        },
      });
    }
  }
  const table = e.due.table;
  return {
    key: e.due.key,
    referenceId: e.reference?.snapshot.id ?? '',
    rowCount: table.rowCount,
    testedFeatures: e.dataset.columns_tested,
    driftedFeatures: e.dataset.columns_drifted,
    driftShare: e.dataset.columns_tested > 0 ? e.dataset.share : null,
    datasetDrifted: e.dataset.drifted,
    version: e.due.version,
    computedAt: e.computedAt,
    features,
    outliers,
    quality,
    ...(sample > 0 && table.rowCount > 0 ? { sample: storedSample(sampleRows(table, sample, SAMPLE_SEED), e.health !== null) } : {}),
  };
}

/**
 * A window's rows as stored for references built from past windows: a prediction window's label and status
 * columns under their record names (`label`, `status`: what a reference's score is computed from, and never a
 * feature), and probability scores kept as text (a classifier's predictions without a reference to follow, see
 * models.ts) stored as numbers, so such a reference compares scores as numbers.
 */
export function storedSample(rows: Table, predictions: boolean): Table {
  if (!predictions) return rows;
  const columns = rows.columns.map((c): Column => {
    if (c.name === LABEL_COLUMN) return { ...c, name: 'label' };
    if (c.name === STATUS_COLUMN) return { ...c, name: 'status' };
    if (c.name === 'prediction' && c.kind === 'category') {
      const scores = scoresOf(c);
      if (scores) return { kind: 'number', name: c.name, values: scores, integer: false };
    }
    return c;
  });
  return { ...rows, columns };
}

function hash16(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

function segmentPairs(key: WindowKey): Array<[string, string]> {
  return Object.keys(key.segment).sort().map((k) => [k, key.segment[k]!]);
}

export type { DriftEvent };

/** Drift event id: model, segment, window bounds (and a count window's id), reference and report version. */
export function driftEventId(key: WindowKey, referenceId: string, version: number): string {
  const window = key.countId === undefined ? [key.start, key.end] : [key.start, key.end, key.countId];
  return `de-${hash16([key.model, segmentPairs(key), ...window, referenceId, version])}`;
}

/** null when there is nothing to say (no active reference: nothing was compared). */
export function driftEvent(e: WindowEvaluation, record: WindowRecord): DriftEvent | null {
  if (!e.reference) return null;
  const key = e.due.key;
  return {
    schema: 'driftwatch.drift-event/v1',
    id: driftEventId(key, record.referenceId, record.version),
    model: key.model,
    model_version: e.reference.snapshot.modelVersion || null,
    segment: key.segment,
    window: {
      start: new Date(key.start).toISOString(),
      end: new Date(key.end).toISOString(),
      count: record.rowCount,
      version: record.version,
      cause: e.due.cause,
      ...(key.countId !== undefined ? { count_id: key.countId } : {}),
    },
    reference_id: record.referenceId,
    dataset: {
      tested: e.dataset.columns_tested,
      drifted: e.dataset.columns_drifted,
      share: e.dataset.share,
      drift_share: e.dataset.drift_share,
      drifted_flag: e.dataset.drifted,
    },
    features: record.features.map((f) => ({
      feature: f.feature,
      method: f.method,
      score: f.score,
      statistic: f.statistic,
      threshold: f.threshold,
      drifted: f.drifted,
      status: f.status,
      ...(f.reason ? { reason: f.reason } : {}),
    })),
    outliers: record.outliers.map((o) => ({ method: o.method, outliers: o.outliers, scored: o.scored, share: o.share })),
    quality_failed: record.quality.filter((q) => q.status === 'failed').map((q) => ({ check: q.check, column: q.column })),
    ...(e.health
      ? {
          model_health: {
            error_share: e.health.errorShare,
            labelled: e.health.labelled,
            metrics: e.health.metrics.map((m) => ({
              metric: m.metric,
              value: m.current.status === 'ok' ? m.current.value : null,
              reference: m.reference?.status === 'ok' ? m.reference.value : null,
              change_absolute: m.change?.status === 'ok' ? m.change.absolute : null,
              change_relative: m.change?.status === 'ok' ? m.change.relative : null,
              status: m.current.status,
            })),
          },
        }
      : {}),
    computed_at: new Date(record.computedAt).toISOString(),
  };
}

/** Dead letter id: where the record came from and why it was refused (the same record read twice is one entry). */
export function deadLetterId(origin: string, reasonCode: string): string {
  return `dl-${hash16([origin, reasonCode])}`;
}
