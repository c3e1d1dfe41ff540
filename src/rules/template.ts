/**
 * A small mustache-like template renderer for alert annotations, rule labels and action parameters (Airflow `conf`,
 * Kubeflow and Argo parameters). Hand-written and logic-free:
 *
 * - `{{ path }}` inserts a value; `path` is dotted identifiers (`model`, `segment.lot_id`, `window.end`,
 *   `labels.team`) whose first name must be one of {@link TEMPLATE_VARIABLES}.
 * - `{{ path | filter }}` pipes it through filters, chainable left to right: `{{ window.end | date | upper }}`.
 * - Whitespace inside the braces is optional. There are no sections, conditionals or escapes; text outside `{{ }}`
 *   (including a stray `}}`) is copied as is.
 *
 * Rendering never throws: a missing value renders as '' (use `default_dash` for `-`), `null` as '', numbers with
 * `String(n)`, objects and arrays as JSON. Filters given a value they cannot convert (e.g. `date` of `"soon"`) pass
 * it through unchanged.
 */
import type { TemplateValue } from './types.js';

/** The values a template is rendered with: the top-level names of {@link TEMPLATE_VARIABLES}. */
export type TemplateContext = Readonly<Record<string, unknown>>;

/** Top-level names a template may use (the first segment of every `{{ path }}`). */
export const TEMPLATE_VARIABLES: readonly string[] = Object.freeze([
  'model',
  'model_version',
  'rule',
  'severity',
  'status',
  'feature',
  'method',
  'value',
  'score',
  'threshold',
  'segment',
  'window',
  'reference_id',
  'event_id',
  'report_url',
  'labels',
  'alerts_count',
  'features',
  'since',
]);

/** Result of {@link compileTemplate}. */
export type CompiledTemplate =
  | { readonly ok: true; readonly render: (ctx: TemplateContext) => string; readonly variables: string[] }
  | { readonly ok: false; readonly error: string };

type Filter = (value: unknown) => unknown;

/** A time as epoch ms: numbers as they are, strings parsed as dates (ISO 8601); null when not a valid time. */
function toTime(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  return null;
}

/** An ISO 8601 string of a time value, or null when it is not one (or out of Date's range). */
function isoOf(value: unknown): string | null {
  const ms = toTime(value);
  if (ms === null) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A finite number from a number or a numeric string; null otherwise. */
function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null;
}

function timeFilter(format: (iso: string) => string): Filter {
  return (v) => {
    if (isMissing(v)) return v;
    const iso = isoOf(v);
    return iso === null ? v : format(iso);
  };
}

function fixed(digits: number): Filter {
  return (v) => {
    if (isMissing(v)) return v;
    const n = toNumber(v);
    return n === null ? v : n.toFixed(digits);
  };
}

function textCase(upper: boolean): Filter {
  return (v) => {
    if (isMissing(v)) return v;
    const s = stringify(v);
    return upper ? s.toUpperCase() : s.toLowerCase();
  };
}

/** The filters, by name. */
const FILTERS: ReadonlyMap<string, Filter> = new Map<string, Filter>([
  ['date', timeFilter((iso) => iso.slice(0, 10))],
  ['datetime', timeFilter((iso) => iso)],
  ['time', timeFilter((iso) => iso.slice(11, 19))],
  [
    'percent',
    (v) => {
      if (isMissing(v)) return v;
      const n = toNumber(v);
      return n === null ? v : `${(n * 100).toFixed(1)}%`;
    },
  ],
  ['fixed2', fixed(2)],
  ['fixed3', fixed(3)],
  ['fixed4', fixed(4)],
  ['upper', textCase(true)],
  ['lower', textCase(false)],
  ['json', (v) => (v === undefined ? 'null' : JSON.stringify(v) ?? 'null')],
  ['default_dash', (v) => (v === undefined || v === null || v === '' ? '-' : v)],
]);

/** Filter names, in the order error messages list them. */
export const TEMPLATE_FILTERS: readonly string[] = Object.freeze([...FILTERS.keys()]);

/** How a rendered value becomes text: missing and null -> '', strings as is, objects as JSON, the rest `String()`. */
function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value) ?? '';
  return String(value);
}

