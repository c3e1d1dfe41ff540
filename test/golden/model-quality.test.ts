/**
 * Model-quality metrics against scikit-learn (fixtures/golden/model_quality.json, written by
 * scripts/oracle/cases_model_quality.py: `npm run golden -- model_quality`).
 *
 * Tolerances:
 * - accuracy, and binary precision / recall / F1: one division of two integer counts, formed as sklearn forms it,
 *   so the double must be identical (compared with rel 0).
 * - macro and weighted averages, ROC AUC, MAE, RMSE: the same operations summed in numpy's pairwise order, so they
 *   agree to the last bit or nearly; compared within 1e-12 relative (+1e-15 absolute for values near 0), which
 *   still allows for numpy's reduction choosing another order on some build (SIMD loops). With the pinned versions
 *   every value is currently bit-identical.
 * - status (ok / insufficient_data), n (rows used) and skipped (rows without a label, prediction or score) must match
 *   exactly; so must the class order and the confusion-matrix counts.
 */
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  confusionMatrix,
  f1,
  meanAbsoluteError,
  precision,
  recall,
  rocAuc,
  rootMeanSquaredError,
  type Averaging,
  type ClassColumn,
  type MetricResult,
} from '../../src/stats/model-quality.js';
import { decodeNumber, decodeNumbers, expectClose, loadGolden, type EncodedNumber } from './golden.js';

interface Expected {
  readonly status: 'ok' | 'insufficient_data';
  readonly value?: EncodedNumber;
  readonly n: number;
  readonly skipped: number;
}

type PerAverage = { readonly macro: Expected; readonly weighted: Expected; readonly binary?: Expected };

interface ClassificationCase {
  readonly id: string;
  readonly description: string;
  readonly kind: 'number' | 'string';
  readonly labels: Array<number | string | null>;
  readonly predictions: Array<number | string | null>;
  readonly positive: number | string | null;
  readonly scores?: EncodedNumber[];
  readonly expected: {
    readonly accuracy: Expected;
    readonly precision: PerAverage;
    readonly recall: PerAverage;
    readonly f1: PerAverage;
    readonly roc_auc?: Expected;
    readonly confusion?: { readonly classes: string[]; readonly counts: number[] | null };
  };
}

interface RegressionCase {
  readonly id: string;
  readonly description: string;
  readonly y_true: EncodedNumber[];
  readonly y_pred: EncodedNumber[];
  readonly expected: { readonly mae: Expected; readonly rmse: Expected };
}

const EXACT = { rel: 0 };
const SUMMED = { rel: 1e-12, abs: 1e-15 };

const golden = loadGolden<ClassificationCase>('model_quality');
const regressionCases = golden['regression_cases'] as RegressionCase[];

function column(kind: 'number' | 'string', values: ReadonlyArray<number | string | null>): ClassColumn {
  if (kind === 'number') return Float64Array.from(values, (v) => (v === null ? Number.NaN : Number(v)));
  return values.map((v) => (v === null ? null : String(v)));
}

function check(actual: MetricResult, expected: Expected, tol: { rel: number; abs?: number }, why: string): void {
  expect(actual.status, `${why}: status${actual.status === 'insufficient_data' ? ` (${actual.reason})` : ''}`).toBe(expected.status);
  expect(actual.n, `${why}: n`).toBe(expected.n);
  expect(actual.skipped, `${why}: skipped`).toBe(expected.skipped);
  if (actual.status === 'ok') {
    expect(Number.isFinite(actual.value), `${why}: finite`).toBe(true);
    expectClose(actual.value, decodeNumber(expected.value!), tol, why);
  } else {
    expect(actual.reason.length, `${why}: a reason`).toBeGreaterThan(0);
  }
}

describe('classification metrics match scikit-learn', () => {
  for (const c of golden.cases) {
    it(`${c.id}: ${c.description}`, () => {
      const labels = column(c.kind, c.labels);
      const predictions = column(c.kind, c.predictions);
      const cm = confusionMatrix(labels, predictions);
      if (c.expected.confusion) {
        expect(cm.classes).toEqual(c.expected.confusion.classes);
        if (c.expected.confusion.counts) expect(Array.from(cm.counts)).toEqual(c.expected.confusion.counts);
      }
      check(accuracy(cm), c.expected.accuracy, EXACT, `${c.id} accuracy`);
      const metrics = { precision, recall, f1 } as const;
      for (const name of ['precision', 'recall', 'f1'] as const) {
        const fn = metrics[name];
        const per = c.expected[name];
        check(fn(cm, { average: 'macro' }), per.macro, SUMMED, `${c.id} ${name} macro`);
        check(fn(cm, { average: 'weighted' }), per.weighted, SUMMED, `${c.id} ${name} weighted`);
        if (per.binary !== undefined) {
          const averaging: Averaging = { average: 'binary', positive: c.positive! };
          check(fn(cm, averaging), per.binary, EXACT, `${c.id} ${name} binary`);
        }
      }
      if (c.expected.roc_auc !== undefined) {
        const scores = decodeNumbers(c.scores!);
        check(rocAuc(labels, scores, c.positive!), c.expected.roc_auc, SUMMED, `${c.id} roc_auc`);
      }
    });
  }
});

describe('regression metrics match scikit-learn', () => {
  for (const c of regressionCases) {
    it(`${c.id}: ${c.description}`, () => {
      const t = decodeNumbers(c.y_true);
      const p = decodeNumbers(c.y_pred);
      check(meanAbsoluteError(t, p), c.expected.mae, SUMMED, `${c.id} mae`);
      check(rootMeanSquaredError(t, p), c.expected.rmse, SUMMED, `${c.id} rmse`);
    });
  }
});
