/**
 * Errors that carry data, not just a message (see the kafkajs notes in style.md): callers decide from `code` and the
 * location fields, never by parsing the message text.
 */

/**
 * What was wrong with a file the user gave us. Stable strings: the CLI, tests and any JSON error output match on
 * them.
 */
export type InputErrorCode =
  /** The path does not exist. */
  | 'file_not_found'
  /** The path exists but cannot be read: permissions, a directory, too large to hold in memory. */
  | 'unreadable'
  /** The extension is unknown and no format was given. */
  | 'unsupported_format'
  /** No header, no rows, or no columns a drift check can use. */
  | 'empty_file'
  /** A CSV row with more or fewer fields than the header. */
  | 'ragged_row'
  /** A CSV quoted field that is never closed, or has text after its closing quote. */
  | 'bad_quote'
  /** Two columns with the same name (CSV header, a key repeated in one NDJSON line, Arrow/Parquet schema). */
  | 'duplicate_column'
  /** An NDJSON line that is not valid JSON. */
  | 'bad_json'
  /** An NDJSON line that is valid JSON but not an object (an array, a number...). */
  | 'not_an_object'
  /** A value of a kind no column can hold: an object or array inside an NDJSON record. */
  | 'unsupported_value'
  /** A Parquet/Arrow file whose bytes could not be decoded (truncated, wrong format, unsupported codec). */
  | 'corrupt_file'
  /** A column whose type differs from what the other side of a comparison has. */
  | 'type_mismatch';

export interface InputErrorInit {
  readonly code: InputErrorCode;
  /** The path as the user wrote it, so the message points at what they typed. */
  readonly file: string;
  /** What is wrong, without the location: `expected a number, found "abc"`. */
  readonly detail: string;
  /** 1-based physical line in a text file (the CSV header is line 1). */
  readonly line?: number;
  /** 1-based data row (the CSV header is not a row). Shown only when there is no line, as in Parquet/Arrow. */
  readonly row?: number;
  readonly column?: string;
  readonly cause?: unknown;
}

/**
 * A problem with user input: a file the CLI cannot read as a table, or a value that cannot be what it must be.
 *
 * The message is always ONE line, `file:line: column "name": detail`, so the CLI can print `error: <message>` and
 * exit 2 without a stack trace, and an editor or CI log can jump to the place.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly code: InputErrorCode;
  readonly file: string;
  readonly detail: string;
  readonly line?: number;
  readonly row?: number;
  readonly column?: string;
  /** Retrying never makes bad input good; present so one retry helper can read it from every error type. */
  readonly retriable = false;

  constructor(init: InputErrorInit) {
    super(formatInputError(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.file = init.file;
    this.detail = oneLine(init.detail);
    if (init.line !== undefined) this.line = init.line;
    if (init.row !== undefined) this.row = init.row;
    if (init.column !== undefined) this.column = init.column;
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}

function formatInputError(init: InputErrorInit): string {
  let where = init.file;
  if (init.line !== undefined) where += `:${init.line}`;
  const parts = [where];
  if (init.line === undefined && init.row !== undefined) parts.push(`row ${init.row}`);
  if (init.column !== undefined) parts.push(`column ${JSON.stringify(init.column)}`);
  parts.push(init.detail);
  return oneLine(parts.join(': '));
}

/** Line breaks from a file name, a value or a library's message would split the CLI's one-line error. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/**
 * A value from the user's file as it should appear in a message: quoted, escaped, and cut to a length that keeps
 * the message on one readable line.
 */
export function quoteValue(value: string, maxLength = 40): string {
  const cut = value.length > maxLength ? `${value.slice(0, maxLength)}...` : value;
  return JSON.stringify(cut);
}

export type StoreErrorCode =
  /** The engine could not be reached or kept failing with transient errors until the retry budget ran out. */
  | 'unavailable'
  /** The database holds a schema newer than this build knows. */
  | 'schema_too_new'
  /** A snapshot, window or entry that does not exist. */
  | 'not_found'
  /** The operation is not allowed in the current state (deleting the active snapshot, promoting a deleted one). */
  | 'conflict'
  /** Stored data that cannot be read back as what it must be. */
  | 'corrupt'
  /** The engine rejected a query for a reason retrying cannot fix. */
  | 'query_failed'
  /** A store setting that cannot be used (bad URL, database name, retention). */
  | 'bad_config';

/** A problem with the store. One-line message; `retriable` tells a caller whether trying later can help. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly retriable: boolean;

  constructor(code: StoreErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(oneLine(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
