/**
 * The shape of a rule file (`rules/*.yaml`, documented in `rules/README.md`) as zod schemas that return the parsed
 * types of `src/rules/types.ts`. Every leaf words its own message (what it expected, what it got); templates are
 * checked where they are written. What needs more than one file (duplicate names, undefined actions) is checked
 * by the loader (`rules-file.ts`).
 *
 * Secrets are named by environment variable (`*_env`) and never written in a rule file: a bad `*_env` value is
 * never shown in a message, because a user who got it wrong has probably pasted the secret itself.
 */
import { z } from 'zod';
import { METHOD_NAMES } from '../drift/methods.js';
import { checkTemplateValue } from '../rules/template.js';
import type { ActionDefinition, ActionKind, Condition, ForWindows, Rule, Severity, TemplateValue, Threshold } from '../rules/types.js';
import { formatDuration, parseDuration } from './duration.js';
import { bool as sharedBool, integer as sharedInteger, leaf as sharedLeaf, oneOf as sharedOneOf, Reject, text as sharedText } from './leaves.js';
import { describeValue, didYouMean, expected, orList } from './messages.js';
import { MAX_SPAN_MS, MAX_TIMER_MS, redactUrl } from './schema.js';

/** A mapping with known keys; `what` words the message when the value is not a mapping at all. */
function mapping<S extends z.core.$ZodLooseShape>(shape: S, what: string) {
  return z.strictObject(shape, { error: (iss) => (iss.code === 'invalid_type' ? expected(what, iss.input) : undefined) });
}

/** Rule and action names: they appear in alert labels, notification ids, URLs and metric labels. */
export const RULE_NAME = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
export const NAME_WHAT = 'a name of lower-case letters, digits, "_", "." and "-", starting with a letter or digit (at most 128)';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_WHAT = 'the name of an environment variable (letters, digits and "_", not starting with a digit)';

/** Alertmanager's label names; annotations follow the same rule. */
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Labels the engine sets on every alert; a rule label of the same name would change what an alert is. */
export const RESERVED_LABELS: ReadonlyArray<string> = ['alertname', 'model', 'severity', 'feature', 'method'];

export const SEVERITIES: ReadonlyArray<Severity> = ['warning', 'critical'];
export const OUTLIER_METHODS = ['iqr', 'zscore', 'mahalanobis'] as const;
export const QUALITY_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'mae', 'rmse'] as const;
export const CONDITION_KINDS = [
  'feature_score',
  'feature_drifted',
  'dataset_drift_share',
  'dataset_drifted',
  'outlier_share',
  'quality_failed',
  'model_quality_drop',
  'error_share',
] as const;
export const ACTION_KINDS: ReadonlyArray<ActionKind> = ['slack', 'webhook', 'alertmanager', 'airflow', 'kubeflow', 'argo'];

/** The most windows `for:` and `resolve_after:` may span: a bound on the window history kept per alert. */
export const MAX_WINDOWS = 100;

const name = () => leaf(NAME_WHAT, (v) => (typeof v === 'string' && RULE_NAME.test(v) ? v : undefined));

const bool = () => sharedBool({ missing: true });

function oneOf<const T extends string>(values: ReadonlyArray<T>) {
  return sharedOneOf(values, { quote: true, missing: true });
}

function integer(min: number, max: number) {
  return sharedInteger(min, max, { missing: true });
}

function text(what?: string) {
  return sharedText(what, { missing: true });
}

/** A leaf that also sees a missing key (so a required key gets the leaf's own message). */
function leaf<T>(what: string, parse: (v: unknown) => T | Reject | undefined) {
  return sharedLeaf(what, parse, { missing: true });
}

const DURATION_WHAT = 'a duration such as 30s, 5m or 2h';

