/**
 * Model health through the real Pipeline (in-memory store): how predictions and labels are stored and compared, an
 * overflowing regression error, probability scores, references built from window samples, and which reference
 * columns are reported as features. Expected metrics are scikit-learn's (1.x) on the same values, stated per test.
 */
import { describe, expect, it } from 'vitest';
import type { DriftEvent } from '../../../src/core/drift-event.js';
import type { ReferenceSnapshot, WindowRecord } from '../../../src/core/store.js';
import type { Column, Table } from '../../../src/core/table.js';
import { inferColumnType } from '../../../src/core/column-type.js';
import { resolveModel, type ModelSettings, type ResolvedModel } from '../../../src/pipeline/models.js';
import { modelHealth, type ModelHealth } from '../../../src/pipeline/model-quality.js';
import type { PipelineEvent } from '../../../src/pipeline/pipeline.js';
import type { WindowEvaluation } from '../../../src/pipeline/window-report.js';
import { buildReferenceProfile } from '../../../src/profile/reference-profile.js';
import type { LoadedReference } from '../../../src/reference/lifecycle.js';
import { memoryPipeline } from '../../helpers/memory-pipeline.js';

const MIN = 60_000;
const START = Date.UTC(2026, 0, 5, 8);

const num = (name: string, values: number[], integer = false): Column => ({ kind: 'number', name, values: Float64Array.from(values), integer });
const cat = (name: string, values: Array<string | null>, dtype: 'string' | 'boolean' = 'string'): Column => ({ kind: 'category', name, values, dtype });

/** An active reference of `columns`, typed as `createReference` types them. */
function reference(model: string, columns: Column[]): LoadedReference {
  const rows: Table = { source: 'test', rowCount: columns[0]!.values.length, columns };
  const snapshot: ReferenceSnapshot = {
    id: 'ref-test', model, modelVersion: '', createdAt: 0, source: { kind: 'stream', detail: 'test' }, rowCount: rows.rowCount,
    sourceRowCount: rows.rowCount, sampling: { seed: 0, maxRows: 1e6 },
    columns: columns.map((c) => (c.kind === 'number'
      ? { name: c.name, kind: 'number', type: inferColumnType(c), integer: c.integer }
      : { name: c.name, kind: 'category', type: inferColumnType(c), dtype: c.dtype })),
    status: 'active', activatedAt: 0, previousActive: null, changedBy: 'test', reason: 'test', changedAt: 0,
  };
  return { snapshot, rows, profile: buildReferenceProfile(rows) };
}

function modelSettings(prediction: NonNullable<ModelSettings['prediction']>, over: Partial<ModelSettings> = {}): ModelSettings {
  return {
    kind: 'prediction',
    segmentBy: [],
    features: new Map([['x', 'numerical']]),
    window: { shape: { type: 'tumbling', sizeMs: 5 * MIN }, watermarkDelayMs: 0, allowedLatenessMs: 0 },
    time: 'event',
    evaluation: { driftShare: 0.5, drift: {}, perFeature: new Map() },
    sampleRows: 0,
    prediction,
    ...over,
  };
}

const classifier = (positiveLabel: string | number | boolean | null, over: Partial<ModelSettings> = {}) =>
  modelSettings({ task: 'classification', positiveLabel, labelJoinMs: 0 }, over);


interface Run {
  readonly evaluations: WindowEvaluation[];
  readonly events: DriftEvent[];
  readonly records: WindowRecord[];
  readonly errors: Error[];
}

/**
 * Streams `records` (model `m`) through a Pipeline with an in-memory store, then one record 6 minutes later that
 * closes the first window, and flushes. Returns the first window's evaluation, events and stored records.
 */
