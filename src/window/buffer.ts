/**
 * A window's rows, column by column: a growable Float64Array per number column, dictionary codes (Int32Array) per
 * category column, and the event times. No object per value; appending is amortised O(1) per value.
 *
 * A buffer is a plain value: `snapshotBuffer` turns it into JSON-safe data and `restoreBuffer` back, so window state
 * can be written out and rebuilt.
 */
import type { Column, Table } from '../core/table.js';
import type { FeatureValue } from '../core/stream.js';

/** How a feature is held: numbers, or text (booleans as 'true'/'false'). Follows the reference's storage. */
export interface BufferColumnSpec {
  readonly name: string;
  readonly kind: 'number' | 'category';
  /** Number columns: integers in the source (kept on the window's column). */
  readonly integer?: boolean;
  /** Category columns: what the source held. */
  readonly dtype?: 'string' | 'boolean';
}

interface NumberBuffer {
  readonly kind: 'number';
  values: Float64Array;
  /**
   * A table holds a view of `values` (see bufferTable): a row already in it must not be written in place (a label
   * joined after a report would change the report's table), so `setValue` copies the column first.
   */
  shared: boolean;
}

interface CategoryBuffer {
  readonly kind: 'category';
  codes: Int32Array;
  /** Code -> value; code -1 is missing. */
  readonly dictionary: string[];
  readonly lookup: Map<string, number>;
}

type AnyBuffer = NumberBuffer | CategoryBuffer;

export interface RowBuffer {
  readonly columns: ReadonlyArray<BufferColumnSpec>;
  /**
   * One per column, same order. A number column of categorical type can meet a value that is not a number (a new
   * category such as "B2"): then that column turns into text for good, its numbers becoming their decimal strings.
   */
  buffers: AnyBuffer[];
  ts: Float64Array;
  length: number;
}

const INITIAL_CAPACITY = 64;

export function createBuffer(columns: ReadonlyArray<BufferColumnSpec>, capacity = INITIAL_CAPACITY): RowBuffer {
  return {
    columns,
    buffers: columns.map((c) => emptyColumn(c.kind, capacity)),
    ts: new Float64Array(capacity),
    length: 0,
  };
}

function emptyColumn(kind: 'number' | 'category', capacity: number): AnyBuffer {
  return kind === 'number'
    ? { kind: 'number', values: new Float64Array(capacity), shared: false }
    : { kind: 'category', codes: new Int32Array(capacity), dictionary: [], lookup: new Map() };
}

function grow(buf: RowBuffer, need: number): void {
  let cap = buf.ts.length;
  if (need <= cap) return;
  while (cap < need) cap *= 2;
  const ts = new Float64Array(cap);
  ts.set(buf.ts.subarray(0, buf.length));
  buf.ts = ts;
  for (const b of buf.buffers) {
    if (b.kind === 'number') {
      const v = new Float64Array(cap);
      v.set(b.values.subarray(0, buf.length));
      b.values = v;
      b.shared = false;
    } else {
      const c = new Int32Array(cap);
      c.set(b.codes.subarray(0, buf.length));
      b.codes = c;
    }
  }
}

function codeOf(b: CategoryBuffer, value: string): number {
  let code = b.lookup.get(value);
  if (code === undefined) {
    code = b.dictionary.length;
    b.dictionary.push(value);
    b.lookup.set(value, code);
  }
  return code;
}

/** Turns a number column into text (see RowBuffer.buffers), keeping every value already in it. */
function toText(buf: RowBuffer, i: number): CategoryBuffer {
  const old = buf.buffers[i] as NumberBuffer;
  const cat = emptyColumn('category', buf.ts.length) as CategoryBuffer;
  for (let r = 0; r < buf.length; r++) {
    const v = old.values[r]!;
    cat.codes[r] = Number.isNaN(v) ? -1 : codeOf(cat, String(v));
  }
  buf.buffers[i] = cat;
  return cat;
}

