/**
 * The pipeline end to end on the real embedded ClickHouse engine: the demo generator (an ordinary Source) streams
 * the press telemetry with a drift injected at a known record; every window must be reported, the ones before the
 * drift clean and the ones after it drifted; bad records must land in the dead letters with their reason while the
 * stream goes on.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BatchOutcome, Checkpoint, PartitionId, Publisher, Source, SourceHandler, SourceMessage } from '../../src/core/stream.js';
import { DEMO_MODEL, DEMO_SEGMENT, prepareDemo } from '../../src/app/demo-data.js';
import { ListSource } from '../helpers/list-source.js';
import { Pipeline, type PipelineEvent, type PipelineOptions } from '../../src/pipeline/pipeline.js';
import type { Store, WindowRecord } from '../../src/core/store.js';
import type { ModelSettings } from '../../src/pipeline/models.js';
import { ActiveReferences } from '../../src/reference/active.js';
import { createDemoSource } from '../../src/sources/demo.js';
import { categories, engineHarness, numbers, table } from '../reference/helpers.js';
import { createReference, promoteReference } from '../../src/reference/lifecycle.js';
import { loadRuleSet } from '../../src/config/rules-file.js';
import { Alerting } from '../../src/pipeline/alerting.js';
import { InlineEvaluator, WorkerEvaluator, type Evaluator } from '../../src/pipeline/evaluator.js';
import type { DriftEvent } from '../../src/pipeline/window-report.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'demo');
const harness = engineHarness('pipeline');
const MIN = 60_000;
const START = Date.UTC(2026, 10, 23, 8);

function settings(): ModelSettings {
  return {
    kind: 'telemetry',
    segmentBy: [],
    features: null,
    window: { shape: { type: 'tumbling', sizeMs: 5 * MIN }, watermarkDelayMs: 0, allowedLatenessMs: 0 },
    time: 'event',
    evaluation: { driftShare: 0.5, drift: {}, perFeature: new Map() },
    sampleRows: 50,
  };
}

const LIMITS = { maxRecordBytes: 1 << 20, maxFutureMs: 365 * 86_400_000, maxPastMs: 365 * 86_400_000 };

/** A pipeline on the real store without Kafka: `model` gets `modelSettings`, other models none. */
function pipelineFor(
  store: Store,
  source: Source,
  refs: ActiveReferences,
  model: string,
  over: Partial<PipelineOptions> & { readonly modelSettings?: ModelSettings } = {},
): Pipeline {
  const { modelSettings, ...rest } = over;
  return new Pipeline({
    store,
    source,
    publisher: null,
    topics: { driftEvents: null, deadLetters: null },
    reference: (m) => refs.get(m),
    settings: (m) => (m === model ? (modelSettings ?? settings()) : undefined),
    defaults: settings(),
    limits: LIMITS,
    idleTimeoutMs: 0,
    ...rest,
  });
}

