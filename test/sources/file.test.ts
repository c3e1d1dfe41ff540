import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Table, tableToIPC, TimestampMillisecond, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseCsv } from '../../src/files/csv.js';
import type { BatchOutcome, Source, SourceBatch, SourceHandler, SourceMessage, StreamRecord } from '../../src/core/stream.js';
import { type DeadLetterDraft, decodeMessage, type ModelSchema } from '../../src/pipeline/decode.js';
import { createFileSource, type FileSourceOptions } from '../../src/sources/file.js';

const T0 = Date.parse('2026-01-02T03:00:00Z');
const NOW = T0 + 60_000;
const SCHEMA: ModelSchema = {
  model: 'press',
  kind: 'telemetry',
  segmentBy: ['lot_id'],
  features: new Map<string, 'numerical' | 'categorical'>([
    ['temp', 'numerical'],
    ['line', 'categorical'],
    ['ok', 'categorical'],
  ]),
  time: 'event',
};
const LIMITS = { maxRecordBytes: 10_000, maxFutureMs: 3_600_000, maxPastMs: 30 * 86_400_000 };
/** Every wait in these tests is bounded by this. */
const WAIT_MS = 10_000;

class Collector implements SourceHandler {
  readonly batches: SourceBatch[] = [];
  readonly assigned: string[] = [];
  readonly revoked: string[] = [];
  onBatchHook: ((batch: SourceBatch) => Promise<void>) | undefined;

  async onAssigned(partitions: ReadonlyArray<{ partition: string }>): Promise<void> {
    this.assigned.push(...partitions.map((p) => p.partition));
  }

  async onRevoked(partitions: ReadonlyArray<string>): Promise<void> {
    this.revoked.push(...partitions);
  }

  async onBatch(batch: SourceBatch): Promise<BatchOutcome> {
    this.batches.push(batch);
    await this.onBatchHook?.(batch);
    return { accepted: batch.messages.length, rejected: [], rejectedCount: 0 };
  }

  get messages() {
    return this.batches.flatMap((b) => b.messages);
  }

  /** As the pipeline answers it, from the model's schema (null: a handler that does not know, as before schemas). */
  featureKinds: ReadonlyMap<string, 'numerical' | 'categorical'> | null = SCHEMA.features;

  featureKind(model: string, feature: string): 'numerical' | 'categorical' | undefined {
    return model === 'press' ? this.featureKinds?.get(feature) : undefined;
  }

  /** What the pipeline would make of the delivered messages. */
  records(): StreamRecord[] {
    return this.messages.flatMap((m) => {
      const d = decodeMessage(m, (model) => (model === 'press' ? SCHEMA : undefined), LIMITS, NOW);
      expect(d.dead).toEqual([]);
      return d.records;
    });
  }
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driftwatch-file-source-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function replay(
  options: FileSourceOptions,
  handler = new Collector(),
): Promise<{ source: Source; handler: Collector; progress: [number, number][] }> {
  const progress: [number, number][] = [];
  const source = createFileSource({ ...options, onProgress: (done, total) => progress.push([done, total]) });
  await source.start(handler);
  await bounded(source.finished, 'the replay');
  await source.stop();
  return { source, handler, progress };
}

const rec = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'press', ts: T0 + i * 1000, segment: { lot_id: `L-${i}` }, features: { temp: i, line: 'A' }, ...extra });

