/**
 * Standard Webhooks delivery, checked with the `standardwebhooks` package (an implementation independent of
 * src/actions/sign.ts) on real HTTP servers on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createSender, toWhsec, webhookEvent } from '../../src/actions/index.js';
import { startDemoReceivers } from '../../src/app/demo-receivers.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type Answer, type SeenRequest, type TestServer, makeNotification, startTestServer } from './helpers.js';

type WebhookDef = Extract<ActionDefinition, { kind: 'webhook' }>;

function webhookDef(url: string, secretEnv: string[], headers: Record<string, string> = {}): WebhookDef {
  return { kind: 'webhook', name: 'ops-hook', location: 'rules/actions.yaml:3:3', url, secretEnv, headers };
}

/** The three Standard Webhooks headers of a request, as the library wants them. */
function swHeaders(req: SeenRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) out[name] = String(req.headers[name] ?? '');
  return out;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handle: (req: SeenRequest) => Answer = () => ({ status: 200, body: { ok: true } })): Promise<TestServer> {
  const s = await startTestServer(handle);
  servers.push(s);
  return s;
}

describe('webhook sender', () => {
  it('signs with a whsec_ secret so that the standardwebhooks library verifies the event', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const s = await server();
    const n = makeNotification();
    const result = await createSender(webhookDef(`${s.url}/in`, ['WH_SECRET']), { WH_SECRET: secret }).deliver(n);

    expect(result).toEqual({ outcome: 'delivered', status: 200, detail: 'HTTP 200' });
    expect(s.requests).toHaveLength(1);
    const req = s.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe('driftwatch/0.1');
    expect(req.headers['webhook-id']).toBe(n.id);
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const payload = new Webhook(secret).verify(req.body, swHeaders(req));
    expect(payload).toEqual(JSON.parse(JSON.stringify(webhookEvent(n))));
    expect(payload).toMatchObject({
      type: 'driftwatch.alert.firing',
      id: n.id,
      data: {
        rule: 'key-feature-drift',
        model: 'press-qa',
        model_version: '2024.05.1',
        segment: { lot_id: 'L-1042' },
        window: { start: '2024-05-01T10:00:00.000Z', end: '2024-05-01T10:05:00.000Z', count: 1234 },
        event_id: 'evt-1',
        reference_id: 'ref-1',
      },
    });
  });

  it('uses the UTF-8 bytes of a plain secret as the key', async () => {
    const secret = 'correct horse battery staple — ünïcode';
    const s = await server();
    await createSender(webhookDef(s.url, ['WH_SECRET']), { WH_SECRET: secret }).deliver(makeNotification());
    const req = s.requests[0]!;
    expect(() => new Webhook(toWhsec(secret)).verify(req.body, swHeaders(req))).not.toThrow();
    // The library's raw mode takes the key bytes directly: the same key, another way in.
    expect(() => new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).verify(req.body, swHeaders(req))).not.toThrow();
    // Reading the plain text as base64 would be another key altogether.
    expect(() => new Webhook(`whsec_${Buffer.from('something else').toString('base64')}`).verify(req.body, swHeaders(req))).toThrow();
  });

  it('signs with both secrets during a rotation: a receiver that knows either one verifies', async () => {
    const oldSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const newSecret = 'the-new-plain-secret';
    const s = await server();
    const env = { WH_OLD: oldSecret, WH_NEW: newSecret };
    await createSender(webhookDef(s.url, ['WH_OLD', 'WH_NEW']), env).deliver(makeNotification());
    const req = s.requests[0]!;
    const signatures = String(req.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    for (const sig of signatures) expect(sig).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(() => new Webhook(oldSecret).verify(req.body, swHeaders(req))).not.toThrow();
    expect(() => new Webhook(toWhsec(newSecret)).verify(req.body, swHeaders(req))).not.toThrow();
    expect(() => new Webhook(toWhsec('a third secret')).verify(req.body, swHeaders(req))).toThrow(/No matching signature/);
  });

  it('keeps webhook-id (and the body) across retries; only the timestamp and signature change', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const answers: Answer[] = [
      { status: 503, body: 'upstream busy' },
      { status: 429, body: 'slow down', headers: { 'retry-after': '7' } },
      { status: 204 },
    ];
    const s = await server(() => answers.shift() ?? { status: 500 });
    let clock = Date.now();
    const sender = createSender(webhookDef(s.url, ['WH_SECRET']), { WH_SECRET: secret }, { now: () => clock });
    const n = makeNotification();
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(await sender.deliver(n));
      clock += 2000;
    }
    expect(results.map((r) => r.outcome)).toEqual(['retry', 'retry', 'delivered']);
    expect(results[0]).toMatchObject({ status: 503, retryAfterMs: null });
    expect(results[0]!.outcome === 'retry' && results[0]!.error).toContain('HTTP 503: upstream busy');
    expect(results[1]).toMatchObject({ status: 429, retryAfterMs: 7000 });
    expect(results[2]).toMatchObject({ status: 204 });
    expect(s.requests.map((r) => r.headers['webhook-id'])).toEqual([n.id, n.id, n.id]);
    expect(new Set(s.requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(s.requests.map((r) => r.headers['webhook-timestamp'])).size).toBe(3);
    for (const req of s.requests) expect(() => new Webhook(secret).verify(req.body, swHeaders(req))).not.toThrow();
  });

  it('sends the custom headers, which cannot replace the Standard Webhooks ones', async () => {
    const s = await server();
    const n = makeNotification();
    const headers = { 'X-Team': 'quality', 'Webhook-Id': 'forged', 'content-type': 'text/plain' };
    await createSender(webhookDef(s.url, ['WH_SECRET'], headers), { WH_SECRET: 'k' }).deliver(n);
    const req = s.requests[0]!;
    expect(req.headers['x-team']).toBe('quality');
    expect(req.headers['webhook-id']).toBe(n.id);
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('fails without sending when a secret variable is unset, naming the variable and no value', async () => {
    const s = await server();
    const result = await createSender(webhookDef(s.url, ['WH_OLD', 'WH_NEW']), { WH_OLD: 'old-secret-value' }).deliver(makeNotification());
    expect(result).toEqual({ outcome: 'failed', status: null, error: 'env WH_NEW is not set' });
    expect(s.requests).toHaveLength(0);
  });

  it('fails on a whsec_ secret that is not base64, without quoting it', async () => {
    const s = await server();
    const result = await createSender(webhookDef(s.url, ['WH_SECRET']), { WH_SECRET: 'whsec_not*base64!' }).deliver(makeNotification());
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.error).toBe('env WH_SECRET: whsec_ secret is not valid base64');
    expect(s.requests).toHaveLength(0);
  });

  it('a 4xx other than 408/425/429 is permanent, and the secret never shows in the error even when echoed', async () => {
    const secret = 'plain-secret-that-must-not-leak';
    const s = await server((req) => ({ status: 400, body: `bad request; you sent ${JSON.stringify(req.headers)}, token static-token-123 and ${secret}` }));
    const result = await createSender(webhookDef(s.url, ['WH_SECRET'], { Authorization: 'Bearer static-token-123' }), {
      WH_SECRET: secret,
    }).deliver(makeNotification());
    expect(result.outcome).toBe('failed');
    const error = result.outcome === 'failed' ? result.error : '';
    expect(error).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/: HTTP 400: bad request/);
    expect(error).not.toContain(secret);
    expect(error).not.toContain('static-token-123');
    expect(error.length).toBeLessThan(400);
  });
});

