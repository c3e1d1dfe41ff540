/**
 * The alert engine: a pure function of (state, rule set, one drift event, context) -> (new state, transitions,
 * notifications). It knows nothing of stores, queues or clocks; the caller persists what changed and delivers the
 * notifications (through the outbox).
 *
 * Determinism. Everything that decides alert states, ids and payloads uses event time, the window end of the drift
 * event (`for`, `resolveAfter`, cooldowns, `startsAt`/`endsAt`), so the same sequence of events gives the same
 * states, transitions and notification ids live, in a replay or after a crash. Processing time (`ctx.now`) is used
 * only for `Notification.createdAt` and to decide which silences are active.
 *
 * Model of the state:
 * - One group per (rule, model, segment), keyed by {@link groupKeyOf}. A group remembers the last window it
 *   evaluated and its alert instances.
 * - Instances: for feature conditions (`feature_score`, `feature_drifted`) one per feature and method of the event
 *   that passes the rule's feature/method globs; for the other conditions one per group. Only pending and firing
 *   instances are stored; an inactive instance is simply absent (its history is empty).
 * - Cooldowns: per (rule, model), across segments, the window end of the last firing notification.
 *
 * Lifecycle of an instance, one outcome (match / no match) per evaluated window:
 * - inactive --match--> pending (`startsAt` = this window end); pending --k of the last m outcomes true--> firing
 *   (with `for: {k: 1, m: 1}` both transitions happen in the same window); pending --no true outcome left in the
 *   last m--> inactive.
 * - firing: a match resets the clear run, a non-match increments it; at `resolveAfter` consecutive non-matches it
 *   resolves and goes back to inactive (its history cleared). A firing alert that keeps matching is not notified
 *   again.
 * - Hysteresis in value: an instance not firing matches when the value is above (below) `threshold.value`; a firing
 *   one keeps matching until the value is at or below (at or above) `threshold.clear`.
 * - Unknown outcome: when the value cannot be read this window (feature status not `ok` or null score, metric status
 *   not `ok` or null values, null share, missing outlier method or model health, dataset with no tested feature,
 *   zero reference for a relative drop, a feature the event does not carry), the window neither counts as a match
 *   nor as a clear: the instance's state is unchanged and nothing is recorded for it.
 *
 * Ordering: per group, events must come in window order. An event whose window ends before the group's last
 * evaluated window, or ends at the same time and does not start later, is skipped entirely for that group (a replay
 * of an evaluated window or a late update of it, `window.version` > 1): late updates do not re-drive alerts.
 */
import type { DriftEvent } from '../core/drift-event.js';
import { cooldownKeyOf, groupKeyOf, labelFingerprint, notificationId, sortedPairs } from './ids.js';
import { globMatch, matchesAnyGlob } from './match.js';
import { renderTemplateString, renderTemplateValue, type TemplateContext } from './template.js';
import {
  TRIGGER_KINDS,
  type ActionDefinition,
  type Alert,
  type AlertTransition,
  type Condition,
  type Notification,
  type Rule,
  type RuleSet,
  type Silence,
  type TemplateValue,
  type Threshold,
} from './types.js';

/** One pending or firing alert instance of a group (inactive instances are not stored). Plain JSON. */
export interface InstanceState {
  readonly fingerprint: string;
  /** The alert's labels (its identity: the fingerprint hashes them). */
  readonly labels: Record<string, string>;
  /** Feature conditions: the feature and method; null otherwise. */
  readonly feature: string | null;
  readonly method: string | null;
  state: 'pending' | 'firing';
  /** Outcomes of the last (at most m) windows with a known value, oldest first. */
  outcomes: boolean[];
  /** Window end of the first match of the current episode. */
  startsAt: number;
  /** Consecutive non-matching windows while firing. */
  clearRun: number;
  /** Whether the firing was notified (not silenced nor in cooldown): only then is its resolution notified. */
  notified: boolean;
  /** The value read in the last window with a known value (null for flags). */
  lastValue: number | null;
  /** Window end of that window. */
  lastAt: number;
}