/** Looks a dotted path up in the context: undefined when any step is missing or not an object. */
function lookup(ctx: TemplateContext, path: readonly string[]): unknown {
  let current: unknown = ctx;
  for (const name of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, name)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}

/** Levenshtein distance (small strings only: variable and filter names). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest candidate within 2 edits (and fewer edits than the name is long), or null. */
function closest(name: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= 2 && bestDistance < name.length ? best : null;
}

/** One piece of a parsed template. */
type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'var'; readonly path: readonly string[]; readonly filters: readonly Filter[]; readonly filterNames: readonly string[] };

const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;
const FILTER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a template into parts, collecting every error (each naming its position). Parsing stops at an unclosed
 * `{{` (nothing after it can be read reliably).
 */
function parse(text: string): { parts: Part[]; errors: string[] } {
  const multiline = text.includes('\n');
  /** `at column C` (1-based), or `at line L, column C` for multi-line text. */
  const at = (offset: number): string => {
    if (!multiline) return `at column ${offset + 1}`;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    return `at line ${line}, column ${column}`;
  };
  const parts: Part[] = [];
  const errors: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open === -1) {
      parts.push({ kind: 'text', text: text.slice(pos) });
      break;
    }
    if (open > pos) parts.push({ kind: 'text', text: text.slice(pos, open) });
    const close = text.indexOf('}}', open + 2);
    if (close === -1) {
      errors.push(`unclosed "{{" ${at(open)}`);
      break;
    }
    const inner = text.slice(open + 2, close);
    const innerStart = open + 2;
    if (inner.trim() === '') {
      errors.push(`empty expression ${at(open)}`);
      pos = close + 2;
      continue;
    }
    // Split on `|`, keeping each piece's offset so messages point at the name itself.
    const pieces: Array<{ text: string; offset: number }> = [];
    let start = 0;
    for (let i = 0; i <= inner.length; i++) {
      if (i === inner.length || inner[i] === '|') {
        const raw = inner.slice(start, i);
        const lead = raw.length - raw.trimStart().length;
        pieces.push({ text: raw.trim(), offset: innerStart + start + (raw.trim() === '' ? 0 : lead) });
        start = i + 1;
      }
    }
    const [head, ...rest] = pieces;
    let valid = true;
    let path: string[] = [];
    if (!head || head.text === '') {
      errors.push(`missing variable ${at(head?.offset ?? innerStart)}`);
      valid = false;
    } else if (!PATH_RE.test(head.text)) {
      errors.push(`invalid variable "${head.text}" ${at(head.offset)} (expected dotted names such as segment.lot_id)`);
      valid = false;
    } else {
      path = head.text.split('.');
      const top = path[0] ?? '';
      if (!TEMPLATE_VARIABLES.includes(top)) {
        const suggestion = closest(top, TEMPLATE_VARIABLES);
        errors.push(
          `unknown variable "${top}" ${at(head.offset)}` +
            (suggestion ? ` (did you mean "${suggestion}"?)` : ` (variables: ${TEMPLATE_VARIABLES.join(', ')})`),
        );
        valid = false;
      }
    }
    const filters: Filter[] = [];
    const filterNames: string[] = [];
    for (const piece of rest) {
      if (piece.text === '') {
        errors.push(`empty filter ${at(piece.offset)}`);
        valid = false;
        continue;
      }
      const filter = FILTER_RE.test(piece.text) ? FILTERS.get(piece.text) : undefined;
      if (!filter) {
        errors.push(`unknown filter "${piece.text}" ${at(piece.offset)} (filters: ${TEMPLATE_FILTERS.join(', ')})`);
        valid = false;
        continue;
      }
      filters.push(filter);
      filterNames.push(piece.text);
    }
    if (valid) parts.push({ kind: 'var', path, filters, filterNames });
    pos = close + 2;
  }
  return { parts, errors };
}

function renderPart(part: Part, ctx: TemplateContext): string {
  if (part.kind === 'text') return part.text;
  let value = lookup(ctx, part.path);
  for (const f of part.filters) value = f(value);
  return stringify(value);
}

