/**
 * The store port: everything driftwatch keeps between runs (reference snapshots, window history, dead letters, the
 * alert outbox), as the rest of the code sees it. One adapter implements it over ClickHouse (`src/store`), whether
 * the engine is embedded or a server.
 *
 * Every write is idempotent by a natural key: writing the same thing twice (a retry, a replayed window) leaves one
 * copy. Reads are exact (they see the latest version of every key).
 */
import type { Table } from './table.js';

/** Times are epoch milliseconds (UTC) throughout the store's types. */
export type EpochMs = number;

export type ReferenceStatus = 'candidate' | 'active' | 'retired';

/** Where a snapshot's rows came from, as shown by `reference show`. */
export type ReferenceSource =
  | { readonly kind: 'file'; readonly path: string; readonly format: string }
  | {
      readonly kind: 'windows';
      readonly from: EpochMs;
      readonly to: EpochMs;
      readonly excludeDrifted: boolean;
      readonly windows: number;
    }
  | { readonly kind: 'stream'; readonly detail: string };

/** One column of a snapshot: its storage kind and the type drift methods see. */
export interface SnapshotColumn {
  readonly name: string;
  readonly kind: 'number' | 'category';
  readonly type: 'numerical' | 'categorical';
  /** Number columns: whether the source typed them as integers. */
  readonly integer?: boolean;
  /** Category columns: text or booleans. */
  readonly dtype?: 'string' | 'boolean';
}

export interface ReferenceSnapshot {
  readonly id: string;
  readonly model: string;
  readonly modelVersion: string;
  readonly createdAt: EpochMs;
  readonly source: ReferenceSource;
  /** Rows stored (after sampling). */
  readonly rowCount: number;
  /** Rows the source had before sampling. */
  readonly sourceRowCount: number;
  /** Seed of the reservoir sample and the cap it was drawn to. */
  readonly sampling: { readonly seed: number; readonly maxRows: number };
  readonly columns: ReadonlyArray<SnapshotColumn>;
  readonly status: ReferenceStatus;
  /** When it last became active (null if never). */
  readonly activatedAt: EpochMs | null;
  /** The snapshot that was active when this one was promoted: where a rollback goes. */
  readonly previousActive: string | null;
  /** Who made the last change (creation, promotion, rollback) and why. */
  readonly changedBy: string;
  readonly reason: string;
  readonly changedAt: EpochMs;
}

/** A new state for one snapshot row; a batch of them is applied atomically. */
export type SnapshotChange = Pick<
  ReferenceSnapshot,
  'id' | 'status' | 'activatedAt' | 'previousActive' | 'changedBy' | 'reason' | 'changedAt'
>;

/** An entry of a model's activation history (audit log, Grafana annotations). */
export interface ActivationEvent {
  readonly model: string;
  readonly at: EpochMs;
  readonly action: 'promote' | 'rollback';
  readonly snapshotId: string;
  readonly previousSnapshotId: string | null;
  readonly by: string;
  readonly reason: string;
}

/**
 * Window identity: a model, an optional segment (e.g. `{ lot_id: "L-1042" }`), the window's bounds and, for a count
 * window, its count id.
 */
export interface WindowKey {
  readonly model: string;
  /** Segment values; `{}` when the model is not segmented. */
  readonly segment: Readonly<Record<string, string>>;
  readonly start: EpochMs;
  readonly end: EpochMs;
  /**
   * Count windows only: which one (see `countWindowId`). Their bounds are their rows' event times, which two count
   * windows of a route can share (a burst within one timestamp, times that repeat); time windows have none.
   */
  readonly countId?: string;
}

export interface WindowFeatureResult {
  readonly feature: string;
  readonly method: string;
  readonly status: 'ok' | 'insufficient_data';
  /** p-value or distance; null when insufficient. */
  readonly score: number | null;
  readonly statistic: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  readonly reason: string;
  readonly referenceSize: number;
  readonly currentSize: number;
}

export interface WindowOutlierResult {
  readonly method: string;
  readonly status: 'ok' | 'insufficient_data';
  readonly outliers: number;
  readonly scored: number;
  readonly share: number | null;
  readonly reason: string;
  /** Free-form details (thresholds, the features that drove the top rows), stored as JSON. */
  readonly detail: unknown;
}

