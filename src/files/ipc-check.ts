/**
 * A bounds check of Arrow IPC stream bytes before apache-arrow reads them.
 *
 * apache-arrow trusts the sizes a stream states: a record batch of a Null column says it has 20 000 000 rows in 240
 * bytes, and a flipped byte turns a batch's list of column nodes into millions of entries that the reader decodes
 * one object each. Either exhausts the heap, which no try/catch survives. This walks the stream's framing and each
 * message's metadata (flatbuffers, read with the generated accessors, without decoding the lists) and refuses
 * sizes the bytes cannot back:
 * - every message's metadata and body lie inside the bytes;
 * - a list in the metadata (fields, children, nodes, buffers, key-value pairs) has no more entries than its metadata
 *   has room for;
 * - every buffer lies inside its message's body;
 * - a batch (record or dictionary) and every column node in it hold at most 8 rows per byte of the body, plus a
 *   small allowance: a row of any column that has a buffer takes at least a bit. Null columns have no buffers,
 *   hence the allowance, which bounds what a batch of only Null columns can claim;
 * - the body is not compressed (a compressed body's sizes are not its rows'; the service's sources do not take
 *   compressed streams).
 *
 * Several streams one after the other (each with its schema and end marker) are one body; anything after an end
 * marker that does not start a new stream is refused. The file format (ARROW1) is checked as apache-arrow reads it:
 * the footer's schema, then each message a footer block points at.
 */
import { ByteBuffer } from 'flatbuffers';
import { Block } from 'apache-arrow/fb/block';
import { DictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import { Field } from 'apache-arrow/fb/field';
import { Footer } from 'apache-arrow/fb/footer';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema } from 'apache-arrow/fb/schema';

/** Rows a batch may claim beyond 8 per body byte (a batch of Null columns has no body at all). */
export const UNBACKED_ROWS = 4096;

/** Size of one entry of a metadata list: a field node and a buffer are 16-byte structs, a table reference 4 bytes. */
const STRUCT_BYTES = 16;
const REFERENCE_BYTES = 4;
const CONTINUATION = -1;

export interface IpcStreamShape {
  /** Streams found (one unless several were written one after the other). */
  readonly streams: number;
  /** Record batch rows over all streams, as the metadata states them. */
  readonly rows: number;
}

const MAGIC = 'ARROW1';
/** The file format: magic and 2 bytes of padding, the messages, the footer, its 4-byte length and the magic again. */
const FILE_HEAD = 8;
const FILE_TAIL = 4 + MAGIC.length;
/** A footer's block (offset, metadata length, body length) is a 24-byte struct. */
const BLOCK_BYTES = 24;

type Checked = { readonly error: string };

/**
 * The problem with `bytes` as an Arrow IPC stream (or several, one after the other), or the shape it states. The
 * IPC file format (ARROW1) is checked by its footer's schema and every message its footer points at, which is how
 * apache-arrow reads it.
 */
export function checkIpcStream(bytes: Uint8Array): Checked | IpcStreamShape {
  return hasMagic(bytes, 0) ? checkFile(bytes) : checkStreams(bytes);
}

function hasMagic(bytes: Uint8Array, at: number): boolean {
  if (at < 0 || at + MAGIC.length > bytes.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[at + i] !== MAGIC.charCodeAt(i)) return false;
  return true;
}

function checkStreams(bytes: Uint8Array): Checked | IpcStreamShape {
  const n = bytes.length;
  let pos = 0;
  let streams = 0;
  let rows = 0;
  let inStream = false;
  let batches = 0;
  while (pos < n) {
    const at = pos;
    const framed = frame(bytes, at);
    // After a stream's end, anything but the start of another stream is refused as such.
    const fail = (problem: string): Checked =>
      ({ error: streams > 0 && !inStream ? `the bytes after the end of the stream (byte ${at}) are not another stream: ${problem}` : problem });
    if ('error' in framed) return fail(framed.error);
    pos = framed.next;
    if (framed.message === null) {
      // The end-of-stream marker: what follows, if anything, must be a new stream.
      if (!inStream) return fail(`an end-of-stream marker at byte ${at} ends no stream`);
      inStream = false;
      continue;
    }
    const type = framed.message.headerType();
    if (!inStream) {
      if (type !== MessageHeader.Schema) return fail(`no Arrow IPC schema message at byte ${at}`);
      inStream = true;
      streams++;
    } else if (type === MessageHeader.Schema) {
      return { error: `a second schema message at byte ${at}, inside a stream` };
    }
    if (type === MessageHeader.RecordBatch) batches++;
    const checked = checkMessage(framed, at, `record batch ${batches}`);
    if ('error' in checked) return checked;
    rows += checked.rows;
  }
  if (streams === 0) return { error: 'the body is empty' };
  return { streams, rows };
}

