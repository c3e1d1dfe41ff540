/**
 * The Kafka source: a kafkajs consumer group behind the `Source` port (`../core/stream.ts`).
 *
 * kafkajs 2.2.4 facts this adapter is built on (read from its source; the behaviour checked against real Kafka 3.9.1
 * and 4.1.0 brokers, see test/kafka/kafka-source.test.ts):
 * - Rebalances are eager: every member rejoins, and after every join kafkajs drops its in-memory positions and
 *   resumes each assigned partition, kept or new, from the offset committed in the group (or from the beginning or
 *   end when nothing was committed). Offsets resolved but not committed are re-delivered.
 * - There are no assign/revoke callbacks; the `GROUP_JOIN` instrumentation event is emitted synchronously after
 *   JoinGroup+SyncGroup and before the first fetch of the new generation. Batches of the old generation are all
 *   handled before the rejoin.
 * - `consumer.seek` only records the position; kafkajs applies it at the partition's next fetch and it survives a
 *   rebalance (a partition that comes back later would start at an old seek), hence the gate on the first batch.
 * - With `autoCommit: false` nothing is committed unless `commitOffsets` is called with explicit offsets; a commit
 *   refused with REBALANCE_IN_PROGRESS/ILLEGAL_GENERATION/UNKNOWN_MEMBER_ID is not retried (kafkajs marks those
 *   errors non-retriable).
 *
 * So the rule here: on every `GROUP_JOIN` the handler gets `onRevoked(everything owned before)` then
 * `onAssigned(everything owned now, with the committed checkpoints)`; batches wait for that; the first batch of a
 * partition must start at the checkpoint, otherwise it is dropped and the consumer seeks to the checkpoint.
 *
 * Consequences for the handler: state built since the last commit is thrown away at every rebalance, even for
 * partitions this member keeps (the messages are delivered again from the checkpoint). `commit` ignores partitions
 * not owned at that moment, including from inside `onRevoked`: by the time kafkajs reports a rebalance the new
 * generation exists and another member may already read from the previous checkpoint. A commit refused because the
 * group is rebalancing resolves without committing (the revoke that follows makes it moot). `stop` does not call
 * `onRevoked`. A stopped source cannot be started again.
 */
import {
  Kafka,
  logLevel as KafkaLogLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type KafkaConfig,
  type KafkaMessage,
  type LogEntry,
  type SASLOptions,
} from 'kafkajs';
import type { Checkpoint, PartitionId, PayloadFormat, Source, SourceHandler, SourceMessage } from '../core/stream.js';

export type KafkaTopicKind = 'telemetry' | 'prediction' | 'label';
export type KafkaLogLevelName = 'info' | 'warn' | 'error';
export type KafkaLog = (level: KafkaLogLevelName, message: string) => void;

