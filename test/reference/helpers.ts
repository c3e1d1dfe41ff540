/**
 * Real embedded engine for the reference tests: one temp data dir per test file (the engine binds one data dir per
 * process, and vitest runs each file in its own process), one new database per test, dropped and closed after it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { Store, WindowRecord } from '../../src/core/store.js';
import type { Table } from '../../src/core/table.js';
import { openStore, storeConfigFromEnv, type ClickHouseStore } from '../../src/store/index.js';

import { MINUTE } from '../store/fixtures.js';

export { HOUR, MINUTE } from '../store/fixtures.js';

export interface EngineHarness {
  /** Opens a store on a new database `dw_test_<random>` (dropped and closed after the test). */
  open(): Promise<ClickHouseStore>;
}

export function engineHarness(prefix: string): EngineHarness {
  const dataDir = mkdtempSync(join(tmpdir(), `driftwatch-${prefix}-`));
  const opened: ClickHouseStore[] = [];

  afterEach(async () => {
    for (const store of opened.splice(0)) {
      try {
        await store.client.command({ query: `DROP DATABASE IF EXISTS \`${store.database}\`` });
      } finally {
        await store.close();
      }
    }
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    async open() {
      const database = `dw_test_${randomBytes(6).toString('hex')}`;
      const store = await openStore({ ...storeConfigFromEnv(process.env, { dataDir }), database });
      opened.push(store);
      return store;
    },
  };
}

export { categories, numbers, table } from '../store/fixtures.js';

/** `n` values from `start` on, step 1. */
export function range(start: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

/** A stored window of `model` starting at `start` (one minute long) whose rows are `sample`. */
export function windowWith(model: string, start: number, sample: Table, drifted = false): WindowRecord {
  return {
    key: { model, segment: {}, start, end: start + MINUTE },
    referenceId: 'ref-test',
    rowCount: sample.rowCount,
    testedFeatures: 1,
    driftedFeatures: drifted ? 1 : 0,
    driftShare: drifted ? 1 : 0,
    datasetDrifted: drifted,
    version: 1,
    computedAt: start + MINUTE + 1,
    features: [],
    outliers: [],
    quality: [],
    sample,
  };
}

/**
 * The real store with a hook run right after `activeReferences()` answers: a change made there happens between a
 * refresh's listing and its loads, as a concurrent CLI command would. Also counts listings and how many overlap.
 */
export function withListingHook(store: Store, hook: () => Promise<void> = async () => undefined): Store & { listings: number; maxConcurrent: number } {
  let concurrent = 0;
  const state = { listings: 0, maxConcurrent: 0 };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === 'listings') return state.listings;
      if (prop === 'maxConcurrent') return state.maxConcurrent;
      if (prop === 'activeReferences') {
        return async () => {
          state.listings++;
          concurrent++;
          state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
          try {
            const answer = await target.activeReferences();
            await hook();
            return answer;
          } finally {
            concurrent--;
          }
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return wrapped as Store & { listings: number; maxConcurrent: number };
}

/** Waits up to `polls` x `everyMs` for `done()`; returns how many polls it took (or -1 when it never held). */
export async function waitFor(done: () => boolean, polls: number, everyMs: number): Promise<number> {
  for (let i = 0; i <= polls; i++) {
    if (done()) return i;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return -1;
}
