/**
 * The shape of the config file (snake_case, every setting optional) as a zod schema, with messages written for
 * people: each leaf says what it expected and what it got. Defaults are not applied here (see build.ts): a model's
 * `window` and `evaluation` are partial overrides, so the schema must keep "not given" apart from "given".
 */
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { clickhouseUrlProblem, redactUrl } from '../store/config.js';
import { formatDuration, parseDuration, parseSize } from './duration.js';
import { bool, integer, leaf, oneOf, Reject, text } from './leaves.js';
import { expected, orList } from './messages.js';

const DURATION_WHAT = 'a duration such as 30s, 5m or 2h';

const DAY = 86_400_000;
/** Spans of event or processing time (window size, slide, delays, lateness, waits): a year at most. */
export const MAX_SPAN_MS = 365 * DAY;
/**
 * Settings that become timers (an evaluation's watchdog, an HTTP attempt's timeout): Node fires a timer longer than
 * 2^31 - 1 ms (24.8 days) at once, so they stay below that.
 */
export const MAX_TIMER_MS = 24 * DAY;
/** Ranges of accepted or stored time (ingest.max_past and max_future, a rolling reference's trailing period): a century. */
export const MAX_RANGE_MS = 36_500 * DAY;

/**
 * A duration in ms, at most `max`; `positive` rejects 0. A bare number other than 0 is rejected with a hint: it has
 * no unit.
 */
function duration(positive: boolean, max: number) {
  return leaf(DURATION_WHAT, (v) => {
    if (typeof v === 'number') {
      if (v === 0 && !positive) return 0;
      if (v === 0) return new Reject(expected('a duration greater than 0', v));
      return new Reject(expected(DURATION_WHAT, v, `a duration needs a unit: write ${v}s, ${v}m or ${v}ms`));
    }
    if (typeof v !== 'string') return undefined;
    const ms = parseDuration(v);
    if (ms === null) {
      const bare = /^\s*\d+(?:\.\d+)?\s*$/.test(v);
      return new Reject(expected(DURATION_WHAT, v, bare ? `a duration needs a unit: write ${v.trim()}s or ${v.trim()}m` : undefined));
    }
    if (ms === 0 && positive) return new Reject(expected('a duration greater than 0', v));
    if (ms > max) return new Reject(expected(`a duration of at most ${formatDuration(max)}`, v));
    return ms;
  });
}

/** A size in bytes, at least `min`. */
function size(min: number) {
  const what = 'a size in bytes such as 1048576, 512KiB or 16MiB';
  return leaf(what, (v) => {
    if (typeof v !== 'number' && typeof v !== 'string') return undefined;
    const bytes = parseSize(v);
    if (bytes === null) return undefined;
    if (bytes < min) return new Reject(expected(`a size of at least ${min} bytes`, v));
    return bytes;
  });
}

/** Kafka's own rule for topic names. */
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const topic = () => leaf('a topic name (letters, digits, ".", "_", "-")', (v) => (typeof v === 'string' && TOPIC.test(v) ? v : undefined));

/** One topic or a list of them. */
const topicList = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? [v] : v),
    z.array(topic(), { error: (iss) => (iss.code === 'invalid_type' ? expected('a topic name or a list of topic names', iss.input) : undefined) }),
  );

const BROKER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
const broker = () =>
  leaf('host:port', (v) => {
    if (typeof v !== 'string') return undefined;
    const m = BROKER.exec(v.trim());
    if (m === null || Number(m[1]) < 1 || Number(m[1]) > 65535) return undefined;
    return v.trim();
  });

/** A list of brokers, or one string of comma-separated brokers (as KAFKA_BROKERS is written). */
const brokerList = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
    z.array(broker(), { error: (iss) => (iss.code === 'invalid_type' ? expected('a list of host:port', iss.input) : undefined) }),
  );

/** A URL for messages (the store's: credentials and query values hidden). */
export { redactUrl };

const URL_WHAT = 'an http:// or https:// URL';

/** An http(s) URL, shown redacted in messages; `check` words any further problem (null: none). */
const httpUrl = (check: (url: string) => string | null = () => null) =>
  leaf(URL_WHAT, (v) => {
    if (typeof v !== 'string') return undefined;
    let u: URL | null = null;
    try {
      u = new URL(v);
    } catch {
      u = null;
    }
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      return new Reject(expected(URL_WHAT, redactUrl(v)));
    }
    const problem = check(v);
    return problem === null ? v : new Reject(problem);
  });

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const databaseName = () =>
  leaf('a database name (letters, digits and underscores, not starting with a digit)', (v) =>
    typeof v === 'string' && DATABASE_NAME.test(v) ? v : undefined,
  );

