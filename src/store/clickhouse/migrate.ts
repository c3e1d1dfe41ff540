import { endianness } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from '../../core/errors.js';
import { RETAINED_TABLES, type RetainedTable, type RetryPolicy } from '../config.js';
import { withRetry } from './retry.js';
import type { FloatEncoding } from './rows.js';
import { FLOAT_ARRAY_FROM_RAW_OR_HALVES, MIGRATIONS, TTL_COLUMN, type Migration } from './schema.js';

export interface MigrationOutcome {
  /** Schema version before and after. */
  readonly from: number;
  readonly to: number;
  readonly applied: ReadonlyArray<number>;
}

/** `{db}` in a statement becomes the (already checked) database identifier. */
export function inDatabase(sql: string, database: string): string {
  return sql.replaceAll('{db}', `\`${database}\``);
}

/**
 * Brings the database to `target` (default: the newest migration): creates it if needed, applies the missing
 * migrations in order, and records each one. Safe to run at every start-up and from several processes at once.
 * A database that is already newer than this build is refused.
 */
export async function migrate(
  client: ClickHouseClient,
  database: string,
  retry: RetryPolicy,
  options: { target?: number; migrations?: ReadonlyArray<Migration> } = {},
): Promise<MigrationOutcome> {
  const migrations = options.migrations ?? MIGRATIONS;
  const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  const target = options.target ?? known;
  const run = (what: string, query: string) => withRetry(what, retry, () => client.command({ query: inDatabase(query, database) }));
  await run('creating the database', 'CREATE DATABASE IF NOT EXISTS {db}');
  await run(
    'creating the migrations table',
    `CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
      version UInt32,
      name String,
      applied_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree ORDER BY (version)`,
  );
  const current = await currentVersion(client, database, retry);
  if (current > known) {
    throw new StoreError(
      'schema_too_new',
      `database ${database} has schema version ${current}, but this driftwatch knows versions up to ${known}: upgrade driftwatch (or point it at another database)`,
    );
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue;
    for (const statement of m.statements) await run(`migration ${m.version} (${m.name})`, statement);
    await withRetry(`recording migration ${m.version}`, retry, () =>
      client.insert({
        table: `\`${database}\`.schema_migrations`,
        values: [{ version: m.version, name: m.name, applied_at: Date.now() }],
        format: 'JSONEachRow',
      }),
    );
    applied.push(m.version);
  }
  return { from: current, to: Math.max(current, ...applied), applied };
}

export async function currentVersion(client: ClickHouseClient, database: string, retry: RetryPolicy): Promise<number> {
  const rows = await withRetry('reading the schema version', retry, async () => {
    const rs = await client.query({
      query: inDatabase('SELECT max(version) AS version FROM {db}.schema_migrations', database),
      format: 'JSONEachRow',
    });
    return rs.json<{ version: number | string }>();
  });
  return Number(rows[0]?.version ?? 0);
}

/** The TTL clause each retained table should have, in the form the engine shows it. */
export function ttlExpression(table: RetainedTable, days: number): string | null {
  if (days === 0) return null;
  return `toDateTime(${TTL_COLUMN[table]}) + toIntervalDay(${days})`;
}

/**
 * Sets each retained table's TTL to the configured number of days (removing it for 0). Expired rows are then
 * dropped by the engine's merges: this is the store's garbage collection. Only tables whose TTL differs are altered.
 */
export async function applyRetention(
  client: ClickHouseClient,
  database: string,
  retentionDays: Readonly<Record<RetainedTable, number>>,
  retry: RetryPolicy,
): Promise<void> {
  const current = await tableTtls(client, database, retry);
  for (const table of RETAINED_TABLES) {
    const days = retentionDays[table];
    if (!Number.isInteger(days) || days < 0) throw new StoreError('bad_config', `retention for ${table} must be whole days >= 0, got ${days}`);
    const wanted = ttlExpression(table, days);
    const have = current.get(table) ?? null;
    if (wanted === have) continue;
    const sql =
      wanted === null
        ? `ALTER TABLE {db}.${table} REMOVE TTL`
        : `ALTER TABLE {db}.${table} MODIFY TTL ${wanted}`;
    await withRetry(`setting the retention of ${table}`, retry, () => client.command({ query: inDatabase(sql, database) }));
  }
}

