/**
 * Reading alert rules and actions: every `*.yaml` / `*.yml` file of a rules directory (format in
 * `rules/README.md`) into one RuleSet, or one ConfigError listing every problem across all the files, each at its
 * `file:line:col` with the setting's path.
 *
 * Secrets are only named here (`url_env`, `secret_env`, ...); they are read when an action is built.
 * `missingSecrets` lists the named variables that are not set, so the service can warn and still start.
 */
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { ActionDefinition, ActionKind, Rule, RuleSet } from '../rules/types.js';
import { isPlainObject } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { findKeyAt, firstLine, formatPath, Locator, type LocatedIssue, type RawIssue, type Segment } from './locate.js';
import { didYouMean, expected, orList, suggest } from './messages.js';
import { ACTION_KINDS, ACTION_SCHEMAS, NAME_WHAT, RULE_FILE_KEYS, RULE_NAME, ruleSchema, SECRET_KEY_HINTS } from './rules-schema.js';
import { errorMap } from './schema.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A rule file name: `*.yaml` or `*.yml`, not hidden (editors' lock and swap files start with a dot). */
const RULE_FILE = /^[^.].*\.ya?ml$/i;

/**
 * The rule set from every `*.yaml` / `*.yml` file directly in `dir`, read in name order. Locations name files
 * relative to the working directory when they are inside it (`rules/drift.yaml:12:5`), else by absolute path.
 * Throws ConfigError: for a missing directory, one without rule files, or every problem in the files.
 */
export async function loadRuleSet(dir: string, env: Env): Promise<RuleSet> {
  const path = resolve(dir);
  const shownDir = shownPath(path);
  let names: string[];
  try {
    const entries = await readdir(path, { withFileTypes: true });
    names = entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && RULE_FILE.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'rules directory not found'
        : code === 'ENOTDIR'
          ? 'is a file, not a rules directory'
          : `rules directory cannot be read (${code ?? 'error'})`;
    throw new ConfigError([{ location: shownDir, path: '', message: what }]);
  }
  if (names.length === 0) {
    throw new ConfigError([{ location: shownDir, path: '', message: `no rule files (*.yaml or *.yml) in ${shownDir}/` }]);
  }
  const unreadable: ConfigIssue[] = [];
  const files: Array<{ name: string; text: string }> = [];
  for (const name of names) {
    const shown = shownPath(join(path, name));
    try {
      files.push({ name: shown, text: await readFile(join(path, name), 'utf8') });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const message = code === 'EISDIR' ? 'is a directory, not a rule file' : `cannot be read (${code ?? 'error'})`;
      unreadable.push({ location: shown, path: '', message });
    }
  }
  // Rules that refer to actions in an unreadable file would only add follow-on problems.
  if (unreadable.length > 0) throw new ConfigError(unreadable);
  return parseRuleFiles(files, env);
}

/**
 * The rule set from files' texts, in the order given; `name` is how locations name each file. Secrets are only
 * named (see missingSecrets); `env` is read only to expand `${NAME}` / `${NAME:-default}` in action URLs (the same
 * rules run against local and production endpoints). Throws ConfigError with every problem in every file.
 */
export function parseRuleFiles(files: ReadonlyArray<{ readonly name: string; readonly text: string }>, env: Env): RuleSet {
  const issues: Array<{ file: number; issue: LocatedIssue }> = [];
  const rules: Rule[] = [];
  const actions = new Map<string, ActionDefinition>();
  const parsed: ParsedFile[] = [];
  let unreadable = false;

  for (const [index, source] of files.entries()) {
    const file = readYaml(index, source.name, source.text);
    if ('issues' in file) {
      unreadable = true;
      issues.push(...file.issues.map((issue) => ({ file: index, issue })));
      continue;
    }
    parsed.push(file);
    const raw = checkFile(file, rules, actions, env);
    issues.push(...raw.map((r) => ({ file: index, issue: file.locator.locate(r) })));
  }

  for (const { file, raw } of crossChecks(parsed, !unreadable)) {
    issues.push({ file: file.index, issue: file.locator.locate(raw) });
  }

  if (issues.length > 0) {
    const ordered = issues
      .map((x, i) => ({ ...x, i }))
      .sort((a, b) => a.file - b.file || a.issue.rank - b.issue.rank || a.i - b.i)
      .map(({ issue }): ConfigIssue => ({ location: issue.location, path: issue.path, message: issue.message }));
    throw new ConfigError(ordered);
  }
  return { rules, actions, files: files.map((f) => f.name) };
}

