/**
 * Where a problem is: a setting's path mapped back to `file:line:col` through the YAML syntax tree, or to the
 * environment variable that set it.
 */
import { isAlias, isMap, isScalar, isSeq, Scalar, type Alias, type Document, type LineCounter, type Node } from 'yaml';
import { expected } from './messages.js';
import type { ConfigIssue } from './errors.js';

export type Segment = string | number;

/** A problem before it is located. */
export interface RawIssue {
  readonly path: ReadonlyArray<Segment>;
  readonly message: string;
  /** Other settings the problem involves, tried in order when `path` itself is neither in the file nor from env. */
  readonly related?: ReadonlyArray<ReadonlyArray<Segment>>;
  /** Point at the key rather than its value (unknown keys, bad map keys). */
  readonly atKey?: boolean;
  /** Already known (problems with an environment variable itself). */
  readonly location?: string;
}

/** A setting written by an environment variable: everything under `path` comes from `name`. */
export interface EnvSource {
  readonly path: ReadonlyArray<string>;
  readonly name: string;
}

/** A located issue with its sort key: file positions first, in file order, then env, then the rest. */
export interface LocatedIssue extends ConfigIssue {
  readonly rank: number;
}

/** `models.press-qa.window.size`, `rolling_references[0].schedule`. */
export function formatPath(path: ReadonlyArray<Segment>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export const ENV_RANK = 1e15;
const FILE_RANK = 2e15;
const DEFAULTS_RANK = 3e15;

export class Locator {
  constructor(
    private readonly file: { readonly doc: Document; readonly lines: LineCounter; readonly name: string } | null,
    private readonly sources: ReadonlyArray<EnvSource>,
  ) {}

  /** A ConfigIssue for a problem at a position in the file (YAML syntax errors). */
  at(offset: number, path: ReadonlyArray<Segment>, message: string): LocatedIssue {
    return { ...this.position(offset), path: formatPath(path), message };
  }

  locate(issue: RawIssue): LocatedIssue {
    const path = formatPath(issue.path);
    if (issue.location !== undefined) return { location: issue.location, path, message: issue.message, rank: ENV_RANK };
    const candidates = [issue.path, ...(issue.related ?? [])];
    for (const [i, candidate] of candidates.entries()) {
      const env = this.envFor(candidate);
      if (env !== undefined) return { location: `env ${env}`, path, message: issue.message, rank: ENV_RANK };
      const found = this.find(candidate);
      if (found?.exact === true) {
        const node = i === 0 && issue.atKey === true ? (found.key ?? found.value) : (found.value ?? found.key);
        if (node?.range) return { ...this.position(node.range[0]), path, message: issue.message };
      }
    }
    // Not in the file as such (a missing setting): the nearest enclosing key that is.
    const found = this.find(issue.path);
    const node = found?.key ?? found?.value;
    if (node?.range) return { ...this.position(node.range[0]), path, message: issue.message };
    if (this.file !== null) return { location: this.file.name, path, message: issue.message, rank: FILE_RANK };
    return { location: 'defaults', path, message: issue.message, rank: DEFAULTS_RANK };
  }

  private position(offset: number): { location: string; rank: number } {
    if (this.file === null) return { location: 'defaults', rank: DEFAULTS_RANK };
    const { line, col } = this.file.lines.linePos(offset);
    return { location: `${this.file.name}:${line}:${col}`, rank: offset };
  }

  /** The last env variable that wrote this setting or one enclosing it. */
  private envFor(path: ReadonlyArray<Segment>): string | undefined {
    for (let i = this.sources.length - 1; i >= 0; i--) {
      const s = this.sources[i]!;
      if (s.path.length <= path.length && s.path.every((seg, j) => seg === String(path[j]))) return s.name;
    }
    return undefined;
  }

  /**
   * The nodes at `path` (`exact`), or the deepest enclosing pair found on the way. A scalar reached before the end
   * counts as exact: a value the schema turned into a list (`telemetry: topic` read as `[topic]`) is that scalar.
   */
  private find(path: ReadonlyArray<Segment>): { exact: boolean; key?: Node; value?: Node } | null {
    if (this.file === null) return null;
    const { doc } = this.file;
    let value: unknown = doc.contents;
    let key: Node | undefined;
    for (const seg of path) {
      const resolved = isAlias(value) ? value.resolve(doc) : value;
      if (isMap(resolved)) {
        // The last one: with a duplicate key (itself reported), the value read is the last one.
        const pair = resolved.items.findLast((p) => keyText(p.key) === String(seg));
        if (pair === undefined) return key === undefined ? null : { exact: false, key };
        key = isNode(pair.key) ? pair.key : key;
        value = pair.value;
      } else if (isSeq(resolved) && typeof seg === 'number') {
        const item = resolved.items[seg];
        if (item === undefined) return key === undefined ? null : { exact: false, key };
        key = isNode(item) ? item : key;
        value = item;
      } else if (isScalar(resolved)) {
        break;
      } else {
        return key === undefined ? null : { exact: false, key };
      }
    }
    const out: { exact: boolean; key?: Node; value?: Node } = { exact: true };
    if (key !== undefined) out.key = key;
    // `slide:` with nothing after it has no value node worth pointing at; its key is the place.
    if (isNode(value) && !(isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1])) out.value = value;
    return out;
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function isNode(x: unknown): x is Node {
  return isScalar(x) || isMap(x) || isSeq(x) || isAlias(x);
}

/** The path of the map key that starts at `offset` (where the YAML parser reports a duplicate key). */
export function findKeyAt(doc: Document, offset: number): Segment[] | undefined {
  const walk = (node: unknown, path: Segment[]): Segment[] | undefined => {
    if (node === null || typeof node !== 'object') return undefined;
    const n = node as { items?: unknown[] };
    if (!Array.isArray(n.items)) return undefined;
    for (const [i, item] of n.items.entries()) {
      const pair = item as { key?: { range?: [number, number, number]; value?: unknown }; value?: unknown };
      if (pair !== null && typeof pair === 'object' && 'key' in pair && 'value' in pair) {
        const key = String(pair.key?.value ?? pair.key);
        if (pair.key?.range?.[0] === offset) return [...path, key];
        const found = walk(pair.value, [...path, key]);
        if (found) return found;
      } else {
        const found = walk(item, [...path, i]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(doc.contents, []);
}

/** A problem at a place in the YAML syntax tree (an alias or merge key the library would fail on without a place). */
export interface NodeProblem {
  readonly offset: number;
  readonly path: ReadonlyArray<Segment>;
  readonly message: string;
}

const MERGE_WHAT = 'a mapping, an alias of one, or a list of them (after the merge key <<)';

/**
 * Finds the aliases without an anchor before them (`*nope`) and the merge keys whose value is not a mapping
 * (`<<: 5`), which the YAML library reports only when the document is turned into values, without a place, and
 * which would hide every other problem. Each one becomes a problem, and the document is repaired so that the rest
 * can still be read and checked: an unusable alias reads as null, an unusable merge key is dropped.
 */
export function takeBrokenReferences(doc: Document): NodeProblem[] {
  const problems: NodeProblem[] = [];
  const unresolved = (alias: Alias, path: ReadonlyArray<Segment>): boolean => {
    if (alias.resolve(doc) !== undefined) return false;
    problems.push({
      offset: alias.range?.[0] ?? 0,
      path,
      message: `unknown alias *${alias.source}: no anchor &${alias.source} before it (an anchor must come before its aliases)`,
    });
    return true;
  };
  /** A merge source: a mapping, or an alias of one. */
  const mergeSourceOk = (node: unknown, path: ReadonlyArray<Segment>): boolean => {
    if (isAlias(node) && unresolved(node, path)) return false;
    const source = isAlias(node) ? node.resolve(doc) : node;
    if (isMap(source)) return true;
    const offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
    problems.push({ offset, path, message: expected(MERGE_WHAT, isScalar(source) ? source.value : isSeq(source) ? [] : source) });
    return false;
  };
  /** A merge key's value: a source, or a list of sources (directly or through an alias). */
  const mergeOk = (value: unknown, path: ReadonlyArray<Segment>): boolean => {
    const list = isAlias(value) ? value.resolve(doc) : value;
    if (!isSeq(list)) return mergeSourceOk(value, path);
    return list.items.map((item, i) => mergeSourceOk(item, [...path, i])).every(Boolean);
  };
  /** The node to keep in place of `node`: itself, or null for an alias without an anchor. */
  const walk = (node: unknown, path: Segment[]): unknown => {
    if (isAlias(node)) return unresolved(node, path) ? Object.assign(new Scalar(null), { range: node.range }) : node;
    if (isMap(node)) {
      node.items = node.items.filter((pair) => {
        const key = pair.key;
        if (isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<') {
          // An unusable merge key is dropped, so the rest of the mapping is still read.
          if (!mergeOk(pair.value, [...path, '<<'])) return false;
          pair.value = walk(pair.value, [...path, '<<']);
          return true;
        }
        const name = isScalar(key) ? String(key.value) : isAlias(key) ? `*${key.source}` : '?';
        pair.key = walk(key, [...path, name]);
        pair.value = walk(pair.value, [...path, name]);
        return true;
      });
      return node;
    }
    if (isSeq(node)) node.items = node.items.map((item, i) => walk(item, [...path, i]));
    return node;
  };
  doc.contents = walk(doc.contents, []) as typeof doc.contents;
  return problems;
}

/** The YAML library's message without its position and source excerpt (the location says where). */
export function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?\s*$/, '');
}
