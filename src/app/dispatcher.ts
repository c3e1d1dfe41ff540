/**
 * The outbox dispatcher: delivers pending notifications from the store to their actions, one at a time per action
 * (in the order they were made) and actions side by side. A failed attempt is retried with capped exponential
 * backoff and jitter, or after the receiver's Retry-After; past the attempt or age budget the row is marked dead
 * (visible in `driftwatch actions list`, re-driven by `actions retry`). Rows live in the store, so deliveries that
 * were pending when driftwatch stopped (or was killed mid-request) resume after a restart, with the same id, which
 * receivers use to recognise a repeat.
 */
import type { EpochMs, OutboxEntry, OutboxStatus, Store } from '../core/store.js';
import type { DeliveryResult, Sender } from '../actions/index.js';
import type { Notification } from '../rules/types.js';

export interface DeliveryPolicy {
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export type DispatchEvent = {
  readonly type: 'delivery';
  readonly entry: OutboxEntry;
  readonly result: DeliveryResult;
  /** The row's status after this attempt. */
  readonly status: OutboxStatus;
  readonly attempt: number;
  readonly latencyMs: number;
};

export interface DispatcherOptions {
  readonly store: Store;
  /** The senders of the actions in force, by action name (rebuilt when rules are reloaded). */
  readonly senders: () => ReadonlyMap<string, Sender>;
  readonly policy: DeliveryPolicy;
  /** Least time between two deliveries of one action (Slack's one message per second). */
  readonly minIntervalMs?: (action: string) => number;
  /** How often the outbox is looked at when nothing wakes the dispatcher. */
  readonly pollMs?: number;
  /** Rows taken per round. */
  readonly batch?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly onEvent?: (event: DispatchEvent) => void;
  readonly onError?: (error: Error) => void;
}

/** The delay before attempt `attempt + 1`: base * 2^(attempt-1), capped, with "equal jitter" (half fixed, half random). */
export function backoffMs(policy: DeliveryPolicy, attempt: number, random: () => number): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** The row after one delivery attempt (a pure function of the row, the result, the policy and the clock). */
export function afterAttempt(entry: OutboxEntry, result: DeliveryResult, policy: DeliveryPolicy, now: EpochMs, random: () => number): OutboxEntry {
  const attempts = entry.attempts + 1;
  // The latest write wins by updatedAt: keep it increasing even if the clock stepped back.
  const updatedAt = Math.max(now, entry.updatedAt + 1);
  if (result.outcome === 'delivered') return { ...entry, status: 'delivered', attempts, lastError: '', updatedAt };
  if (result.outcome === 'failed') return { ...entry, status: 'dead', attempts, lastError: result.error, updatedAt };
  const delay = result.retryAfterMs ?? backoffMs(policy, attempts, random);
  const next = now + delay;
  if (attempts >= policy.maxAttempts) {
    return { ...entry, status: 'dead', attempts, lastError: `gave up after ${attempts} attempts: ${result.error}`, updatedAt };
  }
  if (next - entry.createdAt > policy.maxAgeMs) {
    return { ...entry, status: 'dead', attempts, lastError: `gave up: not delivered within ${Math.round(policy.maxAgeMs / 1000)} s: ${result.error}`, updatedAt };
  }
  return { ...entry, status: 'pending', attempts, nextAttemptAt: next, lastError: result.error, updatedAt };
}

/** Rows made pending again for `actions retry` (due now, attempts counted afresh). */
export function requeued(entries: ReadonlyArray<OutboxEntry>, now: EpochMs): OutboxEntry[] {
  return entries.map((e) => ({ ...e, status: 'pending', attempts: 0, nextAttemptAt: now, updatedAt: Math.max(now, e.updatedAt + 1) }));
}

export class Dispatcher {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly lastSent = new Map<string, number>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** Starts delivering: at once, then every `pollMs` and whenever woken. */
  start(): void {
    this.wake();
  }

  /** Looks at the outbox now (new rows were queued). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.wake();
        return;
      }
      this.schedule(this.o.pollMs ?? 1000);
    });
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(1, ms));
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    try {
      // Rounds until nothing due is left (bounded: each round either delivers, defers or gives up on every row).
      for (let round = 0; round < 100 && !this.stopped; round++) {
        if ((await this.runOnce()) === 0) return;
      }
    } catch (e) {
      this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** One round: every due row, per action in order. Returns how many attempts were made. */
  async runOnce(): Promise<number> {
    const due = await this.o.store.listOutbox({ status: 'pending', dueBy: this.now(), limit: this.o.batch ?? 200 });
    const byAction = new Map<string, OutboxEntry[]>();
    for (const e of due) {
      const list = byAction.get(e.action) ?? [];
      list.push(e);
      byAction.set(e.action, list);
    }
    const counts = await Promise.all([...byAction.entries()].map(([action, entries]) => this.deliverAll(action, entries)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async deliverAll(action: string, entries: ReadonlyArray<OutboxEntry>): Promise<number> {
    let attempts = 0;
    for (const entry of entries) {
      if (this.stopped) break;
      const gap = this.o.minIntervalMs?.(action) ?? 0;
      const wait = (this.lastSent.get(action) ?? -Infinity) + gap - this.now();
      if (wait > 0) {
        if (wait > 2000) {
          // Deliver the rest later rather than hold the round.
          this.schedule(wait);
          break;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
      const outcome = await this.attempt(entry);
      // Spacing counts from the end of the previous delivery, so requests also arrive at least `gap` apart.
      this.lastSent.set(action, this.now());
      attempts++;
      // Stop this action's round after a failed attempt: the rows behind it keep their order.
      if (outcome !== 'delivered') break;
    }
    return attempts;
  }

  private async attempt(entry: OutboxEntry): Promise<OutboxStatus | 'aborted'> {
    const started = this.now();
    const sender = this.o.senders().get(entry.action);
    let result: DeliveryResult;
    if (!sender) {
      result = { outcome: 'failed', status: null, error: `action "${entry.action}" is not defined in the rules any more` };
    } else {
      let notification: Notification;
      try {
        notification = JSON.parse(entry.payload) as Notification;
      } catch {
        notification = null as never;
      }
      if (notification === null || typeof notification !== 'object') {
        result = { outcome: 'failed', status: null, error: 'the outbox payload is not a notification' };
      } else {
        result = await sender.deliver(notification, this.abort.signal);
      }
    }
    // Stopping mid-request: the row stays as it was and is sent again (same id) after a restart.
    if (this.abort.signal.aborted) return 'aborted';
    const now = this.now();
    const next = afterAttempt(entry, result, this.o.policy, now, this.random);
    await this.o.store.putOutbox([next]);
    try {
      this.o.onEvent?.({ type: 'delivery', entry: next, result, status: next.status, attempt: next.attempts, latencyMs: now - started });
    } catch {
      // Listeners do not stop deliveries.
    }
    if (next.status === 'pending') this.schedule(next.nextAttemptAt - now);
    return next.status;
  }

  /** Stops: aborts requests in flight (their rows stay pending) and waits for the round to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}
