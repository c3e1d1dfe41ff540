import { describe, expect, it } from 'vitest';
import type { Checkpoint, StreamRecord } from '../../../src/core/stream.js';
import {
  addLabels,
  addRecords,
  advance,
  assignPartition,
  beginStep,
  checkpoints,
  checkpointsCommitted,
  createWindowState,
  flushAll,
  heldUntil,
  restoreState,
  revokePartitions,
  snapshotState,
  type DueWindow,
  type StateSnapshot,
  type WindowModel,
  type WindowState,
} from '../../../src/window/engine.js';
import { windowsFor, type WindowShape } from '../../../src/window/spec.js';
import { seededRandom } from '../../../src/stats/reservoir.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20);

function model(shape: WindowShape, delay = 0, lateness = 0): WindowModel {
  return { spec: { shape, watermarkDelayMs: delay, allowedLatenessMs: lateness }, columns: [{ name: 'x', kind: 'number' }] };
}

function rec(ts: number, x: number, m = 'm', segment: Record<string, string> = {}): StreamRecord {
  return { model: m, ts, kind: 'telemetry', segment, features: { x } };
}

function feed(state: WindowState, wm: WindowModel, partition: string, items: Array<[bigint, StreamRecord]>, now = 0) {
  const r = addRecords(state, () => wm, partition, items.map(([offset, record]) => ({ record, offset })), now);
  return { late: r.late, due: [...r.due, ...advance(state, () => wm, now)] };
}

function values(d: DueWindow): number[] {
  const c = d.table.columns[0]!;
  return c.kind === 'number' ? Array.from(c.values) : [];
}

describe('window assignment', () => {
  it('puts a time in one tumbling window, half-open, also before 1970', () => {
    expect(windowsFor({ type: 'tumbling', sizeMs: 10 }, 25)).toEqual([{ start: 20, end: 30 }]);
    expect(windowsFor({ type: 'tumbling', sizeMs: 10 }, 30)).toEqual([{ start: 30, end: 40 }]);
    expect(windowsFor({ type: 'tumbling', sizeMs: 10 }, -1)).toEqual([{ start: -10, end: 0 }]);
  });

  it('puts a time in size/slide hopping windows', () => {
    expect(windowsFor({ type: 'hopping', sizeMs: 30, slideMs: 10 }, 25)).toEqual([
      { start: 0, end: 30 },
      { start: 10, end: 40 },
      { start: 20, end: 50 },
    ]);
    // slide that does not divide size
    const ws = windowsFor({ type: 'hopping', sizeMs: 25, slideMs: 10 }, 25);
    for (const w of ws) expect(w.start <= 25 && 25 < w.end).toBe(true);
    expect(ws.map((w) => w.start)).toEqual([10, 20]);
  });
});

describe('event-time windows', () => {
  it('reports a window when the watermark passes its end, with every row of it', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN }, 1000);
    const s = createWindowState({ idleTimeoutMs: 0 });
    const a = feed(s, wm, 'p', [
      [0n, rec(T0 + 10, 1)],
      [1n, rec(T0 + 20, 2)],
      [2n, rec(T0 + MIN + 5, 3)], // next window; watermark = T0+MIN+5-1000 < T0+MIN
    ]);
    expect(a.due).toEqual([]);
    const b = feed(s, wm, 'p', [[3n, rec(T0 + MIN + 1000, 4)]]);
    expect(b.due).toHaveLength(1);
    expect(b.due[0]!.key).toEqual({ model: 'm', segment: {}, start: T0, end: T0 + MIN });
    expect(values(b.due[0]!)).toEqual([1, 2]);
    expect(b.due[0]!.version).toBe(2);
    expect(b.due[0]!.cause).toBe('watermark');
  });

  it('updates a reported window with a record within the lateness, and dead-letters one after it', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN }, 0, 30_000);
    const s = createWindowState({ idleTimeoutMs: 0 });
    feed(s, wm, 'p', [[0n, rec(T0 + 1, 1)]]);
    const closed = feed(s, wm, 'p', [[1n, rec(T0 + MIN + 1, 2)]]);
    expect(closed.due.map((d) => d.version)).toEqual([1]);
    const update = feed(s, wm, 'p', [[2n, rec(T0 + 500, 9)]]);
    expect(update.late).toEqual([]);
    expect(update.due).toHaveLength(1);
    expect(update.due[0]!.cause).toBe('late_update');
    expect(update.due[0]!.version).toBe(2);
    expect(values(update.due[0]!)).toEqual([1, 9]);
    // watermark passes end + lateness: the window is final and dropped; a record for it is late
    const expire = feed(s, wm, 'p', [[3n, rec(T0 + MIN + 30_000, 3)]]);
    expect(expire.due).toEqual([]);
    expect(s.windows.size).toBe(1);
    const late = feed(s, wm, 'p', [[4n, rec(T0 + 2, 5)]]);
    expect(late.late).toHaveLength(1);
    expect(late.late[0]!.reason).toMatch(/too late/);
  });

  it('holds the watermark back by the slowest partition', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 0 });
    feed(s, wm, 'a', [[0n, rec(T0 + 1, 1)]]);
    feed(s, wm, 'b', [[0n, rec(T0 + 2, 2)]]);
    expect(feed(s, wm, 'a', [[1n, rec(T0 + 5 * MIN, 3)]]).due).toEqual([]);
    const d = feed(s, wm, 'b', [[1n, rec(T0 + MIN + 1, 4)]]).due;
    expect(d).toHaveLength(1);
    expect(values(d[0]!)).toEqual([1, 2]);
  });

  it('keeps windows apart per segment', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 0 });
    feed(s, wm, 'p', [
      [0n, rec(T0 + 1, 1, 'm', { lot_id: 'A' })],
      [1n, rec(T0 + 2, 2, 'm', { lot_id: 'B' })],
      [2n, rec(T0 + 3, 3, 'm', { lot_id: 'A' })],
    ]);
    const d = feed(s, wm, 'p', [[3n, rec(T0 + MIN, 0, 'm', { lot_id: 'A' })]]).due;
    expect(d.map((x) => [x.key.segment['lot_id'], values(x)])).toEqual([
      ['A', [1, 3]],
      ['B', [2]],
    ]);
  });

  it('puts a record in every hopping window it falls into', () => {
    const wm = model({ type: 'hopping', sizeMs: 2 * MIN, slideMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 0 });
    const d = [
      ...feed(s, wm, 'p', [
        [0n, rec(T0 + 10, 1)],
        [1n, rec(T0 + MIN + 10, 2)],
      ]).due,
      ...feed(s, wm, 'p', [[2n, rec(T0 + 3 * MIN, 3)]]).due,
    ];
    const byStart = new Map(d.map((x) => [x.key.start, values(x)]));
    expect(byStart.get(T0 - MIN)).toEqual([1]);
    expect(byStart.get(T0)).toEqual([1, 2]);
    expect(byStart.get(T0 + MIN)).toEqual([2]);
  });

  it('puts a hopping record in its windows still open, and calls it late only when none is', () => {
    const wm = model({ type: 'hopping', sizeMs: 2 * MIN, slideMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 0 });
    const first = feed(s, wm, 'p', [
      [0n, rec(T0 + 10, 1)],
      [1n, rec(T0 + 2 * MIN + 5, 2)],
    ]);
    expect(first.due.map((x) => [x.key.start, values(x)])).toEqual([
      [T0 - MIN, [1]],
      [T0, [1]],
    ]);
    // Its windows: [T0, T0 + 2 MIN), final, and [T0 + MIN, T0 + 3 MIN), open.
    const partly = feed(s, wm, 'p', [[2n, rec(T0 + MIN + 10, 3)]]);
    expect(partly.late).toEqual([]);
    expect(partly.due).toEqual([]);
    // Both of its windows are final.
    const late = feed(s, wm, 'p', [[3n, rec(T0 + 20, 4)]]);
    expect(late.late.map((l) => l.offset)).toEqual([3n]);
    const byStart = new Map(flushAll(s).map((x) => [x.key.start, values(x)]));
    expect(byStart.get(T0 + MIN)).toEqual([2, 3]);
    expect(byStart.get(T0 + 2 * MIN)).toEqual([2]);
    expect(byStart.has(T0)).toBe(false);
  });

  it('reports open windows early when every partition has been idle, and a later record updates them', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN }, 0, 10 * MIN);
    const s = createWindowState({ idleTimeoutMs: 5000 });
    feed(s, wm, 'p', [[0n, rec(T0 + 1, 1)]], 1000);
    expect(advance(s, () => wm, 5999)).toEqual([]);
    const idle = advance(s, () => wm, 6000);
    expect(idle.map((d) => [d.cause, d.version])).toEqual([['idle', 1]]);
    expect(advance(s, () => wm, 7000)).toEqual([]);
    const later = feed(s, wm, 'p', [[1n, rec(T0 + 2, 2)]], 8000);
    expect(later.due.map((d) => [d.cause, d.version])).toEqual([['late_update', 2]]);
  });
});

