/**
 * The HTTP server every route is added to (ingest, health, later the API and metrics): fastify with its logger off
 * (the composition root logs), JSON errors without stack traces, and bearer-token auth on everything that
 * changes state.
 *
 * Auth: when `apiToken` is set, every request other than GET/HEAD needs `Authorization: Bearer <token>`, or it gets
 * 401. Reads stay open so that health checks, Prometheus and Grafana need no secret. The token is compared in
 * constant time (SHA-256 of both sides, then timingSafeEqual, so neither the content nor the length leaks).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port (see the url `listen` returns). */
  readonly port: number;
  readonly apiToken?: string;
  /** Default body limit of every route (ingest sets its own, the same by default). */
  readonly maxBodyBytes: number;
  /** Where the host and the port are set, for the message of a failed `listen` (e.g. `http.port / DRIFTWATCH_HTTP_PORT`). */
  readonly settings?: { readonly host: string; readonly port: string };
}

/** Why a host and port cannot be listened on, by the error's Node `code`; which setting to change. */
const LISTEN_FAILURES: Readonly<Record<string, { readonly reason: string; readonly setting: 'host' | 'port' }>> = {
  EADDRINUSE: { reason: 'the address is already in use', setting: 'port' },
  EACCES: { reason: 'permission denied (a port below 1024 needs privileges)', setting: 'port' },
  EADDRNOTAVAIL: { reason: 'the address is not one of this host\'s', setting: 'host' },
  ENOTFOUND: { reason: 'the host name does not resolve', setting: 'host' },
  EAI_NONAME: { reason: 'the host name does not resolve', setting: 'host' },
  EAI_FAIL: { reason: 'the host name does not resolve', setting: 'host' },
  EAI_AGAIN: { reason: 'the host name could not be resolved (DNS did not answer)', setting: 'host' },
};

/**
 * The address cannot be listened on: in use, not this host's, a name that does not resolve, a privileged port. A
 * mistake in the settings or the environment, not in driftwatch: one line, naming the address and the setting.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  /** Node's error code: EADDRINUSE, EADDRNOTAVAIL, EACCES, ENOTFOUND, ... */
  readonly code: string;

  constructor(host: string, port: number, code: string, reason: string, setting: string | undefined, cause: unknown) {
    super(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${reason}${setting ? ` (${setting})` : ''}`, { cause });
    this.code = code;
  }
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** Starts listening; routes must be registered before. */
  listen(): Promise<{ url: string }>;
  close(): Promise<void>;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    // Request ids name dead letters' origins (`http:<id>`): unique across restarts, unlike fastify's counter.
    genReqId: () => randomUUID(),
  });

  const token = options.apiToken;
  if (token !== undefined && token !== '') {
    const expected = digest(token);
    app.addHook('onRequest', async (req, reply) => {
      if (req.method === 'GET' || req.method === 'HEAD') return;
      if (bearerMatches(req.headers.authorization, expected)) return;
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'missing or wrong bearer token (Authorization: Bearer <token>)' });
    });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0] ?? '';
    return reply.code(404).send({ error: `no route ${req.method} ${path.slice(0, 200)}` });
  });

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : error.message });
  });

  return {
    app,
    async listen() {
      try {
        const url = await app.listen({ host: options.host, port: options.port });
        return { url };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const failure = code !== undefined && Object.hasOwn(LISTEN_FAILURES, code) ? LISTEN_FAILURES[code] : undefined;
        if (code === undefined || failure === undefined) throw e;
        throw new ListenError(options.host, options.port, code, failure.reason, options.settings?.[failure.setting], e);
      }
    },
    async close() {
      await app.close();
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (match === null) return false;
  return timingSafeEqual(digest(match[1]!), expected);
}
