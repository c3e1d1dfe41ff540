/**
 * What the pipeline knows about each model: its settings (from configuration, or defaults for a model that only
 * has an active reference) and the schema its records are checked against and windowed by.
 */
import type { RecordKind } from '../core/stream.js';
import type { ColumnType } from '../core/table.js';
import type { ColumnDriftOptions } from '../drift/column-drift.js';
import type { OutlierOptions } from '../outliers/outliers.js';
import type { QualityConfig } from '../quality/index.js';
import type { LoadedReference } from '../reference/lifecycle.js';
import type { BufferColumnSpec } from '../window/buffer.js';
import { LABEL_COLUMN, STATUS_COLUMN, type WindowModel } from '../window/engine.js';
import type { WindowSpec } from '../window/spec.js';
import type { ModelSchema } from './decode.js';

export interface ModelSettings {
  readonly kind: RecordKind;
  /** Segment fields (e.g. `lot_id`): windows are kept per model and segment. */
  readonly segmentBy: ReadonlyArray<string>;
  /** Declared features and their types; null: the active reference's columns. */
  readonly features: ReadonlyMap<string, ColumnType> | null;
  readonly window: WindowSpec;
  readonly time: 'event' | 'processing';
  readonly evaluation: EvaluationSettings;
  /** Rows stored with each window report (for references built from past windows); 0 stores none. */
  readonly sampleRows: number;
  /** Prediction models: what the predictions are, and how long a prediction waits for its label. */
  readonly prediction?: {
    readonly task: 'classification' | 'regression';
    readonly positiveLabel: string | number | boolean | null;
    readonly labelJoinMs: number;
  };
}

export interface EvaluationSettings {
  readonly driftShare: number;
  /** Default method and threshold for every feature. */
  readonly drift: ColumnDriftOptions;
  /** Per-feature method and threshold, over the default. */
  readonly perFeature: ReadonlyMap<string, ColumnDriftOptions>;
  readonly outliers?: OutlierOptions;
  readonly quality?: QualityConfig;
}

/**
 * Record fields of the data contract: never features, even when a reference file had such a column. `__label` and
 * `__status` are the window's own columns for them (LABEL_COLUMN, STATUS_COLUMN), which samples stored before they
 * were renamed `label` and `status` still carry (references built from such windows).
 */
export const RECORD_FIELDS: ReadonlySet<string> = new Set(['model', 'ts', 'model_version', 'id', 'label', 'status', LABEL_COLUMN, STATUS_COLUMN]);

/**
 * How a prediction model's `prediction` column is stored, so that it compares like with like with the labels (model
 * quality) and with the reference (prediction drift):
 * - regression: numbers;
 * - classification, when the reference has a `prediction` column: as the reference stores it (booleans as booleans,
 *   class names as text, class codes or probability scores as numbers);
 * - classification otherwise: as text, the value as written (`true`, `"007"`, `"1.0"`), which is how labels are
 *   stored: a prediction and its label are the same class exactly when they are the same value. Probability scores
 *   are read back as numbers for the metrics (see model-quality.ts).
 * A `prediction` entry among the configured features is stored as any configured feature is (the reference's
 * storage, else its declared type), regression aside.
 */
function predictionColumn(settings: ModelSettings, reference: LoadedReference | undefined): BufferColumnSpec {
  const stored = reference?.snapshot.columns.find((c) => c.name === 'prediction');
  if (settings.prediction?.task === 'regression') {
    return { name: 'prediction', kind: 'number', integer: stored?.kind === 'number' ? (stored.integer ?? false) : false };
  }
  if (stored) return { name: 'prediction', kind: stored.kind, integer: stored.integer ?? false, dtype: stored.dtype ?? 'string' };
  const declared = settings.features?.get('prediction');
  if (declared === 'numerical') return { name: 'prediction', kind: 'number' };
  return { name: 'prediction', kind: 'category', dtype: 'string' };
}

/** A model's schema and window layout, from its settings and (when the settings name no features) its reference. */
export interface ResolvedModel {
  readonly settings: ModelSettings;
  readonly schema: ModelSchema;
  readonly window: WindowModel;
}

/**
 * Resolves a model, or says why it cannot be: a model with neither declared features nor an active reference has
 * no schema to check records against.
 */
export function resolveModel(model: string, settings: ModelSettings, reference: LoadedReference | undefined): ResolvedModel | string {
  const segment = new Set(settings.segmentBy);
  const columns: BufferColumnSpec[] = [];
  const features = new Map<string, 'numerical' | 'categorical'>();
  if (settings.features) {
    for (const [name, type] of settings.features) {
      const stored = reference?.snapshot.columns.find((c) => c.name === name);
      // Storage follows the reference where it has the column, so the window's columns line up with its profile.
      columns.push(
        stored
          ? { name, kind: stored.kind, integer: stored.integer ?? false, dtype: stored.dtype ?? 'string' }
          : { name, kind: type === 'numerical' ? 'number' : 'category', dtype: 'string' },
      );
      features.set(name, type);
    }
  } else if (reference) {
    for (const c of reference.snapshot.columns) {
      // `prediction` is a prediction model's own column (predictionColumn), never a telemetry model's feature.
      if (segment.has(c.name) || RECORD_FIELDS.has(c.name) || c.name === 'prediction') continue;
      columns.push({ name: c.name, kind: c.kind, integer: c.integer ?? false, dtype: c.dtype ?? 'string' });
      features.set(c.name, c.type);
    }
  } else {
    return `model "${model}" has no active reference and no features in the configuration`;
  }
  const window: WindowModel = { spec: settings.window, columns, ...(settings.time === 'processing' ? { processingTime: true } : {}) };
  if (settings.kind === 'prediction') {
    // The prediction is windowed like a feature (prediction drift); label and status ride along for model quality.
    features.delete('prediction');
    const regression = settings.prediction?.task === 'regression';
    const at = columns.findIndex((c) => c.name === 'prediction');
    if (at >= 0) columns.splice(at, 1);
    columns.push(predictionColumn(settings, reference));
    columns.push({ name: LABEL_COLUMN, kind: regression ? 'number' : 'category', dtype: 'string' });
    columns.push({ name: STATUS_COLUMN, kind: 'category', dtype: 'string' });
    return {
      settings,
      schema: { model, kind: settings.kind, segmentBy: settings.segmentBy, features, time: settings.time },
      window: { ...window, labels: { column: LABEL_COLUMN, joinMs: settings.prediction?.labelJoinMs ?? 0 } },
    };
  }
  return { settings, schema: { model, kind: settings.kind, segmentBy: settings.segmentBy, features, time: settings.time }, window };
}
