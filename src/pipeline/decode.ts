/**
 * Decode and validate: a source message's bytes (JSON, NDJSON or Arrow IPC) into the records of the models the
 * service knows, and everything else into dead-letter drafts with a precise reason (design.md, "Data contracts").
 *
 * One bad record never costs its neighbours: each NDJSON line, JSON array item and Arrow row is judged on its own,
 * and the first problem found in it becomes its one dead letter. Only a body that cannot be split into records at
 * all (a JSON document that does not parse, bytes that are not Arrow IPC) sets `bodyError`.
 *
 * Arrow rows: features and segment fields are flat columns, or the children of a `features` / `segment` struct
 * column when the batch has one (the JSON layout, whose top-level keys are not features).
 *
 * Value rules, shared by every format (an Arrow row is judged exactly like the JSON object it would be):
 * - numerical features: a number (also non-finite: JSON overflow like 1e999, or the bare NaN / Infinity /
 *   -Infinity tokens Python's json.dumps writes, and the strings "NaN" / "Infinity" / "-Infinity" that
 *   src/files/ndjson.ts accepts) or null. Anything else is `wrong_type`.
 * - categorical features: a string or boolean as is; a number becomes its JavaScript decimal string (`String(n)`);
 *   null and "NaN" are missing (as in src/files/ndjson.ts). Objects and arrays are `wrong_type`.
 * - features the schema does not name are ignored; schema features the record lacks are null.
 * - `ts`: epoch milliseconds, or ISO-8601 with a zone (`Z`, `+01:00`, `+0100`, `+01`); anything else, including a
 *   zone-less local time whose meaning depends on the machine, is `bad_timestamp`. Models on processing time take
 *   the message's `receivedAt` and ignore `ts` (it may be absent).
 *
 * Speed: each NDJSON line is cut from the bytes with a native `indexOf`. The common record (one object of scalars,
 * "model" before "features") is read from the bytes by the scanner of `json-record.ts`; any other goes to
 * `JSON.parse`, with the same verdict. The schema of each model is compiled once (a WeakMap keyed by the schema
 * object) into arrays the per-record loop walks. Nothing in the loop allocates a closure. A JSON syntax error is
 * located by a separate checker that runs only on the failing text, because V8's messages do not always give a
 * position and may quote the whole input.
 */
import { DataType, RecordBatchReader, TimeUnit, type Int, type RecordBatch, type Struct, type Vector } from 'apache-arrow';
import { quoteValue } from '../core/errors.js';
import { checkIpcStream } from '../files/ipc-check.js';
import { hasBom, jsonArrayItems } from '../files/json-array.js';
import type { EpochMs } from '../core/store.js';
import type { FeatureValue, LabelRecord, RecordKind, SourceMessage, StreamRecord } from '../core/stream.js';
import { FieldTable, JsonRecordScanner, type TopFields } from './json-record.js';

export interface ModelSchema {
  readonly model: string;
  readonly kind: RecordKind;
  /** Fields of the record's `segment` (Arrow: columns) that key its windows, e.g. `['lot_id']`. */
  readonly segmentBy: readonly string[];
  readonly features: ReadonlyMap<string, 'numerical' | 'categorical'>;
  readonly time: 'event' | 'processing';
}

export interface DecodeLimits {
  /** A single NDJSON line or JSON record (array item, or the whole body for one object) larger than this is refused. */
  readonly maxRecordBytes: number;
  /** Event time may be at most this far ahead of `now`... */
  readonly maxFutureMs: number;
  /** ...and at most this far behind it. */
  readonly maxPastMs: number;
  /** Refused records of one message that get a dead letter each (default MAX_DEAD_LETTERS_PER_MESSAGE). */
  readonly maxDeadLettersPerMessage?: number;
}

/**
 * Refused records of one message that get a dead letter of their own; the others share one more dead letter
 * (`more_refused`) that counts them and carries the whole message. A 16 MiB body of bad lines would otherwise make
 * millions of letters, each held in memory, stored and published, from one request.
 */
export const MAX_DEAD_LETTERS_PER_MESSAGE = 1000;

/** Why a record was refused: every reason code a dead letter can carry. */
export const DEAD_REASON_CODES = [
  'bad_json',
  'bad_arrow',
  'not_an_object',
  'missing_model',
  'unknown_model',
  'missing_timestamp',
  'bad_timestamp',
  'timestamp_in_future',
  'timestamp_too_old',
  'wrong_type',
  'bad_segment',
  'missing_prediction',
  'bad_status',
  'bad_label',
  'oversized',
  /** The refused records of a message beyond its first MAX_DEAD_LETTERS_PER_MESSAGE, together (payload: the message). */
  'more_refused',
  /** Used by the window stage (a record behind the watermark beyond the allowed lateness), not by decoding. */
  'late',
] as const;

export type DeadReasonCode = (typeof DEAD_REASON_CODES)[number];

export interface DeadLetterDraft {
  /** `msg.origin`, plus `:line N` (NDJSON), `:item N` (JSON array) or `:row N` (Arrow), 1-based. */
  readonly origin: string;
  /** The model the record names; '' when it names none (or could not be read). */
  readonly model: string;
  readonly reasonCode: DeadReasonCode;
  readonly reason: string;
  /** The record's original bytes (an Arrow row: the row as JSON text). */
  readonly payload: Uint8Array;
  /** The refused records this letter stands for: 1, or more for `more_refused`. */
  readonly records?: number;
}

export interface Decoded {
  readonly records: StreamRecord[];
  readonly labels: LabelRecord[];
  readonly dead: DeadLetterDraft[];
  /** Set when the body as a whole could not be read (it then also has one dead letter, the whole body). */
  readonly bodyError?: string;
}

export function decodeMessage(
  msg: SourceMessage,
  schemaOf: (model: string) => ModelSchema | undefined,
  limits: DecodeLimits,
  now: number,
  options: { readonly fastJson?: boolean } = {},
): Decoded {
  const decoder = new MessageDecoder(schemaOf, limits, now, options.fastJson ?? true);
  decoder.decode(msg);
  const { records, labels, dead, bodyError } = decoder;
  return bodyError === undefined ? { records, labels, dead } : { records, labels, dead, bodyError };
}

