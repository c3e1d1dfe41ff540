/**
 * Helpers of the action sender tests: notifications and alerts to deliver, and small real HTTP servers on 127.0.0.1
 * (port 0) that record what they receive and answer what each test scripts.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Alert, Notification } from '../../src/rules/types.js';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);

/** A drifted-feature alert. */
export function makeAlert(feature: string, overrides: Partial<Alert> = {}): Alert {
  return {
    fingerprint: `fp-${feature}`,
    status: 'firing',
    labels: { alertname: 'key-feature-drift', model: 'press-qa', severity: 'critical', feature, method: 'psi', lot_id: 'L-1042' },
    annotations: { summary: `${feature} drifted`, description: 'PSI above 0.2 for 3 of the last 3 windows' },
    startsAt: T0 - 10 * 60_000,
    endsAt: null,
    value: 0.4123456,
    threshold: 0.2,
    ...overrides,
  };
}

/** A firing notification of rule `key-feature-drift` on model `press-qa`, segment lot_id=L-1042, two drifted features. */
export function makeNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    id: '3f2a9c0d4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8',
    action: 'test-action',
    kind: 'webhook',
    rule: 'key-feature-drift',
    model: 'press-qa',
    modelVersion: '2024.05.1',
    segment: { lot_id: 'L-1042' },
    severity: 'critical',
    status: 'firing',
    window: { start: T0, end: T0 + 5 * 60_000, count: 1234 },
    eventId: 'evt-1',
    referenceId: 'ref-1',
    reportUrl: 'http://driftwatch.local:8080/reports/press-qa/123',
    groupKey: 'key-feature-drift/press-qa/lot_id=L-1042',
    alerts: [makeAlert('pressure'), makeAlert('temperature', { value: 0.3, threshold: 0.2 })],
    params: {},
    createdAt: T0 + 5 * 60_000 + 1500,
    ...overrides,
  };
}

/** A request as a test server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a scripted handler answers. */
export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A running test server. */
export interface TestServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A server answering each request with `handle(request)` (JSON unless the body is a string). Request bodies are
 * read whole (tests send small ones).
 */
export async function startTestServer(handle: (req: SeenRequest) => Answer | Promise<Answer>): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      void Promise.resolve(handle(seen)).then((answer) => {
        const text = typeof answer.body === 'string' ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json', ...answer.headers });
        res.end(text);
      });
    });
  });
  return listen(server, requests);
}

/** A server that takes requests and never answers (for timeouts). */
export async function startSilentServer(): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    req.resume();
  });
  return listen(server, requests);
}

/**
 * A server that answers `status` and then streams a body of up to `maxBytes` (stopping as soon as the client goes
 * away); `sent()` tells how much it wrote.
 */
export async function startFloodServer(status: number, maxBytes: number): Promise<TestServer & { sent(): number }> {
  let sent = 0;
  const chunk = Buffer.alloc(16 * 1024, 'x');
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain' });
    const pump = (): void => {
      while (sent < maxBytes && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  });
  const base = await listen(server, []);
  return { ...base, sent: () => sent };
}

/** A port that was free a moment ago and has nothing listening now. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listen(server: ReturnType<typeof createServer>, requests: SeenRequest[]): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
