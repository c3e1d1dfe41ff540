/**
 * The store's schema, as numbered migrations. A migration is never edited once released: a change is a new
 * migration. Every statement is idempotent (IF NOT EXISTS), so a migration interrupted half-way is simply run again.
 *
 * `{db}` stands for the database (a checked identifier). Float arrays are written as the two 32-bit halves of each
 * double (`hi`/`lo`, ephemeral columns) and rebuilt by the engine, which keeps every bit (NaN, ±inf, -0, subnormals)
 * and avoids decimal round-trips; where the engine can, as the doubles' raw bytes instead (`raw`, added at start by
 * `applyRawFloats`, see FLOAT_ARRAY_FROM_RAW_OR_HALVES).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: ReadonlyArray<string>;
}

const FLOAT_ARRAY_FROM_HALVES =
  'arrayMap((h, l) -> reinterpretAsFloat64(bitOr(bitShiftLeft(toUInt64(h), 32), toUInt64(l))), hi, lo)';

/**
 * The float arrays' default on an engine that can reinterpret a string as an array (ClickHouse 25.7 and later):
 * the doubles' little-endian bytes in base64 (`raw`, ephemeral) when given, which the engine parses about 4 times
 * faster than the halves; the halves otherwise (rows from older builds). Applied by `applyRawFloats`, not by a
 * migration, since older servers cannot have it.
 */
export const FLOAT_ARRAY_FROM_RAW_OR_HALVES = `if(empty(raw), ${FLOAT_ARRAY_FROM_HALVES}, reinterpret(base64Decode(raw), 'Array(Float64)'))`;

/** Columnar sample chunks: one row per (owner, column, chunk) holding up to CHUNK_ROWS values of one column. */
const SAMPLE_COLUMNS = `
  column_index UInt32,
  column String,
  kind Enum8('number' = 1, 'category' = 2),
  integer UInt8,
  dtype LowCardinality(String),
  chunk UInt32,
  hi Array(UInt32) EPHEMERAL,
  lo Array(UInt32) EPHEMERAL,
  numbers Array(Float64) DEFAULT ${FLOAT_ARRAY_FROM_HALVES},
  categories Array(Nullable(String))`;

/** The window tables and the rest of their sorting keys (after the window key), which migration 5 extends. */
const COUNT_ID_TABLES: ReadonlyArray<readonly [string, string]> = [
  ['windows', ''],
  ['window_features', ', feature, method'],
  ['window_outliers', ', method'],
  ['window_quality', ', check, column'],
  ['window_samples', ', column_index, chunk'],
];

/** The key every window table starts with: model, segment and the window's bounds. */
const WINDOW_KEY_COLUMNS = `model String,
        segment String,
        window_start DateTime64(3, 'UTC'),
        window_end DateTime64(3, 'UTC'),`;