/**
 * The secret variables the actions name that are not set (or empty) in `env`, in action order: the service warns
 * and starts; delivering to such an action fails visibly until the variable is set. Values are never read out.
 */
export function missingSecrets(set: RuleSet, env: Env): Array<{ action: string; variable: string; location: string }> {
  const out: Array<{ action: string; variable: string; location: string }> = [];
  for (const action of set.actions.values()) {
    for (const variable of secretVariables(action)) {
      const value = env[variable];
      if (value === undefined || value === '') out.push({ action: action.name, variable, location: action.location });
    }
  }
  return out;
}

/** The environment variables an action reads its secrets from. */
function secretVariables(action: ActionDefinition): string[] {
  switch (action.kind) {
    case 'slack':
      return [action.urlEnv];
    case 'webhook':
      return [...action.secretEnv];
    case 'alertmanager':
      return [];
    case 'airflow':
      return [action.usernameEnv, action.passwordEnv];
    case 'kubeflow':
    case 'argo':
      return action.tokenEnv === '' ? [] : [action.tokenEnv];
  }
}

/** A path as locations show it: relative to the working directory when inside it, else absolute. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? path : rel;
}

interface ParsedFile {
  /** The file's place in the set, for ordering problems. */
  readonly index: number;
  readonly name: string;
  readonly tree: unknown;
  readonly locator: Locator;
}

/** The file's syntax tree and value, or its syntax problems (located). */
function readYaml(index: number, name: string, text: string): ParsedFile | { issues: LocatedIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, merge: true, prettyErrors: true });
  const locator = new Locator({ doc, lines, name }, []);
  const issues: LocatedIssue[] = [];
  for (const e of doc.errors) {
    const offset = e.pos[0];
    if (e.code === 'DUPLICATE_KEY') {
      const key = findKeyAt(doc, offset);
      const message = key ? `duplicate key ${JSON.stringify(String(key[key.length - 1]))}: each key may appear once` : 'duplicate key';
      issues.push(locator.at(offset, key ?? [], message));
    } else {
      issues.push(locator.at(offset, [], firstLine(e.message)));
    }
  }
  if (issues.length > 0) return { issues };
  try {
    return { index, name, tree: doc.toJS({ maxAliasCount: 10_000 }) ?? {}, locator };
  } catch (e) {
    return { issues: [{ location: name, path: '', message: `cannot be read: ${firstLine(String((e as Error).message))}`, rank: 0 }] };
  }
}

/** One file's problems; its valid rules and actions are added to `rules` and `actions` (the first of a name wins). */
function checkFile(file: ParsedFile, rules: Rule[], actions: Map<string, ActionDefinition>, env: Env): RawIssue[] {
  const raw: RawIssue[] = [];
  const tree = file.tree;
  if (!isPlainObject(tree)) {
    raw.push({ path: [], message: expected('a mapping with rules and/or actions', tree) });
    return raw;
  }
  for (const key of Object.keys(tree)) {
    if (!(RULE_FILE_KEYS as ReadonlyArray<string>).includes(key)) {
      raw.push({ path: [key], message: `unknown key${didYouMean(key, RULE_FILE_KEYS) || `; expected ${orList([...RULE_FILE_KEYS])}`}`, atKey: true });
    }
  }

  const ruleItems = tree['rules'] ?? [];
  if (!Array.isArray(ruleItems)) raw.push({ path: ['rules'], message: expected('a list of rules', ruleItems) });
  else {
    const schema = ruleSchema();
    for (const [i, item] of ruleItems.entries()) {
      const base: Segment[] = ['rules', i];
      const knownKeys = new WeakMap<object, ReadonlyArray<string>>();
      const result = schema.safeParse(item, { error: errorMap(knownKeys) });
      if (!result.success) raw.push(...zodIssues(result.error.issues, item, base, knownKeys, {}));
      else rules.push({ ...result.data, location: file.locator.locate({ path: base, message: '' }).location });
    }
  }

  const defs = tree['actions'] ?? {};
  if (!isPlainObject(defs)) raw.push({ path: ['actions'], message: expected('a mapping of action names to actions', defs) });
  else {
    for (const [name, def] of Object.entries(defs)) {
      const base: Segment[] = ['actions', name];
      if (!RULE_NAME.test(name)) raw.push({ path: base, message: expected(`an action name: ${NAME_WHAT}`, name), atKey: true });
      const action = checkAction(def, base, raw, env);
      if (action !== undefined && RULE_NAME.test(name) && !actions.has(name)) {
        actions.set(name, { ...action, name, location: file.locator.locate({ path: base, message: '', atKey: true }).location } as ActionDefinition);
      }
    }
  }
  return raw;
}