describe('webhook sender against the demo receivers', () => {
  it('is verified by the receiver, and a second delivery of the same id is recorded as a duplicate', async () => {
    const receivers = await startDemoReceivers({ webhookSecret: 'demo-secret', airflow: { username: 'a', password: 'b' } });
    try {
      const sender = createSender(webhookDef(receivers.webhookUrl, ['WH_SECRET']), { WH_SECRET: 'demo-secret' });
      const n = makeNotification();
      expect((await sender.deliver(n)).outcome).toBe('delivered');
      expect((await sender.deliver(n)).outcome).toBe('delivered');
      expect(receivers.received.map((r) => [r.kind, r.id, r.duplicate])).toEqual([
        ['webhook', n.id, false],
        ['webhook', n.id, true],
      ]);
      expect(receivers.received[0]!.body).toMatchObject({ type: 'driftwatch.alert.firing', id: n.id });

      const wrong = createSender(webhookDef(receivers.webhookUrl, ['WH_SECRET']), { WH_SECRET: 'not-the-secret' });
      const rejected = await wrong.deliver(makeNotification({ id: 'other-id' }));
      expect(rejected).toMatchObject({ outcome: 'failed', status: 401 });
      expect(receivers.received).toHaveLength(2);
    } finally {
      await receivers.close();
    }
  });
});
