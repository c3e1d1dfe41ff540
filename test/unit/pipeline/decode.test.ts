import {
  DateDay,
  Dictionary,
  Field,
  Float64,
  Int32,
  makeData,
  makeVector,
  Null,
  Struct,
  Table,
  tableToIPC,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { ByteBuffer } from 'flatbuffers';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as RecordBatchHeader } from 'apache-arrow/fb/record-batch';
import { describe, expect, it } from 'vitest';
import type { PayloadFormat, SourceMessage } from '../../../src/core/stream.js';
import { type DecodeLimits, decodeMessage, type ModelSchema } from '../../../src/pipeline/decode.js';
import { seededRandom } from '../../../src/stats/reservoir.js';

const NOW = Date.parse('2026-01-02T03:04:05.000Z');
const T1 = '2026-01-02T03:00:00.000Z';
const T1_MS = Date.parse(T1);
const LIMITS: DecodeLimits = { maxRecordBytes: 4096, maxFutureMs: 60_000, maxPastMs: 86_400_000 };

function schema(model: string, over: Partial<ModelSchema> = {}): ModelSchema {
  return {
    model,
    kind: 'telemetry',
    segmentBy: [],
    features: new Map<string, 'numerical' | 'categorical'>([
      ['temp', 'numerical'],
      ['line', 'categorical'],
    ]),
    time: 'event',
    ...over,
  };
}

const SCHEMAS = new Map<string, ModelSchema>([
  ['press', schema('press')],
  ['lots', schema('lots', { segmentBy: ['lot_id'] })],
  ['scorer', schema('scorer', { kind: 'prediction' })],
  ['clock', schema('clock', { time: 'processing' })],
]);

function schemaOf(model: string): ModelSchema | undefined {
  return SCHEMAS.get(model);
}

function message(value: string | Uint8Array, format: PayloadFormat, over: Partial<SourceMessage> = {}): SourceMessage {
  return {
    partition: 'p',
    offset: 7n,
    value: typeof value === 'string' ? new TextEncoder().encode(value) : value,
    format,
    receivedAt: NOW - 5,
    origin: 'test:p@7',
    ...over,
  };
}

function decode(value: string | Uint8Array, format: PayloadFormat = 'ndjson', over: Partial<SourceMessage> = {}) {
  return decodeMessage(message(value, format, over), schemaOf, LIMITS, NOW);
}

/** The one dead letter of a one-record message, as code and reason. */
function deadOf(record: unknown, over: Partial<SourceMessage> = {}): { code: string; reason: string } {
  const d = decode(typeof record === 'string' ? record : JSON.stringify(record), 'ndjson', over);
  expect(d.records).toHaveLength(0);
  expect(d.dead).toHaveLength(1);
  return { code: d.dead[0]!.reasonCode, reason: d.dead[0]!.reason };
}

const good = { model: 'press', ts: T1, features: { temp: 81.5, line: 'B' } };