/** Table name -> its TTL expression (null when none), read from the engine's catalogue. */
export async function tableTtls(client: ClickHouseClient, database: string, retry: RetryPolicy): Promise<Map<string, string | null>> {
  const rows = await withRetry('reading table settings', retry, async () => {
    const rs = await client.query({
      query: 'SELECT name, create_table_query FROM system.tables WHERE database = {db:String}',
      query_params: { db: database },
      format: 'JSONEachRow',
    });
    return rs.json<{ name: string; create_table_query: string }>();
  });
  const out = new Map<string, string | null>();
  for (const row of rows) {
    const m = /\bTTL (.+?)(?: SETTINGS |$)/s.exec(row.create_table_query);
    out.set(row.name, m ? m[1]!.trim() : null);
  }
  return out;
}

/** The little-endian bytes of 1.0 in base64: the probe of `applyRawFloats`. */
const RAW_ONE = 'AAAAAAAA8D8=';

/** The tables whose float arrays can travel as raw bytes (both hold columnar chunks, see schema.ts). */
const FLOAT_ARRAY_TABLES = ['reference_values', 'window_samples'] as const;

/**
 * Lets the columnar tables (FLOAT_ARRAY_TABLES) take their doubles as raw bytes (`raw String EPHEMERAL`, see
 * FLOAT_ARRAY_FROM_RAW_OR_HALVES) where the engine can rebuild them: it must reinterpret a string as
 * Array(Float64) (ClickHouse 25.7 and later) and in little-endian order, as must this process. Idempotent (only
 * what differs is altered) and safe for older builds, which go on sending the halves; an ALTER the engine refuses
 * (a user without the right) leaves the halves. Answers the encoding every one of those tables takes, read back
 * from the catalogue.
 */
export async function applyRawFloats(client: ClickHouseClient, database: string, retry: RetryPolicy): Promise<FloatEncoding> {
  if (endianness() !== 'LE') return 'halves';
  let capable = false;
  try {
    const rs = await client.query({ query: `SELECT reinterpret(base64Decode('${RAW_ONE}'), 'Array(Float64)') = [1.] AS ok`, format: 'JSONEachRow' });
    capable = Number((await rs.json<{ ok: number | boolean }>())[0]?.ok) === 1;
  } catch {
    // An older engine: the function cannot take an array type.
  }
  if (!capable) return 'halves';
  const columns = async () => {
    const rows = await withRetry('reading the columns of the columnar tables', retry, async () => {
      const rs = await client.query({
        query: `SELECT table, name, default_expression FROM system.columns
          WHERE database = {db:String} AND table IN {tables:Array(String)} AND name IN ('raw', 'numbers')`,
        query_params: { db: database, tables: FLOAT_ARRAY_TABLES },
        format: 'JSONEachRow',
      });
      return rs.json<{ table: string; name: string; default_expression: string }>();
    });
    return (table: string) => {
      const own = rows.filter((r) => r.table === table);
      const numbers = own.find((r) => r.name === 'numbers')?.default_expression ?? '';
      const hasRaw = own.some((r) => r.name === 'raw');
      return { hasRaw, takesRaw: hasRaw && /reinterpret\(base64Decode\(raw\)/.test(numbers) };
    };
  };
  const before = await columns();
  const alter = (what: string, sql: string) => withRetry(what, retry, () => client.command({ query: inDatabase(sql, database) }));
  try {
    for (const table of FLOAT_ARRAY_TABLES) {
      const state = before(table);
      if (state.takesRaw) continue;
      if (!state.hasRaw) await alter(`adding ${table}.raw`, `ALTER TABLE {db}.${table} ADD COLUMN IF NOT EXISTS raw String EPHEMERAL`);
      await alter(`setting the default of ${table}.numbers`, `ALTER TABLE {db}.${table} MODIFY COLUMN numbers DEFAULT ${FLOAT_ARRAY_FROM_RAW_OR_HALVES}`);
    }
  } catch {
    // Refused (a user without the right to alter columns, say): the halves still work; the catalogue says which.
  }
  const after = await columns();
  return FLOAT_ARRAY_TABLES.every((t) => after(t).takesRaw) ? 'raw' : 'halves';
}
