import { describe, expect, it } from 'vitest';
import type { DriftEvent } from '../../../src/core/drift-event.js';
import {
  createEngineState,
  evaluateEvent,
  firingAlerts,
  pruneState,
  type EngineContext,
  type EngineState,
  type EvaluationResult,
} from '../../../src/rules/engine.js';
import { labelFingerprint } from '../../../src/rules/ids.js';
import { globMatch, matchesAnyGlob } from '../../../src/rules/match.js';
import type { ActionDefinition, AlertTransition, Condition, Notification, Rule, RuleSet, Silence } from '../../../src/rules/types.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 2);
const NOW = Date.UTC(2026, 5, 1);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Window i: [T0 + i h, T0 + (i+1) h). `scores`: feature -> PSI score (drifted when >= 0.2; null = insufficient). */
function event(i: number, scores: Record<string, number | null> = {}, patch: Partial<Mutable<DriftEvent>> = {}): DriftEvent {
  const features = Object.entries(scores).map(([feature, score]) => ({
    feature,
    method: 'psi',
    score,
    statistic: score,
    threshold: 0.2,
    drifted: score !== null && score >= 0.2,
    status: score === null ? 'insufficient_data' : 'ok',
  }));
  const drifted = features.filter((f) => f.drifted).length;
  return {
    schema: 'driftwatch.drift-event/v1',
    id: `ev-${i}`,
    model: 'press-qa',
    model_version: 'v7',
    segment: {},
    window: { start: new Date(T0 + i * HOUR).toISOString(), end: new Date(T0 + (i + 1) * HOUR).toISOString(), count: 100 + i, version: 1, cause: 'watermark' },
    reference_id: 'ref-1',
    dataset: {
      tested: features.length,
      drifted,
      share: features.length ? drifted / features.length : 0,
      drift_share: 0.5,
      drifted_flag: features.length > 0 && drifted / features.length >= 0.5,
    },
    features,
    outliers: [],
    quality_failed: [],
    computed_at: new Date(T0 + (i + 1) * HOUR + 1000).toISOString(),
    ...patch,
  };
}

function rule(over: Partial<Rule> = {}): Rule {
  return {
    name: 'drift',
    location: 'rules/drift.yaml:1:3',
    description: '',
    match: { models: [], segments: {}, features: [], methods: [] },
    condition: { kind: 'feature_score', threshold: { op: 'above', value: 0.3, clear: 0.3 } },
    for: { k: 1, m: 1 },
    resolveAfter: 1,
    severity: 'warning',
    labels: {},
    annotations: { summary: '{{ feature }} on {{ model }} = {{ value | fixed2 }} since {{ since | time }}' },
    actions: ['slack'],
    cooldownMs: 0,
    ...over,
  };
}

const ACTIONS: ActionDefinition[] = [
  { kind: 'slack', name: 'slack', location: 'a.yaml:1', urlEnv: 'SLACK_URL', minIntervalMs: 1000 },
  { kind: 'webhook', name: 'hook', location: 'a.yaml:5', url: 'http://x', secretEnv: [], headers: {} },
  {
    kind: 'airflow',
    name: 'retrain',
    location: 'a.yaml:9',
    url: 'http://airflow',
    apiVersion: 2,
    dagId: 'retrain',
    usernameEnv: 'U',
    passwordEnv: 'P',
    conf: { model: '{{ model }}', features: '{{ features }}', n: '{{ alerts_count }}', day: '{{ window.end | date }}', value: '{{ value }}' },
  },
];

function rules(...list: Rule[]): RuleSet {
  return { rules: list, actions: new Map(ACTIONS.map((a) => [a.name, a])), files: [] };
}

function context(over: Partial<EngineContext> = {}): EngineContext {
  return { now: NOW, silences: [], reportUrl: (e) => `http://dw/report/${e.id}`, ...over };
}

/** Feeds events in order; returns each event's result. */
function feed(state: EngineState, rs: RuleSet, events: DriftEvent[], ctx: EngineContext = context()): EvaluationResult[] {
  return events.map((e) => evaluateEvent(state, rs, e, ctx));
}

function moves(ts: ReadonlyArray<AlertTransition>): string[] {
  return ts.map((t) => `${t.labels['feature'] ?? '-'}:${t.from}->${t.to}`);
}

