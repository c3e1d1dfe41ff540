/**
 * A stand-in for the three kinds of receivers the shipped rules deliver to, on 127.0.0.1 (node:http), for end-to-end
 * tests that need to control the answers (src/app/demo-receivers.ts always answers):
 * - `POST /slack/...`: a Slack incoming webhook; answers 200 `ok`.
 * - `POST /hooks/...`: a Standard Webhooks consumer; verifies the signature with the `standardwebhooks` library
 *   (200, or 401 when it does not verify).
 * - `POST /api/v1/dags/:dag/dagRuns`: the Airflow 2 stable API; checks basic auth, records the run by
 *   (dag, dag_run_id) and answers 200, or 409 when that run exists already. With `hangFirstAirflow`, the first
 *   request on this route records its run and is then never answered (the socket stays open): a delivery whose
 *   effect happened but whose answer never came back. `airflowHung` resolves when that happens.
 *
 * Every request is recorded in `requests` (in arrival order). Bodies are bounded (413 past `MAX_BODY_BYTES`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ReceivedRequest {
  readonly kind: 'slack' | 'webhook' | 'airflow' | 'other';
  readonly method: string;
  readonly path: string;
  /** webhook: the webhook-id header; airflow: the dag_run_id; otherwise ''. */
  readonly id: string;
  /** The status answered; null for the request that was left hanging. */
  readonly status: number | null;
  /** webhook: whether the signature verified. */
  readonly verified: boolean;
  readonly raw: string;
  readonly body: unknown;
  readonly at: number;
}

export interface AirflowRun {
  readonly dagId: string;
  readonly runId: string;
  readonly conf: unknown;
}

export interface AlertReceiver {
  readonly url: string;
  readonly requests: ReadonlyArray<ReceivedRequest>;
  /** Runs created, by `${dag}\u0000${runId}`. */
  readonly runs: ReadonlyMap<string, AirflowRun>;
  /** Resolves with the Airflow request that was left unanswered (hangFirstAirflow). */
  readonly airflowHung: Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export interface AlertReceiverOptions {
  /** `whsec_<base64>`. */
  readonly webhookSecret: string;
  readonly airflow: { readonly username: string; readonly password: string };
  readonly hangFirstAirflow?: boolean;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

class TooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new TooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export async function startAlertReceiver(options: AlertReceiverOptions): Promise<AlertReceiver> {
  const verifier = new Webhook(options.webhookSecret);
  const expectedAuth = digest(`Basic ${Buffer.from(`${options.airflow.username}:${options.airflow.password}`, 'utf8').toString('base64')}`);
  const requests: ReceivedRequest[] = [];
  const runs = new Map<string, AirflowRun>();
  const hanging: ServerResponse[] = [];
  let hangArmed = options.hangFirstAirflow ?? false;
  let hungResolve!: (r: ReceivedRequest) => void;
  const airflowHung = new Promise<ReceivedRequest>((r) => (hungResolve = r));

  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
    res.end(text);
    return status;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const method = req.method ?? 'GET';
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (e) {
      if (e instanceof TooLarge) {
        answer(res, 413, { error: 'body too large' }, { connection: 'close' });
        return;
      }
      throw e;
    }
    const at = Date.now();
    const rec = (r: Omit<ReceivedRequest, 'method' | 'path' | 'raw' | 'at'>): void => {
      requests.push({ ...r, method, path, raw, at });
    };

    if (method === 'POST' && path.startsWith('/slack/')) {
      const body = parse(raw);
      if (!isObject(body)) {
        rec({ kind: 'slack', id: '', status: answer(res, 400, 'invalid_payload'), verified: false, body });
        return;
      }
      rec({ kind: 'slack', id: '', status: answer(res, 200, 'ok'), verified: false, body });
      return;
    }

    if (method === 'POST' && path.startsWith('/hooks/')) {
      const headers: Record<string, string> = {};
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        const v = req.headers[name];
        if (typeof v === 'string') headers[name] = v;
      }
      const id = headers['webhook-id'] ?? '';
      let body: unknown;
      try {
        body = verifier.verify(raw, headers);
      } catch (e) {
        rec({ kind: 'webhook', id, status: answer(res, 401, { error: `bad signature: ${(e as Error).message}` }), verified: false, body: parse(raw) });
        return;
      }
      rec({ kind: 'webhook', id, status: answer(res, 200, { ok: true }), verified: true, body });
      return;
    }

    const dagRoute = /^\/api\/v1\/dags\/([^/]+)\/dagRuns$/.exec(path);
    if (method === 'POST' && dagRoute) {
      const dagId = decodeURIComponent(dagRoute[1]!);
      const given = req.headers.authorization;
      const body = parse(raw);
      if (typeof given !== 'string' || !timingSafeEqual(digest(given), expectedAuth)) {
        rec({ kind: 'airflow', id: '', status: answer(res, 401, { title: 'Unauthorized', status: 401 }, { 'www-authenticate': 'Basic' }), verified: false, body });
        return;
      }
      if (!isObject(body) || typeof body['dag_run_id'] !== 'string' || (body['conf'] !== undefined && !isObject(body['conf']))) {
        rec({ kind: 'airflow', id: '', status: answer(res, 400, { title: 'Bad Request', status: 400 }), verified: false, body });
        return;
      }
      const runId = body['dag_run_id'];
      const key = `${dagId}\u0000${runId}`;
      if (runs.has(key)) {
        rec({ kind: 'airflow', id: runId, status: answer(res, 409, { title: 'Conflict', status: 409, detail: `DAGRun ${runId} already exists` }), verified: false, body });
        return;
      }
      runs.set(key, { dagId, runId, conf: body['conf'] ?? {} });
      if (hangArmed) {
        // The run exists now, but its answer never leaves: the socket stays open until the client goes away.
        hangArmed = false;
        hanging.push(res);
        const r: ReceivedRequest = { kind: 'airflow', id: runId, status: null, verified: false, raw, body, at, method, path };
        requests.push(r);
        hungResolve(r);
        return;
      }
      rec({ kind: 'airflow', id: runId, status: answer(res, 200, { dag_id: dagId, dag_run_id: runId, state: 'queued' }), verified: false, body });
      return;
    }

    rec({ kind: 'other', id: '', status: answer(res, 404, { error: 'not found' }), verified: false, body: parse(raw) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 500, { error: 'receiver error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    runs,
    airflowHung,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
