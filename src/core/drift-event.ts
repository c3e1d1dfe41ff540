/**
 * The drift event: what the pipeline publishes to `driftwatch.drift-events` for every evaluated window, what alert
 * rules are evaluated over, and what webhooks carry. A versioned contract (`schema`); evolve it with care.
 *
 * Does the score mean drift when high or low? `score` is the method's p-value (drift when below `threshold`) or its
 * distance (drift when at or above `threshold`); `drifted` is the verdict either way.
 */
export interface DriftEvent {
  readonly schema: 'driftwatch.drift-event/v1';
  readonly id: string;
  readonly model: string;
  readonly model_version: string | null;
  readonly segment: Readonly<Record<string, string>>;
  readonly window: {
    readonly start: string;
    readonly end: string;
    readonly count: number;
    readonly version: number;
    readonly cause: string;
    /** Count windows: which one (WindowKey.countId), since two may share their bounds. */
    readonly count_id?: string;
  };
  readonly reference_id: string;
  readonly dataset: { readonly tested: number; readonly drifted: number; readonly share: number; readonly drift_share: number; readonly drifted_flag: boolean };
  readonly features: ReadonlyArray<{
    readonly feature: string;
    readonly method: string;
    readonly score: number | null;
    readonly statistic: number | null;
    readonly threshold: number;
    readonly drifted: boolean;
    readonly status: string;
    readonly reason?: string;
  }>;
  readonly outliers: ReadonlyArray<{ readonly method: string; readonly outliers: number; readonly scored: number; readonly share: number | null }>;
  readonly quality_failed: ReadonlyArray<{ readonly check: string; readonly column: string }>;
  /** Prediction models only. */
  readonly model_health?: {
    readonly error_share: number | null;
    readonly labelled: number;
    readonly metrics: ReadonlyArray<{
      readonly metric: string;
      readonly value: number | null;
      readonly reference: number | null;
      readonly change_absolute: number | null;
      readonly change_relative: number | null;
      readonly status: string;
    }>;
  };
  readonly computed_at: string;
  /** Where to look: the window's report page, when the service has a public URL (`alerts.public_url`). */
  readonly links?: { readonly report: string };
}