export interface KafkaSasl {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** What every Kafka client of driftwatch needs to connect. */
export interface KafkaClientOptions {
  readonly brokers: ReadonlyArray<string>;
  readonly clientId: string;
  readonly ssl?: boolean;
  readonly sasl?: KafkaSasl;
  /** Where kafkajs's own log lines go (and the adapter's). Default: stderr. */
  readonly log?: KafkaLog;
  /** The least severe kafkajs log level passed to `log` (default 'warn'). */
  readonly kafkaLogLevel?: KafkaLogLevelName;
}

export interface KafkaSourceOptions extends KafkaClientOptions {
  readonly groupId: string;
  readonly topics: ReadonlyArray<{ readonly topic: string; readonly kind: KafkaTopicKind }>;
  /** Where a partition without a committed offset starts (default true: the beginning). */
  readonly fromBeginning?: boolean;
  /** Bytes fetched per partition and request (kafkajs default 1 MiB): bounds a batch in bytes. */
  readonly maxBytesPerPartition?: number;
  /** Messages per `onBatch` call at most (default 500): a fetched batch is handed over in slices. */
  readonly maxMessagesPerBatch?: number;
  /** Consumer group session timeout (kafkajs default 30 s; the broker's minimum is 6 s by default). */
  readonly sessionTimeoutMs?: number;
  /** How long the coordinator waits for members to rejoin (kafkajs default 60 s). */
  readonly rebalanceTimeoutMs?: number;
  /** kafkajs default 3 s; must be below the session timeout. */
  readonly heartbeatIntervalMs?: number;
  /** How long a fetch waits for data (kafkajs default 5 s); an idle member notices a rebalance only after it. */
  readonly maxWaitTimeMs?: number;
}

export const ARROW_CONTENT_TYPE = 'application/vnd.apache.arrow.stream';

/** `topic/partition`, the `PartitionId` of a Kafka partition. */
export function kafkaPartitionId(topic: string, partition: number): PartitionId {
  return `${topic}/${partition}`;
}

/** The inverse of `kafkaPartitionId` (Kafka topic names cannot contain '/'). */
export function parseKafkaPartitionId(id: PartitionId): { topic: string; partition: number } {
  const slash = id.lastIndexOf('/');
  const partition = Number(id.slice(slash + 1));
  if (slash <= 0 || !Number.isInteger(partition) || partition < 0) throw new Error(`not a Kafka partition id: ${id}`);
  return { topic: id.slice(0, slash), partition };
}

const defaultLog: KafkaLog = (level, message) => {
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
};

const LEVEL_RANK: Record<KafkaLogLevelName, number> = { error: KafkaLogLevel.ERROR, warn: KafkaLogLevel.WARN, info: KafkaLogLevel.INFO };

/** kafkajs log fields that are safe and useful to print (never the client config, which holds SASL secrets). */
const SAFE_LOG_FIELDS = ['error', 'groupId', 'memberId', 'topic', 'partition', 'broker', 'retryCount', 'retryTime', 'restart'] as const;

function redactor(sasl: KafkaSasl | undefined): (text: string) => string {
  const secret = sasl?.password;
  if (!secret) return (text) => text;
  return (text) => text.split(secret).join('***');
}

/** kafkajs client configuration: brokers, TLS, SASL, and a log creator that feeds `log` without secrets. */
export function kafkaClientConfig(options: KafkaClientOptions): KafkaConfig {
  const log = options.log ?? defaultLog;
  const redact = redactor(options.sasl);
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: LEVEL_RANK[options.kafkaLogLevel ?? 'warn'],
    logCreator: () => (entry: LogEntry) => {
      const level: KafkaLogLevelName | null =
        entry.level === KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : entry.level === KafkaLogLevel.INFO ? 'info' : null;
      if (level === null) return;
      const fields = entry.log as unknown as Record<string, unknown>;
      const extras = SAFE_LOG_FIELDS.filter((key) => fields[key] !== undefined && fields[key] !== null)
        .map((key) => `${key}=${String(fields[key]).slice(0, 300)}`)
        .join(' ');
      log(level, redact(`kafkajs ${entry.namespace}: ${entry.log.message}${extras ? ` (${extras})` : ''}`));
    },
  };
  if (options.ssl) config.ssl = true;
  if (options.sasl) config.sasl = saslOptions(options.sasl);
  return config;
}

function saslOptions(sasl: KafkaSasl): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return headerText(value[0]);
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function payloadFormat(message: KafkaMessage): PayloadFormat {
  const contentType = headerText(message.headers?.['content-type']);
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType === ARROW_CONTENT_TYPE ? 'arrow' : 'json';
}

const EMPTY = new Uint8Array(0);

function isRebalanceError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** What the source knows about a partition it owns. */
interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly id: PartitionId;
  /** The next offset the handler expects; null: whatever the consumer starts at (no checkpoint, no known start). */
  next: bigint | null;
  /** Whether kafkajs's position is known to match `next` (false after an assignment or a rewind). */
  verified: boolean;
  /** The offset last sought to while not verified, so that a second mismatch is taken as a gap in the log. */
  soughtTo: bigint | null;
  /** Bumped by rewinds, so that a batch in flight does not move `next` past a rewind. */
  epoch: number;
}

/**
 * Awaits `work` while heartbeating the group every `intervalMs` (kafkajs heartbeats only when told to, and a slow
 * `onAssigned` or `onBatch` would otherwise cost the membership). `work`'s own failure is thrown; a heartbeat
 * failure (the group is rebalancing, or the coordinator is unreachable) is returned once `work` succeeded, for the
 * caller to throw so that kafkajs rejoins or retries, after it has settled what `work` did.
 */
async function withHeartbeats(work: Promise<unknown>, heartbeat: () => Promise<void>, intervalMs: number): Promise<unknown> {
  let settled = false;
  let heartbeatError: unknown = null;
  const done = work.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, intervalMs)))]);
    clearTimeout(timer);
    if (!settled && heartbeatError === null) {
      await heartbeat().catch((error: unknown) => {
        heartbeatError = error;
      });
    }
  }
  await work;
  return heartbeatError;
}

