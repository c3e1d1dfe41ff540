/**
 * Alert rules, actions and alerts as the code sees them (after a rule file is parsed and checked). The YAML forms
 * users write are documented in `rules/README.md`; the parser (`src/config/rules-file.ts`) turns them into these.
 *
 * Everything here is plain data: the engine (`engine.ts`) is a pure function of a rule set, a state and a drift
 * event, so the same stream gives the same alerts, ids and notifications live, in a replay or after a crash.
 */
import type { EpochMs } from '../core/store.js';
import type { AlertState } from '../core/store.js';

export type Severity = 'warning' | 'critical';

/**
 * A numeric comparison with hysteresis: the condition holds when the value is `above` (>) or `below` (<) the
 * threshold; an alert already firing keeps holding until the value crosses back past `clear` (defaults to the
 * threshold itself, i.e. no hysteresis).
 */
export interface Threshold {
  readonly op: 'above' | 'below';
  readonly value: number;
  readonly clear: number;
}

/** Glob patterns (`*`, `?`); an empty list matches everything. */
export type Globs = ReadonlyArray<string>;

/** What a rule tests in each window report. One alert per rule, model and segment, and per feature for feature conditions. */
export type Condition =
  /** A feature's drift score (p-value or distance, as the method gives it) against a threshold. */
  | { readonly kind: 'feature_score'; readonly threshold: Threshold }
  /** A feature's drifted flag (the method's own verdict). */
  | { readonly kind: 'feature_drifted' }
  /** The share of tested features that drifted. */
  | { readonly kind: 'dataset_drift_share'; readonly threshold: Threshold }
  /** The dataset drift verdict (share at or above the model's drift_share). */
  | { readonly kind: 'dataset_drifted' }
  /** The share of rows an outlier method flagged (iqr, zscore, mahalanobis). */
  | { readonly kind: 'outlier_share'; readonly method: string; readonly threshold: Threshold }
  /** Any quality check whose name (and column, for column checks) matches failed. */
  | { readonly kind: 'quality_failed'; readonly checks: Globs; readonly columns: Globs }
  /**
   * A model quality metric (accuracy, precision, recall, f1, roc_auc, mae, rmse) fell against the reference's score:
   * `drop` is the decrease (reference - current for scores, current - reference for errors such as mae and rmse),
   * absolute or relative to the reference.
   */
  | { readonly kind: 'model_quality_drop'; readonly metric: string; readonly relative: boolean; readonly threshold: Threshold }
  /** The share of predictions with an error status. */
  | { readonly kind: 'error_share'; readonly threshold: Threshold };

/** When an alert fires: `k` of the last `m` windows matched (`for: N` is k = m = N). */
export interface ForWindows {
  readonly k: number;
  readonly m: number;
}

export interface Rule {
  readonly name: string;
  /** Where it was defined, for messages: `rules/drift.yaml:12:5`. */
  readonly location: string;
  readonly description: string;
  readonly match: {
    readonly models: Globs;
    /** Segment key -> value globs; every listed key must be present and match. */
    readonly segments: Readonly<Record<string, Globs>>;
    readonly features: Globs;
    readonly methods: Globs;
  };
  readonly condition: Condition;
  readonly for: ForWindows;
  /** Consecutive windows that no longer hold before a firing alert resolves (hysteresis in time). */
  readonly resolveAfter: number;
  readonly severity: Severity;
  /** Extra labels (templates allowed). */
  readonly labels: Readonly<Record<string, string>>;
  /** Annotations (templates): `summary`, `description`, anything else. */
  readonly annotations: Readonly<Record<string, string>>;
  /** Names of actions (defined in action files) run when the rule's alerts fire, and (for notifiers) resolve. */
  readonly actions: ReadonlyArray<string>;
  /** After a firing notification, no new one for the same rule and model within this span (event time, ms). */
  readonly cooldownMs: number;
}

/** Template strings (`{{ model }}`, `{{ window.end | date }}`) inside any JSON value. */
export type TemplateValue = string | number | boolean | null | ReadonlyArray<TemplateValue> | { readonly [k: string]: TemplateValue };

