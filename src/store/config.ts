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

/** The store's own variables, read only here (not settings of the config file). */
const RETENTION_PREFIX = 'DRIFTWATCH_RETENTION_';
const STORE_PREFIX = 'DRIFTWATCH_STORE_';
const RETRY_BUDGET_ENV = 'DRIFTWATCH_STORE_RETRY_BUDGET_MS';
const REQUEST_TIMEOUT_ENV = 'CLICKHOUSE_REQUEST_TIMEOUT_MS';
/** The longest a timer can wait (Node fires a longer one at once); the request timeout is one. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Every variable the store reads besides the connection (CLICKHOUSE_URL, ...): retention, retries, timeout. */
const STORE_ENV_NAMES: ReadonlyArray<string> = [
  ...RETAINED_TABLES.map((table) => `${RETENTION_PREFIX}${table.toUpperCase()}`),
  RETRY_BUDGET_ENV,
  REQUEST_TIMEOUT_ENV,
];

/** A problem with one environment variable: its name and what is wrong (never its value when that may be secret). */
export interface StoreEnvProblem {
  readonly name: string;
  readonly message: string;
}

interface StoreEnvSettings {
  readonly retentionDays: Readonly<Record<RetainedTable, number>>;
  readonly retry: RetryPolicy;
  readonly requestTimeoutMs: number;
  readonly problems: ReadonlyArray<StoreEnvProblem>;
}

/**
 * The store's tuning variables (retention, retry budget, request timeout) with a problem for each bad value and
 * for each unknown `DRIFTWATCH_RETENTION_*` / `DRIFTWATCH_STORE_*` name (a misspelt one would be silently ignored).
 * `hint` words a did-you-mean for an unknown name (`; did you mean "X"?`, or '' for none).
 */