async function run(settings: ModelSettings, ref: LoadedReference | undefined, records: object[]): Promise<Run> {
  const out = { evaluations: [] as WindowEvaluation[], events: [] as DriftEvent[], records: [] as WindowRecord[], errors: [] as Error[] };
  const { pipeline, source, written } = await memoryPipeline(settings, ref, (e: PipelineEvent) => {
    if (e.type === 'window') {
      out.evaluations.push(e.evaluation);
      if (e.event) out.events.push(e.event);
    }
    if (e.type === 'error') out.errors.push(e.error);
  });
  const outcome = await source.sendRecords(records.map((r, i) => ({ model: 'm', ts: START + i * 1000, id: `r${i}`, features: { x: i % 7 }, ...r })));
  expect(outcome.rejectedCount).toBe(0);
  await source.sendRecords([{ model: 'm', ts: START + 6 * MIN, id: 'next', prediction: (records[0] as { prediction: unknown }).prediction, features: { x: 0 } }]);
  await pipeline.flush();
  out.records.push(...written);
  return out;
}

/** metric -> value (or the insufficient reason), reference value and absolute change. */
function metrics(h: ModelHealth | null): Record<string, { value: number | string; reference: number | null; change: number | null }> {
  return Object.fromEntries(
    (h?.metrics ?? []).map((m) => [m.metric, {
      value: m.current.status === 'ok' ? m.current.value : m.current.reason,
      reference: m.reference?.status === 'ok' ? m.reference.value : null,
      change: m.change?.status === 'ok' ? m.change.absolute : null,
    }]),
  );
}

function values(h: ModelHealth | null): Record<string, number | string> {
  return Object.fromEntries(Object.entries(metrics(h)).map(([k, v]) => [k, v.value]));
}

function window(r: Run): WindowEvaluation {
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.evaluations.find((e) => e.due.key.start === START)!;
}

function columnsOf(m: ResolvedModel | string): Record<string, string> {
  if (typeof m === 'string') throw new Error(m);
  return Object.fromEntries(m.window.columns.map((c) => [c.name, c.kind === 'category' ? `category:${c.dtype ?? 'string'}` : 'number']));
}

describe('an overflowing regression error', () => {
  // Reference: prediction i/10, label off by -0.5, 0, +0.5 in turn. sklearn: mean_absolute_error = 0.335,
  // root_mean_squared_error = 0.40926763859362253. Window: labels [1e200, 0], predictions [0, 0]:
  // mean_absolute_error = 5e199, root_mean_squared_error = inf (the square overflows).
  const n = 100;
  const refP = Array.from({ length: n }, (_, i) => i / 10);
  const refL = refP.map((v, i) => v + ((i % 3) - 1) * 0.5);
  const ref = reference('m', [num('x', Array.from({ length: n }, (_, i) => i % 7), true), num('prediction', refP), num('label', refL)]);
  const regression = modelSettings({ task: 'regression', positiveLabel: null, labelJoinMs: 0 });

  it('is reported as insufficient with a reason, with no change, and the pipeline goes on', async () => {
    const r = await run(regression, ref, [{ prediction: 0, label: 1e200 }, { prediction: 0, label: 0 }]);
    const e = window(r);
    expect(metrics(e.health)).toEqual({
      mae: { value: 5e199, reference: 0.335, change: 5e199 - 0.335 },
      rmse: { value: 'rmse: the result overflows float64 (scikit-learn gives inf): the errors are too large to square and sum', reference: 0.40926763859362253, change: null },
    });
    const stored = r.records.find((w) => w.key.start === START)!;
    expect(stored.quality.find((q) => q.check === 'model_rmse')).toMatchObject({ status: 'insufficient_data', value: null, detail: { reference: 0.40926763859362253, change: null } });
    const event = r.events.find((d) => d.window.start === new Date(START).toISOString())!;
    expect(event.model_health!.metrics.find((m) => m.metric === 'rmse')).toEqual({
      metric: 'rmse', value: null, reference: 0.40926763859362253, change_absolute: null, change_relative: null, status: 'insufficient_data',
    });
    // The next window was reported too.
    expect(r.evaluations.some((w) => w.due.key.start === START + 5 * MIN)).toBe(true);
  });

  it('is insufficient without a reference too (never Infinity with status ok)', async () => {
    const e = window(await run(regression, undefined, [{ prediction: 0, label: 1e200 }, { prediction: 0, label: 0 }]));
    expect(values(e.health)).toEqual({ mae: 5e199, rmse: expect.stringMatching(/^rmse: the result overflows float64/) });
  });
});

