/** The configuration, turned into what the pipeline and the window stage take. */
import type { DriftwatchConfig, EvaluationConfig, ModelConfig, WindowConfig } from '../config/types.js';
import type { ColumnType } from '../core/table.js';
import type { ColumnDriftOptions } from '../drift/column-drift.js';
import { isMethodName } from '../drift/methods.js';
import type { EvaluationSettings, ModelSettings } from '../pipeline/models.js';
import type { WindowShape, WindowSpec } from '../window/spec.js';

export function windowSpec(w: WindowConfig): WindowSpec {
  let shape: WindowShape;
  if (w.type === 'count') shape = { type: 'count', count: w.count ?? 1 };
  else if (w.type === 'hopping') shape = { type: 'hopping', sizeMs: w.sizeMs, slideMs: w.slideMs ?? w.sizeMs };
  else shape = { type: 'tumbling', sizeMs: w.sizeMs };
  return { shape, watermarkDelayMs: w.watermarkDelayMs, allowedLatenessMs: w.allowedLatenessMs, idleTimeoutMs: w.idleTimeoutMs };
}

function driftOptions(method: string | null, threshold: number | null, base?: ColumnDriftOptions): ColumnDriftOptions {
  const m = method !== null && isMethodName(method) ? method : method === 'auto' ? 'auto' : base?.method;
  const t = threshold ?? base?.threshold;
  return { ...(m !== undefined ? { method: m } : {}), ...(t !== undefined ? { threshold: t } : {}) };
}

export function evaluationSettings(e: EvaluationConfig): EvaluationSettings {
  const drift = driftOptions(e.method, e.threshold);
  const perFeature = new Map<string, ColumnDriftOptions>();
  for (const [name, f] of Object.entries(e.perFeature)) perFeature.set(name, driftOptions(f.method, f.threshold, drift));
  return { driftShare: e.driftShare, drift, perFeature };
}

export function modelSettings(m: ModelConfig): ModelSettings {
  return {
    kind: m.kind,
    segmentBy: m.segmentBy,
    features: m.features ? new Map(Object.entries(m.features) as Array<[string, ColumnType]>) : null,
    window: windowSpec(m.window),
    time: m.window.time,
    evaluation: evaluationSettings(m.evaluation),
    sampleRows: m.window.sampleRows,
    ...(m.kind === 'prediction'
      ? { prediction: { task: m.task ?? 'classification', positiveLabel: m.positiveLabel, labelJoinMs: m.labelJoinMs } }
      : {}),
  };
}

/** Settings for a model that is not configured but has an active reference. */
export function defaultSettings(c: DriftwatchConfig): Omit<ModelSettings, 'features' | 'segmentBy' | 'kind'> {
  return {
    window: windowSpec(c.windows),
    time: c.windows.time,
    evaluation: evaluationSettings(c.evaluation),
    sampleRows: c.windows.sampleRows,
  };
}
