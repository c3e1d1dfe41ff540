/**
 * Local stand-ins for the receivers of the demo's actions, on a real HTTP server bound to 127.0.0.1 (port 0 picks a
 * free one): the demo and the tests deliver to them over real sockets, so what they check is what a user's Slack,
 * webhook consumer or Airflow would see.
 *
 * - `POST /slack/<anything>`: an incoming webhook. Answers 200 `ok`, or 400 `invalid_payload` for a body that is not
 *   JSON, and keeps Slack's limit of one message per second per webhook (429 with `Retry-After: 1`).
 * - `POST /hooks/<anything>`: a Standard Webhooks consumer. Verifies the signature with the `standardwebhooks`
 *   package (an implementation independent of ours), rejects a bad one with 401, and de-duplicates by `webhook-id`:
 *   a repeat answers 200 and is recorded with `duplicate: true`.
 * - `POST /api/v1/dags/:dag/dagRuns`, `GET` the same: the Airflow 2 REST API with basic auth. A known `dag_run_id`
 *   answers 409, so exactly one run is recorded per id.
 * - `setDown(true)`: every route answers 503, to play an outage.
 *
 * Bodies are limited to 1 MiB.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { toWhsec } from '../actions/sign.js';

/** One message a receiver accepted (rejected ones, 401/429/503, are not recorded). */
export interface ReceivedItem {
  readonly kind: 'slack' | 'webhook' | 'airflow';
  /** The idempotency id: `webhook-id`, the Airflow `dag_run_id`; '' for Slack, which has none. */
  readonly id: string;
  /** A repeat of an id already received (webhook) or already run (Airflow, answered 409). */
  readonly duplicate: boolean;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** Receive time (ms since the epoch). */
  readonly at: number;
}

/** How to start the receivers. */
export interface DemoReceiversOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1; the compose stack's receivers container binds 0.0.0.0. */
  readonly host?: string;
  /** The Standard Webhooks secret senders sign with: `whsec_<base64>` or plain text (its UTF-8 bytes are the key). */
  readonly webhookSecret: string;
  /** The basic-auth credentials the Airflow API accepts. */
  readonly airflow: { readonly username: string; readonly password: string };
  /** Called for each item as it is recorded. */
  readonly onReceive?: (r: ReceivedItem) => void;
}