/**
 * Decodes the messages of one batch one after another with one decoder (its scratch arrays and its cache of
 * model plans are made once, not per message). What `decode` returns is the decoder's own state: read it before
 * the next call.
 */
export function batchDecoder(
  schemaOf: (model: string) => ModelSchema | undefined,
  limits: DecodeLimits,
  now: number,
): { decode(msg: SourceMessage): Readonly<Decoded> } {
  const decoder = new MessageDecoder(schemaOf, limits, now);
  return {
    decode(msg) {
      decoder.decode(msg);
      return decoder;
    },
  };
}

/** A model's schema as the per-record loop wants it: plain arrays. */
interface Plan {
  readonly model: string;
  readonly kind: RecordKind;
  readonly processingTime: boolean;
  readonly featureNames: readonly string[];
  readonly numerical: readonly boolean[];
  readonly segmentBy: readonly string[];
  /** A feature or segment field named `__proto__` cannot be set by assignment. */
  readonly protoKey: boolean;
  /** Builds a record's features object from its checked values in plan order (see `featuresMaker`). */
  readonly makeFeatures: (values: ReadonlyArray<FeatureValue>) => Record<string, FeatureValue>;
  /** The names as the JSON fast path matches them against a record's keys. */
  readonly featureTable: FieldTable;
  readonly segmentTable: FieldTable;
}

/**
 * A function that builds the features object of a model's records from their values in plan order. For up to
 * MAX_LITERAL_FEATURES names it is compiled once per schema into a single object literal (`{"f00": v[0], ...}`),
 * which V8 builds from a boilerplate with every property in place: several times faster than adding the
 * properties one by one, which made building this object the costliest step of decoding. The names enter the
 * generated source only as JSON string literals, so no name can change what the code does. A `__proto__` name
 * (which a literal would take for the prototype) and very wide schemas use the property-by-property loop.
 */
function featuresMaker(names: readonly string[]): (values: ReadonlyArray<FeatureValue>) => Record<string, FeatureValue> {
  const byProperty = (values: ReadonlyArray<FeatureValue>): Record<string, FeatureValue> => {
    const features: Record<string, FeatureValue> = {};
    for (let j = 0; j < names.length; j++) define(features, names[j]!, values[j]!);
    return features;
  };
  if (names.includes('__proto__') || names.length > MAX_LITERAL_FEATURES) return byProperty;
  const body = `return { ${names.map((name, j) => `${JSON.stringify(name)}: v[${j}]`).join(', ')} };`;
  try {
    return new Function('v', body) as (values: ReadonlyArray<FeatureValue>) => Record<string, FeatureValue>;
  } catch {
    // Code generation disabled (--disallow-code-generation-from-strings): the same object, slower.
    return byProperty;
  }
}

/** Wider schemas build their features objects property by property (a literal that large gains nothing). */
const MAX_LITERAL_FEATURES = 1000;

const plans = new WeakMap<ModelSchema, Plan>();

function planOf(schema: ModelSchema): Plan {
  let plan = plans.get(schema);
  if (plan === undefined) {
    const featureNames = [...schema.features.keys()];
    const segmentBy = [...schema.segmentBy];
    plan = {
      model: schema.model,
      kind: schema.kind,
      processingTime: schema.time === 'processing',
      featureNames,
      numerical: featureNames.map((name) => schema.features.get(name) === 'numerical'),
      segmentBy,
      protoKey: featureNames.includes('__proto__') || schema.segmentBy.includes('__proto__'),
      makeFeatures: featuresMaker(featureNames),
      featureTable: new FieldTable(featureNames),
      segmentTable: new FieldTable(segmentBy),
    };
    plans.set(schema, plan);
  }
  return plan;
}

/** Returned by the value checks when a value is refused (the reason is then in the decoder's fields). */
const REFUSED = Symbol('refused');
type Refused = typeof REFUSED;

const EMPTY_SEGMENT: Readonly<Record<string, string>> = Object.freeze({});
const NEWLINE = 10;
const CR = 13;
const SPACE = 32;
const EMPTY = new Uint8Array(0);
const TAB = 9;
const OPEN_BRACKET = 91;
const QUOTE = 34;
const BACKSLASH = 92;

/** One message's decoding: outputs, and the failure of the record being judged. */
class MessageDecoder {
  readonly records: StreamRecord[] = [];
  readonly labels: LabelRecord[] = [];
  readonly dead: DeadLetterDraft[] = [];
  bodyError: string | undefined;

  private msg!: SourceMessage;
  private bytes!: Buffer;
  private readonly planCache = new Map<string, Plan | null>();
  private readonly scanner = new JsonRecordScanner<Plan>();
  /** The record's top-level fields; the JSON fast path fills this object itself. */
  private readonly top: TopFields = this.scanner.top;
  /** Raw feature and segment values of the record being judged, in plan order (reused: no array per record). */
  private rawFeatures: unknown[] = [];
  private rawSegment: unknown[] = [];
  /** A record's checked feature values, in plan order (reused across records). */
  private values: FeatureValue[] = [];
  /** Set by `fail`: what was wrong with the record being judged. */
  private code: DeadReasonCode = 'bad_json';
  private reason = '';
  /** The model the record being judged names ('' until known). */
  private model = '';
  /** Refused records of this message past the dead-letter limit: how many, by code, where, and their model. */
  private readonly more = { count: 0, codes: new Map<DeadReasonCode, number>(), first: '', last: '', model: '' as string | null };
  private readonly maxDead: number;
  private readonly scanPlan = (model: string): Plan | null => this.planFor(model);

  constructor(
    private readonly schemaOf: (model: string) => ModelSchema | undefined,
    private readonly limits: DecodeLimits,
    private readonly now: number,
    /** False: every JSON record goes through JSON.parse (the tests' reference for the fast path). */
    private readonly fastJson = true,
  ) {
    this.maxDead = limits.maxDeadLettersPerMessage ?? MAX_DEAD_LETTERS_PER_MESSAGE;
  }