describe('count windows', () => {
  it('reports every N records of a model, bounded by their event times', () => {
    const wm = model({ type: 'count', count: 3 });
    const s = createWindowState({ idleTimeoutMs: 0 });
    const d = feed(s, wm, 'p', [
      [0n, rec(T0 + 5, 1)],
      [1n, rec(T0 + 1, 2)],
      [2n, rec(T0 + 9, 3)],
      [3n, rec(T0 + 10, 4)],
    ]).due;
    expect(d).toHaveLength(1);
    expect(d[0]!.key.start).toBe(T0 + 1);
    expect(d[0]!.key.end).toBe(T0 + 10);
    expect(values(d[0]!)).toEqual([1, 2, 3]);
    expect(checkpoints(s)[0]!.offset).toBe(3n);
    expect(flushAll(s).map(values)).toEqual([[4]]);
  });

  it('gives count windows that share their bounds different ids, and a rebuilt window its id again', () => {
    const wm = model({ type: 'count', count: 3 });
    const burst = (from: bigint): Array<[bigint, StreamRecord]> => [0, 1, 2].map((i) => [from + BigInt(i), rec(T0 + i, i)]);
    const s = createWindowState({ idleTimeoutMs: 0 });
    const d = [...feed(s, wm, 'p', burst(0n)).due, ...feed(s, wm, 'p', burst(3n)).due, ...feed(s, wm, 'q', burst(0n)).due];
    expect(d.map((x) => [x.key.start, x.key.end])).toEqual([
      [T0, T0 + 3],
      [T0, T0 + 3],
      [T0, T0 + 3],
    ]);
    const ids = d.map((x) => x.key.countId);
    expect(ids.every((id) => /^[0-9a-f]{16}$/.test(id ?? ''))).toBe(true);
    expect(new Set(ids).size).toBe(3);
    // The same records in another state (a restart reading them again) make the same windows.
    const again = createWindowState({ idleTimeoutMs: 0 });
    expect(feed(again, wm, 'p', burst(3n)).due.map((x) => x.key.countId)).toEqual([ids[1]]);
    // Time windows have none.
    const t = createWindowState({ idleTimeoutMs: 0 });
    const tumbling = model({ type: 'tumbling', sizeMs: MIN });
    expect(feed(t, tumbling, 'p', [[0n, rec(T0, 1)], [1n, rec(T0 + MIN, 2)]]).due.map((x) => 'countId' in x.key)).toEqual([false]);
  });
});

describe('checkpoints', () => {
  it('commits up to the first offset an open window still needs', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 0 });
    feed(s, wm, 'p', [
      [10n, rec(T0 + 1, 1)],
      [11n, rec(T0 + MIN + 1, 2)],
    ]);
    expect(checkpoints(s)[0]!.offset).toBe(11n);
    feed(s, wm, 'p', [[12n, rec(T0 + 2 * MIN, 3)]]);
    expect(checkpoints(s)[0]!.offset).toBe(12n);
    expect(JSON.parse(checkpoints(s)[0]!.metadata)).toEqual({ v: 1, hi: "13", et: T0 + 2 * MIN, cw: {}, sw: {} });
  });
});