function readStoreEnv(env: NodeJS.ProcessEnv, hint: (name: string, known: ReadonlyArray<string>) => string): StoreEnvSettings {
  const problems: StoreEnvProblem[] = [];
  const retentionDays = { ...DEFAULT_RETENTION_DAYS };
  for (const table of RETAINED_TABLES) {
    const name = `${RETENTION_PREFIX}${table.toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    // `14` or `14d`; not ` ` or `d`, which Number() would read as 0 (keep forever).
    const m = /^\s*(\d+)d?\s*$/.exec(raw);
    const days = m === null ? NaN : Number(m[1]);
    if (Number.isNaN(days) || days > 36_500) problems.push({ name, message: `expected whole days from 0 to 36500, got ${JSON.stringify(raw)}` });
    else retentionDays[table] = days;
  }
  const retry = { ...DEFAULT_RETRY };
  const budget = env[RETRY_BUDGET_ENV];
  if (budget !== undefined && budget !== '') {
    const ms = Number(budget);
    // Not ` `, which Number() would read as 0 (no retries at all).
    if (budget.trim() === '' || !Number.isFinite(ms) || ms < 0) {
      problems.push({ name: RETRY_BUDGET_ENV, message: `expected milliseconds >= 0, got ${JSON.stringify(budget)}` });
    } else retry.budgetMs = ms;
  }
  let requestTimeoutMs = 30_000;
  const timeout = env[REQUEST_TIMEOUT_ENV];
  if (timeout !== undefined && timeout !== '') {
    const ms = Number(timeout);
    if (!Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
      problems.push({ name: REQUEST_TIMEOUT_ENV, message: `expected milliseconds from 1 to ${MAX_TIMER_MS}, got ${JSON.stringify(timeout)}` });
    } else requestTimeoutMs = ms;
  }
  // An empty variable counts as unset, here as everywhere.
  const unknown = Object.keys(env)
    .filter((name) => (name.startsWith(RETENTION_PREFIX) || name.startsWith(STORE_PREFIX)) && !STORE_ENV_NAMES.includes(name))
    .filter((name) => env[name] !== undefined && env[name] !== '')
    .sort();
  const tables = RETAINED_TABLES.map((t) => t.toUpperCase());
  for (const name of unknown) {
    const h = hint(name, STORE_ENV_NAMES);
    const known = name.startsWith(RETENTION_PREFIX)
      ? `${RETENTION_PREFIX}<TABLE> with TABLE one of ${tables.slice(0, -1).join(', ')} or ${tables[tables.length - 1]}`
      : RETRY_BUDGET_ENV;
    problems.push({ name, message: h !== '' ? `unknown variable${h}` : `unknown variable; expected ${known}` });
  }
  return { retentionDays, retry, requestTimeoutMs, problems };
}

/**
 * The problems of the store's tuning variables (see readStoreEnv), for a caller that checks the environment before
 * it opens the store (the service's configuration, so every problem is reported at once).
 */
export function storeEnvProblems(env: NodeJS.ProcessEnv, hint: (name: string, known: ReadonlyArray<string>) => string = () => ''): ReadonlyArray<StoreEnvProblem> {
  return readStoreEnv(env, hint).problems;
}

/** Query parameters whose name says they carry a secret (`password`, `access_token`, `http_header_authorization`). */
const SECRET_PARAM = /pass|pwd|secret|token|auth|credential|(?:^|[_-])key(?:$|[_-])|apikey/i;

/**
 * What is wrong with a ClickHouse URL, or null when it is usable: it must be http(s), and carry no credentials
 * (user:password@, or a query parameter named like a secret): the user comes from CLICKHOUSE_USER (or the config
 * file), the password only from CLICKHOUSE_PASSWORD, so there is one place for each and none is ever printed with
 * the URL. (`@clickhouse/client` would let the URL's user and password silently win over the configured ones.)
 * The message never shows the URL's secrets.
 */
export function clickhouseUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `expected an http:// or https:// URL, got ${JSON.stringify(redactUrl(url))}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `expected an http:// or https:// URL, got ${JSON.stringify(redactUrl(url))}`;
  if (parsed.username !== '' || parsed.password !== '') {
    return 'expected a URL without user:password, got one with credentials (not shown): set the user with env CLICKHOUSE_USER and the password with env CLICKHOUSE_PASSWORD';
  }
  const secret = [...parsed.searchParams.keys()].find((key) => SECRET_PARAM.test(key));
  if (secret !== undefined) {
    return `expected a URL without secrets, got one with the query parameter ${JSON.stringify(secret)} (its value not shown): set the password with env CLICKHOUSE_PASSWORD`;
  }
  return null;
}

/**
 * The store settings from the environment:
 * - `CLICKHOUSE_URL` (with `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`): a ClickHouse server over HTTP; without it the
 *   embedded engine in `DRIFTWATCH_DATA_DIR` (default `./data`). The URL carries no credentials.
 * - `CLICKHOUSE_DATABASE` (default `driftwatch`).
 * - `DRIFTWATCH_RETENTION_<TABLE>` in days (e.g. `DRIFTWATCH_RETENTION_WINDOW_SAMPLES=14`; 0 keeps rows forever).
 * - `DRIFTWATCH_STORE_RETRY_BUDGET_MS`, `CLICKHOUSE_REQUEST_TIMEOUT_MS`.
 * Every problem is reported at once, unknown `DRIFTWATCH_RETENTION_*` and `DRIFTWATCH_STORE_*` names included.
 */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: { dataDir?: string } = {}): StoreConfig {
  const problems: string[] = [];
  const database = env['CLICKHOUSE_DATABASE'] || 'driftwatch';
  if (!DATABASE_NAME.test(database)) problems.push(`CLICKHOUSE_DATABASE: ${JSON.stringify(database)} is not a plain identifier`);
  const { retentionDays, retry, requestTimeoutMs, problems: tuning } = readStoreEnv(env, () => '');
  problems.push(...tuning.map((p) => `${p.name}: ${p.message}`));
  const url = env['CLICKHOUSE_URL'];
  if (url) {
    const problem = clickhouseUrlProblem(url);
    if (problem !== null) problems.push(`CLICKHOUSE_URL: ${problem}`);
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

/**
 * A URL fit for logs and messages: credentials removed, every query parameter's value replaced by `***` (a value may
 * be a token or a password) and the fragment dropped. Text that is not a URL loses `user:password@` and everything
 * from `?` or `#` on.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '' && u.search === '' && u.hash === '') return url;
    u.username = '';
    u.password = '';
    if (u.search !== '') u.search = [...u.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
    u.hash = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//').replace(/[?#][^]*$/, '');
  }
}
