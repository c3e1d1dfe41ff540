/**
 * Rules across settings, which the schema cannot say: a hopping window needs a slide, a prediction model a task,
 * a public HTTP address a token. Written against the settings tree as read (not the parsed value), because zod
 * gives no parsed value once any setting is wrong, and a user should get every problem in one report. A setting
 * that is itself invalid is skipped here: the schema already reported it. Model names are checked here as well, so
 * that a model with a bad name still has its settings checked by the schema.
 */
import { formatDuration, parseDuration } from './duration.js';
import { isPlainObject, type Secrets } from './env.js';
import type { RawIssue, Segment } from './locate.js';
import { expected } from './messages.js';
import { MODEL_NAME, MODEL_NAME_WHAT } from './schema.js';

type Tree = Record<string, unknown>;

export function crossChecks(tree: Tree, secrets: Secrets): RawIssue[] {
  const issues: RawIssue[] = [];
  const windows = topLevel(tree['windows']);
  const defaultWindowIssues = windows === undefined ? [] : windowIssues(windows, ['windows']);
  issues.push(...defaultWindowIssues);
  const seen = new Set(defaultWindowIssues.map((i) => `${String(i.path[i.path.length - 1])}\u0000${i.message}`));

  const models = topLevel(tree['models']);
  for (const [name, value] of Object.entries(models ?? {})) {
    if (!MODEL_NAME.test(name)) issues.push({ path: ['models', name], atKey: true, message: expected(MODEL_NAME_WHAT, name) });
    const model = section(value);
    if (model === undefined) continue;
    const base: Segment[] = ['models', name];
    const own = section(model['window']);
    if (own !== undefined && windows !== undefined) {
      // Only what the model's override causes: a problem the defaults already have is reported once, there.
      for (const issue of windowIssues({ ...windows, ...defined(own) }, [...base, 'window'])) {
        if (!seen.has(`${String(issue.path[issue.path.length - 1])}\u0000${issue.message}`)) issues.push(issue);
      }
    }
    issues.push(...modelIssues(model, base));
  }

  const http = topLevel(tree['http']);
  if (http !== undefined && http['enabled'] !== false && secrets.apiToken === null) {
    const host = http['host'] ?? DEFAULT_HOST;
    if (typeof host === 'string' && host.trim() !== '' && !isLoopback(host)) {
      issues.push({
        path: ['http', 'host'],
        message: `${JSON.stringify(host)} is not a loopback address, so the HTTP API needs a token: set env DRIFTWATCH_API_TOKEN, or bind 127.0.0.1`,
      });
    }
  }

  const kafka = topLevel(tree['kafka']);
  if (kafka !== undefined && isPlainObject(kafka['sasl']) && secrets.kafkaSaslPassword === null) {
    issues.push({ path: ['kafka', 'sasl'], message: 'SASL needs a password: set env KAFKA_SASL_PASSWORD' });
  }
  return issues;
}

export const DEFAULT_HOST = '127.0.0.1';

export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || h === 'ip6-localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The problems of one (effective) window setting. */
function windowIssues(w: Tree, base: ReadonlyArray<Segment>): RawIssue[] {
  const issues: RawIssue[] = [];
  const type = w['type'] ?? 'tumbling';
  const at = (key: string): Segment[] => [...base, key];
  if (type === 'hopping') {
    if (w['slide'] === undefined || w['slide'] === null) {
      issues.push({
        path: at('slide'),
        related: [at('type')],
        message: 'hopping windows need a slide: how far each window starts after the previous one, e.g. slide: 1m',
      });
    } else {
      const slide = durationOf(w['slide']);
      const size = durationOf(w['size'] ?? '5m');
      if (slide !== undefined && size !== undefined && slide > size) {
        issues.push({
          path: at('slide'),
          related: [at('size')],
          message: `the slide (${formatDuration(slide)}) must not be longer than the window size (${formatDuration(size)})`,
        });
      }
    }
  }
  if (type === 'count' && (w['count'] === undefined || w['count'] === null)) {
    issues.push({
      path: at('count'),
      related: [at('type')],
      message: 'count windows need count: the number of records in each window, e.g. count: 10000',
    });
  }
  return issues;
}

function modelIssues(model: Tree, base: ReadonlyArray<Segment>): RawIssue[] {
  const issues: RawIssue[] = [];
  const at = (...keys: Segment[]): Segment[] => [...base, ...keys];
  const kind = model['kind'] ?? 'telemetry';
  const task = model['task'];
  const hasTask = task !== undefined && task !== null;
  if (kind === 'prediction' && !hasTask) {
    issues.push({ path: at('task'), related: [at('kind')], message: 'prediction models need a task: classification or regression' });
  }
  if (kind === 'telemetry' && hasTask) {
    issues.push({ path: at('task'), message: 'task applies only to prediction models (kind: prediction)' });
  }
  const label = model['positive_label'];
  if (label !== undefined && label !== null && kind === 'prediction' && task === 'regression') {
    issues.push({ path: at('positive_label'), message: 'positive_label applies only to classification models' });
  } else if (label !== undefined && label !== null && kind === 'telemetry') {
    issues.push({ path: at('positive_label'), message: 'positive_label applies only to prediction models (kind: prediction, task: classification)' });
  }
  const features = section(model['features']);
  const segmentBy = typeof model['segment_by'] === 'string' ? [model['segment_by']] : model['segment_by'];
  if (features !== undefined && Array.isArray(segmentBy)) {
    segmentBy.forEach((field: unknown, i) => {
      if (typeof field === 'string' && Object.hasOwn(features, field)) {
        issues.push({
          path: at('segment_by', i),
          related: [at('features', field)],
          message: `${JSON.stringify(field)} is a segment field, so it cannot also be a feature (features.${field})`,
        });
      }
    });
  }
  return issues;
}

/** A mapping, with null read as empty (`kafka:` with nothing under it); undefined for anything else. */
function section(v: unknown): Tree | undefined {
  if (v === null) return {};
  return isPlainObject(v) ? v : undefined;
}

/** A top-level section: absent or null reads as empty. */
function topLevel(v: unknown): Tree | undefined {
  return v === undefined ? {} : section(v);
}

function defined(o: Tree): Tree {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function durationOf(v: unknown): number | undefined {
  if (v === 0) return 0;
  if (typeof v !== 'string') return undefined;
  return parseDuration(v) ?? undefined;
}