/**
 * Crash equivalence: a seeded stream with out-of-order and late records is processed without interruption, and
 * again with a crash after a random batch (state lost; restart from the last commit, replaying). The final report
 * of every window, and the late set, must be the same; no (window, version) may be reported with other content.
 */
describe('restart from a checkpoint', () => {
  function stream(seed: number, n: number): Array<[bigint, StreamRecord]> {
    const rnd = seededRandom(seed);
    const out: Array<[bigint, StreamRecord]> = [];
    let t = T0;
    for (let i = 0; i < n; i++) {
      t += Math.floor(rnd() * 4000);
      const jitter = rnd() < 0.1 ? -Math.floor(rnd() * 3 * MIN) : 0; // some out of order, some late
      out.push([BigInt(i), rec(t + jitter, i, rnd() < 0.5 ? 'a' : 'b', { lot: rnd() < 0.5 ? 'L1' : 'L2' })]);
    }
    return out;
  }

  type Reports = Map<string, Map<number, string>>;
  function collect(into: Reports, due: DueWindow[]): void {
    for (const d of due) {
      const k = JSON.stringify(d.key);
      const versions = into.get(k) ?? new Map<number, string>();
      const content = JSON.stringify(values(d));
      const seen = versions.get(d.version);
      if (seen !== undefined && seen !== content) throw new Error(`window ${k} version ${d.version} reported with other content`);
      versions.set(d.version, content);
      into.set(k, versions);
    }
  }
  function finals(r: Reports): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of r) out.set(k, v.get(Math.max(...v.keys()))!);
    return out;
  }

  /**
   * `writeLag` batches: reports are "written" (collected) only that many batches after they were made, as the
   * pipeline's queue does; a crash loses what is not written yet, and commits see it as in flight.
   */
  function run(items: Array<[bigint, StreamRecord]>, wm: WindowModel, batch: number, crashAfter: number | null, dumpAfter: number | null = null, writeLag = 0) {
    const reports: Reports = new Map();
    const late = new Set<bigint>();
    let s = createWindowState({ idleTimeoutMs: 0 });
    assignPartition(s, 'p', null);
    let committed: Checkpoint | null = null;
    let queue: DueWindow[][] = [];
    let i = 0;
    let batches = 0;
    let crashed = false;
    while (i < items.length) {
      const chunk = items.slice(i, i + batch);
      beginStep(s);
      const r = feed(s, wm, 'p', chunk);
      for (const l of r.late) late.add(l.offset);
      queue.push(r.due);
      while (queue.length > writeLag) collect(reports, queue.shift()!);
      i += chunk.length;
      const cps = checkpoints(s, queue.flat());
      checkpointsCommitted(s, cps);
      committed = cps[0] ?? committed;
      batches++;
      if (batches === dumpAfter) s = restoreState(JSON.parse(JSON.stringify(snapshotState(s))) as StateSnapshot);
      if (!crashed && crashAfter !== null && batches === crashAfter) {
        crashed = true;
        queue = [];
        s = createWindowState({ idleTimeoutMs: 0 });
        assignPartition(s, 'p', committed);
        i = Number(committed!.offset);
      }
    }
    for (const due of queue) collect(reports, due);
    collect(reports, flushAll(s));
    return { finals: finals(reports), late };
  }

  for (const shape of [
    { type: 'tumbling', sizeMs: 2 * MIN } as const,
    { type: 'hopping', sizeMs: 3 * MIN, slideMs: MIN } as const,
    { type: 'count', count: 17 } as const,
  ]) {
    it(`gives the same final reports after a crash (${shape.type})`, () => {
      const wm = model(shape, 5000, MIN);
      for (let seed = 1; seed <= 12; seed++) {
        const items = stream(seed, 400);
        const base = run(items, wm, 25, null);
        expect(base.finals.size).toBeGreaterThan(3);
        for (const crashAfter of [1, 3, 7, 11]) {
          const again = run(items, wm, 25, crashAfter);
          expect(again.finals).toEqual(base.finals);
          expect(again.late).toEqual(base.late);
        }
        // Reports still being written when the process dies are made again after the restart.
        for (const crashAfter of [2, 6, 9]) {
          for (const lag of [1, 2]) {
            const lagged = run(items, wm, 25, crashAfter, null, lag);
            expect(lagged.finals).toEqual(base.finals);
            expect(lagged.late).toEqual(base.late);
          }
        }
        // The state written out as JSON and read back mid-stream carries on as if nothing happened.
        const dumped = run(items, wm, 25, null, 5);
        expect(dumped.finals).toEqual(base.finals);
        expect(dumped.late).toEqual(base.late);
      }
    });
  }
});

describe('partition revocation', () => {
  it('drops the windows of revoked partitions and rewinds a partition that shared a window with them', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 0 });
    assignPartition(s, 'a', { partition: 'a', offset: 5n, metadata: '' });
    assignPartition(s, 'b', { partition: 'b', offset: 7n, metadata: '' });
    assignPartition(s, 'c', { partition: 'c', offset: 0n, metadata: '' });
    feed(s, wm, 'a', [[5n, rec(T0 + 1, 1, 'shared')]]);
    feed(s, wm, 'b', [[7n, rec(T0 + 2, 2, 'shared')]]);
    feed(s, wm, 'c', [[0n, rec(T0 + 3, 3, 'own')]]);
    const rewind = revokePartitions(s, ['a']);
    expect(rewind).toEqual([{ partition: 'b', offset: 7n, metadata: '' }]);
    expect([...s.windows.values()].map((w) => w.model)).toEqual(['own']);
    expect([...s.partitions.keys()].sort()).toEqual(['b', 'c']);
  });
});

