/**
 * Reading the service configuration: find the file, parse the YAML, apply the environment, validate (the store's
 * own variables too: retention, retries, request timeout), and either return the full config or throw one
 * ConfigError listing every problem with its place.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { storeEnvProblems } from '../store/config.js';
import { buildConfig } from './build.js';
import { crossChecks } from './checks.js';
import { applyEnv, isPlainObject, secretsFromEnv } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { ENV_RANK, findKeyAt, firstLine, formatPath, Locator, takeBrokenReferences, type EnvSource, type LocatedIssue, type RawIssue, type Segment } from './locate.js';
import { didYouMean, orList } from './messages.js';
import { configSchema, errorMap, SECRET_KEYS } from './schema.js';
import type { DriftwatchConfig } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** An explicit config file (relative to `cwd`); it must exist. */
  readonly file?: string;
  readonly env: Env;
  readonly cwd: string;
  /** The drift method names this build knows (`evaluation.method` is `auto` or one of them). */
  readonly methods: ReadonlyArray<string>;
}

export const DEFAULT_CONFIG_FILE = 'driftwatch.yaml';

/**
 * The config from, in order: `file`; else the file named by env DRIFTWATCH_CONFIG; else `<cwd>/driftwatch.yaml`
 * when it exists; else no file (defaults and env only). `file` in the result is the absolute path read, or null.
 * A file that is named but missing is an error; so is every problem in it (all reported in one ConfigError).
 */
export async function loadConfig(o: LoadOptions): Promise<{ config: DriftwatchConfig; file: string | null }> {
  const fromEnv = o.env['DRIFTWATCH_CONFIG'];
  const named = o.file !== undefined && o.file !== '' ? o.file : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  if (named !== undefined) {
    const path = resolve(o.cwd, named);
    const text = await readConfigFile(path, named, named === o.file ? undefined : 'DRIFTWATCH_CONFIG');
    return { config: parseConfig(text ?? '', named, o.env, o.methods, o.cwd), file: path };
  }
  const path = join(o.cwd, DEFAULT_CONFIG_FILE);
  const text = await readConfigFile(path, DEFAULT_CONFIG_FILE, null);
  if (text === undefined) return { config: configFrom(null, o.env, o.methods, o.cwd), file: null };
  return { config: parseConfig(text, DEFAULT_CONFIG_FILE, o.env, o.methods, o.cwd), file: path };
}

/**
 * The file's text; undefined when an optional file (`via` null) does not exist. `via` names the variable that named
 * the file, for the message.
 */
async function readConfigFile(path: string, shown: string, via: string | undefined | null): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && via === null) return undefined;
    const named = via ? ` (named by env ${via})` : '';
    const what =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError([{ location: shown, path: '', message: `${what}${named}` }]);
  }
}

/**
 * The config from a file's text. `fileName` is how locations name the file (`driftwatch.yaml:12:5`); relative
 * paths in the file (`store.data_dir`) resolve against `cwd`. Throws ConfigError with every problem found.
 */
export function parseConfig(text: string, fileName: string, env: Env, methods: ReadonlyArray<string>, cwd: string = process.cwd()): DriftwatchConfig {
  return configFrom({ text, name: fileName }, env, methods, cwd);
}