/** Events with one feature `temp` taking the given scores. */
function series(scores: Array<number | null>, start = 0): DriftEvent[] {
  return scores.map((s, i) => event(start + i, { temp: s }));
}

describe('globMatch', () => {
  it('matches * and ? and treats everything else literally', () => {
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('*', 'anything')).toBe(true);
    expect(globMatch('press-*', 'press-qa')).toBe(true);
    expect(globMatch('press-*', 'pres-qa')).toBe(false);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a?c', 'ac')).toBe(false);
    expect(globMatch('a*b*c', 'axxbyybzc')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyybzd')).toBe(false);
    expect(globMatch('a.c', 'abc')).toBe(false);
    expect(globMatch('a.c', 'a.c')).toBe(true);
    expect(globMatch('(x+)+[y]', '(x+)+[y]')).toBe(true);
    expect(globMatch('^x$', 'x')).toBe(false);
    expect(globMatch('L-10?2', 'L-1042')).toBe(true);
    expect(globMatch('é?', 'éü')).toBe(true);
  });

  it('an empty list matches everything', () => {
    expect(matchesAnyGlob([], 'x')).toBe(true);
    expect(matchesAnyGlob(['a*', 'b*'], 'bx')).toBe(true);
    expect(matchesAnyGlob(['a*', 'b*'], 'cx')).toBe(false);
  });
});

describe('rule matching', () => {
  it('models, segments, features and methods globs', () => {
    const state = createEngineState();
    const rs = rules(
      rule({ name: 'models', match: { models: ['other-*'], segments: {}, features: [], methods: [] } }),
      rule({ name: 'segments', match: { models: ['press-*'], segments: { lot_id: ['L-10*'] }, features: [], methods: [] } }),
      rule({ name: 'features', match: { models: [], segments: {}, features: ['t*'], methods: ['psi'] } }),
      rule({ name: 'methods', match: { models: [], segments: {}, features: [], methods: ['ks'] } }),
    );
    const [r] = feed(state, rs, [event(0, { temp: 0.5, rpm: 0.5 }, { segment: { lot_id: 'L-1042' } })]);
    const fired = r!.transitions.filter((t) => t.to === 'firing').map((t) => `${t.rule}:${t.labels['feature']}`);
    expect(fired.sort()).toEqual(['features:temp', 'segments:rpm', 'segments:temp']);
    // A segment key the event lacks does not match.
    const [r2] = feed(state, rs, [event(1, { temp: 0.5 })]);
    expect(r2!.transitions.map((t) => t.rule)).not.toContain('segments');
  });
});