  /** Decodes one message into `records`, `labels`, `dead` and `bodyError` (emptied first). */
  decode(msg: SourceMessage): void {
    this.records.length = 0;
    this.labels.length = 0;
    this.dead.length = 0;
    this.bodyError = undefined;
    this.more.count = 0;
    this.more.codes.clear();
    this.msg = msg;
    const v = msg.value;
    this.bytes = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (msg.format === 'ndjson') this.ndjson();
    else if (msg.format === 'json') this.json();
    else this.arrow();
    if (this.more.count > 0) this.moreRefused();
  }

  // ---- formats ----

  ndjson(): void {
    const buf = this.bytes;
    const n = buf.length;
    let start = hasBom(buf) ? 3 : 0;
    let line = 0;
    while (start < n) {
      let next = buf.indexOf(NEWLINE, start);
      if (next === -1) next = n;
      line++;
      let end = next;
      if (end > start && buf[end - 1] === CR) end--;
      let first = start;
      while (first < end && isSpace(buf[first]!)) first++;
      if (first < end) this.text(start, end, 'line', line);
      start = next + 1;
    }
  }

  json(): void {
    const buf = this.bytes;
    const n = buf.length;
    let i = hasBom(buf) ? 3 : 0;
    while (i < n && isSpaceOrNewline(buf[i]!)) i++;
    if (buf[i] === OPEN_BRACKET) {
      this.jsonArray(i);
      return;
    }
    if (n > this.limits.maxRecordBytes) {
      this.deadLetter('', 'oversized', oversizedReason(n, this.limits.maxRecordBytes), this.msg.origin, buf);
      return;
    }
    const scanned = this.scanned(i, n);
    if (scanned !== undefined) {
      if (!scanned) this.deadLetter(this.model, this.code, this.reason, this.msg.origin, buf);
      return;
    }
    const text = buf.toString('utf8', i, n);
    const value = parseJson(text);
    if (value === REFUSED) {
      const reason = jsonSyntaxError(text);
      this.bodyError = `the body is ${reason}`;
      this.deadLetter('', 'bad_json', reason, this.msg.origin, buf);
      return;
    }
    if (!this.value(value)) this.deadLetter(this.model, this.code, this.reason, this.msg.origin, buf);
  }

  /**
   * A JSON array, split into items by a structural scan of the bytes (strings and nesting), so that each item is
   * parsed on its own: a syntax error inside one item is that item's dead letter, and the others go on. Only an
   * array that never closes, or text after it, makes the whole body unreadable.
   */
  private jsonArray(open: number): void {
    const buf = this.bytes;
    const n = buf.length;
    const { items, close } = jsonArrayItems(buf, open);
    const closed = close !== -1;
    let i = closed ? close + 1 : n;
    while (i < n && isSpaceOrNewline(buf[i]!)) i++;
    if (!closed || i < n) {
      const found = jsonSyntaxError(buf.toString('utf8'));
      const reason = found === 'not valid JSON' && !closed ? 'not valid JSON: the array is never closed' : found;
      this.bodyError = `the body is ${reason}`;
      this.deadLetter('', 'bad_json', reason, this.msg.origin, buf);
      return;
    }
    for (let k = 0; k < items.length; k += 2) this.text(items[k]!, items[k + 1]!, 'item', k / 2 + 1);
  }

  arrow(): void {
    const buf = this.bytes;
    const batches: Array<{ batch: RecordBatch; columns: BatchColumns }> = [];
    try {
      // Sizes the bytes cannot back are refused before apache-arrow, which trusts them, allocates for them.
      const shape = checkIpcStream(buf);
      if ('error' in shape) throw new Error(shape.error);
      // Every stream of the body, when several were written one after the other. The columns are read here, before
      // any row is judged, because apache-arrow may only fail when a column is read (corrupted bodies that pass the
      // bounds check can: the fuzz in the tests found one).
      for (const reader of RecordBatchReader.readAll(buf)) {
        for (const batch of reader) batches.push({ batch, columns: batchColumns(batch) });
      }
    } catch (e) {
      const reason = `not an Arrow IPC stream: ${oneLine(e instanceof Error ? e.message : String(e))}`;
      this.bodyError = `the body is ${reason}`;
      this.deadLetter('', 'bad_arrow', reason, this.msg.origin, buf);
      return;
    }
    let rowBase = 0;
    for (const { batch, columns } of batches) {
      this.arrowBatch(batch, columns, rowBase);
      rowBase += batch.numRows;
    }
  }

  // ---- JSON records ----

  /** One NDJSON line or JSON array item: bytes [start, end). */
  private text(start: number, end: number, unit: 'line' | 'item', index: number): void {
    if (end - start > this.limits.maxRecordBytes) {
      const reason = oversizedReason(end - start, this.limits.maxRecordBytes);
      this.deadLetter('', 'oversized', reason, `${this.msg.origin}:${unit} ${index}`, this.bytes.subarray(start, end));
      return;
    }
    const scanned = this.scanned(start, end);
    if (scanned !== undefined) {
      if (!scanned) {
        const origin = `${this.msg.origin}:${unit} ${index}`;
        this.deadLetter(this.model, this.code, this.reason, origin, this.bytes.subarray(start, end));
      }
      return;
    }
    const text = this.bytes.toString('utf8', start, end);
    // Past the dead-letter limit, text the syntax checker refuses skips JSON.parse, whose thrown error costs about
    // 5 us: a body of millions of bad lines would hold the event loop for a minute. (The checker is strict JSON, so
    // text with Python's bare NaN or Infinity, which parseJson takes, is left to parseJson.)
    const hopeless = this.full && !text.includes('NaN') && !text.includes('Infinity') && jsonSyntaxError(text) !== NO_SYNTAX_ERROR;
    const value = hopeless ? REFUSED : parseJson(text);
    if (value === REFUSED) {
      // Locating the error costs a second pass over the text; past the dead-letter limit nobody reads it.
      const reason = start === end ? 'not valid JSON: the item is empty' : this.full ? 'not valid JSON' : jsonSyntaxError(text);
      this.deadLetter('', 'bad_json', reason, `${this.msg.origin}:${unit} ${index}`, this.bytes.subarray(start, end));
      return;
    }
    if (!this.value(value)) {
      const origin = `${this.msg.origin}:${unit} ${index}`;
      this.deadLetter(this.model, this.code, this.reason, origin, this.bytes.subarray(start, end));
    }
  }