describe('predictions and labels of a classifier', () => {
  it('store the prediction as the task and the reference say', () => {
    const s = reference('m', [num('x', [1, 2]), cat('prediction', ['true', 'false'], 'boolean'), cat('label', ['true', 'true'], 'boolean')]);
    const scores = reference('m', [num('x', [1, 2]), num('prediction', [0.2, 0.7]), cat('label', ['a', 'b'])]);
    const codes = reference('m', [num('x', [1, 2]), num('prediction', [0, 1], true), num('label', [0, 1], true)]);
    const fromFile = reference('m', [num('x', [1, 2]), cat('prediction', ['a', 'b'])]);
    const regression = modelSettings({ task: 'regression', positiveLabel: null, labelJoinMs: 0 });
    // No reference (or none with a prediction column): class names as written, like the labels.
    expect(columnsOf(resolveModel('m', classifier(true), undefined))).toEqual({ x: 'number', prediction: 'category:string', __label: 'category:string', __status: 'category:string' });
    // The reference's storage, with features configured or taken from the reference.
    expect(columnsOf(resolveModel('m', classifier(true), s)).prediction).toBe('category:boolean');
    expect(columnsOf(resolveModel('m', classifier(true, { features: null }), s)).prediction).toBe('category:boolean');
    expect(columnsOf(resolveModel('m', classifier('b'), scores)).prediction).toBe('number');
    expect(columnsOf(resolveModel('m', classifier(1), codes)).prediction).toBe('number');
    expect(columnsOf(resolveModel('m', classifier(null), fromFile)).prediction).toBe('category:string');
    // Regression: numbers, whatever the reference holds; a declared prediction feature for a classifier.
    expect(columnsOf(resolveModel('m', regression, fromFile)).prediction).toBe('number');
    expect(columnsOf(resolveModel('m', regression, undefined))).toMatchObject({ prediction: 'number', __label: 'number' });
    expect(columnsOf(resolveModel('m', classifier('1', { features: new Map([['x', 'numerical'], ['prediction', 'numerical']]) }), undefined)).prediction).toBe('number');
  });

  it('compare booleans with booleans', async () => {
    // y = [T, F, T, T], pred = [T, F, T, F]. sklearn: accuracy 0.75; pos_label=True: precision 1, recall 2/3,
    // f1 0.8; average='macro': precision 0.75, recall 0.8333333333333333, f1 0.7333333333333334.
    const rows = [[true, true], [false, false], [true, true], [false, true]].map(([prediction, label]) => ({ prediction, label }));
    expect(values(window(await run(classifier(true), undefined, rows)).health)).toEqual({ accuracy: 0.75, precision: 1, recall: 2 / 3, f1: 0.8 });
    expect(values(window(await run(classifier(null), undefined, rows)).health)).toEqual({
      accuracy: 0.75, precision: 0.75, recall: 0.8333333333333333, f1: 0.7333333333333334,
    });
  });

  it('compare class names that look like numbers as written ("007", "1.0", "1e3")', async () => {
    // sklearn accuracy_score on the same strings: 1.0 each (and 2/3 for the last: one of three wrong).
    for (const rows of [[['007', '007'], ['012', '012'], ['007', '007']], [['1.0', '1.0'], ['0.0', '0.0']], [['1e3', '1e3'], ['2e3', '2e3']]]) {
      const e = window(await run(classifier(null), undefined, rows.map(([prediction, label]) => ({ prediction, label }))));
      expect(values(e.health).accuracy).toBe(1);
    }
    // "007" and "7" are different classes: y = [007, 7, 007], pred = [007, 007, 007] -> accuracy 2/3.
    const e = window(await run(classifier(null), undefined, [['007', '007'], ['007', '7'], ['007', '007']].map(([prediction, label]) => ({ prediction, label }))));
    expect(values(e.health).accuracy).toBe(2 / 3);
  });

  it('against a boolean reference of the same distribution: no prediction drift, the same score as the reference', async () => {
    // Reference and window: predictions alternate true/false, the labels differ in every 4th row: accuracy 0.75,
    // precision 1, recall 2/3, f1 0.8 (sklearn, pos_label=True) on both.
    const n = 200;
    const refPred = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'true' : 'false'));
    const refLab = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? (i % 2 === 0 ? 'false' : 'true') : (i % 2 === 0 ? 'true' : 'false')));
    const ref = reference('m', [num('x', Array.from({ length: n }, (_, i) => i % 7), true), cat('prediction', refPred, 'boolean'), cat('label', refLab, 'boolean')]);
    const rows = Array.from({ length: n }, (_, i) => ({ prediction: i % 2 === 0, label: i % 4 === 3 ? i % 2 !== 0 : i % 2 === 0 }));
    for (const settings of [classifier(true), classifier(true, { features: null })]) {
      const e = window(await run(settings, ref, rows));
      const drift = e.columns.find((c) => c.column === 'prediction')!;
      expect(drift).toMatchObject({ type: 'categorical', status: 'ok', drifted: false, score: 1 });
      expect(metrics(e.health)).toEqual({
        accuracy: { value: 0.75, reference: 0.75, change: 0 },
        precision: { value: 1, reference: 1, change: 0 },
        recall: { value: 2 / 3, reference: 2 / 3, change: 0 },
        f1: { value: 0.8, reference: 0.8, change: 0 },
      });
    }
  });

  it('read labels as numeric predictions are read when the reference stores predictions as numbers', async () => {
    // Reference: integer class codes 0/1; the stream sends booleans (stored 1/0) with boolean labels.
    // y = [T, F, T, T], pred = [T, F, T, F] -> accuracy 0.75, precision 1, recall 2/3, f1 0.8 (pos_label=True).
    const ref = reference('m', [num('x', [1, 2, 3, 4], true), num('prediction', [1, 0, 1, 0], true), num('label', [1, 0, 0, 0], true)]);
    const rows = [[true, true], [false, false], [true, true], [false, true]].map(([prediction, label]) => ({ prediction, label }));
    // Reference: y = [1, 0, 0, 0], pred = [1, 0, 1, 0] -> accuracy 0.75, precision 0.5, recall 1, f1 2/3.
    expect(metrics(window(await run(classifier(true), ref, rows)).health)).toEqual({
      accuracy: { value: 0.75, reference: 0.75, change: 0 },
      precision: { value: 1, reference: 0.5, change: 0.5 },
      recall: { value: 2 / 3, reference: 1, change: 2 / 3 - 1 },
      f1: { value: 0.8, reference: 2 / 3, change: 0.8 - 2 / 3 },
    });
  });
});

