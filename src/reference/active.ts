/**
 * The running service's view of each model's active reference: loaded once (rows as typed arrays, profile restored),
 * held in memory, and switched without a restart when the store says another snapshot became active (a promotion,
 * a rollback, a rolling reference).
 *
 * A switch is atomic for readers: the new reference is loaded completely first, and only then replaces the map
 * entry, so `get` returns either the old reference or the new one, never a half-loaded one. A reference that fails
 * to load leaves the previous one in place; the failure is reported and retried with a backoff.
 */
import { StoreError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { loadReference, ReferenceError, type LoadedReference } from './lifecycle.js';

/** Longest pause before a reference that failed to load is tried again, unless configured. */
export const DEFAULT_MAX_RETRY_MS = 5 * 60_000;

export interface ReferenceSwitch {
  readonly model: string;
  /** The snapshot served before (null: the model had none loaded). */
  readonly from: string | null;
  /** The snapshot served now (null: the model has no active reference any more). */
  readonly to: string | null;
}

export interface RefreshFailure {
  /** null when the failure was listing the active references (nothing could be compared). */
  readonly model: string | null;
  readonly id: string | null;
  readonly error: Error;
}

export interface DeferredLoad {
  readonly model: string;
  readonly id: string;
  /** Epoch ms after which the next refresh tries this snapshot again. */
  readonly retryAt: number;
}

/** What one refresh did. */
export interface RefreshOutcome {
  readonly switched: ReadonlyArray<ReferenceSwitch>;
  readonly failed: ReadonlyArray<RefreshFailure>;
  /** Snapshots that failed recently and were not tried again this time (see `maxRetryMs`). */
  readonly deferred: ReadonlyArray<DeferredLoad>;
}

export interface ActiveReferencesOptions {
  /** Pause between the end of one poll and the start of the next, in ms (> 0). */
  readonly pollMs: number;
  /**
   * Called after each swap, including the initial loads of `open` (from null) and removals (to null). `loaded` is
   * the reference now served (undefined on removal). An exception thrown here is reported to `onError`.
   */
  readonly onSwitch?: (model: string, from: string | null, to: string | null, loaded: LoadedReference | undefined) => void;
  /** Every failure of a refresh (listing, loading one snapshot, a throwing `onSwitch`). Never throws out of a poll. */
  readonly onError?: (error: Error, where: { readonly model: string | null; readonly id: string | null }) => void;
  /**
   * A snapshot that failed to load is tried again after `pollMs`, then twice as long after each further failure,
   * up to this (default 5 minutes), so a broken reference is not re-read in full at every poll.
   * `refresh({ force: true })` tries at once.
   */
  readonly maxRetryMs?: number;
  /** Clock for the retry backoff (default Date.now). */
  readonly now?: () => number;
}

interface Failure {
  readonly id: string;
  readonly count: number;
  readonly retryAt: number;
}

export class ActiveReferences {
  private readonly loaded = new Map<string, LoadedReference>();
  private readonly failures = new Map<string, Failure>();
  private readonly pollMs: number;
  private readonly maxRetryMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  /** Bumped by start() and stop(): a poll chain from an earlier start never re-arms. */
  private generation = 0;
  private polling = false;
  private inFlight: Promise<RefreshOutcome> | null = null;
  private queued: Promise<RefreshOutcome> | null = null;
  private queuedForce = false;

  private constructor(
    private readonly store: Store,
    private readonly options: ActiveReferencesOptions,
  ) {
    const { pollMs } = options;
    if (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs <= 0) {
      throw new ReferenceError(`the poll interval must be a number of milliseconds > 0, got ${String(pollMs)}`);
    }
    const maxRetryMs = options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS;
    if (!Number.isFinite(maxRetryMs) || maxRetryMs < 0) {
      throw new ReferenceError(`the longest retry pause must be a number of milliseconds >= 0, got ${String(maxRetryMs)}`);
    }
    this.pollMs = pollMs;
    this.maxRetryMs = maxRetryMs;
    this.now = options.now ?? Date.now;
  }

  /**
   * Loads every model's active reference. Fails (StoreError) only when the active references cannot be listed; a
   * model whose reference fails to load is reported to `onError`, left out, and tried again by later refreshes.
   * Polling is not started: call `start()`.
   */
  static async open(store: Store, options: ActiveReferencesOptions): Promise<ActiveReferences> {
    const refs = new ActiveReferences(store, options);
    await refs.run(false, true);
    return refs;
  }

  /** The model's active reference, fully loaded; undefined when it has none (or it could never be loaded). */
  get(model: string): LoadedReference | undefined {
    return this.loaded.get(model);
  }

  /** Models with a loaded reference, in load order. */
  models(): string[] {
    return [...this.loaded.keys()];
  }

  /** Model -> id of the snapshot served now. */
  ids(): Map<string, string> {
    return new Map([...this.loaded].map(([model, ref]) => [model, ref.snapshot.id]));
  }

  /** Whether the poll timer is running. */
  get started(): boolean {
    return this.polling;
  }

  /**
   * Compares the store's active references with the ones served and switches those that changed. Never rejects:
   * failures are in the outcome and reported to `onError`. Refreshes never overlap: a call made while one runs
   * waits for it and then runs once more (concurrent callers share that second run).
   */
  refresh(options: { readonly force?: boolean } = {}): Promise<RefreshOutcome> {
    const force = options.force === true;
    if (this.queued) {
      this.queuedForce ||= force;
      return this.queued;
    }
    if (!this.inFlight) return this.begin(force);
    this.queuedForce = force;
    const after = () => {
      const f = this.queuedForce;
      this.queued = null;
      this.queuedForce = false;
      return this.begin(f);
    };
    this.queued = this.inFlight.then(after, after);
    return this.queued;
  }

  /** Polls every `pollMs` (measured from the end of the previous poll). The timer never keeps the process alive. */
  start(): void {
    if (this.polling) return;
    this.polling = true;
    this.arm(++this.generation);
  }

  /** Stops polling and waits for a refresh that is running (its switches still apply). */
  async stop(): Promise<void> {
    this.polling = false;
    this.generation++;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queued ?? this.inFlight) {
      await (this.queued ?? this.inFlight)!.catch(() => undefined);
    }
  }

  private arm(generation: number): void {
    if (!this.polling || generation !== this.generation) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.polling || generation !== this.generation) return;
      void this.refresh()
        .catch(() => undefined)
        .then(() => this.arm(generation));
    }, this.pollMs);
    this.timer.unref();
  }

  private begin(force: boolean): Promise<RefreshOutcome> {
    const p = this.run(force, false).finally(() => {
      if (this.inFlight === p) this.inFlight = null;
    });
    this.inFlight = p;
    return p;
  }

  /** One refresh. `strict`: a failure to list the active references is thrown (open) instead of reported. */
  private async run(force: boolean, strict: boolean): Promise<RefreshOutcome> {
    const switched: ReferenceSwitch[] = [];
    const failed: RefreshFailure[] = [];
    const deferred: DeferredLoad[] = [];
    let active: ReadonlyArray<{ readonly model: string; readonly id: string }>;
    try {
      active = await this.store.activeReferences();
    } catch (e) {
      if (strict) throw e;
      const error = asError(e);
      failed.push({ model: null, id: null, error });
      this.report(error, null, null);
      return { switched, failed, deferred };
    }
    const wanted = new Map(active.map((a) => [a.model, a.id]));

    // Models that no longer have an active reference stop being served.
    for (const [model, current] of [...this.loaded]) {
      if (wanted.has(model)) continue;
      this.loaded.delete(model);
      switched.push({ model, from: current.snapshot.id, to: null });
      this.notify(model, current.snapshot.id, null, undefined);
    }
    for (const model of [...this.failures.keys()]) if (!wanted.has(model)) this.failures.delete(model);

    // One model at a time: at most one extra reference is held in memory while it loads.
    for (const [model, id] of wanted) {
      const current = this.loaded.get(model);
      if (current?.snapshot.id === id) {
        this.failures.delete(model);
        continue;
      }
      const failure = this.failures.get(model);
      if (failure && failure.id === id && !force && this.now() < failure.retryAt) {
        deferred.push({ model, id, retryAt: failure.retryAt });
        continue;
      }
      let next: LoadedReference;
      try {
        next = await loadReference(this.store, id);
        if (next.snapshot.model !== model) {
          throw new StoreError('corrupt', `reference ${id} belongs to model ${JSON.stringify(next.snapshot.model)}, but is listed as active for ${JSON.stringify(model)}`);
        }
      } catch (e) {
        const error = asError(e);
        const count = failure && failure.id === id ? failure.count + 1 : 1;
        const pause = Math.min(this.maxRetryMs, this.pollMs * 2 ** Math.min(count - 1, 30));
        this.failures.set(model, { id, count, retryAt: this.now() + pause });
        failed.push({ model, id, error });
        this.report(error, model, id);
        continue;
      }
      // The swap: one synchronous map write, after the reference is complete.
      this.failures.delete(model);
      this.loaded.set(model, next);
      const from = current?.snapshot.id ?? null;
      switched.push({ model, from, to: id });
      this.notify(model, from, id, next);
    }
    return { switched, failed, deferred };
  }

  private notify(model: string, from: string | null, to: string | null, loaded: LoadedReference | undefined): void {
    if (!this.options.onSwitch) return;
    try {
      this.options.onSwitch(model, from, to, loaded);
    } catch (e) {
      this.report(asError(e), model, to);
    }
  }

  private report(error: Error, model: string | null, id: string | null): void {
    try {
      this.options.onError?.(error, { model, id });
    } catch {
      // An error handler that throws has nowhere left to report to; the poll goes on.
    }
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