function checkFile(bytes: Uint8Array): Checked | IpcStreamShape {
  const n = bytes.length;
  if (n < FILE_HEAD + FILE_TAIL || !hasMagic(bytes, n - MAGIC.length)) return { error: 'an Arrow IPC file (ARROW1) cut off before its end' };
  const footerBytes = new DataView(bytes.buffer, bytes.byteOffset, n).getInt32(n - FILE_TAIL, true);
  const footerAt = n - FILE_TAIL - footerBytes;
  if (footerBytes <= 0 || footerAt < FILE_HEAD) return { error: `an Arrow IPC file (ARROW1) whose footer says it takes ${footerBytes} of its ${n} bytes` };
  const footer = Footer.getRootAsFooter(new ByteBuffer(bytes.subarray(footerAt, footerAt + footerBytes)));
  const schema = footer.schema(new Schema());
  const problem = schema === null ? 'the footer has no schema' : schemaProblem(schema, footerBytes);
  if (problem !== null) return { error: `the file's schema: ${problem}` };
  const room = Math.floor(footerBytes / BLOCK_BYTES);
  const dictionaries = footer.dictionariesLength();
  const batches = footer.recordBatchesLength();
  if (dictionaries > room || batches > room) return { error: `the file's footer lists more blocks than its ${footerBytes} bytes hold` };
  let rows = 0;
  for (let i = 0; i < dictionaries + batches; i++) {
    const block = i < dictionaries ? footer.dictionaries(i, new Block()) : footer.recordBatches(i - dictionaries, new Block());
    const what = i < dictionaries ? `dictionary block ${i + 1}` : `record batch ${i - dictionaries + 1}`;
    const offset = block === null ? -1n : block.offset();
    if (offset < BigInt(FILE_HEAD) || offset >= BigInt(footerAt)) return { error: `${what} of the file's footer points at byte ${offset}, outside its messages` };
    const at = Number(offset);
    const framed = frame(bytes.subarray(0, footerAt), at);
    if ('error' in framed) return { error: `${what}: ${framed.error}` };
    if (framed.message === null) return { error: `${what} points at an end-of-stream marker` };
    const type = framed.message.headerType();
    const expected = i < dictionaries ? MessageHeader.DictionaryBatch : MessageHeader.RecordBatch;
    if (type !== expected) return { error: `${what} points at a message of type ${MessageHeader[type] ?? type}` };
    const checked = checkMessage(framed, at, what);
    if ('error' in checked) return checked;
    rows += checked.rows;
  }
  return { streams: 1, rows };
}

interface Framed {
  /** null: the end-of-stream marker. */
  readonly message: Message | null;
  readonly metadataBytes: number;
  readonly bodyBytes: number;
  /** Where the next message starts. */
  readonly next: number;
}

/** The message at `at`: its metadata and body lie inside `bytes`. */
function frame(bytes: Uint8Array, at: number): Checked | Framed {
  const n = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  let pos = at;
  if (n - pos < 4) return { error: `${n - pos} stray bytes at byte ${at}, too few for a message` };
  let length = view.getInt32(pos, true);
  pos += 4;
  if (length === CONTINUATION) {
    if (n - pos < 4) return { error: `the message at byte ${at} is cut off before its length` };
    length = view.getInt32(pos, true);
    pos += 4;
  }
  if (length === 0) return { message: null, metadataBytes: 0, bodyBytes: 0, next: pos };
  if (length < 0 || length > n - pos) return { error: `the message at byte ${at} says its metadata takes ${length} bytes; ${n - pos} are left` };
  const message = Message.getRootAsMessage(new ByteBuffer(bytes.subarray(pos, pos + length)));
  pos += length;
  const bodyLength = message.bodyLength();
  if (bodyLength < 0n || bodyLength > BigInt(n - pos)) return { error: `the message at byte ${at} says its body takes ${bodyLength} bytes; ${n - pos} are left` };
  return { message, metadataBytes: length, bodyBytes: Number(bodyLength), next: pos + Number(bodyLength) };
}

