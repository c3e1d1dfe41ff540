/** Defaults, and the validated file turned into the config consumers read (camelCase, merged, secrets added). */
import { usableCpus } from './cpus.js';
import { resolve } from 'node:path';
import type { Secrets } from './env.js';
import { DEFAULT_HOST } from './checks.js';
import type { RawConfig, RawEvaluation, RawModel, RawWindow } from './schema.js';
import type {
  DriftwatchConfig,
  EvaluationConfig,
  FeatureEvaluation,
  KafkaConfig,
  ModelConfig,
  RollingReferenceConfig,
  WindowConfig,
} from './types.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MIB = 2 ** 20;

export const DEFAULT_WINDOW: WindowConfig = {
  type: 'tumbling',
  sizeMs: 5 * MINUTE,
  slideMs: null,
  count: null,
  time: 'event',
  watermarkDelayMs: 5 * SECOND,
  allowedLatenessMs: MINUTE,
  idleTimeoutMs: 30 * SECOND,
  sampleRows: 1000,
};

/**
 * `pipeline.results_wait` with the embedded engine, when the file does not set it (a ClickHouse server's writes do not
 * take this machine's cores: no limit there). Chosen on the stream bench (2 cores, broker on the same machine): with
 * it, 1 000 000-record runs kept their throughput and their p99 latency fell from 296-432 ms to 172-210 ms.
 */
export const EMBEDDED_RESULTS_WAIT_MS = 100;

export const DEFAULT_EVALUATION: EvaluationConfig = { driftShare: 0.5, method: 'auto', threshold: null, perFeature: {} };

export function buildConfig(raw: RawConfig, secrets: Secrets, cwd: string): DriftwatchConfig {
  const store = raw.store ?? {};
  const kafka = raw.kafka ?? {};
  const topics = kafka.topics ?? {};
  const http = raw.http ?? {};
  const ingest = raw.ingest ?? {};
  const brokers = kafka.brokers ?? [];
  const kafkaConfig: KafkaConfig | null =
    brokers.length === 0
      ? null
      : {
          brokers,
          clientId: kafka.client_id ?? 'driftwatch',
          groupId: kafka.group_id ?? 'driftwatch',
          fromBeginning: kafka.from_beginning ?? true,
          maxBytesPerPartition: kafka.max_bytes_per_partition ?? MIB,
          ssl: kafka.ssl ?? false,
          // crossChecks made sure the password is there whenever SASL is configured.
          sasl: kafka.sasl ? { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: secrets.kafkaSaslPassword ?? '' } : null,
          topics: {
            telemetry: topics.telemetry ?? ['driftwatch.telemetry'],
            predictions: topics.predictions ?? ['driftwatch.predictions'],
            labels: topics.labels ?? [],
            driftEvents: topics.drift_events === undefined ? 'driftwatch.drift-events' : topics.drift_events,
            deadLetters: topics.dead_letters === undefined ? 'driftwatch.dead-letters' : topics.dead_letters,
          },
        };
  const windows = windowConfig(raw.windows ?? {});
  const evaluation = evaluationConfig(DEFAULT_EVALUATION, raw.evaluation ?? {});
  const models: Record<string, ModelConfig> = {};
  for (const [name, model] of Object.entries(raw.models ?? {})) {
    models[name] = modelConfig(name, model, raw.windows ?? {}, evaluation);
  }
  const rollingReferences: RollingReferenceConfig[] = (raw.rolling_references ?? []).map((r) => ({
    model: r.model,
    schedule: r.schedule,
    trailingMs: r.trailing ?? 7 * DAY,
    excludeDrifted: r.exclude_drifted ?? true,
    promote: r.promote ?? true,
    maxRows: r.max_rows ?? null,
  }));
  return {
    store: {
      dataDir: resolve(cwd, store.data_dir ?? './data'),
      clickhouseUrl: store.clickhouse_url ?? null,
      user: store.user ?? 'default',
      password: secrets.clickhousePassword,
      database: store.database ?? 'driftwatch',
    },
    kafka: kafkaConfig,
    http: {
      enabled: http.enabled ?? true,
      host: http.host ?? DEFAULT_HOST,
      port: http.port ?? 8080,
      maxBodyBytes: http.max_body_bytes ?? 16 * MIB,
      apiToken: secrets.apiToken,
    },
    ingest: {
      maxRecordBytes: ingest.max_record_bytes ?? MIB,
      maxFutureMs: ingest.max_future ?? HOUR,
      maxPastMs: ingest.max_past ?? 30 * DAY,
      unknownModels: ingest.unknown_models ?? 'dead_letter',
    },
    pipeline: {
      evaluationWorkers: raw.pipeline?.evaluation_workers ?? defaultEvaluationWorkers(),
      evaluationTimeoutMs: raw.pipeline?.evaluation_timeout ?? 5 * MINUTE,
      resultsWaitMs: raw.pipeline?.results_wait !== undefined ? raw.pipeline.results_wait : store.clickhouse_url ? null : EMBEDDED_RESULTS_WAIT_MS,
    },
    windows,
    evaluation,
    models,
    rollingReferences,
    alerts: {
      enabled: raw.alerts?.enabled ?? true,
      rulesDir: raw.alerts?.rules_dir ? resolve(cwd, raw.alerts.rules_dir) : null,
      publicUrl: raw.alerts?.public_url ? raw.alerts.public_url.replace(/\/+$/, '') : null,
      delivery: {
        maxAttempts: raw.alerts?.delivery?.max_attempts ?? 12,
        maxAgeMs: raw.alerts?.delivery?.max_age ?? DAY,
        baseDelayMs: raw.alerts?.delivery?.base_delay ?? 1000,
        maxDelayMs: raw.alerts?.delivery?.max_delay ?? 5 * MINUTE,
        timeoutMs: raw.alerts?.delivery?.timeout ?? 10_000,
      },
    },
  };
}