/** A duration in ms (0 allowed), at most `max`. A bare number other than 0 is rejected with a hint: it has no unit. */
function duration(max: number) {
  return leaf(DURATION_WHAT, (v) => {
    if (typeof v === 'number') {
      if (v === 0) return 0;
      return new Reject(expected(DURATION_WHAT, v, `a duration needs a unit: write ${v}s, ${v}m or ${v}h`));
    }
    if (typeof v !== 'string') return undefined;
    const ms = parseDuration(v);
    if (ms === null) {
      const bare = /^\s*\d+(?:\.\d+)?\s*$/.test(v);
      return new Reject(expected(DURATION_WHAT, v, bare ? `a duration needs a unit: write ${v.trim()}s or ${v.trim()}m` : undefined));
    }
    if (ms > max) return new Reject(expected(`a duration of at most ${formatDuration(max)}`, v));
    return ms;
  });
}

/** A secret's environment variable. The value is never shown: it may be the secret itself, pasted in by mistake. */
function envName() {
  return leaf(ENV_WHAT, (v) => {
    if (typeof v === 'string' && ENV_NAME.test(v)) return v;
    if (v === undefined) return new Reject(expected(ENV_WHAT, v));
    if (typeof v === 'string' && v !== '') return new Reject(`expected ${ENV_WHAT}, got a string that is not one (not shown: it may be a secret)`);
    return new Reject(`expected ${ENV_WHAT}, got ${kindOf(v)}`);
  });
}

