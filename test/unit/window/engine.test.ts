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
    // past the join bound the window is final and dropped; the labels partition may then be committed
    feed(s, pm, 'p', [[4n, pred(T0 + 12 * MIN, 'e', 0.1)]]);
    expect(s.windows.size).toBe(1);
    expect(checkpoints(s).find((c) => c.partition === 'labels')!.offset).toBe(2n);
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