describe('labels joined to predictions', () => {
  const pm: WindowModel = {
    spec: { shape: { type: 'tumbling', sizeMs: MIN }, watermarkDelayMs: 0, allowedLatenessMs: 0 },
    columns: [
      { name: 'prediction', kind: 'number' },
      { name: '__label', kind: 'category' },
    ],
    labels: { column: '__label', joinMs: 10 * MIN },
  };
  function pred(ts: number, id: string, p: number, label?: string): StreamRecord {
    return { model: 'm', ts, kind: 'prediction', segment: {}, id, prediction: p, features: { prediction: p, __label: label ?? null }, ...(label ? { label } : {}) };
  }
  const labelOf = (d: DueWindow) => d.table.columns[1]!.values;

  it('updates a reported window when its label arrives, and joins a label that came first', () => {
    const s = createWindowState({ idleTimeoutMs: 0 });
    addLabels(s, () => pm, 'labels', [{ label: { model: 'm', id: 'b', ts: T0, label: 'no' }, offset: 0n }], 0);
    addRecords(s, () => pm, 'p', [
      { record: pred(T0 + 1, 'a', 0.9), offset: 0n },
      { record: pred(T0 + 2, 'b', 0.2), offset: 1n },
      { record: pred(T0 + 3, 'c', 0.7, 'yes'), offset: 2n },
    ], 0);
    const first = feed(s, pm, 'p', [[3n, pred(T0 + MIN + 1, 'd', 0.5)]]).due;
    // 3 rows and the label that came first (an inline label is part of its row)
    expect(first.map((d) => [d.version, labelOf(d)])).toEqual([[4, [null, 'no', 'yes']]]);
    // the label topic's offset 0 is held by the open window until it is final
    expect(checkpoints(s).find((c) => c.partition === 'labels')!.offset).toBe(0n);
    addLabels(s, () => pm, 'labels', [{ label: { model: 'm', id: 'a', ts: T0 + 5, label: 'yes' }, offset: 1n }], 0);
    const update = advance(s, () => pm, 0);
    expect(update.map((d) => [d.cause, d.version, labelOf(d)])).toEqual([['late_update', 5, ['yes', 'no', 'yes']]]);
    // past the join bound the window is final and dropped
    feed(s, pm, 'p', [[4n, pred(T0 + 12 * MIN, 'e', 0.1)]]);
    expect(s.windows.size).toBe(1);
    // the labels stay (and hold their partition) while a window a prediction they could join is in can be kept:
    // one at their time plus the bound (T0 + 10 minutes) is in [10, 11), kept 10 minutes past its end
    feed(s, pm, 'p', [[5n, pred(T0 + 21 * MIN - 1, 'f', 0.1)]]);
    expect(checkpoints(s).find((c) => c.partition === 'labels')!.offset).toBe(0n);
    feed(s, pm, 'p', [[6n, pred(T0 + 21 * MIN, 'g', 0.1)]]);
    expect([s.labels.size, checkpoints(s).find((c) => c.partition === 'labels')!.offset]).toEqual([0, 2n]);
  });
});

describe('labels after a restart', () => {
  const pm = (lateness: number): WindowModel => ({
    spec: { shape: { type: 'tumbling', sizeMs: MIN }, watermarkDelayMs: 0, allowedLatenessMs: lateness },
    columns: [
      { name: 'prediction', kind: 'number' },
      { name: '__label', kind: 'category' },
    ],
    labels: { column: '__label', joinMs: 10 * MIN },
  });
  function pred(ts: number, id: string, p: number): StreamRecord {
    return { model: 'm', ts, kind: 'prediction', segment: {}, id, prediction: p, features: { prediction: p, __label: null } };
  }
  const label = (id: string, l: string, offset: bigint) => ({ label: { model: 'm', id, ts: T0 + 5, label: l }, offset });
  /** Window 0 gets a, b, c (and the late c2 when asked); d at offset 3 closes it. */
  const preds = (late: boolean): Array<[bigint, StreamRecord]> => [
    [0n, pred(T0 + 1, 'a', 0.9)],
    [1n, pred(T0 + 2, 'b', 0.2)],
    [2n, pred(T0 + 3, 'c', 0.7)],
    [3n, pred(T0 + MIN + 1, 'd', 0.5)],
    ...(late ? ([[4n, pred(T0 + 4, 'c2', 0.1)]] as Array<[bigint, StreamRecord]>) : []),
  ];
  /** Every report as "version: labels", by window start; a (window, version) made twice must have one content. */
  function collector() {
    const seen = new Map<string, string>();
    return {
      seen,
      add(due: DueWindow[]) {
        for (const d of due) {
          const k = `${d.key.start - T0} v${d.version}`;
          const content = JSON.stringify([values(d), [...d.table.columns[1]!.values]]);
          if (seen.has(k) && seen.get(k) !== content) throw new Error(`${k} reported as ${seen.get(k)} and as ${content}`);
          seen.set(k, content);
        }
      },
    };
  }
  function step(s: WindowState, wm: WindowModel, fn: () => DueWindow[] | void): DueWindow[] {
    beginStep(s);
    return [...(fn() ?? []), ...advance(s, () => wm, 0)];
  }
  /**
   * Predictions, label a, a commit, then label b; without a crash, and with a crash after the commit whose restart
   * reads the labels partition's backlog before the predictions'.
   */
  function run(wm: WindowModel, late: boolean, crash: boolean) {
    const out = collector();
    let s = createWindowState({ idleTimeoutMs: 0 });
    assignPartition(s, 'p', null);
    assignPartition(s, 'labels', null);
    const lateOffsets: bigint[] = [];
    out.add(step(s, wm, () => {
      const r = addRecords(s, () => wm, 'p', preds(late).map(([offset, record]) => ({ record, offset })), 0);
      lateOffsets.push(...r.late.map((l) => l.offset));
      return r.due;
    }));
    out.add(step(s, wm, () => addLabels(s, () => wm, 'labels', [label('a', 'yes', 0n)], 0)));
    const cps = checkpoints(s);
    checkpointsCommitted(s, cps);
    if (crash) {
      s = createWindowState({ idleTimeoutMs: 0 });
      for (const cp of cps) assignPartition(s, cp.partition, cp);
      out.add(step(s, wm, () => addLabels(s, () => wm, 'labels', [label('a', 'yes', 0n)].filter((l) => l.offset >= cps[1]!.offset), 0)));
      const from = cps[0]!.offset;
      out.add(step(s, wm, () => addRecords(s, () => wm, 'p', preds(late).filter(([o]) => o >= from).map(([offset, record]) => ({ record, offset })), 0).due));
    }
    out.add(step(s, wm, () => addLabels(s, () => wm, 'labels', [label('b', 'no', 1n)], 0)));
    return { reports: out.seen, lateOffsets };
  }

  it('rebuilds a prediction window kept past its lateness for labels, so a label after the restart still updates it', () => {
    const wm = pm(0);
    const base = run(wm, false, false);
    expect(base.reports.get('0 v5')).toBe(JSON.stringify([[0.9, 0.2, 0.7], ['yes', 'no', null]]));
    const again = run(wm, false, true);
    expect(again.reports.get('0 v5')).toBe(base.reports.get('0 v5'));
  });

  it('gives a label the same version whether it joins before or after its prediction in the replay', () => {
    // Within the lateness the window is rebuilt either way; only the order of label and prediction differs.
    const wm = pm(10 * MIN);
    const base = run(wm, false, false);
    const again = run(wm, false, true);
    for (const [k, content] of again.reports) expect([k, content]).toEqual([k, base.reports.get(k)]);
    expect(again.reports.get('0 v5')).toBe(JSON.stringify([[0.9, 0.2, 0.7], ['yes', 'no', null]]));
  });

  it('keeps a prediction that came after the lateness out of the window rebuilt for labels', () => {
    const wm = pm(0);
    const base = run(wm, true, false);
    expect(base.lateOffsets).toEqual([4n]);
    const again = run(wm, true, true);
    expect(again.reports.get('0 v5')).toBe(JSON.stringify([[0.9, 0.2, 0.7], ['yes', 'no', null]]));
    for (const [k, content] of again.reports) expect([k, content]).toEqual([k, base.reports.get(k)]);
  });
});

