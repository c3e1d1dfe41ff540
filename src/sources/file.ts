/**
 * File replay as a source: a recorded NDJSON, JSON, Arrow IPC or CSV file goes through the same pipeline as live
 * Kafka or HTTP input, as fast as possible or paced by its own event times.
 *
 * One partition, `file:<path>`. Messages and their offsets:
 * - NDJSON: one message per non-blank line, its bytes as written, sent as one JSON record (as an NDJSON body
 *   of one line, its dead letter would be `...:<line>:line 1`); offset = line number; origin `file:<path>:<line>`,
 *   which is also the origin of the line's dead letter.
 * - JSON (an array of records, or one record): one message per item, the item's bytes as written (cut out of the
 *   array without parsing it, so that 1e999, -0 or Python's bare NaN read as they do live, and a bad item is its
 *   own dead letter while the others go on); offset = item number; origin `file:<path>:item <n>`. A file that
 *   holds no array is one item, judged as a live JSON body (a .json file of NDJSON lines is one bad record). Only
 *   an empty file, an array that never closes, or text after it rejects `start()` (live, such an array is refused
 *   as a whole).
 * - Arrow IPC (file format, or one or several streams one after the other): one message per record batch,
 *   re-encoded as an IPC stream; offset = batch number over the whole file; origin `file:<path>:batch <n>` (the
 *   decoder appends `:row <n>`). Bytes after a stream's end that are not another stream reject `start()`.
 * - CSV: one JSON message per row, `{model, ts, segment: {segmentBy columns}, features: {the other columns}}`;
 *   offset = the row's physical line; origin `file:<path>:<line>`. Feature cells are typed by src/files/csv.ts
 *   itself, column by column, exactly as a reference built from the same file types them: a column of numbers
 *   sends numbers (inf/Infinity as the strings "Infinity"/"-Infinity", which the decoder reads as numbers), a
 *   column of true/false sends booleans, any other column sends every cell as written ("007", "1.50" and "TRUE"
 *   stay text when the column also holds "A1"); the missing tokens are null. Typed cell by cell instead, a
 *   categorical column would differ from its own reference ("007" replayed as 7, read as "7"). Where the handler
 *   says how it judges a feature (`SourceHandler.featureKind`), that wins over the column's type: a numerical
 *   feature's column with one text cell still sends its numbers as numbers (only that row is refused), and a
 *   categorical feature's column of numbers sends its cells as written. Segment cells stay text as written (a lot "0042" is not the
 *   number 42); the timestamp cell is a number when it is a decimal literal, else text.
 *
 * A record that is itself a JSON array (an NDJSON line or array item `[...]`) is sent inside a one-item array:
 * a JSON message that is an array is a list of records to the decoder, and the record must be refused as not an
 * object, as it is live; its dead letter's origin ends in `:item 1`.
 *
 * The whole file is read at start (the project's readers do the same; replay files are expected to fit in
 * memory), so a missing, unreadable or malformed file rejects `start()` with an InputError naming it; the messages
 * themselves are produced lazily, batch by batch.
 *
 * Pacing (`speed: N`): each message is delivered when `(its ts - the first ts) / N` has passed since the first,
 * so a batch holds the messages already due. A gap longer than 5 s of wall-clock time is cut to 5 s (a replay of a
 * weekend does not sleep for hours), and `stop()` / the abort signal end any sleep at once. Timestamps are read
 * cheaply (a pattern on the NDJSON line or JSON item, the CSV cell, the first row of an Arrow batch) and only when
 * pacing.
 */
import { extname } from 'node:path';
import { type RecordBatch, RecordBatchReader, Table, tableToIPC } from 'apache-arrow';
import { InputError, quoteValue } from '../core/errors.js';
import type { Column } from '../core/table.js';
import { csvNumber, MISSING_TOKENS, parseCsv } from '../files/csv.js';
import { DecimalScanner } from '../files/decimal.js';
import { readFileBytes } from '../files/file-bytes.js';
import { hasBom, isJsonSpace, jsonArrayItems } from '../files/json-array.js';
import { checkIpcStream } from '../files/ipc-check.js';
import type {
  Checkpoint,
  PartitionId,
  PayloadFormat,
  Source,
  SourceBatch,
  SourceHandler,
  SourceMessage,
} from '../core/stream.js';