/** A window from the file's settings over the built-in defaults; slide and count only where the type uses them. */
function windowConfig(w: RawWindow): WindowConfig {
  const d = DEFAULT_WINDOW;
  const type = w.type ?? d.type;
  return {
    type,
    sizeMs: w.size ?? d.sizeMs,
    slideMs: type === 'hopping' ? (w.slide ?? null) : null,
    count: type === 'count' ? (w.count ?? null) : null,
    time: w.time ?? d.time,
    watermarkDelayMs: w.watermark_delay ?? d.watermarkDelayMs,
    allowedLatenessMs: w.allowed_lateness ?? d.allowedLatenessMs,
    idleTimeoutMs: w.idle_timeout ?? d.idleTimeoutMs,
    sampleRows: w.sample_rows ?? d.sampleRows,
  };
}

/** `over` applied to `base`; per-feature settings merge feature by feature, key by key. */
function evaluationConfig(base: EvaluationConfig, over: RawEvaluation): EvaluationConfig {
  const perFeature: Record<string, FeatureEvaluation> = { ...base.perFeature };
  for (const [feature, f] of Object.entries(over.per_feature ?? {})) {
    const prev = perFeature[feature];
    perFeature[feature] = {
      method: f.method === undefined ? (prev?.method ?? null) : f.method,
      threshold: f.threshold === undefined ? (prev?.threshold ?? null) : f.threshold,
    };
  }
  return {
    driftShare: over.drift_share ?? base.driftShare,
    method: over.method ?? base.method,
    threshold: over.threshold === undefined ? base.threshold : over.threshold,
    perFeature,
  };
}

function modelConfig(name: string, m: RawModel, windows: RawWindow, evaluation: EvaluationConfig): ModelConfig {
  const kind = m.kind ?? 'telemetry';
  return {
    name,
    kind,
    segmentBy: m.segment_by ?? [],
    features: m.features ?? null,
    window: windowConfig({ ...windows, ...definedOnly(m.window ?? {}) }),
    evaluation: evaluationConfig(evaluation, m.evaluation ?? {}),
    task: kind === 'prediction' ? (m.task ?? null) : null,
    positiveLabel: m.positive_label ?? null,
    labelJoinMs: m.label_join ?? 10 * MINUTE,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * One fewer than the CPUs this process may use (the pipeline's own thread keeps one; a cgroup's CPU quota counts),
 * at most 4.
 */
export function defaultEvaluationWorkers(cores = usableCpus()): number {
  return Math.max(0, Math.min(4, cores - 1));
}
