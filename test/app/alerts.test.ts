/**
 * Alerting through a running service (embedded engine, the demo stream, the shipped rules) against real HTTP
 * receivers on loopback (src/app/demo-receivers.ts: a Slack-like endpoint, a webhook endpoint that verifies
 * signatures with the `standardwebhooks` library, and an Airflow-like API that answers 409 to a repeated run id).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL } from '../../src/app/demo-data.js';
import type { DemoReceivers } from '../../src/app/demo-receivers.js';
import { startService, type Service } from '../../src/app/service.js';
import type { OutboxEntry } from '../../src/core/store.js';
import type { AlertingEvent } from '../../src/pipeline/alerting.js';
import { demoSetup, demoStream, type DemoSetup } from '../helpers/demo-service.js';

const dataDir = mkdtempSync(join(tmpdir(), 'driftwatch-alerts-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh database with the demo reference, a copy of the shipped rules, and receivers they act on. */
async function setup(yaml = ''): Promise<DemoSetup & { readonly receivers: DemoReceivers; readonly rulesDir: string }> {
  const s = await demoSetup(dataDir, { yaml: `  delivery: { base_delay: 100ms, max_delay: 1s, max_attempts: 100 }\n${yaml}`, onCleanup: (fn) => cleanups.push(fn) });
  return { ...s, receivers: s.receivers!, rulesDir: s.rulesDir! };
}

/** The demo stream through a service; resolves once every window is written. */
async function streamDemo(s: DemoSetup, onAlert?: (e: AlertingEvent) => void): Promise<Service> {
  const service = await startService({ config: s.config, source: demoStream(s.data), http: true, env: s.env, log: () => undefined, ...(onAlert ? { onAlert } : {}) });
  cleanups.push(() => service.stop());
  await service.finished;
  return service;
}

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const byStatus = (list: OutboxEntry[], status: string) => list.filter((e) => e.status === status);

