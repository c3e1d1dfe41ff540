import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from '../../core/errors.js';
import type {
  ActivationEvent,
  AlertStateRow,
  AlertTransition,
  DeadLetter,
  EpochMs,
  OutboxEntry,
  OutboxStatus,
  ReferenceSnapshot,
  SampleQuery,
  Silence,
  SnapshotChange,
  SnapshotColumn,
  Store,
  WindowFeatureResult,
  WindowKey,
  WindowOutlierResult,
  WindowQualityResult,
  WindowRecord,
  WindowSummary,
} from '../../core/store.js';
import type { Column, Table } from '../../core/table.js';
import { checkDatabaseName, type StoreConfig } from '../config.js';
import { chunksToColumns, selectArrow, tableOf } from './arrow.js';
import { connect } from './connection.js';
import { applyRawFloats, applyRetention, inDatabase, migrate, type MigrationOutcome } from './migrate.js';
import { withRetry } from './retry.js';
import { bodyBytes, dateTime64, sampleBodies, type FloatEncoding, type SampleBody } from './rows.js';

/** Version of the stored profile document; a reader refuses versions it does not know. */
export const PROFILE_FORMAT_VERSION = 1;

export interface OpenOptions {
  /** Stop migrating at this schema version (tests of upgrades from an older schema). */
  readonly migrateTo?: number;
}

/**
 * Opens the store: connects (embedded engine or server), applies pending migrations and the configured retention.
 * Fails with a `StoreError` (never a raw driver error) when the engine is unreachable after the retry budget or the
 * schema is newer than this build.
 */