describe('pipeline', () => {
  it('reports every window of the demo stream, clean before the drift and drifted after it', async () => {
    const store = await harness.open();
    const data = await prepareDemo(store, FIXTURES);
    const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
    const source = createDemoSource({
      model: DEMO_MODEL,
      normal: data.normal,
      drifted: data.drifted,
      segmentBy: DEMO_SEGMENT,
      records: 3600,
      driftAfter: 1800, // one record per second: windows of 300 records, drift from the 7th window on
      startTs: START,
      stepMs: 1000,
      ratePerSecond: 0,
    });
    const events: PipelineEvent[] = [];
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { onEvent: (e) => events.push(e) });
    await source.start(pipeline);
    await source.finished;
    await pipeline.flush();
    await refs.stop();

    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 4 * 3600_000 });
    expect(windows.map((w) => w.key.start)).toEqual(Array.from({ length: 12 }, (_, i) => START + i * 5 * MIN));
    expect(windows.every((w) => w.rowCount === 300 && w.referenceId === data.reference.id)).toBe(true);
    expect(windows.map((w) => w.datasetDrifted)).toEqual([...Array(6).fill(false), ...Array(6).fill(true)]);
    const after = await store.windowFeatures(windows[8]!.key);
    const drifted = after.filter((f) => f.drifted).map((f) => f.feature);
    expect(drifted).toEqual(expect.arrayContaining(['temp_c', 'vibration_mm_s']));
    expect(events.filter((e) => e.type === 'window')).toHaveLength(12);
    expect(pipeline.counters).toMatchObject({ accepted: 3600, rejected: 0, windows: 12 });
  });

  it('sends bad and late records to the dead letters with their reason and goes on', async () => {
    const store = await harness.open();
    await prepareDemo(store, FIXTURES);
    const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
    const source = new ListSource();
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL);
    await source.start(pipeline);
    const good = (i: number, ts: number) => JSON.stringify({ model: DEMO_MODEL, ts, features: { temp_c: 80 + (i % 7), pressure_bar: 6, vibration_mm_s: 1, cycle_time_s: 12, line: 'A', shift: 1, seal_ok: true } });
    const lines = [
      good(1, START + 1000),
      '{"model": "press-qa", "ts": ', // truncated JSON
      JSON.stringify({ model: 'nope', ts: START, features: {} }),
      JSON.stringify({ model: DEMO_MODEL, features: {} }),
      JSON.stringify({ model: DEMO_MODEL, ts: START + 2000, features: { temp_c: 'hot' } }),
      good(2, START + 6 * MIN), // closes the first window
      good(3, START + 2000), // late: its window closed with no lateness allowed
      good(4, START + 6 * MIN + 1000),
    ];
    const outcome = await source.send(lines);
    expect(outcome.accepted).toBe(3);
    expect(outcome.rejectedCount).toBe(5);
    await pipeline.flush();
    const letters = await store.listDeadLetters({ model: '' });
    const all = [...letters, ...(await store.listDeadLetters({ model: DEMO_MODEL })), ...(await store.listDeadLetters({ model: 'nope' }))];
    const byOrigin = new Map(all.map((l) => [l.source, l]));
    expect(byOrigin.get('list:2')?.reasonCode).toBe('bad_json');
    expect(byOrigin.get('list:3')?.reasonCode).toBe('unknown_model');
    expect(byOrigin.get('list:4')?.reasonCode).toBe('missing_timestamp');
    expect(byOrigin.get('list:5')?.reasonCode).toBe('wrong_type');
    expect(byOrigin.get('list:5')?.reason).toMatch(/temp_c/);
    const late = all.find((l) => l.reasonCode === 'late');
    expect(late?.reason).toMatch(/too late/);
    expect(byOrigin.get('list:2')?.payload).toBe('{"model": "press-qa", "ts": ');
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(windows.map((w) => w.rowCount)).toEqual([1, 2]);
    await refs.stop();
  });

  it('counts every refused record of a message past its dead-letter limit, which share one stored letter', async () => {
    const store = await harness.open();
    await prepareDemo(store, FIXTURES);
    const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
    const source = new ListSource();
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { limits: { ...LIMITS, maxDeadLettersPerMessage: 3 } });
    await source.start(pipeline);
    const good = JSON.stringify({ model: DEMO_MODEL, ts: START, features: { temp_c: 80 } });
    const items = [good, ...Array.from({ length: 10 }, (_, i) => JSON.stringify({ model: 'nope', ts: START + i }))];
    const outcome = await source.send([`[${items.join(',')}]`]);
    expect([outcome.accepted, outcome.rejectedCount, outcome.rejected.length]).toEqual([1, 10, 4]);
    expect(pipeline.counters).toMatchObject({ accepted: 1, rejected: 10 });
    await pipeline.flush();
    const letters = [...(await store.listDeadLetters({ model: 'nope' })), ...(await store.listDeadLetters({ model: '' }))];
    expect(letters.map((l) => [l.source, l.reasonCode]).sort()).toEqual([
      ['list:1', 'more_refused'],
      ['list:1:item 2', 'unknown_model'],
      ['list:1:item 3', 'unknown_model'],
      ['list:1:item 4', 'unknown_model'],
    ]);
    const more = letters.find((l) => l.reasonCode === 'more_refused')!;
    expect(more.reason).toMatch(/^7 more records were refused \(list:1:item 5 to list:1:item 11\) after the 3 above, by reason: unknown_model 7;/);
    expect(more.payload).toBe(`[${items.join(',')}]`);
    await refs.stop();
  });
  it('pauses the source while reports wait to be written, and resumes it when they are', async () => {
    const store = await harness.open();
    const data = await prepareDemo(store, FIXTURES);
    const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The real store, with window writes held back until the test opens the gate.
    const slow = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'putWindowResults') return async (...args: Parameters<typeof store.putWindowResults>) => {
          await gate;
          return target.putWindowResults(...args);
        };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const source = createDemoSource({
      model: DEMO_MODEL, normal: data.normal, drifted: data.drifted, segmentBy: DEMO_SEGMENT,
      records: 600, driftAfter: 600, startTs: START, stepMs: 1000, ratePerSecond: 0, batchSize: 100,
    });
    const seen: string[] = [];
    const pipeline = pipelineFor(slow, source, refs, DEMO_MODEL, {
      modelSettings: { ...settings(), window: { shape: { type: 'count', count: 20 }, watermarkDelayMs: 0, allowedLatenessMs: 0 } },
      maxQueuedWindows: 4,
      onEvent: (e) => {
        if (e.type === 'backpressure') {
          seen.push(e.paused ? 'paused' : 'resumed');
          if (e.paused) setTimeout(open, 50);
        }
      },
    });
    await source.start(pipeline);
    await source.finished;
    await pipeline.flush();
    await refs.stop();
    expect(seen[0]).toBe('paused');
    expect(seen).toContain('resumed');
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 4 * 3600_000 });
    expect(windows).toHaveLength(30);
    expect(windows.every((w) => w.rowCount === 20)).toBe(true);
  });
  it('reports model health of prediction windows: error share, quality from labels joined later, and the change against the reference', async () => {
    const { store, refs } = await classifierWithReference();
    const source = new ListSource();
    const clf: ModelSettings = { ...settings(), kind: 'prediction', features: new Map([['x', 'numerical']]), prediction: { task: 'classification', positiveLabel: '1', labelJoinMs: 10 * MIN } };
    const pipeline = pipelineFor(store, source, refs, 'clf', { modelSettings: clf });
    await source.start(pipeline);
    // 100 predictions in the first window: right 60% of the time; labels come later on their own; 5 errors.
    const preds = Array.from({ length: 100 }, (_, i) => JSON.stringify({
      model: 'clf', ts: START + i * 1000, id: `p${i}`, prediction: (i % 10 < 6) === (i % 2 === 0) ? 0.9 : 0.1,
      status: i % 20 === 0 ? 'error' : 'ok', features: { x: (i % 97) / 10 },
    }));
    expect((await source.send(preds)).accepted).toBe(100);
    const labels = Array.from({ length: 100 }, (_, i) => JSON.stringify({ model: 'clf', id: `p${i}`, ts: START + i * 1000 + 5000, label: i % 2 === 0 ? '1' : '0' }));
    // The window closes (watermark past its end) before any label came: error share only.
    await source.send([JSON.stringify({ model: 'clf', ts: START + 6 * MIN, id: 'late-1', prediction: 0.5, features: { x: 1 } })]);
    expect((await source.send(labels, 'labels', 'label')).accepted).toBe(100);
    await pipeline.flush();
    const windows = await store.listWindows({ model: 'clf', from: START - MIN, to: START + 3600_000 });
    expect(windows[0]!.version).toBe(200); // 100 rows + 100 labels joined
    const quality = await store.windowQuality(windows[0]!.key);
    const get = (check: string) => quality.find((q) => q.check === check)!;
    expect(get('error_status_share').value).toBeCloseTo(0.05, 12);
    expect(get('model_accuracy').value).toBeCloseTo(0.6, 12);
    expect(get('model_accuracy').detail).toMatchObject({ reference: 0.9, labelled: 100 });
    expect((get('model_accuracy').detail as { change: { absolute: number } }).change.absolute).toBeCloseTo(-0.3, 12);
    expect(get('model_roc_auc').status).toBe('passed');
    expect(get('model_f1').value).toBeGreaterThan(0);
    await refs.stop();
  });
});

/** The demo's store and active reference, and a ListSource that records its commits. */
async function demoWithCommits(): Promise<{ store: Store; refs: ActiveReferences; source: ListSource; commits: Checkpoint[] }> {
  const store = await harness.open();
  await prepareDemo(store, FIXTURES);
  const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
  const source = new ListSource();
  const commits: Checkpoint[] = [];
  source.commit = async (c) => {
    commits.push(...c);
  };
  return { store, refs, source, commits };
}

/**
 * The real evaluation, each held back until the test lets it go: `gates` in the order asked, keyed by window
 * start; after `openAll()` evaluations run at once.
 */
function gatedEvaluator(): { evaluator: Evaluator; gates: Map<number, () => void>; openAll: () => void } {
  const inline = new InlineEvaluator();
  const gates = new Map<number, () => void>();
  let open = false;
  return {
    evaluator: {
      evaluate: (r) => (open ? inline.evaluate(r) : new Promise((resolve) => gates.set(r.due.key.start, () => resolve(inline.evaluate(r))))),
      prepare: () => undefined,
      close: async () => undefined,
    },
    gates,
    openAll: () => (open = true),
  };
}

/**
 * A broker whose first publish call waits until `release()`, then succeeds, or fails with `failure`; `published`
 * lists the event ids of each call.
 */
function heldPublisher(failure: Error | null): { publisher: Publisher; published: string[][]; release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const published: string[][] = [];
  const publisher: Publisher = {
    description: 'held',
    publish: async (_topic, messages) => {
      published.push(messages.map((m) => m.headers!['driftwatch-event-id']!));
      if (published.length > 1) return;
      await held;
      if (failure) throw failure;
    },
    close: async () => undefined,
  };
  return { publisher, published, release };
}

/** A demo record with two features. */
function demoRecord(ts: number): string {
  return JSON.stringify({ model: DEMO_MODEL, ts, features: { temp_c: 80, pressure_bar: 6 } });
}

