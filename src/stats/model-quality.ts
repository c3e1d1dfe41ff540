/**
 * Model-quality metrics per window, matching scikit-learn (the version pinned in scripts/oracle/requirements.txt):
 * classification (accuracy; precision, recall and F1 as `average='binary' | 'macro' | 'weighted'` with
 * `zero_division=0`; binary ROC AUC) and regression (MAE, RMSE), plus the change of a score against a reference.
 *
 * Inputs are columns as driftwatch holds them (src/core/table.ts): class labels and predictions as a categorical
 * column (`ReadonlyArray<string | null>`) or a numerical one (`Float64Array`, e.g. 0/1 codes), scores and regression
 * targets as `Float64Array`. A row missing a label or a prediction (null, "", NaN, +/-inf: the spec's "missing") is
 * skipped and counted in `skipped`; sklearn would reject such input, so the numbers equal sklearn's on the rows that
 * remain. Every function returns `{ status: 'ok', value, n, skipped }` or `{ status: 'insufficient_data', reason, n,
 * skipped }` (see outcome.ts), never NaN or +/-inf: a regression error that overflows float64 (sklearn's inf, which
 * JSON cannot carry) is insufficient with a reason saying so. Only programming errors (columns of different
 * lengths) throw.
 *
 * Sums are formed in numpy's order (`pairwiseSum`), so averages agree with sklearn to the last bits or nearly so.
 */
import { pairwiseSum } from './describe.js';
import type { InsufficientData } from './outcome.js';
import { sortFloat64InPlace } from './sorted.js';

/** A metric's value over the `n` rows it used; `skipped` rows lacked a label, a prediction or a score. */
export interface MetricValue {
  readonly status: 'ok';
  readonly value: number;
  readonly n: number;
  readonly skipped: number;
}

/** No meaningful value (no rows, one class only for ROC AUC, ...): the reason travels into the report. */
export interface MetricInsufficient extends InsufficientData {
  readonly n: number;
  readonly skipped: number;
}

export type MetricResult = MetricValue | MetricInsufficient;

/** Class labels or predictions: a categorical column (null = missing) or a numerical one (NaN = missing). */
export type ClassColumn = ReadonlyArray<string | null> | Float64Array;

/** One class, as given by the user: a string, or a number for a numerical column (1 and "1" name the same class). */
export type ClassValue = string | number;

/**
 * How per-class precision, recall and F1 are combined, as sklearn's `average`:
 * - `binary`: the metric of the `positive` class only (at most two classes may be present);
 * - `macro`: the unweighted mean over every class present in the labels or the predictions;
 * - `weighted`: the mean weighted by each class's support (its count among the labels).
 */
export type Averaging = { readonly average: 'binary'; readonly positive: ClassValue } | { readonly average: 'macro' | 'weighted' };

/**
 * Counts of (label, prediction) pairs over the rows that have both. `classes` are the classes present in those
 * rows, ordered as sklearn's `unique_labels` orders them (numerically when both columns are numerical, otherwise
 * by Unicode code point), and `counts[t * k + p]` counts rows labelled `classes[t]` and predicted `classes[p]`,
 * k = classes.length: sklearn's `confusion_matrix(y_true, y_pred)` laid out row-major.
 */
export interface ConfusionMatrix {
  readonly classes: ReadonlyArray<string>;
  readonly counts: Float64Array;
  readonly n: number;
  readonly skipped: number;
}

/** `current` against `reference`: `relative` is `(current - reference) / |reference|`, null when reference is 0. */
export interface ScoreChange {
  readonly reference: number;
  readonly current: number;
  readonly absolute: number;
  readonly relative: number | null;
}

export type ChangeResult = ({ readonly status: 'ok' } & ScoreChange) | InsufficientData;