describe('conditions', () => {
  function firesOn(condition: Condition, e: DriftEvent, over: Partial<Rule> = {}): AlertTransition[] {
    const state = createEngineState();
    return evaluateEvent(state, rules(rule({ condition, ...over })), e, context()).transitions;
  }

  it('feature_score compares the score; a feature with status != ok is unknown', () => {
    const c: Condition = { kind: 'feature_score', threshold: { op: 'above', value: 0.3, clear: 0.3 } };
    expect(moves(firesOn(c, event(0, { a: 0.31, b: 0.3, c: null })))).toEqual(['a:inactive->pending', 'a:pending->firing']);
    const below: Condition = { kind: 'feature_score', threshold: { op: 'below', value: 0.05, clear: 0.05 } };
    expect(moves(firesOn(below, event(0, { a: 0.01, b: 0.5 })))).toEqual(['a:inactive->pending', 'a:pending->firing']);
  });

  it('feature_drifted uses the verdict; alerts carry null value and threshold', () => {
    const state = createEngineState();
    const [r] = feed(state, rules(rule({ condition: { kind: 'feature_drifted' } })), [event(0, { a: 0.25, b: 0.1 })]);
    expect(moves(r!.transitions)).toEqual(['a:inactive->pending', 'a:pending->firing']);
    const alert = r!.notifications[0]!.alerts[0]!;
    expect(alert.value).toBeNull();
    expect(alert.threshold).toBeNull();
  });

  it('dataset_drift_share reads dataset.share, not the configured drift_share; no tested feature is unknown', () => {
    const c: Condition = { kind: 'dataset_drift_share', threshold: { op: 'above', value: 0.4, clear: 0.4 } };
    // share 1/3 < 0.4 while drift_share (0.5) is above it: must not fire.
    expect(firesOn(c, event(0, { a: 0.5, b: 0.1, c: 0.1 }))).toEqual([]);
    const t = firesOn(c, event(0, { a: 0.5, b: 0.5, c: 0.1 }));
    expect(t.map((x) => x.to)).toEqual(['pending', 'firing']);
    expect(t[1]!.value).toBeCloseTo(2 / 3);
    expect(t[1]!.labels['feature']).toBeUndefined();
    // A firing alert stays firing through a window with nothing tested.
    const state = createEngineState();
    const rs = rules(rule({ condition: c }));
    const [, r] = feed(state, rs, [event(0, { a: 0.5 }), event(1, {})]);
    expect(r!.transitions).toEqual([]);
    expect(firingAlerts(state).map((a) => a.state)).toEqual(['firing']);
  });

  it('dataset_drifted uses drifted_flag', () => {
    expect(firesOn({ kind: 'dataset_drifted' }, event(0, { a: 0.5, b: 0.1 })).map((x) => x.to)).toEqual(['pending', 'firing']);
    expect(firesOn({ kind: 'dataset_drifted' }, event(0, { a: 0.1, b: 0.1 }))).toEqual([]);
  });

  it('outlier_share reads its method; null share and a missing method are unknown', () => {
    const c: Condition = { kind: 'outlier_share', method: 'iqr', threshold: { op: 'above', value: 0.05, clear: 0.02 } };
    const outliers = [
      { method: 'iqr', outliers: 10, scored: 100, share: 0.1 },
      { method: 'zscore', outliers: 1, scored: 100, share: 0.01 },
    ];
    expect(firesOn(c, event(0, {}, { outliers }))[1]!.value).toBe(0.1);
    expect(firesOn({ ...c, method: 'zscore' }, event(0, {}, { outliers }))).toEqual([]);
    const state = createEngineState();
    const rs = rules(rule({ condition: c }));
    const r = feed(state, rs, [
      event(0, {}, { outliers }),
      event(1, {}, { outliers: [{ method: 'iqr', outliers: 0, scored: 0, share: null }] }),
      event(2, {}, { outliers: [] }),
    ]);
    expect(r.map((x) => x.transitions.length)).toEqual([2, 0, 0]);
    expect(firingAlerts(state)[0]!.value).toBe(0.1);
  });

  it('quality_failed: checks and column globs, dataset-level checks, count as value', () => {
    const c: Condition = { kind: 'quality_failed', checks: ['null_*'], columns: ['temp'] };
    const q = (list: Array<[string, string]>) => ({ quality_failed: list.map(([check, column]) => ({ check, column })) });
    expect(firesOn(c, event(0, {}, q([['null_share', 'rpm']])))).toEqual([]);
    expect(firesOn(c, event(0, {}, q([['range', 'temp']])))).toEqual([]);
    const t = firesOn(c, event(0, {}, q([['null_share', 'temp'], ['null_rows', ''], ['range', 'temp']])));
    expect(t[1]!.value).toBe(2);
    // No failed entry = not holding (a firing alert resolves).
    const state = createEngineState();
    const r = feed(state, rules(rule({ condition: c })), [event(0, {}, q([['null_share', 'temp']])), event(1)]);
    expect(r[1]!.transitions.map((x) => `${x.from}->${x.to}`)).toEqual(['firing->resolved']);
  });

  it('model_quality_drop: scores drop when lower, errors when higher, relative to |reference|', () => {
    const health = (metric: string, value: number | null, reference: number | null, status = 'ok') => ({
      model_health: {
        error_share: 0,
        labelled: 100,
        metrics: [{ metric, value, reference, change_absolute: null, change_relative: null, status }],
      },
    });
    const abs: Condition = { kind: 'model_quality_drop', metric: 'accuracy', relative: false, threshold: { op: 'above', value: 0.05, clear: 0.05 } };
    expect(firesOn(abs, event(0, {}, health('accuracy', 0.8, 0.9)))[1]!.value).toBeCloseTo(0.1);
    expect(firesOn(abs, event(0, {}, health('accuracy', 0.95, 0.9)))).toEqual([]);
    const mae: Condition = { ...abs, metric: 'mae' };
    expect(firesOn(mae, event(0, {}, health('mae', 1.2, 1.0)))[1]!.value).toBeCloseTo(0.2);
    expect(firesOn(mae, event(0, {}, health('mae', 0.8, 1.0)))).toEqual([]);
    const rel: Condition = { ...abs, metric: 'rmse', relative: true, threshold: { op: 'above', value: 0.1, clear: 0.1 } };
    expect(firesOn(rel, event(0, {}, health('rmse', 3, 2)))[1]!.value).toBeCloseTo(0.5);
    expect(firesOn(rel, event(0, {}, health('rmse', 3, 0)))).toEqual([]);
    expect(firesOn(abs, event(0, {}, health('accuracy', 0.1, 0.9, 'insufficient_data')))).toEqual([]);
    expect(firesOn(abs, event(0, {}, health('accuracy', null, 0.9)))).toEqual([]);
    expect(firesOn(abs, event(0))).toEqual([]);
  });

  it('error_share; null and no model_health are unknown', () => {
    const c: Condition = { kind: 'error_share', threshold: { op: 'above', value: 0.1, clear: 0.1 } };
    const h = (error_share: number | null) => ({ model_health: { error_share, labelled: 0, metrics: [] } });
    expect(firesOn(c, event(0, {}, h(0.2)))[1]!.value).toBe(0.2);
    expect(firesOn(c, event(0, {}, h(0.05)))).toEqual([]);
    const state = createEngineState();
    const r = feed(state, rules(rule({ condition: c })), [event(0, {}, h(0.2)), event(1, {}, h(null)), event(2)]);
    expect(r.map((x) => x.transitions.length)).toEqual([2, 0, 0]);
    expect(firingAlerts(state)).toHaveLength(1);
  });
});

