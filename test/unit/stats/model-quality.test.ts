import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../bench/seeded-random.js';
import {
  accuracy,
  classificationQuality,
  confusionMatrix,
  f1,
  meanAbsoluteError,
  metricChange,
  precision,
  recall,
  regressionQuality,
  rocAuc,
  rootMeanSquaredError,
  scoreChange,
  type MetricResult,
} from '../../../src/stats/model-quality.js';

function value(r: MetricResult): number {
  if (r.status !== 'ok') throw new Error(`expected a value, got insufficient data: ${r.reason}`);
  return r.value;
}

/** AUC by its definition: P(score_pos > score_neg) + P(tie) / 2 over all pairs (the Mann-Whitney U / (np nn)). */
function bruteAuc(y: ReadonlyArray<boolean>, s: ReadonlyArray<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (!y[i]) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j]) continue;
      pairs++;
      wins += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe('confusionMatrix', () => {
  it('skips and counts rows missing a label or a prediction (null, "", NaN, +/-inf)', () => {
    const cm = confusionMatrix(['a', 'b', null, 'b', '', 'a'], ['a', 'a', 'b', 'b', 'a', null]);
    expect(cm.classes).toEqual(['a', 'b']);
    expect(Array.from(cm.counts)).toEqual([1, 0, 1, 1]);
    expect(cm.n).toBe(3);
    expect(cm.skipped).toBe(3);

    const numeric = confusionMatrix(Float64Array.of(1, NaN, 0, Infinity, 1), Float64Array.of(1, 1, 1, 0, -Infinity));
    expect(numeric.classes).toEqual(['0', '1']);
    expect(Array.from(numeric.counts)).toEqual([0, 1, 0, 1]);
    expect(numeric.n).toBe(2);
    expect(numeric.skipped).toBe(3);
  });

  it('lists only classes present in the rows it counted', () => {
    // 'c' appears only in a row whose prediction is missing: sklearn never sees it, so macro must not average it.
    const cm = confusionMatrix(['a', 'b', 'c'], ['a', 'b', null]);
    expect(cm.classes).toEqual(['a', 'b']);
    expect(value(precision(cm, { average: 'macro' }))).toBe(1);
  });

  it('orders classes as sklearn: numerically for numbers, by code point for strings', () => {
    expect(confusionMatrix(Float64Array.of(10, 2, -1), Float64Array.of(2, 10, 2)).classes).toEqual(['-1', '2', '10']);
    expect(confusionMatrix(['10', '2', 'B', 'a'], ['2', '2', 'a', 'a']).classes).toEqual(['10', '2', 'B', 'a']);
    // U+1F600 (a surrogate pair in UTF-16) sorts after U+FF5E in Python, before it in UTF-16 unit order.
    expect(confusionMatrix(['\u{1F600}', '\uFF5E'], ['\uFF5E', '\uFF5E']).classes).toEqual(['\uFF5E', '\u{1F600}']);
  });

  it('names numbers and strings alike when the columns are mixed', () => {
    const cm = confusionMatrix(Float64Array.of(1, 0, 1), ['1', '0', '0']);
    expect(cm.classes).toEqual(['0', '1']);
    expect(value(accuracy(cm))).toBeCloseTo(2 / 3, 15);
  });

  it('throws on columns of different lengths (a programming error)', () => {
    expect(() => confusionMatrix(['a'], ['a', 'b'])).toThrow(RangeError);
    expect(() => rocAuc(['a'], Float64Array.of(0.1, 0.2), 'a')).toThrow(RangeError);
    expect(() => meanAbsoluteError(Float64Array.of(1), Float64Array.of(1, 2))).toThrow(RangeError);
  });
});

