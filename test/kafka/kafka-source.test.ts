/**
 * The Kafka source against a real broker (one per run, from test/kafka/global-setup.ts): consuming, committing
 * checkpoints with metadata, resuming from them after a restart and after a rebalance, pause and resume, rewind.
 *
 * Every handler here checks the source's contract as it goes (see `Recorder`): no batch of a partition it does not
 * own, the first batch after `onAssigned` starts at the checkpoint, then offsets follow one another without gaps or
 * repeats (the test topics have no compaction and no transactions, so offsets are dense).
 */
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { Checkpoint, PartitionId, Source, SourceBatch, SourceHandler } from '../../src/core/stream.js';
import { createKafkaSource, type KafkaSourceOptions } from '../../src/sources/kafka.js';
import { createTopic, uniqueTopic, waitForBroker } from './broker.js';

const brokers = inject('kafkaBrokers');
const logDir = inject('kafkaLogDir');
const kafkaError = inject('kafkaError');

/** Small timeouts so that rebalances take well under a second (the broker's minimum session timeout is 6 s). */
const FAST = { sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200 } as const;

let kafka: Kafka;
let producer: Producer;
let admin: Admin;
const sources: Source[] = [];
const kafkaLines: string[] = [];

beforeAll(async () => {
  if (kafkaError) throw new Error(kafkaError);
  await waitForBroker(brokers, { timeoutMs: 60_000, logDir });
  kafka = new Kafka({ clientId: 'source-test', brokers: [brokers], logLevel: logLevel.WARN });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  return async () => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  };
}, 70_000);

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

function source(options: Partial<KafkaSourceOptions> & Pick<KafkaSourceOptions, 'groupId' | 'topics'>): Source {
  const s = createKafkaSource({
    brokers: [brokers],
    clientId: `test-${options.groupId}`,
    log: (level, message) => kafkaLines.push(`${level} ${message}`),
    ...FAST,
    ...options,
  });
  sources.push(s);
  return s;
}

async function produce(topic: string, partition: number, count: number, headers?: Record<string, string>): Promise<void> {
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: count }, (_, i) => ({ partition, value: JSON.stringify({ p: partition, i }), ...(headers ? { headers } : {}) })),
  });
}

