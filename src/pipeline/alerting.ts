/**
 * Alert rules on the report path: each drift event is run through the rule engine, and what it decides (outbox
 * rows, history, the engine's new state) is written to the store before the pipeline commits the source. So after a
 * crash the replayed windows find their groups already past them (nothing fires twice), or, if the crash came
 * before these writes, they are evaluated again into the same notification ids, and an outbox row that already
 * exists is never written over (a delivered notification stays delivered).
 */
import type { DriftEvent } from '../core/drift-event.js';
import type { AlertStateRow, OutboxEntry, Store } from '../core/store.js';
import { createEngineState, evaluateEvent, pruneState, type EngineState } from '../rules/engine.js';
import type { AlertTransition, Notification, RuleSet, Silence } from '../rules/types.js';

/** What alerting tells the outside (console, metrics). */
export type AlertingEvent =
  | { readonly type: 'transition'; readonly transition: AlertTransition }
  | { readonly type: 'notification'; readonly notification: Notification; readonly queued: boolean };

export interface AlertingOptions {
  readonly store: Store;
  /** The rules in force (they may be reloaded at any time). */
  readonly rules: () => RuleSet;
  /** Silences in force (kept fresh by the caller). */
  readonly silences: () => ReadonlyArray<Silence>;
  /** Link to a window's report page. */
  readonly reportUrl: (event: DriftEvent) => string;
  readonly now?: () => number;
  readonly onEvent?: (event: AlertingEvent) => void;
  /** Called after new outbox rows are stored (wakes the dispatcher). */
  readonly onQueued?: (count: number) => void;
}

const GROUP = 'group:';
const COOLDOWN = 'cooldown:';

export class Alerting {
  private constructor(
    private readonly o: AlertingOptions,
    private readonly state: EngineState,
  ) {}

  /** Restores the engine state the store holds (empty on a first start). */
  static async open(o: AlertingOptions): Promise<Alerting> {
    const state = createEngineState();
    for (const row of await o.store.loadAlertState()) {
      if (row.key.startsWith(GROUP)) state.groups[row.key.slice(GROUP.length)] = JSON.parse(row.state) as EngineState['groups'][string];
      else if (row.key.startsWith(COOLDOWN)) state.cooldowns[row.key.slice(COOLDOWN.length)] = JSON.parse(row.state) as number;
    }
    return new Alerting(o, state);
  }

  /** The engine state (read-only use: listings, metrics). */
  get current(): Readonly<EngineState> {
    return this.state;
  }

  /**
   * Evaluates the rules over the events (in order) and stores the outcome: new outbox rows, history, then state.
   * Throws when the store fails (the pipeline then stops before committing). Returns the function that tells
   * listeners (called by the pipeline once it has announced the windows themselves).
   */
  async onReports(events: ReadonlyArray<DriftEvent>): Promise<() => void> {
    const rules = this.o.rules();
    if (rules.rules.length === 0 && Object.keys(this.state.groups).length === 0) return () => undefined;
    const now = (this.o.now ?? Date.now)();
    const changedGroups = new Set<string>();
    const changedCooldowns = new Set<string>();
    const transitions: AlertTransition[] = [];
    const notifications: Notification[] = [];
    for (const key of pruneState(this.state, rules)) changedGroups.add(key);
    const silences = this.o.silences();
    for (const event of events) {
      const out = evaluateEvent(this.state, rules, event, { now, silences, reportUrl: this.o.reportUrl });
      out.changedGroups.forEach((k) => changedGroups.add(k));
      out.changedCooldowns.forEach((k) => changedCooldowns.add(k));
      transitions.push(...out.transitions);
      notifications.push(...out.notifications);
    }
    let queued = new Set<string>();
    if (notifications.length > 0) {
      // A row that exists (a replay of windows evaluated before a crash) keeps its status: never written over.
      const existing = new Set((await this.o.store.listOutbox({ ids: notifications.map((n) => n.id), limit: notifications.length })).map((e) => e.id));
      const fresh = notifications.filter((n) => !existing.has(n.id));
      // Made-at times one millisecond apart keep the order the engine made them in (the dispatcher and listings go
      // by createdAt, then id): a firing is never delivered after the resolution that follows it.
      await this.o.store.putOutbox(fresh.map((n, i) => outboxEntry(n, now + i)));
      queued = new Set(fresh.map((n) => n.id));
    }
    if (transitions.length > 0) await this.o.store.putAlertHistory(transitions);
    const rows: AlertStateRow[] = [];
    for (const key of changedGroups) {
      const group = this.state.groups[key];
      rows.push(group ? { key: GROUP + key, state: JSON.stringify(group), deleted: false } : { key: GROUP + key, state: '', deleted: true });
    }
    for (const key of changedCooldowns) {
      const until = this.state.cooldowns[key];
      rows.push(until === undefined ? { key: COOLDOWN + key, state: '', deleted: true } : { key: COOLDOWN + key, state: JSON.stringify(until), deleted: false });
    }
    if (rows.length > 0) await this.o.store.putAlertState(rows);
    if (queued.size > 0) this.o.onQueued?.(queued.size);
    return () => {
      for (const transition of transitions) this.emit({ type: 'transition', transition });
      for (const notification of notifications) this.emit({ type: 'notification', notification, queued: queued.has(notification.id) });
    };
  }

  private emit(event: AlertingEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch {
      // A listener's failure must not stop alerting.
    }
  }
}

/** A new, pending outbox row for a notification. */
export function outboxEntry(n: Notification, now: number): OutboxEntry {
  return {
    id: n.id,
    action: n.action,
    kind: n.kind,
    payload: JSON.stringify(n),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    lastError: '',
    createdAt: now,
    updatedAt: now,
  };
}
