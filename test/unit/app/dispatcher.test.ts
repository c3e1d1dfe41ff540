/**
 * The outbox dispatcher's retry policy: what one attempt does to an outbox row (a pure function of the row, the
 * result, the policy and the clock).
 */
import { describe, expect, it } from 'vitest';
import { afterAttempt, backoffMs, requeued, type DeliveryPolicy } from '../../../src/app/dispatcher.js';
import type { OutboxEntry } from '../../../src/core/store.js';

const policy: DeliveryPolicy = { maxAttempts: 5, maxAgeMs: 3_600_000, baseDelayMs: 1000, maxDelayMs: 8000 };
const T0 = Date.UTC(2026, 10, 23, 12);

function row(over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id: 'n-1',
    action: 'retrain',
    kind: 'airflow',
    payload: '{}',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: T0,
    lastError: '',
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

const retry = (retryAfterMs: number | null = null) => ({ outcome: 'retry' as const, status: 503, retryAfterMs, error: 'HTTP 503' });

describe('backoff', () => {
  it('doubles from the base up to the cap, with half of each delay random', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffMs(policy, a, () => 1))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(policy, a, () => 0))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(backoffMs(policy, 1000, () => 1)).toBe(8000);
  });
});

describe('one attempt', () => {
  it('delivered: done, error cleared, attempts counted', () => {
    const next = afterAttempt(row({ attempts: 2, lastError: 'HTTP 503' }), { outcome: 'delivered', status: 409, detail: 'already triggered' }, policy, T0 + 10, Math.random);
    expect(next).toMatchObject({ status: 'delivered', attempts: 3, lastError: '', updatedAt: T0 + 10 });
  });

  it('a retry waits by the backoff, or by Retry-After when the receiver gave one', () => {
    expect(afterAttempt(row(), retry(), policy, T0 + 5, () => 1)).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0 + 5 + 1000, lastError: 'HTTP 503' });
    expect(afterAttempt(row({ attempts: 2 }), retry(), policy, T0 + 5, () => 1).nextAttemptAt).toBe(T0 + 5 + 4000);
    expect(afterAttempt(row({ attempts: 2 }), retry(30_000), policy, T0 + 5, () => 1).nextAttemptAt).toBe(T0 + 5 + 30_000);
  });

  it('gives up (dead, with the reason) after the attempt budget or the age budget', () => {
    const last = afterAttempt(row({ attempts: 4 }), retry(), policy, T0 + 60_000, () => 1);
    expect(last).toMatchObject({ status: 'dead', attempts: 5 });
    expect(last.lastError).toBe('gave up after 5 attempts: HTTP 503');
    const old = afterAttempt(row({ attempts: 1 }), retry(), { ...policy, maxAgeMs: 60_000 }, T0 + 59_500, () => 1);
    expect(old.status).toBe('dead');
    expect(old.lastError).toMatch(/^gave up: not delivered within 60 s: HTTP 503$/);
  });

  it('a permanent failure is dead at once', () => {
    expect(afterAttempt(row(), { outcome: 'failed', status: 401, error: 'HTTP 401 unauthorized' }, policy, T0, Math.random)).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'HTTP 401 unauthorized',
    });
  });

  it('updatedAt only grows (the latest write of a row wins even if the clock steps back)', () => {
    const next = afterAttempt(row({ updatedAt: T0 + 1000 }), retry(), policy, T0, () => 0.5);
    expect(next.updatedAt).toBe(T0 + 1001);
  });

  it('requeued rows are pending, due now, with a fresh attempt budget', () => {
    const [again] = requeued([row({ status: 'dead', attempts: 5, updatedAt: T0 + 5 })], T0 + 100);
    expect(again).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: T0 + 100, updatedAt: T0 + 100 });
  });
});