export interface WindowQualityResult {
  readonly check: string;
  /** '' for dataset-level checks. */
  readonly column: string;
  readonly status: 'passed' | 'failed' | 'insufficient_data';
  readonly value: number | null;
  readonly detail: unknown;
}

/** One window's verdict: the row lists and dashboards start from. */
export interface WindowSummary {
  readonly key: WindowKey;
  readonly referenceId: string;
  readonly rowCount: number;
  readonly testedFeatures: number;
  readonly driftedFeatures: number;
  /** Share of tested features that drifted; null when nothing could be tested. */
  readonly driftShare: number | null;
  readonly datasetDrifted: boolean;
  /** Increases when a late record updates a closed window: the highest version is the report. */
  readonly version: number;
  readonly computedAt: EpochMs;
}

/** Everything one window's evaluation produced, written as one unit. */
export interface WindowRecord extends WindowSummary {
  readonly features: ReadonlyArray<WindowFeatureResult>;
  readonly outliers: ReadonlyArray<WindowOutlierResult>;
  readonly quality: ReadonlyArray<WindowQualityResult>;
  /** The window's rows (possibly sampled), kept so a later reference can be built from past windows. */
  readonly sample?: Table;
}

export interface DeadLetter {
  /** Deterministic: the same bad record read twice is one dead letter. */
  readonly id: string;
  readonly receivedAt: EpochMs;
  /** `kafka:topic/partition@offset`, `http`, `file:path:line`. */
  readonly source: string;
  /** The model named in the record, '' when unknown. */
  readonly model: string;
  readonly reasonCode: string;
  readonly reason: string;
  /** The original bytes as text (binary payloads base64-encoded by the caller). */
  readonly payload: string;
}

export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export interface OutboxEntry {
  /** Deterministic idempotency key (also the webhook id / run id). */
  readonly id: string;
  readonly action: string;
  readonly kind: string;
  readonly payload: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly nextAttemptAt: EpochMs;
  readonly lastError: string;
  readonly createdAt: EpochMs;
  readonly updatedAt: EpochMs;
}

export type AlertState = 'inactive' | 'pending' | 'firing';

/** A silence: alerts whose labels match every matcher (glob on the label's value) are not notified in [startsAt, endsAt). */
export interface Silence {
  readonly id: string;
  readonly matchers: ReadonlyArray<{ readonly label: string; readonly pattern: string }>;
  readonly startsAt: EpochMs;
  readonly endsAt: EpochMs;
  readonly createdBy: string;
  readonly comment: string;
  readonly createdAt: EpochMs;
}

/** A state change of one alert, kept as history. */
export interface AlertTransition {
  readonly fingerprint: string;
  readonly rule: string;
  readonly model: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly from: AlertState;
  readonly to: AlertState | 'resolved';
  /** Window end (event time) of the report that caused it. */
  readonly at: EpochMs;
  readonly windowStart: EpochMs;
  readonly value: number | null;
  /** Why a firing transition sent nothing: `silenced by <id>`, `cooldown until <iso>`; '' when notified. */
  readonly suppressed: string;
  readonly eventId: string;
}

/** A persisted piece of the alert engine's state (one rule/model/segment group, or a cooldown), as JSON. */
export interface AlertStateRow {
  readonly key: string;
  /** JSON; '' with `deleted` for a removed group. */
  readonly state: string;
  readonly deleted: boolean;
}

export interface SampleQuery {
  readonly model: string;
  readonly from: EpochMs;
  readonly to: EpochMs;
  readonly excludeDrifted: boolean;
  /** Only this segment's windows (all segments when omitted). */
  readonly segment?: Readonly<Record<string, string>>;
  /** Only the count window of this id (see WindowKey.countId); '' for time windows only; all when omitted. */
  readonly countId?: string;
}

export interface Store {
  /** What the store runs on, for logs and `/readyz`: `embedded:/path` or `server:http://host:8123/db`. */
  readonly description: string;