describe('accuracy, precision, recall, F1', () => {
  it('are insufficient, not NaN, when no row is complete', () => {
    const cm = confusionMatrix([null, 'a'], ['b', null]);
    for (const r of [
      accuracy(cm),
      precision(cm, { average: 'macro' }),
      recall(cm, { average: 'weighted' }),
      f1(cm, { average: 'binary', positive: 'a' }),
    ]) {
      expect(r.status).toBe('insufficient_data');
      expect(r.n).toBe(0);
      expect(r.skipped).toBe(2);
    }
    expect(accuracy(confusionMatrix([], [])).status).toBe('insufficient_data');
  });

  it('binary: the positive class only; 1 and "1" name the same class of a numerical column', () => {
    const labels = Float64Array.of(1, 1, 1, 0, 0, 0, 1, 0);
    const preds = Float64Array.of(1, 0, 1, 1, 0, 0, 1, 0);
    const cm = confusionMatrix(labels, preds);
    // tp 3, fp 1, fn 1
    expect(value(precision(cm, { average: 'binary', positive: 1 }))).toBe(0.75);
    expect(value(recall(cm, { average: 'binary', positive: '1' }))).toBe(0.75);
    expect(value(f1(cm, { average: 'binary', positive: 1 }))).toBe(0.75);
    // The other class as positive: tp 3, fp 1 (a 1 predicted 0), fn 1.
    expect(value(precision(cm, { average: 'binary', positive: 0 }))).toBe(0.75);
  });

  it('binary: refuses more than two classes and an absent positive class next to two others (sklearn raises)', () => {
    const three = confusionMatrix(['a', 'b', 'c'], ['a', 'b', 'b']);
    const r = precision(three, { average: 'binary', positive: 'a' });
    expect(r.status).toBe('insufficient_data');
    if (r.status === 'insufficient_data') expect(r.reason).toMatch(/two classes/);
    const two = confusionMatrix(['a', 'b'], ['a', 'a']);
    expect(recall(two, { average: 'binary', positive: 'z' }).status).toBe('insufficient_data');
  });

  it('binary: one class present that is not the positive one gives 0 (zero_division=0), as sklearn', () => {
    const cm = confusionMatrix(['yes', 'yes'], ['yes', 'yes']);
    expect(precision(cm, { average: 'binary', positive: 'no' })).toEqual({ status: 'ok', value: 0, n: 2, skipped: 0 });
    expect(value(f1(cm, { average: 'binary', positive: 'no' }))).toBe(0);
    expect(value(f1(cm, { average: 'binary', positive: 'yes' }))).toBe(1);
  });

  it('macro counts a never-predicted class as precision 0 and a never-labelled class as recall 0', () => {
    // classes a, b, c: c is never predicted, d is predicted but never a label.
    const cm = confusionMatrix(['a', 'a', 'b', 'c'], ['a', 'd', 'b', 'b']);
    expect(cm.classes).toEqual(['a', 'b', 'c', 'd']);
    // precision: a 1/1, b 1/2, c 0 (0/0), d 0/1 -> mean 0.375
    expect(value(precision(cm, { average: 'macro' }))).toBe(0.375);
    // recall: a 1/2, b 1/1, c 0/1, d 0 (0/0) -> mean 0.375
    expect(value(recall(cm, { average: 'macro' }))).toBe(0.375);
    // weighted by support (2, 1, 1, 0): precision (2*1 + 1*0.5 + 0 + 0) / 4
    expect(value(precision(cm, { average: 'weighted' }))).toBe(0.625);
    // F1 per class 2tp/(support+predicted): a 2/3, b 2/3, c 0, d 0
    expect(value(f1(cm, { average: 'macro' }))).toBeCloseTo(1 / 3, 15);
  });

  it('classificationQuality picks binary with a positive class, macro without, and adds ROC AUC with scores', () => {
    const labels = ['y', 'n', 'y', 'n', 'y'];
    const preds = ['y', 'n', 'n', 'n', 'y'];
    const withPositive = classificationQuality(labels, preds, { positive: 'y', scores: Float64Array.of(0.9, 0.1, 0.4, 0.5, 0.8) });
    expect(value(withPositive.recall)).toBeCloseTo(2 / 3, 15);
    expect(value(withPositive.precision)).toBe(1);
    expect(withPositive.rocAuc && value(withPositive.rocAuc)).toBeCloseTo(5 / 6, 15);
    const macro = classificationQuality(labels, preds);
    expect(value(macro.recall)).toBeCloseTo((2 / 3 + 1) / 2, 15);
    expect(macro.rocAuc).toBeUndefined();
    expect(() => classificationQuality(labels, preds, { average: 'binary' })).toThrow(RangeError);
  });
});

