/**
 * The streaming side of the domain: records as the pipeline sees them once decoded, and the source port that every
 * input (Kafka, HTTP ingest, file replay, the demo generator) implements, so that one pipeline serves them all.
 */
import type { EpochMs } from './store.js';

/** A feature value as a record carries it. `null` (or a missing key) is a missing value. */
export type FeatureValue = number | string | boolean | null;

export type RecordKind = 'telemetry' | 'prediction';

/** A decoded, validated record (`../shared/design.md`, data contracts). */
export interface StreamRecord {
  readonly model: string;
  /** Event time (epoch ms), or the arrival time when the model's windows run on processing time. */
  readonly ts: EpochMs;
  readonly kind: RecordKind;
  /** Values of the model's segment fields (e.g. `{ lot_id: "L-1042" }`); `{}` when the model is not segmented. */
  readonly segment: Readonly<Record<string, string>>;
  /** The model's features, by name. Features the schema does not name are dropped while decoding. */
  readonly features: Readonly<Record<string, FeatureValue>>;
  /** Prediction records: */
  readonly id?: string;
  readonly modelVersion?: string;
  readonly prediction?: number | string | boolean;
  readonly label?: number | string | boolean;
  readonly status?: 'ok' | 'error';
}

/** A label that arrives on its own (labels topic), joined to its prediction by `id`. */
export interface LabelRecord {
  readonly model: string;
  readonly id: string;
  readonly ts: EpochMs;
  readonly label: number | string | boolean;
}

/** How a message's bytes are encoded. */
export type PayloadFormat = 'json' | 'ndjson' | 'arrow';

/**
 * A partition: the unit of ordering, offsets, checkpoints and ownership. Kafka: `topic/partition`; HTTP ingest:
 * `http`; file replay: `file:<path>`.
 */
export type PartitionId = string;

export interface SourceMessage {
  readonly partition: PartitionId;
  /** Position in the partition; increases by at least one per message. Kafka offsets are int64, hence bigint. */
  readonly offset: bigint;
  readonly value: Uint8Array;
  readonly format: PayloadFormat;
  /** What the message carries, when the source knows it (a Kafka topic configured for predictions or labels). */
  readonly kind?: RecordKind | 'label';
  /** Wall-clock time the source received the message (processing time). */
  readonly receivedAt: EpochMs;
  /** Where it came from, for dead letters: `kafka:topic/3@1234`, `http:<request id>`, `file:path:line`. */
  readonly origin: string;
}

/** Messages of one partition, in offset order. */
export interface SourceBatch {
  readonly partition: PartitionId;
  readonly messages: ReadonlyArray<SourceMessage>;
  /** Kafka: the partition's log end offset when the batch was fetched (consumer lag = it minus the next offset). */
  readonly highWatermark?: bigint;
}

/**
 * Where to resume a partition: the next offset to read, and the pipeline's own state at that point (an opaque
 * string the pipeline wrote with the commit: its watermark and how far it had read).
 */
export interface Checkpoint {
  readonly partition: PartitionId;
  readonly offset: bigint;
  readonly metadata: string;
}

/** What a source calls. Every callback is awaited before the source goes on with that partition. */
export interface SourceHandler {
  /** Partitions this instance now owns, with their last committed checkpoint (null: none yet). */
  onAssigned(partitions: ReadonlyArray<{ readonly partition: PartitionId; readonly checkpoint: Checkpoint | null }>): Promise<void>;
  /** Partitions this instance no longer owns: their state must be dropped (the new owner rebuilds it). */
  onRevoked(partitions: ReadonlyArray<PartitionId>): Promise<void>;
  /** Resolves once the batch is decoded and in its windows (not yet durable: see `Source.commit`). */
  onBatch(batch: SourceBatch): Promise<BatchOutcome>;
  /**
   * How the handler judges a model's feature, when it knows (file replay types CSV cells by it, as a CSV cell has
   * no type of its own).
   */
  featureKind?(model: string, feature: string): 'numerical' | 'categorical' | undefined;
}

/** What became of a batch's records: HTTP ingest answers with it. */
export interface BatchOutcome {
  readonly accepted: number;
  /** Records that went to the dead letters (the first ones, with their reason; `rejectedCount` counts all). */
  readonly rejected: ReadonlyArray<{ readonly origin: string; readonly reasonCode: string; readonly reason: string }>;
  readonly rejectedCount: number;
  /** Set when no message of the batch could be decoded at all (bad JSON body, not an Arrow stream): HTTP 400. */
  readonly bodyError?: string;
}

export interface Source {
  /** For logs and `/readyz`: `kafka:127.0.0.1:9092`, `http:127.0.0.1:8080`, `file:telemetry.ndjson`. */
  readonly description: string;
  start(handler: SourceHandler): Promise<void>;
  /** Makes the checkpoints durable (Kafka: commits offsets with their metadata). No-op for sources that cannot replay. */
  commit(checkpoints: ReadonlyArray<Checkpoint>): Promise<void>;
  /** Re-reads a partition from an offset (after state that covered it was dropped). */
  rewind(partition: PartitionId, offset: bigint): Promise<void>;
  /** Stops delivering batches of these partitions until resumed (backpressure). */
  pause(partitions: ReadonlyArray<PartitionId>): void;
  resume(partitions: ReadonlyArray<PartitionId>): void;
  /** Finite sources (file replay) resolve this once every message was delivered; endless ones never do. */
  readonly finished: Promise<void>;
  stop(): Promise<void>;
}

/** A message for an output topic (drift events, dead letters). */
export interface OutgoingMessage {
  readonly key: string;
  readonly value: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The output side of a message bus (Kafka producer). `publish` resolves once the broker acknowledged every message. */
export interface Publisher {
  readonly description: string;
  publish(topic: string, messages: ReadonlyArray<OutgoingMessage>): Promise<void>;
  close(): Promise<void>;
}