describe('alerts from the demo stream', () => {
  it('receivers down, then up: every notification is delivered after the recovery, each id exactly once', async () => {
    const s = await setup();
    s.receivers.setDown(true);
    const service = await streamDemo(s);
    // Deliveries were attempted and failed (503), and stay pending: nothing is lost while the receivers are down.
    await until('failed attempts', async () => (await service.store.listOutbox()).some((e) => e.attempts > 0 && e.status === 'pending'));
    const pending = await service.store.listOutbox();
    expect(pending.length).toBe(5);
    expect(byStatus(pending, 'delivered')).toEqual([]);
    expect(s.receivers.received).toEqual([]);

    s.receivers.setDown(false);
    await until('every delivery', async () => byStatus(await service.store.listOutbox(), 'delivered').length === 5);
    const outbox = await service.store.listOutbox();
    // Oldest first, in the order the engine made them: the first drifted window's notifications, then the next one's.
    expect(outbox.map((e) => (JSON.parse(e.payload) as { rule: string }).rule)).toEqual([
      'dataset-drift',
      'dataset-drift',
      'key-feature-drift',
      'key-feature-drift',
      'key-feature-drift',
    ]);
    expect(byStatus(outbox, 'dead')).toEqual([]);
    expect(outbox.filter((e) => e.lastError !== '')).toEqual([]);
    expect(outbox.some((e) => e.attempts > 1)).toBe(true);

    const webhooks = s.receivers.received.filter((r) => r.kind === 'webhook');
    const webhookRows = outbox.filter((e) => e.action === 'pipeline-webhook');
    expect(webhooks.map((r) => r.id).sort()).toEqual(webhookRows.map((e) => e.id).sort());
    expect(webhooks.filter((r) => r.duplicate)).toEqual([]);
    expect(s.receivers.received.filter((r) => r.kind === 'slack')).toHaveLength(2);
    const runs = s.receivers.airflowRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.dagId).toBe('retrain_model');
    expect(runs[0]!.runId).toBe(`driftwatch__${outbox.find((e) => e.action === 'retrain')!.id}`);
    expect(runs[0]!.conf).toMatchObject({ model: DEMO_MODEL, lot_id: 'L-2002', window_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });

    // The API shows the same, and a retry of a delivered notification is refused (it stays delivered).
    const api = await (await fetch(`${service.url}/v1/actions?status=delivered`)).json() as { deliveries: OutboxEntry[] };
    expect(api.deliveries.map((e) => e.id).sort()).toEqual(outbox.map((e) => e.id).sort());
    const retry = await fetch(`${service.url}/v1/actions/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [outbox[0]!.id] }) });
    expect(await retry.json()).toEqual({ requeued: [], skipped: [outbox[0]!.id] });

    // History: the firing transitions are stored, with the lot as a label.
    const history = await service.store.listAlertHistory({ model: DEMO_MODEL });
    const fired = history.filter((t) => t.to === 'firing');
    expect(fired.map((t) => `${t.rule} ${t.labels['feature'] ?? ''} ${t.labels['lot_id']}`).sort()).toEqual([
      'dataset-drift  L-2002',
      'dataset-drift  L-2003',
      'key-feature-drift pressure_bar L-2002',
      'key-feature-drift pressure_bar L-2003',
      'key-feature-drift temp_c L-2002',
      'key-feature-drift temp_c L-2003',
    ]);
    // The second lot's episodes fall in the rules' cooldowns: recorded, not sent.
    expect(fired.filter((t) => t.labels['lot_id'] === 'L-2003').every((t) => t.suppressed.startsWith('cooldown until'))).toBe(true);
    await service.stop();
  });

  it('a silence created through the API stops notifications for what it matches; the alerts still change state', async () => {
    const s = await setup();
    // A running service (no stream yet) to create the silence through, like an operator would.
    const idle = await startService({ config: s.config, env: s.env, log: () => undefined });
    const created = await fetch(`${idle.url}/v1/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ label: 'alertname', pattern: 'key-feature-*' }], duration: '2h', comment: 'planned maintenance', created_by: 'test' }),
    });
    expect(created.status).toBe(201);
    const silence = (await created.json()) as { id: string };
    const bad = await fetch(`${idle.url}/v1/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ matchers: [] }) });
    expect(bad.status).toBe(400);
    await idle.stop();

    const events: AlertingEvent[] = [];
    const service = await streamDemo(s, (e) => events.push(e));
    await until('deliveries', async () => (await service.store.listOutbox({ status: 'pending' })).length === 0 && (await service.store.listOutbox()).length > 0);
    const outbox = await service.store.listOutbox();
    expect(outbox.map((e) => JSON.parse(e.payload).rule as string).every((r) => r === 'dataset-drift')).toBe(true);
    expect(s.receivers.airflowRuns()).toEqual([]);
    const silenced = events.filter((e) => e.type === 'transition' && e.transition.to === 'firing' && e.transition.rule === 'key-feature-drift');
    expect(silenced.length).toBeGreaterThan(0);
    for (const e of silenced) expect(e.type === 'transition' && e.transition.suppressed).toBe(`silenced by ${silence.id}`);
    await service.stop();
  });

  it('rule files are reloaded on change and on SIGHUP; an invalid version is reported and the previous rules stay', async () => {
    const s = await setup();
    const lines: string[] = [];
    const service = await startService({ config: s.config, env: s.env, log: (l) => lines.push(l) });
    cleanups.push(() => service.stop());
    const alerts = service.alerts!;
    expect(alerts.rules().rules.map((r) => r.name)).toContain('key-feature-drift');
    const before = alerts.rules();

    // A broken file: every problem reported with its place; the rules in force do not change.
    writeFileSync(join(s.rulesDir, 'broken.yaml'), 'rules:\n  - name: bad\n    condition: { feature_scor: { above: 1 } }\n    severity: crit\n    actions: [ops-slak]\n');
    const reload = await fetch(`${service.url}/v1/rules/reload`, { method: 'POST' });
    expect(reload.status).toBe(422);
    const body = (await reload.json()) as { ok: boolean; problems: string[] };
    expect(body.ok).toBe(false);
    expect(body.problems.join('\n')).toMatch(/broken\.yaml:3:\d+.*feature_scor/);
    expect(body.problems.join('\n')).toMatch(/broken\.yaml:4:\d+.*crit/);
    expect(alerts.rules()).toBe(before);
    await until('the file watcher to report it', () => lines.some((l) => l.includes('rules not reloaded (file change)')), 10_000);
    expect(alerts.rules()).toBe(before);

    // Fixed: SIGHUP loads it.
    writeFileSync(join(s.rulesDir, 'broken.yaml'), 'rules:\n  - name: extra\n    condition: { error_share: { above: 0.5 } }\n    actions: [ops-slack]\n');
    process.emit('SIGHUP', 'SIGHUP');
    await until('the reload', () => alerts.rules().rules.some((r) => r.name === 'extra'), 10_000);
    expect(lines.some((l) => l.includes('rules reloaded'))).toBe(true);
    const listed = (await (await fetch(`${service.url}/v1/rules`)).json()) as { rules: Array<{ name: string }> };
    expect(listed.rules.map((r) => r.name)).toContain('extra');
    await service.stop();
  });
});
