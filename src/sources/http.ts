/**
 * HTTP ingest: `POST /v1/ingest` as a source. Each request body is one message of the single partition `http`,
 * delivered to the pipeline's handler; the request is answered with what became of its records.
 *
 * Bodies stay bytes: the route has its own content-type parsers (`parseAs: 'buffer'`), in an encapsulated fastify
 * context so that other routes of the same server keep fastify's JSON parsing. Decoding is the pipeline's job,
 * exactly as for Kafka. A body may come compressed (Content-Encoding gzip, deflate or br): the limit holds for it
 * both as sent and decompressed. JSON bodies are UTF-8 (another charset gets 415).
 *
 * Delivery guarantee: at most once. HTTP cannot replay, so `commit` and `rewind` do nothing: records of windows
 * that are still open when the process dies are lost (a client that needs more resends, or uses Kafka). A record
 * is counted as accepted once it is in its window, not once its window's report is stored.
 *
 * Ordering and backpressure: requests are delivered one at a time, in arrival order (the port awaits every
 * `onBatch` before the partition goes on). While the source is paused, a request waits for `resume`, at most
 * `pauseTimeoutMs`, then gets 503 with Retry-After.
 */
import * as zlib from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {
  BatchOutcome,
  Checkpoint,
  PartitionId,
  PayloadFormat,
  SourceHandler,
  SourceMessage,
  Source,
} from '../core/stream.js';

export interface HttpIngestOptions {
  /** Largest body accepted (413 above it). */
  readonly maxBodyBytes: number;
  /** How long a request waits while the source is paused before it is answered 503 (default 10 s). */
  readonly pauseTimeoutMs?: number;
  /** For logs and `/readyz` (default `http:POST /v1/ingest`). */
  readonly description?: string;
}

export interface HttpIngest {
  readonly source: Source;
  /** Adds `POST /v1/ingest` to the app (before it listens). */
  register(app: FastifyInstance): void;
}

export const HTTP_PARTITION: PartitionId = 'http';
export const INGEST_PATH = '/v1/ingest';

const FORMATS: ReadonlyMap<string, PayloadFormat> = new Map([
  ['application/x-ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['application/json', 'json'],
  ['application/vnd.apache.arrow.stream', 'arrow'],
]);
const KINDS = new Set(['telemetry', 'prediction', 'label']);
/** Content encodings a body may come in, decompressed with a bound on the output (no zip bomb gets past the limit). */
const ENCODINGS: ReadonlyMap<string, (body: Uint8Array, options: { maxOutputLength: number }) => Uint8Array> = new Map([
  ['gzip', zlib.gunzipSync],
  ['deflate', zlib.inflateSync],
  ['br', zlib.brotliDecompressSync],
]);
/** Rejected records listed in a response; `rejected` counts them all. */
const MAX_ERRORS_IN_RESPONSE = 100;
const RETRY_AFTER_SECONDS = '1';

export function createHttpIngest(options: HttpIngestOptions): HttpIngest {
  const source = new HttpIngestSource(options);
  return { source, register: (app) => source.register(app) };
}

type State = 'idle' | 'running' | 'stopped';

/** A reply decided by the source: status and JSON body. */
interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly retryAfter?: boolean;
}

class HttpIngestSource implements Source {
  readonly description: string;
  /** HTTP never ends by itself. */
  readonly finished: Promise<void> = new Promise<void>(() => undefined);

  private state: State = 'idle';
  private handler: SourceHandler | undefined;
  private paused = false;
  /** Requests waiting for `resume` (or `stop`). */
  private readonly waiters = new Set<() => void>();
  /** Settles when the last queued request is done: requests reach the handler one at a time, in order. */
  private tail: Promise<void> = Promise.resolve();
  private lastOffset = -1n;
  private readonly pauseTimeoutMs: number;

  constructor(private readonly options: HttpIngestOptions) {
    this.description = options.description ?? `http:POST ${INGEST_PATH}`;
    this.pauseTimeoutMs = options.pauseTimeoutMs ?? 10_000;
  }

