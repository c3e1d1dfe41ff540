/**
 * Airflow triggers: API v1 (Airflow 2) against the demo receivers, API v2 (Airflow 3) against a small server that
 * plays its token endpoint and its strict dagRuns body.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { airflowRunId, createSender } from '../../src/actions/index.js';
import { type DemoReceivers, startDemoReceivers } from '../../src/app/demo-receivers.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type Answer, type SeenRequest, type TestServer, makeNotification, startTestServer } from './helpers.js';

type AirflowDef = Extract<ActionDefinition, { kind: 'airflow' }>;

function airflowDef(url: string, apiVersion: 2 | 3): AirflowDef {
  return {
    kind: 'airflow',
    name: 'retrain',
    location: 'rules/actions.yaml:9:3',
    url,
    apiVersion,
    dagId: 'retrain_press_qa',
    usernameEnv: 'AIRFLOW_USERNAME',
    passwordEnv: 'AIRFLOW_PASSWORD',
    conf: {},
  };
}

const ENV = { AIRFLOW_USERNAME: 'driftwatch', AIRFLOW_PASSWORD: 'pa55-word-xyz' };
const PARAMS = { model: 'press-qa', reason: 'drift', features: ['pressure', 'temperature'] };

describe('airflow run id', () => {
  it('is driftwatch__ + the id, made safe (with a hash) when the id has characters Airflow refuses', () => {
    expect(airflowRunId('abc123')).toBe('driftwatch__abc123');
    expect(airflowRunId('a:b.c~d+e-f_g')).toBe('driftwatch__a:b.c~d+e-f_g');
    const odd = airflowRunId('rule/model?x');
    expect(odd).toMatch(/^driftwatch__rule_model_x__[0-9a-f]{12}$/);
    expect(airflowRunId('rule/model#x')).not.toBe(odd);
  });
});

describe('airflow 2 (API v1) against the demo receivers', () => {
  let receivers: DemoReceivers;
  beforeAll(async () => {
    receivers = await startDemoReceivers({ webhookSecret: 'x', airflow: { username: ENV.AIRFLOW_USERNAME, password: ENV.AIRFLOW_PASSWORD } });
  });
  afterAll(async () => {
    await receivers.close();
  });

  it('creates the run once; a second delivery answers 409 and counts as delivered', async () => {
    const sender = createSender(airflowDef(receivers.airflowUrl, 2), ENV);
    const n = makeNotification({ kind: 'airflow', params: PARAMS });
    const runId = `driftwatch__${n.id}`;
    expect(await sender.deliver(n)).toEqual({ outcome: 'delivered', status: 200, detail: `dag run ${runId} triggered (HTTP 200)` });
    expect(await sender.deliver(n)).toEqual({ outcome: 'delivered', status: 409, detail: `dag run ${runId} already triggered (409)` });
    expect(receivers.airflowRuns()).toEqual([{ dagId: 'retrain_press_qa', runId, conf: PARAMS }]);
    expect(receivers.received.filter((r) => r.kind === 'airflow').map((r) => r.duplicate)).toEqual([false, true]);
  });

  it('fails (no retry) on bad credentials, without showing them', async () => {
    const sender = createSender(airflowDef(receivers.airflowUrl, 2), { ...ENV, AIRFLOW_PASSWORD: 'wrong-pass-123' });
    const result = await sender.deliver(makeNotification({ id: 'bad-creds', params: PARAMS }));
    expect(result).toMatchObject({ outcome: 'failed', status: 401 });
    expect(JSON.stringify(result)).not.toContain('wrong-pass-123');
    expect(JSON.stringify(result)).not.toContain(Buffer.from('driftwatch:wrong-pass-123').toString('base64'));
  });

  it('retries while the receiver is down (503), and delivers once it is back', async () => {
    const sender = createSender(airflowDef(receivers.airflowUrl, 2), ENV);
    const n = makeNotification({ id: 'outage', params: PARAMS });
    receivers.setDown(true);
    try {
      expect(await sender.deliver(n)).toMatchObject({ outcome: 'retry', status: 503, retryAfterMs: 1000 });
    } finally {
      receivers.setDown(false);
    }
    expect((await sender.deliver(n)).outcome).toBe('delivered');
    expect(receivers.airflowRuns().filter((r) => r.runId === 'driftwatch__outage')).toHaveLength(1);
  });

  it('refuses resolved notifications, missing credentials and a conf that is not an object, sending nothing', async () => {
    const before = receivers.received.length;
    const sender = createSender(airflowDef(receivers.airflowUrl, 2), ENV);
    expect(await sender.deliver(makeNotification({ status: 'resolved', params: PARAMS }))).toEqual({
      outcome: 'failed',
      status: null,
      error: 'trigger actions run on firing only',
    });
    expect(await createSender(airflowDef(receivers.airflowUrl, 2), { AIRFLOW_USERNAME: 'u' }).deliver(makeNotification())).toEqual({
      outcome: 'failed',
      status: null,
      error: 'env AIRFLOW_PASSWORD is not set',
    });
    const notObject = await sender.deliver(makeNotification({ params: ['a'] }));
    expect(notObject.outcome === 'failed' && notObject.error).toBe('Airflow conf must be a JSON object, the rendered parameters are an array');
    expect(receivers.received.length).toBe(before);
  });
});

/**
 * Airflow 3's API as far as the sender uses it: `/auth/token` hands out tokens, `/api/v2/.../dagRuns` wants one of
 * them, refuses unknown fields and a missing logical_date (422), and answers 409 for a known run id.
 */