/** Where the first record batch of an IPC stream keeps the length of its list of column nodes. */
function nodeCountAt(stream: Uint8Array): number {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  let pos = 0;
  for (;;) {
    const length = view.getInt32(pos + 4, true);
    const metadata = stream.subarray(pos + 8, pos + 8 + length);
    const message = Message.getRootAsMessage(new ByteBuffer(metadata));
    if (message.headerType() === MessageHeader.RecordBatch) {
      const header = message.header(new RecordBatchHeader()) as RecordBatchHeader;
      // The generated accessor reads the list at its vector's start; its length is the 4 bytes before it.
      const bb = header.bb!;
      const field = bb.__offset(header.bb_pos, 6);
      return pos + 8 + bb.__vector(header.bb_pos + field) - 4;
    }
    pos += 8 + length + Number(message.bodyLength());
  }
}
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('decodeMessage: telemetry records', () => {
  it('decodes a record, dropping features the schema does not name and filling missing ones with null', () => {
    const d = decode(JSON.stringify({ model: 'press', ts: T1, features: { temp: 1, extra: 'x' } }));
    expect(d.dead).toEqual([]);
    expect(d.records).toEqual([{ model: 'press', ts: T1_MS, kind: 'telemetry', segment: {}, features: { temp: 1, line: null } }]);
    expect(d.bodyError).toBeUndefined();
  });

  it('takes epoch milliseconds and ISO times with any zone spelling', () => {
    const times = [T1_MS, '2026-01-02T04:00:00+01:00', '2026-01-02T04:00:00+0100', '2026-01-02T04:00+01', '2026-01-02 03:00:00z'];
    const d = decode(times.map((ts) => JSON.stringify({ ...good, ts })).join('\n'));
    expect(d.dead).toEqual([]);
    expect(d.records.map((r) => r.ts)).toEqual(times.map(() => T1_MS));
    const fraction = decode(JSON.stringify({ ...good, ts: '2026-01-02T03:00:00.1234567Z' }));
    expect(fraction.records[0]!.ts).toBe(T1_MS + 123);
  });

  it('turns categorical numbers into their decimal strings and keeps booleans', () => {
    const records = [1, 2.5, true, 'C', null].map((line) => ({ ...good, features: { temp: 1, line } }));
    const d = decode(records.map((r) => JSON.stringify(r)).join('\n'));
    expect(d.records.map((r) => r.features.line)).toEqual(['1', '2.5', true, 'C', null]);
  });

  it('accepts non-finite numbers: JSON overflow, Python bare tokens and the "NaN"/"Infinity" strings', () => {
    const lines = [
      '{"model":"press","ts":' + T1_MS + ',"features":{"temp":1e999}}',
      '{"model":"press","ts":' + T1_MS + ',"features":{"temp":NaN,"line":"NaN and Infinity stay text"}}',
      '{"model":"press","ts":' + T1_MS + ',"features":{"temp":-Infinity}}',
      '{"model":"press","ts":' + T1_MS + ',"features":{"temp":"Infinity","line":"NaN"}}',
    ];
    const d = decode(lines.join('\n'));
    expect(d.dead).toEqual([]);
    expect(d.records.map((r) => r.features.temp)).toEqual([Infinity, NaN, -Infinity, Infinity]);
    expect(d.records.map((r) => r.features.line)).toEqual([null, 'NaN and Infinity stay text', null, null]);
  });

  it('reads the segment of a segmented model as strings', () => {
    const d = decode(
      [
        JSON.stringify({ ...good, model: 'lots', segment: { lot_id: 'L-1', other: 'x' } }),
        JSON.stringify({ ...good, model: 'lots', segment: { lot_id: 1042 } }),
      ].join('\n'),
    );
    expect(d.records.map((r) => r.segment)).toEqual([{ lot_id: 'L-1' }, { lot_id: '1042' }]);
  });

  it('passes hostile model and feature names through exactly', () => {
    const names = ['qu"ote\\d', 'ünï cødé 🚀', '\u0000nul', 'constructor'];
    const features = new Map<string, 'numerical' | 'categorical'>([
      ['__proto__', 'numerical'],
      ['constructor', 'categorical'],
      ['toString', 'numerical'],
      ['with "quotes" ✓', 'categorical'],
    ]);
    const schemas = new Map(names.map((m) => [m, schema(m, { features, segmentBy: ['__proto__'] })]));
    const lines = names.map((model) =>
      JSON.stringify({
        model,
        ts: T1,
        segment: JSON.parse('{"__proto__": "seg"}') as unknown,
        features: JSON.parse('{"__proto__": 5, "with \\"quotes\\" ✓": "y"}') as unknown,
      }),
    );
    const d = decodeMessage(message(lines.join('\n'), 'ndjson'), (m) => schemas.get(m), LIMITS, NOW);
    expect(d.dead).toEqual([]);
    expect(d.records.map((r) => r.model)).toEqual(names);
    const first = d.records[0]!;
    expect(Object.getPrototypeOf(first.features)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(first.features, '__proto__')?.value).toBe(5);
    expect(first.features['constructor']).toBeNull();
    expect(first.features['toString']).toBeNull();
    expect(first.features['with "quotes" ✓']).toBe('y');
    expect(Object.getOwnPropertyDescriptor(first.segment, '__proto__')?.value).toBe('seg');
    const unknown = decodeMessage(message(JSON.stringify({ ...good, model: 'é"\n' }), 'ndjson'), schemaOf, LIMITS, NOW);
    expect(unknown.dead[0]).toMatchObject({ model: 'é"\n', reasonCode: 'unknown_model' });
  });

  it('builds features objects with hostile names exactly when no name is __proto__ (the compiled path)', () => {
    const hostile = ['qu"ote\\d', "it's", 'line\nbreak', '*/ }; process.exit(1); /*', '${globalThis.x = 1}', '\u2028sep', 'constructor', 'toString', 'ünï 🚀', ''];
    const features = new Map<string, 'numerical' | 'categorical'>(hostile.map((n, i) => [n, i % 2 === 0 ? 'numerical' : 'categorical']));
    const s = schema('h', { features });
    const values = Object.fromEntries(hostile.map((n, i) => [n, i % 2 === 0 ? i * 1.5 : `v${i}`]));
    delete values['toString'];
    const d = decodeMessage(message(JSON.stringify({ model: 'h', ts: T1, features: values }), 'json'), (m) => (m === 'h' ? s : undefined), LIMITS, NOW);
    expect(d.dead).toEqual([]);
    const f = d.records[0]!.features;
    expect(Object.keys(f)).toEqual(hostile);
    for (const [i, n] of hostile.entries()) expect(f[n]).toEqual(n === 'toString' ? null : i % 2 === 0 ? i * 1.5 : `v${i}`);
    expect(Object.getPrototypeOf(f)).toBe(Object.prototype);
    expect((globalThis as { x?: unknown }).x).toBeUndefined();
  });

  it('uses the arrival time for models on processing time, whatever ts says', () => {
    const d = decode(
      [
        JSON.stringify({ ...good, model: 'clock', ts: '1999-01-01T00:00:00Z' }),
        JSON.stringify({ model: 'clock', features: { temp: 1 } }),
        JSON.stringify({ ...good, model: 'clock', ts: 'garbage' }),
      ].join('\n'),
    );
    expect(d.dead).toEqual([]);
    expect(d.records.map((r) => r.ts)).toEqual([NOW - 5, NOW - 5, NOW - 5]);
  });
});

describe('decodeMessage: predictions and labels', () => {
  it('decodes prediction records of a prediction model', () => {
    const line = JSON.stringify({
      model: 'scorer',
      model_version: 'v7',
      ts: T1,
      id: 'r-1',
      prediction: 0.91,
      label: 1,
      status: 'error',
      features: { temp: 2 },
    });
    const d = decode(`${line}\n${JSON.stringify({ model: 'scorer', ts: T1, id: 12, prediction: 'cat' })}`);
    expect(d.dead).toEqual([]);
    expect(d.records[0]).toEqual({
      model: 'scorer',
      ts: T1_MS,
      kind: 'prediction',
      segment: {},
      features: { temp: 2, line: null },
      id: 'r-1',
      modelVersion: 'v7',
      prediction: 0.91,
      label: 1,
      status: 'error',
    });
    expect(d.records[1]).toMatchObject({ id: '12', prediction: 'cat', status: 'ok', features: { temp: null, line: null } });
    expect(d.records[1]!.label).toBeUndefined();
  });

  it('lets the message kind override the schema kind', () => {
    const d = decode(JSON.stringify({ ...good, prediction: true }), 'json', { kind: 'prediction' });
    expect(d.records[0]).toMatchObject({ kind: 'prediction', prediction: true, status: 'ok' });
  });

  it('decodes label messages into label records', () => {
    const d = decode(
      [
        JSON.stringify({ model: 'scorer', id: 'r-1', ts: T1, label: 0 }),
        JSON.stringify({ model: 'scorer', id: 3, ts: T1_MS, label: 'spam' }),
        JSON.stringify({ model: 'scorer', ts: T1, label: 0 }),
        JSON.stringify({ model: 'scorer', id: 'r-2', ts: T1 }),
        JSON.stringify({ model: 'scorer', id: 'r-3', ts: T1, label: { x: 1 } }),
      ].join('\n'),
      'ndjson',
      { kind: 'label' },
    );
    expect(d.records).toEqual([]);
    expect(d.labels).toEqual([
      { model: 'scorer', id: 'r-1', ts: T1_MS, label: 0 },
      { model: 'scorer', id: '3', ts: T1_MS, label: 'spam' },
    ]);
    expect(d.dead.map((x) => [x.origin, x.reasonCode, x.reason])).toEqual([
      ['test:p@7:line 3', 'bad_label', 'a label record needs "id" (a non-empty string or a number) to join its prediction, it has none'],
      ['test:p@7:line 4', 'bad_label', 'a label record needs "label" (a number, string or boolean), it has none'],
      ['test:p@7:line 5', 'bad_label', 'a label record needs "label" (a number, string or boolean), found an object {"x":1}'],
    ]);
  });
});