/** One (rule, model, segment) group. Plain JSON. */
export interface GroupState {
  readonly rule: string;
  readonly model: string;
  readonly segment: Record<string, string>;
  /** The last window evaluated for this group (epoch ms), null before the first. */
  lastWindow: { start: number; end: number } | null;
  /** Pending and firing instances by fingerprint. */
  instances: Record<string, InstanceState>;
}

/**
 * The engine's whole state: a plain JSON-serialisable value (`JSON.parse(JSON.stringify(state))` restores it), so
 * it can be persisted piece by piece (one row per group key and per cooldown key) and restored after a restart.
 */
export interface EngineState {
  groups: Record<string, GroupState>;
  /** Cooldown key ({@link cooldownKeyOf}: `rule/model`) -> window end of the last firing notification. */
  cooldowns: Record<string, number>;
}

/** What {@link evaluateEvent} needs besides the state, the rules and the event. */
export interface EngineContext {
  /** Processing time (epoch ms): `Notification.createdAt` and which silences are active. */
  readonly now: number;
  readonly silences: ReadonlyArray<Silence>;
  /** Link to the event's window report (called at most once per event). */
  readonly reportUrl: (e: DriftEvent) => string;
}

/** What one event changed. */
export interface EvaluationResult {
  /** Every state change of every alert, in rule order, then instance order. */
  readonly transitions: AlertTransition[];
  /** Deliveries to make: one per action and status per group that had alerts fire (or resolve) in this event. */
  readonly notifications: Notification[];
  /** Keys of `state.groups` written (created or updated) by this event: persist these. */
  readonly changedGroups: string[];
  /** Keys of `state.cooldowns` written by this event. */
  readonly changedCooldowns: string[];
}

/** A pending or firing alert as listed by the API and metrics. */
export interface ActiveAlert {
  readonly rule: string;
  readonly model: string;
  readonly labels: Record<string, string>;
  readonly startsAt: number;
  readonly value: number | null;
  readonly fingerprint: string;
  readonly state: 'pending' | 'firing';
}

/** An empty engine state (no group, no cooldown). */
export function createEngineState(): EngineState {
  return { groups: {}, cooldowns: {} };
}

/** Labels the engine sets itself; a segment key with one of these names becomes `segment_<key>`. */
const BUILTIN_LABELS: ReadonlySet<string> = new Set(['alertname', 'model', 'severity', 'feature', 'method']);

/** Error metrics: lower is better, so a drop is current - reference (scores: reference - current). */
const ERROR_METRICS: ReadonlySet<string> = new Set(['mae', 'rmse']);

type FeatureEntry = DriftEvent['features'][number];

/** A condition's reading for one instance in one window. */
type Reading =
  | { readonly known: false }
  | { readonly known: true; readonly value: number | null; readonly holds: (firing: boolean) => boolean };

const UNKNOWN: Reading = { known: false };

function isFeatureCondition(c: Condition): boolean {
  return c.kind === 'feature_score' || c.kind === 'feature_drifted';
}

/** The threshold value an alert reports (null for flag conditions). */
function thresholdOf(c: Condition): number | null {
  return 'threshold' in c ? c.threshold.value : null;
}

/** Threshold test with hysteresis: `firing` instances hold until the value crosses back past `clear`. */
function compare(t: Threshold, value: number, firing: boolean): boolean {
  const limit = firing ? t.clear : t.value;
  return t.op === 'above' ? value > limit : value < limit;
}

function numeric(value: number | null | undefined, t: Threshold): Reading {
  if (value === null || value === undefined || !Number.isFinite(value)) return UNKNOWN;
  return { known: true, value, holds: (firing) => compare(t, value, firing) };
}

function flag(value: boolean): Reading {
  return { known: true, value: null, holds: () => value };
}