/**
 * Compiles a template string. On success, `render` turns a context into text and `variables` lists the distinct
 * dotted paths used (in order of first use). On failure, `error` names every problem with its column (joined with
 * `; `), e.g. `unknown filter "dat" at column 12 (filters: date, datetime, ...)`,
 * `unknown variable "modle" at column 3 (did you mean "model"?)`, `unclosed "{{" at column 5`.
 */
export function compileTemplate(text: string): CompiledTemplate {
  const { parts, errors } = parse(text);
  if (errors.length > 0) return { ok: false, error: errors.join('; ') };
  const variables: string[] = [];
  for (const p of parts) {
    if (p.kind === 'var') {
      const name = p.path.join('.');
      if (!variables.includes(name)) variables.push(name);
    }
  }
  return { ok: true, render: (ctx) => parts.map((p) => renderPart(p, ctx)).join(''), variables };
}

/** Compiled templates by text (rule sets are small and fixed, so the cache stays small; it is reset past a bound). */
const cache = new Map<string, { parts: Part[]; errors: string[] }>();
const CACHE_LIMIT = 2000;

function parsedCached(text: string): { parts: Part[]; errors: string[] } {
  let parsed = cache.get(text);
  if (!parsed) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    parsed = parse(text);
    cache.set(text, parsed);
  }
  return parsed;
}

/** `a.b`, `a[0]`: where a string sits inside a JSON value. */
function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/**
 * Every template error in every string inside a JSON value (arrays and objects walked recursively; object keys are
 * not templates). Messages of nested strings are prefixed with their path inside the value (`conf.lot_id: ...`,
 * `args[1]: ...`); a top-level string's messages have no prefix. Empty when everything compiles.
 */
export function checkTemplateValue(value: TemplateValue): string[] {
  const out: string[] = [];
  const walk = (v: TemplateValue, path: string): void => {
    if (typeof v === 'string') {
      for (const e of parsedCached(v).errors) out.push(path === '' ? e : `${path}: ${e}`);
    } else if (Array.isArray(v)) {
      (v as ReadonlyArray<TemplateValue>).forEach((item, i) => walk(item, joinPath(path, i)));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v as { readonly [k: string]: TemplateValue })) walk(item, joinPath(path, k));
    }
  };
  walk(value, '');
  return out;
}

/** A string that is exactly one placeholder with no filter (surrounding whitespace ignored): its path, else null. */
function singleVariable(text: string): readonly string[] | null {
  const { parts, errors } = parsedCached(text);
  if (errors.length > 0) return null;
  const vars = parts.filter((p) => p.kind === 'var');
  const texts = parts.filter((p) => p.kind === 'text');
  if (vars.length !== 1 || texts.some((p) => p.kind === 'text' && p.text.trim() !== '')) return null;
  const v = vars[0];
  return v && v.kind === 'var' && v.filters.length === 0 ? v.path : null;
}

/**
 * Renders every string inside a JSON value with `ctx` (object keys are left alone; numbers, booleans and null are
 * copied). A string that is exactly one `{{ x }}` without a filter whose value is a finite number or a boolean keeps that
 * type, so `conf: { threshold: "{{ threshold }}" }` renders a number. A string that does not compile (a rule set
 * that skipped its check) is copied unchanged rather than failing the alert.
 */
export function renderTemplateValue(value: TemplateValue, ctx: TemplateContext): TemplateValue {
  if (typeof value === 'string') {
    const single = singleVariable(value);
    if (single) {
      const v = lookup(ctx, single);
      if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return v;
    }
    const { parts, errors } = parsedCached(value);
    if (errors.length > 0) return value;
    return parts.map((p) => renderPart(p, ctx)).join('');
  }
  if (Array.isArray(value)) return (value as ReadonlyArray<TemplateValue>).map((item) => renderTemplateValue(item, ctx));
  if (value !== null && typeof value === 'object') {
    const out: { [k: string]: TemplateValue } = {};
    for (const [k, item] of Object.entries(value as { readonly [k: string]: TemplateValue })) out[k] = renderTemplateValue(item, ctx);
    return out;
  }
  return value;
}

/** Renders one template string (as {@link renderTemplateValue} does for strings, always giving text). */
export function renderTemplateString(text: string, ctx: TemplateContext): string {
  const { parts, errors } = parsedCached(text);
  if (errors.length > 0) return text;
  return parts.map((p) => renderPart(p, ctx)).join('');
}
