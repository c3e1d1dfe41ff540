/**
 * Builders for the store contract suite: snapshots, tables, windows, dead letters and outbox entries with recent
 * timestamps (the retained tables drop rows older than their TTL at insert) and text chosen to break quoting.
 */
import type {
  DeadLetter,
  OutboxEntry,
  ReferenceSnapshot,
  WindowKey,
  WindowRecord,
} from '../../src/core/store.js';
import type { CategoryColumn, Column, NumberColumn, Table } from '../../src/core/table.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Two days ago on the hour: inside every default retention, and clear of "now". */
export const BASE = Math.floor(Date.now() / HOUR) * HOUR - 2 * DAY;

/** Text that breaks naive quoting in SQL, JSON, TSV or CSV, and text outside ASCII. */
export const HOSTILE = [
  "'); DROP TABLE x; --",
  `it's "quoted" \`back\``,
  'back\\slash \\\\ \\n \\t \\N',
  'line\nbreak\r\nand\ttab',
  '🚀 emoji 👩‍👩‍👧 family',
  'combining e\u0301 and precomposed é, 日本語, Ωμέγα',
  '{db} {id:String} {model:String} $1 ? %s ${x}',
  'NULL',
  '\\N',
  ' leading and trailing ',
  'nul\u0000byte',
] as const;

/** Categories, including the values a format might confuse with null. */
export const HOSTILE_CATEGORIES: ReadonlyArray<string | null> = [
  null,
  '',
  ' ',
  'null',
  'None',
  'NaN',
  ...HOSTILE,
  null,
];

/** Doubles whose bits must survive the round trip. */
export const SPECIAL_DOUBLES: ReadonlyArray<number> = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  0.1 + 0.2,
  1 / 3,
  Math.PI,
  Number.MAX_SAFE_INTEGER,
  -123456789.000001,
];

export function numbers(name: string, values: ArrayLike<number>, integer = false): NumberColumn {
  return { kind: 'number', name, values: Float64Array.from(values), integer };
}

export function categories(name: string, values: ReadonlyArray<string | null>): CategoryColumn {
  return { kind: 'category', name, values: [...values], dtype: 'string' };
}

export function table(columns: ReadonlyArray<Column>, source = 'test'): Table {
  return { source, rowCount: columns.length === 0 ? 0 : columns[0]!.values.length, columns };
}

export function snapshot(id: string, over: Partial<ReferenceSnapshot> = {}): ReferenceSnapshot {
  return {
    id,
    model: 'press-line',
    modelVersion: '1.4.2',
    createdAt: BASE + 17,
    source: { kind: 'file', path: '/data/reference.parquet', format: 'parquet' },
    rowCount: 3,
    sourceRowCount: 10,
    sampling: { seed: 4_294_967_295, maxRows: 100_000 },
    columns: [
      { name: 'temp_c', kind: 'number', type: 'numerical', integer: false },
      { name: 'line', kind: 'category', type: 'categorical', dtype: 'string' },
    ],
    status: 'candidate',
    activatedAt: null,
    previousActive: null,
    changedBy: 'test',
    reason: 'created by the contract suite',
    changedAt: BASE + 17,
    ...over,
  };
}

export function windowKey(start: number, over: Partial<WindowKey> = {}): WindowKey {
  return { model: 'press-line', segment: {}, start, end: start + HOUR, ...over };
}

export function windowRecord(key: WindowKey, over: Partial<WindowRecord> = {}): WindowRecord {
  return {
    key,
    referenceId: 'ref-1',
    rowCount: 1200,
    testedFeatures: 2,
    driftedFeatures: 1,
    driftShare: 0.5,
    datasetDrifted: true,
    version: 1,
    computedAt: key.end + 1234,
    features: [
      {
        feature: 'temp_c',
        method: 'wasserstein',
        status: 'ok',
        score: 0.25,
        statistic: null,
        threshold: 0.1,
        drifted: true,
        reason: '',
        referenceSize: 2000,
        currentSize: 1200,
      },
      {
        feature: 'line',
        method: 'jensenshannon',
        status: 'ok',
        score: 0.01,
        statistic: null,
        threshold: 0.1,
        drifted: false,
        reason: '',
        referenceSize: 2000,
        currentSize: 1200,
      },
    ],
    outliers: [
      { method: 'iqr', status: 'ok', outliers: 12, scored: 1200, share: 0.01, reason: '', detail: { k: 1.5 } },
    ],
    quality: [
      { check: 'missing_share', column: 'temp_c', status: 'passed', value: 0, detail: { max: 0.1 } },
      { check: 'row_count', column: '', status: 'passed', value: 1200, detail: null },
    ],
    ...over,
  };
}

export function deadLetter(id: string, over: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    receivedAt: Date.now() - 10 * MINUTE,
    source: 'kafka:telemetry/3@1042',
    model: 'press-line',
    reasonCode: 'bad_json',
    reason: 'line 1: unexpected token',
    payload: '{"temp_c": 21.5,',
    ...over,
  };
}

export function outboxEntry(id: string, over: Partial<OutboxEntry> = {}): OutboxEntry {
  const created = Date.now() - 5 * MINUTE;
  return {
    id,
    action: 'slack',
    kind: 'drift',
    payload: '{"text":"drift on press-line"}',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: created,
    lastError: '',
    createdAt: created,
    updatedAt: created,
    ...over,
  };
}