export const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: 'reference snapshots',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.reference_snapshots (
        snapshot_id String,
        model String,
        model_version String,
        created_at DateTime64(3, 'UTC'),
        source String,
        row_count UInt64,
        source_row_count UInt64,
        sample_seed UInt32,
        sample_max_rows UInt64,
        columns String,
        status Enum8('candidate' = 1, 'active' = 2, 'retired' = 3),
        activated_at Nullable(DateTime64(3, 'UTC')),
        previous_active Nullable(String),
        changed_at DateTime64(3, 'UTC'),
        changed_by String,
        reason String,
        deleted UInt8,
        revision UInt64
      ) ENGINE = ReplacingMergeTree(revision)
      ORDER BY (snapshot_id)`,
      `CREATE TABLE IF NOT EXISTS {db}.reference_values (
        snapshot_id String,${SAMPLE_COLUMNS}
      ) ENGINE = ReplacingMergeTree
      ORDER BY (snapshot_id, column_index, chunk)`,
      `CREATE TABLE IF NOT EXISTS {db}.reference_profiles (
        snapshot_id String,
        format_version UInt16,
        profile String,
        created_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree
      ORDER BY (snapshot_id)`,
      `CREATE TABLE IF NOT EXISTS {db}.reference_activations (
        model String,
        at DateTime64(3, 'UTC'),
        action Enum8('promote' = 1, 'rollback' = 2),
        snapshot_id String,
        previous_snapshot_id Nullable(String),
        by String,
        reason String
      ) ENGINE = ReplacingMergeTree
      ORDER BY (model, at, snapshot_id)`,
    ],
  },
  {
    version: 2,
    name: 'window history',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.windows (
        ${WINDOW_KEY_COLUMNS}
        reference_id String,
        row_count UInt64,
        tested_features UInt32,
        drifted_features UInt32,
        drift_share Nullable(Float64),
        dataset_drifted UInt8,
        computed_at DateTime64(3, 'UTC'),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (model, segment, window_start, window_end)`,
      `CREATE TABLE IF NOT EXISTS {db}.window_features (
        ${WINDOW_KEY_COLUMNS}
        feature String,
        method LowCardinality(String),
        status Enum8('ok' = 1, 'insufficient_data' = 2),
        score Nullable(Float64),
        statistic Nullable(Float64),
        threshold Float64,
        drifted UInt8,
        reason String,
        reference_size UInt64,
        current_size UInt64,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (model, segment, window_start, window_end, feature, method)`,
      `CREATE TABLE IF NOT EXISTS {db}.window_outliers (
        ${WINDOW_KEY_COLUMNS}
        method LowCardinality(String),
        status Enum8('ok' = 1, 'insufficient_data' = 2),
        outliers UInt64,
        scored UInt64,
        share Nullable(Float64),
        reason String,
        detail String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (model, segment, window_start, window_end, method)`,
      `CREATE TABLE IF NOT EXISTS {db}.window_quality (
        ${WINDOW_KEY_COLUMNS}
        check LowCardinality(String),
        column String,
        status Enum8('passed' = 1, 'failed' = 2, 'insufficient_data' = 3),
        value Nullable(Float64),
        detail String,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (model, segment, window_start, window_end, check, column)`,
      `CREATE TABLE IF NOT EXISTS {db}.window_samples (
        ${WINDOW_KEY_COLUMNS}${SAMPLE_COLUMNS},
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (model, segment, window_start, window_end, column_index, chunk)`,
    ],
  },
  {
    version: 3,
    name: 'dead letters and alert outbox',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.dead_letters (
        id String,
        received_at DateTime64(3, 'UTC'),
        source String,
        model String,
        reason_code LowCardinality(String),
        reason String,
        payload String
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(received_at)
      ORDER BY (id)`,
      `CREATE TABLE IF NOT EXISTS {db}.alert_outbox (
        id String,
        action String,
        kind LowCardinality(String),
        payload String,
        status Enum8('pending' = 1, 'delivered' = 2, 'dead' = 3),
        attempts UInt32,
        next_attempt_at DateTime64(3, 'UTC'),
        last_error String,
        created_at DateTime64(3, 'UTC'),
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY (id)`,
    ],
  },
  {
    version: 4,
    name: 'alert state, alert history and silences',
    statements: [
      `CREATE TABLE IF NOT EXISTS {db}.alert_state (
        key String,
        state String,
        deleted UInt8,
        revision UInt64
      ) ENGINE = ReplacingMergeTree(revision)
      ORDER BY (key)`,
      `CREATE TABLE IF NOT EXISTS {db}.alert_history (
        fingerprint String,
        rule String,
        model String,
        labels String,
        from_state LowCardinality(String),
        to_state LowCardinality(String),
        at DateTime64(3, 'UTC'),
        window_start DateTime64(3, 'UTC'),
        value Nullable(Float64),
        suppressed String,
        event_id String
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toYYYYMM(at)
      ORDER BY (model, rule, fingerprint, at, to_state)`,
      `CREATE TABLE IF NOT EXISTS {db}.silences (
        id String,
        matchers String,
        starts_at DateTime64(3, 'UTC'),
        ends_at DateTime64(3, 'UTC'),
        created_by String,
        comment String,
        created_at DateTime64(3, 'UTC'),
        revision UInt64
      ) ENGINE = ReplacingMergeTree(revision)
      ORDER BY (id)`,
    ],
  },
  {
    version: 5,
    name: 'count window ids',
    // Two count windows of a route may share their bounds (their rows' event times); their id (WindowKey.countId,
    // '' for time windows) keeps them apart. A column added in the same ALTER may extend the sorting key; ClickHouse
    // refuses a DEFAULT expression on it, and a String column's default is '' anyway.
    statements: COUNT_ID_TABLES.map(
      ([table, order]) =>
        `ALTER TABLE {db}.${table} ADD COLUMN IF NOT EXISTS window_id String AFTER window_end, ` +
        `MODIFY ORDER BY (model, segment, window_start, window_end${order}, window_id)`,
    ),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The time column each retained table expires by. */
export const TTL_COLUMN: Readonly<Record<string, string>> = {
  windows: 'window_end',
  window_features: 'window_end',
  window_outliers: 'window_end',
  window_quality: 'window_end',
  window_samples: 'window_end',
  dead_letters: 'received_at',
  alert_outbox: 'created_at',
  alert_history: 'at',
};
