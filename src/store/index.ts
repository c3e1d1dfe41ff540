export { openStore, ClickHouseStore, segmentKey, PROFILE_FORMAT_VERSION, type OpenOptions } from './clickhouse/store.js';
export { MIGRATIONS, SCHEMA_VERSION } from './clickhouse/schema.js';
export { tableTtls, ttlExpression } from './clickhouse/migrate.js';
export {
  storeConfigFromEnv,
  checkDatabaseName,
  redactUrl,
  RETAINED_TABLES,
  DEFAULT_RETENTION_DAYS,
  DEFAULT_RETRY,
  type StoreConfig,
  type RetainedTable,
  type RetryPolicy,
} from './config.js';
export { withRetry, isTransient } from './clickhouse/retry.js';