/** A promise the test settles: `open()` resolves it, `fail(e)` rejects it. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/**
 * The real store, logging its window writes (by window start, in minutes after START) to `log`; `hold` is awaited
 * before the n-th call of a method (0-based) reaches the store.
 */
function loggingStore(store: Store, log: string[], hold: { results?: (n: number) => Promise<void>; details?: (n: number) => Promise<void> } = {}): Store {
  const calls = { results: 0, details: 0 };
  const wrap = (name: 'results' | 'details', write: (records: ReadonlyArray<WindowRecord>) => Promise<void>) =>
    async (records: ReadonlyArray<WindowRecord>) => {
      const keys = records.map((r) => (r.key.start - START) / MIN).join(',');
      const n = calls[name]++;
      log.push(`${name} asked ${keys}`);
      await hold[name]?.(n);
      await write(records);
      log.push(`${name} stored ${keys}`);
    };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putWindowResults') return wrap('results', (r) => target.putWindowResults(r));
      if (prop === 'putWindowDetails') return wrap('details', (r) => target.putWindowDetails(r));
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Polls (every 10 ms) until `done()`; fails after 5 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`timed out waiting for ${done.toString()}`);
}

/** Pipeline events as log lines: windows by start (minutes after START), writes, errors. */
function logEvents(log: string[]): (e: PipelineEvent) => void {
  return (e) => {
    if (e.type === 'window') log.push(`window ${(e.evaluation.due.key.start - START) / MIN}`);
    if (e.type === 'write') log.push(`write ${e.windows}`);
    if (e.type === 'error') log.push(`error ${e.error.message}`);
  };
}