  /**
   * Judges the record in bytes [start, end) as read by the fast path: true or false as `value` would, undefined
   * when the fast path gave up and the record must go through JSON.parse.
   */
  private scanned(start: number, end: number): boolean | undefined {
    if (!this.fastJson) return undefined;
    const scanner = this.scanner;
    const plan = scanner.scan(this.bytes, start, end, this.scanPlan);
    if (plan === null) return undefined;
    const kind = this.kindOf(plan);
    if (kind !== 'label') {
      const features = plan.featureNames.length;
      const by = plan.segmentBy.length;
      // A missing or malformed segment: JSON.parse's value gives the reason.
      if (by > 0 && !scanner.segmentObject) return undefined;
      const raw = this.scratch(features, by);
      for (let j = 0; j < features; j++) raw[j] = scanner.features[j];
      for (let j = 0; j < by; j++) this.rawSegment[j] = scanner.segment[j];
    }
    return this.accept(plan, kind, scanner.ts);
  }

  /** Judges one parsed JSON value; false (with the failure in `code`/`reason`) when it is not a good record. */
  private value(value: unknown): boolean {
    this.model = '';
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail('not_an_object', `expected a JSON object, found ${describe(value)}`);
    }
    const obj = value as Record<string, unknown>;
    const plan = this.planFor(obj.model);
    if (plan === null) return false;
    const top = this.top;
    top.id = obj.id;
    top.modelVersion = obj.model_version;
    top.prediction = obj.prediction;
    top.label = obj.label;
    top.status = obj.status;
    const kind = this.kindOf(plan);
    if (kind !== 'label') {
      if (!this.gatherJson(obj.features, obj.segment, plan)) return false;
    }
    return this.accept(plan, kind, obj.ts);
  }

  /** Copies the record's feature and segment values into the raw arrays, in plan order. */
  private gatherJson(features: unknown, segment: unknown, plan: Plan): boolean {
    const names = plan.featureNames;
    const raw = this.scratch(names.length, plan.segmentBy.length);
    if (features === undefined || features === null) {
      for (let j = 0; j < names.length; j++) raw[j] = undefined;
    } else if (typeof features !== 'object' || Array.isArray(features)) {
      return this.fail('wrong_type', `"features" must be an object, found ${describe(features)}`);
    } else {
      const f = features as Record<string, unknown>;
      for (let j = 0; j < names.length; j++) {
        const name = names[j]!;
        raw[j] = Object.hasOwn(f, name) ? f[name] : undefined;
      }
    }
    const by = plan.segmentBy;
    if (by.length === 0) return true;
    if (segment === undefined || segment === null || typeof segment !== 'object' || Array.isArray(segment)) return this.noSegment(plan, segment);
    const s = segment as Record<string, unknown>;
    const rawSegment = this.rawSegment;
    for (let j = 0; j < by.length; j++) {
      const name = by[j]!;
      rawSegment[j] = Object.hasOwn(s, name) ? s[name] : undefined;
    }
    return true;
  }

  /** A segmented model's record whose `segment` is absent or not an object. */
  private noSegment(plan: Plan, segment: unknown): false {
    const what = segment === undefined ? 'the record has no "segment"' : `"segment" is ${describe(segment)}`;
    return this.fail('bad_segment', `model ${quoteValue(plan.model)} is segmented by ${plan.segmentBy.map((b) => JSON.stringify(b)).join(', ')}, but ${what}`);
  }

  // ---- Arrow records ----

  /** The rows of one batch, whose columns' values are `read`. */
  private arrowBatch(batch: RecordBatch, read: BatchColumns, rowBase: number): void {
    const fields = batch.schema.fields;
    const { values: columns, index } = read;
    // Features and segment fields come from a struct column of that name when there is one (the JSON layout, where
    // top-level keys are not features), else from the flat columns.
    const featureIndex = read.nested.get('features') ?? index;
    const segmentIndex = read.nested.get('segment') ?? index;
    const segments = read.nested.has('segment') ? columns[index.get('segment')!] : undefined;
    const column = (name: string): unknown[] | undefined => {
      const c = index.get(name);
      return c === undefined ? undefined : columns[c];
    };
    const models = column('model');
    const ts = column('ts');
    const ids = column('id');
    const versions = column('model_version');
    const predictions = column('prediction');
    const labels = column('label');
    const statuses = column('status');
    // Column positions of each model's features and segment fields in this batch (-1: absent).
    const layouts = new Map<Plan, { features: Int32Array; segment: Int32Array }>();
    const top = this.top;
    for (let r = 0; r < batch.numRows; r++) {
      this.model = '';
      const plan = this.planFor(models === undefined ? undefined : models[r]);
      let ok = plan !== null;
      if (plan !== null) {
        top.id = ids?.[r];
        top.modelVersion = versions?.[r];
        top.prediction = predictions?.[r];
        top.label = labels?.[r];
        top.status = statuses?.[r];
        const kind = this.kindOf(plan);
        if (kind !== 'label') {
          let layout = layouts.get(plan);
          if (layout === undefined) {
            layout = {
              features: Int32Array.from(plan.featureNames, (name) => featureIndex.get(name) ?? -1),
              segment: Int32Array.from(plan.segmentBy, (name) => segmentIndex.get(name) ?? -1),
            };
            layouts.set(plan, layout);
          }
          const raw = this.scratch(layout.features.length, layout.segment.length);
          for (let j = 0; j < layout.features.length; j++) {
            const c = layout.features[j]!;
            raw[j] = c === -1 ? undefined : columns[c]![r];
          }
          for (let j = 0; j < layout.segment.length; j++) {
            const c = layout.segment[j]!;
            this.rawSegment[j] = c === -1 ? undefined : columns[c]![r];
          }
        }
        // A null segment struct is `"segment": null`, judged where the JSON object's would be.
        ok = segments !== undefined && segments[r] === null && kind !== 'label' && plan.segmentBy.length > 0 ? this.noSegment(plan, null) : this.accept(plan, kind, ts?.[r]);
      }
      if (!ok) {
        const origin = `${this.msg.origin}:row ${rowBase + r + 1}`;
        if (this.full) this.deadLetter(this.model, this.code, this.reason, origin, EMPTY);
        else {
          const row = Object.fromEntries(fields.map((f, c) => [f.name, columns[c]![r]]));
          this.deadLetter(this.model, this.code, this.reason, origin, Buffer.from(JSON.stringify(row, jsonSafe)));
        }
      }
    }
  }

  // ---- shared judgement ----

  /** The plan of the model a record names, or null with the failure set. */
  private planFor(model: unknown): Plan | null {
    if (typeof model !== 'string' || model === '') {
      const why = model === undefined ? 'the record has no "model"' : `"model" must be a non-empty string, found ${describe(model)}`;
      this.fail('missing_model', why);
      return null;
    }
    this.model = model;
    let plan = this.planCache.get(model);
    if (plan === undefined) {
      const schema = this.schemaOf(model);
      plan = schema === undefined ? null : planOf(schema);
      this.planCache.set(model, plan);
    }
    if (plan === null) this.fail('unknown_model', `unknown model ${quoteValue(model)}: no schema is configured for it`);
    return plan;
  }

  private kindOf(plan: Plan): RecordKind | 'label' {
    return this.msg.kind ?? plan.kind;
  }

  /**
   * Builds the record from the top fields, the raw arrays (filled by the format) and `rawTs`; false with the
   * failure set when a value is refused. Checks run in contract order: time, segment, features, prediction fields.
   */
  private accept(plan: Plan, kind: RecordKind | 'label', rawTs: unknown): boolean {
    const ts = this.timestamp(rawTs, plan);
    if (ts === REFUSED) return false;
    const top = this.top;
    if (kind === 'label') return this.acceptLabel(plan, ts);

    let segment = EMPTY_SEGMENT;
    const by = plan.segmentBy;
    if (by.length > 0) {
      const s: Record<string, string> = {};
      for (let j = 0; j < by.length; j++) {
        const v = this.rawSegment[j];
        let text: string;
        if (typeof v === 'string' && v !== '') text = v;
        else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
        else {
          const what = v === undefined || v === null ? 'is missing' : `must be a non-empty string or a number, found ${describe(v)}`;
          return this.fail('bad_segment', `segment field ${JSON.stringify(by[j])} ${what}`);
        }
        if (plan.protoKey) define(s, by[j]!, text);
        else s[by[j]!] = text;
      }
      segment = s;
    }

    const names = plan.featureNames;
    const numerical = plan.numerical;
    const raw = this.rawFeatures;
    const values = this.values;
    for (let j = 0; j < names.length; j++) {
      const v = raw[j];
      const value = numerical[j] ? numericalValue(v) : categoricalValue(v);
      if (value === REFUSED) {
        const expected = numerical[j] ? 'a number or null' : 'a string, number, boolean or null';
        const type = numerical[j] ? 'numerical' : 'categorical';
        return this.fail('wrong_type', `feature ${JSON.stringify(names[j])} is ${type}: expected ${expected}, found ${describe(v)}`);
      }
      values[j] = value;
    }
    const features = plan.makeFeatures(values);

    if (kind === 'telemetry') {
      this.records.push({ model: plan.model, ts, kind, segment, features });
      return true;
    }

    const prediction = top.prediction;
    // A failed prediction (status "error") may have no value: it still counts in the window's error share.
    const failed = top.status === 'error';
    if ((prediction === undefined || prediction === null) && !failed) {
      return this.fail('missing_prediction', `a prediction record needs "prediction" (or "status": "error"), ${prediction === null ? 'found null' : 'it has none'}`);
    }
    if (prediction !== undefined && prediction !== null && !isScalar(prediction)) {
      return this.fail('wrong_type', `"prediction" must be a number, string or boolean, found ${describe(prediction)}`);
    }
    const label = top.label;
    if (label !== undefined && label !== null && !isScalar(label)) {
      return this.fail('bad_label', `"label" must be a number, string or boolean, found ${describe(label)}`);
    }
    const status = top.status;
    if (status !== undefined && status !== null && status !== 'ok' && status !== 'error') {
      return this.fail('bad_status', `"status" must be "ok" or "error", found ${describe(status)}`);
    }
    const id = optionalText(top.id);
    if (id === REFUSED) return this.fail('wrong_type', `"id" must be a string or a number, found ${describe(top.id)}`);
    const modelVersion = optionalText(top.modelVersion);
    if (modelVersion === REFUSED) {
      return this.fail('wrong_type', `"model_version" must be a string or a number, found ${describe(top.modelVersion)}`);
    }
    this.records.push({
      model: plan.model,
      ts,
      kind,
      segment,
      features,
      id,
      modelVersion,
      ...(prediction !== undefined && prediction !== null ? { prediction } : {}),
      label: label === null ? undefined : label,
      status: status === 'error' ? 'error' : 'ok',
    });
    return true;
  }

  private acceptLabel(plan: Plan, ts: EpochMs): boolean {
    const { id, label } = this.top;
    const text = optionalText(id);
    if (text === undefined || text === REFUSED || text === '') {
      const what = id === undefined ? 'it has none' : `found ${describe(id)}`;
      return this.fail('bad_label', `a label record needs "id" (a non-empty string or a number) to join its prediction, ${what}`);
    }
    if (label === undefined || label === null || !isScalar(label)) {
      const what = label === undefined ? 'it has none' : `found ${describe(label)}`;
      return this.fail('bad_label', `a label record needs "label" (a number, string or boolean), ${what}`);
    }
    this.labels.push({ model: plan.model, id: text, ts, label });
    return true;
  }

  private timestamp(raw: unknown, plan: Plan): EpochMs | Refused {
    if (plan.processingTime) return this.msg.receivedAt;
    let ts: number;
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw)) return this.refuse('bad_timestamp', `"ts" must be a finite number of epoch milliseconds, found ${raw}`);
      // Fractions of a millisecond are cut, as in ISO text and Arrow's finer units: 59.9996 ms is in the 59th.
      ts = Math.floor(raw);
    } else if (typeof raw === 'string') {
      ts = parseIsoTime(raw);
      if (Number.isNaN(ts)) {
        return this.refuse(
          'bad_timestamp',
          `"ts" must be ISO-8601 with a zone (2026-01-02T03:04:05.678Z) or epoch milliseconds, found ${quoteValue(raw)}`,
        );
      }
    } else if (raw === undefined || raw === null) {
      return this.refuse('missing_timestamp', raw === null ? '"ts" is null' : 'the record has no "ts"');
    } else {
      return this.refuse('bad_timestamp', `"ts" must be an ISO-8601 string or epoch milliseconds, found ${describe(raw)}`);
    }
    const { maxFutureMs, maxPastMs } = this.limits;
    if (ts > this.now + maxFutureMs) {
      return this.refuse(
        'timestamp_in_future',
        `"ts" ${formatTime(ts)} is ${formatSpan(ts - this.now)} ahead of now (${formatTime(this.now)}); the limit is ${formatSpan(maxFutureMs)}`,
      );
    }
    if (ts < this.now - maxPastMs) {
      // Epoch seconds read as milliseconds land in January 1970: say so, it is the usual cause.
      const hint = typeof raw === 'number' && Math.abs(raw) < 1e11 && Math.abs(raw) > 1e8 ? ' (epoch seconds? "ts" is in milliseconds)' : '';
      return this.refuse(
        'timestamp_too_old',
        `"ts" ${formatTime(ts)}${hint} is ${formatSpan(this.now - ts)} before now (${formatTime(this.now)}); the limit is ${formatSpan(maxPastMs)}`,
      );
    }
    return ts;
  }

  /** The raw feature array sized for a plan (the segment array too); reused across records. */
  private scratch(features: number, segment: number): unknown[] {
    if (this.rawFeatures.length < features) {
      this.rawFeatures = new Array<unknown>(features);
      this.values = new Array<FeatureValue>(features);
    }
    if (this.rawSegment.length < segment) this.rawSegment = new Array<unknown>(segment);
    return this.rawFeatures;
  }

  private fail(code: DeadReasonCode, reason: string): false {
    this.code = code;
    this.reason = reason;
    return false;
  }

  private refuse(code: DeadReasonCode, reason: string): Refused {
    this.fail(code, reason);
    return REFUSED;
  }

  /** True once this message has used up its dead letters: further refused records are only counted. */
  private get full(): boolean {
    return this.dead.length >= this.maxDead;
  }

  private deadLetter(model: string, reasonCode: DeadReasonCode, reason: string, origin: string, bytes: Uint8Array): void {
    if (this.full) {
      const more = this.more;
      if (more.count === 0) {
        more.first = origin;
        more.model = model;
      } else if (more.model !== model) more.model = null;
      more.count++;
      more.last = origin;
      more.codes.set(reasonCode, (more.codes.get(reasonCode) ?? 0) + 1);
      return;
    }
    // A copy: a view would keep the whole message's buffer alive for as long as the dead letter is.
    this.dead.push({ origin, model, reasonCode, reason, payload: new Uint8Array(bytes) });
  }

  /** The one dead letter of the records refused past the limit: their count, codes and span, and the whole message. */
  private moreRefused(): void {
    const { count, codes, first, last, model } = this.more;
    const byCode = [...codes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([code, k]) => `${code} ${k}`).join(', ');
    const span = count === 1 ? `(${first})` : `(${first} to ${last})`;
    this.dead.push({
      origin: this.msg.origin,
      model: model ?? '',
      reasonCode: 'more_refused',
      reason: `${count} more record${count === 1 ? ' was' : 's were'} refused ${span} after the ${this.maxDead} above, by reason: ${byCode}; the payload is the whole message`,
      payload: new Uint8Array(this.bytes),
      records: count,
    });
  }
}

