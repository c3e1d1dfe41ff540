/**
 * Model health of a prediction window: the share of predictions with an error status, and, where labels are
 * present (inline, or joined later by id), the model's quality (classification: accuracy, precision, recall, F1,
 * ROC AUC from probability scores; regression: MAE and RMSE), each next to the same metric on the reference's rows
 * (when the reference has `prediction` and `label` (or `__label`) columns) and the change against it. Predictions
 * and labels are compared as the same values (`labelsLike`); probability scores (numbers or numeric text, see
 * models.ts) are thresholded at 0.5 into the positive class or not.
 */
import type { Column, Table } from '../core/table.js';
import {
  classificationQuality,
  metricChange,
  regressionQuality,
  rocAuc,
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

/**
 * A class named in text as a number column holds it (src/window/buffer.ts reads booleans as 1 and 0 and numeric
 * text as its number), else the text itself.
 */
function asNumberClass(v: string): string | number {
  if (v === 'true') return 1;
  if (v === 'false') return 0;
  const x = v.trim() === '' ? NaN : Number(v);
  return Number.isNaN(x) ? v : x;
}

/**
 * The labels as the prediction column holds its values, so that a prediction and its label are one class exactly
 * when they are one value. Labels are text (the window keeps them as written; `true` is "true"); predictions are
 * text too unless the reference stores them as numbers (class codes, scores: see models.ts), and then the labels
 * are read as the window read those predictions (true as 1, "007" as 7).
 */
function labelsLike(label: Column, prediction: Column): ClassColumn {
  if (label.kind === 'number' || prediction.kind === 'category') return label.values;
  const read = label.values.map((v) => (v === null || v === '' ? null : asNumberClass(v)));
  if (read.every((v) => typeof v !== 'string')) return Float64Array.from(read, (v) => (v === null ? NaN : v));
  return read.map((v) => (v === null ? null : String(v)));
}

/** Probabilities of the positive class, or undefined: numbers (or numeric text) in [0, 1], not all whole. */
export function scoresOf(c: Column): Float64Array | undefined {
  const values = numbers(c);
  let fractional = false;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) {
      // Text that is not a number: class names, not scores.
      const v = c.kind === 'category' ? c.values[i] : null;
      if (v !== null && v !== undefined && v.trim() !== '') return undefined;
      continue;
    }
    if (!Number.isFinite(x)) continue;
    if (x < 0 || x > 1) return undefined;
    if (!Number.isInteger(x)) fractional = true;
  }
  return fractional ? values : undefined;
}

function isMissing(v: string | number | null): boolean {
  return v === null || (typeof v === 'number' && !Number.isFinite(v)) || v === '';
}

function classKey(v: string | number): string {
  return typeof v === 'number' ? String(v) : v;
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
  const configured = settings.positiveLabel;
  const positiveText = configured === null ? undefined : typeof configured === 'boolean' ? String(configured) : configured;
  // The positive class as the predictions hold it: read as a number when they are numbers (so are the labels).
  const positive = prediction.kind === 'number' && typeof positiveText === 'string' ? asNumberClass(positiveText) : positiveText;
  const labels = labelsLike(label, prediction);
  let truth: ClassColumn = labels;
  let predicted: ClassColumn = classColumn(prediction);
  const scores = positive !== undefined ? scoresOf(prediction) : undefined;
  if (positive !== undefined && scores) {
    // Scores of the positive class: positive at 0.5 and above, else not positive, whatever classes the window's
    // labels hold, and the labels read the same way (positive or not): sklearn's metric(y == pos, s >= 0.5), which
    // equals metric(y, where(s >= 0.5, pos, neg)) for binary labels. ROC AUC takes the labels as they are.
    const pos = classKey(positive);
    const not = `not ${pos}`;
    predicted = Array.from(scores, (s) => (Number.isFinite(s) ? (s >= 0.5 ? pos : not) : null));
    truth = Array.from({ length: labels.length }, (_, i) => {
      const v = labels[i]!;
      return isMissing(v) ? null : classKey(v) === pos ? pos : not;
    });
  }
  const q = classificationQuality(truth, predicted, {
    ...(positive !== undefined ? { positive: scores ? classKey(positive) : positive, average: 'binary' as const } : { average: 'macro' as const }),
  });
  out.set('accuracy', q.accuracy);
  out.set('precision', q.precision);
  out.set('recall', q.recall);
  out.set('f1', q.f1);
  if (scores && positive !== undefined) out.set('roc_auc', rocAuc(labels, scores, positive));
  return out;
}

const referenceCache = new WeakMap<Table, Map<string, MetricResult> | null>();

function referenceMetrics(reference: Table | null, settings: PredictionSettings): Map<string, MetricResult> | null {
  if (!reference) return null;
  const cached = referenceCache.get(reference);
  if (cached !== undefined) return cached;
  const p = column(reference, 'prediction');
  // `__label`: a reference built from window samples stored before they named the column `label`.
  const l = column(reference, 'label') ?? column(reference, LABEL_COLUMN);
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
