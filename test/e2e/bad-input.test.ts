/**
 * Bad input does not stop the stream: a seeded, fuzzed mix of malformed records (truncated JSON, wrong types,
 * unknown or missing model, missing, unreadable, far-future or too-old timestamps, binary garbage, oversized
 * records, empty values and tombstones, late records) interleaved with the good telemetry of two models. The
 * service must keep running and stop cleanly, put every bad record on the dead-letter topic exactly once with
 * its origin (`kafka:<topic>/<partition>@<offset>`), its reason code and its original bytes, and still report
 * every good window exactly as if the bad records were not there.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import type { DeadLetter } from '../../src/core/store.js';
import { driftEventId } from '../../src/pipeline/window-report.js';
import { openStore, storeConfigFromEnv } from '../../src/store/index.js';
import { createTopic, uniqueTopic } from '../kafka/broker.js';
import {
  alignedBase,
  byWindow,
  createReferences,
  distinctIds,
  driftEvents,
  Driftwatch,
  featureRows,
  lastWindowsReported,
  makePlan,
  produce,
  ROWS_PER_WINDOW,
  seeded,
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

const suite = e2eSuite('bad');

const MODELS = ['press-a', 'press-b'];
const CLEAN = 2;
const DRIFTED = 2;
const MAX_RECORD_BYTES = 4096;
const BAD_RECORDS = 64;
const SEED = 20_261_123;





interface BadRecord {
  readonly kind: string;
  /** The reason code the dead letter must carry. */
  readonly code: string;
  /** The bytes produced (null: a tombstone). */
  readonly value: Buffer | null;
  /** Late records must come after their window closed: the earliest position (index among good records). */
  readonly after: number;
}