describe('probability scores of the positive class', () => {
  it('are thresholded at 0.5 into positive or not, whatever classes the labels hold', async () => {
    // B: y = [1, 1, 1], scores [.9, .2, .7] -> pred [1, 0, 1]. sklearn: accuracy 2/3, precision 1, recall 2/3,
    // f1 0.8; roc_auc_score raises (only one class in y_true): insufficient.
    const b = window(await run(classifier(1), undefined, [[0.9, 1], [0.2, 1], [0.7, 1]].map(([prediction, label]) => ({ prediction, label }))));
    expect(values(b.health)).toEqual({
      accuracy: 2 / 3, precision: 1, recall: 2 / 3, f1: 0.8,
      roc_auc: "roc_auc: only one class is present in the labels (every label is the positive class)",
    });
    // A: y = [1, 0, 1, 0], scores [.9, .2, .7, .6]: accuracy .75, precision 2/3, recall 1, f1 .8, roc_auc 1.
    const a = window(await run(classifier(1), undefined, [[0.9, 1], [0.2, 0], [0.7, 1], [0.6, 0]].map(([prediction, label]) => ({ prediction, label }))));
    expect(values(a.health)).toEqual({ accuracy: 0.75, precision: 2 / 3, recall: 1, f1: 0.8, roc_auc: 1 });
    // D: y = [churned, stay, churned], scores [.9, .2, .4], pos_label 'churned': accuracy 2/3, precision 1,
    // recall .5, f1 2/3, roc_auc 1.
    const d = window(await run(classifier('churned'), undefined, [[0.9, 'churned'], [0.2, 'stay'], [0.4, 'churned']].map(([prediction, label]) => ({ prediction, label }))));
    expect(values(d.health)).toEqual({ accuracy: 2 / 3, precision: 1, recall: 0.5, f1: 2 / 3, roc_auc: 1 });
  });

  it('work as numbers (the reference stores them so) and as text (no reference to follow)', () => {
    // y = [yes, yes, yes, no], scores [.9, .2, .7, .6]: pred [yes, no, yes, yes] -> accuracy 0.5, precision 2/3,
    // recall 2/3, f1 2/3; roc_auc_score(y == 'yes', s) = 2/3.
    const label = cat('__label', ['yes', 'yes', 'yes', 'no']);
    const settings = { task: 'classification', positiveLabel: 'yes' } as const;
    const expected = { accuracy: 0.5, precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, roc_auc: 2 / 3 };
    const asNumbers: Table = { source: 't', rowCount: 4, columns: [num('prediction', [0.9, 0.2, 0.7, 0.6]), label] };
    const asText: Table = { source: 't', rowCount: 4, columns: [cat('prediction', ['0.9', '0.2', '0.7', '0.6']), label] };
    expect(values(modelHealth(asNumbers, null, settings))).toEqual(expected);
    expect(values(modelHealth(asText, null, settings))).toEqual(expected);
    // Only positive labels, scores as numbers: y all 'yes' -> accuracy 3/4, precision 1, recall 3/4, f1 6/7.
    const allYes: Table = { source: 't', rowCount: 4, columns: [num('prediction', [0.9, 0.2, 0.7, 0.6]), cat('__label', ['yes', 'yes', 'yes', 'yes'])] };
    expect(values(modelHealth(allYes, null, settings))).toEqual({
      accuracy: 0.75, precision: 1, recall: 0.75, f1: 6 / 7, roc_auc: 'roc_auc: only one class is present in the labels (every label is the positive class)',
    });
  });
});