function configFrom(source: { text: string; name: string } | null, env: Env, methods: ReadonlyArray<string>, cwd: string): DriftwatchConfig {
  let file: { doc: Document; lines: LineCounter; name: string } | null = null;
  let tree: unknown = {};
  const located: LocatedIssue[] = [];
  // The store's own variables (retention, retries, request timeout) are checked here too, so a run reports them
  // with the file's problems instead of failing on them later, after its start-up banner.
  for (const p of storeEnvProblems(env, didYouMean)) located.push({ location: `env ${p.name}`, path: '', message: p.message, rank: ENV_RANK });
  /** Where an unusable alias stood: problems of the null read in its place would only repeat it. */
  const broken: Array<ReadonlyArray<Segment>> = [];
  if (source !== null) {
    const lines = new LineCounter();
    const doc = parseDocument(source.text, { lineCounter: lines, uniqueKeys: true, merge: true, prettyErrors: true });
    file = { doc, lines, name: source.name };
    const syntax = new Locator(file, []);
    let fatal = false;
    for (const e of doc.errors) {
      const offset = e.pos[0];
      if (e.code === 'DUPLICATE_KEY') {
        const key = findKeyAt(doc, offset);
        located.push(syntax.at(offset, key ?? [], key ? `duplicate key ${JSON.stringify(String(key[key.length - 1]))}: each key may appear once` : 'duplicate key'));
      } else if (e.code === 'MULTIPLE_DOCS') {
        fatal = true;
        located.push(syntax.at(offset, [], 'a second YAML document starts here: the file must hold one document (remove the "---" line, or join the documents)'));
      } else {
        fatal = true;
        located.push(syntax.at(offset, [], firstLine(e.message)));
      }
    }
    // Settings read from a file that is not valid YAML would only add confusing follow-on problems.
    if (fatal) throw new ConfigError(sorted(located));
    for (const p of takeBrokenReferences(doc)) {
      located.push(syntax.at(p.offset, p.path, p.message));
      broken.push(p.path);
    }
    try {
      tree = doc.toJS({ maxAliasCount: 10_000 }) ?? {};
    } catch (e) {
      throw new ConfigError([{ location: source.name, path: '', message: `cannot be read: ${firstLine(String((e as Error).message))}` }]);
    }
  }

  const raw: RawIssue[] = [];
  let sources: EnvSource[] = [];
  if (isPlainObject(tree)) sources = applyEnv(tree, env, raw);
  const secrets = secretsFromEnv(env);
  const knownKeys = new WeakMap<object, ReadonlyArray<string>>();
  const parsed = configSchema(methods).safeParse(tree, { error: errorMap(knownKeys) });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((p): Segment => (typeof p === 'number' ? p : String(p)));
      if (issue.code === 'unrecognized_keys') raw.push(...unknownKeyIssues(tree, path, issue.keys, knownKeys));
      else raw.push({ path, message: issue.message, atKey: issue.code === 'invalid_key' });
    }
  }
  if (isPlainObject(tree)) raw.push(...crossChecks(tree, secrets));

  const locator = new Locator(file, sources);
  const followOn = (r: RawIssue) => r.location === undefined && broken.some((b) => isUnder(r.path, b));
  located.push(...raw.filter((r) => !followOn(r)).map((r) => locator.locate(r)));
  if (located.length > 0) throw new ConfigError(sorted(located));
  if (!parsed.success) throw new Error('config schema failed without an issue'); // unreachable: every failure has an issue
  return buildConfig(parsed.data, secrets, cwd);
}

/** Whether `path` is `prefix` or a setting inside it. */
function isUnder(path: ReadonlyArray<Segment>, prefix: ReadonlyArray<Segment>): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => String(seg) === String(path[i]));
}

function unknownKeyIssues(
  tree: unknown,
  parent: ReadonlyArray<Segment>,
  keys: ReadonlyArray<string>,
  knownKeys: WeakMap<object, ReadonlyArray<string>>,
): RawIssue[] {
  const holder = valueAt(tree, parent);
  const known = typeof holder === 'object' && holder !== null ? (knownKeys.get(holder) ?? []) : [];
  const parentPath = formatPath(parent);
  return keys.map((key) => {
    const secret = SECRET_KEYS.find((s) => s.parent === parentPath && s.keys.includes(key));
    const hint = didYouMean(key, known);
    const message =
      secret !== undefined ? secret.message : hint !== '' ? `unknown key${hint}` : known.length > 0 ? `unknown key; expected ${orList(known)}` : 'unknown key';
    return { path: [...parent, key], message, atKey: true };
  });
}

function valueAt(tree: unknown, path: ReadonlyArray<Segment>): unknown {
  let v = tree;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[String(seg)];
  }
  return v;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorted(issues: ReadonlyArray<LocatedIssue>): ConfigIssue[] {
  return [...issues]
    .map((issue, i) => ({ issue, i }))
    // Env problems (all one rank) by variable name, so the report does not depend on the schema's key order.
    .sort((a, b) => a.issue.rank - b.issue.rank || (a.issue.rank === ENV_RANK ? compareText(a.issue.location, b.issue.location) : 0) || a.i - b.i)
    .map(({ issue }) => ({ location: issue.location, path: issue.path, message: issue.message }));
}