type ActionBody = Omit<ActionDefinition, 'name' | 'location'>;

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `${NAME}` and `${NAME:-default}` replaced from `env` (as docker compose does); an unset variable without a
 * default is an error naming it. A `${` that is not a reference is an error too.
 */
export function expandEnv(text: string, env: Env): string | { error: string } {
  const missing: string[] = [];
  const out = text.replace(ENV_REF, (_m, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return '';
  });
  if (missing.length > 0) return { error: `env ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set and the URL gives no default (\${NAME:-default})` };
  if (out.includes('${')) return { error: 'expected ${NAME} or ${NAME:-default} references to environment variables' };
  return out;
}

function checkAction(value: unknown, base: Segment[], raw: RawIssue[], env: Env): ActionBody | undefined {
  if (!isPlainObject(value)) {
    raw.push({ path: base, message: expected(`a mapping with kind (${orList([...ACTION_KINDS])}) and the action's settings`, value) });
    return undefined;
  }
  let def: Record<string, unknown> = value;
  if (typeof def['url'] === 'string' && def['url'].includes('${')) {
    const expanded = expandEnv(def['url'], env);
    if (typeof expanded !== 'string') {
      raw.push({ path: [...base, 'url'], message: expanded.error });
      return undefined;
    }
    def = { ...def, url: expanded };
  }
  const kind = def['kind'];
  if (typeof kind !== 'string' || !(ACTION_KINDS as ReadonlyArray<string>).includes(kind)) {
    const what = orList(ACTION_KINDS.map((k) => JSON.stringify(k)));
    raw.push({ path: [...base, 'kind'], message: expected(what, kind) + (typeof kind === 'string' ? didYouMean(kind, ACTION_KINDS) : '') });
    return undefined;
  }
  const knownKeys = new WeakMap<object, ReadonlyArray<string>>();
  const result = ACTION_SCHEMAS[kind as ActionKind].safeParse(def, { error: errorMap(knownKeys) });
  if (result.success) return result.data as ActionBody;
  raw.push(...zodIssues(result.error.issues, def, base, knownKeys, SECRET_KEY_HINTS[kind as ActionKind]));
  return undefined;
}

/**
 * Zod's issues for a value at `base`; unknown keys get a did-you-mean, or a hint when the key would hold a secret.
 * A key reported missing that an unknown key was suggested for (`dagid` -> `dag_id`) is not reported again.
 */
