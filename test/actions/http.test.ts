/**
 * What every sender shares (src/actions/http.ts): network errors, timeouts and aborts are retries; a receiver's
 * body is read only up to a bound; Retry-After in both forms; redirects are not followed; credentials never leak.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSender, parseRetryAfter } from '../../src/actions/index.js';
import { MAX_RESPONSE_BYTES } from '../../src/actions/http.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type Answer, type TestServer, closedPort, makeNotification, startFloodServer, startSilentServer, startTestServer } from './helpers.js';

type AlertmanagerDef = Extract<ActionDefinition, { kind: 'alertmanager' }>;

/** The simplest sender (no secrets, one POST), to exercise the shared HTTP behaviour. */
function amDef(url: string): AlertmanagerDef {
  return { kind: 'alertmanager', name: 'am', location: 'rules/actions.yaml:1:1', url, receiver: 'r' };
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function keep<T extends TestServer>(s: Promise<T>): Promise<T> {
  const server = await s;
  servers.push(server);
  return server;
}

describe('http failures', () => {
  it('a closed port is a network error: retry', async () => {
    const port = await closedPort();
    const result = await createSender(amDef(`http://127.0.0.1:${port}/x`), {}).deliver(makeNotification());
    expect(result).toMatchObject({ outcome: 'retry', status: null, retryAfterMs: null });
    expect(result.outcome === 'retry' && result.error).toMatch(new RegExp(`^POST http://127\\.0\\.0\\.1:${port}/x: network error: .*ECONNREFUSED`));
  });

  it('a receiver that never answers times out: retry', async () => {
    const server = await keep(startSilentServer());
    const result = await createSender(amDef(server.url), {}, { timeoutMs: 150 }).deliver(makeNotification());
    expect(result).toMatchObject({ outcome: 'retry', status: null });
    expect(result.outcome === 'retry' && result.error).toMatch(/: timed out after 150 ms$/);
    expect(server.requests).toHaveLength(1);
  });

  it("the caller's signal cancels the attempt: retry", async () => {
    const server = await keep(startSilentServer());
    const controller = new AbortController();
    const pending = createSender(amDef(server.url), {}, { timeoutMs: 60_000 }).deliver(makeNotification(), controller.signal);
    setTimeout(() => controller.abort(), 50);
    const result = await pending;
    expect(result).toMatchObject({ outcome: 'retry', status: null });
    expect(result.outcome === 'retry' && result.error).toMatch(/: aborted$/);
  });

  it('reads at most 64 KiB of a huge error body and quotes at most 300 characters of it', async () => {
    const flood = await keep(startFloodServer(500, 256 * 1024 * 1024));
    const result = await createSender(amDef(flood.url), {}).deliver(makeNotification());
    expect(result).toMatchObject({ outcome: 'retry', status: 500 });
    const error = result.outcome === 'retry' ? result.error : '';
    expect(error).toMatch(/: HTTP 500: x{300}…$/);
    // The server stops once we hang up; what it wrote is what the socket buffers took, far from the 256 MiB.
    expect(flood.sent()).toBeLessThan(32 * 1024 * 1024);
  });

  it('does not read a huge body it cannot use (a Kubeflow run list) and retries', async () => {
    const flood = await keep(startFloodServer(200, 256 * 1024 * 1024));
    const def: ActionDefinition = {
      kind: 'kubeflow', name: 'k', location: 'l', url: flood.url, pipelineId: 'p', pipelineVersionId: 'v', experimentId: '', tokenEnv: '', parameters: {},
    };
    const result = await createSender(def, {}).deliver(makeNotification());
    expect(result).toMatchObject({ outcome: 'retry', status: 200 });
    expect(flood.sent()).toBeGreaterThan(MAX_RESPONSE_BYTES);
    expect(flood.sent()).toBeLessThan(32 * 1024 * 1024);
  });

  it('classifies statuses: 408/425/429/5xx retry, other 4xx and redirects fail', async () => {
    let answer: Answer = { status: 200 };
    const server = await keep(startTestServer(() => answer));
    const sender = createSender(amDef(server.url), {});
    const outcomes: Record<number, string> = {};
    for (const status of [200, 202, 301, 302, 400, 401, 403, 404, 408, 409, 410, 413, 422, 425, 429, 500, 502, 503, 504]) {
      answer = status >= 300 && status < 400 ? { status, headers: { location: `${server.url}/elsewhere` } } : { status, body: 'x' };
      outcomes[status] = (await sender.deliver(makeNotification())).outcome;
    }
    expect(outcomes).toEqual({
      200: 'delivered', 202: 'delivered', 301: 'failed', 302: 'failed', 400: 'failed', 401: 'failed', 403: 'failed', 404: 'failed',
      408: 'retry', 409: 'failed', 410: 'failed', 413: 'failed', 422: 'failed', 425: 'retry', 429: 'retry', 500: 'retry', 502: 'retry',
      503: 'retry', 504: 'retry',
    });
    // A redirect is reported, never followed.
    expect(server.requests.filter((r) => r.url === '/elsewhere')).toHaveLength(0);
  });

  it('refuses a URL with credentials or another scheme without quoting it', async () => {
    const withCreds = await createSender(amDef('http://user:hunter2@127.0.0.1:1/x'), {}).deliver(makeNotification());
    expect(withCreds).toEqual({ outcome: 'failed', status: null, error: 'POST request: URL must not contain credentials (use the auth settings)' });
    const ftp = await createSender(amDef('ftp://127.0.0.1/x'), {}).deliver(makeNotification());
    expect(ftp).toEqual({ outcome: 'failed', status: null, error: 'POST request: URL scheme must be http or https, not ftp:' });
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response('ok', { status: 200 });
    };
    const result = await createSender(amDef('http://receiver.invalid/hook'), {}, { fetch: fakeFetch }).deliver(makeNotification());
    expect(result.outcome).toBe('delivered');
    expect(seen).toEqual(['http://receiver.invalid/hook']);
  });
});

describe('Retry-After', () => {
  const now = Date.UTC(2024, 4, 1, 10, 0, 0);
  it('reads delay-seconds and HTTP dates, clamped to [0, 1 h]', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 May 2024 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 01-May-24 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed May  1 10:00:05 2024', now)).toBe(5_000);
    expect(parseRetryAfter('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
    expect(parseRetryAfter('Thu, 02 May 2024 10:00:00 GMT', now)).toBe(3_600_000);
  });
  it('is null when absent or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBeNull();
    expect(parseRetryAfter('2024-05-01', now)).toBeNull();
  });
});