/** What a value is, without its content (for values that may be secrets). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === '') return 'an empty string';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : typeof v;
}

/** One env variable name or a non-empty list of them (a signing secret and, during a rotation, the one it replaces). */
function envNames() {
  const what = 'an environment variable name or a list of them';
  return z.preprocess(
    (v) => (typeof v === 'string' ? [v] : v),
    z
      .array(envName(), { error: (iss) => (iss.code === 'invalid_type' ? `expected ${what}, got ${kindOf(iss.input)}` : undefined) })
      .transform((names, ctx) => {
        if (names.length === 0) ctx.addIssue({ code: 'custom', message: `expected ${what}, got an empty list`, input: names });
        names.forEach((n, i) => {
          if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(n)} is listed twice`, path: [i], input: n });
        });
        return names;
      }),
  );
}

const URL_WHAT = 'an http:// or https:// URL';

/** An http(s) URL, without credentials (secrets come from the environment). Shown redacted in messages. */
function httpUrl() {
  return leaf(URL_WHAT, (v) => {
    if (typeof v !== 'string') return undefined;
    let u: URL | null = null;
    try {
      u = new URL(v);
    } catch {
      u = null;
    }
    if (u === null || (u.protocol !== 'http:' && u.protocol !== 'https:')) return new Reject(expected(URL_WHAT, redactUrl(v)));
    if (u.username !== '' || u.password !== '') {
      const shown = describeValue(redactUrl(v));
      return new Reject(`expected ${URL_WHAT} without user:password, got ${shown} with credentials (name secrets with the action's *_env keys)`);
    }
    return v;
  });
}

const GLOB_WHAT = 'a glob pattern (a non-empty string; * and ? are wildcards)';
const glob = () => leaf(GLOB_WHAT, (v) => (typeof v === 'string' && v.trim() !== '' ? v : undefined));

/** A glob or a list of them; missing or null is the empty list (matches everything). */
function globs(item: z.ZodType<string, unknown> = glob()) {
  const what = 'a glob or a list of globs';
  return z
    .preprocess(
      (v) => (v === null ? [] : typeof v === 'string' ? [v] : v),
      z.array(item, { error: (iss) => (iss.code === 'invalid_type' ? expected(what, iss.input) : undefined) }),
    )
    .optional()
    .transform((v): ReadonlyArray<string> => v ?? []);
}

/** A drift method by name, or a glob over method names. */
function methodGlob() {
  const what = `a drift method (${orList([...METHOD_NAMES])}) or a glob with * or ?`;
  return leaf(what, (v) => {
    if (typeof v !== 'string' || v.trim() === '') return undefined;
    if ((METHOD_NAMES as ReadonlyArray<string>).includes(v) || /[*?]/.test(v)) return v;
    return new Reject(expected(what, v) + didYouMean(v, METHOD_NAMES));
  });
}

/** Segment key -> glob or non-empty list of globs: every listed key must be present and match. */
function segmentGlobs() {
  const what = 'a glob or a non-empty list of globs';
  return z
    .preprocess(
      (v) => (v === null ? {} : v),
      z.record(
        z.string().min(1, { error: () => 'expected a segment field name, got an empty string' }),
        z.preprocess(
          (v) => (typeof v === 'string' ? [v] : v),
          z.array(glob(), { error: (iss) => (iss.code === 'invalid_type' ? expected(what, iss.input) : undefined) }).min(1, {
            error: () => `expected ${what}, got an empty list`,
          }),
        ),
        { error: (iss) => (iss.code === 'invalid_type' ? expected('a mapping of segment fields to globs', iss.input) : undefined) },
      ),
    )
    .optional()
    .transform((v): Readonly<Record<string, ReadonlyArray<string>>> => v ?? {});
}

/** A template string, checked by the template parser. */
function templateText(what: string) {
  return z.unknown().optional().transform((v, ctx): string => {
    if (typeof v !== 'string') {
      ctx.addIssue({ code: 'custom', message: expected(what, v), input: v });
      return z.NEVER;
    }
    for (const message of checkTemplateValue(v)) ctx.addIssue({ code: 'custom', message, input: v });
    return v;
  });
}

/** Label or annotation names -> template strings. */
function templateStrings(kind: 'label' | 'annotation') {
  const keyWhat = `a ${kind} name (letters, digits and "_", not starting with a digit)`;
  return z
    .preprocess(
      (v) => (v === null ? {} : v),
      z.record(
        z.string().superRefine((k, ctx) => {
          if (!LABEL_NAME.test(k)) ctx.addIssue({ code: 'custom', message: expected(keyWhat, k), input: k });
          else if (kind === 'label' && RESERVED_LABELS.includes(k)) {
            const message = `"${k}" is a label driftwatch sets on every alert (${orList(RESERVED_LABELS)}); choose another name`;
            ctx.addIssue({ code: 'custom', message, input: k });
          }
        }),
        templateText(`a string (templates such as {{ model }} allowed)`),
        { error: (iss) => (iss.code === 'invalid_type' ? expected(`a mapping of ${kind} names to strings`, iss.input) : undefined) },
      ),
    )
    .optional()
    .transform((v): Readonly<Record<string, string>> => v ?? {});
}

/** A mapping of JSON values with templates in their strings (a DAG run's `conf`, run parameters); null is `{}`. */
function templateObject(what: string) {
  return z.unknown().optional().transform((v, ctx): TemplateValue => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: expected(what, v), input: v });
      return z.NEVER;
    }
    checkJsonTemplates(v, [], ctx);
    return v as TemplateValue;
  });
}

/**
 * Every string inside a JSON value checked as a template, each problem at the string's own path; numbers must be
 * finite (JSON has no `.inf` or `.nan`).
 */
function checkJsonTemplates(v: unknown, path: Array<string | number>, ctx: z.RefinementCtx): void {
  if (typeof v === 'string') {
    for (const message of checkTemplateValue(v)) ctx.addIssue({ code: 'custom', message, path, input: v });
  } else if (typeof v === 'number' && !Number.isFinite(v)) {
    ctx.addIssue({ code: 'custom', message: `expected a finite number (JSON has no ${String(v)}), got ${String(v)}`, path, input: v });
  } else if (Array.isArray(v)) {
    v.forEach((item, i) => checkJsonTemplates(item, [...path, i], ctx));
  } else if (typeof v === 'object' && v !== null) {
    for (const [key, item] of Object.entries(v)) checkJsonTemplates(item, [...path, key], ctx);
  }
}

// ---- conditions ----