export async function openStore(config: StoreConfig, options: OpenOptions = {}): Promise<ClickHouseStore> {
  const database = checkDatabaseName(config.database);
  const { client, description } = connect(config);
  try {
    const migration = await migrate(client, database, config.retry, options.migrateTo === undefined ? {} : { target: options.migrateTo });
    let floats: FloatEncoding = 'halves';
    if (options.migrateTo === undefined) {
      await applyRetention(client, database, config.retentionDays, config.retry);
      floats = await applyRawFloats(client, database, config.retry);
    }
    return new ClickHouseStore(client, config, description, migration, floats);
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
}

interface SnapshotRow {
  snapshot_id: string;
  model: string;
  model_version: string;
  created_at: string;
  source: string;
  row_count: string | number;
  source_row_count: string | number;
  sample_seed: number;
  sample_max_rows: string | number;
  columns: string;
  status: 'candidate' | 'active' | 'retired';
  activated_at: string | null;
  previous_active: string | null;
  changed_at: string;
  changed_by: string;
  reason: string;
}

const SNAPSHOT_FIELDS = `snapshot_id, model, model_version, toUnixTimestamp64Milli(created_at) AS created_at, source,
  row_count, source_row_count, sample_seed, sample_max_rows, columns, status,
  toUnixTimestamp64Milli(activated_at) AS activated_at, previous_active, toUnixTimestamp64Milli(changed_at) AS changed_at,
  changed_by, reason`;

/** Window key columns as written. */
function windowKeyFields(key: WindowKey): Record<string, unknown> {
  return {
    model: key.model,
    segment: segmentKey(key.segment),
    window_start: dateTime64(key.start),
    window_end: dateTime64(key.end),
    window_id: key.countId ?? '',
  };
}

/**
 * The insert columns of columnar chunk rows as `sampleBodies` writes them: the owner's key, the chunk's fields, and
 * its values (floats as `encoding` carries them, which rebuild `numbers`).
 */
function chunkColumns(owner: ReadonlyArray<string>, encoding: FloatEncoding): string[] {
  return [...owner, 'column_index', 'column', 'kind', 'integer', 'dtype', 'chunk', ...(encoding === 'raw' ? ['raw'] : ['hi', 'lo']), 'categories'];
}

/** What a window write is called in errors. */
function describeWrite(records: ReadonlyArray<WindowRecord>): string {
  const first = records[0]!;
  return records.length === 1 ? `storing window ${first.key.model} ${new Date(first.key.start).toISOString()}` : `storing ${records.length} windows`;
}

/** Small bodies joined (JSONEachRow rows are lines) up to `limit` bytes: one insert instead of one per window. */
function* mergeBodies(bodies: Iterable<SampleBody>, limit: number): Generator<SampleBody> {
  let parts: Buffer[] = [];
  let size = 0;
  let values = 0;
  for (const b of bodies) {
    if (size > 0 && size + b.body.length > limit) {
      yield { body: Buffer.concat(parts), values };
      parts = [];
      size = 0;
      values = 0;
    }
    parts.push(b.body);
    size += b.body.length;
    values += b.values;
  }
  if (size > 0) yield { body: Buffer.concat(parts), values };
}

/** Segment values as one canonical string: JSON with keys in code-point order ('{}' when unsegmented). */
export function segmentKey(segment: Readonly<Record<string, string>>): string {
  const keys = Object.keys(segment).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, string> = {};
  for (const k of keys) Object.defineProperty(out, k, { value: segment[k], enumerable: true });
  return JSON.stringify(out);
}

const WINDOW_KEY_WHERE = `model = {model:String} AND segment = {segment:String}
  AND window_start = fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND window_end = fromUnixTimestamp64Milli({end:Int64}, 'UTC')
  AND window_id = {window_id:String}`;

/**
 * The window's current version: the one its summary row reports. Details are read at that version only, so
 * results a newer version no longer has (a feature, an outlier method, a check) do not show through FINAL, which
 * only collapses rows sharing a full sorting key; a window whose details are not written yet shows none.
 */
const WINDOW_VERSION = `(SELECT max(version) FROM {db}.windows WHERE ${WINDOW_KEY_WHERE})`;

function windowKeyParams(key: WindowKey): Record<string, unknown> {
  return { model: key.model, segment: segmentKey(key.segment), start: Math.round(key.start), end: Math.round(key.end), window_id: key.countId ?? '' };
}

/** A finite number, or null (JSON cannot carry NaN or ±inf, and the report treats them as "no value"). */
function finiteOrNull(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? x : null;
}

export class ClickHouseStore implements Store {
  readonly database: string;
  private readonly retry;
  private lastRevision = 0;

  constructor(
    readonly client: ClickHouseClient,
    readonly config: StoreConfig,
    readonly description: string,
    readonly migration: MigrationOutcome,
    /** How the doubles of reference rows and window samples are sent (see `applyRawFloats`). */
    readonly floatEncoding: FloatEncoding = 'halves',
  ) {
    this.database = config.database;
    this.retry = config.retry;
  }

  private sql(query: string): string {
    return inDatabase(query, this.database);
  }

  private table(name: string): string {
    return `\`${this.database}\`.${name}`;
  }

  private async rows<T>(what: string, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    return withRetry(what, this.retry, async () => {
      const rs = await this.client.query({ query: this.sql(query), query_params: params, format: 'JSONEachRow' });
      return rs.json<T>();
    });
  }

  private async command(what: string, query: string, params: Record<string, unknown> = {}): Promise<void> {
    await withRetry(what, this.retry, () => this.client.command({ query: this.sql(query), query_params: params }));
  }

  /** One INSERT of plain rows: a single block, so the rows land together or not at all. */
  private async insert(what: string, table: string, values: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    if (values.length === 0) return;
    await withRetry(what, this.retry, () =>
      this.client.insert({ table: this.table(table), values: values as Array<Record<string, unknown>>, format: 'JSONEachRow' }),
    );
  }

  /** Inserts pre-built JSONEachRow bodies (columnar chunks); each body is retried on its own (rows are keyed). */
  private async insertBodies(
    what: string,
    table: string,
    columns: ReadonlyArray<string>,
    bodies: Iterable<SampleBody>,
    progress?: { readonly total: number; readonly onProgress: (done: number, total: number) => void },
  ): Promise<void> {
    const query = `INSERT INTO ${this.table(table)} (${columns.join(', ')}) FORMAT JSONEachRow`;
    let done = 0;
    for (const { body, values } of bodies) {
      await withRetry(what, this.retry, () => this.client.exec({ query, values: Readable.from([body], { objectMode: false }) }));
      done += values;
      progress?.onProgress(done, progress.total);
    }
  }

  /** A revision larger than any this process wrote before, and than `floor`. */
  private nextRevision(floor = 0): number {
    this.lastRevision = Math.max(this.lastRevision + 1, Date.now() * 1000, floor + 1);
    return this.lastRevision;
  }

  // ---- reference snapshots -------------------------------------------------------------------------------------

  async putReference(
    snapshot: ReferenceSnapshot,
    rows: Table,
    profile: string,
    options: { readonly onProgress?: (valuesWritten: number, valuesTotal: number) => void } = {},
  ): Promise<void> {
    const floats = this.floatEncoding;
    const total = rows.columns.reduce((n, c) => n + c.values.length, 0);
    await this.insertBodies(
      `storing the rows of reference ${snapshot.id}`,
      'reference_values',
      chunkColumns(['snapshot_id'], floats),
      sampleBodies({ snapshot_id: snapshot.id }, rows, floats),
      options.onProgress ? { total, onProgress: options.onProgress } : undefined,
    );
    await this.insert(`storing the profile of reference ${snapshot.id}`, 'reference_profiles', [
      { snapshot_id: snapshot.id, format_version: PROFILE_FORMAT_VERSION, profile, created_at: dateTime64(snapshot.createdAt) },
    ]);
    // Last: the catalogue row. Until it exists, the snapshot is invisible to every reader.
    await this.insert(`storing reference ${snapshot.id}`, 'reference_snapshots', [this.snapshotRow(snapshot, this.nextRevision())]);
  }

  private snapshotRow(s: ReferenceSnapshot, revision: number, deleted = false): Record<string, unknown> {
    return {
      snapshot_id: s.id,
      model: s.model,
      model_version: s.modelVersion,
      created_at: dateTime64(s.createdAt),
      source: JSON.stringify(s.source),
      row_count: s.rowCount,
      source_row_count: s.sourceRowCount,
      sample_seed: s.sampling.seed,
      sample_max_rows: s.sampling.maxRows,
      columns: JSON.stringify(s.columns),
      status: s.status,
      activated_at: s.activatedAt === null ? null : dateTime64(s.activatedAt),
      previous_active: s.previousActive,
      changed_at: dateTime64(s.changedAt),
      changed_by: s.changedBy,
      reason: s.reason,
      deleted: deleted ? 1 : 0,
      revision,
    };
  }

  private fromSnapshotRow(r: SnapshotRow): ReferenceSnapshot {
    let source: ReferenceSnapshot['source'];
    let columns: SnapshotColumn[];
    try {
      source = JSON.parse(r.source) as ReferenceSnapshot['source'];
      columns = JSON.parse(r.columns) as SnapshotColumn[];
    } catch (e) {
      throw new StoreError('corrupt', `reference ${r.snapshot_id}: its catalogue row cannot be read`, { cause: e });
    }
    return {
      id: r.snapshot_id,
      model: r.model,
      modelVersion: r.model_version,
      createdAt: Number(r.created_at),
      source,
      rowCount: Number(r.row_count),
      sourceRowCount: Number(r.source_row_count),
      sampling: { seed: Number(r.sample_seed), maxRows: Number(r.sample_max_rows) },
      columns,
      status: r.status,
      activatedAt: r.activated_at === null ? null : Number(r.activated_at),
      previousActive: r.previous_active,
      changedAt: Number(r.changed_at),
      changedBy: r.changed_by,
      reason: r.reason,
    };
  }

  /** Current (latest-revision) catalogue rows matching `where`, deleted ones left out. */
  private async snapshots(where: string, params: Record<string, unknown>): Promise<ReferenceSnapshot[]> {
    const rows = await this.rows<SnapshotRow>(
      'reading reference snapshots',
      `SELECT ${SNAPSHOT_FIELDS} FROM {db}.reference_snapshots FINAL WHERE deleted = 0 AND (${where})
       ORDER BY model, created_at, snapshot_id`,
      params,
    );
    return rows.map((r) => this.fromSnapshotRow(r));
  }

  async getReference(id: string): Promise<ReferenceSnapshot | null> {
    const found = await this.snapshots('snapshot_id = {id:String}', { id });
    return found[0] ?? null;
  }

  async listReferences(filter: { readonly model?: string } = {}): Promise<ReferenceSnapshot[]> {
    return filter.model === undefined ? this.snapshots('1', {}) : this.snapshots('model = {model:String}', { model: filter.model });
  }

  async activeReference(model: string): Promise<ReferenceSnapshot | null> {
    const active = await this.snapshots("model = {model:String} AND status = 'active'", { model });
    return newestActivation(active);
  }

  async activeReferences(): Promise<Array<{ model: string; id: string }>> {
    const active = await this.snapshots("status = 'active'", {});
    const byModel = new Map<string, ReferenceSnapshot[]>();
    for (const s of active) byModel.set(s.model, [...(byModel.get(s.model) ?? []), s]);
    return [...byModel.entries()].map(([model, list]) => ({ model, id: newestActivation(list)!.id }));
  }

  async loadReferenceRows(id: string): Promise<Table> {
    const arrow = await withRetry(`reading the rows of reference ${id}`, this.retry, () =>
      selectArrow(
        this.client,
        this.sql(`SELECT column_index, column, toString(kind) AS kind, integer, dtype, chunk, numbers, categories FROM {db}.reference_values FINAL
          WHERE snapshot_id = {id:String} ORDER BY column_index, chunk`),
        { id },
      ),
    );
    const columns = arrow ? chunksToColumns(arrow).map((c) => c.column) : [];
    return tableOf(`reference ${id}`, columns);
  }

  async loadReferenceProfile(id: string): Promise<string> {
    const rows = await this.rows<{ format_version: number; profile: string }>(
      `reading the profile of reference ${id}`,
      'SELECT format_version, profile FROM {db}.reference_profiles FINAL WHERE snapshot_id = {id:String}',
      { id },
    );
    const row = rows[0];
    if (!row) throw new StoreError('not_found', `reference ${id} has no stored profile`);
    if (Number(row.format_version) > PROFILE_FORMAT_VERSION) {
      throw new StoreError('schema_too_new', `reference ${id} has a profile of format ${row.format_version}; this driftwatch reads up to ${PROFILE_FORMAT_VERSION}`);
    }
    return row.profile;
  }

  async applySnapshotChanges(changes: ReadonlyArray<SnapshotChange>): Promise<void> {
    if (changes.length === 0) return;
    const ids = changes.map((c) => c.id);
    const current = await this.snapshots('snapshot_id IN {ids:Array(String)}', { ids });
    const byId = new Map(current.map((s) => [s.id, s]));
    const revision = this.nextRevision();
    const rows = changes.map((c) => {
      const s = byId.get(c.id);
      if (!s) throw new StoreError('not_found', `reference ${c.id} does not exist (or was deleted)`);
      return this.snapshotRow({ ...s, ...c }, revision);
    });
    // One INSERT, one block: every row of the change is visible together or none is.
    await this.insert('changing reference status', 'reference_snapshots', rows);
  }

  async recordActivation(event: ActivationEvent): Promise<void> {
    await this.insert('recording a reference activation', 'reference_activations', [
      {
        model: event.model,
        at: dateTime64(event.at),
        action: event.action,
        snapshot_id: event.snapshotId,
        previous_snapshot_id: event.previousSnapshotId,
        by: event.by,
        reason: event.reason,
      },
    ]);
  }

  async activationHistory(model: string): Promise<ActivationEvent[]> {
    const rows = await this.rows<{
      model: string;
      at: string;
      action: 'promote' | 'rollback';
      snapshot_id: string;
      previous_snapshot_id: string | null;
      by: string;
      reason: string;
    }>(
      'reading the activation history',
      `SELECT model, toUnixTimestamp64Milli(at) AS at, action, snapshot_id, previous_snapshot_id, by, reason
       FROM {db}.reference_activations FINAL WHERE model = {model:String} ORDER BY at, snapshot_id`,
      { model },
    );
    return rows.map((r) => ({
      model: r.model,
      at: Number(r.at),
      action: r.action,
      snapshotId: r.snapshot_id,
      previousSnapshotId: r.previous_snapshot_id,
      by: r.by,
      reason: r.reason,
    }));
  }

  async deleteReference(id: string): Promise<void> {
    const s = await this.getReference(id);
    if (!s) throw new StoreError('not_found', `reference ${id} does not exist`);
    if (s.status === 'active') throw new StoreError('conflict', `reference ${id} is the active reference of model ${JSON.stringify(s.model)}: promote another one first`);
    await this.insert(`deleting reference ${id}`, 'reference_snapshots', [this.snapshotRow(s, this.nextRevision(), true)]);
    await this.command(`deleting the rows of reference ${id}`, 'DELETE FROM {db}.reference_values WHERE snapshot_id = {id:String}', { id });
    await this.command(`deleting the profile of reference ${id}`, 'DELETE FROM {db}.reference_profiles WHERE snapshot_id = {id:String}', { id });
  }

  // ---- window history ------------------------------------------------------------------------------------------

  async putWindow(record: WindowRecord): Promise<void> {
    await this.putWindows([record]);
  }

  /**
   * Several window reports in one write per table (a stream closing many windows at once pays the round trips
   * once): `putWindowResults`, then `putWindowDetails`.
   */
  async putWindows(records: ReadonlyArray<WindowRecord>): Promise<void> {
    await this.putWindowResults(records);
    await this.putWindowDetails(records);
  }

  /**
   * The drift results (one row per feature and method), then the summary rows, once every result row is in: a
   * listed window always has its drift results.
   */
  async putWindowResults(records: ReadonlyArray<WindowRecord>): Promise<void> {
    if (records.length === 0) return;
    const what = describeWrite(records);
    const features: Array<Record<string, unknown>> = [];
    const summaries: Array<Record<string, unknown>> = [];
    for (const record of records) {
      const key = windowKeyFields(record.key);
      const version = record.version;
      for (const f of record.features) {
        features.push({
          ...key,
          feature: f.feature,
          method: f.method,
          status: f.status,
          score: finiteOrNull(f.score),
          statistic: finiteOrNull(f.statistic),
          threshold: f.threshold,
          drifted: f.drifted ? 1 : 0,
          reason: f.reason,
          reference_size: f.referenceSize,
          current_size: f.currentSize,
          version,
        });
      }
      summaries.push({
        ...key,
        reference_id: record.referenceId,
        row_count: record.rowCount,
        tested_features: record.testedFeatures,
        drifted_features: record.driftedFeatures,
        drift_share: finiteOrNull(record.driftShare),
        dataset_drifted: record.datasetDrifted ? 1 : 0,
        computed_at: dateTime64(record.computedAt),
        version,
      });
    }
    await this.insert(what, 'window_features', features);
    await this.insert(what, 'windows', summaries);
  }

  /** The rest of window reports: outlier and quality results and the sample rows (of the reports that carry any). */
  async putWindowDetails(records: ReadonlyArray<WindowRecord>): Promise<void> {
    if (records.length === 0) return;
    const what = describeWrite(records);
    const outliers: Array<Record<string, unknown>> = [];
    const quality: Array<Record<string, unknown>> = [];
    for (const record of records) {
      const key = windowKeyFields(record.key);
      const version = record.version;
      for (const o of record.outliers) {
        outliers.push({
          ...key,
          method: o.method,
          status: o.status,
          outliers: o.outliers,
          scored: o.scored,
          share: finiteOrNull(o.share),
          reason: o.reason,
          detail: JSON.stringify(o.detail ?? null),
          version,
        });
      }
      for (const q of record.quality) {
        quality.push({
          ...key,
          check: q.check,
          column: q.column,
          status: q.status,
          value: finiteOrNull(q.value),
          detail: JSON.stringify(q.detail ?? null),
          version,
        });
      }
    }
    const samples = records.filter((r) => r.sample);
    // Every insert settles before a failure is reported, so nothing is still being written once the caller knows.
    const settled = await Promise.allSettled([
      this.insert(what, 'window_outliers', outliers),
      this.insert(what, 'window_quality', quality),
      ...(samples.length > 0 ? [this.insertSamples(what, samples)] : []),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async insertSamples(what: string, records: ReadonlyArray<WindowRecord>): Promise<void> {
    const floats = this.floatEncoding;
    await this.insertBodies(
      what,
      'window_samples',
      chunkColumns(['model', 'segment', 'window_start', 'window_end', 'window_id', 'version'], floats),
      mergeBodies(
        (function* () {
          for (const r of records) yield* sampleBodies({ ...windowKeyFields(r.key), version: r.version }, r.sample!, floats);
        })(),
        bodyBytes(floats),
      ),
    );
  }

  async listWindows(query: { model: string; from: number; to: number }): Promise<WindowSummary[]> {
    const rows = await this.rows<{
      model: string;
      segment: string;
      start_ms: string;
      end_ms: string;
      window_id: string;
      reference_id: string;
      row_count: string;
      tested_features: number;
      drifted_features: number;
      drift_share: number | null;
      dataset_drifted: number;
      computed_ms: string;
      version: string;
    }>(
      'reading windows',
      // The epoch-ms aliases must not reuse the column names: an alias shadows its column in WHERE, and
      // `window_start < fromUnixTimestamp64Milli(...)` would then compare an Int64 with a DateTime64.
      `SELECT model, segment, toUnixTimestamp64Milli(window_start) AS start_ms, toUnixTimestamp64Milli(window_end) AS end_ms, window_id,
         reference_id, row_count, tested_features, drifted_features, drift_share, dataset_drifted,
         toUnixTimestamp64Milli(computed_at) AS computed_ms, version
       FROM {db}.windows FINAL
       WHERE model = {model:String} AND window_start >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
         AND window_start < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       ORDER BY window_start, window_end, segment, window_id`,
      { model: query.model, from: Math.round(query.from), to: Math.round(query.to) },
    );
    return rows.map((r) => ({
      key: {
        model: r.model,
        segment: JSON.parse(r.segment) as Record<string, string>,
        start: Number(r.start_ms),
        end: Number(r.end_ms),
        ...(r.window_id !== '' ? { countId: r.window_id } : {}),
      },
      referenceId: r.reference_id,
      rowCount: Number(r.row_count),
      testedFeatures: Number(r.tested_features),
      driftedFeatures: Number(r.drifted_features),
      driftShare: r.drift_share === null ? null : Number(r.drift_share),
      datasetDrifted: Number(r.dataset_drifted) === 1,
      version: Number(r.version),
      computedAt: Number(r.computed_ms),
    }));
  }

  async windowFeatures(key: WindowKey): Promise<WindowFeatureResult[]> {
    const rows = await this.rows<{
      feature: string;
      method: string;
      status: 'ok' | 'insufficient_data';
      score: number | null;
      statistic: number | null;
      threshold: number;
      drifted: number;
      reason: string;
      reference_size: string;
      current_size: string;
    }>(
      'reading window features',
      `SELECT feature, method, status, score, statistic, threshold, drifted, reason, reference_size, current_size
       FROM {db}.window_features FINAL WHERE ${WINDOW_KEY_WHERE} AND version = ${WINDOW_VERSION} ORDER BY feature, method`,
      windowKeyParams(key),
    );
    return rows.map((r) => ({
      feature: r.feature,
      method: r.method,
      status: r.status,
      score: r.score === null ? null : Number(r.score),
      statistic: r.statistic === null ? null : Number(r.statistic),
      threshold: Number(r.threshold),
      drifted: Number(r.drifted) === 1,
      reason: r.reason,
      referenceSize: Number(r.reference_size),
      currentSize: Number(r.current_size),
    }));
  }

  async windowOutliers(key: WindowKey): Promise<WindowOutlierResult[]> {
    const rows = await this.rows<{
      method: string;
      status: 'ok' | 'insufficient_data';
      outliers: string;
      scored: string;
      share: number | null;
      reason: string;
      detail: string;
    }>(
      'reading window outliers',
      `SELECT method, status, outliers, scored, share, reason, detail FROM {db}.window_outliers FINAL
       WHERE ${WINDOW_KEY_WHERE} AND version = ${WINDOW_VERSION} ORDER BY method`,
      windowKeyParams(key),
    );
    return rows.map((r) => ({
      method: r.method,
      status: r.status,
      outliers: Number(r.outliers),
      scored: Number(r.scored),
      share: r.share === null ? null : Number(r.share),
      reason: r.reason,
      detail: JSON.parse(r.detail) as unknown,
    }));
  }

  async windowQuality(key: WindowKey): Promise<WindowQualityResult[]> {
    const rows = await this.rows<{
      check: string;
      column: string;
      status: 'passed' | 'failed' | 'insufficient_data';
      value: number | null;
      detail: string;
    }>(
      'reading window quality results',
      `SELECT check, column, status, value, detail FROM {db}.window_quality FINAL
       WHERE ${WINDOW_KEY_WHERE} AND version = ${WINDOW_VERSION} ORDER BY check, column`,
      windowKeyParams(key),
    );
    return rows.map((r) => ({
      check: r.check,
      column: r.column,
      status: r.status,
      value: r.value === null ? null : Number(r.value),
      detail: JSON.parse(r.detail) as unknown,
    }));
  }

  async windowSamples(query: SampleQuery): Promise<{ table: Table; windows: number }> {
    const drifted = query.excludeDrifted
      ? `AND (segment, window_start, window_end, window_id) NOT IN (
           SELECT segment, window_start, window_end, window_id FROM {db}.windows FINAL
           WHERE model = {model:String} AND dataset_drifted = 1)`
      : '';
    // Only the newest version of each window's sample: a late update replaces the whole sample.
    const arrow = await withRetry('reading stored window samples', this.retry, () =>
      selectArrow(
        this.client,
        this.sql(`SELECT segment, window_start, window_end, window_id, column_index, column, toString(kind) AS kind, integer, dtype, chunk, numbers, categories
          FROM {db}.window_samples FINAL
          WHERE model = {model:String}
            AND window_start >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
            AND window_start < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
            AND ({any_segment:UInt8} = 1 OR segment = {segment:String})
            AND ({any_window_id:UInt8} = 1 OR window_id = {window_id:String})
            AND (segment, window_start, window_end, window_id, version) IN (
              SELECT segment, window_start, window_end, window_id, max(version) FROM {db}.window_samples
              WHERE model = {model:String} GROUP BY segment, window_start, window_end, window_id)
            ${drifted}
          ORDER BY window_start, window_end, segment, window_id, column_index, chunk`),
        {
          model: query.model,
          from: Math.round(query.from),
          to: Math.round(query.to),
          any_segment: query.segment === undefined ? 1 : 0,
          segment: query.segment === undefined ? '' : segmentKey(query.segment),
          any_window_id: query.countId === undefined ? 1 : 0,
          window_id: query.countId ?? '',
        },
      ),
    );
    if (!arrow) return { table: tableOf(`windows of ${query.model}`, []), windows: 0 };
    // Split the rows by window, rebuild each window's columns, then stack them by column name.
    const starts = arrow.getChild('window_start')!;
    const ends = arrow.getChild('window_end')!;
    const segments = arrow.getChild('segment')!;
    const ids = arrow.getChild('window_id')!;
    const groups: Array<{ from: number; to: number }> = [];
    let begin = 0;
    const keyAt = (i: number) => `${String(starts.get(i))}|${String(ends.get(i))}|${String(segments.get(i))}|${String(ids.get(i))}`;
    for (let i = 1; i <= arrow.numRows; i++) {
      if (i === arrow.numRows || keyAt(i) !== keyAt(begin)) {
        groups.push({ from: begin, to: i });
        begin = i;
      }
    }
    const windows = groups.map((g) => chunksToColumns(arrow.slice(g.from, g.to)));
    return { table: stackByName(`windows of ${query.model}`, windows.map((w) => w.map((c) => c.column))), windows: groups.length };
  }

  // ---- dead letters and outbox ---------------------------------------------------------------------------------

  async putDeadLetters(letters: ReadonlyArray<DeadLetter>): Promise<void> {
    await this.insert(
      'storing dead letters',
      'dead_letters',
      letters.map((d) => ({
        id: d.id,
        received_at: dateTime64(d.receivedAt),
        source: d.source,
        model: d.model,
        reason_code: d.reasonCode,
        reason: d.reason,
        payload: d.payload,
      })),
    );
  }

  async listDeadLetters(query: { model?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await this.rows<{
      id: string;
      received_at: string;
      source: string;
      model: string;
      reason_code: string;
      reason: string;
      payload: string;
    }>(
      'reading dead letters',
      `SELECT id, toUnixTimestamp64Milli(received_at) AS received_at, source, model, reason_code, reason, payload
       FROM {db}.dead_letters FINAL WHERE ({model:Nullable(String)} IS NULL OR model = {model:Nullable(String)})
       ORDER BY received_at DESC, id LIMIT {limit:UInt32}`,
      { model: query.model ?? null, limit: query.limit ?? 1000 },
    );
    return rows.map((r) => ({
      id: r.id,
      receivedAt: Number(r.received_at),
      source: r.source,
      model: r.model,
      reasonCode: r.reason_code,
      reason: r.reason,
      payload: r.payload,
    }));
  }

  async putOutbox(entries: ReadonlyArray<OutboxEntry>): Promise<void> {
    await this.insert(
      'storing outbox entries',
      'alert_outbox',
      entries.map((e) => ({
        id: e.id,
        action: e.action,
        kind: e.kind,
        payload: e.payload,
        status: e.status,
        attempts: e.attempts,
        next_attempt_at: dateTime64(e.nextAttemptAt),
        last_error: e.lastError,
        created_at: dateTime64(e.createdAt),
        updated_at: dateTime64(e.updatedAt),
      })),
    );
  }

  async listOutbox(
    query: { status?: OutboxStatus; ids?: ReadonlyArray<string>; dueBy?: EpochMs; limit?: number } = {},
  ): Promise<OutboxEntry[]> {
    const rows = await this.rows<{
      id: string;
      action: string;
      kind: string;
      payload: string;
      status: OutboxStatus;
      attempts: number;
      next_attempt_at: string;
      last_error: string;
      created_at: string;
      updated_at: string;
    }>(
      'reading the outbox',
      `SELECT id, action, kind, payload, status, attempts, toUnixTimestamp64Milli(next_attempt_at) AS next_attempt_at,
         last_error, toUnixTimestamp64Milli(created_at) AS created_at, toUnixTimestamp64Milli(updated_at) AS updated_at
       FROM {db}.alert_outbox FINAL
       WHERE ({status:Nullable(String)} IS NULL OR toString(status) = {status:Nullable(String)})
         AND ({any_id:UInt8} = 1 OR has({ids:Array(String)}, id))
         AND ({due:Nullable(Int64)} IS NULL OR next_attempt_at <= {due:Nullable(Int64)})
       ORDER BY created_at, id LIMIT {limit:UInt32}`,
      {
        status: query.status ?? null,
        any_id: query.ids === undefined ? 1 : 0,
        ids: query.ids ?? [],
        due: query.dueBy ?? null,
        limit: query.limit ?? 1000,
      },
    );
    return rows.map((r) => ({
      id: r.id,
      action: r.action,
      kind: r.kind,
      payload: r.payload,
      status: r.status,
      attempts: Number(r.attempts),
      nextAttemptAt: Number(r.next_attempt_at),
      lastError: r.last_error,
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  async countOutbox(): Promise<Array<{ status: OutboxStatus; count: number }>> {
    const rows = await this.rows<{ status: OutboxStatus; n: string }>(
      'counting the outbox',
      `SELECT toString(status) AS status, count() AS n FROM {db}.alert_outbox FINAL GROUP BY status ORDER BY status`,
    );
    return rows.map((r) => ({ status: r.status, count: Number(r.n) }));
  }

  // ---- alerts ---------------------------------------------------------------------------------------------------

  async putAlertState(rows: ReadonlyArray<AlertStateRow>): Promise<void> {
    const base = this.revisions(rows.length);
    await this.insert(
      'storing alert state',
      'alert_state',
      rows.map((r, i) => ({ key: r.key, state: r.deleted ? '' : r.state, deleted: r.deleted ? 1 : 0, revision: base + i })),
    );
  }

  async loadAlertState(): Promise<AlertStateRow[]> {
    const rows = await this.rows<{ key: string; state: string }>(
      'reading alert state',
      `SELECT key, state FROM {db}.alert_state FINAL WHERE deleted = 0 ORDER BY key`,
    );
    return rows.map((r) => ({ key: r.key, state: r.state, deleted: false }));
  }

  async putAlertHistory(transitions: ReadonlyArray<AlertTransition>): Promise<void> {
    await this.insert(
      'storing alert history',
      'alert_history',
      transitions.map((t) => ({
        fingerprint: t.fingerprint,
        rule: t.rule,
        model: t.model,
        labels: JSON.stringify(t.labels),
        from_state: t.from,
        to_state: t.to,
        at: dateTime64(t.at),
        window_start: dateTime64(t.windowStart),
        value: t.value === null || !Number.isFinite(t.value) ? null : t.value,
        suppressed: t.suppressed,
        event_id: t.eventId,
      })),
    );
  }

  async listAlertHistory(query: { model?: string; rule?: string; limit?: number } = {}): Promise<AlertTransition[]> {
    const rows = await this.rows<{
      fingerprint: string;
      rule: string;
      model: string;
      labels: string;
      from_state: string;
      to_state: string;
      at: string;
      window_start: string;
      value: number | null;
      suppressed: string;
      event_id: string;
    }>(
      'reading alert history',
      `SELECT fingerprint, rule, model, labels, from_state, to_state, toUnixTimestamp64Milli(at) AS at,
         toUnixTimestamp64Milli(window_start) AS window_start, value, suppressed, event_id
       FROM {db}.alert_history FINAL
       WHERE ({model:Nullable(String)} IS NULL OR model = {model:Nullable(String)})
         AND ({rule:Nullable(String)} IS NULL OR rule = {rule:Nullable(String)})
       ORDER BY at DESC, fingerprint, to_state LIMIT {limit:UInt32}`,
      { model: query.model ?? null, rule: query.rule ?? null, limit: query.limit ?? 1000 },
    );
    return rows.map((r) => ({
      fingerprint: r.fingerprint,
      rule: r.rule,
      model: r.model,
      labels: JSON.parse(r.labels) as Record<string, string>,
      from: r.from_state as AlertTransition['from'],
      to: r.to_state as AlertTransition['to'],
      at: Number(r.at),
      windowStart: Number(r.window_start),
      value: r.value === null ? null : Number(r.value),
      suppressed: r.suppressed,
      eventId: r.event_id,
    }));
  }

  async putSilences(silences: ReadonlyArray<Silence>): Promise<void> {
    const base = this.revisions(silences.length);
    await this.insert(
      'storing silences',
      'silences',
      silences.map((x, i) => ({
        id: x.id,
        matchers: JSON.stringify(x.matchers),
        starts_at: dateTime64(x.startsAt),
        ends_at: dateTime64(x.endsAt),
        created_by: x.createdBy,
        comment: x.comment,
        created_at: dateTime64(x.createdAt),
        revision: base + i,
      })),
    );
  }

  async listSilences(query: { activeAt?: EpochMs } = {}): Promise<Silence[]> {
    const rows = await this.rows<{
      id: string;
      matchers: string;
      starts_at: string;
      ends_at: string;
      created_by: string;
      comment: string;
      created_at: string;
    }>(
      'reading silences',
      `SELECT id, matchers, toUnixTimestamp64Milli(starts_at) AS starts_at, toUnixTimestamp64Milli(ends_at) AS ends_at,
         created_by, comment, toUnixTimestamp64Milli(created_at) AS created_at
       FROM {db}.silences FINAL
       WHERE ({at:Nullable(Int64)} IS NULL OR ends_at > {at:Nullable(Int64)})
       ORDER BY created_at DESC, id`,
      { at: query.activeAt ?? null },
    );
    return rows.map((r) => ({
      id: r.id,
      matchers: JSON.parse(r.matchers) as Silence['matchers'],
      startsAt: Number(r.starts_at),
      endsAt: Number(r.ends_at),
      createdBy: r.created_by,
      comment: r.comment,
      createdAt: Number(r.created_at),
    }));
  }

  /** `n` increasing revisions for rows written together (a later row of the same key wins): the first is returned. */
  private revisions(n: number): number {
    const base = this.nextRevision();
    this.lastRevision = base + Math.max(0, n - 1);
    return base;
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.client.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function newestActivation(list: ReadonlyArray<ReferenceSnapshot>): ReferenceSnapshot | null {
  let best: ReferenceSnapshot | null = null;
  for (const s of list) {
    if (best === null || (s.activatedAt ?? 0) > (best.activatedAt ?? 0)) best = s;
  }
  return best;
}

/** Stacks window tables row-wise, matching columns by name; a column a window lacks is missing there. */
export function stackByName(source: string, tables: ReadonlyArray<ReadonlyArray<Column>>): Table {
  const order: string[] = [];
  const kinds = new Map<string, Column['kind']>();
  for (const cols of tables) {
    for (const c of cols) {
      if (!kinds.has(c.name)) {
        order.push(c.name);
        kinds.set(c.name, c.kind);
      }
    }
  }
  const sizes = tables.map((cols) => (cols.length === 0 ? 0 : cols[0]!.values.length));
  const total = sizes.reduce((a, b) => a + b, 0);
  const columns: Column[] = order.map((name) => {
    const kind = kinds.get(name)!;
    if (kind === 'number') {
      const values = new Float64Array(total).fill(Number.NaN);
      let at = 0;
      tables.forEach((cols, t) => {
        const c = cols.find((x) => x.name === name);
        if (c && c.kind === 'number') values.set(c.values, at);
        else if (c) for (let i = 0; i < c.values.length; i++) values[at + i] = Number(c.values[i] ?? Number.NaN);
        at += sizes[t]!;
      });
      // Integer only if every window held it as integers (a window without the column has missing values).
      const integer = tables.every((cols) => cols.some((x) => x.name === name && x.kind === 'number' && x.integer));
      return { kind: 'number', name, values, integer };
    }
    const values: Array<string | null> = [];
    tables.forEach((cols, t) => {
      const c = cols.find((x) => x.name === name);
      if (!c) for (let i = 0; i < sizes[t]!; i++) values.push(null);
      else if (c.kind === 'category') for (const v of c.values) values.push(v);
      else for (const v of c.values) values.push(Number.isNaN(v) ? null : String(v));
    });
    const present = tables.flatMap((cols) => cols.filter((x) => x.name === name));
    const boolean = present.every((x) => x.kind === 'category' && x.dtype === 'boolean');
    return { kind: 'category', name, values, dtype: boolean ? 'boolean' : 'string' };
  });
  return { source, rowCount: total, columns };
}
