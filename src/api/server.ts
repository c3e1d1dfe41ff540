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
      const url = await app.listen({ host: options.host, port: options.port });
      return { url };
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
