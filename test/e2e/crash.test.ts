/**
 * A crash in the middle of the stream loses nothing and changes nothing: the same telemetry topic is consumed by
 * run A (group gA, data dir dA, events topic tA) without interruption, and by run B (gB, dB, tB), which is killed
 * with SIGKILL once a few windows have been reported and then restarted with the same group, data dir and topics.
 * B must end with exactly A's windows: the same event ids (none missing, none extra), the same content, and the
 * same window reports in its store. Re-published events (same id) are allowed and counted.
 *
 * Where B dies matters: a crash is only interesting while some reports are not durable yet. So once B has reported
 * a few windows, its suite.producer (client id driftwatch-crash-b) gets a produce quota of 10 bytes/s from the broker,
 * as when a quota or a slow broker holds a service back: its next drift events wait (the broker mutes the
 * connection), the input keeps coming, windows keep closing, and their reports wait in B's writer queue. B is
 * killed as soon as it commits a checkpoint whose event time is past the end of a window it has not reported (or
 * after a few seconds without one: a correct service does not make such commits), the quota is lifted, and B is
 * restarted.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WindowSummary } from '../../src/core/store.js';
import { driftEventId, type DriftEvent } from '../../src/pipeline/window-report.js';
import { openStore, storeConfigFromEnv } from '../../src/store/index.js';
import { createTopic, uniqueTopic } from '../kafka/broker.js';
import {
  alignedBase,
  byWindow,
  chunksByWindow,
  committedCheckpoint,
  createReferences,
  distinctIds,
  driftEvents,
  Driftwatch,
  eventContent,
  groupAssignment,
  lastWindowsReported,
  makePlan,
  messagesOf,
  ownedFor,
  printedWindows,
  produce,
  setProduceQuota,
  ROWS_PER_WINDOW,
  sleep,
  TopicReader,
  waitFor,
  waitForEvents,
  WINDOW_MS,
  windowName,
  writeConfig,
  writeReferenceCsv,
  e2eSuite,
} from './helpers.js';

const suite = e2eSuite('crash', async () => {
  if (quotaSet) await setProduceQuota(suite.brokers, B_CLIENT_ID, null);
  quotaSet = false;
});

const MODELS = ['press-a', 'press-b'];
const CLEAN = 4;
const DRIFTED = 4;
/** The input goes out one window (600 records) at a time, this far apart (ms). */
const GAP_MS = 800;
/** Windows B must have reported before it is held back, and how long after that it is killed at the latest (ms). */
const KILL_AFTER = 3;
const KILL_WITHIN = 8000;
const B_CLIENT_ID = 'driftwatch-crash-b';

let quotaSet = false;