/** Reads the condition for one instance (`feature` set for feature conditions). See the module doc for unknowns. */
function read(c: Condition, event: DriftEvent, feature: FeatureEntry | undefined): Reading {
  switch (c.kind) {
    case 'feature_score':
      if (!feature || feature.status !== 'ok') return UNKNOWN;
      return numeric(feature.score, c.threshold);
    case 'feature_drifted':
      if (!feature || feature.status !== 'ok') return UNKNOWN;
      return flag(feature.drifted);
    case 'dataset_drift_share':
      if (event.dataset.tested === 0) return UNKNOWN;
      return numeric(event.dataset.share, c.threshold);
    case 'dataset_drifted':
      if (event.dataset.tested === 0) return UNKNOWN;
      return flag(event.dataset.drifted_flag);
    case 'outlier_share': {
      const entry = event.outliers.find((o) => o.method === c.method);
      return entry ? numeric(entry.share, c.threshold) : UNKNOWN;
    }
    case 'quality_failed': {
      const count = event.quality_failed.filter(
        (q) => matchesAnyGlob(c.checks, q.check) && (q.column === '' || matchesAnyGlob(c.columns, q.column)),
      ).length;
      return { known: true, value: count, holds: () => count > 0 };
    }
    case 'model_quality_drop': {
      const m = event.model_health?.metrics.find((x) => x.metric === c.metric);
      if (!m || m.status !== 'ok' || m.value === null || m.reference === null) return UNKNOWN;
      if (!Number.isFinite(m.value) || !Number.isFinite(m.reference)) return UNKNOWN;
      // Computed from value and reference (change_absolute is current - reference, whatever the metric).
      const drop = ERROR_METRICS.has(c.metric) ? m.value - m.reference : m.reference - m.value;
      if (!c.relative) return numeric(drop, c.threshold);
      if (m.reference === 0) return UNKNOWN;
      return numeric(drop / Math.abs(m.reference), c.threshold);
    }
    case 'error_share':
      if (!event.model_health) return UNKNOWN;
      return numeric(event.model_health.error_share, c.threshold);
  }
}

/** Whether the event's segment has every key the rule lists, each matching one of its globs. */
function segmentMatches(rule: Rule, segment: Readonly<Record<string, string>>): boolean {
  for (const [key, globs] of Object.entries(rule.match.segments)) {
    if (!Object.prototype.hasOwnProperty.call(segment, key)) return false;
    const value = segment[key];
    if (value === undefined || !matchesAnyGlob(globs, value)) return false;
  }
  return true;
}

/** Whether a rule applies to an event's model and segment. */
function ruleMatches(rule: Rule, event: DriftEvent): boolean {
  return matchesAnyGlob(rule.match.models, event.model) && segmentMatches(rule, event.segment);
}

/**
 * An alert's labels: `alertname`, `model`, `severity`, `feature`/`method` (feature conditions), each segment key
 * (`segment_<key>` when it collides with a built-in label), then the rule's labels, rendered. Labels are the
 * alert's identity, so rule label templates see only what does not change from window to window (model, rule,
 * severity, feature, method, threshold, segment, and labels = the built-in and segment labels); the other variables
 * render empty. A rule label never overrides a built-in or segment label.
 */
function alertLabels(rule: Rule, model: string, segment: Readonly<Record<string, string>>, feature: string | null, method: string | null): Record<string, string> {
  const labels: Record<string, string> = { alertname: rule.name, model, severity: rule.severity };
  if (feature !== null) labels['feature'] = feature;
  if (method !== null) labels['method'] = method;
  for (const [k, v] of sortedPairs(segment)) {
    const name = BUILTIN_LABELS.has(k) ? `segment_${k}` : k;
    if (!Object.prototype.hasOwnProperty.call(labels, name)) labels[name] = v;
  }
  const identity: TemplateContext = {
    model,
    rule: rule.name,
    severity: rule.severity,
    feature,
    method,
    threshold: thresholdOf(rule.condition),
    segment: { ...segment },
    labels: { ...labels },
  };
  for (const [k, template] of sortedPairs(rule.labels)) {
    if (!Object.prototype.hasOwnProperty.call(labels, k)) labels[k] = renderTemplateString(template, identity);
  }
  return labels;
}