export type ReplayFormat = 'ndjson' | 'json' | 'arrow' | 'csv';

export interface FileSourceOptions {
  readonly path: string;
  /** Overrides the extension (.ndjson/.jsonl, .json, .arrow/.arrows/.ipc/.feather, .csv). */
  readonly format?: ReplayFormat;
  /** CSV: the model every row belongs to (required for CSV, ignored otherwise). */
  readonly model?: string;
  /** CSV: the columns that are segment fields (default none). */
  readonly segmentBy?: readonly string[];
  /** CSV: the event-time column (default `ts`). */
  readonly timestampColumn?: string;
  /** Replay speed relative to event time, or 'max' (default): no pacing at all. */
  readonly speed?: number | 'max';
  /** Messages per batch (default 1000). */
  readonly batchSize?: number;
  /** After each delivered batch: records delivered so far (Arrow: rows), and the file's total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Aborting stops the replay like `stop()` (and `finished` rejects). */
  readonly signal?: AbortSignal;
}

const FORMAT_BY_EXTENSION: Readonly<Record<string, ReplayFormat>> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.arrow': 'arrow',
  '.arrows': 'arrow',
  '.ipc': 'arrow',
  '.feather': 'arrow',
  '.csv': 'csv',
};
/** The longest single sleep when pacing, whatever the gap in event time. */
const MAX_SLEEP_MS = 5000;

export function createFileSource(options: FileSourceOptions): Source {
  return new FileSource(options);
}

/** A message to deliver, with what pacing and progress need. */
interface Item {
  readonly message: SourceMessage;
  /** Records it holds (Arrow: rows of its batch). */
  readonly records: number;
  /** Event time for pacing (epoch ms), when known and wanted. */
  readonly ts: number | undefined;
}

/** A file read and checked at start: its total, and a way to produce its messages from an offset on. */
interface Prepared {
  readonly total: number;
  items(pace: boolean): Iterable<Item>;
}

class FileSource implements Source {
  readonly description: string;
  readonly finished: Promise<void>;

  private readonly partition: PartitionId;
  private readonly format: ReplayFormat;
  private readonly batchSize: number;
  private readonly speed: number | 'max';
  private resolveFinished!: () => void;
  private rejectFinished!: (e: unknown) => void;
  private readonly stopping = new AbortController();
  private handler: SourceHandler | undefined;
  private loop: Promise<void> | undefined;
  private paused = false;
  private wakePaused: (() => void) | undefined;
  /** A rewind asked for while running: the loop restarts from this offset. */
  private rewindTo: bigint | undefined;