describe('decodeMessage: dead letters', () => {
  it('bad_json names the character where the line stops being JSON', () => {
    expect(deadOf('{"model": "press", "ts": tru}')).toEqual({
      code: 'bad_json',
      reason: 'not valid JSON: expected a value at character 26, found "t"',
    });
    expect(deadOf('{"model": "press"')).toEqual({
      code: 'bad_json',
      reason: "not valid JSON: expected ',' or '}' after a value at character 18, found the end of the input",
    });
    expect(deadOf('{"a":1} x').reason).toBe('not valid JSON: expected the end of the input after the value at character 9, found "x"');
    expect(deadOf('{"a":"\\q"}').reason).toMatch(/^not valid JSON: expected an escape .* at character 8, found "q"$/);
  });

  it('not_an_object says what the value was', () => {
    expect(deadOf('[1,2]')).toEqual({ code: 'not_an_object', reason: 'expected a JSON object, found an array [1,2]' });
    expect(deadOf('"x"')).toEqual({ code: 'not_an_object', reason: 'expected a JSON object, found "x"' });
    expect(deadOf('null')).toEqual({ code: 'not_an_object', reason: 'expected a JSON object, found null' });
  });

  it('missing_model and unknown_model', () => {
    expect(deadOf({ ts: T1 })).toEqual({ code: 'missing_model', reason: 'the record has no "model"' });
    expect(deadOf({ model: '', ts: T1 })).toEqual({
      code: 'missing_model',
      reason: '"model" must be a non-empty string, found ""',
    });
    expect(deadOf({ model: 42, ts: T1 }).reason).toBe('"model" must be a non-empty string, found 42');
    expect(deadOf({ ...good, model: 'nope' })).toEqual({
      code: 'unknown_model',
      reason: 'unknown model "nope": no schema is configured for it',
    });
  });

  it('timestamps: missing, unparseable, in the future, too old', () => {
    expect(deadOf({ model: 'press', features: {} })).toEqual({ code: 'missing_timestamp', reason: 'the record has no "ts"' });
    expect(deadOf({ model: 'press', ts: null })).toEqual({ code: 'missing_timestamp', reason: '"ts" is null' });
    const formats = ['2026-01-02T03:00:00', '2026-02-30T00:00:00Z', 'Jan 2 2026', '2026-01-02T25:00:00Z', '1767322800000'];
    for (const ts of formats) {
      expect(deadOf({ model: 'press', ts })).toEqual({
        code: 'bad_timestamp',
        reason: `"ts" must be ISO-8601 with a zone (2026-01-02T03:04:05.678Z) or epoch milliseconds, found ${JSON.stringify(ts)}`,
      });
    }
    expect(deadOf({ model: 'press', ts: { t: 1 } })).toEqual({
      code: 'bad_timestamp',
      reason: '"ts" must be an ISO-8601 string or epoch milliseconds, found an object {"t":1}',
    });
    expect(deadOf({ model: 'press', ts: NOW + 120_000 })).toEqual({
      code: 'timestamp_in_future',
      reason: '"ts" 2026-01-02T03:06:05.000Z is 2 min ahead of now (2026-01-02T03:04:05.000Z); the limit is 60 s',
    });
    expect(deadOf({ model: 'press', ts: '2025-12-30T03:04:05Z' })).toEqual({
      code: 'timestamp_too_old',
      reason: '"ts" 2025-12-30T03:04:05.000Z is 3 days before now (2026-01-02T03:04:05.000Z); the limit is 24 h',
    });
    expect(deadOf({ model: 'press', ts: Math.floor(NOW / 1000) }).reason).toMatch(
      /^"ts" 1970-01-21T\S+ \(epoch seconds\? "ts" is in milliseconds\) is /,
    );
    expect(deadOf({ model: 'press', ts: 1e300 }).reason).toMatch(/^"ts" 1e\+300 is /);
  });

  it('wrong_type names the feature, its type and the value', () => {
    expect(deadOf({ ...good, features: { temp: 'hot' } })).toEqual({
      code: 'wrong_type',
      reason: 'feature "temp" is numerical: expected a number or null, found "hot"',
    });
    expect(deadOf({ ...good, features: { temp: true } }).reason).toBe('feature "temp" is numerical: expected a number or null, found true');
    expect(deadOf({ ...good, features: { line: { a: 'x'.repeat(100) } } })).toEqual({
      code: 'wrong_type',
      reason: `feature "line" is categorical: expected a string, number, boolean or null, found an object {"a":"${'x'.repeat(34)}...`,
    });
    expect(deadOf({ ...good, features: [1] })).toEqual({ code: 'wrong_type', reason: '"features" must be an object, found an array [1]' });
    expect(deadOf({ model: 'scorer', ts: T1, prediction: [1] }).reason).toBe(
      '"prediction" must be a number, string or boolean, found an array [1]',
    );
    expect(deadOf({ model: 'scorer', ts: T1, prediction: 1, id: {} }).reason).toBe('"id" must be a string or a number, found an object {}');
  });

  it('bad_segment: no segment, a missing field, a value of the wrong kind', () => {
    expect(deadOf({ ...good, model: 'lots' })).toEqual({
      code: 'bad_segment',
      reason: 'model "lots" is segmented by "lot_id", but the record has no "segment"',
    });
    expect(deadOf({ ...good, model: 'lots', segment: 'L-1' }).reason).toBe('model "lots" is segmented by "lot_id", but "segment" is "L-1"');
    expect(deadOf({ ...good, model: 'lots', segment: {} })).toEqual({ code: 'bad_segment', reason: 'segment field "lot_id" is missing' });
    expect(deadOf({ ...good, model: 'lots', segment: { lot_id: [1] } }).reason).toBe(
      'segment field "lot_id" must be a non-empty string or a number, found an array [1]',
    );
  });

  it('missing_prediction, bad_status, bad_label', () => {
    expect(deadOf({ model: 'scorer', ts: T1 })).toEqual({
      code: 'missing_prediction',
      reason: 'a prediction record needs "prediction" (or "status": "error"), it has none',
    });
    expect(deadOf({ model: 'scorer', ts: T1, prediction: null }).reason).toBe('a prediction record needs "prediction" (or "status": "error"), found null');
    // A failed prediction may have no value.
    for (const prediction of [undefined, null]) {
      const d = decode(JSON.stringify({ model: 'scorer', ts: T1, id: 'p1', prediction, status: 'error' }));
      expect(d.dead).toEqual([]);
      expect(d.records).toHaveLength(1);
      expect(d.records[0]!.status).toBe('error');
      expect('prediction' in d.records[0]!).toBe(false);
    }
    expect(deadOf({ model: 'scorer', ts: T1, prediction: 1, status: 'OK' })).toEqual({
      code: 'bad_status',
      reason: '"status" must be "ok" or "error", found "OK"',
    });
    expect(deadOf({ model: 'scorer', ts: T1, prediction: 1, label: [0] })).toEqual({
      code: 'bad_label',
      reason: '"label" must be a number, string or boolean, found an array [0]',
    });
  });

  it('oversized lines are refused before parsing', () => {
    const big = JSON.stringify({ ...good, features: { line: 'x'.repeat(5000) } });
    const d = decode(`${big}\n${JSON.stringify(good)}`);
    expect(d.records).toHaveLength(1);
    expect(d.dead).toEqual([
      {
        origin: 'test:p@7:line 1',
        model: '',
        reasonCode: 'oversized',
        reason: `the record is ${big.length} bytes, over the limit of 4096 bytes per record`,
        payload: new TextEncoder().encode(big),
      },
    ]);
  });
});

