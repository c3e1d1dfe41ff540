import { Float64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import type { FastifyInstance } from 'fastify';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, createApiServer } from '../../src/api/server.js';
import type { BatchOutcome, SourceBatch, SourceHandler } from '../../src/core/stream.js';
import { decodeMessage, type ModelSchema } from '../../src/pipeline/decode.js';
import { createHttpIngest, type HttpIngest } from '../../src/sources/http.js';

const SCHEMA: ModelSchema = {
  model: 'press',
  kind: 'telemetry',
  segmentBy: [],
  features: new Map([['temp', 'numerical']]),
  time: 'event',
};
const LIMITS = { maxRecordBytes: 10_000, maxFutureMs: 3_600_000, maxPastMs: 86_400_000 };
const MAX_BODY = 2000;
const TOKEN = 's3cret-token';
/** Every wait in these tests is bounded by this. */
const WAIT_MS = 5000;

/** Not the thing under test: collects batches and answers with what decoding made of them. */
class FakeHandler implements SourceHandler {
  readonly batches: SourceBatch[] = [];
  assigned: string[] = [];

  async onAssigned(partitions: ReadonlyArray<{ partition: string }>): Promise<void> {
    this.assigned.push(...partitions.map((p) => p.partition));
  }

  async onRevoked(): Promise<void> {}

  async onBatch(batch: SourceBatch): Promise<BatchOutcome> {
    this.batches.push(batch);
    let accepted = 0;
    const rejected: { origin: string; reasonCode: string; reason: string }[] = [];
    let bodyError: string | undefined;
    for (const message of batch.messages) {
      const d = decodeMessage(message, (m) => (m === 'press' ? SCHEMA : undefined), LIMITS, Date.now());
      accepted += d.records.length + d.labels.length;
      rejected.push(...d.dead.map(({ origin, reasonCode, reason }) => ({ origin, reasonCode, reason })));
      bodyError ??= d.bodyError;
    }
    return { accepted, rejected, rejectedCount: rejected.length, ...(bodyError === undefined ? {} : { bodyError }) };
  }
}

interface Harness {
  server: ApiServer;
  ingest: HttpIngest;
  handler: FakeHandler;
  url: string;
}

const open: ApiServer[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function harness(
  options: { token?: string; start?: boolean; pauseTimeoutMs?: number; setup?: (app: FastifyInstance) => void } = {},
): Promise<Harness> {
  const server = createApiServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: MAX_BODY,
    ...(options.token === undefined ? {} : { apiToken: options.token }),
  });
  open.push(server);
  const ingest = createHttpIngest({ maxBodyBytes: MAX_BODY, pauseTimeoutMs: options.pauseTimeoutMs ?? WAIT_MS });
  ingest.register(server.app);
  options.setup?.(server.app);
  const { url } = await server.listen();
  const handler = new FakeHandler();
  if (options.start !== false) await ingest.source.start(handler);
  return { server, ingest, handler, url };
}