  constructor(private readonly options: FileSourceOptions) {
    this.partition = `file:${options.path}`;
    this.description = this.partition;
    this.format = options.format ?? replayFormatOf(options.path);
    this.batchSize = options.batchSize ?? 1000;
    this.speed = options.speed ?? 'max';
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`file replay: batchSize must be a positive integer, not ${String(options.batchSize)}`);
    }
    if (this.speed !== 'max' && !(Number.isFinite(this.speed) && this.speed > 0)) {
      throw new RangeError(`file replay: speed must be a positive number or 'max', not ${String(options.speed)}`);
    }
    if (this.format === 'csv' && (options.model === undefined || options.model === '')) {
      throw new RangeError(`file replay of ${options.path}: a CSV file needs the model its rows belong to`);
    }
    this.finished = new Promise<void>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    // Nobody has to await `finished`; a stop before the end must not become an unhandled rejection.
    this.finished.catch(() => undefined);
    const signal = options.signal;
    if (signal?.aborted === true) this.stopping.abort(signal.reason);
    else signal?.addEventListener('abort', () => this.stopping.abort(signal.reason), { once: true });
  }

  async start(handler: SourceHandler): Promise<void> {
    if (this.handler !== undefined) throw new Error(`${this.description} was already started`);
    this.handler = handler;
    const prepared = await this.prepare();
    await handler.onAssigned([{ partition: this.partition, checkpoint: null }]);
    this.loop = this.run(handler, prepared).then(
      () => this.resolveFinished(),
      (e: unknown) => this.rejectFinished(e),
    );
  }

  /** Replays are repeatable from the file itself: nothing to store. */
  async commit(_checkpoints: ReadonlyArray<Checkpoint>): Promise<void> {}

  /** Makes the replay go on from `offset` (a line, item or batch number) before its next batch. */
  async rewind(partition: PartitionId, offset: bigint): Promise<void> {
    if (partition === this.partition) this.rewindTo = offset;
  }

  pause(partitions: ReadonlyArray<PartitionId>): void {
    if (partitions.includes(this.partition)) this.paused = true;
  }

  resume(partitions: ReadonlyArray<PartitionId>): void {
    if (!partitions.includes(this.partition)) return;
    this.paused = false;
    this.wakePaused?.();
  }

  /**
   * Ends the replay after the batch being delivered; `finished` rejects if the file had not been delivered to the
   * end. The partition is not revoked: the pipeline's own close writes what it holds, as for every source.
   */
  async stop(): Promise<void> {
    if (!this.stopping.signal.aborted) this.stopping.abort(new Error(`${this.description}: stopped before the end of the file`));
    this.wakePaused?.();
    await this.loop;
  }

  private async run(handler: SourceHandler, prepared: Prepared): Promise<void> {
    const pace = this.speed !== 'max';
    const signal = this.stopping.signal;
    let from = 0n;
    let delivered = 0;
    restart: for (;;) {
      const pacer = pace ? new Pacer(this.speed as number) : undefined;
      let batch: SourceMessage[] = [];
      let batchRecords = 0;
      const flush = async (): Promise<boolean> => {
        if (batch.length === 0) return true;
        await this.whilePaused();
        if (signal.aborted) return false;
        const delivery: SourceBatch = { partition: this.partition, messages: batch };
        batch = [];
        await handler.onBatch(delivery);
        delivered += batchRecords;
        batchRecords = 0;
        this.options.onProgress?.(delivered, prepared.total);
        return true;
      };
      delivered = 0;
      for (const item of prepared.items(pace)) {
        if (signal.aborted) throw abortReason(signal);
        if (item.message.offset < from) {
          delivered += item.records;
          continue;
        }
        if (pacer !== undefined && item.ts !== undefined) {
          const wait = pacer.wait(item.ts);
          if (wait > 0) {
            if (!(await flush())) throw abortReason(signal);
            await sleep(wait, signal);
          }
        }
        if (this.rewindTo !== undefined) {
          from = this.rewindTo;
          this.rewindTo = undefined;
          continue restart;
        }
        batch.push(item.message);
        batchRecords += item.records;
        if (batch.length >= this.batchSize && !(await flush())) throw abortReason(signal);
      }
      if (!(await flush())) throw abortReason(signal);
      if (this.rewindTo === undefined) return;
      from = this.rewindTo;
      this.rewindTo = undefined;
    }
  }

  private async whilePaused(): Promise<void> {
    while (this.paused && !this.stopping.signal.aborted) {
      await new Promise<void>((resolve) => {
        this.wakePaused = resolve;
      });
      this.wakePaused = undefined;
    }
  }

  // ---- formats ----

  private async prepare(): Promise<Prepared> {
    const { path } = this.options;
    const bytes = await readFileBytes(path);
    switch (this.format) {
      case 'ndjson':
        return this.prepareNdjson(bytes);
      case 'json':
        return this.prepareJson(bytes);
      case 'arrow':
        return this.prepareArrow(bytes);
      case 'csv':
        return this.prepareCsv(bytes);
    }
  }

  private message(offset: number, value: Uint8Array, format: PayloadFormat, origin: string): SourceMessage {
    return { partition: this.partition, offset: BigInt(offset), value, format, receivedAt: Date.now(), origin };
  }

  /**
   * One JSON record's bytes as a message of its own, so that its dead letter has `origin` itself (an NDJSON message
   * would add `:line 1`). A record that is an array goes inside a one-item array (see the header comment).
   */
  private recordMessage(offset: number, value: Buffer, origin: string): SourceMessage {
    let first = 0;
    while (first < value.length && isJsonSpace(value[first]!)) first++;
    const wrapped = value[first] === OPEN_BRACKET ? Buffer.concat([ONE_ITEM_OPEN, value, ONE_ITEM_CLOSE]) : value;
    return this.message(offset, wrapped, 'json', origin);
  }

  private prepareNdjson(bytes: Buffer): Prepared {
    const lines = lineRanges(bytes);
    return { total: lines.length / 3, items: (pace) => this.ndjsonItems(bytes, lines, pace) };
  }

  private *ndjsonItems(bytes: Buffer, lines: readonly number[], pace: boolean): Iterable<Item> {
    const origin = `file:${this.options.path}`;
    for (let k = 0; k < lines.length; k += 3) {
      const line = lines[k]!;
      const value = bytes.subarray(lines[k + 1], lines[k + 2]);
      const ts = pace ? tsOfJsonText(value.toString('utf8')) : undefined;
      yield { message: this.recordMessage(line, value, `${origin}:${line}`), records: 1, ts };
    }
  }

  /**
   * Items as [start, end) pairs of the file's bytes: those of its array, or the whole file when it holds no array
   * (one record, judged as a live JSON body is, whatever it holds).
   */
  private prepareJson(bytes: Buffer): Prepared {
    const { path } = this.options;
    let i = hasBom(bytes) ? 3 : 0;
    while (i < bytes.length && isJsonSpace(bytes[i]!)) i++;
    if (i === bytes.length) throw new InputError({ code: 'empty_file', file: path, detail: 'is empty (no JSON value)' });
    if (bytes[i] !== OPEN_BRACKET) return { total: 1, items: (pace) => this.jsonItems(bytes, [0, bytes.length], pace) };
    const array = jsonArrayItems(bytes, i);
    if (array.close === -1) {
      const [at, what] = array.openString === -1 ? [i, 'an array that never closes'] : [array.openString, 'a string that never closes'];
      throw jsonError(path, bytes, at, what);
    }
    let after = array.close + 1;
    while (after < bytes.length && isJsonSpace(bytes[after]!)) after++;
    if (after < bytes.length) throw jsonError(path, bytes, after, 'text after the end of the array');
    const items = array.items;
    return { total: items.length / 2, items: (pace) => this.jsonItems(bytes, items, pace) };
  }

  private *jsonItems(bytes: Buffer, items: readonly number[], pace: boolean): Iterable<Item> {
    const origin = `file:${this.options.path}:item`;
    for (let k = 0; k < items.length; k += 2) {
      const n = k / 2 + 1;
      const value = bytes.subarray(items[k], items[k + 1]);
      const ts = pace ? tsOfJsonText(value.toString('utf8')) : undefined;
      yield { message: this.recordMessage(n, value, `${origin} ${n}`), records: 1, ts };
    }
  }

  /**
   * Every record batch of every stream in the file (writers append a stream per run or per chunk; tableFromIPC
   * would read the first one only). The bounds check is the one live Arrow bodies get: it refuses bytes after a
   * stream's end that are not another stream, and sizes the bytes cannot back, before apache-arrow trusts them.
   */
  private prepareArrow(bytes: Buffer): Prepared {
    const { path } = this.options;
    if (bytes.length === 0) throw new InputError({ code: 'empty_file', file: path, detail: 'is empty (no Arrow IPC schema)' });
    const unreadable = (reason: string, cause?: unknown): InputError =>
      new InputError({ code: 'corrupt_file', file: path, detail: `is not a readable Arrow IPC file or stream: ${reason}`, cause });
    const shape = checkIpcStream(bytes);
    if ('error' in shape) throw unreadable(shape.error);
    const batches: RecordBatch[] = [];
    let total = 0;
    try {
      for (const reader of RecordBatchReader.readAll(bytes)) {
        for (const batch of reader) {
          if (batch.numRows === 0) continue;
          batches.push(batch);
          total += batch.numRows;
        }
      }
    } catch (e) {
      throw unreadable((e as Error).message, e);
    }
    return { total, items: (pace) => this.arrowItems(batches, pace) };
  }

  private *arrowItems(batches: readonly RecordBatch[], pace: boolean): Iterable<Item> {
    const origin = `file:${this.options.path}:batch`;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const value = tableToIPC(new Table(batch), 'stream');
      const ts = pace ? firstTs(batch) : undefined;
      yield { message: this.message(i + 1, value, 'arrow', `${origin} ${i + 1}`), records: batch.numRows, ts };
    }
  }

  private prepareCsv(bytes: Buffer): Prepared {
    const { path } = this.options;
    const text = withoutBom(bytes.toString('utf8'));
    const records = new CsvRecords(text, path);
    if (!records.next()) throw new InputError({ code: 'empty_file', file: path, detail: 'has no header (only blank lines)' });
    const headerLine = records.line;
    const header = records.fields.map((name, j) => name || `Unnamed: ${j}`);
    const duplicate = header.find((name, j) => header.indexOf(name) !== j);
    if (duplicate !== undefined) {
      throw new InputError({ code: 'duplicate_column', file: path, line: headerLine, column: duplicate, detail: 'appears twice in the header' });
    }
    const tsColumn = this.options.timestampColumn ?? 'ts';
    const segmentBy = this.options.segmentBy ?? [];
    for (const name of [tsColumn, ...segmentBy]) {
      if (!header.includes(name)) {
        throw new InputError({
          code: 'unsupported_format',
          file: path,
          line: headerLine,
          column: name,
          detail: `no such column in the header (${header.map((h) => quoteValue(h, 30)).join(', ')})`,
        });
      }
    }
    // A header and no rows: nothing to replay (src/files/csv.ts refuses such a file, having no table to give).
    if (!records.next()) return { total: 0, items: () => [] };
    // The reference side's typed columns, read now: this also checks the whole file's structure, so that a ragged
    // row or a broken quote rejects start().
    const table = parseCsv(text, path);
    const roles = header.map((name): CsvRole => (name === tsColumn ? 'ts' : segmentBy.includes(name) ? 'segment' : 'feature'));
    return { total: table.rowCount, items: (pace) => this.csvItems(text, header, roles, table.columns, pace) };
  }

  private *csvItems(text: string, header: readonly string[], roles: readonly CsvRole[], columns: readonly Column[], pace: boolean): Iterable<Item> {
    const { path } = this.options;
    const model = this.options.model!;
    // The pipeline's kind of each feature, where it has one: a cell is typed as the feature is judged, so that one
    // stray text cell in a numerical feature's column refuses its row only, and a categorical cell stays as written.
    const kinds = header.map((name, j) => (roles[j] === 'feature' ? this.handler?.featureKind?.(model, name) : undefined));
    const scanner = new DecimalScanner();
    const cursor = new CsvRecords(text, path);
    cursor.next();
    for (let row = 0; cursor.next(); row++) {
      const record = csvRecord(model, header, roles, kinds, cursor.fields, columns, row, scanner);
      const ts = pace ? tsOf(record.ts) : undefined;
      const value = Buffer.from(JSON.stringify(record));
      yield { message: this.message(cursor.line, value, 'json', `file:${path}:${cursor.line}`), records: 1, ts };
    }
  }
}