/** The active silence (lowest id first) whose matchers all match the labels; a silence with no matcher matches nothing. */
function silencedBy(silences: ReadonlyArray<Silence>, labels: Readonly<Record<string, string>>, now: number): Silence | null {
  let found: Silence | null = null;
  for (const s of silences) {
    if (!(s.startsAt <= now && now < s.endsAt) || s.matchers.length === 0) continue;
    const all = s.matchers.every((m) => {
      if (!Object.prototype.hasOwnProperty.call(labels, m.label)) return false;
      const value = labels[m.label];
      return value !== undefined && globMatch(m.pattern, value);
    });
    if (all && (found === null || s.id < found.id)) found = s;
  }
  return found;
}

/** One instance evaluated in this event, with what happened to it. */
interface Step {
  readonly fingerprint: string;
  readonly labels: Record<string, string>;
  readonly feature: string | null;
  readonly method: string | null;
  readonly value: number | null;
  readonly startsAt: number;
  readonly changes: Array<{ from: AlertTransition['from']; to: AlertTransition['to'] }>;
  fired: boolean;
  resolved: boolean;
  /** Why the fired/resolved change was not notified ('' when it was). */
  suppressed: string;
  /** Resolved steps: whether the firing of this episode was notified (read before the instance was dropped). */
  readonly wasNotified: boolean;
  /** Rule edits made the stored alert undefined: dropped without notification. */
  readonly stale: boolean;
}

/** Order of an event's steps: dropped (stale) alerts first, then by feature, method and fingerprint. */
function compareSteps(a: Step, b: Step): number {
  if (a.stale !== b.stale) return a.stale ? -1 : 1;
  const fa = a.feature ?? '';
  const fb = b.feature ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  const ma = a.method ?? '';
  const mb = b.method ?? '';
  if (ma !== mb) return ma < mb ? -1 : 1;
  return a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0;
}

/** Count of true outcomes. */
function trues(outcomes: readonly boolean[]): number {
  return outcomes.reduce((n, o) => (o ? n + 1 : n), 0);
}

/**
 * Advances one instance by one known outcome; mutates the group's instances. Returns the step (null when nothing
 * is stored and nothing happened: an inactive instance that does not match).
 */
function advance(
  group: GroupState,
  rule: Rule,
  identity: { fingerprint: string; labels: Record<string, string>; feature: string | null; method: string | null },
  reading: Extract<Reading, { known: true }>,
  end: number,
): Step | null {
  const m = Math.max(1, Math.floor(rule.for.m));
  const k = Math.min(m, Math.max(1, Math.floor(rule.for.k)));
  const resolveAfter = Math.max(1, Math.floor(rule.resolveAfter));
  let inst = group.instances[identity.fingerprint];
  const changes: Step['changes'] = [];
  let fired = false;
  let resolved = false;
  const match = reading.holds(inst?.state === 'firing');
  if (!inst) {
    if (!match) return null;
    inst = {
      fingerprint: identity.fingerprint,
      labels: identity.labels,
      feature: identity.feature,
      method: identity.method,
      state: 'pending',
      outcomes: [true],
      startsAt: end,
      clearRun: 0,
      notified: false,
      lastValue: reading.value,
      lastAt: end,
    };
    group.instances[identity.fingerprint] = inst;
    changes.push({ from: 'inactive', to: 'pending' });
  } else {
    inst.outcomes = [...inst.outcomes, match].slice(-m);
    inst.lastValue = reading.value;
    inst.lastAt = end;
  }
  const startsAt = inst.startsAt;
  if (inst.state === 'pending') {
    if (trues(inst.outcomes) >= k) {
      inst.state = 'firing';
      inst.clearRun = 0;
      fired = true;
      changes.push({ from: 'pending', to: 'firing' });
    } else if (trues(inst.outcomes) === 0) {
      delete group.instances[identity.fingerprint];
      changes.push({ from: 'pending', to: 'inactive' });
    }
  } else if (changes.length === 0) {
    // Firing (and not just created).
    inst.clearRun = match ? 0 : inst.clearRun + 1;
    if (inst.clearRun >= resolveAfter) {
      resolved = true;
      delete group.instances[identity.fingerprint];
      changes.push({ from: 'firing', to: 'resolved' });
    }
  }
  return { ...identity, value: reading.value, startsAt, changes, fired, resolved, suppressed: '', wasNotified: inst.notified, stale: false };
}