async function committed(groupId: string, topic: string): Promise<Map<number, { offset: string; metadata: string | null }>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, { offset: p.offset, metadata: p.metadata }]));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${kafkaLines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checkpoints committed through any source, by partition: what the next `onAssigned` must carry. */
type CommitLog = Map<PartitionId, Checkpoint>;

type Event =
  | { readonly type: 'assigned'; readonly seq: number; readonly partitions: ReadonlyArray<{ partition: PartitionId; checkpoint: Checkpoint | null }> }
  | { readonly type: 'revoked'; readonly seq: number; readonly partitions: ReadonlyArray<PartitionId> }
  | { readonly type: 'batch'; readonly seq: number; readonly partition: PartitionId; readonly offsets: ReadonlyArray<bigint> };

let seq = 0;

/**
 * A handler that records what it sees and checks the contract. `commitPolicy` decides, per delivered batch, which
 * checkpoint to commit (awaited inside `onBatch`, as a pipeline that commits after each batch would).
 */
class Recorder implements SourceHandler {
  readonly events: Event[] = [];
  readonly violations: string[] = [];
  readonly owned = new Map<PartitionId, bigint | null>();
  /** Every message offset delivered, by partition (repeats included). */
  readonly delivered = new Map<PartitionId, bigint[]>();
  readonly batches: SourceBatch[] = [];
  source: Source | null = null;

  constructor(
    readonly name: string,
    private readonly commits: CommitLog = new Map(),
    private readonly commitPolicy: ((batch: SourceBatch) => bigint | null) | null = null,
    /** Runs inside `onBatch`, after the checks and before the commit. */
    private readonly hook: ((batch: SourceBatch) => Promise<void>) | null = null,
  ) {}

  async onAssigned(partitions: ReadonlyArray<{ partition: PartitionId; checkpoint: Checkpoint | null }>): Promise<void> {
    this.events.push({ type: 'assigned', seq: ++seq, partitions });
    for (const { partition, checkpoint } of partitions) {
      if (this.owned.has(partition)) this.violations.push(`${this.name}: ${partition} assigned twice without a revoke`);
      const last = this.commits.get(partition) ?? null;
      if (last === null ? checkpoint !== null : checkpoint?.offset !== last.offset || checkpoint.metadata !== last.metadata) {
        this.violations.push(`${this.name}: ${partition} assigned with ${fmt(checkpoint)}, last commit ${fmt(last)}`);
      }
      this.owned.set(partition, checkpoint?.offset ?? 0n);
    }
  }

  async onRevoked(partitions: ReadonlyArray<PartitionId>): Promise<void> {
    this.events.push({ type: 'revoked', seq: ++seq, partitions });
    for (const p of partitions) {
      if (!this.owned.delete(p)) this.violations.push(`${this.name}: ${p} revoked but not owned`);
    }
  }

  async onBatch(batch: SourceBatch) {
    const offsets = batch.messages.map((m) => m.offset);
    this.events.push({ type: 'batch', seq: ++seq, partition: batch.partition, offsets });
    this.batches.push(batch);
    if (!this.owned.has(batch.partition)) this.violations.push(`${this.name}: batch of ${batch.partition}, which it does not own`);
    const expected = this.owned.get(batch.partition) ?? null;
    offsets.forEach((offset, i) => {
      const want = expected === null ? null : expected + BigInt(i);
      if (want !== null && offset !== want) this.violations.push(`${this.name}: ${batch.partition} got offset ${offset}, expected ${want}`);
    });
    if (offsets.length > 0) this.owned.set(batch.partition, offsets[offsets.length - 1]! + 1n);
    this.delivered.set(batch.partition, [...(this.delivered.get(batch.partition) ?? []), ...offsets]);
    await this.hook?.(batch);
    const commitAt = this.commitPolicy?.(batch) ?? null;
    if (commitAt !== null && this.source) {
      const checkpoint: Checkpoint = { partition: batch.partition, offset: commitAt, metadata: `${this.name}:${commitAt}` };
      await this.source.commit([checkpoint]);
      this.commits.set(batch.partition, checkpoint);
    }
    return { accepted: batch.messages.length, rejected: [], rejectedCount: 0 };
  }

  count(partition?: PartitionId): number {
    if (partition !== undefined) return this.delivered.get(partition)?.length ?? 0;
    return [...this.delivered.values()].reduce((n, o) => n + o.length, 0);
  }

  lastAssigned(): ReadonlyArray<{ partition: PartitionId; checkpoint: Checkpoint | null }> {
    const last = [...this.events].reverse().find((e) => e.type === 'assigned');
    return last?.type === 'assigned' ? last.partitions : [];
  }
}

function fmt(c: Checkpoint | null): string {
  return c === null ? 'none' : `${c.offset}/${c.metadata}`;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => BigInt(from + i));

describe('kafka source', () => {
  it('consumes three partitions, tells JSON from Arrow, and commits checkpoints with metadata', async () => {
    const topic = uniqueTopic('src-basic');
    await createTopic(brokers, topic, 3);
    for (const p of [0, 1, 2]) await produce(topic, p, 10);
    await produce(topic, 1, 1, { 'content-type': 'application/vnd.apache.arrow.stream' });
    const groupId = uniqueTopic('g-basic');
    const rec = new Recorder('A');
    const s = source({ groupId, topics: [{ topic, kind: 'prediction' }] });
    rec.source = s;
    const before = Date.now();
    await s.start(rec);
    await waitFor('31 messages', () => rec.count() === 31);

    expect(rec.violations).toEqual([]);
    const assigned = rec.events.filter((e) => e.type === 'assigned');
    expect(assigned).toHaveLength(1);
    expect(rec.lastAssigned()).toEqual([0, 1, 2].map((p) => ({ partition: `${topic}/${p}`, checkpoint: null })));
    for (const p of [0, 1, 2]) expect(rec.delivered.get(`${topic}/${p}`)).toEqual(range(0, p === 1 ? 11 : 10));
    const messages = rec.batches.flatMap((b) => b.messages);
    const arrow = messages.filter((m) => m.format === 'arrow');
    expect(arrow.map((m) => m.origin)).toEqual([`kafka:${topic}/1@10`]);
    const m = messages.find((x) => x.partition === `${topic}/2` && x.offset === 3n)!;
    expect(m).toMatchObject({ format: 'json', kind: 'prediction', origin: `kafka:${topic}/2@3` });
    expect(JSON.parse(Buffer.from(m.value).toString('utf8'))).toEqual({ p: 2, i: 3 });
    expect(m.receivedAt).toBeGreaterThanOrEqual(before);
    expect(m.receivedAt).toBeLessThanOrEqual(Date.now());
    expect(s.description).toBe(`kafka:${brokers}`);
    // Each batch carries its partition's end offset (the consumer lag is measured from it).
    for (const b of rec.batches) expect(b.highWatermark).toBe(b.partition === `${topic}/1` ? 11n : 10n);

    const metadata = JSON.stringify({ watermark: 1_700_000_000_000, read: { p0: 10 } });
    await s.commit([
      { partition: `${topic}/0`, offset: 10n, metadata },
      { partition: `${topic}/1`, offset: 4n, metadata: 'four' },
      { partition: `${topic}/2`, offset: 0n, metadata: '' },
    ]);
    const c = await committed(groupId, topic);
    expect(c.get(0)).toEqual({ offset: '10', metadata });
    expect(c.get(1)).toEqual({ offset: '4', metadata: 'four' });
    expect(c.get(2)?.offset).toBe('0');
    expect(c.get(2)?.metadata ?? '').toBe('');
    // A partition it does not own is not committed.
    await s.commit([{ partition: `${topic}/7`, offset: 1n, metadata: 'x' }]);
    expect((await committed(groupId, topic)).has(7)).toBe(false);
  });

  it('resumes after a restart exactly at the committed checkpoints, with their metadata', async () => {
    const topic = uniqueTopic('src-restart');
    await createTopic(brokers, topic, 3);
    for (const p of [0, 1, 2]) await produce(topic, p, 10);
    const groupId = uniqueTopic('g-restart');
    const commits: CommitLog = new Map();

    const first = new Recorder('first', commits);
    const s1 = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    await s1.start(first);
    await waitFor('30 messages', () => first.count() === 30);
    const checkpoints: Checkpoint[] = [
      { partition: `${topic}/0`, offset: 4n, metadata: 'wm=4' },
      { partition: `${topic}/1`, offset: 7n, metadata: '{"wm":7}' },
      { partition: `${topic}/2`, offset: 10n, metadata: 'wm=10' },
    ];
    await s1.commit(checkpoints);
    for (const c of checkpoints) commits.set(c.partition, c);
    await s1.stop();
    await s1.stop(); // idempotent

    for (const p of [0, 1, 2]) await produce(topic, p, 5);
    const second = new Recorder('second', commits);
    const s2 = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    await s2.start(second);
    await waitFor('the rest', () => second.count() === 6 + 3 + 0 + 15);

    expect(first.violations).toEqual([]);
    expect(second.violations).toEqual([]);
    expect(second.lastAssigned()).toEqual(checkpoints.map((checkpoint) => ({ partition: checkpoint.partition, checkpoint })));
    // The first batch of each partition starts at its checkpoint; nothing before it, nothing twice, nothing missing.
    for (const c of checkpoints) {
      const firstBatch = second.batches.find((b) => b.partition === c.partition)!;
      expect(firstBatch.messages[0]!.offset).toBe(c.offset);
      expect(second.delivered.get(c.partition)).toEqual(range(Number(c.offset), 15));
    }
  });

  it('hands partitions over between two members: each resumes at the last checkpoint, every message after it goes to one owner', async () => {
    const topic = uniqueTopic('src-group');
    await createTopic(brokers, topic, 4);
    const partitions = [0, 1, 2, 3].map((p) => `${topic}/${p}`);
    for (const p of [0, 1, 2, 3]) await produce(topic, p, 10);
    const groupId = uniqueTopic('g-group');
    const commits: CommitLog = new Map();
    // Commit half-way through each batch: the second half is processed but not committed, so a new owner re-reads it.
    const halfway = (b: SourceBatch) => b.messages[Math.floor(b.messages.length / 2)]!.offset;
    const a = new Recorder('A', commits, halfway);
    const b = new Recorder('B', commits, halfway);
    const sa = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    const sb = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    a.source = sa;
    b.source = sb;

    await sa.start(a);
    await waitFor('A reads all 40', () => a.count() === 40);
    await sb.start(b);
    await waitFor('A and B share the partitions', () => a.owned.size === 2 && b.owned.size === 2);
    for (const p of [0, 1, 2, 3]) await produce(topic, p, 10);
    const caughtUp = (r: Recorder) => [...r.owned.entries()].every(([, next]) => next === 20n);
    await waitFor('both owners at offset 20', () => caughtUp(a) && caughtUp(b));

    const movedFromB = [...b.owned.keys()].sort();
    await sb.stop(); // waits for the batch in hand, and its commit
    const lastOfB = movedFromB.map((p) => commits.get(p)!);
    expect(lastOfB.every((c) => c.metadata.startsWith('B:'))).toBe(true);
    await waitFor('A owns all four', () => a.owned.size === 4);
    for (const p of [0, 1, 2, 3]) await produce(topic, p, 10);
    await waitFor('A at offset 30 everywhere', () => caughtUp4(a));

    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    // A's last assignment carries B's last checkpoints for the partitions that moved.
    const finalAssignment = a.lastAssigned();
    expect(finalAssignment.map((x) => x.partition).sort()).toEqual(partitions);
    for (const c of lastOfB) expect(finalAssignment.find((x) => x.partition === c.partition)?.checkpoint).toEqual(c);
    // After that assignment, every message from the checkpoint on reached A exactly once, and B nothing more.
    const handover = [...a.events].reverse().find((e) => e.type === 'assigned')!.seq;
    for (const { partition, checkpoint } of finalAssignment) {
      const after = a.events.filter((e): e is Extract<Event, { type: 'batch' }> => e.type === 'batch' && e.seq > handover && e.partition === partition);
      expect(after.flatMap((e) => e.offsets)).toEqual(range(Number(checkpoint!.offset), 30));
      expect(b.events.some((e) => e.type === 'batch' && e.seq > handover)).toBe(false);
    }
    // Ownership never overlapped: for each partition, the deliveries of A and B form runs, each starting at the
    // checkpoint of that owner's assignment (checked by the recorders) and never interleaving within a generation.
    for (const partition of partitions) {
      const timeline = [...a.events.map((e) => ({ who: 'A', e })), ...b.events.map((e) => ({ who: 'B', e }))]
        .filter(({ e }) => e.type === 'batch' && e.partition === partition)
        .sort((x, y) => x.e.seq - y.e.seq);
      const owners = timeline.map((t) => t.who).filter((w, i, all) => i === 0 || all[i - 1] !== w);
      expect(owners.length).toBeLessThanOrEqual(3); // A, then maybe B, then A again
    }
    // Every produced message was delivered at least once.
    for (const partition of partitions) {
      const all = new Set([...(a.delivered.get(partition) ?? []), ...(b.delivered.get(partition) ?? [])]);
      expect(all.size).toBe(30);
    }

    function caughtUp4(r: Recorder) {
      return r.owned.size === 4 && [...r.owned.values()].every((next) => next === 30n);
    }
  });

  it('a seek still pending at a rebalance does not leak into the next assignment: the first batch starts at the checkpoint', async () => {
    // kafkajs keeps `seek` positions across a rebalance and applies them when the partition is assigned again, even
    // though its committed offset changed meanwhile. A rewind right before a rebalance leaves such a seek behind.
    const topic = uniqueTopic('src-stale-seek');
    await createTopic(brokers, topic, 2);
    const partitions = [`${topic}/0`, `${topic}/1`];
    for (const p of [0, 1]) await produce(topic, p, 10);
    const groupId = uniqueTopic('g-stale-seek');
    const commits: CommitLog = new Map();
    let trap = false;
    const sa = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    const sb = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    const b = new Recorder('B', commits, (batch) => batch.messages[batch.messages.length - 1]!.offset + 1n);
    b.source = sb;
    let bStarted: Promise<void> | null = null;
    const a = new Recorder(
      'A',
      commits,
      (batch) => (trap ? null : batch.messages[batch.messages.length - 1]!.offset + 1n),
      async () => {
        if (!trap || bStarted) return;
        // Rewind every partition, then make the group rebalance before this member fetches again: B joins while
        // this batch is still being handled, and the handler outlasts a heartbeat interval, so kafkajs's heartbeat
        // right after the batch fails with REBALANCE_IN_PROGRESS and it rejoins without applying the seeks.
        for (const p of [...a.owned.keys()]) {
          await sa.rewind(p, 0n);
          a.owned.set(p, 0n);
        }
        bStarted = sb.start(b);
        await sleep(1200);
      },
    );
    a.source = sa;
    await sa.start(a);
    await waitFor('A reads 20', () => a.count() === 20);
    await waitFor('A committed both', () => partitions.every((p) => commits.get(p)?.offset === 10n));

    trap = true;
    await produce(topic, 0, 1);
    await waitFor('B joins', () => bStarted !== null && b.owned.size === 1 && a.owned.size === 1, 20_000);
    await bStarted;
    await waitFor('A caught up with what it keeps', () => [...a.owned.values()].every((next) => next === (a.owned.has(`${topic}/0`) ? 11n : 10n)));
    trap = false;
    await sb.stop();
    await waitFor('A owns both again', () => a.owned.size === 2);
    for (const p of [0, 1]) await produce(topic, p, 2);
    await waitFor('A at the end of both', () => a.owned.get(`${topic}/0`) === 13n && a.owned.get(`${topic}/1`) === 12n);

    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    // The source noticed kafkajs starting at the stale seek and moved it to the checkpoint.
    expect(kafkaLines.filter((l) => l.includes(' starts at 0, expected ')).length).toBeGreaterThan(0);
  });

  it('pause stops delivery of a partition, resume continues where it stopped', async () => {
    const topic = uniqueTopic('src-pause');
    await createTopic(brokers, topic, 2);
    for (const p of [0, 1]) await produce(topic, p, 5);
    const groupId = uniqueTopic('g-pause');
    const rec = new Recorder('A');
    const s = source({ groupId, topics: [{ topic, kind: 'telemetry' }] });
    await s.start(rec);
    await waitFor('10 messages', () => rec.count() === 10);

    s.pause([`${topic}/0`]);
    for (const p of [0, 1]) await produce(topic, p, 5);
    await waitFor('partition 1 goes on', () => rec.count(`${topic}/1`) === 10);
    await sleep(1000); // several fetches (maxWaitTime 200 ms)
    expect(rec.count(`${topic}/0`)).toBe(5);

    s.resume([`${topic}/0`]);
    await waitFor('partition 0 resumes', () => rec.count(`${topic}/0`) === 10);
    expect(rec.delivered.get(`${topic}/0`)).toEqual(range(0, 10));
    expect(rec.violations).toEqual([]);
    expect(() => s.pause(['not-a-topic/0'])).toThrow(/not a partition of a configured topic/);
  });

  it('a batch whose onBatch fails is delivered again from the same offset', async () => {
    const topic = uniqueTopic('src-retry');
    await createTopic(brokers, topic, 1);
    await produce(topic, 0, 6);
    const rec = new Recorder('A');
    const failedAt: bigint[] = [];
    const flaky: SourceHandler = {
      onAssigned: (p) => rec.onAssigned(p),
      onRevoked: (p) => rec.onRevoked(p),
      onBatch: async (batch) => {
        if (failedAt.length === 0 && batch.messages.some((m) => m.offset >= 6n)) {
          failedAt.push(batch.messages[0]!.offset);
          throw new Error('sink unavailable');
        }
        return rec.onBatch(batch);
      },
    };
    const s = source({ groupId: uniqueTopic('g-retry'), topics: [{ topic, kind: 'telemetry' }] });
    await s.start(flaky);
    await waitFor('6 messages', () => rec.count() === 6);
    await produce(topic, 0, 4);
    await waitFor('the failed batch again', () => rec.count() === 10);
    expect(failedAt).toEqual([6n]);
    expect(rec.delivered.get(`${topic}/0`)).toEqual(range(0, 10));
    expect(rec.violations).toEqual([]);
  });

  it('an onAssigned that fails is revoked and tried again before any batch is delivered', async () => {
    const topic = uniqueTopic('src-assign-retry');
    await createTopic(brokers, topic, 2);
    for (const p of [0, 1]) await produce(topic, p, 3);
    const rec = new Recorder('A');
    let failures = 0;
    const flaky: SourceHandler = {
      onAssigned: async (p) => {
        await rec.onAssigned(p);
        if (failures++ === 0) throw new Error('state store unavailable');
      },
      onRevoked: (p) => rec.onRevoked(p),
      onBatch: (batch) => rec.onBatch(batch),
    };
    const s = source({ groupId: uniqueTopic('g-assign-retry'), topics: [{ topic, kind: 'telemetry' }] });
    await s.start(flaky);
    await waitFor('6 messages', () => rec.count() === 6);
    expect(failures).toBe(2);
    const types = rec.events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['assigned', 'revoked', 'assigned']);
    expect(types.slice(3).every((t) => t === 'batch')).toBe(true);
    expect(rec.violations).toEqual([]);
    expect(kafkaLines.some((l) => l.includes('state store unavailable'))).toBe(true);
  });

  it('rewind re-delivers a partition from an earlier offset', async () => {
    const topic = uniqueTopic('src-rewind');
    await createTopic(brokers, topic, 1);
    await produce(topic, 0, 8);
    const rec = new Recorder('A');
    const s = source({ groupId: uniqueTopic('g-rewind'), topics: [{ topic, kind: 'label' }] });
    await s.start(rec);
    await waitFor('8 messages', () => rec.count() === 8);
    rec.owned.set(`${topic}/0`, 3n); // what the handler expects after the rewind
    await s.rewind(`${topic}/0`, 3n);
    await waitFor('re-delivery', () => rec.count() === 13);
    expect(rec.delivered.get(`${topic}/0`)).toEqual([...range(0, 8), ...range(3, 8)]);
    expect(rec.batches.every((b) => b.messages.every((m) => m.kind === 'label'))).toBe(true);
    expect(rec.violations).toEqual([]);
    await expect(s.rewind(`${topic}/5`, 0n)).rejects.toThrow(/not owned/);
  });
});
