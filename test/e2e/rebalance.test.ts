/**
 * A rebalance loses no window: a telemetry topic with two partitions, press-a and press-b keyed onto different
 * ones, consumed by two driftwatch processes in one consumer group (each with its own data directory) that publish
 * to one drift-events topic. Once each has reported a window, one is stopped cleanly (SIGTERM) while records are
 * still being produced; the other takes its partition over from its checkpoint. Every planned window must be
 * reported (the distinct event ids are exactly the expected ones), each with one id; re-published events are
 * counted.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { driftEventId } from '../../src/pipeline/window-report.js';
import { createTopic, uniqueTopic } from '../kafka/broker.js';
import {
  alignedBase,
  byWindow,
  chunksByWindow,
  committedCheckpoint,
  createReferences,
  distinctIds,
  Driftwatch,
  groupAssignment,
  lastWindowsReported,
  makePlan,
  messagesOf,
  ownedFor,
  produce,
  ROWS_PER_WINDOW,
  sleep,
  TopicReader,
  waitFor,
  waitForEvents,
  windowName,
  writeConfig,
  writeReferenceCsv,
  e2eSuite,
  printedWindows,
} from './helpers.js';

const suite = e2eSuite('rebalance');

const MODELS = ['press-a', 'press-b'];
const CLEAN = 4;
const DRIFTED = 4;
/** Windows produced before anything is stopped; the rest goes out one window at a time, this far apart (ms). */
const FIRST_WINDOWS = 3;
const GAP_MS = 700;





/** The partition the Java-compatible default partitioner (kafkajs's and driftwatch's) gives a key. */
function partitionOf(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] })),
    message: { key, value: null },
  });
}