/** Delivery times by event time: `wait(ts)` is how long to wait before delivering a message of time ts. */
class Pacer {
  private anchorTs: number | undefined;
  private anchorWall = 0;

  constructor(private readonly speed: number) {}

  wait(ts: number): number {
    const now = performance.now();
    if (this.anchorTs === undefined) {
      this.anchorTs = ts;
      this.anchorWall = now;
      return 0;
    }
    const wait = this.anchorWall + (ts - this.anchorTs) / this.speed - now;
    if (wait > MAX_SLEEP_MS) {
      // A long gap: sleep the cap, then go on as if this message had come right after the previous ones.
      this.anchorTs = ts;
      this.anchorWall = now + MAX_SLEEP_MS;
      return MAX_SLEEP_MS;
    }
    return wait;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('file replay aborted');
}

/** The format a replay reads `path` as, by its extension (an unknown one is an InputError naming the file). */
export function replayFormatOf(path: string): ReplayFormat {
  const extension = extname(path).toLowerCase();
  const format = FORMAT_BY_EXTENSION[extension];
  if (format !== undefined) return format;
  const what = extension === '' ? 'has no extension' : `has an unknown extension "${extension}"`;
  throw new InputError({
    code: 'unsupported_format',
    file: path,
    detail: `${what}; expected one of ${Object.keys(FORMAT_BY_EXTENSION).join(', ')}, or name the format (ndjson, json, arrow, csv)`,
  });
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Non-blank lines of NDJSON bytes as triples (line number, start, end), CR and a leading BOM left out. */
function lineRanges(bytes: Buffer): number[] {
  const out: number[] = [];
  const n = bytes.length;
  let start = hasBom(bytes) ? 3 : 0;
  for (let line = 1; start < n; line++) {
    let next = bytes.indexOf(10, start);
    if (next === -1) next = n;
    let end = next;
    if (end > start && bytes[end - 1] === 13) end--;
    let first = start;
    while (first < end && (bytes[first] === 32 || bytes[first] === 9 || bytes[first] === 13)) first++;
    if (first < end) out.push(line, start, end);
    start = next + 1;
  }
  return out;
}

// ---- JSON ----

const LF = 10;
const CR = 13;
const OPEN_BRACKET = 91;
const ONE_ITEM_OPEN = Buffer.from('[');
const ONE_ITEM_CLOSE = Buffer.from(']');

/** A JSON file that cannot be split into items, located by line and column (in characters) of byte `at`. */
function jsonError(file: string, bytes: Buffer, at: number, what: string): InputError {
  const lineStart = bytes.lastIndexOf(LF, at - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(LF); i !== -1 && i < at; i = bytes.indexOf(LF, i + 1)) line++;
  const column = bytes.toString('utf8', lineStart, at).length + 1 - (lineStart === 0 && hasBom(bytes) ? 1 : 0);
  return new InputError({ code: 'bad_json', file, line, detail: `not valid JSON at column ${column}: ${what}` });
}

const TS_IN_JSON = /"ts"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d[\d.eE+-]*))/;