describe('references built from window samples', () => {
  // 100 rows, labels '0'/'1' alternating, predictions right in 8 rows of 10: accuracy 0.8; pos_label '1':
  // precision 0.8, recall 0.8, f1 0.8 (sklearn).
  const rows = Array.from({ length: 100 }, (_, i) => ({ prediction: i % 10 < 8 ? i % 2 : 1 - (i % 2), label: String(i % 2) }));
  const settings = classifier('1', { sampleRows: 1000 });

  it('store label and status under their record names and give the reference its score', async () => {
    const first = await run(settings, undefined, rows);
    const sample = first.records.find((w) => w.key.start === START)!.sample!;
    expect(sample.columns.map((c) => `${c.name}:${c.kind}`)).toEqual(['x:number', 'prediction:category', 'label:category', 'status:category']);
    for (const s of [settings, classifier('1', { sampleRows: 1000, features: null })]) {
      const e = window(await run(s, reference('m', [...sample.columns]), rows));
      expect(e.columns.map((c) => c.column)).toEqual(['x', 'prediction']);
      expect(e.columns.every((c) => c.status === 'ok' && !c.drifted)).toBe(true);
      expect(metrics(e.health)).toEqual({
        accuracy: { value: 0.8, reference: 0.8, change: 0 },
        precision: { value: 0.8, reference: 0.8, change: 0 },
        recall: { value: 0.8, reference: 0.8, change: 0 },
        f1: { value: 0.8, reference: 0.8, change: 0 },
      });
    }
  });

  it('made before the rename (__label, __status) still give the reference score and are no features', async () => {
    const x = Array.from({ length: 100 }, (_, i) => i % 7);
    const ref = reference('m', [
      num('x', x, true),
      cat('prediction', rows.map((r) => String(r.prediction))),
      cat('__label', rows.map((r) => r.label)),
      cat('__status', rows.map(() => 'ok')),
    ]);
    for (const s of [settings, classifier('1', { sampleRows: 1000, features: null })]) {
      const e = window(await run(s, ref, rows));
      expect(e.columns.map((c) => c.column)).toEqual(['x', 'prediction']);
      expect(metrics(e.health).accuracy).toEqual({ value: 0.8, reference: 0.8, change: 0 });
    }
  });

  it('keep probability scores as numbers', async () => {
    const scores = Array.from({ length: 20 }, (_, i) => ({ prediction: (i % 10) / 10 + 0.05, label: i % 2 === 0 ? 'yes' : 'no' }));
    const first = await run(classifier('yes', { sampleRows: 1000 }), undefined, scores);
    const sample = first.records.find((w) => w.key.start === START)!.sample!;
    const prediction = sample.columns.find((c) => c.name === 'prediction')!;
    expect(prediction.kind).toBe('number');
    expect(Array.from(prediction.values as Float64Array)).toEqual(scores.map((s) => s.prediction));
  });
});

