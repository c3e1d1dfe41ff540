/**
 * The data an HTML drift report is drawn from: plain values, no class instances and no references to tables, so it
 * can be built from a `driftwatch compare` run (`from-compare.ts`) or from a window kept in the store
 * (`from-stored-window.ts`), serialised, and rendered by `renderHtml`. Every string in it is user data as far as
 * the renderer is concerned (column names, categories, paths): it is escaped there, never here.
 */
import type { Histogram } from './histograms.js';

export type { CategoricalHistogram, Histogram, NumericalHistogram } from './histograms.js';

/** The dataset-level verdict. */
export type Verdict = 'drift' | 'no_drift' | 'insufficient_data';

/** Sizes and the dataset verdict, shown at the top of the page. */
export interface DatasetSummary {
  /** What the reference is (a path, `reference ref-...`). */
  readonly referenceLabel: string;
  readonly currentLabel: string;
  /** Rows of the reference; null when not known (a stored window names its reference but not its size). */
  readonly referenceRows: number | null;
  readonly currentRows: number;
  /** Features with a verdict (insufficient data not counted). */
  readonly tested: number;
  readonly drifted: number;
  /** drifted / tested; null when nothing could be tested. */
  readonly share: number | null;
  /** The share of drifted features at which the dataset counts as drifted; null when not known. */
  readonly threshold: number | null;
  readonly verdict: Verdict;
}

/** One scored window of a feature's recent history (the sparkline). */
export interface HistoryPoint {
  /** End of the window, epoch milliseconds. */
  readonly windowEnd: number;
  /** null when the window had insufficient data for this feature. */
  readonly score: number | null;
  readonly drifted: boolean;
}

/** One feature's drift result and its reference-vs-current distribution. */
export interface FeatureReport {
  readonly name: string;
  readonly type: 'numerical' | 'categorical';
  readonly method: string;
  /** Whether a small score (p-value) or a large one (distance) means drift; decides nothing, labels the score. */
  readonly scoreKind?: 'p_value' | 'distance';
  /** p-value or distance; null when insufficient. */
  readonly score: number | null;
  readonly statistic?: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  readonly status: 'ok' | 'insufficient_data';
  /** Why the data was insufficient ('' or absent otherwise). */
  readonly reason?: string;
  /** Values tested per side (after dropping missing ones). */
  readonly referenceCount?: number;
  readonly currentCount?: number;
  /** Absent when the rows were not available, or the feature is past the charted ones of a wide report. */
  readonly histogram?: Histogram;
  /** This feature's scores over recent windows, oldest first (served pages; a compare run has none). */
  readonly history?: ReadonlyArray<HistoryPoint>;
}

/** One feature's share of the flagged rows' Mahalanobis distance. */
export interface FeatureContribution {
  readonly feature: string;
  readonly share: number;
}

/** One outlier detector's result, for one column (IQR, z-score) or the whole row (Mahalanobis). */
export interface OutlierRow {
  /** `iqr`, `zscore`, `mahalanobis`, ... */
  readonly method: string;
  /** The column scored; absent for row-level methods and for totals over every column. */
  readonly column?: string;
  /** Rows scored and rows flagged. */
  readonly rows: number;
  readonly flagged: number;
  /** flagged / rows; null when nothing was scored. */
  readonly share: number | null;
  readonly status: 'ok' | 'insufficient_data';
  readonly reason?: string;
  /** The range outside which a value is flagged (IQR, z-score). */
  readonly bounds?: { readonly lower: number; readonly upper: number };
  /** The cut-off (Mahalanobis d²). */
  readonly threshold?: number;
  /** The features that drove the flagged rows, largest share first. */
  readonly topFeatures?: ReadonlyArray<FeatureContribution>;
}

/** One data-quality check. */
export interface QualityRow {
  readonly check: string;
  /** '' for dataset-level checks. */
  readonly column: string;
  readonly status: 'passed' | 'failed' | 'insufficient_data';
  /** A number, a word for non-finite values ("inf", "nan"), or null when it could not be computed. */
  readonly value: number | string | null;
  /** What the value had to satisfy (`gte 900 and lte 1100`), or `error: ...`. */
  readonly condition: string;
}

/** Everything one HTML report shows. */
export interface ReportModel {
  readonly title: string;
  readonly subtitle?: string;
  /** ISO 8601 time the report was made. */
  readonly generatedAt: string;
  readonly dataset: DatasetSummary;
  /** In the order the data has them; the renderer puts drifted ones first. */
  readonly features: ReadonlyArray<FeatureReport>;
  readonly outliers: ReadonlyArray<OutlierRow>;
  readonly quality: ReadonlyArray<QualityRow>;
  /** Extra lines shown under the summary (e.g. "reference is snapshot ref-... (active)"). */
  readonly notes?: ReadonlyArray<string>;
}

/** How many features get charts and rows: what keeps a report of a wide dataset small. */
export interface FeatureLimits {
  /** Drifted features drawn with charts (default 500). */
  readonly maxDriftedCharts?: number;
  /** Other features drawn with charts, in data order (default 200). */
  readonly maxOtherCharts?: number;
  /** Feature rows listed at all, drifted first (default 5000); the rest are counted in a note. */
  readonly maxRows?: number;
}

/** Default limits of `planFeatures`. */
export const DEFAULT_FEATURE_LIMITS: Required<FeatureLimits> = { maxDriftedCharts: 500, maxOtherCharts: 200, maxRows: 5000 };

/** Which features are listed, in what order, and which of them get charts. */
export interface FeaturePlan {
  /** Indices into the features, in display order: drifted, then insufficient data, then the rest (data order within each). */
  readonly order: ReadonlyArray<number>;
  /** charted[i]: feature i (index into the features) is drawn with its charts. */
  readonly charted: ReadonlyArray<boolean>;
  /** Features not listed at all (past `maxRows`). */
  readonly omitted: number;
}

/**
 * The display plan of a report's features. Adapters call it too, so they compute histograms only for the features
 * that will be drawn (a 2000-column compare pays for 700 histograms, not 2000). O(features).
 */
export function planFeatures(features: ReadonlyArray<Pick<FeatureReport, 'drifted' | 'status'>>, limits: FeatureLimits = {}): FeaturePlan {
  const maxDrifted = limits.maxDriftedCharts ?? DEFAULT_FEATURE_LIMITS.maxDriftedCharts;
  const maxOther = limits.maxOtherCharts ?? DEFAULT_FEATURE_LIMITS.maxOtherCharts;
  const maxRows = limits.maxRows ?? DEFAULT_FEATURE_LIMITS.maxRows;
  const drifted: number[] = [];
  const insufficient: number[] = [];
  const rest: number[] = [];
  features.forEach((f, i) => {
    if (f.status === 'ok' && f.drifted) drifted.push(i);
    else if (f.status !== 'ok') insufficient.push(i);
    else rest.push(i);
  });
  const all = [...drifted, ...insufficient, ...rest];
  const order = all.slice(0, Math.max(0, maxRows));
  const charted = new Array<boolean>(features.length).fill(false);
  let driftedCharts = 0;
  let otherCharts = 0;
  for (const i of order) {
    const f = features[i]!;
    if (f.status === 'ok' && f.drifted) {
      if (driftedCharts < maxDrifted) {
        charted[i] = true;
        driftedCharts++;
      }
    } else if (otherCharts < maxOther) {
      charted[i] = true;
      otherCharts++;
    }
  }
  return { order, charted, omitted: all.length - order.length };
}