/** A running set of demo receivers. */
export interface DemoReceivers {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** A Slack incoming-webhook URL on this server. */
  readonly slackUrl: string;
  /** A Standard Webhooks endpoint on this server. */
  readonly webhookUrl: string;
  /** The base URL of the Airflow-like API (senders append `/api/v1/...`). */
  readonly airflowUrl: string;
  /** Everything accepted so far, in order. */
  readonly received: ReceivedItem[];
  /** The DAG runs created (one per `dag_run_id`). */
  airflowRuns(): Array<{ dagId: string; runId: string; conf: unknown }>;
  /** true: every route answers 503 until set back to false. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** Body limit of every route. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Slack's rate limit per webhook. */
const SLACK_INTERVAL_MS = 1000;

interface DagRun {
  readonly dag_id: string;
  readonly dag_run_id: string;
  readonly conf: unknown;
  readonly logical_date: string;
  readonly state: 'queued';
}

/** Starts the receivers (on 127.0.0.1 unless told otherwise) and resolves once they listen. */
export async function startDemoReceivers(options: DemoReceiversOptions): Promise<DemoReceivers> {
  const verifier = new Webhook(toWhsec(options.webhookSecret));
  const expectedAuth = digest(`Basic ${Buffer.from(`${options.airflow.username}:${options.airflow.password}`, 'utf8').toString('base64')}`);
  const received: ReceivedItem[] = [];
  const seenWebhookIds = new Set<string>();
  const slackLast = new Map<string, number>();
  const runs = new Map<string, DagRun>();
  let down = false;

  const record = (item: ReceivedItem): void => {
    received.push(item);
    options.onReceive?.(item);
  };

  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, forceCloseConnections: true });
  // Signatures are over the exact bytes sent, so every body is kept as text and parsed by the route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (_req, reply) => {
    if (down) return reply.code(503).header('retry-after', '1').send({ error: 'receiver down (demo outage)' });
  });

  app.post('/slack/*', async (req, reply) => {
    const now = Date.now();
    const hook = req.url.split('?', 1)[0] ?? '';
    const last = slackLast.get(hook);
    if (last !== undefined && now - last < SLACK_INTERVAL_MS) {
      return reply.code(429).header('retry-after', '1').type('text/plain').send('rate_limited');
    }
    const body = parseBody(req);
    if (body === undefined) return reply.code(400).type('text/plain').send('invalid_payload');
    slackLast.set(hook, now);
    record({ kind: 'slack', id: '', duplicate: false, body, at: now });
    return reply.code(200).type('text/plain').send('ok');
  });

  app.post('/hooks/*', async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const headers: Record<string, string> = {};
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    let body: unknown;
    try {
      body = verifier.verify(raw, headers);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'verification failed';
      return reply.code(401).send({ error: `bad signature: ${message}` });
    }
    const id = headers['webhook-id'] ?? '';
    const duplicate = seenWebhookIds.has(id);
    seenWebhookIds.add(id);
    record({ kind: 'webhook', id, duplicate, body, at: Date.now() });
    return reply.code(200).send({ ok: true, duplicate });
  });

  const airflowAuth = (req: FastifyRequest, reply: FastifyReply): boolean => {
    const given = req.headers.authorization;
    if (typeof given === 'string' && timingSafeEqual(digest(given), expectedAuth)) return true;
    void reply.code(401).header('www-authenticate', 'Basic').send({ title: 'Unauthorized', status: 401, detail: 'bad credentials' });
    return false;
  };

  app.post<{ Params: { dag: string } }>('/api/v1/dags/:dag/dagRuns', async (req, reply) => {
    if (!airflowAuth(req, reply)) return reply;
    const body = parseBody(req);
    if (!isObject(body)) return reply.code(400).send({ title: 'Bad Request', status: 400, detail: 'body must be a JSON object' });
    const conf = body['conf'] ?? {};
    if (!isObject(conf)) return reply.code(400).send({ title: 'Bad Request', status: 400, detail: "'conf' must be an object" });
    const dagId = req.params.dag;
    const runId = typeof body['dag_run_id'] === 'string' ? body['dag_run_id'] : `manual__${randomUUID()}`;
    const key = `${dagId}\u0000${runId}`;
    const now = Date.now();
    if (runs.has(key)) {
      record({ kind: 'airflow', id: runId, duplicate: true, body, at: now });
      return reply.code(409).send({
        title: 'Conflict',
        status: 409,
        detail: `DAGRun with DAG ID: '${dagId}' and DAGRun ID: '${runId}' already exists`,
      });
    }
    const run: DagRun = { dag_id: dagId, dag_run_id: runId, conf, logical_date: new Date(now).toISOString(), state: 'queued' };
    runs.set(key, run);
    record({ kind: 'airflow', id: runId, duplicate: false, body, at: now });
    return reply.code(200).send(run);
  });

  app.get<{ Params: { dag: string } }>('/api/v1/dags/:dag/dagRuns', async (req, reply) => {
    if (!airflowAuth(req, reply)) return reply;
    const list = [...runs.values()].filter((r) => r.dag_id === req.params.dag);
    return reply.code(200).send({ dag_runs: list, total_entries: list.length });
  });

  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return {
    url,
    slackUrl: `${url}/slack/demo`,
    webhookUrl: `${url}/hooks/demo`,
    airflowUrl: url,
    received,
    airflowRuns: () => [...runs.values()].map((r) => ({ dagId: r.dag_id, runId: r.dag_run_id, conf: r.conf })),
    setDown(value: boolean) {
      down = value;
    },
    close: () => app.close(),
  };
}

function parseBody(req: FastifyRequest): unknown {
  if (typeof req.body !== 'string') return undefined;
  try {
    return JSON.parse(req.body) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