describe('partitions assigned after a restart', () => {
  it('hold the stream\'s event time back from their assignment until one has been quiet for the idle timeout', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 30_000 });
    const meta = JSON.stringify({ v: 1, hi: '100', et: T0, cw: {} });
    const now = 1_000_000;
    assignPartition(s, 'a', { partition: 'a', offset: 100n, metadata: meta }, now);
    assignPartition(s, 'b', { partition: 'b', offset: 100n, metadata: meta }, now);
    // a's backlog comes first: three minutes of event time; b (same times) a moment later.
    const backlog = (x: number): Array<[bigint, StreamRecord]> => Array.from({ length: 180 }, (_, i) => [100n + BigInt(i), rec(T0 + i * 1000, x + i)]);
    const a = feed(s, wm, 'a', backlog(0), now);
    expect(a.due).toEqual([]);
    const b = feed(s, wm, 'b', backlog(1000), now + 5);
    expect(b.late).toEqual([]);
    expect(b.due.map((d) => [d.key.start - T0, d.version])).toEqual([[0, 120], [MIN, 120]]);
    // b says nothing more: after the idle timeout a moves the time alone.
    feed(s, wm, 'a', [[280n, rec(T0 + 10 * MIN, 0)]], now + 40_000);
    expect(s.eventTime).toBe(T0 + 10 * MIN);
  });

  it('and a partition the caller held back (backpressure) is not idle for that time', () => {
    const wm = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 30_000 });
    feed(s, wm, 'a', [[0n, rec(T0 + 1, 1)]], 0);
    feed(s, wm, 'b', [[0n, rec(T0 + 2, 2)]], 0);
    heldUntil(s, ['a', 'b'], 60_000);
    expect(advance(s, () => wm, 60_001)).toEqual([]);
    const d = feed(s, wm, 'a', [[1n, rec(T0 + 5 * MIN, 3)]], 60_002);
    expect(d.due).toEqual([]);
    expect(feed(s, wm, 'b', [[1n, rec(T0 + 3, 4)]], 60_003).late).toEqual([]);
  });
});

describe('processing-time windows after a restart', () => {
  it('skip the replayed records of windows already reported and count those of open ones once', () => {
    const wm: WindowModel = { ...model({ type: 'tumbling', sizeMs: MIN }, 0, MIN), processingTime: true };
    // Processing time: a record's time is its arrival; a replay reads the same offsets at a new time.
    const arrived = (offset: bigint, at: number, x: number): [bigint, StreamRecord] => [offset, rec(at, x)];
    let s = createWindowState({ idleTimeoutMs: 0 });
    assignPartition(s, 'p', null);
    const first = [
      ...feed(s, wm, 'p', [arrived(0n, T0 + 1000, 1), arrived(1n, T0 + 1000, 2), arrived(2n, T0 + 1000, 3)]).due,
      ...feed(s, wm, 'p', [arrived(3n, T0 + MIN + 1000, 4)]).due,
    ];
    expect(first.map((d) => [d.key.start - T0, values(d)])).toEqual([[0, [1, 2, 3]]]);
    const cp = checkpoints(s)[0]!;
    expect(cp.offset).toBe(0n); // the reported window stays for its lateness, holding its rows' offsets
    s = createWindowState({ idleTimeoutMs: 0 });
    assignPartition(s, 'p', cp);
    const replayAt = T0 + MIN + 11_000;
    const again = feed(s, wm, 'p', [arrived(0n, replayAt, 1), arrived(1n, replayAt, 2), arrived(2n, replayAt, 3), arrived(3n, replayAt, 4)]).due;
    expect(again).toEqual([]);
    expect(flushAll(s).map((d) => [d.key.start - T0, values(d)])).toEqual([[MIN, [4]]]);
  });
});