/** The range a condition's threshold may take. */
interface Range {
  readonly min?: number;
  readonly max?: number;
  readonly what: string;
}
const SHARE: Range = { min: 0, max: 1, what: 'a number from 0 to 1' };
const SCORE: Range = { min: 0, what: 'a number >= 0' };
const ANY: Range = { what: 'a number' };

function bounded(range: Range) {
  return leaf(range.what, (v) =>
    typeof v === 'number' && Number.isFinite(v) && (range.min === undefined || v >= range.min) && (range.max === undefined || v <= range.max)
      ? v
      : undefined,
  );
}

/** A threshold condition's own keys (outlier_share's method, model_quality_drop's metric and relative) and its threshold. */
interface ThresholdCondition {
  readonly threshold: Threshold;
  readonly method?: string;
  readonly metric?: string;
  readonly relative?: boolean;
}

/**
 * A condition with a threshold: `{ above: 0.1, clear: 0.08 }` or `{ below: 0.05 }` plus the condition's own keys.
 * `clear` defaults to the threshold and must be on the side the value returns to.
 */
function thresholdCondition<S extends z.core.$ZodLooseShape>(range: Range, extra: S, example: string) {
  const number = bounded(range);
  return mapping({ ...extra, above: number.optional(), below: number.optional(), clear: number.optional() }, `a mapping such as ${example}`).transform(
    (o, ctx): ThresholdCondition => {
      const { above, below, clear, ...rest } = o as { above?: number; below?: number; clear?: number } & Omit<ThresholdCondition, 'threshold'>;
      if (above === undefined && below === undefined) {
        ctx.addIssue({ code: 'custom', message: `missing: expected above or below (a threshold, such as ${example})`, input: o });
        return z.NEVER;
      }
      if (above !== undefined && below !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected above or below, not both', path: ['below'], input: below });
        return z.NEVER;
      }
      const op = above !== undefined ? 'above' : 'below';
      const value = (above ?? below)!;
      if (clear !== undefined && (op === 'above' ? clear > value : clear < value)) {
        const side = op === 'above' ? 'at most' : 'at least';
        const hint = op === 'above' ? 'a firing alert clears when the value falls back to it' : 'a firing alert clears when the value rises back to it';
        const message = `expected ${side} the ${op} threshold ${value} (${hint}), got ${clear}`;
        ctx.addIssue({ code: 'custom', message, path: ['clear'], input: clear });
        return z.NEVER;
      }
      const threshold: Threshold = { op, value, clear: clear ?? value };
      return { ...rest, threshold };
    },
  );
}

/** `true`: a condition with nothing to set. */
const flag = (meaning: string) => leaf(`true (${meaning})`, (v) => (v === true ? true : undefined));

const conditionShape = {
  feature_score: thresholdCondition(SCORE, {}, '{ above: 0.1 } or { below: 0.05 }'),
  feature_drifted: flag("a feature's drift method says it drifted"),
  dataset_drift_share: thresholdCondition(SHARE, {}, '{ above: 0.5 }'),
  dataset_drifted: flag('the dataset drift verdict'),
  outlier_share: thresholdCondition(SHARE, { method: oneOf(OUTLIER_METHODS) }, '{ method: iqr, above: 0.05 }'),
  quality_failed: z
    .preprocess((v) => (v === null || v === true ? {} : v), mapping({ checks: globs(), columns: globs() }, 'true or a mapping with checks and columns'))
    .optional(),
  model_quality_drop: thresholdCondition(ANY, { metric: oneOf(QUALITY_METRICS), relative: bool().optional() }, '{ metric: f1, above: 0.05 }'),
  error_share: thresholdCondition(SHARE, {}, '{ above: 0.2 }'),
} as const;

const CONDITION_WHAT = `a mapping with one condition (${orList([...CONDITION_KINDS])})`;

