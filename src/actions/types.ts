/**
 * What an action sender is and what one delivery attempt answers. The dispatcher (outbox) owns retries, backoff and
 * bookkeeping; a sender makes exactly one attempt per `deliver` call and says, as data, whether trying later can help.
 */
import type { ActionKind, Notification } from '../rules/types.js';

/**
 * The outcome of one delivery attempt.
 *
 * - `delivered`: the receiver accepted it (2xx), or a trigger found the run already there (Airflow/Argo 409, an
 *   existing Kubeflow run): retries and replays of the same notification land here.
 * - `retry`: trying later can help: network error, timeout, 408, 425, 429, 5xx, or a Slack sender asked to send
 *   sooner than its minimum interval. `retryAfterMs` is the receiver's Retry-After (seconds or HTTP date, capped at
 *   one hour), null when it gave none.
 * - `failed`: permanent: other 4xx, a missing or malformed secret, a bad URL or parameters. Retrying cannot help.
 *
 * Error texts are one line, name the request and the HTTP status, carry at most 300 characters of the response
 * body, and never a secret value or an Authorization header.
 */
export type DeliveryResult =
  | { readonly outcome: 'delivered'; readonly status: number; readonly detail: string }
  | { readonly outcome: 'retry'; readonly status: number | null; readonly retryAfterMs: number | null; readonly error: string }
  | { readonly outcome: 'failed'; readonly status: number | null; readonly error: string };

/** One action, ready to deliver notifications. Senders keep small state only (an Airflow 3 token, Slack pacing). */
export interface Sender {
  /** The action's name (`ActionDefinition.name`). */
  readonly action: string;
  readonly kind: ActionKind;
  /**
   * One delivery attempt. Never throws: every problem is a `retry` or `failed` result. `signal` cancels the attempt
   * (it then answers `retry`); the sender's own timeout applies as well.
   */
  deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult>;
}

/** Environment variables as senders read them (secrets are looked up at each delivery, so a rotation needs no restart). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Knobs of `createSender`, mostly for tests. */
export interface SenderOptions {
  /** Per HTTP request, body included (default 10 s). */
  readonly timeoutMs?: number;
  /** Wall clock in ms (webhook timestamps, Retry-After dates, Slack pacing); default `Date.now`. */
  readonly now?: () => number;
  /** The fetch to use; default the global one. */
  readonly fetch?: typeof fetch;
}