describe('lifecycle', () => {
  it('for: 3 needs three consecutive matching windows', () => {
    const state = createEngineState();
    const rs = rules(rule({ for: { k: 3, m: 3 } }));
    const r = feed(state, rs, series([0.5, 0.5, 0.1, 0.5, 0.5, 0.5]));
    expect(r.map((x) => moves(x.transitions))).toEqual([
      ['temp:inactive->pending'],
      [],
      [],
      [],
      [],
      ['temp:pending->firing'],
    ]);
    expect(r.map((x) => x.notifications.length)).toEqual([0, 0, 0, 0, 0, 1]);
    // startsAt is the first match of the episode.
    expect(r[5]!.notifications[0]!.alerts[0]!.startsAt).toBe(T0 + HOUR);
  });

  it('k of m: 2 of the last 3', () => {
    const state = createEngineState();
    const r = feed(state, rules(rule({ for: { k: 2, m: 3 } })), series([0.5, 0.1, 0.5]));
    expect(r.map((x) => moves(x.transitions))).toEqual([['temp:inactive->pending'], [], ['temp:pending->firing']]);
  });

  it('pending goes back to inactive when no match is left in the last m', () => {
    const state = createEngineState();
    const r = feed(state, rules(rule({ for: { k: 3, m: 3 } })), series([0.5, 0.1, 0.1, 0.1]));
    expect(r.map((x) => moves(x.transitions))).toEqual([['temp:inactive->pending'], [], [], ['temp:pending->inactive']]);
    expect(firingAlerts(state)).toEqual([]);
    expect(Object.keys(state.groups[Object.keys(state.groups)[0]!]!.instances)).toEqual([]);
  });

  it('hysteresis: oscillating between clear and threshold fires once and never resolves', () => {
    const state = createEngineState();
    const rs = rules(rule({ condition: { kind: 'feature_score', threshold: { op: 'above', value: 0.3, clear: 0.2 } } }));
    const r = feed(state, rs, series([0.31, 0.29, 0.31, 0.29, 0.25, 0.31]));
    expect(r.flatMap((x) => moves(x.transitions))).toEqual(['temp:inactive->pending', 'temp:pending->firing']);
    expect(r.flatMap((x) => x.notifications)).toHaveLength(1);
    // Below clear resolves (resolveAfter 1).
    const [end] = feed(state, rs, series([0.19], 6));
    expect(moves(end!.transitions)).toEqual(['temp:firing->resolved']);
    expect(end!.notifications.map((n) => n.status)).toEqual(['resolved']);
    expect(end!.notifications[0]!.alerts[0]!.endsAt).toBe(T0 + 7 * HOUR);
  });

  it('resolveAfter: 2 needs two consecutive clear windows; unknown windows neither clear nor match', () => {
    const state = createEngineState();
    const rs = rules(rule({ resolveAfter: 2 }));
    const r = feed(state, rs, series([0.5, 0.1, 0.5, 0.1, null, 0.1]));
    expect(r.map((x) => moves(x.transitions))).toEqual([
      ['temp:inactive->pending', 'temp:pending->firing'],
      [],
      [],
      [],
      [],
      ['temp:firing->resolved'],
    ]);
  });
});