async function post(
  url: string,
  body: string | Uint8Array,
  contentType: string | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { ...(contentType === undefined ? {} : { 'content-type': contentType }), ...headers },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

const ts = new Date().toISOString();
const record = (temp: unknown): string => JSON.stringify({ model: 'press', ts, features: { temp } });

describe('HTTP ingest', () => {
  it('accepts NDJSON, JSON Lines, JSON objects and arrays, and Arrow streams', async () => {
    const { url, handler } = await harness();
    const ingest = `${url}/v1/ingest`;
    const arrow = tableToIPC(
      new Table({ model: vectorFromArray(['press', 'press'], new Utf8()), ts: vectorFromArray([Date.now(), Date.now()], new Float64()), temp: vectorFromArray([1, 2], new Float64()) }),
      'stream',
    );
    const answers = [
      await post(ingest, `${record(1)}\n${record('hot')}\n${record(3)}\n`, 'application/x-ndjson'),
      await post(ingest, `${record(1)}\r\n`, 'application/jsonl'),
      await post(ingest, record(1), 'application/json; charset=utf-8'),
      await post(ingest, `[${record(1)},${record(2)}]`, 'application/json'),
      await post(ingest, arrow, 'application/vnd.apache.arrow.stream'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => [a.body['accepted'], a.body['rejected']])).toEqual([[2, 1], [1, 0], [1, 0], [2, 0], [2, 0]]);
    const first = handler.batches[0]!.messages[0]!;
    expect(answers[0]!.body['errors']).toEqual([
      { origin: `${first.origin}:line 2`, reasonCode: 'wrong_type', reason: 'feature "temp" is numerical: expected a number or null, found "hot"' },
    ]);
    expect(first.origin).toMatch(/^http:[0-9a-f-]{36}$/);
    const messages = handler.batches.map((b) => b.messages[0]!);
    expect(handler.batches.map((b) => [b.partition, b.messages.length])).toEqual(Array(5).fill(['http', 1]));
    expect(messages.map((m) => m.format)).toEqual(['ndjson', 'ndjson', 'json', 'json', 'arrow']);
    expect(new Set(messages.map((m) => m.origin)).size).toBe(5);
    for (let i = 1; i < messages.length; i++) expect(messages[i]!.offset).toBeGreaterThan(messages[i - 1]!.offset);
    expect(handler.assigned).toEqual(['http']);
  });

  it('passes ?kind= on to the message, and refuses unknown kinds', async () => {
    const { url, handler } = await harness();
    const labels = await post(`${url}/v1/ingest?kind=label`, JSON.stringify({ model: 'press', id: 'a', ts, label: 1 }), 'application/json');
    expect(labels).toMatchObject({ status: 200, body: { accepted: 1, rejected: 0 } });
    expect(handler.batches[0]!.messages[0]!.kind).toBe('label');
    const bad = await post(`${url}/v1/ingest?kind=cats`, record(1), 'application/json');
    expect(bad).toMatchObject({ status: 400, body: { error: '"kind" must be prediction, label or telemetry, not "cats"' } });
  });

  it('answers 413 over the body limit, 415 for other content types, 400 for empty and unreadable bodies', async () => {
    const { url, handler } = await harness();
    const ingest = `${url}/v1/ingest`;
    const tooBig = await post(ingest, `${record(1)}\n`.repeat(100), 'application/x-ndjson');
    expect(tooBig).toMatchObject({ status: 413, body: { error: `the body is over the limit of ${MAX_BODY} bytes` } });
    const text = await post(ingest, record(1), 'text/plain');
    expect(text.status).toBe(415);
    expect(text.body['error']).toMatch(/^unsupported content type "text\/plain"; send application\/x-ndjson, /);
    expect((await post(ingest, record(1), undefined)).status).toBe(415);
    expect(await post(ingest, '', 'application/json')).toMatchObject({ status: 400, body: { error: 'the body is empty' } });
    const bad = await post(ingest, '{"model": "press",', 'application/json');
    expect(bad).toMatchObject({ status: 400, body: { error: "the body is not valid JSON: expected a key in double quotes at character 19, found the end of the input" } });
    const notArrow = await post(ingest, record(1), 'application/vnd.apache.arrow.stream');
    expect(notArrow.status).toBe(400);
    expect(notArrow.body['error']).toMatch(/^the body is not an Arrow IPC stream/);
    expect(JSON.stringify([tooBig, text, bad].map((a) => a.body))).not.toMatch(/ at .*\.(ts|js):\d+/);
    expect(handler.batches).toHaveLength(2);
  });

  it('takes gzip, deflate and br bodies within the limit once decompressed, and refuses other encodings and charsets', async () => {
    const { url, handler } = await harness();
    const ingest = `${url}/v1/ingest`;
    const body = `${record(1)}\n${record(2)}\n`;
    for (const [encoding, compress] of [['gzip', gzipSync], ['deflate', deflateSync], ['br', brotliCompressSync], ['GZIP', gzipSync]] as const) {
      const answer = await post(ingest, compress(body), 'application/x-ndjson', { 'content-encoding': encoding });
      expect([encoding, answer.status, answer.body['accepted'], answer.body['rejected']]).toEqual([encoding, 200, 2, 0]);
    }
    expect(new TextDecoder().decode(handler.batches[0]!.messages[0]!.value)).toBe(body);
    // 100 kB of records compress to far less than the 2000-byte limit, but the limit holds once decompressed.
    const bomb = gzipSync(`${record(1)}\n`.repeat(3000));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    expect(await post(ingest, bomb, 'application/x-ndjson', { 'content-encoding': 'gzip' })).toMatchObject({
      status: 413,
      body: { error: `the body is over the limit of ${MAX_BODY} bytes once decompressed` },
    });
    const notGzip = await post(ingest, body, 'application/x-ndjson', { 'content-encoding': 'gzip' });
    expect(notGzip.status).toBe(400);
    expect(notGzip.body['error']).toMatch(/^the body is not valid gzip: /);
    expect(await post(ingest, body, 'application/x-ndjson', { 'content-encoding': 'zstd' })).toMatchObject({
      status: 415,
      body: { error: 'unsupported content encoding "zstd"; send gzip, deflate, br or none' },
    });
    expect(await post(ingest, record(1), 'application/json; charset=utf-16')).toMatchObject({
      status: 415,
      body: { error: 'unsupported charset "utf-16"; send UTF-8' },
    });
    expect((await post(ingest, record(1), 'application/json; charset="UTF-8"')).status).toBe(200);
    expect(handler.batches).toHaveLength(5);
  });

  it('answers 503 before start and after stop', async () => {
    const { url, ingest, handler } = await harness({ start: false });
    const before = await post(`${url}/v1/ingest`, record(1), 'application/json');
    expect(before).toMatchObject({ status: 503, body: { error: 'not started' } });
    await ingest.source.start(handler);
    expect((await post(`${url}/v1/ingest`, record(1), 'application/json')).status).toBe(200);
    await ingest.source.stop();
    const after = await post(`${url}/v1/ingest`, record(1), 'application/json');
    expect(after).toMatchObject({ status: 503, body: { error: 'not started' } });
    expect(after.headers.get('retry-after')).toBe('1');
  });

  it('holds requests while paused and releases them on resume; a request paused too long gets 503', async () => {
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const setup = (app: FastifyInstance): void => {
      app.addHook('preHandler', async () => arrived());
    };
    const { url, ingest, handler } = await harness({ pauseTimeoutMs: 2000, setup });
    ingest.source.pause(['kafka:other/0']);
    ingest.source.pause(['http']);
    const pending = post(`${url}/v1/ingest`, record(1), 'application/json');
    await arrival;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handler.batches).toHaveLength(0);
    ingest.source.resume(['http']);
    expect(await pending).toMatchObject({ status: 200, body: { accepted: 1 } });
    expect(handler.batches).toHaveLength(1);

    const short = await harness({ pauseTimeoutMs: 30 });
    short.ingest.source.pause(['http']);
    const timedOut = await post(`${short.url}/v1/ingest`, record(1), 'application/json');
    expect(timedOut).toMatchObject({ status: 503, body: { error: 'ingest is paused (backpressure); retry later' } });
    expect(timedOut.headers.get('retry-after')).toBe('1');
    expect(short.handler.batches).toHaveLength(0);
  });

  it('delivers concurrent requests one at a time', async () => {
    const { url, handler } = await harness();
    let inFlight = 0;
    let most = 0;
    const onBatch = handler.onBatch.bind(handler);
    handler.onBatch = async (batch) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return onBatch(batch);
    };
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post(`${url}/v1/ingest`, record(i), 'application/json')));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(most).toBe(1);
    expect(handler.batches).toHaveLength(8);
  });
});

describe('API server', () => {
  it('serves /healthz and JSON 404s', async () => {
    const { url } = await harness();
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(WAIT_MS) });
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const missing = await fetch(`${url}/nope?token=x`, { signal: AbortSignal.timeout(WAIT_MS) });
    expect([missing.status, await missing.json()]).toEqual([404, { error: 'no route GET /nope' }]);
  });

  it('requires the bearer token on every non-GET route when one is set', async () => {
    const { url, handler } = await harness({ token: TOKEN });
    const ingest = `${url}/v1/ingest`;
    const none = await post(ingest, record(1), 'application/json');
    expect(none).toMatchObject({ status: 401, body: { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(ingest, record(1), 'application/json', { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await post(ingest, record(1), 'application/json', { authorization: TOKEN })).status).toBe(401);
    expect((await post(`${url}/elsewhere`, '{}', 'application/json')).status).toBe(401);
    expect(handler.batches).toHaveLength(0);
    const ok = await post(ingest, record(1), 'application/json', { authorization: `Bearer ${TOKEN}` });
    expect(ok).toMatchObject({ status: 200, body: { accepted: 1 } });
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(WAIT_MS) });
    expect(health.status).toBe(200);
  });
});