export interface ClassificationOptions {
  /** The positive class: needed for `average: 'binary'` and for ROC AUC. */
  readonly positive?: ClassValue;
  /** Default: 'binary' when `positive` is given, otherwise 'macro'. */
  readonly average?: 'binary' | 'macro' | 'weighted';
  /** Probability (or any monotone score) of the positive class per row; gives `rocAuc` when `positive` is set. */
  readonly scores?: Float64Array;
}

export interface ClassificationQuality {
  readonly confusion: ConfusionMatrix;
  readonly accuracy: MetricResult;
  readonly precision: MetricResult;
  readonly recall: MetricResult;
  readonly f1: MetricResult;
  /** Present when scores and a positive class were given. */
  readonly rocAuc?: MetricResult;
}

export interface RegressionQuality {
  readonly mae: MetricResult;
  readonly rmse: MetricResult;
}

// ---------------------------------------------------------------------------------------------------------------
// Classification

/**
 * The confusion matrix of labels against predictions, skipping (and counting) rows where either is missing.
 * Cost: O(n + k log k + k^2) time, O(k^2) memory for k classes.
 *
 * @example confusionMatrix(['a', 'b', null, 'b'], ['a', 'a', 'b', 'b'])
 * // { classes: ['a', 'b'], counts: Float64Array [1, 0, 1, 1], n: 3, skipped: 1 }
 */
export function confusionMatrix(labels: ClassColumn, predictions: ClassColumn): ConfusionMatrix {
  const rows = labels.length;
  if (predictions.length !== rows) {
    throw new RangeError(`confusionMatrix: ${rows} labels but ${predictions.length} predictions`);
  }
  const numeric = labels instanceof Float64Array && predictions instanceof Float64Array;
  const slot = new Map<string, number>();
  const keys: string[] = [];
  const trueSlot = new Int32Array(rows);
  const predSlot = new Int32Array(rows);
  let n = 0;
  const slotOf = (key: string): number => {
    let s = slot.get(key);
    if (s === undefined) {
      s = keys.length;
      slot.set(key, s);
      keys.push(key);
    }
    return s;
  };
  for (let i = 0; i < rows; i++) {
    const t = classKeyAt(labels, i);
    const p = classKeyAt(predictions, i);
    if (t === null || p === null) continue;
    trueSlot[n] = slotOf(t);
    predSlot[n] = slotOf(p);
    n++;
  }
  const order = keys.map((_, i) => i);
  if (numeric) order.sort((a, b) => Number(keys[a]) - Number(keys[b]));
  else order.sort((a, b) => compareCodePoints(keys[a]!, keys[b]!));
  const rank = new Int32Array(keys.length);
  order.forEach((s, r) => (rank[s] = r));
  const k = keys.length;
  const counts = new Float64Array(k * k);
  for (let i = 0; i < n; i++) counts[rank[trueSlot[i]!]! * k + rank[predSlot[i]!]!]!++;
  return { classes: order.map((s) => keys[s]!), counts, n, skipped: rows - n };
}

/**
 * Share of rows whose prediction equals the label: sklearn's `accuracy_score(y_true, y_pred)`.
 * Insufficient when no row has both a label and a prediction.
 */
export function accuracy(cm: ConfusionMatrix): MetricResult {
  if (cm.n === 0) return noRows('accuracy', cm);
  const k = cm.classes.length;
  let hits = 0;
  for (let c = 0; c < k; c++) hits += cm.counts[c * k + c]!;
  return ok(hits / cm.n, cm);
}

/**
 * Precision tp / (tp + fp): of the rows predicted as a class, the share labelled that class. sklearn's
 * `precision_score(y_true, y_pred, average=..., pos_label=..., zero_division=0)`.
 */
export function precision(cm: ConfusionMatrix, averaging: Averaging): MetricResult {
  return averaged('precision', cm, averaging, (tp, _t, p) => (p === 0 ? 0 : tp / p));
}

