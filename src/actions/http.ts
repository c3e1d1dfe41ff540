/**
 * The one HTTP attempt every sender makes, with the defences a client of arbitrary receivers needs:
 *
 * - a timeout covering the whole exchange, body included (`AbortSignal.timeout` combined with the caller's signal,
 *   so a cancelled dispatcher really stops the socket instead of racing a promise);
 * - a bounded response read (64 KiB): a hostile or broken receiver streaming gigabytes costs us 64 KiB;
 * - no redirects followed (`redirect: 'manual'`): a webhook endpoint that redirects is misconfigured, and following
 *   one would turn a POST into a GET or carry credentials to another host;
 * - error texts that name the request and status and quote at most 300 characters of the body, with every secret the
 *   request carried (URL, token, password, Authorization value) redacted, since receivers sometimes echo requests.
 */
import type { DeliveryResult, Env, SenderOptions } from './types.js';

/** Sent on every request. */
export const USER_AGENT = 'driftwatch/0.1';
/** Response bytes read at most; the rest is cancelled. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Response body characters quoted in an error text. */
export const MAX_ERROR_BODY_CHARS = 300;
/** Retry-After values beyond this are capped: a receiver must not park a notification for days. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** Default per-request timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The resolved `SenderOptions` every request uses. */
export interface HttpClient {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** Fills in the defaults of `SenderOptions`. */
export function httpClient(options: SenderOptions = {}): HttpClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  return {
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    timeoutMs,
    now: options.now ?? Date.now,
  };
}

/** One request as a sender describes it. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** Extra headers; user-agent and accept are always set, content-type when there is a JSON body. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialized as the JSON body (omit for none). Pass a string to send exact bytes (signed bodies). */
  readonly body?: string;
  /** How error texts name the request; default `METHOD origin/path`. Give one when the URL itself is a secret. */
  readonly label?: string;
  /** Values that must never appear in an error text (include the URL when it is a secret, and give a `label`). */
  readonly secrets?: ReadonlyArray<string>;
}

/** A response with its body read up to `MAX_RESPONSE_BYTES`. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body as UTF-8 text ('' when it could not be read). */
  readonly text: string;
  /** The body was longer than the bound; `text` holds its beginning. */
  readonly truncated: boolean;
  /** How the request is named in error texts. */
  readonly label: string;
  readonly secrets: ReadonlyArray<string>;
}

/** Either a response (any status) or the `retry`/`failed` result of a request that got none. */
export type HttpOutcome = { readonly ok: true; readonly response: HttpResponse } | { readonly ok: false; readonly result: DeliveryResult };

/**
 * Makes one request. Never throws: a bad URL is `failed`; a network error, the timeout or the caller's abort is
 * `retry`; any response, whatever its status, is `ok` (classify it with `statusResult`).
 */
export async function send(client: HttpClient, req: HttpRequest, signal?: AbortSignal): Promise<HttpOutcome> {
  const secrets = req.secrets ?? [];
  const url = parseHttpUrl(req.url);
  // The URL may itself be the secret (Slack): say what is wrong with it, never what it is.
  if (typeof url === 'string') return { ok: false, result: failed(null, `${req.label ?? `${req.method} request`}: ${url}`) };
  const label = req.label ?? `${req.method} ${url.origin}${url.pathname}`;

  const headers = new Headers(req.headers);
  headers.set('user-agent', USER_AGENT);
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  if (req.body !== undefined) headers.set('content-type', 'application/json');

  const timeout = AbortSignal.timeout(client.timeoutMs);
  const combined = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
  let res: Response;
  try {
    res = await client.fetch(url, { method: req.method, headers, body: req.body, redirect: 'manual', signal: combined });
  } catch (error) {
    return { ok: false, result: retry(null, null, redact(`${label}: ${abortReason(timeout, signal, client) ?? networkError(error)}`, secrets)) };
  }
  let text = '';
  let truncated = false;
  try {
    ({ text, truncated } = await readBounded(res, MAX_RESPONSE_BYTES));
  } catch (error) {
    // The status arrived; the body did not. Callers that need the body find '' and say so; others go by the status.
    const why = abortReason(timeout, signal, client) ?? networkError(error);
    if (res.status < 200 || res.status >= 300) text = `(body not read: ${why})`;
  }
  return { ok: true, response: { status: res.status, headers: res.headers, text, truncated, label, secrets } };
}

/**
 * The result a status alone implies: 2xx delivered (with `detail`), 408/425/429/5xx retry (with Retry-After),
 * anything else failed.
 */
export function statusResult(client: HttpClient, res: HttpResponse, detail?: string): DeliveryResult {
  if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', status: res.status, detail: detail ?? `HTTP ${res.status}` };
  if (isRetriableStatus(res.status)) {
    return retry(res.status, parseRetryAfter(res.headers.get('retry-after'), client.now()), responseError(res));
  }
  return failed(res.status, responseError(res));
}