describe('pipeline with evaluation on worker threads', () => {
  /** Every stored result of every window of `model`, in window order (computedAt left out: it is a clock reading). */
  async function storedResults(store: Store, model: string): Promise<unknown[]> {
    const windows = await store.listWindows({ model, from: START - MIN, to: START + 4 * 3600_000 });
    const out: unknown[] = [];
    for (const w of windows) {
      const { computedAt: _computedAt, ...summary } = w;
      out.push(summary, await store.windowFeatures(w.key), await store.windowOutliers(w.key), await store.windowQuality(w.key));
    }
    return out;
  }

  async function demoRun(evaluator: Evaluator): Promise<{ results: unknown[]; events: PipelineEvent[] }> {
    const store = await harness.open();
    const data = await prepareDemo(store, FIXTURES);
    const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
    const source = createDemoSource({
      model: DEMO_MODEL, normal: data.normal, drifted: data.drifted,
      segmentBy: DEMO_SEGMENT, records: 3600, driftAfter: 1800, startTs: START, stepMs: 1000, ratePerSecond: 0,
    });
    const events: PipelineEvent[] = [];
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { evaluator, onEvent: (e) => events.push(e) });
    await source.start(pipeline);
    await source.finished;
    await pipeline.flush();
    await refs.stop();
    return { results: await storedResults(store, DEMO_MODEL), events };
  }

  it('hands the evaluator the references of the models it is told to prepare, before any record, each once', async () => {
    const store = await harness.open();
    const data = await prepareDemo(store, FIXTURES);
    const refs = await ActiveReferences.open(store, { pollMs: 60_000 });
    const prepared: Array<{ model: string; id: string }> = [];
    const inline = new InlineEvaluator();
    const evaluator: Evaluator = {
      evaluate: (r) => inline.evaluate(r),
      prepare: (r) => prepared.push({ model: r.reference.snapshot.model, id: r.reference.snapshot.id }),
      close: () => inline.close(),
    };
    const source = createDemoSource({
      model: DEMO_MODEL, normal: data.normal, drifted: data.drifted,
      segmentBy: DEMO_SEGMENT, records: 600, driftAfter: 600, startTs: START, stepMs: 1000, ratePerSecond: 0,
    });
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { evaluator });
    // A model with no reference and no configuration, and the demo model twice.
    pipeline.prepare(['no-such-model', DEMO_MODEL, DEMO_MODEL]);
    expect(prepared).toEqual([{ model: DEMO_MODEL, id: refs.get(DEMO_MODEL)!.snapshot.id }]);
    await source.start(pipeline);
    await source.finished;
    await pipeline.flush();
    await refs.stop();
    // Its records found it prepared already.
    expect(prepared).toHaveLength(1);
    expect(pipeline.counters.windows).toBeGreaterThan(0);
  });

  it('stores exactly what evaluation on the pipeline thread stores, windows in order', async () => {
    const inline = await demoRun(new InlineEvaluator());
    const pool = new WorkerEvaluator(2);
    try {
      const workers = await demoRun(pool);
      expect(inline.results.length).toBe(4 * 12);
      expect(workers.results).toEqual(inline.results);
      // Reported in window order although two workers finish in any order.
      const starts = workers.events.flatMap((e) => (e.type === 'window' ? [e.evaluation.due.key.start] : []));
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      expect(starts).toHaveLength(12);
    } finally {
      await pool.close();
    }
  });

  it('computes model health on a worker like on the pipeline thread', async () => {
    const run = async (evaluator: Evaluator): Promise<unknown[]> => {
      const { store, refs } = await classifierWithReference();
      const source = new ListSource();
      const clf: ModelSettings = { ...settings(), kind: 'prediction', features: new Map([['x', 'numerical']]), prediction: { task: 'classification', positiveLabel: '1', labelJoinMs: 10 * MIN } };
      const pipeline = pipelineFor(store, source, refs, 'clf', { modelSettings: clf, evaluator });
      await source.start(pipeline);
      for (let w = 0; w < 3; w++) {
        await source.send(Array.from({ length: 100 }, (_, i) => JSON.stringify({
          model: 'clf', ts: START + w * 5 * MIN + i * 1000, id: `w${w}-${i}`, prediction: (i * (w + 3)) % 10 < 6 ? 0.9 : 0.1,
          label: i % 2 === 0 ? '1' : '0', status: i % (7 + w) === 0 ? 'error' : 'ok', features: { x: (i % 97) / 10 },
        })));
      }
      await pipeline.flush();
      await refs.stop();
      return storedResults(store, 'clf');
    };
    const pool = new WorkerEvaluator(1);
    try {
      const inline = await run(new InlineEvaluator());
      const quality = inline.filter((_, i) => i % 4 === 3).flat() as Array<{ check: string; value: number | null }>;
      expect(quality.filter((q) => q.check === 'model_accuracy' && q.value !== null)).toHaveLength(3);
      expect(await run(pool)).toEqual(inline);
    } finally {
      await pool.close();
    }
  });

  it('holds a batch until evaluations catch up when more windows than allowed wait for theirs', async () => {
    const { store, refs, source } = await demoWithCommits();
    const { evaluator, gates, openAll } = gatedEvaluator();
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { evaluator, maxEvaluatingWindows: 1 });
    await source.start(pipeline);
    // One batch with records of four windows: the first three close (the watermark passes their end).
    let done = false;
    const batch = source.send([demoRecord(START), demoRecord(START + 5 * MIN), demoRecord(START + 10 * MIN), demoRecord(START + 15 * MIN)]).then(() => (done = true));
    for (let i = 0; i < 50 && gates.size < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect([...gates.keys()]).toEqual([START, START + 5 * MIN, START + 10 * MIN]);
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false); // three wait, one is allowed
    gates.get(START)!();
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false); // two still wait
    gates.get(START + 5 * MIN)!();
    await batch;
    expect(done).toBe(true);
    gates.get(START + 10 * MIN)!();
    openAll();
    await pipeline.flush();
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(windows.map((w) => (w.key.start - START) / MIN)).toEqual([0, 5, 10, 15]);
    await refs.stop();
  });

  it('holds a batch while an evaluated window has waited longer than allowed for its drift results, and only then', async () => {
    for (const resultsWaitMs of [0, 60_000]) {
      const { store, refs, source } = await demoWithCommits();
      const log: string[] = [];
      const results0 = gate();
      const held = loggingStore(store, log, { results: (n) => (n === 0 ? results0.promise : Promise.resolve()) });
      const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, { resultsWaitMs });
      await source.start(pipeline);
      // One batch that closes two windows, whose drift results write the test holds.
      let done = false;
      const batch = source.send([demoRecord(START), demoRecord(START + 5 * MIN), demoRecord(START + 10 * MIN)]).then(() => (done = true));
      for (let i = 0; i < 50 && !log.some((l) => l.startsWith('results asked')); i++) await new Promise((r) => setTimeout(r, 10));
      expect(log).toEqual(['results asked 0,5']);
      await new Promise((r) => setTimeout(r, 50));
      // Overdue at once: the batch waits for the write. Within the allowance: the batch is done without it.
      expect(done).toBe(resultsWaitMs > 0);
      results0.open();
      await batch;
      await pipeline.flush();
      const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
      expect(windows.map((w) => (w.key.start - START) / MIN)).toEqual([0, 5, 10]);
      await refs.stop();
    }
  });

  it('never holds a batch for a window still being evaluated, however late', async () => {
    const { store, refs, source } = await demoWithCommits();
    const { evaluator, gates, openAll } = gatedEvaluator();
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { evaluator, resultsWaitMs: 0 });
    await source.start(pipeline);
    const within = (p: Promise<unknown>) => Promise.race([p.then(() => 'done'), new Promise((r) => setTimeout(() => r('held'), 2000))]);
    expect(await within(source.send([demoRecord(START), demoRecord(START + 5 * MIN), demoRecord(START + 10 * MIN)]))).toBe('done');
    await new Promise((r) => setTimeout(r, 50));
    // Both closed windows are still held in evaluation; the next batch is taken and done all the same.
    expect([...gates.keys()]).toEqual([START, START + 5 * MIN]);
    expect(await within(source.send([demoRecord(START + 11 * MIN)]))).toBe('done');
    for (const release of gates.values()) release();
    openAll();
    await pipeline.flush();
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(windows.map((w) => (w.key.start - START) / MIN)).toEqual([0, 5, 10]);
    await refs.stop();
  });

  it('a batch held for a late window goes on when the writer fails, and the next one fails with it', async () => {
    const { store, refs, source } = await demoWithCommits();
    const log: string[] = [];
    const results0 = gate();
    const held = loggingStore(store, log, { results: (n) => (n === 0 ? results0.promise : Promise.resolve()) });
    const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, { resultsWaitMs: 0 });
    await source.start(pipeline);
    let done = false;
    const batch = source.send([demoRecord(START), demoRecord(START + 5 * MIN), demoRecord(START + 10 * MIN)]).then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; i < 50 && log.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    results0.fail(new Error('disk full'));
    await batch;
    await expect(source.send([demoRecord(START + 20 * MIN)])).rejects.toThrow(/disk full/);
    await refs.stop();
  });

  it('writes the reports one step made together, never the first alone while a later one is still evaluated', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    const { evaluator, gates, openAll } = gatedEvaluator();
    // The watermark trails by 10 minutes, so that one record can close two windows at once.
    const base = settings();
    const lagging: ModelSettings = { ...base, window: { ...base.window, watermarkDelayMs: 10 * MIN } };
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { evaluator, commitIntervalMs: 0, modelSettings: lagging });
    await source.start(pipeline);
    // Offsets 1-2 in the first window, 3-4 in the second; offset 5 closes both in one step.
    await source.send([demoRecord(START), demoRecord(START + MIN), demoRecord(START + 5 * MIN), demoRecord(START + 6 * MIN)]);
    await source.send([demoRecord(START + 21 * MIN)]);
    for (let i = 0; i < 50 && gates.size < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect([...gates.keys()]).toEqual([START, START + 5 * MIN]);
    gates.get(START)!(); // the first is evaluated, the second is not
    await new Promise((r) => setTimeout(r, 100));
    await source.send([demoRecord(START + 22 * MIN)]); // a batch, and so a commit, in between
    const windows = () => store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(await windows()).toEqual([]);
    expect(commits.length).toBeGreaterThan(0);
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    gates.get(START + 5 * MIN)!();
    openAll();
    await pipeline.flush();
    expect((await windows()).map((w) => (w.key.start - START) / MIN)).toEqual([0, 5, 20]);
    await refs.stop();
  });

  it('stores the next step while the drift events of the last are published, and commits neither until acknowledged', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    // A broker whose first acknowledgement is held until the test lets it go.
    const { publisher, published, release } = heldPublisher(null);
    const windowEvents: number[] = [];
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, {
      commitIntervalMs: 0,
      publisher,
      topics: { driftEvents: 'events', deadLetters: null },
      onEvent: (e) => e.type === 'window' && windowEvents.push((e.evaluation.due.key.start - START) / MIN),
    });
    await source.start(pipeline);
    // Offset 1 in the first window; offset 2 closes it (one step), offset 3 closes the second (another step).
    await source.send([demoRecord(START)]);
    await source.send([demoRecord(START + 5 * MIN)]);
    await source.send([demoRecord(START + 10 * MIN)]);
    const windows = () => store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    for (let i = 0; i < 100 && (await windows()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    // Both stored; the first event is not acknowledged, so the second waits behind it and nothing is reported.
    expect((await windows()).map((w) => (w.key.start - START) / MIN)).toEqual([0, 5]);
    expect(published.length).toBe(1);
    expect(windowEvents).toEqual([]);
    await source.send([demoRecord(START + 11 * MIN)]); // a batch, and so a commit, in between
    expect(commits.length).toBeGreaterThan(0);
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    release();
    await pipeline.flush();
    expect(published.length).toBe(3);
    expect(new Set(published.flat()).size).toBe(3);
    expect(windowEvents).toEqual([0, 5, 10]);
    expect(commits.at(-1)!.offset).toBeGreaterThan(4n);
    await refs.stop();
  });

  it('publishes a drift event once its drift results are stored, and stores its details and alerts after, before any commit passes it', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    const details = gate();
    const log: string[] = [];
    // The real store, with the details (outliers, quality, sample rows) held back until the test lets them go.
    const held = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'putWindowDetails') return async (...args: Parameters<typeof store.putWindowDetails>) => {
          log.push(`details asked ${args[0].map((r) => (r.key.start - START) / MIN).join(',')}`);
          await details.promise;
          await target.putWindowDetails(...args);
          log.push('details stored');
        };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const publisher: Publisher = {
      description: 'recording',
      publish: async (_topic, messages) => {
        log.push(`published ${messages.length}`);
      },
      close: async () => undefined,
    };
    const alerts = {
      onReports: async (events: ReadonlyArray<DriftEvent>) => {
        log.push(`alerts ${events.length}`);
        return () => log.push('announced');
      },
    };
    const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, {
      commitIntervalMs: 0,
      publisher,
      alerts,
      topics: { driftEvents: 'events', deadLetters: null },
      onEvent: (e) => e.type === 'window' && log.push(`window ${(e.evaluation.due.key.start - START) / MIN}`),
    });
    await source.start(pipeline);
    await source.send([demoRecord(START)]);
    await source.send([demoRecord(START + 5 * MIN)]); // offset 2 closes the first window
    await until(() => log.includes('window 0'));
    // Published and reported while its details are held; its alerts wait for them.
    expect(log).toEqual(['published 1', 'window 0', 'details asked 0']);
    const key = (await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 }))[0]!.key;
    expect(await store.windowFeatures(key)).not.toEqual([]);
    expect(await store.windowOutliers(key)).toEqual([]);
    expect(await store.windowQuality(key)).toEqual([]);
    expect((await store.windowSamples({ model: DEMO_MODEL, from: START - MIN, to: START + MIN, excludeDrifted: false })).windows).toBe(0);
    await source.send([demoRecord(START + 6 * MIN)]); // a batch, and so a commit, in between
    expect(commits.length).toBeGreaterThan(0);
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    details.open();
    await pipeline.flush();
    // Window 0's alerts after its details, announced after that (window 5, closed by the flush, may be published
    // in between: its event does not wait for window 0's details).
    const firstAlerts = log.findIndex((l) => l.startsWith('alerts'));
    expect(log.indexOf('details stored')).toBeGreaterThan(2);
    expect(firstAlerts).toBeGreaterThan(log.indexOf('details stored'));
    expect(log.indexOf('announced')).toBeGreaterThan(firstAlerts);
    expect((await store.windowSamples({ model: DEMO_MODEL, from: START - MIN, to: START + MIN, excludeDrifted: false })).table.rowCount).toBe(1);
    expect(await store.windowOutliers(key)).not.toEqual([]);
    expect(await store.windowQuality(key)).not.toEqual([]);
    expect(commits.at(-1)!.offset).toBeGreaterThan(3n);
    await refs.stop();
  });

  it('stores and publishes the next step while the details of the last are held, and commits neither until they are stored', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    const log: string[] = [];
    const details0 = gate();
    const held = loggingStore(store, log, { details: (n) => (n === 0 ? details0.promise : Promise.resolve()) });
    const publisher: Publisher = { description: 'recording', publish: async (_t, m) => void log.push(`published ${m.length}`), close: async () => undefined };
    const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, {
      commitIntervalMs: 0, publisher, topics: { driftEvents: 'events', deadLetters: null }, onEvent: logEvents(log),
    });
    await source.start(pipeline);
    await source.send([demoRecord(START)]);
    await source.send([demoRecord(START + 5 * MIN)]); // closes window 0 (offset 2)
    await until(() => log.includes('details asked 0'));
    await source.send([demoRecord(START + 10 * MIN)]); // closes window 5 (offset 3)
    await until(() => log.includes('window 5'));
    expect(log).toContain('results stored 5');
    expect(log).not.toContain('details stored 0');
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    details0.open();
    await pipeline.flush();
    expect(log.filter((l) => l.startsWith('details stored')).join(' ')).toMatch(/^details stored 0 details stored 5(,10)?/);
    expect(commits.at(-1)!.offset).toBeGreaterThan(3n);
    await refs.stop();
  });

  it('writes the details and alerts of a stored step without waiting for a later window still being evaluated', async () => {
    const { store, refs, source } = await demoWithCommits();
    const log: string[] = [];
    const details0 = gate();
    const results1 = gate();
    const { evaluator, gates, openAll } = gatedEvaluator();
    const held = loggingStore(store, log, {
      results: (n) => (n === 1 ? results1.promise : Promise.resolve()),
      details: (n) => (n === 0 ? details0.promise : Promise.resolve()),
    });
    const alerts = { onReports: async (events: ReadonlyArray<DriftEvent>) => void log.push(`alerts ${events.map((e) => (Date.parse(e.window.start) - START) / MIN).join(',')}`) };
    const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, { evaluator, alerts, onEvent: logEvents(log) });
    await source.start(pipeline);
    await source.send([demoRecord(START)]);
    await source.send([demoRecord(START + 5 * MIN)]); // closes window 0
    gates.get(START)!();
    await until(() => log.includes('details asked 0')); // stage 3 of window 0, held
    await source.send([demoRecord(START + 10 * MIN)]); // closes window 5
    gates.get(START + 5 * MIN)!();
    await until(() => log.includes('results asked 5'));
    await source.send([demoRecord(START + 15 * MIN)]); // closes window 10, its evaluation held
    results1.open();
    await until(() => log.includes('window 5'));
    details0.open();
    // Window 5's stage 3 follows window 0's at once, while window 10 is still being evaluated.
    await until(() => log.includes('alerts 5'));
    expect(log).toContain('alerts 0');
    expect(log).toContain('alerts 5');
    expect(log).not.toContain('results asked 10');
    openAll();
    gates.get(START + 10 * MIN)!();
    await pipeline.flush();
    expect(log.filter((l) => l.startsWith('window'))).toEqual(['window 0', 'window 5', 'window 10', 'window 15']);
    await refs.stop();
  });

  it('reports nothing after a failure in any stage: no window after a failed details write, no write after a failed publish', async () => {
    // A details write fails while the next step's publish is in flight: that window is not reported.
    {
      const { store, refs, source, commits } = await demoWithCommits();
      const log: string[] = [];
      const details0 = gate();
      const publish1 = gate();
      const held = loggingStore(store, log, { details: (n) => (n === 0 ? details0.promise : Promise.resolve()) });
      let calls = 0;
      const publisher: Publisher = {
        description: 'held',
        publish: async () => {
          if (calls++ === 1) await publish1.promise;
        },
        close: async () => undefined,
      };
      const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, {
        commitIntervalMs: 0, publisher, topics: { driftEvents: 'events', deadLetters: null }, onEvent: logEvents(log),
      });
      await source.start(pipeline);
      await source.send([demoRecord(START)]);
      await source.send([demoRecord(START + 5 * MIN)]); // closes window 0
      await until(() => log.includes('details asked 0'));
      await source.send([demoRecord(START + 10 * MIN)]); // closes window 5
      await until(() => calls === 2);
      details0.fail(new Error('disk full'));
      await until(() => log.some((l) => l.startsWith('error')));
      publish1.open();
      await expect(pipeline.flush()).rejects.toThrow(/disk full/);
      expect(log.slice(log.findIndex((l) => l.startsWith('error')) + 1)).toEqual([]);
      expect(log.filter((l) => l.startsWith('window'))).toEqual(['window 0']);
      expect(commits.every((c) => c.offset <= 1n)).toBe(true);
      await refs.stop();
    }
    // A publish fails while the next step's results are being written: no write is reported after the failure.
    {
      const { store, refs, source } = await demoWithCommits();
      const log: string[] = [];
      const results1 = gate();
      const held = loggingStore(store, log, { results: (n) => (n === 1 ? results1.promise : Promise.resolve()) });
      const { publisher, release } = heldPublisher(new Error('broker gone'));
      const pipeline = pipelineFor(held, source, refs, DEMO_MODEL, {
        commitIntervalMs: 0, publisher, topics: { driftEvents: 'events', deadLetters: null }, onEvent: logEvents(log),
      });
      await source.start(pipeline);
      await source.send([demoRecord(START)]);
      await source.send([demoRecord(START + 5 * MIN)]);
      await source.send([demoRecord(START + 10 * MIN)]);
      await until(() => log.includes('results asked 5'));
      release();
      await until(() => log.some((l) => l.startsWith('error')));
      results1.open();
      await expect(pipeline.flush()).rejects.toThrow(/broker gone/);
      expect(log.filter((l) => l.startsWith('write') || l.startsWith('window') || l.startsWith('error'))).toEqual(['write 1', 'error broker gone']);
      await refs.stop();
    }
  });

  it('stops at a failed publish: nothing later is published, reported or committed, and the failure is reported once', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    const { publisher, published, release } = heldPublisher(new Error('broker gone'));
    const events: PipelineEvent[] = [];
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, {
      commitIntervalMs: 0,
      publisher,
      topics: { driftEvents: 'events', deadLetters: null },
      onEvent: (e) => events.push(e),
    });
    await source.start(pipeline);
    await source.send([demoRecord(START)]);
    await source.send([demoRecord(START + 5 * MIN)]); // closes the first window
    await source.send([demoRecord(START + 10 * MIN)]); // closes the second while the first's publish is held
    const windows = () => store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    for (let i = 0; i < 100 && (await windows()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    release();
    for (let i = 0; i < 100 && !events.some((e) => e.type === 'error'); i++) await new Promise((r) => setTimeout(r, 10));
    // The failure stops the pipeline at once: the next batch is refused, and flush and close throw it.
    await expect(source.send([demoRecord(START + 15 * MIN)])).rejects.toThrow(/broker gone/);
    await expect(pipeline.flush()).rejects.toThrow(/broker gone/);
    await expect(pipeline.close()).rejects.toThrow(/broker gone/);
    expect(published).toHaveLength(1);
    expect(events.filter((e) => e.type === 'window')).toEqual([]);
    expect(events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    await refs.stop();
  });

  it('writes a flush of many windows in parts as they are evaluated, not as one write', async () => {
    const { store, refs, source } = await demoWithCommits();
    const writes: number[] = [];
    const segmented: ModelSettings = { ...settings(), segmentBy: ['lot_id'] };
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { modelSettings: segmented, onEvent: (e) => e.type === 'write' && writes.push(e.windows) });
    await source.start(pipeline);
    // 150 lots, one record each: 150 open windows, all closed by the flush in one step.
    await source.send(Array.from({ length: 150 }, (_, i) => JSON.stringify({ model: DEMO_MODEL, ts: START + i, segment: { lot_id: `L${i}` }, features: { temp_c: 80 + (i % 5), pressure_bar: 6 } })));
    expect(writes).toEqual([]);
    await pipeline.flush();
    expect(writes.reduce((a, b) => a + b, 0)).toBe(150);
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...writes)).toBeLessThanOrEqual(64);
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(new Set(windows.map((w) => w.key.segment['lot_id'])).size).toBe(150);
    await refs.stop();
  });

  it('does not commit past a dead letter until it is written', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    // The store's dead-letter write held until the test lets it go.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const putDeadLetters = store.putDeadLetters.bind(store);
    store.putDeadLetters = async (letters) => {
      await held;
      return putDeadLetters(letters);
    };
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { commitIntervalMs: 0 });
    await source.start(pipeline);
    // Offset 1 is bad JSON and no window holds anything back: only the unwritten dead letter keeps the commit there.
    await source.send(['{"model": "press-qa", "ts": ']);
    await source.send([demoRecord(START)]);
    expect(commits.length).toBeGreaterThan(0);
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    release();
    await pipeline.flush();
    expect(commits.at(-1)!.offset).toBeGreaterThan(1n);
    expect((await store.listDeadLetters({ model: '' })).map((d) => d.reasonCode)).toEqual(['bad_json']);
    await refs.stop();
  });

  it('stops on a failed evaluation, with the failure reported and the rows of the window not committed', async () => {
    const { store, refs, source, commits } = await demoWithCommits();
    const failing: Evaluator = { evaluate: () => Promise.reject(new Error('out of memory in the evaluation')), prepare: () => undefined, close: async () => undefined };
    const events: PipelineEvent[] = [];
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { evaluator: failing, onEvent: (e) => events.push(e), commitIntervalMs: 0 });
    await source.start(pipeline);
    await source.send([demoRecord(START + 1000), demoRecord(START + 2000)]);
    await source.send([demoRecord(START + 6 * MIN)]).catch(() => undefined); // closes the first window
    await expect(pipeline.flush()).rejects.toThrow(/evaluating window press-qa 2026-11-23T08:00:00.000Z failed: out of memory in the evaluation/);
    const error = events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ where: 'write' });
    expect(await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 })).toEqual([]);
    // Nothing at or after the window's first row (offset 1) was ever committed.
    expect(commits.every((c) => c.offset <= 1n)).toBe(true);
    await refs.stop();
  });
});