describe('several partitions after a restart: the same decisions as without one', () => {
  const S = 1000;
  const wm = model({ type: 'tumbling', sizeMs: 2 * MIN }, 20 * S);
  type Step = [partition: string, from: number, to: number];

  /**
   * Feeds the steps in order, reports "written" `lag` steps after they were made; with `crashAfter`, a restart from
   * the commits then, and the same deliveries again from the committed offsets (the same interleaving).
   */
  function run(data: Record<string, Array<[bigint, StreamRecord]>>, steps: Step[], lag: number, crashAfter: number | null) {
    const parts = Object.keys(data);
    const written = new Map<string, string>();
    const late: string[] = [];
    let s = createWindowState({ idleTimeoutMs: 0 });
    for (const q of parts) assignPartition(s, q, null);
    const committed = new Map<string, Checkpoint>();
    let queue: DueWindow[][] = [];
    const done: Step[] = [];
    let todo = steps.slice();
    const write = (due: DueWindow[]) => {
      for (const d of due) written.set(`${d.key.start - T0}`, JSON.stringify(values(d)));
    };
    for (let k = 0; k < 100 && todo.length > 0; k++) {
      const [q, from, to] = todo.shift()!;
      if (from >= to) continue;
      beginStep(s);
      const r = feed(s, wm, q, data[q]!.slice(from, to));
      late.push(...r.late.map((l) => `${q}@${l.offset}`));
      queue.push(r.due);
      while (queue.length > lag) write(queue.shift()!);
      const cps = checkpoints(s, queue.flat());
      checkpointsCommitted(s, cps);
      for (const c of cps) committed.set(c.partition, c);
      done.push([q, from, to]);
      if (done.length === crashAfter) {
        crashAfter = null;
        queue = [];
        s = createWindowState({ idleTimeoutMs: 0 });
        for (const q2 of parts) assignPartition(s, q2, committed.get(q2) ?? null);
        const at = (q2: string) => Number(committed.get(q2)?.offset ?? 0n);
        todo = [...done.map(([q2, f, t]): Step => [q2, Math.max(f, at(q2)), t]), ...todo];
        done.length = 0;
      }
    }
    for (const d of queue) write(d);
    write(flushAll(s));
    return { written: Object.fromEntries(written), late: [...new Set(late)].sort() };
  }
  const at = (ts: number, x: number): StreamRecord => rec(T0 + ts * S, x);

  it('a partition that has read everything again no longer holds the event time at the checkpoint\'s', () => {
    const data = { A: [[0n, at(10, 1)], [1n, at(50, 2)], [2n, at(-1, 3)]], C: [[0n, at(60, 101)]] } as Record<string, Array<[bigint, StreamRecord]>>;
    const steps: Step[] = [['A', 0, 1], ['C', 0, 1], ['A', 1, 3]];
    const straight = run(data, steps, 0, null);
    expect(straight.late).toEqual(['A@2']);
    expect(run(data, steps, 0, 2)).toEqual(straight);
  });

  it('a partition with nothing read when the oldest unwritten report was made gets no event time of its own', () => {
    const data = { C: [[0n, at(10, 101)], [1n, at(180, 102)]], A: [[0n, at(100, 1)], [1n, at(110, 2)]] } as Record<string, Array<[bigint, StreamRecord]>>;
    const steps: Step[] = [['C', 0, 1], ['C', 1, 2], ['A', 0, 1], ['A', 1, 2]];
    const straight = run(data, steps, 2, null);
    expect(straight.late).toEqual(['A@0', 'A@1']);
    expect(run(data, steps, 2, 3)).toEqual(straight);
  });
});

describe('idle timeout per model', () => {
  it('reports a model with its own idle timeout early while the engine default would wait', () => {
    const quick: WindowModel = { ...model({ type: 'tumbling', sizeMs: MIN }), spec: { ...model({ type: 'tumbling', sizeMs: MIN }).spec, idleTimeoutMs: 1000 } };
    const slow = model({ type: 'tumbling', sizeMs: MIN });
    const s = createWindowState({ idleTimeoutMs: 60_000 });
    const modelOf = (m: string) => (m === 'quick' ? quick : slow);
    addRecords(s, modelOf, 'p', [
      { record: rec(T0 + 1, 1, 'quick'), offset: 0n },
      { record: rec(T0 + 2, 2, 'slow'), offset: 1n },
    ], 0);
    expect(advance(s, modelOf, 999)).toEqual([]);
    expect(advance(s, modelOf, 1000).map((d) => [d.key.model, d.cause])).toEqual([['quick', 'idle']]);
    expect(advance(s, modelOf, 60_000).map((d) => [d.key.model, d.cause])).toEqual([['slow', 'idle']]);
  });
});