describe('driftwatch run, rebalance', () => {
  it('reports every window when one of two consumers stops while records are produced', async () => {
    // Keyed by model, press-a and press-b land on different partitions of a two-partition topic.
    const partitions = new Map(MODELS.map((m) => [m, partitionOf(m, 2)]));
    expect(new Set(partitions.values()).size).toBe(2);

    const csv = writeReferenceCsv(suite.tmp);
    const names = ['P1', 'P2'] as const;
    const dirs = names.map((n) => join(suite.tmp, n));
    const configs = dirs.map((d) => writeConfig(d, { models: MODELS }));
    const refsList = await Promise.all(dirs.map((d) => createReferences(join(d, 'data'), MODELS, csv)));
    expect(refsList[1]).toEqual(refsList[0]);
    const refs = refsList[0]!;

    const telemetry = uniqueTopic('rebalance-telemetry');
    const events = uniqueTopic('rebalance-events');
    const dead = uniqueTopic('rebalance-dead');
    await Promise.all([createTopic(suite.brokers, telemetry, 2), createTopic(suite.brokers, events, 1), createTopic(suite.brokers, dead, 1)]);
    const plan = makePlan({ models: MODELS, clean: CLEAN, drifted: DRIFTED, base: alignedBase(), seed: 3 });
    const nameOf = new Map(plan.windows.map((w) => [driftEventId({ model: w.model, segment: {}, start: w.start, end: w.end }, refs.get(w.model)!, ROWS_PER_WINDOW), windowName(w.model, w.start)]));
    const expectedIds = new Set(nameOf.keys());

    const commits = async () =>
      (await Promise.all([0, 1].map(async (p) => `${p}: ${JSON.stringify(await committedCheckpoint(suite.brokers, groupId, telemetry, p), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`))).join('; ');
    const reader = await TopicReader.start(suite.brokers, events, uniqueTopic('rebalance-reader'));
    suite.readers.push(reader);
    const groupId = uniqueTopic('rebalance-group');
    const [p1, p2] = names.map((name, i) =>
      Driftwatch.start({ name, dir: dirs[i]!, config: configs[i]!, dataDir: join(dirs[i]!, 'data'), brokers: suite.brokers, groupId, telemetry: [telemetry], driftEvents: events, deadLetters: dead }),
    ) as [Driftwatch, Driftwatch];
    const both = () => `${p1.describe()}\n${p2.describe()}`;
    await Promise.all([p1.ready(), p2.ready()]);
    // Both members in the group, one partition each, before anything is produced.
    let assignment = await groupAssignment(suite.brokers, groupId, telemetry);
    await waitFor(
      'a stable group of two members with one partition each',
      async () => {
        assignment = await groupAssignment(suite.brokers, groupId, telemetry);
        return assignment.state === 'Stable' && assignment.members.length === 2 && assignment.members.every((m) => m.partitions.length === 1);
      },
      90_000,
      () => `${JSON.stringify(assignment)}\n${both()}`,
    );

    // Produced keyed by model: each model's send must land on its own partition.
    const chunks = chunksByWindow(plan);
    const send = async (chunk: (typeof chunks)[number]) => {
      for (const model of MODELS) {
        const meta = await produce(suite.producer, telemetry, messagesOf(chunk.filter((r) => r.model === model)));
        expect(new Set(meta.map((m) => m.partition)), model).toEqual(new Set([partitions.get(model)]));
      }
    };
    for (const chunk of chunks.slice(0, FIRST_WINDOWS)) await send(chunk);
    await waitFor('each process to report a window', () => p1.windowLines().length > 0 && p2.windowLines().length > 0, 60_000, both);
    const beforeStop = { P1: p1.windowLines().length, P2: p2.windowLines().length };

    // The rest goes out one window at a time; P1 is stopped (SIGTERM) after the first of them.
    let p1Exit: Promise<unknown> | null = null;
    let commitsAtStop = '';
    for (const [i, chunk] of chunks.slice(FIRST_WINDOWS).entries()) {
      await send(chunk);
      if (i === 0) {
        commitsAtStop = await commits();
        p1Exit = p1.stop();
      }
      await sleep(GAP_MS);
    }
    const exit1 = await p1Exit;
    const commitsAfterStop = await commits();
    expect.soft(exit1, `P1, stopped with SIGTERM\n${p1.describe()}`).toEqual({ code: 0, signal: null });

    // Complete: every window reported, or the last ones (each partition's windows close in event-time order), or P2
    // has owned both partitions for 8 s (a run that lost windows reports nothing more), or P2 died.
    const lastOut = lastWindowsReported(plan);
    const settled = ownedFor(suite.brokers, groupId, telemetry, 8000, new Set(), [0, 1]);
    const got = await waitForEvents(reader, plan.windows.length, 120_000, 3000, both, async (e) => lastOut(e) || !p2.running || (await settled()));
    const p2Alive = p2.running;
    const exit2 = await p2.stop();
    expect.soft({ alive: p2Alive, exit: exit2 }, `P2 ran to the end and stopped cleanly\n${p2.describe()}`).toEqual({ alive: true, exit: { code: 0, signal: null } });

    const rawDuplicates = got.length - distinctIds(got).size;
    const summary =
      `rebalance test: partitions ${JSON.stringify(Object.fromEntries(partitions))}; assignment ${JSON.stringify(assignment.members.map((m) => m.partitions))}; ` +
      `windows printed before the stop P1 ${beforeStop.P1}, P2 ${beforeStop.P2}; in all P1 ${p1.windowLines().length} (${[...printedWindows(p1.stdout)].join(' ')}), ` +
      `P2 ${p2.windowLines().length}; commits when P1 was stopped ${commitsAtStop}, after it exited ${commitsAfterStop}; ${got.length} raw events for ${distinctIds(got).size} distinct ids: ${rawDuplicates} raw duplicates`;
    console.log(summary);

    const missing = [...expectedIds].filter((id) => !distinctIds(got).has(id)).map((id) => `${id} (${nameOf.get(id)})`);
    const extra = [...distinctIds(got)]
      .filter((id) => !expectedIds.has(id))
      .map((id) => {
        const e = got.find((x) => x.id === id)!;
        return `${id} (${windowName(e.model, e.window.start)}, ${e.window.count} rows, cause ${e.window.cause})`;
      });
    expect.soft({ missing, extra }, `${summary}\n${both()}`).toEqual({ missing: [], extra: [] });
    const windows = byWindow(got);
    for (const w of plan.windows) {
      const list = windows.get(windowName(w.model, w.start)) ?? [];
      if (list.length === 0) continue; // listed as missing above
      expect.soft(list, windowName(w.model, w.start)).toHaveLength(1);
      expect.soft(list[0]!.dataset.drifted_flag, windowName(w.model, w.start)).toBe(w.drifted);
      expect.soft(list[0]!.window.count, windowName(w.model, w.start)).toBe(ROWS_PER_WINDOW);
    }
    // Nothing refused on the way: the input is clean, so a dead letter means a record judged late after the takeover.
    const deadLines = [...p1.stdout, ...p2.stdout].filter((l) => l.startsWith('dead letter') || l.startsWith('error'));
    expect.soft(deadLines.slice(0, 5), 'dead letters or errors on the consoles').toEqual([]);
    // A clean stop commits what it wrote (otherwise the next owner replays more than it needs to).
    expect.soft(p1.stderr() + p2.stderr(), 'a clean stop writes and commits everything').not.toMatch(/pending reports could not be written.*/);
  }, 240_000);
});