const condition = () =>
  mapping(
    Object.fromEntries(Object.entries(conditionShape).map(([k, s]) => [k, s.optional()])) as {
      [K in keyof typeof conditionShape]: z.ZodOptional<(typeof conditionShape)[K]>;
    },
    CONDITION_WHAT,
  ).transform((o, ctx): Condition => {
    const given = CONDITION_KINDS.filter((k) => o[k] !== undefined);
    // An unknown key (reported with its did-you-mean) is most likely the condition, misspelt: say nothing more.
    if (ctx.issues.length > 0) return z.NEVER;
    if (given.length === 0) {
      ctx.addIssue({ code: 'custom', message: `missing: expected one condition: ${orList([...CONDITION_KINDS])}`, input: o });
      return z.NEVER;
    }
    if (given.length > 1) {
      const message = `expected exactly one condition, got ${orList(given).replace(/ or /, ' and ')}`;
      ctx.addIssue({ code: 'custom', message, path: [given[1]!], input: o });
      return z.NEVER;
    }
    const kind = given[0]!;
    switch (kind) {
      case 'feature_score':
      case 'dataset_drift_share':
      case 'error_share':
        return { kind, threshold: o[kind]!.threshold };
      case 'feature_drifted':
      case 'dataset_drifted':
        return { kind };
      case 'outlier_share': {
        const c = o.outlier_share!;
        return { kind, method: c.method!, threshold: c.threshold };
      }
      case 'quality_failed': {
        const c = o.quality_failed!;
        return { kind, checks: c.checks, columns: c.columns };
      }
      case 'model_quality_drop': {
        const c = o.model_quality_drop!;
        return { kind, metric: c.metric!, relative: c.relative ?? false, threshold: c.threshold };
      }
    }
  });

/** `for: 3` (3 consecutive windows) or `for: { k: 2, m: 3 }` (2 of the last 3). */
function forWindows() {
  const what = `a whole number of windows from 1 to ${MAX_WINDOWS}, or { k, m } (k of the last m windows)`;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= MAX_WINDOWS;
  return z.unknown().optional().transform((v, ctx): ForWindows => {
    if (v === undefined) return { k: 1, m: 1 };
    if (count(v)) return { k: v, m: v };
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: expected(what, v), input: v });
      return z.NEVER;
    }
    const o = v as Record<string, unknown>;
    let ok = true;
    for (const key of Object.keys(o)) {
      if (key !== 'k' && key !== 'm') {
        ctx.addIssue({
          code: 'custom',
          message: `unknown key${didYouMean(key, ['k', 'm']) || '; expected k or m'}`,
          path: [key],
          input: o[key],
          params: { atKey: true },
        });
        ok = false;
      }
    }
    for (const key of ['k', 'm'] as const) {
      if (!count(o[key])) {
        ctx.addIssue({ code: 'custom', message: expected(`a whole number from 1 to ${MAX_WINDOWS}`, o[key]), path: [key], input: o[key] });
        ok = false;
      }
    }
    if (!ok) return z.NEVER;
    const k = o['k'] as number;
    const m = o['m'] as number;
    if (k > m) {
      ctx.addIssue({ code: 'custom', message: `expected k at most m (${m}): k of the last m windows, got ${k}`, path: ['k'], input: k });
      return z.NEVER;
    }
    return { k, m };
  });
}

/** A list of action names, or one name. */
function actionNames() {
  const what = 'an action name or a list of action names';
  return z
    .preprocess(
      (v) => (v === null ? [] : typeof v === 'string' ? [v] : v),
      z.array(name(), { error: (iss) => (iss.code === 'invalid_type' ? expected(what, iss.input) : undefined) }).transform((names, ctx) => {
        names.forEach((n, i) => {
          if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', message: `action ${JSON.stringify(n)} is listed twice`, path: [i], input: n });
        });
        return names;
      }),
    )
    .optional()
    .transform((v): ReadonlyArray<string> => v ?? []);
}