/** Serialises the handler's callbacks: no two run at the same time. */
function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

export function createKafkaSource(options: KafkaSourceOptions): Source {
  const log = options.log ?? defaultLog;
  const kinds = new Map(options.topics.map((t) => [t.topic, t.kind] as const));
  if (kinds.size === 0) throw new Error('kafka source: no topics configured');
  const topics = [...kinds.keys()];
  const fromBeginning = options.fromBeginning ?? true;
  const maxMessagesPerBatch = Math.max(1, options.maxMessagesPerBatch ?? 500);
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;

  const kafka = new Kafka(kafkaClientConfig(options));
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    ...(options.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    ...(options.sessionTimeoutMs !== undefined ? { sessionTimeout: options.sessionTimeoutMs } : {}),
    ...(options.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: options.rebalanceTimeoutMs } : {}),
    ...(options.heartbeatIntervalMs !== undefined ? { heartbeatInterval: options.heartbeatIntervalMs } : {}),
    ...(options.maxWaitTimeMs !== undefined ? { maxWaitTimeInMs: options.maxWaitTimeMs } : {}),
  });
  const admin: Admin = kafka.admin();

  const serial = serialQueue();
  let handler: SourceHandler | null = null;
  let started: Promise<void> | null = null;
  let stopping: Promise<void> | null = null;
  let owned = new Map<PartitionId, PartitionState>();
  /** The latest assignment task (revoke the old partitions, read checkpoints, assign); never rejects. */
  let assigning: Promise<void> = Promise.resolve();
  let assignmentError: Error | null = null;
  let joins = 0;
  const paused = new Set<PartitionId>();
  let crashed: (error: Error) => void = () => undefined;
  const finished = new Promise<void>((_, reject) => {
    crashed = reject;
  });
  finished.catch(() => undefined); // a rejection nobody awaits must not take the process down

  const byTopic = (ids: Iterable<PartitionId>) => {
    const map = new Map<string, number[]>();
    for (const id of ids) {
      const { topic, partition } = parseKafkaPartitionId(id);
      if (!kinds.has(topic)) throw new Error(`kafka source: ${id} is not a partition of a configured topic`);
      map.set(topic, [...(map.get(topic) ?? []), partition]);
    }
    return [...map].map(([topic, partitions]) => ({ topic, partitions }));
  };

  const seek = (state: PartitionState, offset: bigint) => {
    state.soughtTo = offset;
    try {
      consumer.seek({ topic: state.topic, partition: state.partition, offset: offset.toString() });
    } catch (error) {
      // Not running (between a crash and its restart): the restart rejoins, and the join resets every position.
      log('warn', `kafka source: seek ${state.id} to ${offset} failed: ${(error as Error).message}`);
    }
  };

  /** The checkpoints of the assigned partitions, and where partitions without one start. */
  const readStartPositions = async (assignment: ReadonlyArray<{ topic: string; partitions: number[] }>) => {
    const checkpoints = new Map<PartitionId, Checkpoint>();
    const starts = new Map<PartitionId, bigint>();
    const assignedTopics = assignment.filter((a) => a.partitions.length > 0).map((a) => a.topic);
    if (assignedTopics.length === 0) return { checkpoints, starts };
    const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: assignedTopics });
    for (const { topic, partitions } of committed) {
      for (const p of partitions) {
        const offset = BigInt(p.offset);
        const id = kafkaPartitionId(topic, p.partition);
        if (offset >= 0n) checkpoints.set(id, { partition: id, offset, metadata: p.metadata ?? '' });
      }
    }
    for (const { topic, partitions } of assignment) {
      if (partitions.every((p) => checkpoints.has(kafkaPartitionId(topic, p)))) continue;
      for (const p of await admin.fetchTopicOffsets(topic)) {
        starts.set(kafkaPartitionId(topic, p.partition), BigInt(fromBeginning ? p.low : p.high));
      }
    }
    return { checkpoints, starts };
  };

  let lastAssignment: Record<string, number[]> = {};
  const onGroupJoin = (memberAssignment: Record<string, number[]>) => {
    const join = ++joins;
    lastAssignment = memberAssignment;
    const assignment = Object.entries(memberAssignment)
      .filter(([topic]) => kinds.has(topic))
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
    // kafkajs keeps pauses across a rejoin but not across a crash and restart (a new consumer group object).
    if (paused.size > 0) {
      try {
        consumer.pause(byTopic(paused));
      } catch (error) {
        log('warn', `kafka source: re-applying pauses failed: ${(error as Error).message}`);
      }
    }
    const task = serial(async () => {
      const h = handler;
      if (!h) return;
      const previous = [...owned.keys()];
      owned = new Map();
      if (previous.length > 0) await h.onRevoked(previous);
      if (join !== joins || stopping) return;
      const { checkpoints, starts } = await readStartPositions(assignment);
      if (join !== joins || stopping) return;
      const next = new Map<PartitionId, PartitionState>();
      const assigned: Array<{ partition: PartitionId; checkpoint: Checkpoint | null }> = [];
      for (const { topic, partitions } of assignment) {
        for (const partition of partitions) {
          const id = kafkaPartitionId(topic, partition);
          const checkpoint = checkpoints.get(id) ?? null;
          next.set(id, { topic, partition, id, next: checkpoint?.offset ?? starts.get(id) ?? null, verified: false, soughtTo: null, epoch: 0 });
          assigned.push({ partition: id, checkpoint });
        }
      }
      owned = next;
      await h.onAssigned(assigned);
    });
    assigning = task.then(
      () => {
        if (join === joins) assignmentError = null;
      },
      (error: unknown) => {
        if (join !== joins) return;
        assignmentError = error instanceof Error ? error : new Error(String(error));
        log('error', `kafka source: assignment failed (tried again with the next batch): ${assignmentError.message}`);
      },
    );
  };

  const waitForAssignment = async (heartbeat: () => Promise<void>) => {
    for (;;) {
      const current = assigning;
      const heartbeatError = await withHeartbeats(current, heartbeat, heartbeatIntervalMs);
      if (heartbeatError !== null) throw heartbeatError;
      if (current === assigning) break;
    }
    if (assignmentError) {
      // Try the assignment again (revoke, read checkpoints, assign) while kafkajs backs off from this failed batch.
      const error = assignmentError;
      assignmentError = null;
      onGroupJoin(lastAssignment);
      throw error;
    }
  };

  const toSourceMessage = (topic: string, partition: number, kind: KafkaTopicKind | undefined, m: KafkaMessage, receivedAt: number): SourceMessage => ({
    partition: kafkaPartitionId(topic, partition),
    offset: BigInt(m.offset),
    value: m.value ?? EMPTY,
    format: payloadFormat(m),
    ...(kind !== undefined ? { kind } : {}),
    receivedAt,
    origin: `kafka:${topic}/${partition}@${m.offset}`,
  });

  const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    const h = handler;
    if (!h || stopping) return;
    const { topic, partition } = batch;
    const id = kafkaPartitionId(topic, partition);
    await waitForAssignment(heartbeat);
    const live = () => isRunning() && !isStale() && !stopping && !paused.has(id);
    const state = owned.get(id);
    if (!state) {
      log('info', `kafka source: dropped a batch of ${id}, which this member does not own`);
      return;
    }
    if (!live() || batch.messages.length === 0) return;

    let messages = batch.messages;
    const first = BigInt(messages[0]!.offset);
    if (!state.verified) {
      if (state.next === null || first === state.next) {
        state.verified = true;
      } else if (state.soughtTo !== state.next) {
        // kafkajs starts somewhere else (an older seek, a commit it did not see): go to the checkpoint first.
        log('info', `kafka source: ${id} starts at ${first}, expected ${state.next}: seeking`);
        seek(state, state.next);
        return;
      } else {
        // Already sought there: the log has a gap (compaction, control records, retention), go on from here.
        if (first > state.next) log('warn', `kafka source: ${id} resumes at ${first} instead of ${state.next} (gap in the log)`);
        state.verified = true;
      }
    }
    const from = state.next;
    if (from !== null && first < from) {
      // Never hand over an offset twice.
      messages = messages.filter((m) => BigInt(m.offset) >= from);
      if (messages.length === 0) {
        resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
        return;
      }
    }

    // Fails fast when the group started rebalancing while this batch was fetched (kafkajs then rejoins).
    await heartbeat();
    const kind = kinds.get(topic);
    const highWatermark = BigInt(batch.highWatermark);
    for (let i = 0; i < messages.length; i += maxMessagesPerBatch) {
      if (!live() || owned.get(id) !== state) return;
      const slice = messages.slice(i, i + maxMessagesPerBatch);
      const receivedAt = Date.now();
      const epoch = state.epoch;
      const delivered = serial(() => h.onBatch({ partition: id, messages: slice.map((m) => toSourceMessage(topic, partition, kind, m, receivedAt)), highWatermark }));
      const heartbeatError = await withHeartbeats(delivered, heartbeat, heartbeatIntervalMs);
      // A rewind or a revocation while the handler ran: the consumer's position is no longer this batch's.
      if (state.epoch === epoch && owned.get(id) === state) {
        // The handler took this slice: it is resolved before a heartbeat's failure is thrown, or kafkajs, retrying
        // the fetch without a rejoin, would deliver it again.
        const last = slice[slice.length - 1]!.offset;
        resolveOffset(last);
        state.next = BigInt(last) + 1n;
      }
      if (heartbeatError !== null) throw heartbeatError;
      if (state.epoch !== epoch || owned.get(id) !== state) return;
      await heartbeat();
    }
  };

  const source: Source = {
    description: `kafka:${options.brokers.join(',')}`,
    /** Never resolves; rejects when the consumer crashed and kafkajs gave up restarting it. */
    finished,

    start(h: SourceHandler): Promise<void> {
      if (stopping) return Promise.reject(new Error('kafka source: stopped (create a new source to start again)'));
      if (started) return started;
      handler = h;
      started = (async () => {
        consumer.on(consumer.events.GROUP_JOIN, (event) => onGroupJoin(event.payload.memberAssignment));
        consumer.on(consumer.events.CRASH, (event) => {
          const { error, restart } = event.payload;
          log('error', `kafka source: consumer crashed (${error.message}); ${restart ? 'kafkajs restarts it' : 'not restarted'}`);
          if (!restart && !stopping) crashed(error);
        });
        await admin.connect();
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch });
      })();
      return started;
    },

    async commit(checkpoints: ReadonlyArray<Checkpoint>): Promise<void> {
      const offsets: Array<{ topic: string; partition: number; offset: string; metadata: string }> = [];
      for (const c of checkpoints) {
        if (c.offset < 0n) throw new Error(`kafka source: negative offset in checkpoint of ${c.partition}`);
        if (!owned.has(c.partition)) {
          log('info', `kafka source: checkpoint of ${c.partition} not committed: partition not owned (any more)`);
          continue;
        }
        const { topic, partition } = parseKafkaPartitionId(c.partition);
        offsets.push({ topic, partition, offset: c.offset.toString(), metadata: c.metadata });
      }
      if (offsets.length === 0) return;
      try {
        await consumer.commitOffsets(offsets);
      } catch (error) {
        if (!isRebalanceError(error)) throw error;
        // The group is rebalancing: this member rejoins, the handler is told to drop every partition's state, and
        // whoever owns the partitions next resumes from the previous checkpoint. Nothing is lost.
        log('info', `kafka source: commit skipped, the group is rebalancing (${(error as Error).message})`);
      }
    },

    async rewind(partitionId: PartitionId, offset: bigint): Promise<void> {
      const state = owned.get(partitionId);
      if (!state) throw new Error(`kafka source: cannot rewind ${partitionId}: partition not owned`);
      if (offset < 0n) throw new Error(`kafka source: cannot rewind ${partitionId} to a negative offset`);
      state.epoch++;
      state.next = offset;
      state.verified = false;
      seek(state, offset);
    },

    pause(partitions: ReadonlyArray<PartitionId>): void {
      const groups = byTopic(partitions);
      for (const id of partitions) paused.add(id);
      try {
        consumer.pause(groups);
      } catch {
        // Not running yet: applied at the next group join.
      }
    },

    resume(partitions: ReadonlyArray<PartitionId>): void {
      const groups = byTopic(partitions);
      for (const id of partitions) paused.delete(id);
      try {
        consumer.resume(groups);
      } catch {
        // Not running yet.
      }
    },

    stop(): Promise<void> {
      stopping ??= (async () => {
        try {
          await consumer.disconnect();
          await assigning;
        } finally {
          await admin.disconnect();
        }
      })();
      return stopping;
    },
  };
  return source;
}