/** One bad record of each kind in turn, with seeded variations. `now` is the wall clock at generation. */
function badRecords(rnd: () => number, count: number, base: number, now: number): BadRecord[] {
  const rows = featureRows('reference.csv');
  const pick = <T>(list: ReadonlyArray<T>): T => list[Math.floor(rnd() * list.length)]!;
  const model = () => pick(MODELS);
  const ts = () => base + Math.floor(rnd() * 4 * WINDOW_MS);
  const good = () => ({ model: model(), ts: ts(), features: { ...pick(rows) } });
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const kinds: Array<() => Omit<BadRecord, 'after'> & { after?: number }> = [
    () => {
      const text = JSON.stringify(good());
      return { kind: 'truncated JSON', code: 'bad_json', value: Buffer.from(text.slice(0, 1 + Math.floor(rnd() * (text.length - 2)))) };
    },
    () => {
      const r = good();
      const feature = pick(['temp_c', 'pressure_bar', 'vibration_mm_s', 'cycle_time_s']);
      (r.features as Record<string, unknown>)[feature] = pick(['hot', '12.5', true, { v: 1 }, [1, 2]]);
      return { kind: 'wrong type (numerical)', code: 'wrong_type', value: json(r) };
    },
    () => {
      const r = good();
      (r.features as Record<string, unknown>)['line'] = pick([{ line: 'A' }, ['A', 'B']]);
      return { kind: 'wrong type (categorical)', code: 'wrong_type', value: json(r) };
    },
    () => ({ kind: 'features not an object', code: 'wrong_type', value: json({ ...good(), features: pick(['temp_c=80', 42, [80.1, 6.0]]) }) }),
    () => ({ kind: 'unknown model', code: 'unknown_model', value: json({ ...good(), model: `press-${Math.floor(rnd() * 1e6)}` }) }),
    () => {
      const { model: _model, ...rest } = good();
      return { kind: 'missing model', code: 'missing_model', value: json(pick([rest, { ...rest, model: '' }, { ...rest, model: 7 }])) };
    },
    () => ({ kind: 'not an object', code: 'not_an_object', value: Buffer.from(pick(['42', '"press-a"', 'null', 'true'])) }),
    () => {
      const { ts: _ts, ...rest } = good();
      return { kind: 'missing ts', code: 'missing_timestamp', value: json(pick([rest, { ...rest, ts: null }])) };
    },
    () => ({ kind: 'unreadable ts', code: 'bad_timestamp', value: json({ ...good(), ts: pick(['yesterday', '2026-11-02 10:00:00', { t: 1 }, true]) }) }),
    () => ({ kind: 'far-future ts', code: 'timestamp_in_future', value: json({ ...good(), ts: now + 2 * 3_600_000 + Math.floor(rnd() * 5 * 365 * 86_400_000) }) }),
    () => ({ kind: 'too-old ts', code: 'timestamp_too_old', value: json({ ...good(), ts: now - 40 * 86_400_000 - Math.floor(rnd() * 365 * 86_400_000) }) }),
    () => {
      // Not JSON, and not read as a JSON array either: the first byte is never '[' or whitespace.
      const bytes = Buffer.alloc(1 + Math.floor(rnd() * 300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
      bytes[0] = 0x80 + Math.floor(rnd() * 0x80);
      return { kind: 'binary garbage', code: 'bad_json', value: bytes };
    },
    () => {
      const r = good();
      const pad = 'x'.repeat(MAX_RECORD_BYTES + Math.floor(rnd() * 4 * MAX_RECORD_BYTES));
      return { kind: 'oversized', code: 'oversized', value: json({ ...r, features: { ...r.features, note: pad } }) };
    },
    () => ({ kind: 'empty value', code: 'bad_json', value: Buffer.alloc(0) }),
    () => ({ kind: 'tombstone (null value)', code: 'bad_json', value: null }),
    () => {
      // A good record of the first window, placed after the second window's records began: the watermark has
      // passed the first window's end and its lateness (0) is over.
      const r = { model: model(), ts: base + Math.floor(rnd() * WINDOW_MS), features: { ...pick(rows) } };
      return { kind: 'late', code: 'late', value: json(r), after: 2 * MODELS.length * ROWS_PER_WINDOW + MODELS.length };
    },
  ];
  const out: BadRecord[] = [];
  for (let i = 0; i < count; i++) {
    const r = kinds[i % kinds.length]!();
    out.push({ ...r, after: r.after ?? 0 });
  }
  // Seeded shuffle, then each gets a position among the good records.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('driftwatch run, bad input', () => {
  it('dead-letters every bad record once, with its origin and reason, and reports every good window', async () => {
    const dir = join(suite.tmp, 'bad');
    const dataDir = join(dir, 'data');
    const csv = writeReferenceCsv(suite.tmp);
    const config = writeConfig(dir, { models: MODELS, maxRecordBytes: MAX_RECORD_BYTES });
    const refs = await createReferences(dataDir, MODELS, csv);

    const telemetry = uniqueTopic('bad-telemetry');
    const events = uniqueTopic('bad-events');
    const dead = uniqueTopic('bad-dead');
    await Promise.all([telemetry, events, dead].map((t) => createTopic(suite.brokers, t, 1)));

    const plan = makePlan({ models: MODELS, clean: CLEAN, drifted: DRIFTED, base: alignedBase(), seed: 4 });
    const rnd = seeded(SEED);
    const bad = badRecords(rnd, BAD_RECORDS, plan.base, Date.now());
    // Interleave: each bad record goes before a random good record at or after its earliest position.
    const slots = new Map<number, BadRecord[]>();
    for (const b of bad) {
      const at = b.after + Math.floor(rnd() * (plan.records.length - b.after));
      slots.set(at, [...(slots.get(at) ?? []), b]);
    }
    const messages: Array<Message & { bad?: BadRecord }> = [];
    plan.records.forEach((r, i) => {
      for (const b of slots.get(i) ?? []) messages.push({ key: 'fuzz', value: b.value, bad: b });
      messages.push({ key: r.model, value: r.value });
    });
    expect(messages.filter((m) => m.bad)).toHaveLength(BAD_RECORDS);

    // One partition, one suite.producer, sends in order: a message's offset is its send's base offset plus its index.
    const CHUNK = 500;
    const origins = new Map<string, BadRecord>();
    for (let i = 0; i < messages.length; i += CHUNK) {
      const chunk = messages.slice(i, i + CHUNK);
      const [meta] = await produce(suite.producer, telemetry, chunk.map(({ key, value }) => ({ key, value })), CHUNK);
      const baseOffset = BigInt(meta!.baseOffset!);
      chunk.forEach((m, k) => {
        if (m.bad) origins.set(`kafka:${telemetry}/0@${baseOffset + BigInt(k)}`, m.bad);
      });
    }
    expect(origins.size).toBe(BAD_RECORDS);

    const dw = Driftwatch.start({ name: 'bad', dir, config, dataDir, brokers: suite.brokers, groupId: uniqueTopic('bad-group'), telemetry: [telemetry], driftEvents: events, deadLetters: dead });
    const [eventReader, deadReader] = await Promise.all([TopicReader.start(suite.brokers, events, uniqueTopic('bad-events-reader')), TopicReader.start(suite.brokers, dead, uniqueTopic('bad-dead-reader'))]);
    suite.readers.push(eventReader, deadReader);

    const lastOut = lastWindowsReported(plan);
    await waitForEvents(eventReader, plan.windows.length, 120_000, 0, () => dw.describe(), (e) => lastOut(e) || !dw.running);
    await waitFor(`${BAD_RECORDS} dead letters on ${dead}`, () => deadReader.messages.length >= BAD_RECORDS || !dw.running, 60_000, () => dw.describe());
    await sleep(2000); // anything published twice would show up by now
    const letters = [...deadReader.messages];
    const finalEvents = driftEvents(eventReader);

    // Still running, and a clean stop.
    expect(dw.running, dw.describe()).toBe(true);
    const exit = await dw.stop();
    expect(exit, dw.describe()).toEqual({ code: 0, signal: null });

    // Every good window, once, with its verdict and all of its 300 rows (bad records took none of them).
    const windows = byWindow(finalEvents);
    expect(distinctIds(finalEvents)).toEqual(
      new Set(plan.windows.map((w) => driftEventId({ model: w.model, segment: {}, start: w.start, end: w.end }, refs.get(w.model)!, ROWS_PER_WINDOW))),
    );
    expect(finalEvents).toHaveLength(plan.windows.length);
    for (const w of plan.windows) {
      const e = windows.get(windowName(w.model, w.start))![0]!;
      expect(e.window.count, windowName(w.model, w.start)).toBe(ROWS_PER_WINDOW);
      expect(e.dataset.drifted_flag, windowName(w.model, w.start)).toBe(w.drifted);
    }

    // Every bad record exactly once by offset, nothing else; origin, reason code, reason and original bytes kept.
    // Letters are matched to records by the partition and offset at the end of their origin, so that a letter whose
    // origin is not spelled `kafka:<topic>/<partition>@<offset>` is still checked for everything else.
    const offsetOf = (origin: string) => /\/(\d+@\d+)$/.exec(origin)?.[1] ?? `(unreadable origin ${JSON.stringify(origin)})`;
    const badAt = new Map([...origins].map(([o, b]) => [offsetOf(o), { origin: o, ...b }]));
    const lettersAt = new Map<string, typeof letters>();
    for (const l of letters) {
      const at = offsetOf(l.headers['driftwatch-origin'] ?? '');
      lettersAt.set(at, [...(lettersAt.get(at) ?? []), l]);
    }
    const what = (at: string) => `${at} (${badAt.get(at)?.kind ?? 'not a bad record'})`;
    expect.soft([...lettersAt].filter(([, list]) => list.length > 1).map(([at, list]) => `${what(at)} x${list.length}`), 'dead letters published more than once').toEqual([]);
    expect.soft([...lettersAt.keys()].filter((at) => !badAt.has(at)).map(what), 'dead letters that are no bad record of the input').toEqual([]);
    expect.soft([...badAt.keys()].filter((at) => !lettersAt.has(at)).map(what), 'bad records without a dead letter').toEqual([]);
    const wrongOrigin = letters.filter((l) => !origins.has(l.headers['driftwatch-origin'] ?? ''));
    expect
      .soft(wrongOrigin.map((l) => `${l.headers['driftwatch-origin']} (${badAt.get(offsetOf(l.headers['driftwatch-origin'] ?? ''))?.kind})`), `origins other than kafka:${telemetry}/0@<offset>`)
      .toEqual([]);
    const wrongBytes: string[] = [];
    for (const l of letters) {
      const b = badAt.get(offsetOf(l.headers['driftwatch-origin'] ?? ''));
      if (!b) continue;
      expect.soft(l.headers['driftwatch-reason-code'], `${b.origin} ${b.kind}`).toBe(b.code);
      expect.soft(l.headers['driftwatch-reason'] ?? '', `${b.origin} ${b.kind}: a readable reason`).not.toBe('');
      expect.soft(l.headers['driftwatch-id'] ?? '', `${b.origin} ${b.kind}: an id`).toMatch(/^dl-[0-9a-f]{16}$/);
      if (!(l.value ?? Buffer.alloc(0)).equals(b.value ?? Buffer.alloc(0))) wrongBytes.push(`${b.origin} ${b.kind}: published ${JSON.stringify((l.value ?? Buffer.alloc(0)).toString('utf8').slice(0, 120))}`);
    }
    expect.soft(wrongBytes, 'dead letters published without the original bytes').toEqual([]);

    // The store keeps the same dead letters (opened now that the service has exited: one process per data dir).
    const store = await openStore(storeConfigFromEnv({ ...process.env, CLICKHOUSE_URL: '' }, { dataDir }));
    let stored: DeadLetter[];
    try {
      stored = await store.listDeadLetters({ limit: 10_000 });
    } finally {
      await store.close();
    }
    expect.soft(stored.map((d) => d.source).sort(), 'dead letters in the store, by origin').toEqual([...origins.keys()].sort());
    expect
      .soft(Object.fromEntries(stored.map((d) => [offsetOf(d.source), d.reasonCode])), 'dead letters in the store, by offset: reason codes')
      .toEqual(Object.fromEntries([...origins].map(([o, b]) => [offsetOf(o), b.code])));
    console.log(`bad input: ${BAD_RECORDS} bad records (${[...new Set(bad.map((b) => b.kind))].length} kinds), ${letters.length} dead letters published, ${stored.length} stored`);
  }, 180_000);

  it('survives a burst of bad records that together outweigh one Kafka request', async () => {
    // 500 unreadable records of ~3.9 KB in a row (each under ingest.max_record_bytes): ~2 MB of dead letters, while
    // a broker accepts about 1 MB per request by default (message.max.bytes). With fetches of up to 4 MiB per
    // partition (kafka.max_bytes_per_partition, a throughput setting) they arrive in one batch of 500 messages.
    const BURST = 500;
    const dir = join(suite.tmp, 'burst');
    const dataDir = join(dir, 'data');
    const csv = writeReferenceCsv(suite.tmp);
    const config = writeConfig(dir, { models: MODELS, maxRecordBytes: MAX_RECORD_BYTES, maxBytesPerPartition: '4MiB' });
    const refs = await createReferences(dataDir, MODELS, csv);

    const telemetry = uniqueTopic('burst-telemetry');
    const events = uniqueTopic('burst-events');
    const dead = uniqueTopic('burst-dead');
    await Promise.all([telemetry, events, dead].map((t) => createTopic(suite.brokers, t, 1)));
    const plan = makePlan({ models: MODELS, clean: 1, drifted: 1, base: alignedBase(), seed: 5 });
    const rnd = seeded(SEED + 1);
    const burst = Array.from({ length: BURST }, (_, i) => {
      // A record cut short: `{"model":"press-a","ts":...,"features":{"note":"xxx...` never closes.
      const head = JSON.stringify({ model: MODELS[i % MODELS.length], ts: plan.base + Math.floor(rnd() * 2 * WINDOW_MS), features: { note: '' } }).slice(0, -3);
      return Buffer.from(head + 'x'.repeat(3900 - head.length));
    });
    // The burst goes right after the first window's records.
    const at = MODELS.length * ROWS_PER_WINDOW;
    const messages: Message[] = [
      ...plan.records.slice(0, at).map((r) => ({ key: r.model, value: r.value })),
      ...burst.map((value) => ({ key: 'burst', value })),
      ...plan.records.slice(at).map((r) => ({ key: r.model, value: r.value })),
    ];
    // Requests of 200 messages: under 1 MB each.
    await produce(suite.producer, telemetry, messages, 200);
    const burstOrigins = new Set(burst.map((_, i) => `kafka:${telemetry}/0@${at + i}`));

    const dw = Driftwatch.start({ name: 'burst', dir, config, dataDir, brokers: suite.brokers, groupId: uniqueTopic('burst-group'), telemetry: [telemetry], driftEvents: events, deadLetters: dead });
    const [eventReader, deadReader] = await Promise.all([TopicReader.start(suite.brokers, events, uniqueTopic('burst-events-reader')), TopicReader.start(suite.brokers, dead, uniqueTopic('burst-dead-reader'))]);
    suite.readers.push(eventReader, deadReader);
    const lastOut = lastWindowsReported(plan);
    await waitForEvents(eventReader, plan.windows.length, 120_000, 0, () => dw.describe(), (e) => lastOut(e) || !dw.running);
    await waitFor(`${BURST} dead letters on ${dead}`, () => deadReader.messages.length >= BURST || !dw.running, 60_000, () => dw.describe());
    await sleep(2000);

    expect(dw.running, `the service died:\n${dw.describe()}`).toBe(true);
    const exit = await dw.stop();
    expect(exit, dw.describe()).toEqual({ code: 0, signal: null });
    const letters = deadReader.messages.map((l) => l.headers['driftwatch-origin'] ?? '');
    expect(letters.sort()).toEqual([...burstOrigins].sort());
    expect(new Set(deadReader.messages.map((l) => l.headers['driftwatch-reason-code']))).toEqual(new Set(['bad_json']));
    const got = driftEvents(eventReader);
    expect(distinctIds(got)).toEqual(
      new Set(plan.windows.map((w) => driftEventId({ model: w.model, segment: {}, start: w.start, end: w.end }, refs.get(w.model)!, ROWS_PER_WINDOW))),
    );
  }, 180_000);
});