describe('reference columns that are record fields', () => {
  it('are not reported as features', async () => {
    const n = 40;
    const x = Array.from({ length: n }, (_, i) => i % 7);
    const ref = reference('m', [
      num('x', x, true),
      cat('prediction', x.map((v) => (v % 2 === 0 ? 'a' : 'b'))),
      cat('label', x.map((v) => (v % 2 === 0 ? 'a' : 'b'))),
      cat('status', x.map(() => 'ok')),
      cat('id', x.map((_, i) => `r${i}`)),
    ]);
    const rows = x.map((v) => ({ prediction: v % 2 === 0 ? 'a' : 'b', label: v % 2 === 0 ? 'a' : 'b' }));
    const e = window(await run(classifier(null), ref, rows));
    expect(e.columns.map((c) => c.column)).toEqual(['x', 'prediction']);
    expect(e.dataset.columns_tested).toBe(2);
    // A telemetry model's reference with a `prediction` column: not a feature either.
    const telemetry: ModelSettings = { ...classifier(null), kind: 'telemetry' };
    delete (telemetry as { prediction?: unknown }).prediction;
    const t = window(await run(telemetry, ref, x.map(() => ({}))));
    expect(t.columns.map((c) => c.column)).toEqual(['x']);
  });

  it('nor are the fields a model is segmented by', async () => {
    const n = 40;
    const x = Array.from({ length: n }, (_, i) => i % 7);
    const ref = reference('m', [num('x', x, true), cat('lot_id', x.map((v) => `L${v % 3}`))]);
    const telemetry: ModelSettings = { ...classifier(null), kind: 'telemetry', segmentBy: ['lot_id'], features: null };
    delete (telemetry as { prediction?: unknown }).prediction;
    const e = window(await run(telemetry, ref, x.map(() => ({ segment: { lot_id: 'L1' } }))));
    expect(e.due.key.segment).toEqual({ lot_id: 'L1' });
    expect(e.columns.map((c) => c.column)).toEqual(['x']);
  });
});

describe('a reference captured from the stream', () => {
  it('holds a classifier\'s probability scores as numbers, and its class names as written', async () => {
    const capture = async (predictions: unknown[]) => {
      const { pipeline, source } = await memoryPipeline(classifier(true));
      const taken = pipeline.capture('m', { records: predictions.length });
      await source.sendRecords(predictions.map((prediction, i) => ({ model: 'm', ts: START + i * 1000, id: `c${i}`, prediction, features: { x: i } })));
      const table = await taken;
      await pipeline.flush();
      return table.columns.find((c) => c.name === 'prediction');
    };
    const scores = await capture([0.9, 0.25, 0.5]);
    expect(scores?.kind).toBe('number');
    expect(Array.from(scores!.values as Float64Array)).toEqual([0.9, 0.25, 0.5]);
    const classes = await capture([true, false, '007']);
    expect(classes).toMatchObject({ kind: 'category', values: ['true', 'false', '007'] });
  });
});

describe('failed predictions', () => {
  it('count in the error share without a value, and stay out of the quality metrics', async () => {
    const e = window(
      await run(classifier('x'), undefined, [
        { prediction: 'x', label: 'x', status: 'ok' },
        { prediction: 'x', label: 'y', status: 'error' },
        { prediction: 'y', label: 'y' },
        { label: 'x', status: 'error' },
        { prediction: null, label: 'x', status: 'error' },
      ]),
    );
    expect(e.health).toMatchObject({ rows: 5, errors: 3, errorShare: 3 / 5 });
    // sklearn accuracy_score(['x', 'y', 'y'], ['x', 'x', 'y']) over the three rows with a prediction: 2/3.
    expect(values(e.health)['accuracy']).toBeCloseTo(2 / 3, 12);
  });
});