/**
 * Appends one row. `values` holds the record's features by name (a missing key is a missing value). Values were
 * type-checked while decoding: numbers for numerical features; strings, booleans or numbers for categorical ones.
 */
export function appendRow(buf: RowBuffer, ts: number, values: Readonly<Record<string, FeatureValue>>): void {
  const row = buf.length;
  grow(buf, row + 1);
  buf.ts[row] = ts;
  let writeRow = rowWriters.get(buf.columns);
  if (writeRow === undefined) {
    // Windows restored from a snapshot have column lists of their own: one writer per set of names.
    const signature = JSON.stringify(buf.columns.map((c) => c.name));
    writeRow = writersByNames.get(signature);
    if (writeRow === undefined) {
      writeRow = rowWriter(buf.columns);
      if (writersByNames.size >= MAX_CACHED_WRITERS) writersByNames.clear();
      writersByNames.set(signature, writeRow);
    }
    rowWriters.set(buf.columns, writeRow);
  }
  writeRow(buf, row, values, write);
  buf.length = row + 1;
}

type RowWriter = (buf: RowBuffer, row: number, values: Readonly<Record<string, FeatureValue>>, put: typeof write) => void;

/** Compiled row writers, per column list (a model's columns are one array shared by all its windows). */
const rowWriters = new WeakMap<ReadonlyArray<BufferColumnSpec>, RowWriter>();
const writersByNames = new Map<string, RowWriter>();
const MAX_CACHED_WRITERS = 1000;

/**
 * Writes a row's values column by column. Up to MAX_COMPILED_COLUMNS columns the reads are compiled into one
 * function with each name as a constant key, so every read is a monomorphic property load on the decoder's
 * records (all built by one object literal per model, see decode.ts) instead of a lookup by a varying key. The
 * names enter the source only as JSON string literals. A name that Object.prototype also has (`constructor`,
 * `toString`, ...) is read only when the record itself has it, as in the generic loop.
 */
function rowWriter(columns: ReadonlyArray<BufferColumnSpec>): RowWriter {
  if (columns.length > MAX_COMPILED_COLUMNS) return genericWriter(columns);
  const lines = columns.map((c, i) => {
    const key = JSON.stringify(c.name);
    const read = c.name in Object.prototype ? `(Object.hasOwn(v, ${key}) ? (v[${key}] ?? null) : null)` : `(v[${key}] ?? null)`;
    return `put(buf, ${i}, row, ${read});`;
  });
  try {
    return new Function('buf', 'row', 'v', 'put', lines.join('\n')) as RowWriter;
  } catch {
    // Code generation disabled (--disallow-code-generation-from-strings).
    return genericWriter(columns);
  }
}

function genericWriter(columns: ReadonlyArray<BufferColumnSpec>): RowWriter {
  return (buf, row, values, put) => {
    for (let i = 0; i < columns.length; i++) {
      const name = columns[i]!.name;
      put(buf, i, row, Object.hasOwn(values, name) ? (values[name] ?? null) : null);
    }
  };
}

const MAX_COMPILED_COLUMNS = 1000;

/** Writes one value into column `i` at `row` (see appendRow for what each kind of column takes). */
function write(buf: RowBuffer, i: number, row: number, v: FeatureValue): void {
  let b = buf.buffers[i]!;
  if (b.kind === 'number') {
    if (v === null) b.values[row] = NaN;
    else if (typeof v === 'number') b.values[row] = v;
    else if (typeof v === 'boolean') b.values[row] = v ? 1 : 0;
    else {
      const x = v.trim() === '' ? NaN : Number(v);
      if (Number.isNaN(x)) {
        b = toText(buf, i);
        b.codes[row] = codeOf(b, v);
      } else b.values[row] = x;
    }
  } else {
    b.codes[row] = v === null || v === '' ? -1 : codeOf(b, String(v));
  }
}