  // Reference snapshots
  /**
   * Writes a snapshot's rows and stored profile, then its catalogue row (status candidate). Until that last row is
   * written the snapshot does not exist for any reader, so a crash half-way leaves nothing visible.
   */
  putReference(
    snapshot: ReferenceSnapshot,
    rows: Table,
    profile: string,
    options?: { readonly onProgress?: (valuesWritten: number, valuesTotal: number) => void },
  ): Promise<void>;
  getReference(id: string): Promise<ReferenceSnapshot | null>;
  listReferences(filter?: { readonly model?: string }): Promise<ReferenceSnapshot[]>;
  /** The model's active snapshot: the newest activation among rows marked active. */
  activeReference(model: string): Promise<ReferenceSnapshot | null>;
  /** Every model with an active snapshot, and its id. */
  activeReferences(): Promise<Array<{ readonly model: string; readonly id: string }>>;
  /** The snapshot's rows, in the order they were stored, as typed arrays. */
  loadReferenceRows(id: string): Promise<Table>;
  loadReferenceProfile(id: string): Promise<string>;
  /** Applies every change in one atomic write: all of them become visible together, or none does. */
  applySnapshotChanges(changes: ReadonlyArray<SnapshotChange>): Promise<void>;
  recordActivation(event: ActivationEvent): Promise<void>;
  activationHistory(model: string): Promise<ActivationEvent[]>;
  /** Hides the snapshot at once, then removes its rows and profile. */
  deleteReference(id: string): Promise<void>;

  // Window history
  putWindow(record: WindowRecord): Promise<void>;
  /** Several reports in one write per table; each as idempotent as `putWindow`. */
  putWindows(records: ReadonlyArray<WindowRecord>): Promise<void>;
  /**
   * `putWindows` in two parts, for a writer that has something to do in between (the pipeline publishes the drift
   * events): the drift results and the summaries first (a listed window has its drift results), then the details
   * (outlier and quality results, sample rows). Between the two a window is listed without its details, which
   * read as none.
   */
  putWindowResults(records: ReadonlyArray<WindowRecord>): Promise<void>;
  putWindowDetails(records: ReadonlyArray<WindowRecord>): Promise<void>;
  listWindows(query: { readonly model: string; readonly from: EpochMs; readonly to: EpochMs }): Promise<WindowSummary[]>;
  windowFeatures(key: WindowKey): Promise<WindowFeatureResult[]>;
  windowOutliers(key: WindowKey): Promise<WindowOutlierResult[]>;
  windowQuality(key: WindowKey): Promise<WindowQualityResult[]>;
  /** Rows stored with the model's windows that start in [from, to), oldest first, as one table. */
  windowSamples(query: SampleQuery): Promise<{ readonly table: Table; readonly windows: number }>;

  // Dead letters and the alert outbox
  putDeadLetters(letters: ReadonlyArray<DeadLetter>): Promise<void>;
  listDeadLetters(query?: { readonly model?: string; readonly limit?: number }): Promise<DeadLetter[]>;
  putOutbox(entries: ReadonlyArray<OutboxEntry>): Promise<void>;
  /**
   * Outbox entries, oldest first: by status, by ids, or only those due (`nextAttemptAt` at or before `dueBy`).
   * An update is a `putOutbox` of the entry with a later `updatedAt`; the latest wins.
   */
  listOutbox(query?: {
    readonly status?: OutboxStatus;
    readonly ids?: ReadonlyArray<string>;
    readonly dueBy?: EpochMs;
    readonly limit?: number;
  }): Promise<OutboxEntry[]>;

  /** How many outbox rows there are in each status (statuses with none are left out). */
  countOutbox(): Promise<Array<{ readonly status: OutboxStatus; readonly count: number }>>;

  // Alerts
  /** Replaces the given state rows (the latest write of a key wins; a deleted row hides the key). */
  putAlertState(rows: ReadonlyArray<AlertStateRow>): Promise<void>;
  /** Every state row not deleted. */
  loadAlertState(): Promise<AlertStateRow[]>;
  /** Transitions, idempotent by (model, rule, fingerprint, at, to). */
  putAlertHistory(transitions: ReadonlyArray<AlertTransition>): Promise<void>;
  /** Newest first. */
  listAlertHistory(query?: { readonly model?: string; readonly rule?: string; readonly limit?: number }): Promise<AlertTransition[]>;
  /** Creates or replaces silences by id (expiring one is a put with an earlier `endsAt`). */
  putSilences(silences: ReadonlyArray<Silence>): Promise<void>;
  /** Silences whose end is after `activeAt` (all when omitted), newest first. */
  listSilences(query?: { readonly activeAt?: EpochMs }): Promise<Silence[]>;

  /** Answers when the store can be queried (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
