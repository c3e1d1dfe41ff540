/**
 * What the store contract suite needs around each test: a config built from the environment (embedded engine in a
 * temp dir, or the ClickHouse server named by CLICKHOUSE_URL), a fresh database per test, and cleanup of every
 * store and database a test opened.
 *
 * The embedded engine binds one data directory per process, so a test file uses a single temp dir (vitest runs each
 * file in its own process) and isolates tests by database name instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, afterEach } from 'vitest';
import { connect } from '../../src/store/clickhouse/connection.js';
import { openStore, storeConfigFromEnv, type ClickHouseStore, type OpenOptions, type StoreConfig } from '../../src/store/index.js';

export interface StoreHarness {
  /** 'embedded' or 'server', as the environment chose. */
  readonly engine: StoreConfig['engine'];
  /** A new database name (`dw_test_<random>`), dropped after the test. */
  newDatabase(): string;
  /** The environment's config pointed at `database` (a new one by default). */
  config(database?: string): StoreConfig;
  /** Opens a store (closed after the test). */
  open(config: StoreConfig, options?: OpenOptions): Promise<ClickHouseStore>;
  /** A raw client on the same engine, for setting up states the store API cannot produce. */
  admin(): ClickHouseClient;
}

export function storeHarness(): StoreHarness {
  const dataDir = mkdtempSync(join(tmpdir(), 'driftwatch-store-'));
  const base = storeConfigFromEnv(process.env, { dataDir });
  const opened: ClickHouseStore[] = [];
  const databases: string[] = [];
  let adminClient: ClickHouseClient | null = null;

  const admin = (): ClickHouseClient => {
    adminClient ??= connect({ ...base, database: 'default' }).client;
    return adminClient;
  };

  afterEach(async () => {
    const stores = opened.splice(0);
    for (const s of stores) await s.close();
    const names = databases.splice(0);
    for (const name of names) await admin().command({ query: `DROP DATABASE IF EXISTS \`${name}\`` });
  });

  afterAll(async () => {
    if (adminClient) await adminClient.close();
    adminClient = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const newDatabase = (): string => {
    const name = `dw_test_${randomBytes(6).toString('hex')}`;
    databases.push(name);
    return name;
  };

  return {
    engine: base.engine,
    newDatabase,
    config: (database = newDatabase()) => ({ ...base, database }),
    async open(config, options = {}) {
      const store = await openStore(config, options);
      opened.push(store);
      return store;
    },
    admin,
  };
}

/** Runs `p` and returns the error it rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** The raw bits of every double, so NaN, -0 and subnormals compare exactly. */
export function bits(values: Float64Array): BigUint64Array {
  // A view, not a copy: copying element by element could canonicalise NaN payloads.
  return new BigUint64Array(values.buffer, values.byteOffset, values.length);
}

/** Index of the first element whose bits differ (or the shorter length), -1 when identical. */
export function firstBitDifference(a: Float64Array, b: Float64Array): number {
  const x = bits(a);
  const y = bits(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
  return x.length === y.length ? -1 : n;
}