describe('pipeline across restarts, redeliveries and holds', () => {
  /** The demo's store and reference, and a source on partitions of the test's choosing. */
  async function setUp(): Promise<{ store: Store; refs: ActiveReferences; source: OffsetSource }> {
    const store = await harness.open();
    await prepareDemo(store, FIXTURES);
    return { store, refs: await ActiveReferences.open(store, { pollMs: 60_000 }), source: new OffsetSource() };
  }

  it('re-creates after a crash the dead letter of a late record that was still being written', async () => {
    const { store, refs, source } = await setUp();
    const held = gate();
    const putDeadLetters = store.putDeadLetters.bind(store);
    const slow = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'putDeadLetters') return async (letters: Parameters<typeof store.putDeadLetters>[0]) => {
          await held.promise;
          return putDeadLetters(letters);
        };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const input: Array<[number, string]> = [
      [0, demoRecord(START + 1000)],
      [1, demoRecord(START + 2000)],
      [2, demoRecord(START + 6 * MIN)], // closes the first window
      [3, demoRecord(START + 3000)], // late: its dead letter is not written before the crash
      [4, demoRecord(START + 6 * MIN + 1000)],
    ];
    const first = pipelineFor(slow, source, refs, DEMO_MODEL, { commitIntervalMs: 0 });
    await source.start(first);
    await first.onAssigned([{ partition: 'p', checkpoint: null }]);
    for (const item of input) await source.send('p', [item]);
    // Once the first window is written a commit passes its rows, up to the open window's (the letter is at 3).
    for (let i = 0; i < 500 && (source.committed.get('p')?.offset ?? 0n) < 2n; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await first.tick();
    }
    const cp = source.committed.get('p')!;
    expect(cp.offset).toBe(2n);
    // Killed here. The restart reads from the commit.
    const again = new OffsetSource();
    const second = pipelineFor(store, again, refs, DEMO_MODEL, { commitIntervalMs: 0 });
    await again.start(second);
    await second.onAssigned([{ partition: 'p', checkpoint: cp }]);
    await again.send('p', input.filter(([o]) => BigInt(o) >= cp.offset));
    await second.flush();
    const letters = await store.listDeadLetters({ model: DEMO_MODEL });
    expect(letters.map((l) => [l.source, l.reasonCode])).toEqual([['p@3', 'late']]);
    await refs.stop();
  });

  it('counts a message with only dead letters as read: its partition is committed past it', async () => {
    const { store, refs, source } = await setUp();
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { commitIntervalMs: 0 });
    await source.start(pipeline);
    await pipeline.onAssigned([{ partition: 'p', checkpoint: { partition: 'p', offset: 0n, metadata: '' } }, { partition: 'q', checkpoint: null }]);
    await source.send('p', [[0, demoRecord(START + 1000)], [1, demoRecord(START + 6 * MIN)], [2, demoRecord(START + 12 * MIN)]]);
    await source.send('p', [[3, '{bad'], [4, '{bad'], [5, JSON.stringify({ model: 'nope', ts: START })]]);
    await source.send('q', [[0, '{bad'], [1, '{bad']]);
    await pipeline.flush();
    expect(source.committed.get('p')?.offset).toBe(6n);
    expect(source.committed.get('q')?.offset).toBe(2n);
    await refs.stop();
  });

  it('does not fail a batch whose commit failed, reports the failure once, and windows a batch delivered again once', async () => {
    const { store, refs, source } = await setUp();
    const errors: string[] = [];
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { commitIntervalMs: 0, onEvent: (e) => e.type === 'error' && errors.push(`${e.where}: ${e.error.message}`) });
    await source.start(pipeline);
    await pipeline.onAssigned([{ partition: 'p', checkpoint: null }]);
    const batch: Array<[number, string]> = [[0, demoRecord(START + 1000)], [1, demoRecord(START + 2000)], [2, demoRecord(START + 3000)]];
    source.failCommits = 2;
    expect((await source.send('p', batch)).accepted).toBe(3);
    // As kafkajs does after a batch whose handler failed: the same offsets again.
    expect((await source.send('p', batch)).accepted).toBe(0);
    expect(errors).toEqual(['commit: Connection error']);
    await source.send('p', [[3, demoRecord(START + 6 * MIN)]]);
    await pipeline.flush();
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(windows.map((w) => w.rowCount)).toEqual([3, 1]);
    expect(source.committed.get('p')?.offset).toBe(4n);
    await refs.stop();
  });

  it('counts the rows of a processing-time window reported before a crash once', async () => {
    const { store, refs, source } = await setUp();
    const byArrival: ModelSettings = { ...settings(), time: 'processing', window: { shape: { type: 'tumbling', sizeMs: 5 * MIN }, watermarkDelayMs: 0, allowedLatenessMs: 5 * MIN } };
    let clock = START;
    const input = (offset: number): [number, string] => [offset, JSON.stringify({ model: DEMO_MODEL, features: { temp_c: 80 + offset, pressure_bar: 6 } })];
    const first = pipelineFor(store, source, refs, DEMO_MODEL, { modelSettings: byArrival, commitIntervalMs: 0, now: () => clock });
    source.arrival = () => clock; // the source stamps arrival; the test's clock stands in for the wall clock
    await source.start(first);
    await first.onAssigned([{ partition: 'p', checkpoint: null }]);
    clock = START + 1000;
    await source.send('p', [input(0), input(1), input(2)]);
    clock = START + 5 * MIN + 1000;
    await source.send('p', [input(3)]); // reports the first window
    // Once it is written, a commit says so (read up to 4); the window, kept for its lateness, holds offset 0.
    const readTo = () => JSON.parse(source.committed.get('p')?.metadata ?? '{}').hi as string | undefined;
    for (let i = 0; i < 500 && readTo() !== '4'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await first.tick();
    }
    const cp = source.committed.get('p')!;
    expect([cp.offset, readTo()]).toEqual([0n, '4']);
    // Killed; restarted a little later. The window kept for its lateness held the commit at its first row.
    const again = new OffsetSource();
    again.arrival = () => clock;
    clock = START + 5 * MIN + 11_000;
    const second = pipelineFor(store, again, refs, DEMO_MODEL, { modelSettings: byArrival, commitIntervalMs: 0, now: () => clock });
    await again.start(second);
    await second.onAssigned([{ partition: 'p', checkpoint: cp }]);
    await again.send('p', [input(0), input(1), input(2), input(3)].filter(([o]) => BigInt(o) >= cp.offset));
    await second.flush();
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(windows.reduce((n, w) => n + w.rowCount, 0)).toBe(4);
    await refs.stop();
  });

  it('lets a partition assigned from a checkpoint hold the time back while another delivers its backlog first', async () => {
    const { store, refs, source } = await setUp();
    const clock = START + 3600_000;
    const pipeline = pipelineFor(store, source, refs, DEMO_MODEL, { idleTimeoutMs: 30_000, now: () => clock });
    await source.start(pipeline);
    // A restart: both partitions resume where the stream's event time was START.
    const checkpoint = (partition: string) => ({ partition, offset: 100n, metadata: JSON.stringify({ v: 1, hi: '100', et: START }) });
    await pipeline.onAssigned([{ partition: 'a', checkpoint: checkpoint('a') }, { partition: 'b', checkpoint: checkpoint('b') }]);
    const backlog = Array.from({ length: 120 }, (_, i): [number, string] => [100 + i, demoRecord(START + i * 10_000)]);
    await source.send('a', backlog);
    expect((await source.send('b', backlog)).rejectedCount).toBe(0);
    await pipeline.flush();
    const windows = await store.listWindows({ model: DEMO_MODEL, from: START - MIN, to: START + 3600_000 });
    expect(windows.map((w) => w.rowCount)).toEqual([60, 60, 60, 60]);
    await refs.stop();
  });

  it('reports nothing as idle while the source is paused, and after the pause no partition moves the time alone', async () => {
    const { store, refs, source } = await setUp();
    const writes = gate();
    const slow = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'putWindowResults') return async (...args: Parameters<typeof store.putWindowResults>) => {
          await writes.promise;
          return target.putWindowResults(...args);
        };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    let clock = START + 3600_000;
    const causes: string[] = [];
    const inline = new InlineEvaluator();
    const evaluator: Evaluator = {
      evaluate: (r) => {
        causes.push(`${(r.due.key.start - START) / MIN} ${r.due.cause}`);
        return inline.evaluate(r);
      },
      prepare: () => undefined,
      close: async () => undefined,
    };
    const pipeline = pipelineFor(slow, source, refs, DEMO_MODEL, { idleTimeoutMs: 30_000, maxQueuedWindows: 2, now: () => clock, evaluator });
    await source.start(pipeline);
    await pipeline.onAssigned([{ partition: 'a', checkpoint: null }, { partition: 'b', checkpoint: null }]);
    // Windows 0..15 close on both partitions: more than 2 wait to be written, the source is paused.
    const records = (from: number) => Array.from({ length: 5 }, (_, k): [number, string] => [from + k, demoRecord(START + k * 5 * MIN + 1000)]);
    await source.send('a', records(0));
    await source.send('b', records(0));
    expect(source.paused).toBe(true);
    clock += 40_000; // longer than the idle timeout
    await pipeline.tick();
    expect(causes).toEqual(['0 watermark', '5 watermark', '10 watermark', '15 watermark']);
    writes.open();
    await until(() => !source.paused);
    clock += 1000;
    // a's next record is far ahead; b's, a moment later, is not late: a did not move the time alone.
    await source.send('a', [[5, demoRecord(START + 30 * MIN)]]);
    expect((await source.send('b', [[5, demoRecord(START + 21 * MIN)]])).rejectedCount).toBe(0);
    await pipeline.flush();
    expect(causes.filter((c) => c.endsWith('idle'))).toEqual([]);
    await refs.stop();
  });
});