describe('decodeMessage: NDJSON', () => {
  it('keeps the good lines of a mixed message and names the bad ones by line, with their bytes', () => {
    const lines = [
      JSON.stringify(good),
      '{"model": "press", "ts": ',
      '',
      '   ',
      JSON.stringify({ ...good, features: { temp: 'hot' } }),
      JSON.stringify({ ...good, features: { temp: 2 } }),
    ];
    const d = decode(`\uFEFF${lines.join('\r\n')}\r\n`);
    expect(d.records.map((r) => r.features.temp)).toEqual([81.5, 2]);
    expect(d.dead.map((x) => [x.origin, x.model, x.reasonCode, text(x.payload)])).toEqual([
      ['test:p@7:line 2', '', 'bad_json', lines[1]],
      ['test:p@7:line 5', 'press', 'wrong_type', lines[4]],
    ]);
  });

  it('an empty message has nothing in it, and no error', () => {
    expect(decode('\n\n  \n')).toEqual({ records: [], labels: [], dead: [] });
  });
});

describe('decodeMessage: JSON', () => {
  it('reads one object, or an array of them with per-item dead letters', () => {
    expect(decode(JSON.stringify(good), 'json').records).toHaveLength(1);
    const body = `[ ${JSON.stringify(good)} , {"model": "press", "ts": tru} ,"x", ${JSON.stringify({ ...good, ts: T1_MS })}\n]\n`;
    const d = decode(body, 'json');
    expect(d.bodyError).toBeUndefined();
    expect(d.records).toHaveLength(2);
    expect(d.dead.map((x) => [x.origin, x.reasonCode, x.reason, text(x.payload)])).toEqual([
      ['test:p@7:item 2', 'bad_json', 'not valid JSON: expected a value at character 26, found "t"', '{"model": "press", "ts": tru}'],
      ['test:p@7:item 3', 'not_an_object', 'expected a JSON object, found "x"', '"x"'],
    ]);
    expect(decode('[]', 'json')).toEqual({ records: [], labels: [], dead: [] });
    expect(decode('[{"a":"],[,"}, 5 ,]', 'json').dead.map((x) => [x.reasonCode, text(x.payload)])).toEqual([
      ['missing_model', '{"a":"],[,"}'],
      ['not_an_object', '5'],
      ['bad_json', ''],
    ]);
  });

  it('a body that does not parse sets bodyError and keeps the whole body as one dead letter', () => {
    for (const body of ['{"model": "press"', '[{"model": "press"}', '[1] 2', '']) {
      const d = decode(body, 'json');
      expect(d.records).toEqual([]);
      expect(d.bodyError).toMatch(/^the body is not valid JSON/);
      expect(d.dead).toHaveLength(1);
      expect(d.dead[0]).toMatchObject({ origin: 'test:p@7', model: '', reasonCode: 'bad_json' });
      expect(text(d.dead[0]!.payload)).toBe(body);
    }
    expect(decode('[1] 2', 'json').bodyError).toBe(
      'the body is not valid JSON: expected the end of the input after the value at character 5, found "2"',
    );
  });

  it('a single object over the record limit is oversized, not a body error', () => {
    const d = decode(JSON.stringify({ ...good, pad: 'x'.repeat(5000) }), 'json');
    expect(d.bodyError).toBeUndefined();
    expect(d.dead[0]).toMatchObject({ origin: 'test:p@7', reasonCode: 'oversized' });
  });
});