describe('rocAuc', () => {
  it('is insufficient with one class in the labels, or more than two', () => {
    const one = rocAuc(['a', 'a', 'a'], Float64Array.of(0.1, 0.5, 0.9), 'a');
    expect(one.status).toBe('insufficient_data');
    expect(one.n).toBe(3);
    expect(rocAuc(['a', 'a'], Float64Array.of(0.1, 0.5), 'b').status).toBe('insufficient_data');
    expect(rocAuc(['a', 'b', 'c'], Float64Array.of(0.1, 0.5, 0.9), 'a').status).toBe('insufficient_data');
    expect(rocAuc([], new Float64Array(0), 'a')).toMatchObject({ status: 'insufficient_data', n: 0, skipped: 0 });
  });

  it('skips and counts rows with a missing label or a non-finite score', () => {
    const r = rocAuc([1, 0, null, 1, 0].map((v) => (v === null ? null : String(v))), Float64Array.of(0.9, 0.2, 0.5, NaN, Infinity), '1');
    expect(r).toEqual({ status: 'ok', value: 1, n: 2, skipped: 3 });
  });

  it('gives 0.5 when every score is tied, 1 for a perfect ranking and 0 for an inverted one', () => {
    const y = Float64Array.of(0, 1, 0, 1, 1);
    expect(value(rocAuc(y, new Float64Array(5).fill(0.3), 1))).toBe(0.5);
    expect(value(rocAuc(y, Float64Array.of(0.1, 0.8, 0.2, 0.7, 0.9), 1))).toBe(1);
    expect(value(rocAuc(y, Float64Array.of(0.9, 0.1, 0.8, 0.2, 0.3), 1))).toBe(0);
  });

  it('counts ties between classes as half (average ranks), on random data with many ties', () => {
    const rand = mulberry32(11);
    for (const [n, levels] of [
      [7, 3],
      [60, 5],
      [400, 20],
      [1500, 1000],
    ] as const) {
      const y: boolean[] = [];
      const s: number[] = [];
      for (let i = 0; i < n; i++) {
        const positive = rand() < 0.3;
        y.push(positive);
        s.push(Math.floor((rand() + (positive ? 0.3 : 0)) * levels) / levels);
      }
      if (!y.includes(true) || !y.includes(false)) continue;
      const got = value(rocAuc(y.map((v) => (v ? 'p' : 'n')), Float64Array.from(s), 'p'));
      expect(Math.abs(got - bruteAuc(y, s))).toBeLessThan(1e-12);
    }
  });

  it('does not depend on row order', () => {
    const rand = mulberry32(5);
    const n = 3000;
    const labels = Float64Array.from({ length: n }, () => (rand() < 0.4 ? 1 : 0));
    const scores = Float64Array.from(labels, (l) => Math.round((rand() + l * 0.2) * 50) / 50);
    const perm = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
    const a = rocAuc(labels, scores, 1);
    const b = rocAuc(Float64Array.from(perm, (i) => labels[i]!), Float64Array.from(perm, (i) => scores[i]!), 1);
    expect(b).toEqual(a);
  });
});