/** Model names appear in topics, metric labels and URLs. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const MODEL_NAME_WHAT = 'a model name (letters, digits, "_" and "-", starting with a letter or digit)';
const modelName = () => leaf(MODEL_NAME_WHAT, (v) => (typeof v === 'string' && MODEL_NAME.test(v) ? v : undefined));

/** A cron expression with 5 fields (minute first) or 6 (seconds first), as node-cron reads it. */
const cron = () =>
  leaf('a cron expression with 5 or 6 fields such as "0 3 * * *"', (v) => {
    if (typeof v !== 'string') return undefined;
    const fields = v.trim().split(/\s+/).length;
    if ((fields !== 5 && fields !== 6) || !validateCron(v.trim())) return undefined;
    return v.trim();
  });

/** A value the user may leave empty (`kafka:` with nothing under it): null reads as an empty mapping. */
function section<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess((v) => (v === null ? {} : v), z.strictObject(shape)).optional();
}

/** A list or a single item; null reads as an empty list. */
function listOf<T extends z.ZodType>(item: T, what: string) {
  return z
    .preprocess(
      (v) => (v === null ? [] : typeof v === 'string' ? [v] : v),
      z.array(item, { error: (iss) => (iss.code === 'invalid_type' ? expected(what, iss.input) : undefined) }),
    )
    .optional();
}

export const WINDOW_TYPES = ['tumbling', 'hopping', 'count'] as const;

const windowShape = {
  type: oneOf(WINDOW_TYPES).optional(),
  size: duration(true, MAX_SPAN_MS).optional(),
  slide: duration(true, MAX_SPAN_MS).nullable().optional(),
  count: integer(1).nullable().optional(),
  time: oneOf(['event', 'processing'] as const).optional(),
  watermark_delay: duration(false, MAX_SPAN_MS).optional(),
  allowed_lateness: duration(false, MAX_SPAN_MS).optional(),
  idle_timeout: duration(false, MAX_SPAN_MS).optional(),
  sample_rows: integer(0).optional(),
};

function evaluationShape(methods: ReadonlyArray<string>) {
  const method = oneOf(['auto', ...methods]);
  const threshold = leaf('a number >= 0', (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined));
  return {
    drift_share: leaf('a number greater than 0 and at most 1', (v) =>
      typeof v === 'number' && v > 0 && v <= 1 ? v : undefined,
    ).optional(),
    method: method.optional(),
    threshold: threshold.nullable().optional(),
    per_feature: z
      .preprocess(
        (v) => (v === null ? {} : v),
        z.record(
          z.string(),
          z.preprocess(
            (v) => (v === null ? {} : v),
            z.strictObject({ method: method.nullable().optional(), threshold: threshold.nullable().optional() }),
          ),
        ),
      )
      .optional(),
  };
}

export const MODEL_KINDS = ['telemetry', 'prediction'] as const;
export const TASKS = ['classification', 'regression'] as const;

function modelShape(methods: ReadonlyArray<string>) {
  return {
    kind: oneOf(MODEL_KINDS).optional(),
    segment_by: listOf(text('a field name'), 'a field name or a list of field names'),
    features: z
      .record(z.string(), oneOf(['numerical', 'categorical'] as const), {
        error: (iss) => (iss.code === 'invalid_type' ? expected('a mapping of feature names to numerical or categorical', iss.input) : undefined),
      })
      .nullable()
      .optional(),
    window: section(windowShape),
    evaluation: section(evaluationShape(methods)),
    task: oneOf(TASKS).nullable().optional(),
    positive_label: leaf('a label (a string, number or true/false)', (v) =>
      typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) ? v : undefined,
    )
      .nullable()
      .optional(),
    label_join: duration(true, MAX_SPAN_MS).optional(),
  };
}