describe('notifications', () => {
  it('groups features drifting in one window into one notification per action', () => {
    const state = createEngineState();
    const [r] = feed(state, rules(rule({ actions: ['slack', 'retrain', 'hook'] })), [event(0, { c: 0.6, a: 0.4, b: 0.5, d: 0.1 })]);
    expect(r!.notifications.map((n) => `${n.action}:${n.kind}:${n.status}`)).toEqual(['slack:slack:firing', 'retrain:airflow:firing', 'hook:webhook:firing']);
    for (const n of r!.notifications) expect(n.alerts.map((a) => a.labels['feature'])).toEqual(['a', 'b', 'c']);
    const slack = r!.notifications[0]!;
    expect(slack.params).toEqual({});
    expect(slack.groupKey).toBe('drift/press-qa/');
    expect(slack.window).toEqual({ start: T0, end: T0 + HOUR, count: 100 });
    expect(slack.reportUrl).toBe('http://dw/report/ev-0');
    expect(slack.createdAt).toBe(NOW);
    expect(slack.alerts[0]!.annotations).toEqual({ summary: 'a on press-qa = 0.40 since 01:00:00' });
    expect(slack.alerts[0]!.labels).toEqual({ alertname: 'drift', model: 'press-qa', severity: 'warning', feature: 'a', method: 'psi' });
    expect(slack.alerts[0]!.fingerprint).toBe(labelFingerprint(slack.alerts[0]!.labels));
    expect(r!.notifications[1]!.params).toEqual({ model: 'press-qa', features: 'a,b,c', n: 3, day: '2026-01-02', value: 0.4 });
  });

  it('trigger actions get firing notifications only', () => {
    const state = createEngineState();
    const r = feed(state, rules(rule({ actions: ['retrain', 'slack'] })), series([0.5, 0.1]));
    expect(r[0]!.notifications.map((n) => `${n.action}:${n.status}`)).toEqual(['retrain:firing', 'slack:firing']);
    expect(r[1]!.notifications.map((n) => `${n.action}:${n.status}`)).toEqual(['slack:resolved']);
  });

  it('skips actions the rule set does not define', () => {
    const state = createEngineState();
    const [r] = feed(state, rules(rule({ actions: ['nope', 'slack', 'slack'] })), series([0.5]));
    expect(r!.notifications.map((n) => n.action)).toEqual(['slack']);
  });

  it('labels: rule labels rendered, segment keys, collisions prefixed', () => {
    const state = createEngineState();
    const rs = rules(rule({ labels: { team: 'ml-{{ model }}', lot_id: 'ignored', feature_upper: '{{ feature | upper }}', v: '{{ value }}' } }));
    const [r] = feed(state, rs, [event(0, { temp: 0.5 }, { segment: { lot_id: 'L-1', model: 'x' } })]);
    expect(r!.notifications[0]!.alerts[0]!.labels).toEqual({
      alertname: 'drift',
      model: 'press-qa',
      severity: 'warning',
      feature: 'temp',
      method: 'psi',
      lot_id: 'L-1',
      segment_model: 'x',
      team: 'ml-press-qa',
      feature_upper: 'TEMP',
      v: '',
    });
    expect(r!.notifications[0]!.groupKey).toBe('drift/press-qa/lot_id=L-1,model=x');
  });
});