describe('file replay', () => {
  it('replays NDJSON line by line, in batches, with line origins and progress', async () => {
    const path = await file('t.ndjson', `${rec(1)}\r\n\n${rec(2)}\n  \n${rec(3)}\n${rec(4)}\n${rec(5)}`);
    const { source, handler, progress } = await replay({ path, batchSize: 2 });
    expect(source.description).toBe(`file:${path}`);
    expect(handler.assigned).toEqual([`file:${path}`]);
    expect(handler.batches.map((b) => [b.partition, b.messages.length])).toEqual([
      [`file:${path}`, 2],
      [`file:${path}`, 2],
      [`file:${path}`, 1],
    ]);
    const messages = handler.messages;
    expect(messages.map((m) => [m.offset, m.origin, m.format])).toEqual(
      [1, 3, 5, 6, 7].map((line) => [BigInt(line), `file:${path}:${line}`, 'json']),
    );
    expect(new TextDecoder().decode(messages[0]!.value)).toBe(rec(1));
    expect(handler.records().map((r) => r.features.temp)).toEqual([1, 2, 3, 4, 5]);
    expect(progress).toEqual([
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    expect(handler.revoked).toEqual([]);
  });

  it('replays a JSON array item by item, and a single JSON object as one message', async () => {
    const items = [1, 2, 3].map((i) => JSON.parse(rec(i)) as unknown);
    const path = await file('t.json', JSON.stringify(items, null, 2));
    const { handler } = await replay({ path });
    expect(handler.messages.map((m) => [m.offset, m.origin, m.format])).toEqual(
      [1, 2, 3].map((i) => [BigInt(i), `file:${path}:item ${i}`, 'json']),
    );
    expect(handler.records().map((r) => r.segment['lot_id'])).toEqual(['L-1', 'L-2', 'L-3']);
    const single = await replay({ path: await file('one.data', rec(9)), format: 'json' });
    expect(single.handler.records().map((r) => r.features.temp)).toEqual([9]);
  });

  it('replays Arrow IPC files and streams batch by batch', async () => {
    const batch = (from: number, count: number) =>
      new Table({
        model: vectorFromArray(Array(count).fill('press'), new Utf8()),
        ts: vectorFromArray(Array.from({ length: count }, (_, i) => T0 + (from + i) * 1000), new TimestampMillisecond()),
        temp: vectorFromArray(Array.from({ length: count }, (_, i) => from + i), new Float64()),
        lot_id: vectorFromArray(Array(count).fill('L'), new Utf8()),
      });
    const table = batch(0, 3).concat(batch(3, 2), batch(5, 4));
    for (const [name, format] of [
      ['t.arrow', 'file'],
      ['t.arrows', 'stream'],
    ] as const) {
      const path = await file(name, tableToIPC(table, format));
      const { handler, progress } = await replay({ path, batchSize: 2 });
      expect(handler.messages.map((m) => [m.offset, m.origin, m.format])).toEqual(
        [1, 2, 3].map((i) => [BigInt(i), `file:${path}:batch ${i}`, 'arrow']),
      );
      expect(handler.records().map((r) => r.features.temp)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(progress).toEqual([
        [5, 9],
        [9, 9],
      ]);
    }
  });

  it('replays CSV rows as JSON records, typed by column, with physical line origins', async () => {
    const iso = (i: number) => new Date(T0 + i * 1000).toISOString();
    const csv = [
      'ts,lot_id,temp,line,ok,unused',
      `${iso(1)},0042,81.5,A,true,x`,
      '',
      `${T0 + 2000},L-2,,"multi`,
      `line, with comma",FALSE,y`,
      `${iso(3)},"L ""3""",NA,7,,z`,
    ].join('\r\n');
    const path = await file('t.csv', `\uFEFF${csv}\n`);
    const { handler } = await replay({ path, model: 'press', segmentBy: ['lot_id'] });
    expect(handler.messages.map((m) => [m.offset, m.origin, m.format])).toEqual([
      [2n, `file:${path}:2`, 'json'],
      [4n, `file:${path}:4`, 'json'],
      [6n, `file:${path}:6`, 'json'],
    ]);
    expect(JSON.parse(new TextDecoder().decode(handler.messages[0]!.value))).toEqual({
      model: 'press',
      ts: iso(1),
      segment: { lot_id: '0042' },
      features: { temp: 81.5, line: 'A', ok: true, unused: 'x' },
    });
    expect(handler.records().map((r) => [r.ts, r.segment['lot_id'], r.features])).toEqual([
      [T0 + 1000, '0042', { temp: 81.5, line: 'A', ok: true }],
      [T0 + 2000, 'L-2', { temp: null, line: 'multi\r\nline, with comma', ok: false }],
      [T0 + 3000, 'L "3"', { temp: null, line: '7', ok: null }],
    ]);
  });

  it('paces by event time at the given speed, delivering every record in order', async () => {
    // 2 s of event time at speed 1000: about 2 ms of sleeping in all.
    const lines = Array.from({ length: 21 }, (_, i) => JSON.stringify({ model: 'press', ts: T0 + i * 100, segment: { lot_id: 'L' }, features: { temp: i } }));
    const path = await file('paced.ndjson', lines.join('\n'));
    const { handler, progress } = await replay({ path, speed: 1000 });
    expect(handler.records().map((r) => r.features.temp)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(progress.at(-1)).toEqual([21, 21]);
    const csv = await file('paced.csv', `ts,lot_id,temp\n${T0},L,1\n${T0 + 500},L,2\n${T0 + 1000},L,3\n`);
    const paced = await replay({ path: csv, model: 'press', segmentBy: ['lot_id'], speed: 1000 });
    expect(paced.handler.records().map((r) => r.features.temp)).toEqual([1, 2, 3]);
  });

  it('ends a long pacing sleep when aborted, and finished rejects', async () => {
    // An hour between the two records at speed 1: the sleep is capped at 5 s, and the abort ends it at once.
    const path = await file('gap.ndjson', `${rec(0)}\n${rec(3600)}\n`);
    const controller = new AbortController();
    const source = createFileSource({ path, speed: 1, signal: controller.signal });
    const handler = new Collector();
    let first!: () => void;
    const delivered = new Promise<void>((resolve) => {
      first = resolve;
    });
    handler.onBatchHook = async () => first();
    await source.start(handler);
    await bounded(delivered, 'the first batch');
    controller.abort(new Error('user stopped the replay'));
    await expect(bounded(source.finished, 'the aborted replay')).rejects.toThrow('user stopped the replay');
    expect(handler.messages).toHaveLength(1);
    await source.stop();
  });

  it('waits while paused and goes on when resumed', async () => {
    const path = await file('pause.ndjson', `${rec(1)}\n${rec(2)}\n`);
    const source = createFileSource({ path, batchSize: 1 });
    const handler = new Collector();
    source.pause([`file:${path}`]);
    await source.start(handler);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handler.batches).toHaveLength(0);
    source.resume([`file:${path}`]);
    await bounded(source.finished, 'the resumed replay');
    expect(handler.batches).toHaveLength(2);
    await source.stop();
  });

  it('goes back to an offset when rewound', async () => {
    const path = await file('rewind.ndjson', [1, 2, 3, 4].map((i) => rec(i)).join('\n'));
    const source = createFileSource({ path, batchSize: 1 });
    const handler = new Collector();
    let rewound = false;
    handler.onBatchHook = async (batch) => {
      if (!rewound && batch.messages[0]!.offset === 3n) {
        rewound = true;
        await source.rewind(`file:${path}`, 2n);
      }
    };
    await source.start(handler);
    await bounded(source.finished, 'the rewound replay');
    expect(handler.messages.map((m) => m.offset)).toEqual([1n, 2n, 3n, 2n, 3n, 4n]);
    await source.stop();
  });

  it('stop() before the end lets the current batch finish, then finished rejects', async () => {
    const path = await file('stop.ndjson', [1, 2, 3].map((i) => rec(i)).join('\n'));
    const source = createFileSource({ path, batchSize: 1 });
    const handler = new Collector();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inBatch = new Promise<void>((resolve) => {
      entered = resolve;
    });
    handler.onBatchHook = async () => {
      entered();
      await gate;
    };
    await source.start(handler);
    await bounded(inBatch, 'the first batch');
    const stopped = source.stop();
    release();
    await bounded(stopped, 'stop');
    await expect(source.finished).rejects.toThrow(/stopped before the end of the file/);
    expect(handler.batches).toHaveLength(1);
  });

  it('rejects start() with an error naming the file when it is missing or malformed', async () => {
    const missing = join(dir, 'nope.ndjson');
    const source = createFileSource({ path: missing });
    const error = await source.start(new Collector()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('file_not_found');
    expect((error as InputError).message).toBe(`${missing}: file not found`);

    const notArrow = await file('bad.arrow', 'not arrow at all');
    await expect(createFileSource({ path: notArrow }).start(new Collector())).rejects.toThrow(
      new RegExp(`^${escape(notArrow)}: is not an? (readable )?Arrow IPC file`),
    );
    const badJson = await file('bad.json', '[{"a": 1},');
    await expect(createFileSource({ path: badJson }).start(new Collector())).rejects.toThrow(
      `${badJson}:1: not valid JSON at column 1: an array that never closes`,
    );
    const openString = await file('open-string.json', '[\n  {"a": 1},\n  {"a": "x}\n]');
    await expect(createFileSource({ path: openString }).start(new Collector())).rejects.toThrow(
      `${openString}:3: not valid JSON at column 9: a string that never closes`,
    );
    const after = await file('after.json', '[{"a": 1}]\n{"b": 2}\n');
    await expect(createFileSource({ path: after }).start(new Collector())).rejects.toThrow(
      `${after}:2: not valid JSON at column 1: text after the end of the array`,
    );
    const blank = await file('blank.json', ' \n');
    await expect(createFileSource({ path: blank }).start(new Collector())).rejects.toThrow(`${blank}: is empty (no JSON value)`);
    const ragged = await file('ragged.csv', 'ts,temp\n1,2\n3\n');
    await expect(createFileSource({ path: ragged, model: 'press' }).start(new Collector())).rejects.toThrow(
      `${ragged}:3: expected 2 fields (as in the header), found 1`,
    );
    const noTs = await file('nots.csv', 'time,temp\n1,2\n');
    await expect(createFileSource({ path: noTs, model: 'press' }).start(new Collector())).rejects.toThrow(
      `${noTs}:1: column "ts": no such column in the header ("time", "temp")`,
    );
    expect(() => createFileSource({ path: join(dir, 'x.csv') })).toThrow('a CSV file needs the model its rows belong to');
    expect(() => createFileSource({ path: join(dir, 'x.txt') })).toThrow(/has an unknown extension "\.txt"/);
    expect(() => createFileSource({ path: join(dir, 'x.ndjson'), speed: 0 })).toThrow(/speed must be a positive number/);
  });
});

/** Records and dead letters, as the pipeline would decode these messages. */
function decodeAll(messages: ReadonlyArray<SourceMessage>): { records: StreamRecord[]; dead: DeadLetterDraft[] } {
  const records: StreamRecord[] = [];
  const dead: DeadLetterDraft[] = [];
  for (const m of messages) {
    const d = decodeMessage(m, (model) => (model === 'press' ? SCHEMA : undefined), LIMITS, NOW);
    records.push(...d.records);
    dead.push(...d.dead);
  }
  return { records, dead };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('file replay gives the values live ingest and references give', () => {
  it('replays a CSV column as src/files/csv.ts types it for a reference: categorical cells as written', async () => {
    const iso = new Date(T0).toISOString();
    const cells = ['007', 'A1', '1.50', '1e3', 'TRUE', ' inf'];
    const row = (cell: string, i: number) => `${iso},L,${i === 5 ? ' inf' : `0${i}.50`},${cell},${i % 2 === 0 ? 'TRUE' : 'false'}`;
    const csv = `ts,lot_id,temp,line,ok\n${cells.map(row).join('\n')}\n`;
    const path = await file('typed.csv', csv);
    const { handler } = await replay({ path, model: 'press', segmentBy: ['lot_id'] });
    const replayed = handler.records();
    const reference = parseCsv(csv, path);
    const column = (name: string) => reference.columns.find((c) => c.name === name)!;
    // `line` holds text (A1), so the reference keeps every cell as written; replay must send the same labels.
    expect(column('line')).toMatchObject({ kind: 'category', dtype: 'string' });
    expect(replayed.map((r) => r.features.line)).toEqual(column('line').values);
    expect(replayed.map((r) => r.features.line)).toEqual(cells);
    // A column of numbers stays numbers (0.5, 1.5... and inf), and one of true/false booleans, as in the reference.
    expect(column('temp').kind).toBe('number');
    expect(replayed.map((r) => r.features.temp)).toEqual(Array.from(column('temp').values as Float64Array));
    expect(replayed.map((r) => r.features.temp)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5, Infinity]);
    expect(column('ok')).toMatchObject({ kind: 'category', dtype: 'boolean' });
    expect(replayed.map((r) => String(r.features.ok))).toEqual(column('ok').values);
  });

  it('types CSV cells as the pipeline judges each feature: a stray text cell refuses its row only, categorical cells stay as written', async () => {
    const iso = new Date(T0).toISOString();
    const csv = `ts,lot_id,temp,line\n${iso},L,81.5,007\n${iso},L,ERR,12\n${iso},L,,1e3\n${iso},L,-inf,NA\n`;
    const path = await file('stray.csv', csv);
    const { handler } = await replay({ path, model: 'press', segmentBy: ['lot_id'] });
    const decoded = handler.messages.map((m) => decodeMessage(m, (model) => (model === 'press' ? SCHEMA : undefined), LIMITS, NOW));
    expect(decoded.map((d) => d.records[0]?.features ?? d.dead[0]!.reason)).toEqual([
      { temp: 81.5, line: '007', ok: null },
      'feature "temp" is numerical: expected a number or null, found "ERR"',
      { temp: null, line: '1e3', ok: null },
      { temp: -Infinity, line: null, ok: null },
    ]);
    // A handler that does not say how it judges features gets the reference's typing: `temp` is text there.
    const blind = new Collector();
    blind.featureKinds = null;
    await replay({ path, model: 'press', segmentBy: ['lot_id'] }, blind);
    const refused = blind.messages.map((m) => decodeMessage(m, (model) => (model === 'press' ? SCHEMA : undefined), LIMITS, NOW).dead.length);
    expect(refused).toEqual([1, 1, 0, 1]);
  });

  it('replays each JSON array item from its own bytes, judged as the same item of a live JSON body', async () => {
    const ts = T0 + 1000;
    const items = [
      `{"model":"press","ts":${ts},"segment":{"lot_id":"L"},"features":{"temp":1e999,"line":"a"}}`,
      `{"model":"press","ts":${ts},"segment":{"lot_id":"L"},"features":{"temp":-0,"line":-0}}`,
      `{"model":"press","ts":${ts},"segment":{"lot_id":"L"},"features":{"temp":NaN,"line":"b"}}`,
      `{"model":"press","ts":${ts},"features":{"temp":1}, oops}`,
      `[{"model":"press","ts":${ts},"segment":{"lot_id":"L"},"features":{"temp":2}}]`,
      `{"model":"press","ts":${ts},"segment":{"lot_id":"L"},\n  "features":{"temp":3,"line":"c"}}`,
    ];
    const body = `[\n  ${items.join(',\n  ')}\n]\n`;
    const path = await file('items.json', body);
    const { handler } = await replay({ path });
    expect(handler.messages.map((m) => m.origin)).toEqual(items.map((_, i) => `file:${path}:item ${i + 1}`));
    expect(handler.messages.filter((_, i) => i !== 4).map((m) => text(m.value))).toEqual(items.filter((_, i) => i !== 4));
    const replayed = decodeAll(handler.messages);
    const live = decodeAll([{ partition: 'http', offset: 0n, value: Buffer.from(body), format: 'json', receivedAt: NOW, origin: `file:${path}` }]);
    expect(replayed.records).toEqual(live.records);
    expect(replayed.records.map((r) => r.features.temp)).toEqual([Infinity, -0, NaN, 3]);
    expect(Object.is(replayed.records[1]!.features.temp, -0)).toBe(true);
    const letter = (d: DeadLetterDraft) => [d.reasonCode, d.reason, text(d.payload)];
    expect(replayed.dead.map(letter)).toEqual(live.dead.map(letter));
    expect(live.dead.map((d) => d.origin)).toEqual([`file:${path}:item 4`, `file:${path}:item 5`]);
    // An item that is an array travels inside a one-item array (the decoder reads a JSON array as records).
    expect(replayed.dead.map((d) => d.origin)).toEqual([`file:${path}:item 4`, `file:${path}:item 5:item 1`]);
  });

  it('replays every stream of an Arrow file of several, and refuses bytes after the end that are not a stream', async () => {
    const stream = (temps: number[]) =>
      tableToIPC(
        new Table({
          model: vectorFromArray(temps.map(() => 'press'), new Utf8()),
          ts: vectorFromArray(temps.map((_, i) => T0 + i * 1000), new TimestampMillisecond()),
          temp: vectorFromArray(temps, new Float64()),
          lot_id: vectorFromArray(temps.map(() => 'L'), new Utf8()),
        }),
        'stream',
      );
    const streams = Buffer.concat([stream([1]), stream([2, 3]), stream([4, 5, 6])]);
    const path = await file('several.arrows', streams);
    const { handler, progress } = await replay({ path });
    expect(handler.records().map((r) => r.features.temp)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(handler.messages.map((m) => m.origin)).toEqual([1, 2, 3].map((i) => `file:${path}:batch ${i}`));
    expect(progress.at(-1)).toEqual([6, 6]);

    const trailing = await file('trailing.arrows', Buffer.concat([stream([1]), Buffer.from('trailing junk')]));
    const error = await createFileSource({ path: trailing }).start(new Collector()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(
      new RegExp(
        `^${escape(trailing)}: is not a readable Arrow IPC file or stream: ` +
          'the bytes after the end of the stream \\(byte \\d+\\) are not another stream',
      ),
    );
  });

  it('gives a bad NDJSON line a dead letter whose origin is the file and its line', async () => {
    const path = await file('bad-lines.ndjson', `${rec(1)}\n\n{"model": "press", oops}\n[${rec(2)}]\n${rec(3)}\n`);
    const { handler } = await replay({ path });
    const { records, dead } = decodeAll(handler.messages);
    expect(records.map((r) => r.features.temp)).toEqual([1, 3]);
    expect(dead.map((d) => [d.origin, d.reasonCode, text(d.payload)])).toEqual([
      [`file:${path}:3`, 'bad_json', '{"model": "press", oops}'],
      [`file:${path}:4:item 1`, 'not_an_object', `[${rec(2)}]`],
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