/** The `ts` of a JSON record's text without parsing it all (pacing only: a miss just means no wait). */
function tsOfJsonText(text: string): number | undefined {
  const m = TS_IN_JSON.exec(text);
  if (m === null) return undefined;
  return tsOf(m[1] ?? Number(m[2]));
}

function tsOf(value: unknown): number | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The time of a batch's first row, from its `ts` column (timestamps and dates come as epoch ms). */
function firstTs(batch: RecordBatch): number | undefined {
  const column = batch.getChild('ts');
  if (column === null || column.length === 0) return undefined;
  const value: unknown = column.get(0);
  return tsOf(typeof value === 'bigint' ? Number(value) : value);
}

// ---- CSV ----

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

type CsvRole = 'ts' | 'segment' | 'feature';

interface CsvRow {
  model: string;
  ts: number | string | undefined;
  segment: Record<string, string>;
  features: Record<string, number | string | boolean | null>;
}

/** Row `row` of the file: ts and segment from its cells as written, features from the typed `columns`. */
function csvRecord(
  model: string,
  header: readonly string[],
  roles: readonly CsvRole[],
  kinds: ReadonlyArray<'numerical' | 'categorical' | undefined>,
  fields: readonly string[],
  columns: readonly Column[],
  row: number,
  scanner: DecimalScanner,
): CsvRow {
  // Null prototypes: a column named __proto__ is a key like any other.
  const segment = Object.create(null) as Record<string, string>;
  const features = Object.create(null) as Record<string, number | string | boolean | null>;
  const record: CsvRow = { model, ts: undefined, segment, features };
  for (let j = 0; j < header.length; j++) {
    const cell = fields[j]!;
    const role = roles[j];
    if (role === 'segment') {
      if (!MISSING_TOKENS.has(cell.trim())) segment[header[j]!] = cell;
    } else if (role === 'ts') {
      if (!MISSING_TOKENS.has(cell.trim())) record.ts = DECIMAL.test(cell) ? Number(cell) : cell;
    } else {
      const column = columns[j]!;
      const kind = kinds[j];
      if (kind === 'numerical' && column.kind !== 'number') {
        // A number column with a text cell turned to text: the cells that are numbers are still numbers.
        const v = csvNumber(cell, scanner);
        features[header[j]!] = v === undefined ? cell : numberValue(v);
      } else if (kind === 'categorical' && column.kind === 'number') {
        features[header[j]!] = MISSING_TOKENS.has(cell.trim()) ? null : cell;
      } else {
        features[header[j]!] = columnValue(column, row);
      }
    }
  }
  return record;
}