describe('label join: by model and id, the first label, within the join bound', () => {
  /** A prediction model of tumbling 10-minute windows; labels join within `joinMs`; the label column holds numbers. */
  const pm = (joinMs: number, lateness = 0): WindowModel => ({
    spec: { shape: { type: 'tumbling', sizeMs: 10 * MIN }, watermarkDelayMs: 0, allowedLatenessMs: lateness },
    columns: [
      { name: 'prediction', kind: 'number' },
      { name: '__label', kind: 'number' },
    ],
    labels: { column: '__label', joinMs },
  });
  function pred(m: string, ts: number, id: string, p: number): StreamRecord {
    return { model: m, ts, kind: 'prediction', segment: {}, id, prediction: p, features: { prediction: p, __label: null } };
  }
  const label = (m: string, id: string, ts: number, l: number) => ({ model: m, id, ts, label: l });
  const labelsOf = (d: DueWindow) => Array.from(d.table.columns[1]!.values as Float64Array, (x) => (Number.isNaN(x) ? null : x));
  type Item = { p: StreamRecord } | { l: ReturnType<typeof label> };

  /**
   * Feeds the items one step each (predictions on partition p, labels on partition labels), then a prediction of
   * every model far later, so that every window is reported and dropped. Returns each window's last report as
   * [model, start, version, labels], and the labels still kept.
   */
  function run(modelOf: (m: string) => WindowModel | undefined, items: Item[]) {
    const s = createWindowState({ idleTimeoutMs: 0 });
    const last = new Map<string, [string, number, number, Array<number | null>]>();
    const note = (due: DueWindow[]) => {
      for (const d of due) last.set(`${d.key.model} ${d.key.start}`, [d.key.model, d.key.start - T0, d.version, labelsOf(d)]);
    };
    let po = 0n;
    let lo = 0n;
    for (const it of items) {
      if ('p' in it) note(addRecords(s, modelOf, 'p', [{ record: it.p, offset: po++ }], 0).due);
      else addLabels(s, modelOf, 'labels', [{ label: it.l, offset: lo++ }], 0);
      note(advance(s, modelOf, 0));
    }
    const end = T0 + 30 * 86_400_000;
    note(addRecords(s, modelOf, 'p', ['m', 'n'].map((m) => ({ record: pred(m, end, 'last', 0), offset: po++ })), 0).due);
    note(advance(s, modelOf, 0));
    const reports = [...last.values()].filter(([, start]) => start < end - T0).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    return { reports, kept: s.labels.size, waiting: s.predictions.size };
  }
  /** The same items with the labels first, and with the predictions first. */
  function bothOrders(modelOf: (m: string) => WindowModel | undefined, preds: StreamRecord[], labels: Array<ReturnType<typeof label>>) {
    return {
      labelsFirst: run(modelOf, [...labels.map((l) => ({ l })), ...preds.map((p) => ({ p }))]),
      predictionsFirst: run(modelOf, [...preds.map((p) => ({ p })), ...labels.map((l) => ({ l }))]),
    };
  }

  it('joins a label only to the prediction of its own model, when two models use one id', () => {
    const m = pm(10 * MIN);
    const modelOf = (name: string) => (name === 'm' || name === 'n' ? m : undefined);
    const preds = [pred('m', T0 + 1000, 'p0', 1), pred('m', T0 + 2000, 'p1', 0), pred('n', T0 + 1000, 'p0', 1)];
    // Model n's label for p0 and p1; model m gets none. n's p1 has no prediction.
    const labels = [label('n', 'p0', T0 + 3000, 7), label('n', 'p1', T0 + 3000, 8)];
    const { labelsFirst, predictionsFirst } = bothOrders(modelOf, preds, labels);
    const expected = [
      ['m', 0, 2, [null, null]],
      ['n', 0, 2, [7]],
    ];
    expect(labelsFirst.reports).toEqual(expected);
    expect(predictionsFirst.reports).toEqual(expected);
  });

  it('joins the first label of an id in either order, ignores later ones, and keeps none past the join bound', () => {
    const m = pm(10 * MIN);
    const modelOf = () => m;
    const preds = [pred('m', T0 + 1000, 'p0', 1), pred('m', T0 + 2000, 'p1', 0)];
    const labels = [label('m', 'p0', T0 + 3000, 0), label('m', 'p0', T0 + 4000, 1), label('m', 'p1', T0 + 4000, 0), label('m', 'p1', T0 + 5000, 9)];
    const { labelsFirst, predictionsFirst } = bothOrders(modelOf, preds, labels);
    // 2 rows and 2 labels joined: the first of each id
    expect(labelsFirst.reports).toEqual([['m', 0, 4, [0, 0]]]);
    expect(predictionsFirst.reports).toEqual(labelsFirst.reports);
    for (const r of [labelsFirst, predictionsFirst]) expect(r.kept).toBe(0);
  });

  it('joins a label only within the join bound of its prediction\'s time, on either side, in either order', () => {
    const m = pm(MIN);
    const modelOf = () => m;
    const at = (s: number) => T0 + s * 1000;
    const preds = [pred('m', at(100), 'a', 1), pred('m', at(100), 'b', 1), pred('m', at(100), 'c', 1), pred('m', at(100), 'd', 1), pred('m', at(200), 'e', 1)];
    const labels = [
      label('m', 'a', at(160), 2), // the bound after: joins
      label('m', 'b', at(40), 3), // the bound before: joins
      label('m', 'c', at(161), 4), // 1 ms... 1 s past the bound: no
      label('m', 'd', at(100 + 9 * 60), 5), // 9 minutes after, the window still kept: no
      label('m', 'e', at(200 + 3 * 86_400), 6), // 3 days after: no
    ];
    const { labelsFirst, predictionsFirst } = bothOrders(modelOf, preds, labels);
    expect(labelsFirst.reports).toEqual([['m', 0, 7, [2, 3, null, null, null]]]);
    expect(predictionsFirst.reports).toEqual(labelsFirst.reports);
  });

  it('joins the first label within the bound when an earlier one of the id is out of it, in either order', () => {
    const m = pm(MIN);
    const modelOf = () => m;
    const preds = [pred('m', T0 + 1000, 'a', 1)];
    const labels = [label('m', 'a', T0 + 5 * MIN, 1), label('m', 'a', T0 + 2000, 0), label('m', 'a', T0 + 3000, 2)];
    const { labelsFirst, predictionsFirst } = bothOrders(modelOf, preds, labels);
    expect(labelsFirst.reports).toEqual([['m', 0, 2, [0]]]);
    expect(predictionsFirst.reports).toEqual(labelsFirst.reports);
  });

  it('leaves a report\'s table as it was made when a label joins the window afterwards', () => {
    const m = pm(10 * MIN);
    const modelOf = () => m;
    const s = createWindowState({ idleTimeoutMs: 0 });
    addRecords(s, modelOf, 'p', [{ record: pred('m', T0 + 1000, 'a', 1), offset: 0n }, { record: pred('m', T0 + 2000, 'b', 2), offset: 1n }], 0);
    const first = feed(s, m, 'p', [[2n, pred('m', T0 + 11 * MIN, 'c', 3)]]).due;
    expect(first.map((d) => [d.version, labelsOf(d)])).toEqual([[2, [null, null]]]);
    addLabels(s, modelOf, 'labels', [{ label: label('m', 'a', T0 + 1000, 5), offset: 0n }], 0);
    expect(labelsOf(first[0]!)).toEqual([null, null]);
    const update = advance(s, modelOf, 0);
    expect(update.map((d) => [d.cause, d.version, labelsOf(d)])).toEqual([['late_update', 3, [5, null]]]);
    addLabels(s, modelOf, 'labels', [{ label: label('m', 'b', T0 + 2000, 6), offset: 1n }], 0);
    expect([labelsOf(first[0]!), labelsOf(update[0]!)]).toEqual([[null, null], [5, null]]);
    expect(advance(s, modelOf, 0).map((d) => [d.version, labelsOf(d)])).toEqual([[4, [5, 6]]]);
  });
});