// ---- values ----

function numericalValue(v: unknown): number | null | Refused {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return null;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return REFUSED;
}

function categoricalValue(v: unknown): string | boolean | null | Refused {
  if (typeof v === 'string') return v === 'NaN' ? null : v;
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isNaN(v) ? null : String(v);
  return REFUSED;
}

function isScalar(v: unknown): v is number | string | boolean {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** An optional id-like field: strings as they are, numbers as their decimal string. */
function optionalText(v: unknown): string | undefined | Refused {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return REFUSED;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A received value as a reason shows it: strings quoted and cut, containers named with a short preview. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return quoteValue(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  let preview = '';
  try {
    preview = JSON.stringify(v, jsonSafe) ?? '';
  } catch {
    // Not JSON-representable: the kind alone will do.
  }
  if (preview.length > 40) preview = `${preview.slice(0, 40)}...`;
  const kind = Array.isArray(v) ? 'an array' : `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
  return preview === '' ? kind : `${kind} ${preview}`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function oversizedReason(size: number, limit: number): string {
  return `the record is ${size} bytes, over the limit of ${limit} bytes per record`;
}

function formatTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

function formatSpan(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${round(s)} s`;
  if (s < 7200) return `${round(s / 60)} min`;
  if (s < 172_800) return `${round(s / 3600)} h`;
  return `${round(s / 86_400)} days`;
}

function round(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

// ---- bytes ----

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

function isSpaceOrNewline(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === NEWLINE;
}

// ---- Arrow columns ----

/**
 * A column's values as JSON would carry them, read once per batch: numbers from the value buffer in bulk (64-bit
 * integers converted from BigInt), everything else through the vector's iterator, which decodes dictionaries,
 * timestamps and dates (to epoch milliseconds, whatever the unit) and gives null for missing.
 */
interface BatchColumns {
  /** Each top-level column's values, then those of the children of a `features` or `segment` struct column. */
  readonly values: unknown[][];
  /** Top-level column positions by name (a repeated name: its first column, as a JSON key read by the first match). */
  readonly index: ReadonlyMap<string, number>;
  /** For a `features` or `segment` struct column: its children's positions in `values` by name. */
  readonly nested: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

function batchColumns(batch: RecordBatch): BatchColumns {
  const fields = batch.schema.fields;
  const values: unknown[][] = [];
  const index = new Map<string, number>();
  const nested = new Map<string, Map<string, number>>();
  for (let c = 0; c < fields.length; c++) {
    values.push(columnValues(batch.getChildAt(c)!));
    if (!index.has(fields[c]!.name)) index.set(fields[c]!.name, c);
  }
  // Ids join labels to predictions: 64-bit ids (Snowflake-style, about 2^60) must not round to each other's double.
  const id = index.get('id');
  if (id !== undefined && DataType.isInt(fields[id]!.type) && (fields[id]!.type as Int).bitWidth === 64) values[id] = exactIntegers(batch.getChildAt(id)!);
  for (const name of ['features', 'segment']) {
    const c = index.get(name);
    if (c === undefined || !DataType.isStruct(fields[c]!.type)) continue;
    const field = fields[c]!;
    const vector = batch.getChildAt(c)!;
    const children = new Map<string, number>();
    const childFields = (field.type as Struct).children;
    for (let k = 0; k < childFields.length; k++) {
      if (children.has(childFields[k]!.name)) continue;
      const child = columnValues(vector.getChildAt(k)!);
      // A null struct is `"features": null` (every feature null) or `"segment": null` (no segment).
      if (vector.nullCount > 0) for (let r = 0; r < child.length; r++) if (!vector.isValid(r)) child[r] = field.name === 'features' ? null : undefined;
      children.set(childFields[k]!.name, values.length);
      values.push(child);
    }
    nested.set(field.name, children);
  }
  return { values, index, nested };
}

/** A 64-bit integer column's values as exact decimal strings (null where missing). */
function exactIntegers(vector: Vector): unknown[] {
  const out = new Array<unknown>(vector.length);
  let i = 0;
  for (const v of vector) out[i++] = v === null || v === undefined ? null : String(v);
  return out;
}

function columnValues(vector: Vector): unknown[] {
  const type: unknown = vector.type;
  const n = vector.length;
  let out: unknown[];
  if (DataType.isTimestamp(type) && (type.unit === TimeUnit.MICROSECOND || type.unit === TimeUnit.NANOSECOND)) {
    // apache-arrow gives these as fractional milliseconds, which a double rounds: 03:00:59.999999999 would come out
    // as 03:01:00.000, in the next minute's window. Cut from the integer instead.
    const per = type.unit === TimeUnit.MICROSECOND ? 1_000n : 1_000_000n;
    out = new Array<unknown>(n);
    let i = 0;
    for (const data of vector.data) {
      const values = data.values as BigInt64Array;
      for (let k = 0; k < data.length; k++, i++) {
        if (!data.getValid(k)) {
          out[i] = null;
          continue;
        }
        const v = values[data.offset + k]!;
        const q = v / per;
        out[i] = Number(v % per < 0n ? q - 1n : q);
      }
    }
    return out;
  }
  if (DataType.isInt(type) || (DataType.isFloat(type) && vector.data.length === 1 && !isHalf(type))) {
    const values = vector.toArray() as ArrayLike<number | bigint>;
    out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      out[i] = typeof v === 'bigint' ? Number(v) : v;
    }
    if (vector.nullCount > 0) for (let i = 0; i < n; i++) if (!vector.isValid(i)) out[i] = null;
    return out;
  }
  out = new Array<unknown>(n);
  let i = 0;
  for (const v of vector) out[i++] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}

function isHalf(type: unknown): boolean {
  return DataType.isFloat(type) && (type as { precision: number }).precision === 0;
}

// ---- JSON ----

/** JSON.parse, retried with Python's bare NaN / Infinity / -Infinity tokens turned into strings. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (!text.includes('NaN') && !text.includes('Infinity')) return REFUSED;
  }
  const rewritten = quoteNonFiniteTokens(text);
  if (rewritten === undefined) return REFUSED;
  try {
    return JSON.parse(rewritten) as unknown;
  } catch {
    return REFUSED;
  }
}

/** The text with bare NaN, Infinity and -Infinity outside strings quoted; undefined when it has none. */
function quoteNonFiniteTokens(text: string): string | undefined {
  let out = '';
  let from = 0;
  let found = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
      continue;
    }
    let token = '';
    if (text.startsWith('NaN', i)) token = 'NaN';
    else if (text.startsWith('Infinity', i)) token = 'Infinity';
    else if (text.startsWith('-Infinity', i)) token = '-Infinity';
    if (token === '') continue;
    out += `${text.slice(from, i)}"${token}"`;
    i += token.length - 1;
    from = i + 1;
    found = true;
  }
  return found ? out + text.slice(from) : undefined;
}

/** What `jsonSyntaxError` says of text it finds no syntax error in. */
const NO_SYNTAX_ERROR = 'not valid JSON';

/**
 * Why `text` is not JSON, with the 1-based character where it goes wrong: `not valid JSON: expected ',' or '}'
 * after a value at character 12, found "x"`. A small iterative checker of the JSON grammar (no recursion, so
 * hostile nesting cannot overflow the stack), run on text JSON.parse refused, and past a message's dead-letter
 * limit instead of JSON.parse on text it refuses.
 */
function jsonSyntaxError(text: string): string {
  const n = text.length;
  let i = 0;
  const stack: number[] = []; // 0: array, 1: object
  const fail = (expected: string): string => {
    const found = i < n ? quoteValue(String.fromCodePoint(text.codePointAt(i)!)) : 'the end of the input';
    return `not valid JSON: expected ${expected} at character ${i + 1}, found ${found}`;
  };
  const skip = (): void => {
    while (i < n && isSpaceOrNewline(text.charCodeAt(i))) i++;
  };
  /** Scans the string at i (a '"'); returns an error or ''. */
  const string = (): string => {
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return '';
      }
      if (c < 0x20) return fail('a closing \'"\' (control characters must be escaped)');
      if (c === BACKSLASH) {
        i++;
        const e = text.charAt(i);
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text.charAt(i + k))) {
              i += k;
              return fail('4 hex digits after \\u');
            }
          }
          i += 4;
        } else if (!'"\\/bfnrt'.includes(e) || e === '') return fail('an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
      }
    }
    return fail('a closing \'"\'');
  };
  /** Scans an object key and its ':' at i; returns an error (naming `expected` if no key starts there) or ''. */
  const key = (expected: string): string => {
    if (text.charAt(i) !== '"') return fail(expected);
    const e = string();
    if (e !== '') return e;
    skip();
    if (text.charAt(i) !== ':') return fail("':' after the key");
    i++;
    skip();
    return '';
  };
  const digits = (): boolean => {
    const start = i;
    while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    return i > start;
  };
  let expectValue = true;
  skip();
  for (;;) {
    if (expectValue) {
      const c = text.charAt(i);
      if (c === '{') {
        i++;
        skip();
        if (text.charAt(i) === '}') {
          i++;
        } else {
          const e = key("a key in double quotes or '}'");
          if (e !== '') return e;
          stack.push(1);
          continue;
        }
      } else if (c === '[') {
        i++;
        skip();
        if (text.charAt(i) === ']') i++;
        else {
          stack.push(0);
          continue;
        }
      } else if (c === '"') {
        const e = string();
        if (e !== '') return e;
      } else if (text.startsWith('true', i)) i += 4;
      else if (text.startsWith('false', i)) i += 5;
      else if (text.startsWith('null', i)) i += 4;
      else if (c === '-' || (c >= '0' && c <= '9')) {
        if (c === '-') i++;
        if (text.charAt(i) === '0') i++;
        else if (!digits()) return fail('a digit');
        if (text.charAt(i) === '.') {
          i++;
          if (!digits()) return fail('a digit after the decimal point');
        }
        if (text.charAt(i) === 'e' || text.charAt(i) === 'E') {
          i++;
          if (text.charAt(i) === '+' || text.charAt(i) === '-') i++;
          if (!digits()) return fail('a digit in the exponent');
        }
      } else return fail('a value');
      expectValue = false;
    }
    skip();
    const open = stack[stack.length - 1];
    if (open === undefined) {
      if (i < n) return fail('the end of the input after the value');
      return NO_SYNTAX_ERROR;
    }
    const c = text.charAt(i);
    if (c === ',') {
      i++;
      skip();
      if (open === 1) {
        const e = key('a key in double quotes');
        if (e !== '') return e;
      }
      expectValue = true;
    } else if ((open === 0 && c === ']') || (open === 1 && c === '}')) {
      i++;
      stack.pop();
    } else {
      return fail(open === 0 ? "',' or ']' after a value" : "',' or '}' after a value");
    }
  }
}