function numberValue(v: number): number | string | null {
  return Number.isNaN(v) ? null : Number.isFinite(v) ? v : v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * A value of a column read by src/files/csv.ts, as JSON the decoder reads back as that value: ±Infinity as the
 * strings it reads as numbers (JSON has no literal for them), a boolean column's labels as booleans, text as is.
 */
function columnValue(column: Column, row: number): number | string | boolean | null {
  if (column.kind === 'number') return numberValue(column.values[row]!);
  const label = column.values[row] ?? null;
  return column.dtype === 'boolean' && label !== null ? label === 'true' : label;
}

/**
 * CSV records one at a time (RFC 4180: ',' separators, '"' quotes, '""' inside quotes, LF or CRLF), with the
 * physical line each starts on; blank lines are skipped, as src/files/csv.ts does. That reader builds typed
 * columns of a whole table; replay needs rows, hence this small splitter. Its records must stay that reader's
 * rows, one for one and in order: a row's features are taken from parseCsv's columns by row number.
 */
class CsvRecords {
  fields: string[] = [];
  /** 1-based physical line where the current record starts. */
  line = 0;
  private pos = 0;
  private nextLine = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  next(): boolean {
    const s = this.text;
    const n = s.length;
    let pos = this.pos;
    for (;;) {
      const c = s.charCodeAt(pos);
      if (c === 10) {
        pos++;
        this.nextLine++;
      } else if (c === 13) {
        pos += s.charCodeAt(pos + 1) === 10 ? 2 : 1;
        this.nextLine++;
      } else break;
    }
    if (pos >= n) {
      this.pos = pos;
      return false;
    }
    this.line = this.nextLine;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (s.charCodeAt(pos) === 34) {
        value = '';
        let from = pos + 1;
        for (;;) {
          const q = s.indexOf('"', from);
          if (q === -1) {
            throw new InputError({ code: 'bad_quote', file: this.file, line: this.nextLine, detail: `the quote opening field ${fields.length + 1} is never closed` });
          }
          for (let i = s.indexOf('\n', from); i !== -1 && i < q; i = s.indexOf('\n', i + 1)) this.nextLine++;
          if (s.charCodeAt(q + 1) === 34) {
            value += s.slice(from, q + 1);
            from = q + 2;
          } else {
            value += s.slice(from, q);
            pos = q + 1;
            break;
          }
        }
        const after = s.charCodeAt(pos);
        if (pos < n && after !== 44 && after !== 10 && after !== 13) {
          throw new InputError({ code: 'bad_quote', file: this.file, line: this.nextLine, detail: `text after the closing quote of field ${fields.length + 1}` });
        }
      } else {
        let i = pos;
        while (i < n) {
          const c = s.charCodeAt(i);
          if (c === 44 || c === 10 || c === 13) break;
          i++;
        }
        value = s.slice(pos, i);
        pos = i;
      }
      fields.push(value);
      const c = s.charCodeAt(pos);
      if (pos < n && c === 44) {
        pos++;
        continue;
      }
      if (c === 13 && s.charCodeAt(pos + 1) === 10) pos++;
      if (pos < n) {
        pos++;
        this.nextLine++;
      }
      break;
    }
    this.pos = pos;
    this.fields = fields;
    return true;
  }
}