describe('cooldown', () => {
  it('a second episode within the cooldown sends nothing; after it, it sends again', () => {
    const state = createEngineState();
    const rs = rules(rule({ cooldownMs: 4 * HOUR }));
    // Fires at end 1h, resolves at 2h, fires again at 3h (< 1h + 4h), resolves at 4h, fires at 6h (>= 5h).
    const r = feed(state, rs, series([0.5, 0.1, 0.5, 0.1, 0.1, 0.5]));
    expect(r.map((x) => x.notifications.map((n) => n.status).join(','))).toEqual(['firing', 'resolved', '', '', '', 'firing']);
    const second = r[2]!.transitions.find((t) => t.to === 'firing')!;
    expect(second.suppressed).toBe(`cooldown until ${new Date(T0 + 5 * HOUR).toISOString()}`);
    // Its resolution is not notified either.
    expect(r[3]!.transitions[0]!.to).toBe('resolved');
    expect(r[3]!.transitions[0]!.suppressed).toBe('firing was not notified');
    expect(r[5]!.transitions.find((t) => t.to === 'firing')!.suppressed).toBe('');
    expect(state.cooldowns['drift/press-qa']).toBe(T0 + 6 * HOUR);
    expect(r[5]!.changedCooldowns).toEqual(['drift/press-qa']);
    expect(r[2]!.changedCooldowns).toEqual([]);
  });

  it('is shared by the segments of a rule and model', () => {
    const state = createEngineState();
    const rs = rules(rule({ cooldownMs: 2 * HOUR }));
    const a = evaluateEvent(state, rs, event(0, { temp: 0.5 }, { segment: { lot: 'A' } }), context());
    const b = evaluateEvent(state, rs, event(0, { temp: 0.5 }, { segment: { lot: 'B' } }), context());
    expect(a.notifications).toHaveLength(1);
    expect(b.notifications).toHaveLength(0);
    expect(b.transitions.find((t) => t.to === 'firing')!.suppressed).toMatch(/^cooldown until /);
  });
});

describe('silences', () => {
  const silence = (over: Partial<Silence> = {}): Silence => ({
    id: 's-1',
    matchers: [{ label: 'feature', pattern: 't*' }],
    startsAt: NOW - HOUR,
    endsAt: NOW + HOUR,
    createdBy: 'me',
    comment: '',
    createdAt: NOW - HOUR,
    ...over,
  });

  it('an active silence suppresses matching alerts; the others are still notified', () => {
    const state = createEngineState();
    const ctx = context({ silences: [silence()] });
    const r = feed(state, rules(rule()), [event(0, { temp: 0.5, rpm: 0.5 }), event(1, { temp: 0.1, rpm: 0.1 })], ctx);
    expect(r[0]!.notifications[0]!.alerts.map((a) => a.labels['feature'])).toEqual(['rpm']);
    expect(r[0]!.transitions.filter((t) => t.to === 'firing').map((t) => `${t.labels['feature']}:${t.suppressed}`)).toEqual([
      'rpm:',
      'temp:silenced by s-1',
    ]);
    // Both still fire and resolve; only rpm's resolution is notified.
    expect(moves(r[1]!.transitions)).toEqual(['rpm:firing->resolved', 'temp:firing->resolved']);
    expect(r[1]!.notifications[0]!.alerts.map((a) => a.labels['feature'])).toEqual(['rpm']);
  });

  it('inactive silences, missing labels and unmatched values do not silence', () => {
    for (const s of [
      silence({ endsAt: NOW }),
      silence({ startsAt: NOW + 1 }),
      silence({ matchers: [{ label: 'team', pattern: '*' }] }),
      silence({ matchers: [{ label: 'feature', pattern: 't*' }, { label: 'model', pattern: 'other' }] }),
      silence({ matchers: [] }),
    ]) {
      const [r] = feed(createEngineState(), rules(rule()), [event(0, { temp: 0.5 })], context({ silences: [s] }));
      expect(r!.notifications).toHaveLength(1);
    }
  });
});