/** The sizes one message's metadata states, against its own bytes; the rows of a record batch. */
function checkMessage(framed: Framed, at: number, batchName: string): Checked | { readonly rows: number } {
  const message = framed.message!;
  const type = message.headerType();
  if (type === MessageHeader.Schema) {
    const schema = message.header(new Schema()) as Schema | null;
    const problem = schema === null ? 'the message has no schema' : schemaProblem(schema, framed.metadataBytes);
    return problem === null ? { rows: 0 } : { error: `the schema at byte ${at}: ${problem}` };
  }
  if (type !== MessageHeader.RecordBatch && type !== MessageHeader.DictionaryBatch) {
    return { error: `a message of type ${MessageHeader[type] ?? type} at byte ${at}, which an IPC stream does not carry` };
  }
  const what = type === MessageHeader.RecordBatch ? batchName : 'the dictionary batch';
  const batch =
    type === MessageHeader.RecordBatch
      ? (message.header(new RecordBatch()) as RecordBatch | null)
      : ((message.header(new DictionaryBatch()) as DictionaryBatch | null)?.data(new RecordBatch()) ?? null);
  if (batch === null) return { error: `${what} (byte ${at}) has no metadata` };
  const problem = batchProblem(batch, framed.metadataBytes, framed.bodyBytes);
  if (problem !== null) return { error: `${what} (byte ${at}): ${problem}` };
  return { rows: type === MessageHeader.RecordBatch ? Number(batch.length()) : 0 };
}

function schemaProblem(schema: Schema, metadataBytes: number): string | null {
  const room = Math.floor(metadataBytes / REFERENCE_BYTES);
  if (schema.customMetadataLength() > room) return `${schema.customMetadataLength()} key-value pairs do not fit in ${metadataBytes} bytes`;
  const fields = schema.fieldsLength();
  if (fields > room) return `${fields} fields do not fit in ${metadataBytes} bytes`;
  // Every field at any depth takes a reference in its parent's list: their total is bounded the same way.
  let budget = room;
  const pending: Field[] = [];
  for (let i = 0; i < fields; i++) {
    const f = schema.fields(i);
    if (f !== null) pending.push(f);
  }
  while (pending.length > 0) {
    const f = pending.pop()!;
    if (--budget < 0) return `more fields than ${metadataBytes} bytes can hold`;
    if (f.customMetadataLength() > room) return `a field's ${f.customMetadataLength()} key-value pairs do not fit in ${metadataBytes} bytes`;
    const children = f.childrenLength();
    if (children > room) return `a field's ${children} children do not fit in ${metadataBytes} bytes`;
    for (let i = 0; i < children; i++) {
      const c = f.children(i);
      if (c !== null) pending.push(c);
    }
  }
  return null;
}

function batchProblem(batch: RecordBatch, metadataBytes: number, bodyBytes: number): string | null {
  if (batch.compression() !== null) return 'the body is compressed; send record batches uncompressed';
  const room = Math.floor(metadataBytes / STRUCT_BYTES);
  const nodes = batch.nodesLength();
  const buffers = batch.buffersLength();
  if (nodes > room) return `${nodes} column nodes do not fit in ${metadataBytes} bytes of metadata`;
  if (buffers > room) return `${buffers} buffers do not fit in ${metadataBytes} bytes of metadata`;
  if (batch.variadicBufferCountsLength() > room) return `${batch.variadicBufferCountsLength()} buffer counts do not fit in ${metadataBytes} bytes of metadata`;
  const maxRows = BigInt(bodyBytes) * 8n + BigInt(UNBACKED_ROWS);
  const length = batch.length();
  if (length < 0n || length > maxRows) return `it says it holds ${length} rows, more than a body of ${bodyBytes} bytes can carry`;
  for (let i = 0; i < nodes; i++) {
    const node = batch.nodes(i);
    const rows = node === null ? 0n : node.length();
    if (rows < 0n || rows > maxRows) return `column node ${i + 1} says it holds ${rows} values, more than a body of ${bodyBytes} bytes can carry`;
  }
  const end = BigInt(bodyBytes);
  for (let i = 0; i < buffers; i++) {
    const b = batch.buffers(i);
    if (b === null) continue;
    const offset = b.offset();
    const size = b.length();
    if (offset < 0n || size < 0n || offset + size > end) return `buffer ${i + 1} (${size} bytes at ${offset}) lies outside the body of ${bodyBytes} bytes`;
  }
  return null;
}