/** `window` as templates see it. */
function windowContext(start: number, end: number, count: number): Record<string, unknown> {
  const endIso = new Date(end).toISOString();
  return { start: new Date(start).toISOString(), end: endIso, count, date: endIso.slice(0, 10) };
}

/** A rendered copy of annotation templates. */
function renderAnnotations(templates: Readonly<Record<string, string>>, ctx: TemplateContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(templates)) out[k] = renderTemplateString(t, ctx);
  return out;
}

/** An action's templated parameters (`{}` for notifiers). */
function actionParams(def: ActionDefinition): TemplateValue {
  switch (def.kind) {
    case 'airflow':
      return def.conf;
    case 'kubeflow':
      return def.parameters;
    case 'argo':
      return def.parameters;
    default:
      return {};
  }
}

/**
 * Evaluates one drift event against every rule, MUTATING `state` in place (groups, instances and cooldowns), and
 * returns the transitions, the notifications and the keys of what changed (so the caller persists only those).
 * Never throws on a well-typed input: a rule naming an unknown action skips that action, an event whose window
 * bounds do not parse is ignored.
 *
 * Notifications: per group, the instances that became firing in this event (and were neither silenced nor in
 * cooldown) make one `firing` notification per action of the rule; those that resolved (and whose firing was
 * notified, and are not silenced) make one `resolved` notification per action, except trigger actions (Airflow,
 * Kubeflow, Argo), which only run on firing. A notification lists only the alerts that transitioned in this event
 * (not other instances of the group that were already firing).
 *
 * Suppression: silences (active at `ctx.now`, every matcher's glob matching a label of the alert) apply to firing
 * and resolved notifications (`silenced by <id>`). The cooldown of (rule, model): after a firing notification at
 * window end T, a firing whose window end is before T + cooldownMs changes state but sends nothing
 * (`cooldown until <ISO>`); resolutions are not subject to cooldown. A resolution whose firing was not notified is
 * not notified either (`firing was not notified`). Silenced firings do not start a cooldown.
 */