/** A group's committed checkpoint of partition 0, for messages. */
async function committed(groupId: string, topic: string): Promise<string> {
  const cp = await committedCheckpoint(suite.brokers, groupId, topic).catch((e: unknown) => `(${(e as Error).message})`);
  return JSON.stringify(cp, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const byMethod = (a: { method: string }, b: { method: string }) => (a.method < b.method ? -1 : a.method > b.method ? 1 : 0);
const byCheck = (a: { check: string; column: string }, b: { check: string; column: string }) =>
  a.check < b.check ? -1 : a.check > b.check ? 1 : a.column < b.column ? -1 : a.column > b.column ? 1 : 0;

describe('driftwatch run, crash and restart', () => {
  it('reports exactly the windows of an uninterrupted run after a SIGKILL and a restart', async () => {
    const csv = writeReferenceCsv(suite.tmp);
    const dirA = join(suite.tmp, 'A');
    const dirB = join(suite.tmp, 'B');
    const dataA = join(dirA, 'data');
    const dataB = join(dirB, 'data');
    const configA = writeConfig(dirA, { models: MODELS });
    const configB = writeConfig(dirB, { models: MODELS });
    const [refsA, refsB] = await Promise.all([createReferences(dataA, MODELS, csv), createReferences(dataB, MODELS, csv)]);
    // Reference ids follow content: both stores hold the same references, so both runs name the same events.
    expect(refsB).toEqual(refsA);

    const telemetry = uniqueTopic('crash-telemetry');
    const [tA, tB, dlA, dlB] = ['crash-events-a', 'crash-events-b', 'crash-dead-a', 'crash-dead-b'].map(uniqueTopic) as [string, string, string, string];
    await Promise.all([createTopic(suite.brokers, telemetry, 1), ...[tA, tB, dlA, dlB].map((t) => createTopic(suite.brokers, t, 1))]);
    const plan = makePlan({ models: MODELS, clean: CLEAN, drifted: DRIFTED, base: alignedBase(), seed: 2 });
    const nameOf = new Map(plan.windows.map((w) => [driftEventId({ model: w.model, segment: {}, start: w.start, end: w.end }, refsA.get(w.model)!, ROWS_PER_WINDOW), windowName(w.model, w.start)]));
    const expectedIds = new Set(nameOf.keys());

    const [readerA, readerB] = await Promise.all([TopicReader.start(suite.brokers, tA, uniqueTopic('crash-reader-a')), TopicReader.start(suite.brokers, tB, uniqueTopic('crash-reader-b'))]);
    suite.readers.push(readerA, readerB);

    const groupA = uniqueTopic('crash-group-a');
    const groupB = uniqueTopic('crash-group-b');
    const a = Driftwatch.start({ name: 'A', dir: dirA, config: configA, dataDir: dataA, brokers: suite.brokers, groupId: groupA, telemetry: [telemetry], driftEvents: tA, deadLetters: dlA });
    const b1 = Driftwatch.start({
      name: 'B',
      dir: dirB,
      config: configB,
      dataDir: dataB,
      brokers: suite.brokers,
      groupId: groupB,
      telemetry: [telemetry],
      driftEvents: tB,
      deadLetters: dlB,
      env: { DRIFTWATCH__KAFKA__CLIENT_ID: B_CLIENT_ID },
    });
    await Promise.all([a.ready(), b1.ready()]);

    // The same records for both runs, one window at a time.
    const chunks = chunksByWindow(plan);
    const production = (async () => {
      for (const chunk of chunks) {
        await produce(suite.producer, telemetry, messagesOf(chunk));
        await sleep(GAP_MS);
      }
    })();
    production.catch(() => undefined);

    // A few windows reported (a console line is printed once the report is written and its event published)...
    await waitFor(`B to report ${KILL_AFTER} windows`, () => b1.windowLines().length >= KILL_AFTER || !b1.running, 120_000, () => b1.describe());
    expect(b1.running, b1.describe()).toBe(true);
    const membersB1 = new Set((await groupAssignment(suite.brokers, groupB, telemetry)).members.map((m) => m.memberId));
    // ...then B's suite.producer is held back: reports wait in B's queue while the input goes on.
    quotaSet = true;
    await setProduceQuota(suite.brokers, B_CLIENT_ID, 10).catch((e: unknown) => {
      // An external broker without the Kafka jars here: B is then killed at the fallback moment, still mid-stream.
      quotaSet = false;
      console.warn(`crash test: B could not be held back (${(e as Error).message}); it is killed ${KILL_WITHIN} ms from now instead`);
    });
    const printedAtBlock = printedWindows(b1.stdout).size;
    let killPoint = '';
    const key = (cp: Awaited<ReturnType<typeof committedCheckpoint>>) => (cp ? `${cp.offset} hi ${cp.hi} et ${cp.et === null ? null : new Date(cp.et).toISOString()}` : 'none');
    const deadline = Date.now() + KILL_WITHIN;
    for (;;) {
      const cp = await committedCheckpoint(suite.brokers, groupB, telemetry).catch(() => null);
      const printed = printedWindows(b1.stdout);
      // Windows the checkpoint's event time has passed (a replay from it treats them as reported) with no report yet.
      const behind = cp?.et == null ? [] : plan.windows.filter((w) => w.end <= cp.et! && !printed.has(windowName(w.model, w.start)));
      if (behind.length > 0) {
        b1.child.kill('SIGKILL');
        killPoint =
          `a commit (${key(cp)}) made with ${printed.size} windows reported; its event time is past the end of ${behind.length} windows ` +
          `not reported yet (${behind.map((w) => windowName(w.model, w.start)).join(', ')})`;
        break;
      }
      if (Date.now() > deadline || !b1.running) {
        b1.child.kill('SIGKILL');
        killPoint = `${KILL_WITHIN} ms after B was held back, no commit ahead of the reports having come (last commit ${key(cp)}), with ${printed.size} windows printed`;
        break;
      }
      await sleep(5);
    }
    const exitB1 = await b1.crash();
    expect(exitB1.signal).toBe('SIGKILL');
    if (quotaSet) await setProduceQuota(suite.brokers, B_CLIENT_ID, null);
    quotaSet = false;
    const printedBeforeKill = b1.windowLines().length;
    await sleep(1500); // let the reader catch up with what B published before it died
    const publishedBeforeKill = driftEvents(readerB).length;
    const commitAtKill = await committed(groupB, telemetry);
    await production;

    const eventsA = await waitForEvents(readerA, plan.windows.length, 120_000, 1500, () => a.describe(), lastWindowsReported(plan));

    // The restart waits for the killed member's session (30 s by default) to expire before it gets the partition.
    // Complete when it has owned the partition for 6 s (it reads the topic again in well under that; a run that lost
    // windows reports nothing more), then 3 s of grace.
    const b2 = b1.restart();
    expect(b2.o.env).toEqual({ DRIFTWATCH__KAFKA__CLIENT_ID: B_CLIENT_ID });
    const settled = ownedFor(suite.brokers, groupB, telemetry, 6000, membersB1);
    await waitFor('the restarted B to own the partition', settled, 120_000, () => `${b1.describe()}\n${b2.describe()}`);
    const eventsB = await waitForEvents(readerB, plan.windows.length, 30_000, 3000, () => `${b1.describe()}\n${b2.describe()}`, () => true);

    const [exitA, exitB2] = await Promise.all([a.stop(), b2.stop()]);
    expect.soft(exitA, a.describe()).toEqual({ code: 0, signal: null });
    expect.soft(exitB2, b2.describe()).toEqual({ code: 0, signal: null });

    const rawDuplicates = eventsB.length - distinctIds(eventsB).size;
    const summary =
      `crash test: B had printed ${printedAtBlock} windows when it was held back and was killed at ${killPoint}; ` +
      `${printedBeforeKill} windows printed and ${publishedBeforeKill} events on tB then (commit then: ${commitAtKill}); ` +
      `after the restart B printed ${b2.windowLines().length} windows; ` +
      `${eventsB.length} raw events in tB for ${distinctIds(eventsB).size} distinct ids: ${rawDuplicates} raw duplicates ` +
      `(A: ${eventsA.length} raw, ${distinctIds(eventsA).size} distinct)`;
    console.log(summary);

    // B's store, opened here only now that no driftwatch process uses dB (one data directory per process).
    const store = await openStore(storeConfigFromEnv({ ...process.env, CLICKHOUSE_URL: '' }, { dataDir: dataB }));
    let stored: WindowSummary[];
    // Each stored window's details (written after its event): outliers as the event carries them, failed checks.
    type Details = { outliers: DriftEvent['outliers']; failed: DriftEvent['quality_failed']; checks: number };
    const details: Record<string, Details> = {};
    try {
      stored = (await Promise.all(MODELS.map((model) => store.listWindows({ model, from: plan.base - WINDOW_MS, to: plan.base + 20 * WINDOW_MS })))).flat();
      for (const s of stored) {
        const [outliers, quality] = await Promise.all([store.windowOutliers(s.key), store.windowQuality(s.key)]);
        details[windowName(s.key.model, s.key.start)] = {
          outliers: outliers.map((o) => ({ method: o.method, outliers: o.outliers, scored: o.scored, share: o.share })).sort(byMethod),
          failed: quality.filter((q) => q.status === 'failed').map((q) => ({ check: q.check, column: q.column })).sort(byCheck),
          checks: quality.length,
        };
      }
    } finally {
      await store.close();
    }

    // A: an uninterrupted run reports every window once, with the planned verdicts.
    expect(distinctIds(eventsA)).toEqual(expectedIds);
    expect(eventsA).toHaveLength(plan.windows.length);
    const windowsA = byWindow(eventsA);
    for (const w of plan.windows) expect(windowsA.get(windowName(w.model, w.start))![0]!.dataset.drifted_flag, windowName(w.model, w.start)).toBe(w.drifted);

    // B: the same ids, none missing, none extra; one id per window, with A's content (soft: every difference shows).
    const missing = [...expectedIds].filter((id) => !distinctIds(eventsB).has(id)).map((id) => `${id} (${nameOf.get(id)})`);
    const extra = [...distinctIds(eventsB)]
      .filter((id) => !expectedIds.has(id))
      .map((id) => {
        const e = eventsB.find((x) => x.id === id)!;
        return `${id} (${windowName(e.model, e.window.start)}, ${e.window.count} rows, cause ${e.window.cause})`;
      });
    expect.soft({ missing, extra }, `${summary}\n${b1.describe(200)}\n${b2.describe(200)}`).toEqual({ missing: [], extra: [] });
    const windowsB = byWindow(eventsB);
    const contentOf = (m: Map<string, DriftEvent[]>) => new Map([...m].map(([k, list]) => [k, list.map(eventContent)]));
    expect.soft(contentOf(windowsB)).toEqual(contentOf(windowsA));
    for (const [name, list] of windowsB) expect.soft(list, name).toHaveLength(1);
    // A re-published event is the same event (only computed_at may differ).
    for (const e of eventsB) expect.soft(eventContent(e)).toEqual(eventContent(windowsA.get(windowName(e.model, e.window.start))![0]!));

    // B's store: one report per planned window, matching what A's events said.
    type Summary = { rows: number; version: number; drifted: boolean; driftedFeatures: number; tested: number; reference: string; end: number };
    const fromStore: Record<string, Summary> = Object.fromEntries(
      stored.map((s) => [
        windowName(s.key.model, s.key.start),
        { rows: s.rowCount, version: s.version, drifted: s.datasetDrifted, driftedFeatures: s.driftedFeatures, tested: s.testedFeatures, reference: s.referenceId, end: s.key.end },
      ]),
    );
    const fromEventsA: Record<string, Summary> = Object.fromEntries(
      [...windowsA].map(([name, [e]]) => [
        name,
        { rows: e!.window.count, version: e!.window.version, drifted: e!.dataset.drifted_flag, driftedFeatures: e!.dataset.drifted, tested: e!.dataset.tested, reference: e!.reference_id, end: Date.parse(e!.window.end) },
      ]),
    );
    expect.soft(Object.keys(fromStore).sort(), "windows in B's store").toEqual(plan.windows.map((w) => windowName(w.model, w.start)).sort());
    expect.soft(stored, "one report per window in B's store").toHaveLength(Object.keys(fromStore).length);
    expect.soft(fromStore).toEqual(fromEventsA);
    // Their details too (stored after the event, before the commit): the outliers and failed checks A's events carry.
    const detailsFromEventsA: Record<string, Omit<Details, 'checks'>> = Object.fromEntries(
      [...windowsA].map(([name, [e]]) => [name, { outliers: [...e!.outliers].sort(byMethod), failed: [...e!.quality_failed].sort(byCheck) }]),
    );
    expect.soft(Object.fromEntries(Object.entries(details).map(([name, { checks: _, ...d }]) => [name, d]))).toEqual(detailsFromEventsA);
    for (const [name, d] of Object.entries(details)) expect.soft(d.checks, `quality rows of ${name}`).toBeGreaterThan(0);
  }, 240_000);
});