// ---- time ----

/**
 * ISO-8601 date-time with a zone, to epoch milliseconds (NaN when it is not one): `YYYY-MM-DDThh:mm[:ss[.f...]]`
 * then `Z`, `±hh:mm`, `±hhmm` or `±hh`; 'T' may be 't' or a space (RFC 3339). Fractions beyond milliseconds are
 * truncated, as Date.parse does. Hand-written because Date.parse also takes zone-less local times and
 * free-form dates ("Jan 2 2026"), whose meaning depends on the machine, and because it is faster.
 */
function parseIsoTime(s: string): number {
  const n = s.length;
  if (n < 17) return Number.NaN;
  const year = fixedDigits(s, 0, 4);
  const month = fixedDigits(s, 5, 2);
  const day = fixedDigits(s, 8, 2);
  const hour = fixedDigits(s, 11, 2);
  const minute = fixedDigits(s, 14, 2);
  const sep = s.charCodeAt(10);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    (sep !== 84 && sep !== 116 && sep !== SPACE) ||
    s.charCodeAt(13) !== 58
  ) {
    return Number.NaN;
  }
  let i = 16;
  let second = 0;
  let ms = 0;
  if (s.charCodeAt(i) === 58) {
    second = fixedDigits(s, i + 1, 2);
    if (second < 0 || second > 59) return Number.NaN;
    i += 3;
    const dot = s.charCodeAt(i);
    if (dot === 46 || dot === 44) {
      i++;
      const start = i;
      while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
        if (i - start < 3) ms = ms * 10 + (s.charCodeAt(i) - 48);
        i++;
      }
      const count = i - start;
      if (count === 0) return Number.NaN;
      if (count === 1) ms *= 100;
      else if (count === 2) ms *= 10;
    }
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    i++;
  } else if (z === 43 || z === 45) {
    const oh = fixedDigits(s, i + 1, 2);
    i += 3;
    let om = 0;
    if (s.charCodeAt(i) === 58) {
      om = fixedDigits(s, i + 1, 2);
      i += 3;
    } else if (i < n) {
      om = fixedDigits(s, i, 2);
      i += 2;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return Number.NaN;
    offset = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return Number.NaN;
  }
  if (i !== n) return Number.NaN;
  const days = daysFromCivil(year, month, day);
  return ((days * 24 + hour) * 60 + minute - offset) * 60_000 + second * 1000 + ms;
}

/** The non-negative integer written by `count` digits at `at`, or -1. */
function fixedDigits(s: string, at: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) {
    const d = s.charCodeAt(at + k) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