describe('labels after a restart: the same joins as without one', () => {
  const S = 1000;
  const J = 3 * MIN;
  const pm: WindowModel = {
    spec: { shape: { type: 'tumbling', sizeMs: 2 * MIN }, watermarkDelayMs: 5 * S, allowedLatenessMs: MIN },
    columns: [
      { name: 'prediction', kind: 'number' },
      { name: '__label', kind: 'number' },
    ],
    labels: { column: '__label', joinMs: J },
  };
  const modelOf = (m: string) => (m === 'm' || m === 'n' ? pm : undefined);
  type Batch = { readonly partition: 'p' | 'labels'; readonly items: Array<{ offset: bigint; p?: StreamRecord; l?: { model: string; id: string; ts: number; label: number } }> };

  /**
   * Predictions of two models that share ids (one prediction per model and id), in order with some jitter; labels on their own partition, some before
   * their prediction, some long after, duplicates of an id, labels of the other model's id, some out of the bound.
   */
  function stream(seed: number): Batch[] {
    const rnd = seededRandom(seed);
    const preds: Batch['items'] = [];
    const labels: Array<{ at: number; l: { model: string; id: string; ts: number; label: number } }> = [];
    let t = T0;
    for (let i = 0; i < 300; i++) {
      t += Math.floor(rnd() * 3000);
      const ts = t - (rnd() < 0.1 ? Math.floor(rnd() * 2 * MIN) : 0);
      // Each id once per model, and both models use it.
      const m = i % 2 === 0 ? 'm' : 'n';
      const id = `id${Math.floor(i / 2)}`;
      const p = Math.floor(rnd() * 3);
      preds.push({ offset: BigInt(i), p: { model: m, ts, kind: 'prediction', segment: {}, id, prediction: p, features: { prediction: p, __label: null } } });
      const copies = rnd() < 0.7 ? 1 + Math.floor(rnd() * 3) : 0;
      for (let c = 0; c < copies; c++) {
        const lm = rnd() < 0.15 ? (m === 'm' ? 'n' : 'm') : m;
        const lts = ts + Math.floor((rnd() * 2 - 1) * 1.3 * J);
        labels.push({ at: i + Math.floor((rnd() * 2 - 0.5) * 40), l: { model: lm, id, ts: lts, label: Math.floor(rnd() * 3) } });
      }
    }
    labels.sort((a, b) => a.at - b.at);
    // Batches of up to 10 predictions, the labels whose turn came in between.
    const out: Batch[] = [];
    let li = 0;
    let lo = 0n;
    for (let i = 0; i < preds.length; i += 10) {
      const ls: Batch['items'] = [];
      while (li < labels.length && labels[li]!.at < i + 10) ls.push({ offset: lo++, l: labels[li++]!.l });
      if (ls.length > 0) out.push({ partition: 'labels', items: ls });
      out.push({ partition: 'p', items: preds.slice(i, i + 10) });
    }
    return out;
  }

  /**
   * Feeds the batches, each reported and committed at once; with `crashAfter`, a restart from the commits then that
   * reads the backlog of one partition (`first`) before the other's, then goes on.
   */
  function run(batches: Batch[], crashAfter: number | null, first: 'p' | 'labels' = 'labels') {
    const reports = new Map<string, Map<number, string>>();
    const collect = (due: DueWindow[]) => {
      for (const d of due) {
        const k = `${d.key.model} ${d.key.start - T0}`;
        const content = JSON.stringify([Array.from(d.table.columns[0]!.values as Float64Array), Array.from(d.table.columns[1]!.values as Float64Array, (x) => (Number.isNaN(x) ? null : x))]);
        const versions = reports.get(k) ?? new Map<number, string>();
        const seen = versions.get(d.version);
        if (seen !== undefined && seen !== content) throw new Error(`${k} v${d.version} reported as ${seen} and as ${content}`);
        versions.set(d.version, content);
        reports.set(k, versions);
      }
    };
    let s = createWindowState({ idleTimeoutMs: 0 });
    assignPartition(s, 'p', null);
    assignPartition(s, 'labels', null);
    const committed = new Map<string, Checkpoint>();
    const apply = (b: Batch) => {
      beginStep(s);
      if (b.partition === 'p') collect(addRecords(s, modelOf, 'p', b.items.map((x) => ({ record: x.p!, offset: x.offset })), 0).due);
      else addLabels(s, modelOf, 'labels', b.items.map((x) => ({ label: x.l!, offset: x.offset })), 0);
      collect(advance(s, modelOf, 0));
      const cps = checkpoints(s);
      checkpointsCommitted(s, cps);
      for (const c of cps) committed.set(c.partition, c);
    };
    for (let k = 0; k < batches.length; k++) {
      apply(batches[k]!);
      if (k + 1 === crashAfter) {
        s = createWindowState({ idleTimeoutMs: 0 });
        for (const q of ['p', 'labels']) assignPartition(s, q, committed.get(q) ?? null);
        const done = batches.slice(0, k + 1);
        for (const q of first === 'labels' ? ['labels', 'p'] : ['p', 'labels']) {
          const from = committed.get(q)?.offset ?? 0n;
          const items = done.filter((b) => b.partition === q).flatMap((b) => b.items).filter((x) => x.offset >= from);
          if (items.length > 0) apply({ partition: q as Batch['partition'], items });
        }
      }
    }
    collect(flushAll(s));
    const finals = new Map<string, string>();
    for (const [k, v] of reports) finals.set(k, `v${Math.max(...v.keys())} ${v.get(Math.max(...v.keys()))}`);
    return finals;
  }

  it('gives the same final reports after a crash, whichever partition the restart reads first', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const batches = stream(seed);
      const base = run(batches, null);
      expect(base.size).toBeGreaterThan(5);
      for (const crashAfter of [3, 8, 15, 24, 33]) {
        for (const first of ['labels', 'p'] as const) expect([seed, crashAfter, first, run(batches, crashAfter, first)]).toEqual([seed, crashAfter, first, base]);
      }
    }
  });
});