/** One item of `rules:`; the result lacks only its location, which the loader adds. */
export function ruleSchema() {
  return mapping(
    {
      name: name(),
      description: z.string({ error: (iss) => expected('a string', iss.input) }).nullable().optional(),
      match: z
        .preprocess(
          (v) => (v === null ? {} : v),
          mapping(
            { models: globs(), segments: segmentGlobs(), features: globs(), methods: globs(methodGlob()) },
            'a mapping with models, segments, features and methods',
          ),
        )
        .optional(),
      condition: condition(),
      for: forWindows(),
      resolve_after: integer(1, MAX_WINDOWS).optional(),
      severity: oneOf(SEVERITIES).optional(),
      cooldown: duration(MAX_SPAN_MS).optional(),
      labels: templateStrings('label'),
      annotations: templateStrings('annotation'),
      actions: actionNames(),
    },
    'a mapping with name, condition and the rule settings',
  ).transform(
    (r): Omit<Rule, 'location'> => ({
      name: r.name,
      description: r.description ?? '',
      match: r.match ?? { models: [], segments: {}, features: [], methods: [] },
      condition: r.condition,
      for: r.for,
      resolveAfter: r.resolve_after ?? 1,
      severity: r.severity ?? 'warning',
      labels: r.labels,
      annotations: r.annotations,
      actions: r.actions,
      cooldownMs: r.cooldown ?? 0,
    }),
  );
}

// ---- actions ----

