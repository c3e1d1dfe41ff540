/**
 * The service configuration as the rest of driftwatch sees it: every setting present (defaults filled in), names in
 * camelCase, durations in milliseconds (`...Ms`), sizes in bytes, and each model's window and evaluation already
 * merged over the defaults. The file spells the same settings in snake_case (see driftwatch.example.yaml).
 */
import type { ColumnType } from '../core/table.js';

export interface StoreSettings {
  /** Data directory of the embedded engine, absolute. */
  readonly dataDir: string;
  /** A ClickHouse server over HTTP(S); null runs the embedded engine in `dataDir`. */
  readonly clickhouseUrl: string | null;
  readonly user: string;
  /** From env CLICKHOUSE_PASSWORD only; null when unset. Never logged. */
  readonly password: string | null;
  readonly database: string;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslConfig {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  /** From env KAFKA_SASL_PASSWORD only (required when SASL is configured). Never logged. */
  readonly password: string;
}

export interface KafkaTopics {
  readonly telemetry: ReadonlyArray<string>;
  readonly predictions: ReadonlyArray<string>;
  readonly labels: ReadonlyArray<string>;
  /** Where drift events are published; null disables publishing. */
  readonly driftEvents: string | null;
  /** Where rejected records go; null disables the dead-letter topic. */
  readonly deadLetters: string | null;
}

export interface KafkaConfig {
  /** `host:port`, at least one. */
  readonly brokers: ReadonlyArray<string>;
  readonly clientId: string;
  readonly groupId: string;
  readonly fromBeginning: boolean;
  readonly maxBytesPerPartition: number;
  readonly ssl: boolean;
  readonly sasl: SaslConfig | null;
  readonly topics: KafkaTopics;
}

export interface HttpConfig {
  readonly enabled: boolean;
  readonly host: string;
  /** 0 binds any free port. */
  readonly port: number;
  readonly maxBodyBytes: number;
  /** From env DRIFTWATCH_API_TOKEN only; null when unset (allowed only on a loopback host). Never logged. */
  readonly apiToken: string | null;
}

export interface IngestConfig {
  readonly maxRecordBytes: number;
  /** Records stamped further ahead of the clock than this are rejected. */
  readonly maxFutureMs: number;
  /** Records older than this are rejected. */
  readonly maxPastMs: number;
  /** What happens to a record for a model that is not configured. */
  readonly unknownModels: 'dead_letter';
}

export type WindowType = 'tumbling' | 'hopping' | 'count';

export interface WindowConfig {
  readonly type: WindowType;
  /** Window length (tumbling and hopping windows). */
  readonly sizeMs: number;
  /** Hopping windows: how far each window starts after the previous one (0 < slide <= size); else null. */
  readonly slideMs: number | null;
  /** Count windows: records per window (>= 1); else null. */
  readonly count: number | null;
  /** Which clock assigns records to windows. */
  readonly time: 'event' | 'processing';
  readonly watermarkDelayMs: number;
  readonly allowedLatenessMs: number;
  /** Close windows after this long without records; 0 disables. */
  readonly idleTimeoutMs: number;
  /** Rows stored with each window report; 0 stores none. */
  readonly sampleRows: number;
}

export interface FeatureEvaluation {
  /** `auto` or a drift method name; null uses the model's method. */
  readonly method: string | null;
  /** Null uses the model's threshold (or the method's default). */
  readonly threshold: number | null;
}

export interface EvaluationConfig {
  /** Share of drifted features, in (0, 1], at which the dataset counts as drifted. */
  readonly driftShare: number;
  /** `auto` or a drift method name. */
  readonly method: string;
  /** Null uses each method's default threshold. */
  readonly threshold: number | null;
  readonly perFeature: Readonly<Record<string, FeatureEvaluation>>;
}

export interface ModelConfig {
  readonly name: string;
  readonly kind: 'telemetry' | 'prediction';
  /** Fields taken from each record's `segment` object; each segment gets its own windows. */
  readonly segmentBy: ReadonlyArray<string>;
  /** Declared feature types; null takes the features from the active reference. */
  readonly features: Readonly<Record<string, ColumnType>> | null;
  /** `windows` with this model's overrides applied. */
  readonly window: WindowConfig;
  /** `evaluation` with this model's overrides applied (`perFeature` merged by feature). */
  readonly evaluation: EvaluationConfig;
  /** Prediction models: always set; telemetry models: null. */
  readonly task: 'classification' | 'regression' | null;
  readonly positiveLabel: string | number | boolean | null;
  /** How long a prediction waits for its label. */
  readonly labelJoinMs: number;
}

export interface RollingReferenceConfig {
  /** A model name; it need not be configured under `models`. */
  readonly model: string;
  /** Cron expression, 5 or 6 fields. */
  readonly schedule: string;
  /** The trailing period the new reference is built from. */
  readonly trailingMs: number;
  readonly excludeDrifted: boolean;
  readonly promote: boolean;
  readonly maxRows: number | null;
}

export interface AlertsConfig {
  readonly enabled: boolean;
  /** Directory of rule and action files (absolute); null: `./rules` when it exists, else no rules. */
  readonly rulesDir: string | null;
  /** Base of the links notifications carry to report pages; null: the HTTP API's own address. */
  readonly publicUrl: string | null;
  readonly delivery: {
    /** Attempts per notification before it is marked dead. */
    readonly maxAttempts: number;
    /** A notification not delivered this long after it was made is marked dead. */
    readonly maxAgeMs: number;
    /** First retry delay; each further attempt doubles it (with jitter) up to `maxDelayMs`. */
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    /** One HTTP attempt's time limit. */
    readonly timeoutMs: number;
  };
}

export interface PipelineConfig {
  /**
   * Worker threads that evaluate closed windows, so that decoding and writing go on meanwhile; 0 evaluates on the
   * pipeline's own thread. Default (null in the file): one fewer than the CPUs the process may use, at most 4.
   */
  readonly evaluationWorkers: number;
  /**
   * A window whose evaluation on a worker takes longer than this stops the pipeline with that error (the worker is
   * stopped), instead of a silent stall. Default 5 minutes.
   */
  readonly evaluationTimeoutMs: number;
  /**
   * How long after its close an evaluated window may wait for its drift results to be stored before the input
   * waits for it (the pipeline's `resultsWaitMs`); null: the input never waits for the writer this way (the
   * backpressure on queued reports still holds). Default: EMBEDDED_RESULTS_WAIT_MS with the embedded engine, whose
   * writes take this machine's cores; none with a ClickHouse server.
   */
  readonly resultsWaitMs: number | null;
}

export interface DriftwatchConfig {
  readonly store: StoreSettings;
  /** Null when no brokers are configured (no Kafka mode). */
  readonly kafka: KafkaConfig | null;
  readonly http: HttpConfig;
  readonly ingest: IngestConfig;
  readonly pipeline: PipelineConfig;
  /** Defaults every model's window starts from. */
  readonly windows: WindowConfig;
  /** Defaults every model's evaluation starts from. */
  readonly evaluation: EvaluationConfig;
  readonly models: Readonly<Record<string, ModelConfig>>;
  readonly rollingReferences: ReadonlyArray<RollingReferenceConfig>;
  readonly alerts: AlertsConfig;
}