describe('pipeline with the shipped model-health rules', () => {
  it('a burst of error statuses and a drop in F1 queue rollback triggers carrying the reason and the window date', async () => {
    const { store, refs } = await classifierWithReference();
    const rules = await loadRuleSet(join(import.meta.dirname, '..', '..', 'rules'), {});
    const alerting = await Alerting.open({ store, rules: () => rules, silences: () => [], reportUrl: (e) => `http://dw/${e.id}` });
    const source = new ListSource();
    const clf: ModelSettings = { ...settings(), kind: 'prediction', features: new Map([['x', 'numerical']]), prediction: { task: 'classification', positiveLabel: '1', labelJoinMs: 10 * MIN } };
    const pipeline = pipelineFor(store, source, refs, 'clf', { modelSettings: clf, alerts: alerting });
    await source.start(pipeline);
    // Window w: 100 predictions with inline labels, right `right` of the time, `errors` of them with an error status.
    const windowOf = (w: number, right: number, errors: number) =>
      Array.from({ length: 100 }, (_, i) => {
        const label = i % 2 === 0 ? '1' : '0';
        const correct = i < right * 100;
        const positive = (label === '1') === correct;
        return JSON.stringify({
          model: 'clf', ts: START + w * 5 * MIN + i * 1000, id: `w${w}-${i}`, prediction: positive ? 0.9 : 0.1, label,
          status: i >= 100 - errors ? 'error' : 'ok', features: { x: (i % 97) / 10 },
        });
      });
    await source.send(windowOf(0, 0.9, 0));
    await source.send(windowOf(1, 0.5, 40)); // error burst (40 % > 20 %); F1 well under the reference's
    await source.send(windowOf(2, 0.5, 0)); // errors gone (resolves); F1 still low: the second window in a row
    await source.send(windowOf(3, 0.9, 0));
    await pipeline.flush();
    const outbox = (await store.listOutbox()).map((e) => JSON.parse(e.payload) as { rule: string; action: string; status: string; window: { start: number }; params: Record<string, unknown> });
    const seen = outbox.map((o) => `${(o.window.start - START) / (5 * MIN)} ${o.rule} ${o.status} ${o.action}`);
    // In the order they were made (oldest first), the rule's actions in their listed order; the recovered window
    // resolves the F1 alert (notifiers only: triggers are never sent a resolution).
    expect(seen).toEqual([
      '1 prediction-error-burst firing rollback',
      '1 prediction-error-burst firing ops-slack',
      '2 model-score-decrease firing rollback',
      '2 model-score-decrease firing ops-slack',
      '2 prediction-error-burst resolved ops-slack',
      '3 model-score-decrease resolved ops-slack',
    ]);
    const rollback = outbox.find((o) => o.rule === 'model-score-decrease' && o.action === 'rollback')!;
    expect(rollback.params).toMatchObject({ model: 'clf', reason: 'model-score-decrease', window_date: '2026-11-23' });
    await refs.stop();
  });
});