export function evaluateEvent(state: EngineState, rules: RuleSet, event: DriftEvent, ctx: EngineContext): EvaluationResult {
  const transitions: AlertTransition[] = [];
  const notifications: Notification[] = [];
  const changedGroups: string[] = [];
  const changedCooldowns: string[] = [];
  const start = Date.parse(event.window.start);
  const end = Date.parse(event.window.end);
  if (Number.isNaN(start) || Number.isNaN(end)) return { transitions, notifications, changedGroups, changedCooldowns };

  let reportUrl: string | null = null;
  const report = (): string => (reportUrl ??= ctx.reportUrl(event));
  const window = windowContext(start, end, event.window.count);

  for (const rule of rules.rules) {
    if (!ruleMatches(rule, event)) continue;
    const key = groupKeyOf(rule.name, event.model, event.segment);
    let group = state.groups[key];
    if (group?.lastWindow) {
      const last = group.lastWindow;
      if (end < last.end || (end === last.end && start <= last.start)) continue;
    }
    if (!group) {
      group = { rule: rule.name, model: event.model, segment: { ...event.segment }, lastWindow: null, instances: {} };
      state.groups[key] = group;
    }
    group.lastWindow = { start, end };
    if (!changedGroups.includes(key)) changedGroups.push(key);

    const condition = rule.condition;
    const steps: Step[] = [];
    const identities = new Map<string, { fingerprint: string; labels: Record<string, string>; feature: string | null; method: string | null; entry: FeatureEntry | undefined }>();
    if (isFeatureCondition(condition)) {
      for (const f of event.features) {
        if (!matchesAnyGlob(rule.match.features, f.feature) || !matchesAnyGlob(rule.match.methods, f.method)) continue;
        const labels = alertLabels(rule, event.model, event.segment, f.feature, f.method);
        const fingerprint = labelFingerprint(labels);
        if (!identities.has(fingerprint)) identities.set(fingerprint, { fingerprint, labels, feature: f.feature, method: f.method, entry: f });
      }
    } else {
      const labels = alertLabels(rule, event.model, event.segment, null, null);
      const fingerprint = labelFingerprint(labels);
      identities.set(fingerprint, { fingerprint, labels, feature: null, method: null, entry: undefined });
    }

    // Stored instances the current rule no longer defines (edited labels, globs or condition kind): dropped.
    for (const inst of Object.values(group.instances)) {
      if (identities.has(inst.fingerprint)) continue;
      let stale: boolean;
      if (!isFeatureCondition(condition) || inst.feature === null || inst.method === null) stale = true;
      else if (!matchesAnyGlob(rule.match.features, inst.feature) || !matchesAnyGlob(rule.match.methods, inst.method)) stale = true;
      else stale = labelFingerprint(alertLabels(rule, event.model, event.segment, inst.feature, inst.method)) !== inst.fingerprint;
      if (!stale) continue; // A feature this event does not carry: unknown, unchanged.
      delete group.instances[inst.fingerprint];
      steps.push({
        fingerprint: inst.fingerprint,
        labels: inst.labels,
        feature: inst.feature,
        method: inst.method,
        value: null,
        startsAt: inst.startsAt,
        changes: [{ from: inst.state, to: inst.state === 'firing' ? 'resolved' : 'inactive' }],
        fired: false,
        resolved: false,
        suppressed: 'rule changed: alert no longer defined',
        wasNotified: inst.notified,
        stale: true,
      });
    }

    for (const id of identities.values()) {
      const reading = read(condition, event, id.entry);
      if (!reading.known) continue;
      const step = advance(group, rule, id, reading, end);
      if (step && step.changes.length > 0) steps.push(step);
    }
    if (steps.length === 0) continue;
    steps.sort(compareSteps);

    // Suppression of firings (silence, then cooldown) and of resolutions (not notified, silence).
    const cdKey = cooldownKeyOf(rule.name, event.model);
    const lastNotified = state.cooldowns[cdKey];
    const cooldownUntil = rule.cooldownMs > 0 && lastNotified !== undefined ? lastNotified + rule.cooldownMs : null;
    let anyFiringNotified = false;
    for (const step of steps) {
      if (step.stale) continue;
      const inst = group.instances[step.fingerprint];
      if (step.fired) {
        const silence = silencedBy(ctx.silences, step.labels, ctx.now);
        if (silence) step.suppressed = `silenced by ${silence.id}`;
        else if (cooldownUntil !== null && end < cooldownUntil) step.suppressed = `cooldown until ${new Date(cooldownUntil).toISOString()}`;
        if (inst) inst.notified = step.suppressed === '';
        if (step.suppressed === '') anyFiringNotified = true;
      } else if (step.resolved) {
        const silence = silencedBy(ctx.silences, step.labels, ctx.now);
        if (!step.wasNotified) step.suppressed = 'firing was not notified';
        else if (silence) step.suppressed = `silenced by ${silence.id}`;
      }
    }
    if (anyFiringNotified) {
      state.cooldowns[cdKey] = Math.max(lastNotified ?? end, end);
      if (!changedCooldowns.includes(cdKey)) changedCooldowns.push(cdKey);
    }

    for (const step of steps) {
      for (const change of step.changes) {
        // Only the changes that would notify (firing, resolved) and stale drops carry a reason.
        const carries = step.stale || change.to === 'firing' || change.to === 'resolved';
        transitions.push({
          fingerprint: step.fingerprint,
          rule: rule.name,
          model: event.model,
          labels: { ...step.labels },
          from: change.from,
          to: change.to,
          at: end,
          windowStart: start,
          value: step.value,
          suppressed: carries ? step.suppressed : '',
          eventId: event.id,
        });
      }
    }

    const firing = steps.filter((s) => s.fired && s.suppressed === '');
    const resolved = steps.filter((s) => s.resolved && s.suppressed === '');
    if (firing.length === 0 && resolved.length === 0) continue;

    const threshold = thresholdOf(condition);
    const alertContext = (s: Step, status: 'firing' | 'resolved'): TemplateContext => ({
      model: event.model,
      model_version: event.model_version,
      rule: rule.name,
      severity: rule.severity,
      status,
      feature: s.feature,
      method: s.method,
      value: s.value,
      score: s.value,
      threshold,
      segment: { ...event.segment },
      window,
      reference_id: event.reference_id,
      event_id: event.id,
      report_url: report(),
      labels: { ...s.labels },
      since: new Date(s.startsAt).toISOString(),
      alerts_count: 1,
      features: s.feature ?? '',
    });
    const toAlert = (s: Step, status: 'firing' | 'resolved'): Alert => ({
      fingerprint: s.fingerprint,
      status,
      labels: { ...s.labels },
      annotations: renderAnnotations(rule.annotations, alertContext(s, status)),
      startsAt: s.startsAt,
      endsAt: status === 'resolved' ? end : null,
      value: s.value,
      threshold,
    });
    const groupContext = (list: Step[], status: 'firing' | 'resolved'): TemplateContext => {
      const first = list[0] as Step;
      const features = [...new Set(list.map((s) => s.feature).filter((f): f is string => f !== null))];
      return { ...alertContext(first, status), alerts_count: list.length, features: features.join(',') };
    };

    const batches: Array<{ status: 'firing' | 'resolved'; list: Step[] }> = [];
    if (firing.length > 0) batches.push({ status: 'firing', list: firing });
    if (resolved.length > 0) batches.push({ status: 'resolved', list: resolved });
    const actionNames = [...new Set(rule.actions)];
    for (const batch of batches) {
      const alerts = batch.list.map((s) => toAlert(s, batch.status));
      const gctx = groupContext(batch.list, batch.status);
      for (const name of actionNames) {
        const def = rules.actions.get(name);
        if (!def) continue;
        if (batch.status === 'resolved' && TRIGGER_KINDS.has(def.kind)) continue;
        notifications.push({
          id: notificationId(rule.name, event.model, event.segment, start, end, batch.status, name, event.window.count_id),
          action: name,
          kind: def.kind,
          rule: rule.name,
          model: event.model,
          modelVersion: event.model_version,
          segment: { ...event.segment },
          severity: rule.severity,
          status: batch.status,
          window: { start, end, count: event.window.count },
          eventId: event.id,
          referenceId: event.reference_id,
          reportUrl: report(),
          groupKey: key,
          alerts,
          params: renderTemplateValue(actionParams(def), gctx),
          createdAt: ctx.now,
        });
      }
    }
  }
  return { transitions, notifications, changedGroups, changedCooldowns };
}