type ActionBody<K extends ActionKind> = Omit<Extract<ActionDefinition, { kind: K }>, 'name' | 'location'>;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the webhook sender writes itself (Standard Webhooks signing, the body's type and size). */
export const RESERVED_HEADERS: ReadonlyArray<string> = ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type', 'content-length', 'host'];

function headers() {
  return z
    .preprocess(
      (v) => (v === null ? {} : v),
      z.record(
        z.string().superRefine((k, ctx) => {
          if (!HEADER_NAME.test(k)) ctx.addIssue({ code: 'custom', message: expected('an HTTP header name', k), input: k });
          else if (RESERVED_HEADERS.includes(k.toLowerCase())) {
            ctx.addIssue({ code: 'custom', message: `${JSON.stringify(k)} is set by driftwatch (${orList(RESERVED_HEADERS)}); remove it`, input: k });
          }
        }),
        // Values are not shown: a header may carry a credential.
        leaf('a header value (a string on one line)', (v) =>
          typeof v === 'string' && !/[\r\n]/.test(v)
            ? v
            : new Reject(`expected a header value (a string on one line), got ${typeof v === 'string' ? 'a string with a line break' : kindOf(v)}`),
        ),
        { error: (iss) => (iss.code === 'invalid_type' ? expected('a mapping of header names to values', iss.input) : undefined) },
      ),
    )
    .optional()
    .transform((v): Readonly<Record<string, string>> => v ?? {});
}

function argoParameters() {
  return z
    .preprocess(
      (v) => (v === null ? {} : v),
      z.record(
        z.string().min(1, { error: () => 'expected a parameter name, got an empty string' }),
        templateText('a string (Argo parameters are strings; templates such as {{ model }} allowed)'),
        { error: (iss) => (iss.code === 'invalid_type' ? expected('a mapping of parameter names to strings', iss.input) : undefined) },
      ),
    )
    .optional()
    .transform((v): Readonly<Record<string, string>> => v ?? {});
}

/** Airflow's own rule for DAG ids. */
const DAG_ID = /^[A-Za-z0-9_.-]{1,250}$/;
/** Kubernetes names: a namespace is a DNS label, a WorkflowTemplate a DNS subdomain. */
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

const kind = <K extends ActionKind>(k: K) => z.literal(k);

/** The schema of each action kind; `kind` is checked (with did-you-mean) before one is chosen. */
export const ACTION_SCHEMAS: { readonly [K in ActionKind]: z.ZodType<ActionBody<K>, unknown> } = {
  slack: z
    .strictObject({ kind: kind('slack'), url_env: envName(), min_interval: duration(MAX_TIMER_MS).optional() })
    .transform((a): ActionBody<'slack'> => ({ kind: 'slack', urlEnv: a.url_env, minIntervalMs: a.min_interval ?? 1000 })),
  webhook: z
    .strictObject({ kind: kind('webhook'), url: httpUrl(), secret_env: envNames(), headers: headers() })
    .transform((a): ActionBody<'webhook'> => ({ kind: 'webhook', url: a.url, secretEnv: a.secret_env, headers: a.headers })),
  alertmanager: z
    .strictObject({ kind: kind('alertmanager'), url: httpUrl(), receiver: text('a receiver name').optional() })
    .transform((a): ActionBody<'alertmanager'> => ({ kind: 'alertmanager', url: a.url, receiver: a.receiver ?? 'driftwatch' })),
  airflow: z
    .strictObject({
      kind: kind('airflow'),
      url: httpUrl(),
      api_version: leaf('2 or 3 (the Airflow major version)', (v) => (v === 2 || v === 3 ? v : undefined)).optional(),
      dag_id: leaf('a DAG id (letters, digits, "_", "." and "-")', (v) => (typeof v === 'string' && DAG_ID.test(v) ? v : undefined)),
      username_env: envName(),
      password_env: envName(),
      conf: templateObject('a mapping (the DAG run conf, templates allowed)'),
    })
    .transform(
      (a): ActionBody<'airflow'> => ({
        kind: 'airflow',
        url: a.url,
        apiVersion: a.api_version ?? 2,
        dagId: a.dag_id,
        usernameEnv: a.username_env,
        passwordEnv: a.password_env,
        conf: a.conf,
      }),
    ),
  kubeflow: z
    .strictObject({
      kind: kind('kubeflow'),
      url: httpUrl(),
      pipeline_id: text('a pipeline id'),
      pipeline_version_id: text('a pipeline version id'),
      experiment_id: z.string({ error: (iss) => expected('an experiment id', iss.input) }).optional(),
      token_env: envName().optional(),
      parameters: templateObject('a mapping (the run parameters, templates allowed)'),
    })
    .transform(
      (a): ActionBody<'kubeflow'> => ({
        kind: 'kubeflow',
        url: a.url,
        pipelineId: a.pipeline_id,
        pipelineVersionId: a.pipeline_version_id,
        experimentId: a.experiment_id ?? '',
        tokenEnv: a.token_env ?? '',
        parameters: a.parameters,
      }),
    ),
  argo: z
    .strictObject({
      kind: kind('argo'),
      url: httpUrl(),
      namespace: leaf('a Kubernetes namespace (lower-case letters, digits and "-")', (v) =>
        typeof v === 'string' && DNS_LABEL.test(v) ? v : undefined,
      ),
      workflow_template: leaf('a WorkflowTemplate name (lower-case letters, digits, "-" and ".")', (v) =>
        typeof v === 'string' && DNS_SUBDOMAIN.test(v) ? v : undefined,
      ),
      token_env: envName().optional(),
      parameters: argoParameters(),
    })
    .transform(
      (a): ActionBody<'argo'> => ({
        kind: 'argo',
        url: a.url,
        namespace: a.namespace,
        workflowTemplate: a.workflow_template,
        tokenEnv: a.token_env ?? '',
        parameters: a.parameters,
      }),
    ),
};

/**
 * Keys that would put a secret in the file, per action kind: an unknown key with one of these names gets this
 * message (and its value is never shown).
 */
export const SECRET_KEY_HINTS: Readonly<Record<ActionKind, Readonly<Record<string, string>>>> = {
  slack: { url: 'url_env', webhook_url: 'url_env' },
  webhook: { secret: 'secret_env', secrets: 'secret_env' },
  alertmanager: {},
  airflow: { username: 'username_env', password: 'password_env', token: 'username_env and password_env' },
  kubeflow: { token: 'token_env' },
  argo: { token: 'token_env' },
};

/** The top level of a rule file. */
export const RULE_FILE_KEYS = ['rules', 'actions'] as const;