/**
 * Sets one value of a row already in the buffer (a label that arrived after its prediction). A number column a table
 * was taken from is copied first (copy on write: one column, once per table taken), so that table keeps its values.
 */
export function setValue(buf: RowBuffer, row: number, column: string, value: FeatureValue): boolean {
  const i = buf.columns.findIndex((c) => c.name === column);
  if (i < 0 || row < 0 || row >= buf.length) return false;
  const b = buf.buffers[i]!;
  if (b.kind === 'number' && b.shared) {
    b.values = b.values.slice();
    b.shared = false;
  }
  write(buf, i, row, value);
  return true;
}

/**
 * The buffer's rows as a Table (the shape every evaluation takes). Number columns are views of the buffer: later
 * appends never change rows already taken, and `setValue` copies a column before it changes a row of it, so a table
 * taken at a window's close keeps its content while late rows and labels arrive.
 */
export function bufferTable(buf: RowBuffer, source: string): Table {
  const n = buf.length;
  const columns: Column[] = buf.columns.map((spec, i) => {
    const b = buf.buffers[i]!;
    if (b.kind === 'number') {
      b.shared = true;
      return { kind: 'number', name: spec.name, values: b.values.subarray(0, n), integer: spec.integer ?? false };
    }
    const values = new Array<string | null>(n);
    for (let r = 0; r < n; r++) {
      const c = b.codes[r]!;
      values[r] = c < 0 ? null : b.dictionary[c]!;
    }
    return { kind: 'category', name: spec.name, values, dtype: spec.kind === 'category' ? (spec.dtype ?? 'string') : 'string' };
  });
  return { source, rowCount: n, columns };
}

/** Smallest and largest event time in the buffer (NaN when empty). */
export function timeRange(buf: RowBuffer): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < buf.length; r++) {
    const t = buf.ts[r]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return buf.length === 0 ? { min: NaN, max: NaN } : { min, max };
}

/** JSON-safe form of a buffer (numbers as arrays with null for NaN; ±inf as strings). */
export interface BufferSnapshot {
  readonly columns: ReadonlyArray<BufferColumnSpec>;
  readonly ts: number[];
  readonly data: Array<{ readonly numbers: Array<number | string | null> } | { readonly codes: number[]; readonly dictionary: string[] }>;
}

function encodeNumber(x: number): number | string | null {
  return Number.isNaN(x) ? null : Number.isFinite(x) ? x : x > 0 ? 'inf' : '-inf';
}

function decodeNumber(x: number | string | null): number {
  return x === null ? NaN : x === 'inf' ? Infinity : x === '-inf' ? -Infinity : Number(x);
}

export function snapshotBuffer(buf: RowBuffer): BufferSnapshot {
  const n = buf.length;
  return {
    columns: buf.columns,
    ts: Array.from(buf.ts.subarray(0, n)),
    data: buf.buffers.map((b) =>
      b.kind === 'number'
        ? { numbers: Array.from(b.values.subarray(0, n), encodeNumber) }
        : { codes: Array.from(b.codes.subarray(0, n)), dictionary: [...b.dictionary] },
    ),
  };
}

export function restoreBuffer(s: BufferSnapshot): RowBuffer {
  const n = s.ts.length;
  const buf = createBuffer(s.columns, Math.max(INITIAL_CAPACITY, n));
  buf.ts.set(s.ts);
  s.data.forEach((d, i) => {
    if ('numbers' in d) {
      const b: NumberBuffer = { kind: 'number', values: new Float64Array(buf.ts.length), shared: false };
      d.numbers.forEach((x, r) => (b.values[r] = decodeNumber(x)));
      buf.buffers[i] = b;
    } else {
      const b = emptyColumn('category', buf.ts.length) as CategoryBuffer;
      for (const v of d.dictionary) codeOf(b, v);
      b.codes.set(d.codes);
      buf.buffers[i] = b;
    }
  });
  buf.length = n;
  return buf;
}