describe('decodeMessage: Arrow IPC', () => {
  const models = (values: string[]) => vectorFromArray(values, new Dictionary(new Utf8(), new Int32()));

  it('reads several batches of one stream, each with several models, numbering rows across batches', () => {
    const first = new Table({
      model: models(['press', 'lots', 'press']),
      ts: vectorFromArray([T1_MS, T1_MS + 1, null], new TimestampMillisecond()),
      temp: vectorFromArray([1.5, null, 3], new Float64()),
      line: vectorFromArray(['A', 'B', null], new Utf8()),
      lot_id: vectorFromArray(['x', 'L-1', 'y'], new Utf8()),
      unused: vectorFromArray([1, 2, 3], new Float64()),
    });
    const second = new Table({
      model: models(['lots', 'press']),
      ts: vectorFromArray([T1_MS + 2, 0], new TimestampMillisecond()),
      temp: vectorFromArray([7, 8], new Float64()),
      line: vectorFromArray(['C', 'D'], new Utf8()),
      lot_id: vectorFromArray([null, 'L-2'], new Utf8()),
      unused: vectorFromArray([4, 5], new Float64()),
    });
    const bytes = tableToIPC(first.concat(second), 'stream');
    const d = decode(bytes, 'arrow');
    expect(d.bodyError).toBeUndefined();
    expect(d.records).toEqual([
      { model: 'press', ts: T1_MS, kind: 'telemetry', segment: {}, features: { temp: 1.5, line: 'A' } },
      { model: 'lots', ts: T1_MS + 1, kind: 'telemetry', segment: { lot_id: 'L-1' }, features: { temp: null, line: 'B' } },
    ]);
    expect(d.dead.map((x) => [x.origin, x.model, x.reasonCode, x.reason])).toEqual([
      ['test:p@7:row 3', 'press', 'missing_timestamp', '"ts" is null'],
      ['test:p@7:row 4', 'lots', 'bad_segment', 'segment field "lot_id" is missing'],
      ['test:p@7:row 5', 'press', 'timestamp_too_old', '"ts" 1970-01-01T00:00:00.000Z is 20455.1 days before now (2026-01-02T03:04:05.000Z); the limit is 24 h'],
    ]);
    expect(JSON.parse(text(d.dead[0]!.payload))).toEqual({ model: 'press', ts: null, temp: 3, line: null, lot_id: 'y', unused: 3 });
  });

  it('reads every timestamp type: any timestamp unit, date, int64, float, ISO text', () => {
    const columns = [
      vectorFromArray([T1_MS], new TimestampMillisecond()),
      makeVector({ type: new TimestampNanosecond(), data: new BigInt64Array([BigInt(T1_MS) * 1_000_000n]) }),
      makeVector({ type: new TimestampSecond(), data: new BigInt64Array([BigInt(T1_MS / 1000)]) }),
      makeVector(new BigInt64Array([BigInt(T1_MS)])),
      vectorFromArray([T1_MS], new Float64()),
      vectorFromArray([T1], new Utf8()),
      vectorFromArray([new Date(T1_MS - (T1_MS % 86_400_000))], new DateDay()),
    ];
    const times = columns.map((ts) => {
      const d = decode(tableToIPC(new Table({ model: vectorFromArray(['press'], new Utf8()), ts }), 'stream'), 'arrow', {});
      return d.records[0]?.ts ?? d.dead[0]?.reason;
    });
    expect(times).toEqual([T1_MS, T1_MS, T1_MS, T1_MS, T1_MS, T1_MS, Date.parse('2026-01-02T00:00:00Z')]);
    const int64 = decode(tableToIPC(new Table({ model: vectorFromArray(['press'], new Utf8()), ts: vectorFromArray([T1_MS], new Float64()), temp: makeVector(new BigInt64Array([7n])), line: vectorFromArray([4.5], new Float64()) }), 'stream'), 'arrow');
    expect(int64.records[0]!.features).toEqual({ temp: 7, line: '4.5' });
  });

  it('reads prediction columns and refuses rows of the wrong type, each on its own', () => {
    const table = new Table({
      model: vectorFromArray(['scorer', 'scorer', 'scorer', 'nope'], new Utf8()),
      ts: vectorFromArray([T1_MS, T1_MS, T1_MS, T1_MS], new Float64()),
      id: vectorFromArray(['a', 'b', 'c', 'd'], new Utf8()),
      prediction: vectorFromArray([0.5, null, 0.7, 1], new Float64()),
      status: vectorFromArray(['ok', 'ok', 'bad', 'ok'], new Utf8()),
      model_version: vectorFromArray(['v1', 'v1', 'v1', 'v1'], new Utf8()),
      temp: vectorFromArray(['1', '2', '3', '4'], new Utf8()),
    });
    const ok = decode(tableToIPC(table.slice(0, 1), 'stream'), 'arrow');
    expect(ok.dead).toHaveLength(1);
    expect(ok.dead[0]!.reason).toBe('feature "temp" is numerical: expected a number or null, found "1"');
    const d = decode(tableToIPC(table.select(['model', 'ts', 'id', 'prediction', 'status', 'model_version']), 'stream'), 'arrow');
    expect(d.records).toEqual([
      { model: 'scorer', ts: T1_MS, kind: 'prediction', segment: {}, features: { temp: null, line: null }, id: 'a', modelVersion: 'v1', prediction: 0.5, label: undefined, status: 'ok' },
    ]);
    expect(d.dead.map((x) => [x.origin, x.reasonCode])).toEqual([
      ['test:p@7:row 2', 'missing_prediction'],
      ['test:p@7:row 3', 'bad_status'],
      ['test:p@7:row 4', 'unknown_model'],
    ]);
  });

  it('a batch without a model column gives one missing_model per row', () => {
    const d = decode(tableToIPC(new Table({ ts: vectorFromArray([1, 2], new Float64()) }), 'stream'), 'arrow');
    expect(d.dead.map((x) => x.reasonCode)).toEqual(['missing_model', 'missing_model']);
  });

  it('reads every stream of a body that holds several one after the other, and refuses bytes after a stream that are not one', () => {
    const stream = (temps: number[]) =>
      tableToIPC(new Table({ model: vectorFromArray(temps.map(() => 'press'), new Utf8()), ts: vectorFromArray(temps.map(() => T1_MS), new Float64()), temp: vectorFromArray(temps, new Float64()) }), 'stream');
    const two = decode(Buffer.concat([stream([1, 2]), stream([3])]), 'arrow');
    expect(two.bodyError).toBeUndefined();
    expect(two.records.map((r) => r.features['temp'])).toEqual([1, 2, 3]);
    const trailing = Buffer.concat([stream([1]), Buffer.from('garbage!garbage!')]);
    const d = decode(trailing, 'arrow');
    expect(d.records).toEqual([]);
    expect(d.bodyError).toMatch(/^the body is not an Arrow IPC stream: the bytes after the end of the stream \(byte \d+\) are not another stream/);
    expect(d.dead).toHaveLength(1);
    expect(d.dead[0]!.payload).toEqual(new Uint8Array(trailing));
    // The file format still reads.
    const file = decode(tableToIPC(new Table({ model: vectorFromArray(['press'], new Utf8()), ts: vectorFromArray([T1_MS], new Float64()) }), 'file'), 'arrow');
    expect([file.bodyError, file.records.length]).toEqual([undefined, 1]);
  });

  it('refuses row counts and metadata lists the bytes cannot back, before apache-arrow allocates for them', () => {
    // A Null column has no buffers: a 240-byte stream can say it holds any number of rows.
    const nullRows = (rows: number) => tableToIPC(new Table({ model: makeVector(makeData({ type: new Null(), length: rows, nullCount: rows })) }), 'stream');
    const huge = nullRows(2_000_000);
    const d = decode(huge, 'arrow');
    expect(d.records).toEqual([]);
    expect(d.bodyError).toBe(`the body is not an Arrow IPC stream: record batch 1 (byte 128): it says it holds 2000000 rows, more than a body of 0 bytes can carry`);
    expect(d.dead.map((x) => [x.reasonCode, x.payload.length])).toEqual([['bad_arrow', huge.length]]);
    // A small batch of Null columns is within the allowance: its rows are judged one by one.
    expect(decode(nullRows(3), 'arrow').dead.map((x) => x.reasonCode)).toEqual(['missing_model', 'missing_model', 'missing_model']);
    // A corrupted count of column nodes (here 2^24 + 1) in a record batch's metadata.
    const good = tableToIPC(new Table({ model: vectorFromArray(['press', 'press'], new Utf8()), ts: vectorFromArray([T1_MS, T1_MS], new Float64()) }), 'stream');
    const corrupt = Buffer.from(good);
    const nodes = nodeCountAt(corrupt);
    corrupt.writeUInt32LE(2 ** 24 + 1, nodes);
    const c = decode(corrupt, 'arrow');
    expect(c.bodyError).toMatch(/^the body is not an Arrow IPC stream: record batch 1 \(byte \d+\): 16777217 column nodes do not fit in \d+ bytes of metadata$/);
    // Random corruption never throws, and every body is either read or refused as a whole.
    const random = seededRandom(99);
    for (let k = 0; k < 3000; k++) {
      const bytes = Buffer.from(good);
      for (let j = 0; j <= k % 4; j++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const r = decode(bytes, 'arrow');
      if (r.bodyError !== undefined) expect(r.dead).toHaveLength(1);
      else expect(r.records.length + r.dead.length).toBeLessThanOrEqual(2 + 8 * bytes.length + 4096);
    }
  });

  it('reads features and segment from struct columns as the JSON layout has them, like the JSON objects they would be', () => {
    const objects = [
      { model: 'lots', ts: T1_MS, temp: 99, features: { temp: 1.5, line: 'A' }, segment: { lot_id: 'L-1' } },
      { model: 'lots', ts: T1_MS + 1, temp: 99, features: null, segment: { lot_id: 'L-2' } },
      { model: 'lots', ts: T1_MS + 2, temp: 99, features: { temp: null, line: 'B' }, segment: null },
      { model: 'press', ts: T1_MS + 3, temp: 99, features: { temp: 4, line: null }, segment: { lot_id: 'x' } },
    ];
    const featureType = new Struct([new Field('temp', new Float64(), true), new Field('line', new Utf8(), true)]);
    const segmentType = new Struct([new Field('lot_id', new Utf8(), true)]);
    const table = new Table({
      model: vectorFromArray(objects.map((o) => o.model), new Utf8()),
      ts: vectorFromArray(objects.map((o) => o.ts), new Float64()),
      temp: vectorFromArray(objects.map((o) => o.temp), new Float64()),
      features: vectorFromArray(objects.map((o) => o.features), featureType),
      segment: vectorFromArray(objects.map((o) => o.segment), segmentType),
    });
    const arrow = decode(tableToIPC(table, 'stream'), 'arrow');
    const json = decode(objects.map((o) => JSON.stringify(o)).join('\n'));
    expect(arrow.records).toEqual(json.records);
    expect(arrow.records.map((r) => r.features)).toEqual([{ temp: 1.5, line: 'A' }, { temp: null, line: null }, { temp: 4, line: null }]);
    expect(arrow.dead.map((d) => [d.reasonCode, d.reason])).toEqual(json.dead.map((d) => [d.reasonCode, d.reason]));
    expect(arrow.dead.map((d) => d.reasonCode)).toEqual(['bad_segment']);
  });

  it('keeps 64-bit ids exact (they join labels: 2^60 + 1 and 2^60 + 2 are one double)', () => {
    const ids = [2n ** 60n + 1n, 2n ** 60n + 2n, 7n];
    const d = decode(
      tableToIPC(
        new Table({
          model: vectorFromArray(['scorer', 'scorer', 'scorer'], new Utf8()),
          ts: vectorFromArray([T1_MS, T1_MS, T1_MS], new Float64()),
          id: makeVector(BigInt64Array.from(ids)),
          prediction: vectorFromArray([0.1, 0.2, 0.3], new Float64()),
        }),
        'stream',
      ),
      'arrow',
    );
    expect(d.dead).toEqual([]);
    expect(d.records.map((r) => r.id)).toEqual(['1152921504606846977', '1152921504606846978', '7']);
  });

  it('cuts Arrow microsecond and nanosecond times to the millisecond, like ISO text and fractional epoch milliseconds', () => {
    const last = BigInt(T1_MS) + 59_999n;
    const ts = [
      makeVector({ type: new TimestampNanosecond(), data: new BigInt64Array([last * 1_000_000n + 999_999n, -1n]) }),
      makeVector({ type: new TimestampMicrosecond(), data: new BigInt64Array([last * 1_000n + 999n, -1n]) }),
    ];
    const times = ts.map((column) => {
      const d = decodeMessage(message(tableToIPC(new Table({ model: vectorFromArray(['press', 'press'], new Utf8()), ts: column }), 'stream'), 'arrow'), schemaOf, { ...LIMITS, maxPastMs: 1e15 }, NOW);
      return d.records.map((r) => r.ts);
    });
    expect(times).toEqual([[Number(last), -1], [Number(last), -1]]);
    expect(decode(JSON.stringify({ ...good, ts: T1_MS + 59_999.7 })).records[0]!.ts).toBe(T1_MS + 59_999);
    expect(decode(JSON.stringify({ ...good, ts: '2026-01-02T03:00:59.9999999Z' })).records[0]!.ts).toBe(T1_MS + 59_999);
  });

  it('bytes that are not an Arrow stream set bodyError', () => {
    const good = tableToIPC(new Table({ model: vectorFromArray(['press'], new Utf8()) }), 'stream');
    for (const bytes of [new TextEncoder().encode('{"model":"press"}'), new Uint8Array(0), good.slice(0, good.length - 12)]) {
      const d = decode(bytes, 'arrow');
      expect(d.records).toEqual([]);
      expect(d.bodyError).toMatch(/^the body is not an Arrow IPC stream: /);
      expect(d.dead).toEqual([
        { origin: 'test:p@7', model: '', reasonCode: 'bad_arrow', reason: d.bodyError!.slice('the body is '.length), payload: bytes },
      ]);
    }
  });
});

describe('decodeMessage: a message of many bad records', () => {
  const limits: DecodeLimits = { ...LIMITS, maxDeadLettersPerMessage: 5 };

  it('gives the first ones a dead letter each and the rest one more, with their count, their reasons and the whole message', () => {
    const lines = [JSON.stringify(good)];
    for (let i = 0; i < 12; i++) lines.push(i % 4 === 3 ? JSON.stringify({ ...good, model: 'nope' }) : `{bad ${i}`);
    lines.push(JSON.stringify(good));
    const body = lines.join('\n');
    const d = decodeMessage(message(body, 'ndjson'), schemaOf, limits, NOW);
    expect(d.records).toHaveLength(2);
    expect(d.dead).toHaveLength(6);
    expect(d.dead.slice(0, 5).map((x) => [x.origin, x.reasonCode, x.records])).toEqual([
      ['test:p@7:line 2', 'bad_json', undefined],
      ['test:p@7:line 3', 'bad_json', undefined],
      ['test:p@7:line 4', 'bad_json', undefined],
      ['test:p@7:line 5', 'unknown_model', undefined],
      ['test:p@7:line 6', 'bad_json', undefined],
    ]);
    const more = d.dead[5]!;
    expect(more).toMatchObject({ origin: 'test:p@7', model: '', reasonCode: 'more_refused', records: 7 });
    expect(more.reason).toBe('7 more records were refused (test:p@7:line 7 to test:p@7:line 13) after the 5 above, by reason: bad_json 5, unknown_model 2; the payload is the whole message');
    expect(text(more.payload)).toBe(body);
    // The same message under the default limit: one letter per record.
    const all = decode(body);
    expect(all.dead.map((x) => x.reasonCode).filter((c) => c === 'more_refused')).toEqual([]);
    expect(all.dead).toHaveLength(12);
  });

  it('Arrow rows past the limit are counted, not copied, and the letter names their model when they share one', () => {
    const n = 40;
    const table = new Table({
      model: vectorFromArray(Array.from({ length: n }, () => 'press'), new Utf8()),
      ts: vectorFromArray(Array.from({ length: n }, (_, i) => (i === 0 ? T1 : 'soon')), new Utf8()),
    });
    const bytes = tableToIPC(table, 'stream');
    const d = decodeMessage(message(bytes, 'arrow'), schemaOf, limits, NOW);
    expect(d.records).toHaveLength(1);
    expect(d.dead.map((x) => x.reasonCode)).toEqual(['bad_timestamp', 'bad_timestamp', 'bad_timestamp', 'bad_timestamp', 'bad_timestamp', 'more_refused']);
    expect(d.dead[5]).toMatchObject({ model: 'press', records: 34 });
    expect(d.dead[5]!.reason).toMatch(/^34 more records were refused \(test:p@7:row 7 to test:p@7:row 40\) after the 5 above, by reason: bad_timestamp 34;/);
    expect(d.dead[5]!.payload).toEqual(new Uint8Array(bytes));
  });

  it('past the limit, records get the very verdicts they get below it (the syntax checker stands in for JSON.parse)', () => {
    const random = seededRandom(7);
    const alphabet = ['{', '}', '[', ']', '"', ',', ':', ' ', '\\', 'x', '1', '-', '.', 'e', 'NaN', 'Infinity', 'null', '\u00e9', '\t'];
    const lines: string[] = [];
    for (let k = 0; k < 4000; k++) {
      let line = JSON.stringify({ model: k % 5 === 0 ? 'nope' : 'press', ts: T1, features: { temp: k % 3 === 0 ? 'NaN' : k, line: 'A' } });
      if (k % 7 === 0) line = line.replace('"NaN"', 'NaN');
      for (let m = Math.floor(random() * 3); m > 0; m--) {
        const at = Math.floor(random() * line.length);
        const piece = alphabet[Math.floor(random() * alphabet.length)]!;
        const op = Math.floor(random() * 3);
        line = line.slice(0, at) + (op === 2 ? '' : piece) + line.slice(op === 0 ? at : at + 1);
      }
      lines.push(line.replace(/\n/g, ' '));
    }
    const body = lines.join('\n');
    const each = decodeMessage(message(body, 'ndjson'), schemaOf, { ...LIMITS, maxDeadLettersPerMessage: Number.MAX_SAFE_INTEGER }, NOW);
    const counted = decodeMessage(message(body, 'ndjson'), schemaOf, { ...LIMITS, maxDeadLettersPerMessage: 0 }, NOW);
    expect(counted.records).toEqual(each.records);
    expect(counted.dead).toHaveLength(1);
    const codes = new Map<string, number>();
    for (const d of each.dead) codes.set(d.reasonCode, (codes.get(d.reasonCode) ?? 0) + 1);
    const byCode = [...codes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([code, k]) => `${code} ${k}`).join(', ');
    expect(counted.dead[0]!.records).toBe(each.dead.length);
    expect(counted.dead[0]!.reason).toContain(`by reason: ${byCode};`);
    expect(each.records.length).toBeGreaterThan(500);
    expect(codes.get('bad_json')).toBeGreaterThan(500);
  });

  it('a message of exactly the limit has no extra letter, and one more refused record makes it', () => {
    const bad = (k: number) => Array.from({ length: k }, (_, i) => `{bad ${i}`).join('\n');
    expect(decodeMessage(message(bad(5), 'ndjson'), schemaOf, limits, NOW).dead.map((x) => x.reasonCode)).not.toContain('more_refused');
    const six = decodeMessage(message(bad(6), 'ndjson'), schemaOf, limits, NOW).dead;
    expect(six[5]).toMatchObject({ reasonCode: 'more_refused', records: 1 });
    expect(six[5]!.reason).toMatch(/^1 more record was refused \(test:p@7:line 6\) after the 5 above/);
  });
});

describe('decodeMessage: fuzz', () => {
  it('never throws, and every non-blank NDJSON line is either a record or a dead letter', () => {
    const random = seededRandom(20260102);
    const base = [
      good,
      { ...good, model: 'lots', segment: { lot_id: 'L-7' } },
      { model: 'scorer', ts: T1_MS, id: 'x', prediction: 0.3, label: 1, status: 'ok', features: { temp: -1, line: 'Z' } },
      { model: 'clock', features: { temp: 3, line: 4 } },
    ].map((r) => JSON.stringify(r));
    const swaps = ['null', '"s"', '1.5', 'true', '{}', '[]', '-1e999', 'NaN'];
    for (let round = 0; round < 200; round++) {
      const lines: string[] = [];
      for (let k = 0; k < 50; k++) {
        let line = base[Math.floor(random() * base.length)]!;
        const mutation = Math.floor(random() * 4);
        if (mutation === 0) line = line.slice(0, Math.floor(random() * line.length));
        else if (mutation === 1) {
          const bytes = new TextEncoder().encode(line);
          for (let f = 0; f < 3; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
          line = Buffer.from(bytes).toString('latin1');
        } else if (mutation === 2) {
          line = line.replace(/:(\s*)("[^"]*"|-?[\d.e+]+|true|false|null)/g, (whole, space: string) =>
            random() < 0.3 ? `:${space}${swaps[Math.floor(random() * swaps.length)]!}` : whole,
          );
        }
        line = line.replace(/\n/g, 'n');
        if (line.trim() === '' || line.replace(/[\r\t ]/g, '') === '') line = 'x';
        lines.push(line);
      }
      const bytes = Buffer.from(lines.join('\n'), 'latin1');
      const d = decodeMessage(message(bytes, 'ndjson'), schemaOf, LIMITS, NOW);
      expect(d.records.length + d.dead.length).toBe(lines.length);
      const deadLines = d.dead.map((x) => Number(/:line (\d+)$/.exec(x.origin)![1]));
      expect(new Set(deadLines).size).toBe(deadLines.length);
      for (const x of d.dead) expect(x.reason.length).toBeGreaterThan(0);
      const asArray = decodeMessage(message(`[${lines.join(',')}]`, 'json'), schemaOf, LIMITS, NOW);
      expect(asArray.records.length + asArray.dead.length).toBeGreaterThan(0);
      const asArrow = decodeMessage(message(bytes, 'arrow'), schemaOf, LIMITS, NOW);
      expect(asArrow.bodyError).toBeDefined();
    }
  });

  it('the JSON fast path gives the very records, labels and dead letters that JSON.parse gives', () => {
    const random = seededRandom(20261124);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const base = [
      good,
      { model: 'press', ts: T1_MS - 1, features: { line: 4, temp: '-Infinity', extra: [1, { a: 2 }] } },
      { ...good, model: 'lots', segment: { lot_id: 'L-7', other: 1 } },
      { ...good, model: 'lots', segment: { lot_id: 12 } },
      { model: 'scorer', ts: T1_MS, id: 'x', model_version: 2, prediction: 0.3, label: 1, status: 'ok', features: { temp: -1, line: 'Z' } },
      { model: 'scorer', ts: T1, prediction: 'yes', status: 'error', features: { temp: 1e-7, line: true } },
      { model: 'clock', features: { temp: 3, line: 4 } },
      { model: 'press', ts: T1, features: { temp: 81.5, line: 'ünï 🚀' } },
    ].map((r) => JSON.stringify(r));
    const swaps = ['null', '"s"', '1.5', '-0', 'true', '{}', '[]', '-1e999', 'NaN', '"NaN"', '0.1e1', '"\\u00e9"', '1763900000000'];
    const kinds = [undefined, undefined, undefined, 'telemetry', 'prediction', 'label'] as const;
    let records = 0;
    let dead = 0;
    for (let round = 0; round < 150; round++) {
      const lines: string[] = [];
      for (let k = 0; k < 40; k++) {
        let line = pick(base);
        const mutation = Math.floor(random() * 5);
        if (mutation === 0) line = line.slice(0, Math.floor(random() * line.length));
        else if (mutation === 1) {
          const bytes = Buffer.from(line);
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
          line = bytes.toString('latin1');
        } else if (mutation === 2) {
          line = line.replace(/:(\s*)("[^"]*"|-?[\d.e+]+|true|false|null)/g, (whole, space: string) =>
            random() < 0.3 ? `:${space}${pick(swaps)}` : whole,
          );
        } else if (mutation === 3) line = line.replace(/,/g, () => pick([',', ' ,', ',\t', ' , ']));
        lines.push(line.replace(/\n/g, 'n'));
      }
      const over = { kind: pick(kinds) };
      const variants: Array<[string | Buffer, PayloadFormat]> = [
        [Buffer.from(lines.join('\n'), 'latin1'), 'ndjson'],
        [Buffer.from(`[${lines.join(',')}]`, 'latin1'), 'json'],
        [Buffer.from(lines[0]!, 'latin1'), 'json'],
      ];
      for (const [value, format] of variants) {
        const fast = decodeMessage(message(value, format, over), schemaOf, LIMITS, NOW);
        const slow = decodeMessage(message(value, format, over), schemaOf, LIMITS, NOW, { fastJson: false });
        expect(fast).toEqual(slow);
        records += fast.records.length + fast.labels.length;
        dead += fast.dead.length;
      }
    }
    // Both kinds of outcome were compared many times.
    expect(records).toBeGreaterThan(2000);
    expect(dead).toBeGreaterThan(2000);
  });
});

