/**
 * Environment overrides, applied over the file before validation so env values are checked like file values:
 * - named variables (`CLICKHOUSE_URL`, `KAFKA_BROKERS`, ...; see NAMED_ENV), which win over everything;
 * - `DRIFTWATCH__A__B__C=value` for any setting `a.b.c` (names lower-cased; the value read as a YAML flow scalar
 *   or flow collection: `1m`, `[a, b]`, `{type: hopping, size: 10m, slide: 1m}`, `null`).
 * An empty variable counts as unset. Secrets are never written into the settings tree: they are read separately
 * (secretsFromEnv), so no message about the tree can show one.
 */
import { isCollection, parseDocument } from 'yaml';
import type { EnvSource, RawIssue } from './locate.js';
import { expected } from './messages.js';
import { SECRET_KEYS } from './schema.js';

type Env = Readonly<Record<string, string | undefined>>;

interface NamedEnv {
  readonly name: string;
  readonly path: ReadonlyArray<string>;
  /** `string`: taken as is; `list`: comma-separated; `yaml`: read like a generic override (numbers). */
  readonly kind: 'string' | 'list' | 'yaml';
}

export const NAMED_ENV: ReadonlyArray<NamedEnv> = [
  { name: 'DRIFTWATCH_DATA_DIR', path: ['store', 'data_dir'], kind: 'string' },
  { name: 'CLICKHOUSE_URL', path: ['store', 'clickhouse_url'], kind: 'string' },
  { name: 'CLICKHOUSE_USER', path: ['store', 'user'], kind: 'string' },
  { name: 'CLICKHOUSE_DATABASE', path: ['store', 'database'], kind: 'string' },
  { name: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], kind: 'list' },
  { name: 'KAFKA_GROUP_ID', path: ['kafka', 'group_id'], kind: 'string' },
  { name: 'DRIFTWATCH_HTTP_HOST', path: ['http', 'host'], kind: 'string' },
  { name: 'DRIFTWATCH_HTTP_PORT', path: ['http', 'port'], kind: 'yaml' },
];

export const GENERIC_PREFIX = 'DRIFTWATCH__';

export interface Secrets {
  readonly clickhousePassword: string | null;
  readonly kafkaSaslPassword: string | null;
  readonly apiToken: string | null;
}

export function secretsFromEnv(env: Env): Secrets {
  const get = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v === '' ? null : v;
  };
  return {
    clickhousePassword: get('CLICKHOUSE_PASSWORD'),
    kafkaSaslPassword: get('KAFKA_SASL_PASSWORD'),
    apiToken: get('DRIFTWATCH_API_TOKEN'),
  };
}

/**
 * Writes the overrides into `tree` (the file's settings, a plain object) and returns which variable wrote what,
 * for locating problems. Problems with a variable itself go to `issues`.
 */
export function applyEnv(tree: Record<string, unknown>, env: Env, issues: RawIssue[]): EnvSource[] {
  const sources: EnvSource[] = [];
  const generic = Object.keys(env)
    .filter((name) => name.startsWith(GENERIC_PREFIX))
    .sort();
  for (const name of generic) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const location = `env ${name}`;
    const segments = name.slice(GENERIC_PREFIX.length).split('__').map((s) => s.toLowerCase());
    if (segments.some((s) => s === '')) {
      issues.push({ path: [], location, message: `expected ${GENERIC_PREFIX}<SECTION>__<KEY>[__<KEY>...], e.g. ${GENERIC_PREFIX}WINDOWS__SIZE` });
      continue;
    }
    const parent = segments.slice(0, -1).join('.');
    const secret = SECRET_KEYS.find((s) => s.parent === parent && s.keys.includes(segments[segments.length - 1]!));
    if (secret !== undefined) {
      issues.push({ path: segments, location, message: secret.message });
      continue;
    }
    const value = parseEnvValue(text);
    if (value instanceof EnvValueError) {
      issues.push({ path: segments, location, message: value.message });
      continue;
    }
    set(tree, segments, value, name, sources, issues);
  }
  for (const named of NAMED_ENV) {
    const text = env[named.name];
    if (text === undefined || text === '') continue;
    let value: unknown = text;
    if (named.kind === 'list') {
      value = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    } else if (named.kind === 'yaml') {
      const parsed = parseEnvValue(text);
      value = parsed instanceof EnvValueError ? text : parsed;
    }
    set(tree, named.path, value, named.name, sources, issues);
  }
  const noBroker = noBrokerIssue(tree, env, sources);
  if (noBroker !== undefined) issues.push(noBroker);
  return sources;
}

/**
 * A variable that sets `kafka.brokers` must name at least one: `KAFKA_BROKERS=","` (or `[]`, `null`) is a slip, and
 * taken as is it would turn Kafka off silently, whatever the file says.
 */
function noBrokerIssue(tree: Record<string, unknown>, env: Env, sources: ReadonlyArray<EnvSource>): RawIssue | undefined {
  const kafka = tree['kafka'];
  if (!isPlainObject(kafka) || !Object.hasOwn(kafka, 'brokers')) return undefined;
  const target = ['kafka', 'brokers'];
  const writer = sources.findLast((s) => s.path.length <= target.length && s.path.every((seg, i) => seg === target[i]));
  if (writer === undefined) return undefined;
  const brokers = kafka['brokers'];
  const none =
    brokers === null || (Array.isArray(brokers) && brokers.length === 0) || (typeof brokers === 'string' && brokers.split(',').every((b) => b.trim() === ''));
  if (!none) return undefined;
  const how = writer.name === 'KAFKA_BROKERS' ? ' (comma-separated)' : '';
  return { path: target, location: `env ${writer.name}`, message: expected(`at least one broker as host:port${how}`, env[writer.name]) };
}

class EnvValueError {
  constructor(readonly message: string) {}
}

/**
 * A variable's value as YAML: a flow scalar (`1m`, `8080`, `true`, `null`, `"quoted"`) or a flow collection
 * (`[a, b]`, `{k: v}`). Text that would read as a block collection (`a: b`, `- a`) is taken as a plain string.
 */
function parseEnvValue(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The YAML message quotes the text; the variable might hold something private, so it is not repeated.
    return new EnvValueError('cannot be read as a YAML value; quote it ("...") if it is a string, or check the brackets of a [list] or {mapping}');
  }
  const contents = doc.contents;
  if (isCollection(contents) && !contents.flow) return text;
  return doc.toJS();
}

function set(
  tree: Record<string, unknown>,
  path: ReadonlyArray<string>,
  value: unknown,
  name: string,
  sources: EnvSource[],
  issues: RawIssue[],
): void {
  let node = tree;
  const written: string[] = [];
  for (const [i, seg] of path.entries()) {
    // Match an existing key regardless of case, so DRIFTWATCH__MODELS__PRESSQA__... reaches a model `PressQA`.
    const key = Object.keys(node).find((k) => k.toLowerCase() === seg.toLowerCase()) ?? seg;
    written.push(key);
    if (i === path.length - 1) {
      node[key] = value;
      break;
    }
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined || next === null) {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    } else if (isPlainObject(next)) {
      node = next;
    } else {
      issues.push({
        path: path.slice(0, i + 1),
        location: `env ${name}`,
        message: `cannot set ${path.join('.')}: ${written.join('.')} is not a mapping`,
      });
      return;
    }
  }
  sources.push({ path: written, name });
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
