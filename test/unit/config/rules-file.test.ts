import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../../src/config/errors.js';
import { loadRuleSet, missingSecrets, parseRuleFiles } from '../../../src/config/rules-file.js';
import type { ActionDefinition, Rule, RuleSet } from '../../../src/rules/types.js';
import { tempDirs } from '../../helpers/temp-dirs.js';

const repoRoot = resolve(import.meta.dirname, '../../..');
const tempDir = tempDirs('driftwatch-rules-');

type Files = Record<string, string>;

function parse(files: Files, env: Record<string, string> = {}): RuleSet {
  return parseRuleFiles(Object.entries(files).map(([name, text]) => ({ name, text })), env);
}

function issuesOf(run: () => unknown): ConfigIssue[] {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

async function asyncIssuesOf(run: () => Promise<unknown>): Promise<ConfigIssue[]> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

/** `location path: message` per issue. */
function lines(issues: ReadonlyArray<ConfigIssue>): string[] {
  return issues.map((i) => `${i.location} ${i.path}: ${i.message}`);
}

function problems(files: Files): string[] {
  return lines(issuesOf(() => parse(files)));
}

/** A file with one rule (the given YAML lines, indented as rule keys) and a Slack action it may use. */
function oneRule(body: string): Files {
  const indented = body
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return {
    'r.yaml': `rules:\n  - name: r\n${indented}\nactions:\n  ops: { kind: slack, url_env: SLACK_URL }\n`,
  };
}

function ruleOf(body: string): Rule {
  const set = parse(oneRule(body));
  expect(set.rules).toHaveLength(1);
  return set.rules[0]!;
}

function actionOf(yaml: string): ActionDefinition {
  const set = parse({ 'a.yaml': `actions:\n  act:\n${yaml.trim().split('\n').map((l) => `    ${l}`).join('\n')}\n` });
  return set.actions.get('act')!;
}

describe('the shipped rules/ folder', () => {
  it('loads cleanly with the expected rules and actions', async () => {
    expect(process.cwd()).toBe(repoRoot);
    const set = await loadRuleSet(join(repoRoot, 'rules'), {});
    expect(set.files).toEqual(['rules/actions.yaml', 'rules/drift.yaml', 'rules/model-health.yaml']);
    expect([...set.actions.keys()]).toEqual(['ops-slack', 'pipeline-webhook', 'retrain', 'rollback']);
    expect(set.rules.map((r) => r.name)).toEqual(['key-feature-drift', 'dataset-drift', 'model-score-decrease', 'prediction-error-burst']);

    const [keyFeature, dataset, scoreDecrease, errorBurst] = set.rules;
    expect(keyFeature).toMatchObject({
      location: 'rules/drift.yaml:9:5',
      match: { models: ['press-*'], segments: {}, features: ['temp_c', 'pressure_bar'], methods: [] },
      condition: { kind: 'feature_drifted' },
      for: { k: 2, m: 3 },
      severity: 'critical',
      cooldownMs: 3_600_000,
      actions: ['ops-slack', 'pipeline-webhook', 'retrain'],
    });
    expect(dataset).toMatchObject({
      condition: { kind: 'dataset_drift_share', threshold: { op: 'above', value: 0.5, clear: 0.3 } },
      for: { k: 1, m: 1 },
      actions: ['ops-slack', 'pipeline-webhook'],
    });
    expect(scoreDecrease).toMatchObject({
      location: 'rules/model-health.yaml:4:5',
      condition: { kind: 'model_quality_drop', metric: 'f1', relative: true, threshold: { op: 'above', value: 0.1, clear: 0.05 } },
      for: { k: 2, m: 2 },
      actions: ['rollback', 'ops-slack'],
    });
    expect(errorBurst).toMatchObject({
      condition: { kind: 'error_share', threshold: { op: 'above', value: 0.2, clear: 0.1 } },
      for: { k: 1, m: 1 },
      actions: ['rollback', 'ops-slack'],
    });

    expect(set.actions.get('ops-slack')).toEqual({
      kind: 'slack',
      name: 'ops-slack',
      location: 'rules/actions.yaml:6:3',
      urlEnv: 'SLACK_WEBHOOK_URL',
      minIntervalMs: 1000,
    });
    expect(set.actions.get('pipeline-webhook')).toMatchObject({
      kind: 'webhook',
      url: 'http://127.0.0.1:9000/hooks/driftwatch',
      secretEnv: ['DRIFTWATCH_WEBHOOK_SECRET'],
    });
    for (const [name, dag] of [
      ['retrain', 'retrain_model'],
      ['rollback', 'rollback_model'],
    ] as const) {
      const action = set.actions.get(name);
      expect(action).toMatchObject({ kind: 'airflow', apiVersion: 2, dagId: dag, usernameEnv: 'AIRFLOW_USERNAME', passwordEnv: 'AIRFLOW_PASSWORD' });
      // The payload carries the lot and the day of the window.
      expect(action?.kind === 'airflow' ? action.conf : null).toMatchObject({
        model: '{{ model }}',
        lot_id: '{{ segment.lot_id }}',
        window_date: '{{ window.end | date }}',
      });
    }
    const retrain = set.actions.get('retrain');
    expect(retrain?.kind === 'airflow' ? retrain.conf : null).toHaveProperty('features', '{{ features }}');
    const rollback = set.actions.get('rollback');
    expect(rollback?.kind === 'airflow' ? rollback.conf : null).toHaveProperty('model_version', '{{ model_version }}');
  });

  it('has a README whose YAML examples parse', () => {
    const readme = readFileSync(join(repoRoot, 'rules', 'README.md'), 'utf8');
    const actions = readFileSync(join(repoRoot, 'rules', 'actions.yaml'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    let checked = 0;
    for (const block of blocks) {
      if (block.startsWith('condition:')) continue; // a fragment of a rule
      const files: Files = /^actions:/m.test(block)
        ? { 'README.md': block }
        : block.startsWith('rules:')
          ? { 'actions.yaml': actions, 'README.md': block } // rules that use the shipped actions
          : { 'README.md': `actions:\n${block.replace(/^/gm, '  ')}` }; // one action
      expect(() => parse(files), block).not.toThrow();
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('names the secrets it needs, and nothing once they are set', async () => {
    const set = await loadRuleSet('rules', {});
    expect(missingSecrets(set, {})).toEqual([
      { action: 'ops-slack', variable: 'SLACK_WEBHOOK_URL', location: 'rules/actions.yaml:6:3' },
      { action: 'pipeline-webhook', variable: 'DRIFTWATCH_WEBHOOK_SECRET', location: 'rules/actions.yaml:12:3' },
      { action: 'retrain', variable: 'AIRFLOW_USERNAME', location: 'rules/actions.yaml:20:3' },
      { action: 'retrain', variable: 'AIRFLOW_PASSWORD', location: 'rules/actions.yaml:20:3' },
      { action: 'rollback', variable: 'AIRFLOW_USERNAME', location: 'rules/actions.yaml:38:3' },
      { action: 'rollback', variable: 'AIRFLOW_PASSWORD', location: 'rules/actions.yaml:38:3' },
    ]);
    const env = { SLACK_WEBHOOK_URL: 'u', DRIFTWATCH_WEBHOOK_SECRET: 's', AIRFLOW_USERNAME: 'a', AIRFLOW_PASSWORD: 'p' };
    expect(missingSecrets(set, env)).toEqual([]);
    // An empty variable is as good as unset.
    expect(missingSecrets(set, { ...env, SLACK_WEBHOOK_URL: '' }).map((m) => m.variable)).toEqual(['SLACK_WEBHOOK_URL']);
  });
});

describe('every problem, located', () => {
  it('reports every problem across two files with file:line:col and path', () => {
    const drift = [
      'rules:', //                                                  1
      '  - name: temp-drift', //                                    2
      '    match:', //                                              3
      '      models: ""', //                                        4
      '      methods: [wassersten]', //                             5
      '    condition:', //                                          6
      '      feature_score: { above: 0.1, clear: 0.2 }', //         7
      '    severity: crit', //                                      8
      '    cooldown: 30', //                                        9
      '    annotations:', //                                        10
      '      summary: "{{ modle }} drifted"', //                    11
      '    actions: [ops-slak]', //                                 12
      '  - name: temp-drift', //                                    13
      '    condtion: { dataset_drifted: true }', //                 14
      '',
    ].join('\n');
    const actions = [
      'actions:', //                                                1
      '  ops-slack:', //                                            2
      '    kind: slack', //                                         3
      '    url_env: SLACK_URL', //                                  4
      '  retrain:', //                                              5
      '    kind: airflow', //                                       6
      '    url: ftp://airflow', //                                  7
      '    dag_id: retrain', //                                     8
      '    username_env: AIRFLOW_USER', //                          9
      '    password_env: AIRFLOW_PASSWORD', //                      10
      '    conf: { lot: "{{ segment.lot_id | dat }}" }', //         11
      '  hook:', //                                                 12
      '    kind: webhok', //                                        13
      '',
    ].join('\n');
    expect(problems({ 'rules/actions.yaml': actions, 'rules/drift.yaml': drift })).toEqual([
      'rules/actions.yaml:7:10 actions.retrain.url: expected an http:// or https:// URL, got "ftp://airflow"',
      'rules/actions.yaml:11:18 actions.retrain.conf.lot: unknown filter "dat" at column 21 (filters: date, datetime, time, percent, fixed2, fixed3, fixed4, upper, lower, json, default_dash)',
      'rules/actions.yaml:13:11 actions.hook.kind: expected "slack", "webhook", "alertmanager", "airflow", "kubeflow" or "argo", got "webhok"; did you mean "webhook"?',
      'rules/drift.yaml:2:11 rules[0].name: duplicate rule name "temp-drift": also defined at rules/drift.yaml:13:11',
      'rules/drift.yaml:4:15 rules[0].match.models[0]: expected a glob pattern (a non-empty string; * and ? are wildcards), got an empty string',
      'rules/drift.yaml:5:17 rules[0].match.methods[0]: expected a drift method (ks, chisquare, z, wasserstein, psi, kl_div, jensenshannon, hellinger, anderson or cramer_von_mises) or a glob with * or ?, got "wassersten"; did you mean "wasserstein"?',
      'rules/drift.yaml:7:43 rules[0].condition.feature_score.clear: expected at most the above threshold 0.1 (a firing alert clears when the value falls back to it), got 0.2',
      'rules/drift.yaml:8:15 rules[0].severity: expected "warning" or "critical", got "crit"',
      'rules/drift.yaml:9:15 rules[0].cooldown: expected a duration such as 30s, 5m or 2h, got 30 (a duration needs a unit: write 30s, 30m or 30h)',
      'rules/drift.yaml:11:16 rules[0].annotations.summary: unknown variable "modle" at column 4 (did you mean "model"?)',
      'rules/drift.yaml:12:15 rules[0].actions[0]: undefined action "ops-slak"; did you mean "ops-slack"?',
      'rules/drift.yaml:13:11 rules[1].name: duplicate rule name "temp-drift": also defined at rules/drift.yaml:2:11',
      'rules/drift.yaml:14:5 rules[1].condtion: unknown key; did you mean "condition"?',
    ]);
  });

  it('formats each issue as one line of the error message', () => {
    const e = (() => {
      try {
        parse({ 'rules/x.yaml': 'rules:\n  - name: x\n    condition: { error_share: { above: 2 } }\n' });
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(e.message).toBe('rules/x.yaml:3:40: rules[0].condition.error_share.above: expected a number from 0 to 1, got 2');
  });

  it('suggests what was meant: top-level keys, condition kinds, keys, methods, severities, action kinds and names', () => {
    expect(problems({ 'a.yaml': 'rule:\n  - name: x\n' })).toEqual(['a.yaml:1:1 rule: unknown key; did you mean "rules"?']);
    expect(problems({ 'a.yaml': 'alerts: []\n' })).toEqual(['a.yaml:1:1 alerts: unknown key; expected rules or actions']);
    expect(problems(oneRule('condition: { feature_drift: true }'))).toEqual([
      'r.yaml:3:18 rules[0].condition.feature_drift: unknown key; did you mean "feature_drifted"?',
    ]);
    expect(problems(oneRule('condition: { dataset_drifted: true }\nresolveAfter: 2'))).toEqual([
      'r.yaml:4:5 rules[0].resolveAfter: unknown key; did you mean "resolve_after"?',
    ]);
    expect(problems(oneRule('condition: { dataset_drifted: true }\nmatch: { methods: [Psi] }'))).toEqual([
      'r.yaml:4:24 rules[0].match.methods[0]: expected a drift method (ks, chisquare, z, wasserstein, psi, kl_div, jensenshannon, hellinger, anderson or cramer_von_mises) or a glob with * or ?, got "Psi"; did you mean "psi"?',
    ]);
    expect(problems(oneRule('condition: { dataset_drifted: true }\nseverity: critcal'))).toEqual([
      'r.yaml:4:15 rules[0].severity: expected "warning" or "critical", got "critcal"; did you mean "critical"?',
    ]);
    expect(problems(oneRule('condition: { outlier_share: { method: zcore, above: 0.1 } }'))).toEqual([
      'r.yaml:3:43 rules[0].condition.outlier_share.method: expected "iqr", "zscore" or "mahalanobis", got "zcore"; did you mean "zscore"?',
    ]);
    expect(problems(oneRule('condition: { model_quality_drop: { metric: F1, above: 0.1 } }'))).toEqual([
      'r.yaml:3:48 rules[0].condition.model_quality_drop.metric: expected "accuracy", "precision", "recall", "f1", "roc_auc", "mae" or "rmse", got "F1"; did you mean "f1"?',
    ]);
    expect(problems({ 'a.yaml': 'actions:\n  x: { kind: slack, url_env: A, min_intervall: 2s }\n' })).toEqual([
      'a.yaml:2:33 actions.x.min_intervall: unknown key; did you mean "min_interval"?',
    ]);
    expect(problems({ 'a.yaml': 'actions:\n  x: { kind: airflow, url: "http://a", dagid: d, username_env: U, password_env: P }\n' })).toEqual([
      'a.yaml:2:40 actions.x.dagid: unknown key; did you mean "dag_id"?',
    ]);
  });

  it('reports duplicate rule and action names across files at both places', () => {
    const a = 'actions:\n  ops: { kind: slack, url_env: A }\nrules:\n  - name: drift\n    condition: { dataset_drifted: true }\n';
    const b = 'rules:\n  - name: drift\n    condition: { feature_drifted: true }\nactions:\n  ops: { kind: slack, url_env: B }\n';
    expect(problems({ 'a.yaml': a, 'b.yaml': b })).toEqual([
      'a.yaml:2:3 actions.ops: duplicate action name "ops": also defined at b.yaml:5:3',
      'a.yaml:4:11 rules[0].name: duplicate rule name "drift": also defined at b.yaml:2:11',
      'b.yaml:2:11 rules[0].name: duplicate rule name "drift": also defined at a.yaml:4:11',
      'b.yaml:5:3 actions.ops: duplicate action name "ops": also defined at a.yaml:2:3',
    ]);
    // Within one file, a repeated action is a duplicate YAML key.
    expect(problems({ 'a.yaml': 'actions:\n  ops: { kind: slack, url_env: A }\n  ops: { kind: slack, url_env: B }\n' })).toEqual([
      'a.yaml:3:3 actions.ops: duplicate key "ops": each key may appear once',
    ]);
  });

  it('reports actions no file defines, with a suggestion or the defined names', () => {
    const rules = 'rules:\n  - name: r\n    condition: { dataset_drifted: true }\n    actions: [retrian, pager]\n';
    expect(problems({ 'a.yaml': 'actions:\n  retrain: { kind: slack, url_env: A }\n  ops: { kind: slack, url_env: A }\n', 'b.yaml': rules })).toEqual([
      'b.yaml:4:15 rules[0].actions[0]: undefined action "retrian"; did you mean "retrain"?',
      'b.yaml:4:24 rules[0].actions[1]: undefined action "pager"; defined actions: retrain, ops',
    ]);
    expect(problems({ 'b.yaml': 'rules:\n  - name: r\n    condition: { dataset_drifted: true }\n    actions: ops\n' })).toEqual([
      'b.yaml:4:14 rules[0].actions: undefined action "ops": no file defines any actions',
    ]);
    // An action that is defined but invalid is reported for what is wrong with it, not as undefined.
    expect(problems({ 'a.yaml': 'actions:\n  ops: { kind: slack }\nrules:\n  - name: r\n    condition: { dataset_drifted: true }\n    actions: [ops, ops]\n' })).toEqual([
      'a.yaml:2:3 actions.ops.url_env: missing: expected the name of an environment variable (letters, digits and "_", not starting with a digit)',
      'a.yaml:6:20 rules[0].actions[1]: action "ops" is listed twice',
    ]);
  });

  it('locates a YAML syntax error, still checks the other files, and does not guess at undefined actions', () => {
    const broken = 'actions:\n  ops: { kind: slack, url_env: A\n';
    const rules = 'rules:\n  - name: r\n    condition: { dataset_drifted: true, }\n    severity: high\n    actions: [ops]\n';
    const issues = problems({ 'a.yaml': broken, 'b.yaml': rules });
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^a\.yaml:3:1 : Flow map .*must .*end with a }/);
    expect(issues[1]).toBe('b.yaml:4:15 rules[0].severity: expected "warning" or "critical", got "high"');
    expect(problems({ 'a.yaml': 'rules:\n  - name: r\n  condition: x\n    - y\n' })[0]).toMatch(/^a\.yaml:\d+:\d+ : /);
    expect(problems({ 'a.yaml': 'rules:\n  - name: r\n    name: s\n' })).toEqual(['a.yaml:3:5 rules[0].name: duplicate key "name": each key may appear once']);
  });

  it('rejects a file that is not a mapping, and rules or actions of the wrong shape', () => {
    expect(problems({ 'a.yaml': '- name: r\n' })).toEqual(['a.yaml:1:1 : expected a mapping with rules and/or actions, got a list']);
    expect(problems({ 'a.yaml': 'rules: { name: r }\nactions: [ops]\n' })).toEqual([
      'a.yaml:1:8 rules: expected a list of rules, got a mapping',
      'a.yaml:2:10 actions: expected a mapping of action names to actions, got a list',
    ]);
    expect(problems({ 'a.yaml': 'rules:\n  - r1\nactions:\n  ops: slack\n  Bad_Name: { kind: slack, url_env: A }\n' })).toEqual([
      'a.yaml:2:5 rules[0]: expected a mapping with name, condition and the rule settings, got "r1"',
      'a.yaml:4:8 actions.ops: expected a mapping with kind (slack, webhook, alertmanager, airflow, kubeflow or argo) and the action\'s settings, got "slack"',
      'a.yaml:5:3 actions.Bad_Name: expected an action name: a name of lower-case letters, digits, "_", "." and "-", starting with a letter or digit (at most 128), got "Bad_Name"',
    ]);
  });

  it('reads empty files, null sections and the defaults of a rule', () => {
    const set = parse({ 'a.yaml': '', 'b.yaml': '# nothing yet\n', 'c.yaml': 'rules:\nactions:\n', 'd.yaml': 'rules:\n  - name: r\n    condition: { dataset_drifted: true }\n' });
    expect(set.files).toEqual(['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml']);
    expect(set.actions.size).toBe(0);
    expect(set.rules).toEqual([
      {
        name: 'r',
        location: 'd.yaml:2:5',
        description: '',
        match: { models: [], segments: {}, features: [], methods: [] },
        condition: { kind: 'dataset_drifted' },
        for: { k: 1, m: 1 },
        resolveAfter: 1,
        severity: 'warning',
        labels: {},
        annotations: {},
        actions: [],
        cooldownMs: 0,
      } satisfies Rule,
    ]);
  });
});

describe('conditions and thresholds', () => {
  it('parses every condition kind', () => {
    const cases: Array<[string, Rule['condition']]> = [
      ['feature_score: { below: 0.05 }', { kind: 'feature_score', threshold: { op: 'below', value: 0.05, clear: 0.05 } }],
      ['feature_drifted: true', { kind: 'feature_drifted' }],
      ['dataset_drift_share: { above: 0.5 }', { kind: 'dataset_drift_share', threshold: { op: 'above', value: 0.5, clear: 0.5 } }],
      ['dataset_drifted: true', { kind: 'dataset_drifted' }],
      ['outlier_share: { method: mahalanobis, above: 0.05, clear: 0.02 }', { kind: 'outlier_share', method: 'mahalanobis', threshold: { op: 'above', value: 0.05, clear: 0.02 } }],
      ['quality_failed: { checks: ["missing_share"], columns: "temp_*" }', { kind: 'quality_failed', checks: ['missing_share'], columns: ['temp_*'] }],
      ['quality_failed: true', { kind: 'quality_failed', checks: [], columns: [] }],
      ['quality_failed: {}', { kind: 'quality_failed', checks: [], columns: [] }],
      ['model_quality_drop: { metric: rmse, above: 0.5 }', { kind: 'model_quality_drop', metric: 'rmse', relative: false, threshold: { op: 'above', value: 0.5, clear: 0.5 } }],
      ['model_quality_drop: { metric: roc_auc, relative: true, above: 0.1 }', { kind: 'model_quality_drop', metric: 'roc_auc', relative: true, threshold: { op: 'above', value: 0.1, clear: 0.1 } }],
      ['error_share: { above: 0.2, clear: 0.1 }', { kind: 'error_share', threshold: { op: 'above', value: 0.2, clear: 0.1 } }],
    ];
    for (const [yaml, condition] of cases) expect(ruleOf(`condition: { ${yaml} }`).condition, yaml).toEqual(condition);
  });

  it('requires clear on the side the value returns to', () => {
    expect(ruleOf('condition: { feature_score: { below: 0.05, clear: 0.1 } }').condition).toEqual({
      kind: 'feature_score',
      threshold: { op: 'below', value: 0.05, clear: 0.1 },
    });
    expect(problems(oneRule('condition: { feature_score: { below: 0.05, clear: 0.01 } }'))).toEqual([
      'r.yaml:3:55 rules[0].condition.feature_score.clear: expected at least the below threshold 0.05 (a firing alert clears when the value rises back to it), got 0.01',
    ]);
    expect(problems(oneRule('condition:\n  dataset_drift_share:\n    above: 0.5\n    clear: 0.7'))).toEqual([
      'r.yaml:6:16 rules[0].condition.dataset_drift_share.clear: expected at most the above threshold 0.5 (a firing alert clears when the value falls back to it), got 0.7',
    ]);
  });

  it('requires exactly one of above and below, and exactly one condition', () => {
    expect(problems(oneRule('condition: { error_share: { clear: 0.1 } }'))).toEqual([
      'r.yaml:3:31 rules[0].condition.error_share: missing: expected above or below (a threshold, such as { above: 0.2 })',
    ]);
    expect(problems(oneRule('condition: { error_share: { above: 0.2, below: 0.1 } }'))).toEqual([
      'r.yaml:3:52 rules[0].condition.error_share.below: expected above or below, not both',
    ]);
    expect(problems(oneRule('condition: { feature_drifted: true, error_share: { above: 0.2 } }'))).toEqual([
      'r.yaml:3:54 rules[0].condition.error_share: expected exactly one condition, got feature_drifted and error_share',
    ]);
    expect(problems(oneRule('condition: {}'))).toEqual([
      'r.yaml:3:16 rules[0].condition: missing: expected one condition: feature_score, feature_drifted, dataset_drift_share, dataset_drifted, outlier_share, quality_failed, model_quality_drop or error_share',
    ]);
    expect(problems(oneRule('condition: { feature_drifted: false }'))).toEqual([
      'r.yaml:3:35 rules[0].condition.feature_drifted: expected true (a feature\'s drift method says it drifted), got false',
    ]);
    expect(problems(oneRule('condition: { feature_score: 0.1 }'))).toEqual([
      'r.yaml:3:33 rules[0].condition.feature_score: expected a mapping such as { above: 0.1 } or { below: 0.05 }, got 0.1',
    ]);
    expect(problems(oneRule('condition: { outlier_share: { above: 0.1 } }'))).toEqual([
      'r.yaml:3:18 rules[0].condition.outlier_share.method: missing: expected "iqr", "zscore" or "mahalanobis"',
    ]);
  });
});

describe('for: windows', () => {
  it('reads N and { k, m }', () => {
    expect(ruleOf('condition: { dataset_drifted: true }\nfor: 3').for).toEqual({ k: 3, m: 3 });
    expect(ruleOf('condition: { dataset_drifted: true }\nfor: { k: 2, m: 5 }').for).toEqual({ k: 2, m: 5 });
    expect(ruleOf('condition: { dataset_drifted: true }\nfor: { k: 100, m: 100 }').for).toEqual({ k: 100, m: 100 });
  });

  it('rejects k > m, out-of-range counts, unknown keys and other values', () => {
    const bad = (value: string): string[] => problems(oneRule(`condition: { dataset_drifted: true }\nfor: ${value}`));
    expect(bad('{ k: 4, m: 3 }')).toEqual(['r.yaml:4:15 rules[0].for.k: expected k at most m (3): k of the last m windows, got 4']);
    expect(bad('{ k: 0, m: 101 }')).toEqual([
      'r.yaml:4:15 rules[0].for.k: expected a whole number from 1 to 100, got 0',
      'r.yaml:4:21 rules[0].for.m: expected a whole number from 1 to 100, got 101',
    ]);
    expect(bad('{ k: 2 }')).toEqual(['r.yaml:4:5 rules[0].for.m: missing: expected a whole number from 1 to 100']);
    expect(bad('{ k: 2, n: 3 }')).toEqual([
      'r.yaml:4:5 rules[0].for.m: missing: expected a whole number from 1 to 100',
      'r.yaml:4:18 rules[0].for.n: unknown key; expected k or m',
    ]);
    expect(bad('0')).toEqual(['r.yaml:4:10 rules[0].for: expected a whole number of windows from 1 to 100, or { k, m } (k of the last m windows), got 0']);
    expect(bad('1.5')).toEqual(['r.yaml:4:10 rules[0].for: expected a whole number of windows from 1 to 100, or { k, m } (k of the last m windows), got 1.5']);
    expect(bad('"2"')).toEqual(['r.yaml:4:10 rules[0].for: expected a whole number of windows from 1 to 100, or { k, m } (k of the last m windows), got "2"']);
    expect(problems(oneRule('condition: { dataset_drifted: true }\nresolve_after: 0'))).toEqual([
      'r.yaml:4:20 rules[0].resolve_after: expected a whole number from 1 to 100, got 0',
    ]);
  });
});

describe('match, labels and annotations', () => {
  it('reads globs as a string or a list, and segments as key -> globs', () => {
    const rule = ruleOf('condition: { feature_drifted: true }\nmatch:\n  models: press-*\n  segments: { lot_id: "L-1*", line: [A, B] }\n  features: [temp_c, "vib?ation*"]\n  methods: [ks, "j*"]');
    expect(rule.match).toEqual({ models: ['press-*'], segments: { lot_id: ['L-1*'], line: ['A', 'B'] }, features: ['temp_c', 'vib?ation*'], methods: ['ks', 'j*'] });
  });

  it('rejects empty globs, empty segment lists and reserved or bad label names', () => {
    expect(problems(oneRule('condition: { feature_drifted: true }\nmatch: { features: [temp_c, ""], segments: { lot_id: [] } }'))).toEqual([
      'r.yaml:4:33 rules[0].match.features[1]: expected a glob pattern (a non-empty string; * and ? are wildcards), got an empty string',
      'r.yaml:4:58 rules[0].match.segments.lot_id: expected a glob or a non-empty list of globs, got an empty list',
    ]);
    expect(problems(oneRule('condition: { feature_drifted: true }\nlabels: { severity: high, "bad-name": x, n: 3 }'))).toEqual([
      'r.yaml:4:15 rules[0].labels.severity: "severity" is a label driftwatch sets on every alert (alertname, model, severity, feature or method); choose another name',
      'r.yaml:4:31 rules[0].labels.bad-name: expected a label name (letters, digits and "_", not starting with a digit), got "bad-name"',
      'r.yaml:4:49 rules[0].labels.n: expected a string (templates such as {{ model }} allowed), got 3',
    ]);
  });

  it('checks every template in labels, annotations and action parameters, each at its own key', () => {
    const files = {
      'a.yaml': [
        'actions:',
        '  kfp:',
        '    kind: kubeflow',
        '    url: https://kfp.example',
        '    pipeline_id: p',
        '    pipeline_version_id: v',
        '    parameters:',
        '      window: { end: "{{ window.end | datetme }}", list: [1, "{{ sgment.lot_id }}"] }',
        '  argo:',
        '    kind: argo',
        '    url: https://argo.example:2746',
        '    namespace: ml',
        '    workflow_template: rollback',
        '    parameters: { model: "{{ model", n: 2 }',
        'rules:',
        '  - name: r',
        '    condition: { feature_drifted: true }',
        '    labels: { team: "{{ labels.team | uper }}" }',
        '    annotations: { summary: "{{ feature }} {{ }}" }',
        '',
      ].join('\n'),
    };
    expect(problems(files)).toEqual([
      'a.yaml:8:22 actions.kfp.parameters.window.end: unknown filter "datetme" at column 17 (filters: date, datetime, time, percent, fixed2, fixed3, fixed4, upper, lower, json, default_dash)',
      'a.yaml:8:62 actions.kfp.parameters.window.list[1]: unknown variable "sgment" at column 4 (did you mean "segment"?)',
      'a.yaml:14:26 actions.argo.parameters.model: unclosed "{{" at column 1',
      'a.yaml:14:41 actions.argo.parameters.n: expected a string (Argo parameters are strings; templates such as {{ model }} allowed), got 2',
      'a.yaml:18:21 rules[0].labels.team: unknown filter "uper" at column 18 (filters: date, datetime, time, percent, fixed2, fixed3, fixed4, upper, lower, json, default_dash)',
      'a.yaml:19:29 rules[0].annotations.summary: empty expression at column 15',
    ]);
  });
});

describe('durations', () => {
  it('bounds a cooldown to a year and a Slack min_interval to 24 days (a timer waits no longer)', () => {
    const files = {
      'r.yaml': [
        'rules:',
        '  - name: r',
        '    condition: { dataset_drifted: true }',
        '    cooldown: 366d',
        '    actions: [ops]',
        'actions:',
        '  ops: { kind: slack, url_env: SLACK_URL, min_interval: 25d }',
        '',
      ].join('\n'),
    };
    expect(problems(files)).toEqual([
      'r.yaml:4:15 rules[0].cooldown: expected a duration of at most 365d, got "366d"',
      'r.yaml:7:57 actions.ops.min_interval: expected a duration of at most 24d, got "25d"',
    ]);
    expect(ruleOf('condition: { dataset_drifted: true }\ncooldown: 365d\nactions: [ops]')).toMatchObject({ cooldownMs: 365 * 86_400_000 });
  });
});

describe('actions', () => {
  it('parses every kind with its defaults', () => {
    expect(actionOf('kind: slack\nurl_env: SLACK_URL')).toEqual({ kind: 'slack', name: 'act', location: 'a.yaml:2:3', urlEnv: 'SLACK_URL', minIntervalMs: 1000 });
    expect(actionOf('kind: slack\nurl_env: SLACK_URL\nmin_interval: 0')).toMatchObject({ minIntervalMs: 0 });
    expect(actionOf('kind: webhook\nurl: https://hooks.example/x\nsecret_env: [NEW_SECRET, OLD_SECRET]\nheaders: { X-Team: ops }')).toEqual({
      kind: 'webhook',
      name: 'act',
      location: 'a.yaml:2:3',
      url: 'https://hooks.example/x',
      secretEnv: ['NEW_SECRET', 'OLD_SECRET'],
      headers: { 'X-Team': 'ops' },
    });
    expect(actionOf('kind: alertmanager\nurl: http://127.0.0.1:9093/api/v2/alerts')).toMatchObject({ kind: 'alertmanager', receiver: 'driftwatch' });
    expect(actionOf('kind: airflow\nurl: http://af\napi_version: 3\ndag_id: d.x-1\nusername_env: U\npassword_env: P')).toMatchObject({
      kind: 'airflow',
      apiVersion: 3,
      dagId: 'd.x-1',
      conf: {},
    });
    expect(actionOf('kind: kubeflow\nurl: http://kfp\npipeline_id: p\npipeline_version_id: v')).toMatchObject({
      kind: 'kubeflow',
      experimentId: '',
      tokenEnv: '',
      parameters: {},
    });
    expect(actionOf('kind: argo\nurl: https://argo:2746\nnamespace: ml\nworkflow_template: rollback-model\ntoken_env: ARGO_TOKEN\nparameters: { model: "{{ model }}" }')).toMatchObject({
      kind: 'argo',
      namespace: 'ml',
      workflowTemplate: 'rollback-model',
      tokenEnv: 'ARGO_TOKEN',
      parameters: { model: '{{ model }}' },
    });
  });

  it('rejects bad URLs, versions, names and headers', () => {
    expect(problems({ 'a.yaml': 'actions:\n  x: { kind: alertmanager, url: "localhost:9093" }\n' })).toEqual([
      'a.yaml:2:33 actions.x.url: expected an http:// or https:// URL, got "localhost:9093"',
    ]);
    expect(problems({ 'a.yaml': 'actions:\n  x: { kind: airflow, url: "http://af", api_version: 1, dag_id: "a b", username_env: U, password_env: P, conf: [1] }\n' })).toEqual([
      'a.yaml:2:54 actions.x.api_version: expected 2 or 3 (the Airflow major version), got 1',
      'a.yaml:2:65 actions.x.dag_id: expected a DAG id (letters, digits, "_", "." and "-"), got "a b"',
      'a.yaml:2:112 actions.x.conf: expected a mapping (the DAG run conf, templates allowed), got a list',
    ]);
    expect(problems({ 'a.yaml': 'actions:\n  x: { kind: webhook, url: "http://h", secret_env: [S, S], headers: { Webhook-Signature: x, "a b": c } }\n' })).toEqual([
      'a.yaml:2:56 actions.x.secret_env[1]: "S" is listed twice',
      'a.yaml:2:71 actions.x.headers.Webhook-Signature: "Webhook-Signature" is set by driftwatch (webhook-id, webhook-timestamp, webhook-signature, content-type, content-length or host); remove it',
      'a.yaml:2:93 actions.x.headers.a b: expected an HTTP header name, got "a b"',
    ]);
    expect(problems({ 'a.yaml': 'actions:\n  x: { url: "http://h" }\n' })).toEqual([
      'a.yaml:2:3 actions.x.kind: missing: expected "slack", "webhook", "alertmanager", "airflow", "kubeflow" or "argo"',
    ]);
  });
});

describe('secrets', () => {
  it('never repeats a secret in a message', () => {
    const secrets = ['https://hooks.slack.com/services/T000/B000/XXXXSECRET', 'hunter2-secret', 's3cr3t-token', 'p4ss'];
    const file = [
      'actions:',
      '  slack:',
      '    kind: slack',
      `    url_env: ${secrets[0]}`,
      '  af:',
      '    kind: airflow',
      `    url: http://admin:${secrets[3]}@airflow:8080`,
      '    dag_id: d',
      '    username_env: AIRFLOW_USERNAME',
      `    password: ${secrets[1]}`,
      '  argo:',
      '    kind: argo',
      '    url: https://argo',
      '    namespace: ml',
      '    workflow_template: wt',
      `    token: ${secrets[2]}`,
      '',
    ].join('\n');
    const issues = issuesOf(() => parse({ 'a.yaml': file }));
    expect(lines(issues)).toEqual([
      'a.yaml:4:14 actions.slack.url_env: expected the name of an environment variable (letters, digits and "_", not starting with a digit), got a string that is not one (not shown: it may be a secret)',
      'a.yaml:7:10 actions.af.url: expected an http:// or https:// URL without user:password, got "http://airflow:8080/" with credentials (name secrets with the action\'s *_env keys)',
      'a.yaml:10:5 actions.af.password: secrets are not written in rule files: put it in an environment variable and name that with password_env',
      'a.yaml:16:5 actions.argo.token: secrets are not written in rule files: put it in an environment variable and name that with token_env',
    ]);
    const text = lines(issues).join('\n');
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('lists unset variables of every kind, with the action and its place, without reading their values', () => {
    const set = parse({
      'a.yaml': [
        'actions:',
        '  hook: { kind: webhook, url: "http://h", secret_env: [NEW_SECRET, OLD_SECRET] }',
        '  am: { kind: alertmanager, url: "http://am" }',
        '  kfp: { kind: kubeflow, url: "http://k", pipeline_id: p, pipeline_version_id: v, token_env: KFP_TOKEN }',
        '  argo: { kind: argo, url: "http://a", namespace: ml, workflow_template: wt }',
        '',
      ].join('\n'),
    });
    expect(missingSecrets(set, { NEW_SECRET: 'x' })).toEqual([
      { action: 'hook', variable: 'OLD_SECRET', location: 'a.yaml:2:3' },
      { action: 'kfp', variable: 'KFP_TOKEN', location: 'a.yaml:4:3' },
    ]);
    // Unset secrets are not a parse error: the env given to the parser does not matter.
    expect(parse({ 'a.yaml': 'actions:\n  s: { kind: slack, url_env: NOT_SET }\n' }, {}).actions.size).toBe(1);
  });
});

describe('the rules directory', () => {
  it('reports a missing directory and one without rule files', async () => {
    const dir = tempDir({ 'README.md': '# rules\n', '.hidden.yaml': 'rules: [' });
    mkdirSync(join(dir, 'sub.yaml'));
    expect(await asyncIssuesOf(() => loadRuleSet(join(dir, 'nope'), {}))).toEqual([{ location: join(dir, 'nope'), path: '', message: 'rules directory not found' }]);
    expect(await asyncIssuesOf(() => loadRuleSet(dir, {}))).toEqual([{ location: dir, path: '', message: `no rule files (*.yaml or *.yml) in ${dir}/` }]);
    expect(await asyncIssuesOf(() => loadRuleSet(join(dir, 'README.md'), {}))).toEqual([
      { location: join(dir, 'README.md'), path: '', message: 'is a file, not a rules directory' },
    ]);
  });

  it('reads *.yaml and *.yml in name order, not sub-folders, and names files outside the working directory by absolute path', async () => {
    const dir = tempDir({
      'b.yml': 'rules:\n  - name: b\n    condition: { dataset_drifted: true }\n    actions: [ops]\n',
      'a.yaml': 'actions:\n  ops: { kind: slack, url_env: A }\nrules:\n  - name: a\n    condition: { feature_drifted: true }\n',
      'notes.txt': 'rules: [',
    });
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'more', 'c.yaml'), 'rules: [');
    const set = await loadRuleSet(dir, {});
    expect(relative(process.cwd(), dir).startsWith('..')).toBe(true);
    expect(set.files).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yml')]);
    expect(set.rules.map((r) => [r.name, r.location])).toEqual([
      ['a', `${join(dir, 'a.yaml')}:4:5`],
      ['b', `${join(dir, 'b.yml')}:2:5`],
    ]);
  });

  it('names files inside the working directory relative to it', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'drift.yaml'), 'rules:\n  - name: r\n    condition: { dataset_drifted: yes }\n');
    const before = process.cwd();
    process.chdir(dir);
    try {
      const expected = ['rules/drift.yaml:3:35 rules[0].condition.dataset_drifted: expected true (the dataset drift verdict), got "yes"'];
      expect(lines(await asyncIssuesOf(() => loadRuleSet('rules', {})))).toEqual(expected);
      expect(lines(await asyncIssuesOf(() => loadRuleSet(join(dir, 'rules'), {})))).toEqual(expected);
      mkdirSync(join(dir, 'empty'));
      expect(await asyncIssuesOf(() => loadRuleSet('empty', {}))).toEqual([{ location: 'empty', path: '', message: 'no rule files (*.yaml or *.yml) in empty/' }]);
    } finally {
      process.chdir(before);
    }
  });
});

describe('environment references in action URLs', () => {
  const file = (url: string) =>
    `actions:\n  hook:\n    kind: webhook\n    url: "${url}"\n    secret_env: HOOK_SECRET\n`;

  it('expands ${NAME} and ${NAME:-default}', () => {
    const set = parseRuleFiles([{ name: 'a.yaml', text: file('${HOOK_BASE}/in') }], { HOOK_BASE: 'https://hooks.example' });
    expect((set.actions.get('hook') as { url: string }).url).toBe('https://hooks.example/in');
    const fallback = parseRuleFiles([{ name: 'a.yaml', text: file('${HOOK_BASE:-http://127.0.0.1:9000}/in') }], {});
    expect((fallback.actions.get('hook') as { url: string }).url).toBe('http://127.0.0.1:9000/in');
  });

  it('an unset variable without a default is located at the url', () => {
    let error: unknown;
    try {
      parseRuleFiles([{ name: 'a.yaml', text: file('${HOOK_BASE}/in') }], {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      { location: 'a.yaml:4:10', path: 'actions.hook.url', message: expect.stringContaining('env HOOK_BASE is not set') },
    ]);
  });
});
