/**
 * Alert rules on the report path with the real store (embedded engine): a flapping score against hysteresis and
 * cooldown, and restarts: the engine state is restored from the store, so a run interrupted at any batch (and the
 * uncommitted batch replayed, as after a crash) stores exactly the outbox rows and history of an uninterrupted run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRuleFiles } from '../../src/config/rules-file.js';
import type { DriftEvent } from '../../src/core/drift-event.js';
import type { Store } from '../../src/core/store.js';
import { Alerting } from '../../src/pipeline/alerting.js';
import { openStore, storeConfigFromEnv } from '../../src/store/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'driftwatch-alerting-'));
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

async function freshStore(): Promise<Store> {
  const store = await openStore(storeConfigFromEnv({ CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: `dw_test_${randomBytes(6).toString('hex')}` }, { dataDir }));
  stores.push(store);
  return store;
}

const RULES = parseRuleFiles(
  [
    {
      name: 'flap.yaml',
      text: `
actions:
  hook: { kind: webhook, url: "http://127.0.0.1:9/hook", secret_env: HOOK_SECRET }
rules:
  - name: temp-distance
    match: { features: [temp_c] }
    condition: { feature_score: { above: 0.3, clear: 0.2 } }
    for: 2
    resolve_after: 2
    cooldown: 3h
    actions: [hook]
`,
    },
  ],
  {},
);

const T0 = Date.UTC(2026, 10, 1);
const WINDOW = 300_000;

/** Window i of model press-qa with temp_c scored `score` (wasserstein distance; drifted at >= 0.1). */
function event(i: number, score: number): DriftEvent {
  return {
    schema: 'driftwatch.drift-event/v1',
    id: `de-${i}`,
    model: 'press-qa',
    model_version: 'v1',
    segment: { lot_id: 'L-7' },
    window: { start: new Date(T0 + i * WINDOW).toISOString(), end: new Date(T0 + (i + 1) * WINDOW).toISOString(), count: 300, version: 1, cause: 'watermark' },
    reference_id: 'ref-1',
    dataset: { tested: 1, drifted: score >= 0.1 ? 1 : 0, share: score >= 0.1 ? 1 : 0, drift_share: 0.5, drifted_flag: score >= 0.1 },
    features: [{ feature: 'temp_c', method: 'wasserstein', score, statistic: score, threshold: 0.1, drifted: score >= 0.1, status: 'ok' }],
    outliers: [],
    quality_failed: [],
    computed_at: new Date(T0 + (i + 1) * WINDOW).toISOString(),
  };
}

/**
 * Rises above 0.3 twice (fires), hovers between clear (0.2) and threshold for a long time (no resolve, no
 * repeat), drops below clear for two windows (resolves), flaps again within the 3 h cooldown (fires silently),
 * resolves, and drifts again after the cooldown (notifies).
 */
const SCORES = [
  0.1, 0.35, 0.4, 0.29, 0.31, 0.25, 0.33, 0.28, 0.31, 0.27, 0.15, 0.12, // fire at 2, hover, resolve at 11
  0.36, 0.38, 0.31, 0.29, 0.1, 0.1, // fire (cooldown) at 13, resolve at 17
  ...Array.from({ length: 20 }, () => 0.05), // calm
  0.5, 0.5, 0.1, 0.1, // fire at 39 (3 h = 36 windows after the first notification: the cooldown is over), resolve at 41
];
const EVENTS = SCORES.map((s, i) => event(i, s));

function batches<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function alertingOn(store: Store): Promise<Alerting> {
  return Alerting.open({ store, rules: () => RULES, silences: () => [], reportUrl: (e) => `http://dw/${e.id}`, now: () => T0 + 86_400_000 });
}

async function outcome(store: Store) {
  const outbox = (await store.listOutbox()).map((e) => {
    const n = JSON.parse(e.payload) as { status: string; window: { end: number } };
    return { id: e.id, status: n.status, window: (n.window.end - T0) / WINDOW - 1 };
  });
  const history = (await store.listAlertHistory({ limit: 10_000 })).map((t) => `${(t.at - T0) / WINDOW - 1} ${t.from}->${t.to}${t.suppressed ? ` (${t.suppressed.split(' ')[0]})` : ''}`);
  return { outbox: outbox.sort((a, b) => a.window - b.window || a.status.localeCompare(b.status)), history: history.reverse() };
}

describe('alerting with the store', () => {
  it('a flapping score: hysteresis holds the alert, cooldown mutes the second episode, resolutions follow notified firings', async () => {
    const store = await freshStore();
    const alerting = await alertingOn(store);
    for (const b of batches(EVENTS, 3)) (await alerting.onReports(b))();
    const got = await outcome(store);
    expect(got.outbox.map((o) => `${o.window} ${o.status}`)).toEqual(['2 firing', '11 resolved', '39 firing', '41 resolved']);
    expect(got.history).toEqual([
      '1 inactive->pending',
      '2 pending->firing',
      '11 firing->resolved',
      '12 inactive->pending',
      '13 pending->firing (cooldown)',
      '17 firing->resolved (firing)',
      '38 inactive->pending',
      '39 pending->firing',
      '41 firing->resolved',
    ]);
  });

  for (const crashAfter of [1, 4, 9]) {
    it(`a restart after batch ${crashAfter}, with that batch replayed, stores the same as an uninterrupted run`, async () => {
      const reference = await freshStore();
      const straight = await alertingOn(reference);
      for (const b of batches(EVENTS, 3)) await straight.onReports(b);

      const store = await freshStore();
      const parts = batches(EVENTS, 3);
      const first = await alertingOn(store);
      for (const b of parts.slice(0, crashAfter + 1)) await first.onReports(b);
      // The process dies before committing batch `crashAfter`: a new instance restores the state and sees it again.
      const second = await alertingOn(store);
      for (const b of parts.slice(crashAfter)) await second.onReports(b);

      expect(await outcome(store)).toEqual(await outcome(reference));
      expect((await store.listOutbox()).every((e) => e.status === 'pending' && e.attempts === 0)).toBe(true);
    });
  }
});