/** Secrets are named by environment variable and read when the action is built, never stored in a rule set. */
export type ActionDefinition =
  | {
      readonly kind: 'slack';
      readonly name: string;
      readonly location: string;
      /** The incoming-webhook URL is a secret: the env variable that holds it. */
      readonly urlEnv: string;
      /** Minimum spacing between messages (Slack allows about one per second per webhook). */
      readonly minIntervalMs: number;
    }
  | {
      readonly kind: 'webhook';
      readonly name: string;
      readonly location: string;
      readonly url: string;
      /** Env variables of the signing secrets (`whsec_<base64>` or raw text); two during a rotation, all used to sign. */
      readonly secretEnv: ReadonlyArray<string>;
      readonly headers: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'alertmanager';
      readonly name: string;
      readonly location: string;
      readonly url: string;
      /** The receiver name the payload carries. */
      readonly receiver: string;
    }
  | {
      readonly kind: 'airflow';
      readonly name: string;
      readonly location: string;
      readonly url: string;
      /** 2: `/api/v1` with basic auth; 3: `/api/v2` with a token from `/auth/token`. */
      readonly apiVersion: 2 | 3;
      readonly dagId: string;
      readonly usernameEnv: string;
      readonly passwordEnv: string;
      /** The DAG run's `conf` (templates). */
      readonly conf: TemplateValue;
    }
  | {
      readonly kind: 'kubeflow';
      readonly name: string;
      readonly location: string;
      readonly url: string;
      readonly pipelineId: string;
      readonly pipelineVersionId: string;
      readonly experimentId: string;
      /** Bearer token env variable; '' for none. */
      readonly tokenEnv: string;
      readonly parameters: TemplateValue;
    }
  | {
      readonly kind: 'argo';
      readonly name: string;
      readonly location: string;
      readonly url: string;
      readonly namespace: string;
      readonly workflowTemplate: string;
      /** Bearer token env variable; '' for none. */
      readonly tokenEnv: string;
      /** Workflow arguments.parameters (name -> template). */
      readonly parameters: Readonly<Record<string, string>>;
    };

export type ActionKind = ActionDefinition['kind'];

/** Action kinds that start a pipeline run: only on firing, never on resolve. */
export const TRIGGER_KINDS: ReadonlySet<ActionKind> = new Set(['airflow', 'kubeflow', 'argo']);

export interface RuleSet {
  readonly rules: ReadonlyArray<Rule>;
  readonly actions: ReadonlyMap<string, ActionDefinition>;
  /** The files read, for `rules check` and reload messages. */
  readonly files: ReadonlyArray<string>;
}

/** One alert as notifications carry it (Alertmanager's shape). */
export interface Alert {
  /** Stable hash of the labels: the same rule, model, segment and feature is the same alert across windows and restarts. */
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  /** `alertname` (the rule), `model`, `severity`, `feature`/`method` for feature conditions, segment keys, rule labels. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Event time the condition first held in the current episode (window end). */
  readonly startsAt: EpochMs;
  /** Resolved alerts: the window end at which it resolved. */
  readonly endsAt: EpochMs | null;
  /** The value tested in the last window (score, share, drop), null for flags. */
  readonly value: number | null;
  readonly threshold: number | null;
}

/**
 * What one action is asked to do once: the outbox row's payload. `id` is deterministic (rule, model, segment,
 * window, status, action) and is the webhook id, the Airflow `dag_run_id`, the base of the Argo workflow name and
 * the outbox row id, so a retry or a replay is recognised as the same delivery.
 */
export interface Notification {
  readonly id: string;
  readonly action: string;
  readonly kind: ActionKind;
  readonly rule: string;
  readonly model: string;
  readonly modelVersion: string | null;
  readonly segment: Readonly<Record<string, string>>;
  readonly severity: Severity;
  readonly status: 'firing' | 'resolved';
  readonly window: { readonly start: EpochMs; readonly end: EpochMs; readonly count: number };
  /** The drift event that caused it. */
  readonly eventId: string;
  readonly referenceId: string;
  /** Link to the window's report page. */
  readonly reportUrl: string;
  /** `rule/model/segment`: alerts of one rule and model (and segment) are grouped into one notification. */
  readonly groupKey: string;
  readonly alerts: ReadonlyArray<Alert>;
  /** Rendered action parameters: Airflow `conf`, Kubeflow/Argo parameters; `{}` for notifiers. */
  readonly params: TemplateValue;
  /** Processing time the notification was made. */
  readonly createdAt: EpochMs;
}

/** Silences and transitions are stored, so their types live with the store port. */
export type { AlertState, AlertTransition, Silence } from '../core/store.js';