/**
 * Recall tp / (tp + fn): of the rows labelled a class, the share predicted as that class. sklearn's
 * `recall_score(y_true, y_pred, average=..., pos_label=..., zero_division=0)`.
 */
export function recall(cm: ConfusionMatrix, averaging: Averaging): MetricResult {
  return averaged('recall', cm, averaging, (tp, t) => (t === 0 ? 0 : tp / t));
}

/**
 * F1, the harmonic mean of precision and recall, formed as sklearn forms it from the counts:
 * 2 tp / (2 tp + fn + fp) = 2 tp / (support + predicted), 0 when both are 0. sklearn's
 * `f1_score(y_true, y_pred, average=..., pos_label=..., zero_division=0)`.
 */
export function f1(cm: ConfusionMatrix, averaging: Averaging): MetricResult {
  return averaged('f1', cm, averaging, (tp, t, p) => (t + p === 0 ? 0 : (2 * tp) / (t + p)));
}

/**
 * Binary ROC AUC: the probability that a random positive row scores above a random negative one (ties count
 * half). Computed as sklearn's `roc_auc_score(y_true == positive, scores)`: rows sorted by score, one ROC point
 * per distinct score (so tied scores form one diagonal segment: the average-rank treatment), collinear points
 * dropped, then the trapezoid rule summed in numpy's order.
 *
 * Rows with a missing label or a non-finite score are skipped and counted. Insufficient when the labels hold only
 * one class (no positive or no negative row), or more than two classes (sklearn refuses a single score column for
 * multiclass labels).
 *
 * Cost: O(n log n) time (two sorts), O(n) memory.
 *
 * @example rocAuc(Float64Array.of(0, 0, 1, 1), Float64Array.of(0.1, 0.4, 0.35, 0.8), 1)
 * // { status: 'ok', value: 0.75, n: 4, skipped: 0 }
 */
export function rocAuc(labels: ClassColumn, scores: Float64Array, positive: ClassValue): MetricResult {
  const rows = labels.length;
  if (scores.length !== rows) throw new RangeError(`rocAuc: ${rows} labels but ${scores.length} scores`);
  const pos = classKey(positive);
  const posScores = new Float64Array(rows);
  const negScores = new Float64Array(rows);
  let np = 0;
  let nn = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < rows; i++) {
    const key = classKeyAt(labels, i);
    const s = scores[i]!;
    if (key === null || s - s !== 0) continue;
    if (distinct.size < 3) distinct.add(key);
    if (key === pos) posScores[np++] = s;
    else negScores[nn++] = s;
  }
  const counted = { n: np + nn, skipped: rows - np - nn };
  if (counted.n === 0) return insufficientWith('roc_auc: no row has both a label and a finite score', counted);
  if (distinct.size > 2) {
    return insufficientWith('roc_auc: the labels hold more than two classes; ROC AUC here is binary', counted);
  }
  if (np === 0 || nn === 0) {
    const only = np === 0 ? `no label equals the positive class '${pos}'` : 'every label is the positive class';
    return insufficientWith(`roc_auc: only one class is present in the labels (${only})`, counted);
  }
  const p = sortFloat64InPlace(posScores.subarray(0, np));
  const q = sortFloat64InPlace(negScores.subarray(0, nn));

  // One point per distinct score, walking scores from high to low: cumulative (fps, tps), sklearn's
  // confusion_matrix_at_thresholds. A point is kept unless it lies on the line through its neighbours
  // (sklearn's drop_intermediate: second differences of both fps and tps are zero), which changes no area.
  const fpr = new Float64Array(counted.n + 1);
  const tpr = new Float64Array(counted.n + 1);
  let points = 1; // (0, 0) first, as sklearn prepends it
  let i = np - 1;
  let j = nn - 1;
  let tps = 0;
  let fps = 0;
  // A point is decided once its successor is known: (lastF, lastT) is the point before the pending one.
  let havePending = false;
  let pendF = 0;
  let pendT = 0;
  let lastF = 0;
  let lastT = 0;
  let firstPoint = true;
  while (i >= 0 || j >= 0) {
    const x = i < 0 ? q[j]! : j < 0 ? p[i]! : p[i]! >= q[j]! ? p[i]! : q[j]!;
    while (i >= 0 && p[i] === x) {
      tps++;
      i--;
    }
    while (j >= 0 && q[j] === x) {
      fps++;
      j--;
    }
    if (firstPoint) {
      // The first threshold point is always kept.
      fpr[points] = fps;
      tpr[points] = tps;
      points++;
      lastF = fps;
      lastT = tps;
      firstPoint = false;
      continue;
    }
    if (havePending) {
      // Keep the pending point when it is a corner between the last kept point and this one.
      if (fps - pendF !== pendF - lastF || tps - pendT !== pendT - lastT) {
        fpr[points] = pendF;
        tpr[points] = pendT;
        points++;
      }
      lastF = pendF;
      lastT = pendT;
    }
    pendF = fps;
    pendT = tps;
    havePending = true;
  }
  if (havePending) {
    fpr[points] = pendF;
    tpr[points] = pendT;
    points++;
  }
  // Rates, then numpy's trapezoid: sum of (x[k+1] - x[k]) * (y[k+1] + y[k]) / 2 in pairwise order.
  const totalF = fpr[points - 1]!;
  const totalT = tpr[points - 1]!;
  for (let k = 1; k < points; k++) {
    fpr[k] = fpr[k]! / totalF;
    tpr[k] = tpr[k]! / totalT;
  }
  const terms = new Float64Array(points - 1);
  for (let k = 0; k < points - 1; k++) terms[k] = ((fpr[k + 1]! - fpr[k]!) * (tpr[k + 1]! + tpr[k]!)) / 2;
  return { status: 'ok', value: pairwiseSum(terms), ...counted };
}

