/** Wording shared by the config checks: how a received value is shown, and "did you mean" hints. */
import { quoteValue } from '../core/errors.js';

/** A received value as a message shows it: strings quoted and cut, collections by kind only. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : quoteValue(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** `expected <what>, got <value>`; `missing: expected <what>` when there is no value at all. */
export function expected(what: string, value: unknown, hint?: string): string {
  const base = value === undefined ? `missing: expected ${what}` : `expected ${what}, got ${describeValue(value)}`;
  return hint === undefined ? base : `${base} (${hint})`;
}

/** `; did you mean "x"?` or nothing. */
export function didYouMean(input: string, candidates: ReadonlyArray<string>): string {
  const s = suggest(input, candidates);
  return s === undefined ? '' : `; did you mean ${JSON.stringify(s)}?`;
}

/**
 * The candidate the user most likely meant: the same name in another spelling (`dataDir`, `data-dir` for
 * `data_dir`), else the closest within an edit distance of 2 (and less than the candidate's length, so a short
 * key does not match everything).
 */
export function suggest(input: string, candidates: ReadonlyArray<string>): string | undefined {
  const normal = normalize(input);
  const same = candidates.find((c) => normalize(c) === normal);
  if (same !== undefined && same !== input) return same;
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    if (c === input) continue;
    const d = levenshtein(normal, normalize(c));
    if (d < bestDistance && d < c.length) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function normalize(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[-\s]/g, '_');
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** `a, b or c`. */
export function orList(items: ReadonlyArray<string>): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
