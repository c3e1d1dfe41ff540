import { StoreError } from '../../core/errors.js';
import type { RetryPolicy } from '../config.js';

/** Socket-level failures: the request may not have reached the engine, or its answer was lost. */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/**
 * ClickHouse error codes worth another attempt: timeouts, network errors, overload, and inserts whose outcome is
 * unknown (safe to repeat because every write is idempotent by key).
 */
const TRANSIENT_CLICKHOUSE_CODES = new Set([
  '159', // TIMEOUT_EXCEEDED
  '164', // READONLY (replica temporarily read-only)
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '203', // NO_FREE_CONNECTION
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '242', // TABLE_IS_READ_ONLY
  '252', // TOO_MANY_PARTS
  '319', // UNKNOWN_STATUS_OF_INSERT
  '425', // SYSTEM_ERROR
  '439', // CANNOT_SCHEDULE_TASK
  '999', // KEEPER_EXCEPTION
]);

export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_CLICKHOUSE_CODES.has(code))) return true;
  const msg = e.message;
  if (/^Timeout error|socket hang up|other side closed|read ECONNRESET/i.test(msg)) return true;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e && isTransient(cause);
}

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `op`, retrying transient failures with capped exponential backoff and full jitter until the policy's
 * budget is spent. A permanent failure, or the last transient one, becomes a `StoreError` naming `what`.
 */
export async function withRetry<T>(
  what: string,
  policy: RetryPolicy,
  op: () => Promise<T>,
  options: { sleep?: Sleep; random?: () => number; now?: () => number } = {},
): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const started = now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      if (!isTransient(e)) {
        throw new StoreError('query_failed', `${what} failed: ${describe(e)}`, { cause: e });
      }
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
      const delay = Math.round(random() * cap);
      const elapsed = now() - started;
      if (elapsed + delay > policy.budgetMs) {
        throw new StoreError(
          'unavailable',
          `${what} failed: the store is unreachable or too slow (${describe(e)}); gave up after ${attempt + 1} attempt${attempt === 0 ? '' : 's'} in ${Math.round(elapsed)} ms`,
          { retriable: true, cause: e },
        );
      }
      await sleep(delay);
    }
  }
}

/** A one-line description of an engine or socket error (never its stack, never a credential). */
export function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  const firstLine = e.message.split('\n')[0]!.trim();
  const short = firstLine.length > 300 ? `${firstLine.slice(0, 300)}...` : firstLine;
  return typeof code === 'string' && !short.includes(code) ? `${short} (${code})` : short;
}