  register(app: FastifyInstance): void {
    const { maxBodyBytes } = this.options;
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser([...FORMATS.keys()], { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) => {
        done(null, body);
      });
      scope.setErrorHandler((error: FastifyError, req, reply) => {
        if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: unsupportedType(req) });
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
          return reply.code(413).send({ error: `the body is over the limit of ${maxBodyBytes} bytes` });
        }
        const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
        return reply.code(status).send({ error: status >= 500 ? 'internal error' : error.message });
      });
      scope.post(INGEST_PATH, { bodyLimit: maxBodyBytes }, async (req, reply) => this.ingest(req, reply));
    });
  }

  async start(handler: SourceHandler): Promise<void> {
    if (this.state !== 'idle') throw new Error(`${this.description} was already ${this.state === 'running' ? 'started' : 'stopped'}`);
    this.handler = handler;
    await handler.onAssigned([{ partition: HTTP_PARTITION, checkpoint: null }]);
    this.state = 'running';
  }

  /** HTTP cannot replay: nothing to make durable. */
  async commit(_checkpoints: ReadonlyArray<Checkpoint>): Promise<void> {}

  /** HTTP cannot replay: the records are gone (at-most-once, see the file comment). */
  async rewind(_partition: PartitionId, _offset: bigint): Promise<void> {}

  pause(partitions: ReadonlyArray<PartitionId>): void {
    if (partitions.includes(HTTP_PARTITION)) this.paused = true;
  }

  resume(partitions: ReadonlyArray<PartitionId>): void {
    if (!partitions.includes(HTTP_PARTITION)) return;
    this.paused = false;
    this.wakeAll();
  }

  /**
   * New requests get 503 and waiting ones are released with 503; resolves once the request being delivered is done.
   * The partition is not revoked: the pipeline's own close writes what it holds, as for every source.
   */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.wakeAll();
    await this.tail;
  }

  private async ingest(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const answer = await this.answer(req);
    if (answer.retryAfter === true) void reply.header('retry-after', RETRY_AFTER_SECONDS);
    return reply.code(answer.status).send(answer.body);
  }

  private async answer(req: FastifyRequest): Promise<Answer> {
    const receivedAt = Date.now();
    if (this.state !== 'running') return { status: 503, body: { error: 'not started' }, retryAfter: true };
    const format = FORMATS.get(mediaType(req.headers['content-type']));
    if (format === undefined) return { status: 415, body: { error: unsupportedType(req) } };
    const charset = charsetOf(req.headers['content-type']);
    if (charset !== undefined && format !== 'arrow' && charset !== 'utf-8' && charset !== 'utf8') {
      return { status: 415, body: { error: `unsupported charset ${JSON.stringify(charset.slice(0, 40))}; send UTF-8` } };
    }
    const raw: unknown = req.body;
    if (!(raw instanceof Uint8Array) || raw.length === 0) return { status: 400, body: { error: 'the body is empty' } };
    const decoded = this.decompress(raw, req.headers['content-encoding']);
    if ('status' in decoded) return decoded;
    const body = decoded.body;
    if (body.length === 0) return { status: 400, body: { error: 'the body is empty' } };
    const kind = (req.query as Record<string, unknown> | undefined)?.['kind'];
    if (kind !== undefined && (typeof kind !== 'string' || !KINDS.has(kind))) {
      return { status: 400, body: { error: `"kind" must be prediction, label or telemetry, not ${JSON.stringify(kind)}` } };
    }

    const deadline = receivedAt + this.pauseTimeoutMs;
    const turn = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await turn;
      while (this.paused && this.state === 'running') {
        if (!(await this.waitForResume(deadline))) {
          return { status: 503, body: { error: 'ingest is paused (backpressure); retry later' }, retryAfter: true };
        }
      }
      const handler = this.handler;
      if (this.state !== 'running' || handler === undefined) {
        return { status: 503, body: { error: 'not started' }, retryAfter: true };
      }
      const message: SourceMessage = {
        partition: HTTP_PARTITION,
        offset: this.nextOffset(),
        value: body,
        format,
        ...(kind === undefined ? {} : { kind: kind as SourceMessage['kind'] }),
        receivedAt,
        origin: `http:${req.id}`,
      };
      let outcome: BatchOutcome;
      try {
        outcome = await handler.onBatch({ partition: HTTP_PARTITION, messages: [message] });
      } catch (e) {
        if (isRetriable(e)) return { status: 503, body: { error: 'temporarily unavailable; retry later' }, retryAfter: true };
        throw e;
      }
      if (outcome.bodyError !== undefined) return { status: 400, body: { error: outcome.bodyError } };
      return {
        status: 200,
        body: {
          accepted: outcome.accepted,
          rejected: outcome.rejectedCount,
          errors: outcome.rejected.slice(0, MAX_ERRORS_IN_RESPONSE),
        },
      };
    } finally {
      release();
    }
  }

  /**
   * The body without its Content-Encoding (gzip, deflate, br), at most `maxBodyBytes` once decompressed, or the
   * answer that refuses it.
   */
  private decompress(body: Uint8Array, header: string | string[] | undefined): { readonly body: Uint8Array } | Answer {
    const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
    if (encoding === '' || encoding === 'identity') return { body };
    const inflate = ENCODINGS.get(encoding);
    if (inflate === undefined) {
      return { status: 415, body: { error: `unsupported content encoding ${JSON.stringify(encoding.slice(0, 40))}; send ${[...ENCODINGS.keys()].join(', ')} or none` } };
    }
    const limit = this.options.maxBodyBytes;
    try {
      return { body: inflate(body, { maxOutputLength: limit }) };
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        return { status: 413, body: { error: `the body is over the limit of ${limit} bytes once decompressed` } };
      }
      return { status: 400, body: { error: `the body is not valid ${encoding}: ${(e as Error).message}` } };
    }
  }

  /**
   * Offsets grow across restarts too (they start from the clock in microseconds), so that a checkpoint a previous
   * run stored for `http` never makes the pipeline take new requests for old ones.
   */
  private nextOffset(): bigint {
    const fromClock = BigInt(Date.now()) * 1000n;
    this.lastOffset = fromClock > this.lastOffset ? fromClock : this.lastOffset + 1n;
    return this.lastOffset;
  }

  /** True when resumed (or stopped) before the deadline, false when the deadline passed. */
  private waitForResume(deadline: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, Math.max(0, deadline - Date.now()));
      this.waiters.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

/** The `charset` parameter of a content type, lower case; undefined without one. */
function charsetOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim().toLowerCase() === 'charset') return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

/** `application/json; charset=utf-8` -> `application/json`. */
function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

function unsupportedType(req: FastifyRequest): string {
  const type = req.headers['content-type'];
  const what = type === undefined ? 'no content type' : `unsupported content type ${JSON.stringify(type.slice(0, 100))}`;
  return `${what}; send ${[...FORMATS.keys()].join(', ')}`;
}

function isRetriable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'retriable' in e && e.retriable === true;
}