describe('regression', () => {
  it('computes MAE and RMSE over the rows where both values are finite', () => {
    const t = Float64Array.of(1, 2, NaN, 4, 5, Infinity);
    const p = Float64Array.of(2, 2, 3, 0, NaN, 1);
    // used rows: (1,2), (2,2), (4,0): errors 1, 0, 4
    expect(meanAbsoluteError(t, p)).toEqual({ status: 'ok', value: 5 / 3, n: 3, skipped: 3 });
    expect(rootMeanSquaredError(t, p)).toEqual({ status: 'ok', value: Math.sqrt(17 / 3), n: 3, skipped: 3 });
  });

  it('reports an overflow as sklearn does where the value is finite, else insufficient with a reason (never inf)', () => {
    // sklearn 1.x: mean_absolute_error([1e200, 0], [0, 0]) = 5e199; root_mean_squared_error(...) = inf (the square
    // of 1e200 overflows), which neither the store nor JSON can carry.
    const q = regressionQuality(Float64Array.of(1e200, 0), Float64Array.of(0, 0));
    expect(q.mae).toEqual({ status: 'ok', value: 5e199, n: 2, skipped: 0 });
    expect(q.rmse).toMatchObject({ status: 'insufficient_data', n: 2, skipped: 0 });
    if (q.rmse.status === 'insufficient_data') expect(q.rmse.reason).toMatch(/^rmse: the result overflows float64 \(scikit-learn gives inf\)/);
    // mean_absolute_error([1.5e308], [-1.5e308]) = inf (the residual overflows) and mean_absolute_error([1e308, 1e308],
    // [0, 0]) = inf (the sum does); root_mean_squared_error([1e150, 1e150], [0, 0]) = 1e150 (finite: reported).
    expect(meanAbsoluteError(Float64Array.of(1.5e308), Float64Array.of(-1.5e308)).status).toBe('insufficient_data');
    expect(meanAbsoluteError(Float64Array.of(1e308, 1e308), Float64Array.of(0, 0)).status).toBe('insufficient_data');
    expect(value(rootMeanSquaredError(Float64Array.of(1e150, 1e150), Float64Array.of(0, 0)))).toBe(1e150);
  });

  it('is insufficient when nothing is left, and 0 for exact predictions', () => {
    const q = regressionQuality(Float64Array.of(NaN, 1), Float64Array.of(1, NaN));
    expect(q.mae).toMatchObject({ status: 'insufficient_data', n: 0, skipped: 2 });
    expect(q.rmse.status).toBe('insufficient_data');
    expect(meanAbsoluteError(new Float64Array(0), new Float64Array(0)).status).toBe('insufficient_data');
    const exact = regressionQuality(Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 3));
    expect(value(exact.mae)).toBe(0);
    expect(value(exact.rmse)).toBe(0);
  });
});

describe('change against a reference', () => {
  it('reports absolute and relative change, relative to |reference|', () => {
    expect(scoreChange(0.8, 0.6)).toEqual({ reference: 0.8, current: 0.6, absolute: 0.6 - 0.8, relative: (0.6 - 0.8) / 0.8 });
    expect(scoreChange(-2, -1).relative).toBe(0.5);
  });

  it('has no relative change when the reference is 0', () => {
    expect(scoreChange(0, 0.3)).toEqual({ reference: 0, current: 0.3, absolute: 0.3, relative: null });
  });

  it('refuses non-finite scores and carries insufficient data through', () => {
    expect(() => scoreChange(NaN, 1)).toThrow(RangeError);
    const ok: MetricResult = { status: 'ok', value: 0.9, n: 10, skipped: 0 };
    const none: MetricResult = { status: 'insufficient_data', reason: 'roc_auc: only one class', n: 5, skipped: 0 };
    expect(metricChange(ok, { ...ok, value: 0.81 })).toMatchObject({ status: 'ok', reference: 0.9, current: 0.81 });
    const r = metricChange(ok, none);
    expect(r.status).toBe('insufficient_data');
    if (r.status === 'insufficient_data') expect(r.reason).toBe('current: roc_auc: only one class');
  });

  it('never throws for a non-finite metric value: the change is insufficient, the ratio null when it overflows', () => {
    const ok: MetricResult = { status: 'ok', value: 0.40926763859362253, n: 100, skipped: 0 };
    const inf: MetricResult = { status: 'ok', value: Infinity, n: 2, skipped: 0 };
    expect(metricChange(ok, inf)).toEqual({ status: 'insufficient_data', reason: 'current: the value is Infinity' });
    expect(metricChange(inf, ok)).toEqual({ status: 'insufficient_data', reason: 'reference: the value is Infinity' });
    expect(metricChange({ ...ok, value: NaN }, { ...ok, value: NaN }).status).toBe('insufficient_data');
    // The change of the overflowing RMSE above against a finite reference: no throw, no change.
    const rmse = rootMeanSquaredError(Float64Array.of(1e200, 0), Float64Array.of(0, 0));
    expect(metricChange(ok, rmse).status).toBe('insufficient_data');
    // 0.5 / 5e-324 overflows: the relative change has no value, the absolute one has.
    expect(scoreChange(5e-324, 0.5)).toEqual({ reference: 5e-324, current: 0.5, absolute: 0.5, relative: null });
  });
});