/** 408 Request Timeout, 425 Too Early, 429 Too Many Requests and every 5xx: the receiver may take it later. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/** `label: HTTP 503: <body, one line, at most 300 chars, secrets redacted>`. */
export function responseError(res: HttpResponse, what?: string): string {
  const body = oneLine(redact(res.text, res.secrets)).trim();
  const quoted = body.length > MAX_ERROR_BODY_CHARS ? `${body.slice(0, MAX_ERROR_BODY_CHARS)}…` : body;
  const parts = [res.label, what ?? `HTTP ${res.status}`];
  if (quoted !== '') parts.push(quoted);
  return redact(oneLine(parts.join(': ')), res.secrets);
}

/**
 * Retry-After as milliseconds from now: delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`),
 * clamped to [0, 1 h]. null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // Date.parse alone takes '-5' or '1.5' for dates; an HTTP date (IMF-fixdate, RFC 850, asctime) has a day name and a time.
    if (!/^[A-Za-z]{3,9},? .*\b\d{2}:\d{2}:\d{2}\b/.test(text)) return null;
    // asctime has no zone, and HTTP dates are always GMT: without it Date.parse would read local time.
    const at = Date.parse(/\b(GMT|UTC)\b/.test(text) ? text : `${text} GMT`);
    if (Number.isNaN(at)) return null;
    ms = at - nowMs;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** A `retry` result. */
export function retry(status: number | null, retryAfterMs: number | null, error: string): DeliveryResult {
  return { outcome: 'retry', status, retryAfterMs, error: oneLine(error) };
}

/** A `failed` result. */
export function failed(status: number | null, error: string): DeliveryResult {
  return { outcome: 'failed', status, error: oneLine(error) };
}

/**
 * A secret from the environment, or the `failed` result naming the variable (never a value) when it is unset or
 * empty.
 */
export function readSecret(env: Env, name: string): string | DeliveryResult {
  const value = env[name];
  if (value === undefined || value === '') return failed(null, `env ${name} is not set`);
  return value;
}

/**
 * `Authorization: Bearer <token>` from the variable `name` ('' for none: no header), with the strings to keep out of
 * error texts; or the `failed` result when the variable is unset.
 */
export function bearerFromEnv(env: Env, name: string): { headers: Record<string, string>; secrets: string[] } | DeliveryResult {
  if (name === '') return { headers: {}, secrets: [] };
  const token = readSecret(env, name);
  if (typeof token !== 'string') return token;
  return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
}

/** `Authorization: Basic ...` and the strings that must then be kept out of error texts. */
export function basicAuth(username: string, password: string): { header: string; secrets: string[] } {
  const token = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  return { header: `Basic ${token}`, secrets: [password, token] };
}

/** The body parsed as JSON, or undefined when it is not JSON (or was truncated). */
export function parseJson(res: HttpResponse): unknown {
  if (res.truncated || res.text === '') return undefined;
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    return undefined;
  }
}

/** `base` (which may end in `/` or carry a path prefix) joined with an absolute API `path`. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** Replaces every occurrence of each non-empty secret (longest first, so one inside another cannot leak a part). */
export function redact(text: string, secrets: ReadonlyArray<string>): string {
  let out = text;
  for (const s of [...secrets].filter((s) => s !== '').sort((a, b) => b.length - a.length)) out = out.split(s).join('[redacted]');
  return out;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ');
}

function parseHttpUrl(raw: string): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `URL scheme must be http or https, not ${url.protocol.slice(0, 20)}`;
  // fetch refuses these, and its message would quote the credentials.
  if (url.username !== '' || url.password !== '') return 'URL must not contain credentials (use the auth settings)';
  return url;
}

function abortReason(timeout: AbortSignal, signal: AbortSignal | undefined, client: HttpClient): string | undefined {
  if (timeout.aborted) return `timed out after ${client.timeoutMs} ms`;
  if (signal?.aborted) return 'aborted';
  return undefined;
}

/** undici's `fetch failed` hides the useful part (ECONNREFUSED, ENOTFOUND, socket hang up) in `cause`. */
function networkError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  const causeMessage = cause instanceof Error ? cause.message : '';
  const message = causeMessage !== '' ? causeMessage : error instanceof Error ? error.message : String(error);
  const text = code !== '' && !message.includes(code) ? `${code} ${message}` : message;
  return `network error: ${text.slice(0, MAX_ERROR_BODY_CHARS)}`;
}

async function readBounded(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (res.body === null) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - size;
      if (value.byteLength > room) {
        chunks.push(value.subarray(0, room));
        size += room;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Stop the transfer (and free the connection) instead of draining a body we will not read.
    if (truncated) await reader.cancel().catch(() => undefined);
    try {
      reader.releaseLock();
    } catch {
      // Nothing left to release.
    }
  }
  // A multi-byte character cut at the bound decodes as U+FFFD, which is fine for an error text.
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}