/** The config file's schema; `methods` are the drift method names this build knows. */
export function configSchema(methods: ReadonlyArray<string>) {
  return z.strictObject({
    version: leaf('1 (the only config version this build reads)', (v) => (v === 1 ? 1 : undefined)).optional(),
    store: section({
      data_dir: text('a directory path').optional(),
      // Without credentials (user:password@, a query parameter named like a secret): those come only from env
      // CLICKHOUSE_USER and CLICKHOUSE_PASSWORD, and the client would let the URL's silently win over them.
      clickhouse_url: httpUrl(clickhouseUrlProblem).nullable().optional(),
      user: text('a user name').optional(),
      database: databaseName().optional(),
    }),
    kafka: section({
      brokers: brokerList().nullable().optional(),
      client_id: text('a client id').optional(),
      group_id: text('a consumer group id').optional(),
      from_beginning: bool().optional(),
      max_bytes_per_partition: size(1).optional(),
      ssl: bool().optional(),
      sasl: z
        .strictObject({
          mechanism: oneOf(['plain', 'scram-sha-256', 'scram-sha-512'] as const),
          username: text('a user name'),
        })
        .nullable()
        .optional(),
      topics: section({
        telemetry: topicList().nullable().optional(),
        predictions: topicList().nullable().optional(),
        labels: topicList().nullable().optional(),
        drift_events: topic().nullable().optional(),
        dead_letters: topic().nullable().optional(),
      }),
    }),
    http: section({
      enabled: bool().optional(),
      host: text('a host name or IP address').optional(),
      port: integer(0, 65535).optional(),
      max_body_bytes: size(1).optional(),
    }),
    ingest: section({
      max_record_bytes: size(1).optional(),
      max_future: duration(false, MAX_RANGE_MS).optional(),
      max_past: duration(true, MAX_RANGE_MS).optional(),
      unknown_models: oneOf(['dead_letter'] as const).optional(),
    }),
    pipeline: section({
      evaluation_workers: integer(0, 64).nullable().optional(),
      evaluation_timeout: duration(true, MAX_TIMER_MS).optional(),
      results_wait: duration(false, MAX_SPAN_MS).nullable().optional(),
    }),
    windows: section(windowShape),
    evaluation: section(evaluationShape(methods)),
    models: z
      .preprocess(
        (v) => (v === null ? {} : v),
        // Any key here: a name that is not a model name is reported by crossChecks, so the model's own settings are
        // still checked (a bad record key would make zod skip its value).
        z.record(z.string(), z.preprocess((v) => (v === null ? {} : v), z.strictObject(modelShape(methods)))),
      )
      .optional(),
    alerts: section({
      enabled: bool().optional(),
      rules_dir: text('a directory path').nullable().optional(),
      public_url: httpUrl().nullable().optional(),
      delivery: section({
        max_attempts: integer(1, 1000).optional(),
        max_age: duration(true, MAX_SPAN_MS).optional(),
        base_delay: duration(true, MAX_SPAN_MS).optional(),
        max_delay: duration(true, MAX_SPAN_MS).optional(),
        // An HTTP attempt needs a time limit: 0 would be refused by the senders at start-up.
        timeout: duration(true, MAX_TIMER_MS).optional(),
      }),
    }),
    rolling_references: z
      .preprocess(
        (v) => (v === null ? [] : v),
        z.array(
          z.strictObject({
            model: modelName(),
            schedule: cron(),
            trailing: duration(true, MAX_RANGE_MS).optional(),
            exclude_drifted: bool().optional(),
            promote: bool().optional(),
            max_rows: integer(1).nullable().optional(),
          }),
        ),
      )
      .optional(),
  });
}

export type RawConfig = z.output<ReturnType<typeof configSchema>>;
export type RawWindow = NonNullable<RawConfig['windows']>;
export type RawEvaluation = NonNullable<RawConfig['evaluation']>;
export type RawModel = NonNullable<RawConfig['models']>[string];

/**
 * Keys that hold secrets, which the file must not: where each one comes from instead. An unknown key with one of
 * these names gets this message (and never shows its value).
 */
export const SECRET_KEYS: ReadonlyArray<{ readonly parent: string; readonly keys: ReadonlyArray<string>; readonly message: string }> = [
  {
    parent: 'store',
    keys: ['password', 'clickhouse_password'],
    message: 'the ClickHouse password is read only from env CLICKHOUSE_PASSWORD; remove it from the file',
  },
  {
    parent: 'kafka.sasl',
    keys: ['password'],
    message: 'the SASL password is read only from env KAFKA_SASL_PASSWORD; remove it from the file',
  },
  {
    parent: 'kafka',
    keys: ['password', 'sasl_password'],
    message: 'the SASL password is read only from env KAFKA_SASL_PASSWORD; remove it from the file',
  },
  {
    parent: 'http',
    keys: ['api_token', 'token', 'apitoken'],
    message: 'the API token is read only from env DRIFTWATCH_API_TOKEN; remove it from the file',
  },
];

/**
 * The parse-level error map: the wording for issues zod raises itself (a mapping where a list was expected,
 * unknown keys, record keys). Leaves word their own messages. Unknown-key issues also record which keys the object
 * knows, by object identity, so the caller can suggest one.
 */
export function errorMap(knownKeys: WeakMap<object, ReadonlyArray<string>>): z.core.$ZodErrorMap {
  return (iss) => {
    switch (iss.code) {
      case 'invalid_type': {
        const what =
          iss.expected === 'array' ? 'a list' : iss.expected === 'object' || iss.expected === 'record' ? 'a mapping' : iss.expected;
        return expected(what, iss.input);
      }
      case 'unrecognized_keys': {
        if (iss.inst instanceof z.ZodObject && typeof iss.input === 'object' && iss.input !== null) {
          knownKeys.set(iss.input, Object.keys(iss.inst.shape));
        }
        return 'unknown key';
      }
      case 'invalid_key':
        return iss.issues[0]?.message ?? 'invalid key';
      case 'invalid_value':
        return expected(orList(iss.values.map((x) => String(x))), iss.input);
      default:
        return expected('a valid value', iss.input);
    }
  };
}