function zodIssues(
  issues: ReadonlyArray<{ code: string; path: PropertyKey[]; message: string; keys?: string[]; params?: Record<string, unknown> }>,
  value: unknown,
  base: ReadonlyArray<Segment>,
  knownKeys: WeakMap<object, ReadonlyArray<string>>,
  secretHints: Readonly<Record<string, string>>,
): RawIssue[] {
  const raw: RawIssue[] = [];
  const meant = new Set<string>();
  for (const issue of issues) {
    const path = issue.path.map((p): Segment => (typeof p === 'number' ? p : String(p)));
    if (issue.code === 'unrecognized_keys') {
      const holder = valueAt(value, path);
      const known = typeof holder === 'object' && holder !== null ? (knownKeys.get(holder) ?? []) : [];
      for (const key of issue.keys ?? []) {
        const secret = path.length === 0 ? secretHints[key] : undefined;
        const hint = didYouMean(key, known);
        const message =
          secret !== undefined
            ? `secrets are not written in rule files: put it in an environment variable and name that with ${secret}`
            : hint !== ''
              ? `unknown key${hint}`
              : known.length > 0
                ? `unknown key; expected ${orList([...known])}`
                : 'unknown key';
        const instead = secret ?? suggest(key, known);
        if (instead !== undefined) meant.add(formatPath([...path, instead]));
        raw.push({ path: [...base, ...path, key], message, atKey: true });
      }
    } else {
      // Custom issues about a key itself say so with `params.atKey`.
      const atKey = issue.code === 'invalid_key' || issue.params?.['atKey'] === true;
      raw.push({ path: [...base, ...path], message: issue.message, atKey });
    }
  }
  const prefix = base.length;
  return raw.filter((r) => !(r.message.startsWith('missing:') && meant.has(formatPath(r.path.slice(prefix)))));
}

/** What needs every file: names defined twice, actions a rule names that no file defines. */
function crossChecks(files: ReadonlyArray<ParsedFile>, allRead: boolean): Array<{ file: ParsedFile; raw: RawIssue }> {
  const out: Array<{ file: ParsedFile; raw: RawIssue }> = [];
  const ruleNames = new Map<string, Array<{ file: ParsedFile; path: Segment[] }>>();
  const actionNames = new Map<string, Array<{ file: ParsedFile; path: Segment[] }>>();
  const references: Array<{ file: ParsedFile; path: Segment[]; name: string }> = [];

  for (const file of files) {
    if (!isPlainObject(file.tree)) continue;
    const items = file.tree['rules'];
    if (Array.isArray(items)) {
      for (const [i, item] of items.entries()) {
        if (!isPlainObject(item)) continue;
        const name = item['name'];
        if (typeof name === 'string' && RULE_NAME.test(name)) push(ruleNames, name, { file, path: ['rules', i, 'name'] });
        const used = item['actions'];
        if (typeof used === 'string') references.push({ file, path: ['rules', i, 'actions'], name: used });
        else if (Array.isArray(used)) {
          for (const [j, a] of used.entries()) if (typeof a === 'string') references.push({ file, path: ['rules', i, 'actions', j], name: a });
        }
      }
    }
    const defs = file.tree['actions'];
    if (isPlainObject(defs)) for (const name of Object.keys(defs)) push(actionNames, name, { file, path: ['actions', name] });
  }

  for (const [what, names, atKey] of [
    ['rule', ruleNames, false],
    ['action', actionNames, true],
  ] as const) {
    for (const [name, places] of names) {
      if (places.length < 2) continue;
      for (const place of places) {
        const others = places.filter((p) => p !== place).map((p) => p.file.locator.locate({ path: p.path, message: '', atKey }).location);
        const message = `duplicate ${what} name ${JSON.stringify(name)}: also defined at ${others.join(', ')}`;
        out.push({ file: place.file, raw: { path: place.path, message, atKey } });
      }
    }
  }

  // An action defined in a file that could not be parsed is unknown, not undefined: say nothing rather than guess.
  if (allRead) {
    const defined = [...actionNames.keys()];
    for (const ref of references) {
      if (actionNames.has(ref.name) || !RULE_NAME.test(ref.name)) continue;
      const hint = didYouMean(ref.name, defined);
      const message =
        hint !== ''
          ? `undefined action ${JSON.stringify(ref.name)}${hint}`
          : defined.length > 0
            ? `undefined action ${JSON.stringify(ref.name)}; defined actions: ${defined.join(', ')}`
            : `undefined action ${JSON.stringify(ref.name)}: no file defines any actions`;
      out.push({ file: ref.file, raw: { path: ref.path, message } });
    }
  }
  return out;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function valueAt(tree: unknown, path: ReadonlyArray<Segment>): unknown {
  let v = tree;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[String(seg)];
  }
  return v;
}