/**
 * Accuracy, precision, recall and F1 (and ROC AUC when scores are given) from one confusion matrix.
 * Cost: O(n log n) with scores, O(n + k^2) otherwise.
 */
export function classificationQuality(
  labels: ClassColumn,
  predictions: ClassColumn,
  options: ClassificationOptions = {},
): ClassificationQuality {
  const confusion = confusionMatrix(labels, predictions);
  const mode = options.average ?? (options.positive !== undefined ? 'binary' : 'macro');
  let averaging: Averaging;
  if (mode === 'binary') {
    if (options.positive === undefined) throw new RangeError("classificationQuality: average 'binary' needs a positive class");
    averaging = { average: 'binary', positive: options.positive };
  } else {
    averaging = { average: mode };
  }
  const out: ClassificationQuality = {
    confusion,
    accuracy: accuracy(confusion),
    precision: precision(confusion, averaging),
    recall: recall(confusion, averaging),
    f1: f1(confusion, averaging),
  };
  if (options.scores !== undefined && options.positive !== undefined) {
    return { ...out, rocAuc: rocAuc(labels, options.scores, options.positive) };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Regression

/**
 * Mean absolute error mean(|predicted - actual|): sklearn's `mean_absolute_error(y_true, y_pred)`. Rows where
 * either value is NaN or infinite are skipped and counted. Insufficient when no row remains, and when the result
 * overflows float64 (finite values whose differences or sum exceed ~1.8e308: sklearn gives inf). O(n).
 */
export function meanAbsoluteError(actual: Float64Array, predicted: Float64Array): MetricResult {
  const { errors, n, skipped } = residuals('mean_absolute_error', actual, predicted);
  if (n === 0) return insufficientWith('mae: no row has both a finite target and a finite prediction', { n, skipped });
  for (let i = 0; i < n; i++) errors[i] = Math.abs(errors[i]!);
  return finiteOr('mae', pairwiseSum(errors, 0, n) / n, { n, skipped });
}

/**
 * Root mean squared error sqrt(mean((actual - predicted)^2)): sklearn's `root_mean_squared_error(y_true, y_pred)`.
 * Rows where either value is NaN or infinite are skipped and counted. Insufficient when no row remains, and when
 * the squares overflow float64 (a residual above ~1.3e154: sklearn gives inf, e.g. for [1e200, 0] against [0, 0]).
 * O(n).
 */
export function rootMeanSquaredError(actual: Float64Array, predicted: Float64Array): MetricResult {
  const { errors, n, skipped } = residuals('root_mean_squared_error', actual, predicted);
  if (n === 0) return insufficientWith('rmse: no row has both a finite target and a finite prediction', { n, skipped });
  for (let i = 0; i < n; i++) errors[i] = errors[i]! * errors[i]!;
  return finiteOr('rmse', Math.sqrt(pairwiseSum(errors, 0, n) / n), { n, skipped });
}

/** MAE and RMSE over the same rows. O(n). */
export function regressionQuality(actual: Float64Array, predicted: Float64Array): RegressionQuality {
  return { mae: meanAbsoluteError(actual, predicted), rmse: rootMeanSquaredError(actual, predicted) };
}

// ---------------------------------------------------------------------------------------------------------------
// Change against a reference

/**
 * How a score moved from the reference to the current window. `relative` is null when the reference is 0 (the
 * ratio has no meaning there) or the ratio overflows (a subnormal reference). Both scores must be finite: otherwise
 * throws (a programming error; `metricChange`, which the reports use, never passes a non-finite score).
 *
 * @example scoreChange(0.8, 0.7) // { reference: 0.8, current: 0.7, absolute: -0.1..., relative: -0.125 }
 */
export function scoreChange(reference: number, current: number): ScoreChange {
  if (!Number.isFinite(reference) || !Number.isFinite(current)) {
    throw new RangeError(`scoreChange: scores must be finite (reference ${reference}, current ${current})`);
  }
  const absolute = current - reference;
  const relative = reference === 0 ? null : absolute / Math.abs(reference);
  return { reference, current, absolute, relative: relative !== null && Number.isFinite(relative) ? relative : null };
}

/**
 * `scoreChange` of two metric results; insufficient (with both reasons) when either is, or when either value or
 * their difference is not finite (a result made elsewhere than here): never throws for a metric's value.
 */
export function metricChange(reference: MetricResult, current: MetricResult): ChangeResult {
  if (reference.status !== 'ok' || current.status !== 'ok') {
    const reasons: string[] = [];
    if (reference.status !== 'ok') reasons.push(`reference: ${reference.reason}`);
    if (current.status !== 'ok') reasons.push(`current: ${current.reason}`);
    return { status: 'insufficient_data', reason: reasons.join('; ') };
  }
  if (!Number.isFinite(current.value - reference.value)) {
    const reasons: string[] = [];
    if (!Number.isFinite(reference.value)) reasons.push(`reference: the value is ${reference.value}`);
    if (!Number.isFinite(current.value)) reasons.push(`current: the value is ${current.value}`);
    if (reasons.length === 0) reasons.push(`the change from ${reference.value} to ${current.value} overflows`);
    return { status: 'insufficient_data', reason: reasons.join('; ') };
  }
  return { status: 'ok', ...scoreChange(reference.value, current.value) };
}

// ---------------------------------------------------------------------------------------------------------------
// Internals

type Counted = { readonly n: number; readonly skipped: number };

function ok(value: number, counted: Counted): MetricValue {
  return { status: 'ok', value, n: counted.n, skipped: counted.skipped };
}

function insufficientWith(reason: string, counted: Counted): MetricInsufficient {
  return { status: 'insufficient_data', reason, n: counted.n, skipped: counted.skipped };
}

/**
 * An error metric's value, or insufficient when it overflowed: sklearn returns inf there, which the store and the
 * drift event (JSON) cannot carry, so the reason says what happened instead.
 */
function finiteOr(metric: 'mae' | 'rmse', value: number, counted: Counted): MetricResult {
  if (Number.isFinite(value)) return ok(value, counted);
  return insufficientWith(
    `${metric}: the result overflows float64 (scikit-learn gives inf): the errors are too large to ${metric === 'rmse' ? 'square and sum' : 'sum'}`,
    counted,
  );
}

function noRows(metric: string, counted: Counted): MetricInsufficient {
  return insufficientWith(`${metric}: no row has both a label and a prediction`, counted);
}

/**
 * Per-class metric from (tp, support, predicted), combined as sklearn's precision_recall_fscore_support does:
 * binary takes the positive class (refusing more than two classes, or a positive class absent while two others
 * are present, as sklearn raises there), macro averages over all present classes, weighted by support.
 */
function averaged(
  metric: string,
  cm: ConfusionMatrix,
  averaging: Averaging,
  perClass: (tp: number, support: number, predicted: number) => number,
): MetricResult {
  if (cm.n === 0) return noRows(metric, cm);
  const k = cm.classes.length;
  const tp = new Float64Array(k);
  const support = new Float64Array(k);
  const predicted = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const c = cm.counts[t * k + p]!;
      support[t] = support[t]! + c;
      predicted[p] = predicted[p]! + c;
    }
    tp[t] = cm.counts[t * k + t]!;
  }
  if (averaging.average === 'binary') {
    const pos = classKey(averaging.positive);
    if (k > 2) {
      return insufficientWith(
        `${metric}: average 'binary' needs at most two classes, found ${k} (use 'macro' or 'weighted')`,
        cm,
      );
    }
    const c = cm.classes.indexOf(pos);
    if (c < 0) {
      if (k === 2) {
        return insufficientWith(`${metric}: the positive class '${pos}' is not one of the classes present (${cm.classes.join(', ')})`, cm);
      }
      // One class present and it is not the positive one: no positive row or prediction, so 0 (zero_division=0).
      return ok(perClass(0, 0, 0), cm);
    }
    return ok(perClass(tp[c]!, support[c]!, predicted[c]!), cm);
  }
  const values = new Float64Array(k);
  for (let c = 0; c < k; c++) values[c] = perClass(tp[c]!, support[c]!, predicted[c]!);
  if (averaging.average === 'macro') return ok(pairwiseSum(values) / k, cm);
  // numpy's average(a, weights=w): sum(a * w) / sum(w). The support sums to n > 0.
  const weighted = new Float64Array(k);
  for (let c = 0; c < k; c++) weighted[c] = values[c]! * support[c]!;
  return ok(pairwiseSum(weighted) / pairwiseSum(support), cm);
}

function residuals(name: string, actual: Float64Array, predicted: Float64Array): { errors: Float64Array; n: number; skipped: number } {
  const rows = actual.length;
  if (predicted.length !== rows) throw new RangeError(`${name}: ${rows} targets but ${predicted.length} predictions`);
  const errors = new Float64Array(rows);
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    // x - x is 0 for finite x and NaN for NaN and +/-inf.
    if (a - a === 0 && p - p === 0) errors[n++] = a - p;
  }
  return { errors, n, skipped: rows - n };
}

/** The class of row i, or null when missing (null, "", NaN, +/-inf). Numbers are named by `String(x)`. */
function classKeyAt(column: ClassColumn, i: number): string | null {
  const v = column[i];
  if (typeof v === 'number') return v - v === 0 ? String(v) : null;
  return v === null || v === undefined || v === '' ? null : v;
}

function classKey(v: ClassValue): string {
  return typeof v === 'number' ? String(v) : v;
}

/** Python's str ordering (by code point), which differs from JS's UTF-16 ordering for astral characters. */
function compareCodePoints(a: string, b: string): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (astral code points) rank above U+E000..U+FFFF; everything else keeps its unit order. */
function codePointRank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;
}