/**
 * Pending and firing alerts of every group (groups by key, instances by fingerprint), for the API's listing and
 * the metrics. `value` is the value read in the instance's last window with a known value.
 */
export function firingAlerts(state: EngineState): ActiveAlert[] {
  const out: ActiveAlert[] = [];
  for (const key of Object.keys(state.groups).sort()) {
    const group = state.groups[key];
    if (!group) continue;
    for (const fp of Object.keys(group.instances).sort()) {
      const inst = group.instances[fp];
      if (!inst) continue;
      out.push({
        rule: group.rule,
        model: group.model,
        labels: { ...inst.labels },
        startsAt: inst.startsAt,
        value: inst.lastValue,
        fingerprint: inst.fingerprint,
        state: inst.state,
      });
    }
  }
  return out;
}

/**
 * Removes the groups of rules the rule set no longer has (after a reload), MUTATING `state`; returns their keys
 * (sorted) so the caller deletes their rows. Their alerts disappear without a resolution. Cooldowns are left alone:
 * they only ever delay notifications and expire in event time.
 */
export function pruneState(state: EngineState, rules: RuleSet): string[] {
  const names = new Set(rules.rules.map((r) => r.name));
  const removed: string[] = [];
  for (const [key, group] of Object.entries(state.groups)) {
    if (!names.has(group.rule)) {
      delete state.groups[key];
      removed.push(key);
    }
  }
  return removed.sort();
}
