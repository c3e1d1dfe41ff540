/** The demo receivers (src/app/demo-receivers.ts) on their own: outage switch, limits, auth, listing, callbacks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSender } from '../../src/actions/index.js';
import { type DemoReceivers, type ReceivedItem, startDemoReceivers } from '../../src/app/demo-receivers.js';
import { makeNotification } from './helpers.js';

const AUTH = `Basic ${Buffer.from('af-user:af-pass').toString('base64')}`;

describe('demo receivers', () => {
  let receivers: DemoReceivers;
  const seen: ReceivedItem[] = [];
  beforeAll(async () => {
    receivers = await startDemoReceivers({
      webhookSecret: 'whsec_' + Buffer.from('a demo key of some length').toString('base64'),
      airflow: { username: 'af-user', password: 'af-pass' },
      onReceive: (r) => seen.push(r),
    });
  });
  afterAll(async () => {
    await receivers.close();
  });

  it('listens on 127.0.0.1 and gives the URLs of each receiver', () => {
    expect(receivers.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(receivers.slackUrl).toBe(`${receivers.url}/slack/demo`);
    expect(receivers.webhookUrl).toBe(`${receivers.url}/hooks/demo`);
    expect(receivers.airflowUrl).toBe(receivers.url);
  });

  it('answers 503 on every route while down', async () => {
    receivers.setDown(true);
    try {
      for (const [method, path] of [['POST', '/slack/x'], ['POST', '/hooks/x'], ['POST', '/api/v1/dags/d/dagRuns'], ['GET', '/api/v1/dags/d/dagRuns']] as const) {
        const res = await fetch(receivers.url + path, { method, body: method === 'POST' ? '{}' : undefined, headers: { 'content-type': 'application/json' } });
        expect(res.status, `${method} ${path}`).toBe(503);
        await res.body?.cancel();
      }
    } finally {
      receivers.setDown(false);
    }
    const res = await fetch(`${receivers.url}/api/v1/dags/d/dagRuns`, { headers: { authorization: AUTH } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ dag_runs: [], total_entries: 0 });
  });

  it('refuses bodies over 1 MiB, bad JSON, unsigned webhooks and wrong Airflow credentials, recording none', async () => {
    const before = receivers.received.length;
    const big = await fetch(`${receivers.url}/slack/big`, { method: 'POST', body: JSON.stringify({ text: 'x'.repeat(1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    const bad = await fetch(`${receivers.url}/slack/bad`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    expect([bad.status, await bad.text()]).toEqual([400, 'invalid_payload']);
    const unsigned = await fetch(receivers.webhookUrl, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(unsigned.status).toBe(401);
    const wrong = await fetch(`${receivers.url}/api/v1/dags/d/dagRuns`, { headers: { authorization: `Basic ${Buffer.from('af-user:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    expect(receivers.received.length).toBe(before);
  });

  it('lists the runs it created and reports each accepted item to onReceive', async () => {
    const def = {
      kind: 'airflow', name: 'a', location: 'l', url: receivers.airflowUrl, apiVersion: 2, dagId: 'retrain', usernameEnv: 'U', passwordEnv: 'P', conf: {},
    } as const;
    const sender = createSender(def, { U: 'af-user', P: 'af-pass' });
    await sender.deliver(makeNotification({ id: 'run-a', params: { a: 1 } }));
    await sender.deliver(makeNotification({ id: 'run-b', params: { b: 2 } }));
    const res = await fetch(`${receivers.url}/api/v1/dags/retrain/dagRuns`, { headers: { authorization: AUTH } });
    const list = (await res.json()) as { dag_runs: Array<{ dag_run_id: string; conf: unknown; state: string }>; total_entries: number };
    expect(list.total_entries).toBe(2);
    expect(list.dag_runs.map((r) => [r.dag_run_id, r.conf, r.state])).toEqual([
      ['driftwatch__run-a', { a: 1 }, 'queued'],
      ['driftwatch__run-b', { b: 2 }, 'queued'],
    ]);
    expect(receivers.airflowRuns()).toEqual([
      { dagId: 'retrain', runId: 'driftwatch__run-a', conf: { a: 1 } },
      { dagId: 'retrain', runId: 'driftwatch__run-b', conf: { b: 2 } },
    ]);
    expect(seen).toEqual(receivers.received);
    expect(seen.slice(-2).map((r) => [r.kind, r.id, r.duplicate])).toEqual([
      ['airflow', 'driftwatch__run-a', false],
      ['airflow', 'driftwatch__run-b', false],
    ]);
  });
});
