/**
 * Model health of a prediction window: the share of predictions with an error status, and, where labels are
 * present (inline, or joined later by id), the model's quality (classification: accuracy, precision, recall, F1,
 * ROC AUC from probability scores; regression: MAE and RMSE), each next to the same metric on the reference's rows
 * (when the reference has `prediction` and `label` columns) and the change against it.
 */
import type { Column, Table } from '../core/table.js';
import {
  classificationQuality,
  metricChange,
  regressionQuality,
  type ChangeResult,
  type ClassColumn,
  type MetricResult,
} from '../stats/model-quality.js';
import { LABEL_COLUMN, STATUS_COLUMN } from '../window/engine.js';

export interface PredictionSettings {
  readonly task: 'classification' | 'regression';
  readonly positiveLabel: string | number | boolean | null;
}

export interface QualityMetric {
  readonly metric: string;
  readonly current: MetricResult;
  readonly reference: MetricResult | null;
  readonly change: ChangeResult | null;
}

export interface ModelHealth {
  readonly rows: number;
  readonly errors: number;
  /** Share of the window's predictions whose status is "error" (null for an empty window). */
  readonly errorShare: number | null;
  /** Rows with a label (inline or joined). */
  readonly labelled: number;
  readonly metrics: ReadonlyArray<QualityMetric>;
}

function column(table: Table, name: string): Column | undefined {
  return table.columns.find((c) => c.name === name);
}

function classColumn(c: Column): ClassColumn {
  return c.kind === 'number' ? c.values : c.values;
}

function numbers(c: Column): Float64Array {
  if (c.kind === 'number') return c.values;
  const out = new Float64Array(c.values.length);
  c.values.forEach((v, i) => (out[i] = v === null || v.trim() === '' ? NaN : Number(v)));
  return out;
}

/** Probabilities of the positive class: numbers in [0, 1], not all whole. */
function looksLikeScores(c: Column): boolean {
  if (c.kind !== 'number') return false;
  let fractional = false;
  for (const x of c.values) {
    if (!Number.isFinite(x)) continue;
    if (x < 0 || x > 1) return false;
    if (!Number.isInteger(x)) fractional = true;
  }
  return fractional;
}

function isMissing(v: string | number | null): boolean {
  return v === null || (typeof v === 'number' && !Number.isFinite(v)) || v === '';
}

/** The metrics of one table (prediction and label columns named by the caller). */
function metricsOf(prediction: Column, label: Column, settings: PredictionSettings): Map<string, MetricResult> {
  const out = new Map<string, MetricResult>();
  if (settings.task === 'regression') {
    const q = regressionQuality(numbers(label), numbers(prediction));
    out.set('mae', q.mae);
    out.set('rmse', q.rmse);
    return out;
  }
  const positive = settings.positiveLabel === null ? undefined : typeof settings.positiveLabel === 'boolean' ? String(settings.positiveLabel) : settings.positiveLabel;
  let predicted: ClassColumn = classColumn(prediction);
  let scores: Float64Array | undefined;
  if (positive !== undefined && looksLikeScores(prediction)) {
    // Scores: the predicted class is the positive one at 0.5 and above, else the other class the labels hold.
    const classes = new Set<string>();
    for (const v of classColumn(label)) if (!isMissing(v)) classes.add(String(v));
    classes.delete(String(positive));
    if (classes.size === 1) {
      const negative = [...classes][0]!;
      scores = (prediction as Extract<Column, { kind: 'number' }>).values;
      predicted = Array.from(scores, (s) => (Number.isFinite(s) ? (s >= 0.5 ? String(positive) : negative) : null));
    }
  }
  const q = classificationQuality(classColumn(label), predicted, {
    ...(positive !== undefined ? { positive, average: 'binary' as const } : { average: 'macro' as const }),
    ...(scores ? { scores } : {}),
  });
  out.set('accuracy', q.accuracy);
  out.set('precision', q.precision);
  out.set('recall', q.recall);
  out.set('f1', q.f1);
  if (q.rocAuc) out.set('roc_auc', q.rocAuc);
  return out;
}

const referenceCache = new WeakMap<Table, Map<string, MetricResult> | null>();

function referenceMetrics(reference: Table | null, settings: PredictionSettings): Map<string, MetricResult> | null {
  if (!reference) return null;
  const cached = referenceCache.get(reference);
  if (cached !== undefined) return cached;
  const p = column(reference, 'prediction');
  const l = column(reference, 'label');
  const metrics = p && l ? metricsOf(p, l, settings) : null;
  referenceCache.set(reference, metrics);
  return metrics;
}

export function modelHealth(window: Table, reference: Table | null, settings: PredictionSettings): ModelHealth {
  const status = column(window, STATUS_COLUMN);
  let errors = 0;
  if (status && status.kind === 'category') for (const v of status.values) if (v === 'error') errors++;
  const prediction = column(window, 'prediction');
  const label = column(window, LABEL_COLUMN);
  let labelled = 0;
  if (label) for (const v of classColumn(label)) if (!isMissing(v)) labelled++;
  const metrics: QualityMetric[] = [];
  if (prediction && label && labelled > 0) {
    const ref = referenceMetrics(reference, settings);
    for (const [metric, current] of metricsOf(prediction, label, settings)) {
      const r = ref?.get(metric) ?? null;
      metrics.push({ metric, current, reference: r, change: r ? metricChange(r, current) : null });
    }
  }
  return { rows: window.rowCount, errors, errorShare: window.rowCount > 0 ? errors / window.rowCount : null, labelled, metrics };
}
