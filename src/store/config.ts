import { resolve } from 'node:path';
import { StoreError } from '../core/errors.js';

/** Tables whose rows expire; each has its own retention. */
export const RETAINED_TABLES = [
  'windows',
  'window_features',
  'window_outliers',
  'window_quality',
  'window_samples',
  'dead_letters',
  'alert_outbox',
  'alert_history',
] as const;
export type RetainedTable = (typeof RETAINED_TABLES)[number];

/** Days each table keeps a row (from the row's time column); 0 keeps it forever. */
export const DEFAULT_RETENTION_DAYS: Readonly<Record<RetainedTable, number>> = {
  windows: 365,
  window_features: 180,
  window_outliers: 180,
  window_quality: 180,
  window_samples: 30,
  dead_letters: 30,
  alert_outbox: 90,
  alert_history: 365,
};

export interface RetryPolicy {
  /** First pause; each further attempt doubles it (with jitter) up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Total time an operation may spend retrying before the caller gets an error. */
  readonly budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 5_000, budgetMs: 30_000 };

export type StoreConfig =
  | {
      readonly engine: 'embedded';
      /** Data directory of the embedded engine (one per process). */
      readonly path: string;
      readonly database: string;
      readonly retentionDays: Readonly<Record<RetainedTable, number>>;
      readonly retry: RetryPolicy;
    }
  | {
      readonly engine: 'server';
      readonly url: string;
      readonly username: string;
      readonly password: string;
      readonly database: string;
      /** Per-request timeout: a slow server counts as a transient failure after this. */
      readonly requestTimeoutMs: number;
      readonly retentionDays: Readonly<Record<RetainedTable, number>>;
      readonly retry: RetryPolicy;
    };

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A database name goes into DDL as an identifier, so it is checked, never escaped. */
export function checkDatabaseName(name: string): string {
  if (!DATABASE_NAME.test(name)) {
    throw new StoreError(
      'bad_config',
      `database name ${JSON.stringify(name)} must be letters, digits and underscores, starting with a letter or underscore`,
    );
  }
  return name;
}

/**
 * The store settings from the environment:
 * - `CLICKHOUSE_URL` (with `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`): a ClickHouse server over HTTP; without it the
 *   embedded engine in `DRIFTWATCH_DATA_DIR` (default `./data`).
 * - `CLICKHOUSE_DATABASE` (default `driftwatch`).
 * - `DRIFTWATCH_RETENTION_<TABLE>` in days (e.g. `DRIFTWATCH_RETENTION_WINDOW_SAMPLES=14`; 0 keeps rows forever).
 * - `DRIFTWATCH_STORE_RETRY_BUDGET_MS`, `CLICKHOUSE_REQUEST_TIMEOUT_MS`.
 * Every problem is reported at once.
 */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: { dataDir?: string } = {}): StoreConfig {
  const problems: string[] = [];
  const database = env['CLICKHOUSE_DATABASE'] || 'driftwatch';
  if (!DATABASE_NAME.test(database)) problems.push(`CLICKHOUSE_DATABASE: ${JSON.stringify(database)} is not a plain identifier`);
  const retentionDays = { ...DEFAULT_RETENTION_DAYS };
  for (const table of RETAINED_TABLES) {
    const name = `DRIFTWATCH_RETENTION_${table.toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const days = Number(raw.trim().replace(/d$/, ''));
    if (!Number.isInteger(days) || days < 0 || days > 36_500) problems.push(`${name}: expected whole days from 0 to 36500, got ${JSON.stringify(raw)}`);
    else retentionDays[table] = days;
  }
  const retry = { ...DEFAULT_RETRY };
  const budget = env['DRIFTWATCH_STORE_RETRY_BUDGET_MS'];
  if (budget !== undefined && budget !== '') {
    const ms = Number(budget);
    if (!Number.isFinite(ms) || ms < 0) problems.push(`DRIFTWATCH_STORE_RETRY_BUDGET_MS: expected milliseconds >= 0, got ${JSON.stringify(budget)}`);
    else retry.budgetMs = ms;
  }
  const url = env['CLICKHOUSE_URL'];
  let requestTimeoutMs = 30_000;
  const timeout = env['CLICKHOUSE_REQUEST_TIMEOUT_MS'];
  if (timeout !== undefined && timeout !== '') {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || ms <= 0) problems.push(`CLICKHOUSE_REQUEST_TIMEOUT_MS: expected milliseconds > 0, got ${JSON.stringify(timeout)}`);
    else requestTimeoutMs = ms;
  }
  if (url) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`CLICKHOUSE_URL: ${JSON.stringify(redactUrl(url))} is not a URL`);
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.push(`CLICKHOUSE_URL: expected http:// or https://, got ${parsed.protocol}`);
    }
  }
  if (problems.length > 0) throw new StoreError('bad_config', `store configuration: ${problems.join('; ')}`);
  if (url) {
    return {
      engine: 'server',
      url,
      username: env['CLICKHOUSE_USER'] || 'default',
      password: env['CLICKHOUSE_PASSWORD'] ?? '',
      database,
      requestTimeoutMs,
      retentionDays,
      retry,
    };
  }
  return {
    engine: 'embedded',
    path: resolve(overrides.dataDir ?? env['DRIFTWATCH_DATA_DIR'] ?? './data'),
    database,
    retentionDays,
    retry,
  };
}

/** A URL fit for logs and messages: credentials removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}