/**
 * A store holding an active reference for the classifier `clf`: 1000 rows of a model right 90 % of the time (scores
 * on the right side of 0.5 for 9 rows in 10), feature `x`, positive label '1'.
 */
async function classifierWithReference(): Promise<{ store: Store; refs: ActiveReferences }> {
  const store = await harness.open();
  const n = 1000;
  const refScores = Array.from({ length: n }, (_, i) => ((i % 10 === 0) !== (i % 2 === 0) ? 0.8 : 0.2));
  const refLabels = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? '1' : '0'));
  const x = Array.from({ length: n }, (_, i) => (i % 97) / 10);
  const { snapshot } = await createReference(store, table([numbers('x', x), numbers('prediction', refScores), categories('label', refLabels)]), {
    model: 'clf', source: { kind: 'stream', detail: 'test' }, by: 'test',
  });
  await promoteReference(store, snapshot.id, { by: 'test' });
  return { store, refs: await ActiveReferences.open(store, { pollMs: 60_000 }) };
}

/**
 * A source fed by the test with the partitions and offsets it names; it keeps the last commit per partition and
 * fails the next `failCommits` commits as a broker would.
 */
class OffsetSource implements Source {
  readonly description = 'offsets';
  readonly finished = new Promise<void>(() => undefined);
  readonly committed = new Map<PartitionId, Checkpoint>();
  readonly commits: Checkpoint[] = [];
  failCommits = 0;
  paused = false;
  /** The arrival time messages are stamped with. */
  arrival: () => number = Date.now;
  private handler: SourceHandler | null = null;
  async start(handler: SourceHandler): Promise<void> {
    this.handler = handler;
  }
  send(partition: PartitionId, items: ReadonlyArray<readonly [number, string]>): Promise<BatchOutcome> {
    const messages: SourceMessage[] = items.map(([offset, line]) => ({
      partition, offset: BigInt(offset), value: new TextEncoder().encode(line), format: 'json', receivedAt: this.arrival(), origin: `${partition}@${offset}`,
    }));
    return this.handler!.onBatch({ partition, messages });
  }
  async commit(c: ReadonlyArray<Checkpoint>): Promise<void> {
    if (this.failCommits > 0) {
      this.failCommits--;
      throw new Error('Connection error');
    }
    for (const cp of c) this.committed.set(cp.partition, cp);
    this.commits.push(...c);
  }
  async rewind(_p: PartitionId, _o: bigint): Promise<void> {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  async stop(): Promise<void> {}
}