async function startAirflow3(): Promise<TestServer & { tokensIssued(): number; revokeAll(): void; rejectAll(): void; runs: Map<string, unknown> }> {
  const valid = new Set<string>();
  const runs = new Map<string, unknown>();
  let issued = 0;
  let rejectAll = false;
  const handle = (req: SeenRequest): Answer => {
    if (req.method === 'POST' && req.url === '/auth/token') {
      const { username, password } = JSON.parse(req.body) as { username?: string; password?: string };
      if (username !== ENV.AIRFLOW_USERNAME || password !== ENV.AIRFLOW_PASSWORD) return { status: 401, body: { detail: 'Invalid credentials' } };
      const token = `jwt-${++issued}`;
      valid.add(token);
      return { status: 201, body: { access_token: token, token_type: 'bearer' } };
    }
    const m = /^\/api\/v2\/dags\/([^/]+)\/dagRuns$/.exec(req.url);
    if (req.method === 'POST' && m) {
      const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (rejectAll || token === undefined || !valid.has(token)) return { status: 401, body: { detail: 'Not authenticated' } };
      const body = JSON.parse(req.body) as Record<string, unknown>;
      const keys = Object.keys(body).sort();
      if (JSON.stringify(keys) !== JSON.stringify(['conf', 'dag_run_id', 'logical_date']) || body['logical_date'] !== null) {
        return { status: 422, body: { detail: [{ type: 'extra_forbidden or missing', loc: ['body'] }] } };
      }
      const runId = String(body['dag_run_id']);
      if (runs.has(runId)) return { status: 409, body: { detail: 'already exists' } };
      runs.set(runId, body['conf']);
      return { status: 200, body: { dag_run_id: runId, dag_id: decodeURIComponent(m[1]!), state: 'queued' } };
    }
    return { status: 404, body: { detail: 'Not Found' } };
  };
  const server = await startTestServer(handle);
  return {
    ...server,
    runs,
    tokensIssued: () => issued,
    revokeAll: () => valid.clear(),
    rejectAll: () => {
      rejectAll = true;
    },
  };
}

describe('airflow 3 (API v2)', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function airflow3(): Promise<Awaited<ReturnType<typeof startAirflow3>>> {
    const s = await startAirflow3();
    servers.push(s);
    return s;
  }

  it('gets a token once, sends logical_date: null, and treats 409 as already triggered', async () => {
    const af = await airflow3();
    const sender = createSender(airflowDef(`${af.url}/`, 3), ENV);
    const n1 = makeNotification({ id: 'n1', params: PARAMS });
    const n2 = makeNotification({ id: 'n2', params: { x: 1 } });
    expect(await sender.deliver(n1)).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(await sender.deliver(n2)).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(await sender.deliver(n1)).toEqual({ outcome: 'delivered', status: 409, detail: 'dag run driftwatch__n1 already triggered (409)' });
    expect(af.tokensIssued()).toBe(1);
    expect([...af.runs.entries()]).toEqual([
      ['driftwatch__n1', PARAMS],
      ['driftwatch__n2', { x: 1 }],
    ]);
    const tokenRequest = af.requests.find((r) => r.url === '/auth/token')!;
    expect(JSON.parse(tokenRequest.body)).toEqual({ username: 'driftwatch', password: 'pa55-word-xyz' });
    const run = af.requests.find((r) => r.url.startsWith('/api/v2/'))!;
    expect(run.url).toBe('/api/v2/dags/retrain_press_qa/dagRuns');
    expect(JSON.parse(run.body)).toEqual({ dag_run_id: 'driftwatch__n1', logical_date: null, conf: PARAMS });
  });

  it('fetches a new token once after a 401, and fails when even a new token is refused', async () => {
    const af = await airflow3();
    const sender = createSender(airflowDef(af.url, 3), ENV);
    expect((await sender.deliver(makeNotification({ id: 'a' }))).outcome).toBe('delivered');
    af.revokeAll();
    expect((await sender.deliver(makeNotification({ id: 'b' }))).outcome).toBe('delivered');
    expect(af.tokensIssued()).toBe(2);

    af.rejectAll();
    const refused = await sender.deliver(makeNotification({ id: 'c' }));
    expect(refused).toMatchObject({ outcome: 'failed', status: 401 });
    expect(af.tokensIssued()).toBe(3);
    expect(JSON.stringify(refused)).not.toMatch(/jwt-\d/);
  });

  it('fails on credentials the token endpoint refuses', async () => {
    const af = await airflow3();
    const result = await createSender(airflowDef(af.url, 3), { ...ENV, AIRFLOW_PASSWORD: 'nope-nope' }).deliver(makeNotification());
    expect(result).toMatchObject({ outcome: 'failed', status: 401 });
    expect(result.outcome === 'failed' && result.error).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/auth\/token: HTTP 401 \(credentials from env AIRFLOW_USERNAME\/AIRFLOW_PASSWORD rejected\): \{"detail":"Invalid credentials"\}$/,
    );
    expect(af.runs.size).toBe(0);
  });
});