describe('determinism and state', () => {
  const rs = rules(rule({ actions: ['slack', 'retrain'], for: { k: 2, m: 3 }, resolveAfter: 2, cooldownMs: 2 * HOUR }));
  const events = [
    event(0, { a: 0.5, b: 0.1 }),
    event(1, { a: 0.5, b: 0.5 }),
    event(2, { a: 0.1, b: 0.5 }),
    event(3, { a: 0.1, b: 0.5 }),
    event(4, { a: 0.1, b: 0.1 }),
    event(5, { a: 0.5, b: 0.1 }),
    event(6, { a: 0.5, b: 0.1 }),
    event(7, { a: 0.1, b: 0.1 }),
    event(8, { a: 0.1, b: 0.1 }),
  ];
  const strip = (ns: Notification[]) => ns.map(({ createdAt: _c, ...rest }) => rest);

  it('the same events on a fresh state give identical ids and notifications, whatever the processing time', () => {
    const one = feed(createEngineState(), rs, events, context({ now: NOW }));
    const two = feed(createEngineState(), rs, events, context({ now: NOW + 12345 }));
    const n1 = one.flatMap((r) => r.notifications);
    const n2 = two.flatMap((r) => r.notifications);
    expect(n1.length).toBeGreaterThan(2);
    expect(strip(n1)).toEqual(strip(n2));
    expect(one.flatMap((r) => r.transitions)).toEqual(two.flatMap((r) => r.transitions));
    const ids = n1.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^n-[0-9a-f]{24}$/);
  });

  it('skips a replayed window and an older one entirely', () => {
    const state = createEngineState();
    const first = evaluateEvent(state, rs, event(0, { a: 0.5 }), context());
    const second = evaluateEvent(state, rs, event(1, { a: 0.5 }), context());
    expect(second.notifications).toHaveLength(2);
    const before = JSON.stringify(state);
    for (const e of [event(1, { a: 0.5 }), event(1, { a: 0.1 }, { id: 'late-update' }), event(0, { a: 0.5 })]) {
      const again = evaluateEvent(state, rs, e, context());
      expect(again).toEqual({ transitions: [], notifications: [], changedGroups: [], changedCooldowns: [] });
    }
    expect(JSON.stringify(state)).toBe(before);
    expect(first.changedGroups).toEqual(['drift/press-qa/']);
  });

  it('a JSON round trip of the state mid-sequence gives identical results afterwards', () => {
    const straight = createEngineState();
    const a = feed(straight, rs, events);
    let state = createEngineState();
    const b = feed(state, rs, events.slice(0, 3));
    state = JSON.parse(JSON.stringify(state)) as EngineState;
    b.push(...feed(state, rs, events.slice(3)));
    expect(b).toEqual(a);
    expect(state).toEqual(straight);
  });

  it('firingAlerts lists pending and firing instances', () => {
    const state = createEngineState();
    feed(state, rs, events.slice(0, 2));
    const listed = firingAlerts(state);
    expect(listed.map((x) => x.fingerprint)).toEqual(listed.map((x) => x.fingerprint).sort());
    expect(listed.map((x) => `${x.rule}:${x.model}:${x.labels['feature']}:${x.state}:${x.value}:${x.startsAt}`).sort()).toEqual([
      `drift:press-qa:a:firing:0.5:${T0 + HOUR}`,
      `drift:press-qa:b:pending:0.5:${T0 + 2 * HOUR}`,
    ]);
  });

  it('pruneState removes the groups of removed rules', () => {
    const state = createEngineState();
    const two = rules(rule(), rule({ name: 'other' }));
    feed(state, two, [event(0, { a: 0.5 })]);
    expect(Object.keys(state.groups).sort()).toEqual(['drift/press-qa/', 'other/press-qa/']);
    expect(pruneState(state, rules(rule()))).toEqual(['other/press-qa/']);
    expect(Object.keys(state.groups)).toEqual(['drift/press-qa/']);
  });

  it('an edited rule drops the alerts it no longer defines, without notifying', () => {
    const state = createEngineState();
    feed(state, rules(rule()), [event(0, { a: 0.5 })]);
    const [r] = feed(state, rules(rule({ labels: { team: 'ml' } })), [event(1, { a: 0.5 })]);
    expect(r!.transitions.map((t) => `${t.from}->${t.to}:${t.suppressed}`)).toEqual([
      'firing->resolved:rule changed: alert no longer defined',
      'inactive->pending:',
      'pending->firing:',
    ]);
    expect(r!.transitions[0]!.labels['team']).toBeUndefined();
    expect(r!.transitions[2]!.labels['team']).toBe('ml');
    expect(r!.notifications.map((n) => n.status)).toEqual(['firing']);
    expect(firingAlerts(state)).toHaveLength(1);
  });
});
