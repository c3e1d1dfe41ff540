import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Column } from '../../../src/core/table.js';
import { appendRow, bufferTable, createBuffer, restoreBuffer, setValue, snapshotBuffer } from '../../../src/window/buffer.js';

describe('window row buffers', () => {
  const columns = [
    { name: 'temp', kind: 'number' as const },
    { name: 'shift', kind: 'number' as const, integer: true },
    { name: 'line', kind: 'category' as const, dtype: 'string' as const },
    { name: 'ok', kind: 'category' as const, dtype: 'boolean' as const },
  ];

  it('holds rows column by column, missing keys as missing values, and grows past its capacity', () => {
    const b = createBuffer(columns, 2);
    for (let i = 0; i < 100; i++) appendRow(b, 1000 + i, { temp: i / 2, shift: i % 3, line: i % 2 ? 'A' : 'B', ok: i % 5 === 0 });
    appendRow(b, 2000, { temp: null });
    const t = bufferTable(b, 'w');
    expect(t.rowCount).toBe(101);
    const [temp, shift, line, ok] = t.columns as [Column, Column, Column, Column];
    expect(temp!.kind === 'number' && Array.from(temp.values.subarray(98))).toEqual([49, 49.5, NaN]);
    expect(shift!.kind === 'number' && shift.integer).toBe(true);
    expect(line!.kind === 'category' && line.values.slice(0, 3)).toEqual(['B', 'A', 'B']);
    expect(line!.kind === 'category' && line.values[100]).toBe(null);
    expect(ok!.kind === 'category' && [ok.values[0], ok.values[1], ok.dtype]).toEqual(['true', 'false', 'boolean']);
  });

  it('reads hostile column names exactly, and names Object.prototype has only from the row itself', () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', 'qu"o\\te', 'line\nbreak', '*/ x(); /*', '${y}', 'ünï 🚀'];
    const b = createBuffer(names.map((name) => ({ name, kind: 'number' as const })));
    appendRow(b, 1, Object.fromEntries(names.map((n, i) => [n, i])));
    appendRow(b, 2, { 'qu"o\\te': 7 });
    const t = bufferTable(b, 'w');
    expect(t.columns.map((c) => c.kind === 'number' && Array.from(c.values))).toEqual(names.map((n, i) => [i, n === 'qu"o\\te' ? 7 : NaN]));
  });

  it('writes rows of very wide tables (past the compiled writer) the same way', () => {
    const wide = Array.from({ length: 1500 }, (_, i) => ({ name: `c${i}`, kind: 'number' as const }));
    const b = createBuffer(wide);
    appendRow(b, 1, Object.fromEntries(wide.map((c, i) => [c.name, i])));
    appendRow(b, 2, { c1499: 3, toString: 9 });
    const t = bufferTable(b, 'w');
    const last = t.columns[1499]!;
    expect(last.kind === 'number' && Array.from(last.values)).toEqual([1499, 3]);
    const first = t.columns[0]!;
    expect(first.kind === 'number' && Array.from(first.values)).toEqual([0, NaN]);
  });

  it('decodes and writes rows the same with code generation disabled (the compiled paths fall back)', () => {
    const dist = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'dist', 'src')).href;
    const script = `
      const { decodeMessage } = await import('${dist}/pipeline/decode.js');
      const { appendRow, bufferTable, createBuffer } = await import('${dist}/window/buffer.js');
      const schema = { model: 'm', kind: 'telemetry', segmentBy: [], time: 'event', features: new Map([['a', 'numerical'], ['constructor', 'categorical']]) };
      const msg = { partition: 'p', offset: 1n, value: new TextEncoder().encode(JSON.stringify({ model: 'm', ts: 1000, features: { a: 1.5, constructor: 'x' } })), format: 'json', receivedAt: 1000, origin: 'o' };
      const d = decodeMessage(msg, () => schema, { maxRecordBytes: 1e6, maxFutureMs: 1e15, maxPastMs: 1e15 }, 1000);
      const b = createBuffer([{ name: 'a', kind: 'number' }, { name: 'constructor', kind: 'category' }]);
      appendRow(b, 1000, d.records[0].features);
      const t = bufferTable(b, 'w');
      console.log(JSON.stringify([d.records[0].features, Array.from(t.columns[0].values), t.columns[1].values]));
    `;
    const out = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual([{ a: 1.5, constructor: 'x' }, [1.5], ['x']]);
  });

  it('keeps a table taken earlier unchanged while rows are appended', () => {
    const b = createBuffer(columns, 2);
    appendRow(b, 1, { temp: 1 });
    const before = bufferTable(b, 'w');
    for (let i = 0; i < 10; i++) appendRow(b, 2, { temp: 99 });
    expect(before.rowCount).toBe(1);
    const first = before.columns[0]!;
    expect(first.kind === 'number' && Array.from(first.values)).toEqual([1]);
  });

  it('keeps a table taken earlier unchanged when a value of a row in it is set, and the next table has the value', () => {
    const b = createBuffer(columns, 2);
    for (let i = 0; i < 3; i++) appendRow(b, i, { temp: i, shift: i });
    const before = bufferTable(b, 'w');
    expect(setValue(b, 0, 'temp', 5)).toBe(true);
    setValue(b, 2, 'temp', 7);
    const after = bufferTable(b, 'w');
    setValue(b, 1, 'temp', 6);
    const nums = (t: typeof before, i: number) => Array.from(t.columns[i]!.values as Float64Array);
    expect([nums(before, 0), nums(after, 0), nums(bufferTable(b, 'w'), 0)]).toEqual([[0, 1, 2], [5, 1, 7], [5, 6, 7]]);
    // the column not set is still shared with the buffer, not copied
    expect((before.columns[1]!.values as Float64Array).buffer).toBe((after.columns[1]!.values as Float64Array).buffer);
  });

  it('turns a number column into text when a categorical value is not a number, keeping earlier values', () => {
    const b = createBuffer([{ name: 'shift', kind: 'number' }]);
    appendRow(b, 1, { shift: 1 });
    appendRow(b, 2, { shift: '2' });
    appendRow(b, 3, { shift: 'night' });
    appendRow(b, 4, { shift: 3 });
    const c = bufferTable(b, 'w').columns[0]!;
    expect(c.kind).toBe('category');
    expect(c.values).toEqual(['1', '2', 'night', '3']);
  });

  it('round-trips through its JSON snapshot, NaN and infinities included', () => {
    const b = createBuffer(columns);
    appendRow(b, 5, { temp: Infinity, shift: NaN, line: 'x', ok: true });
    appendRow(b, 6, { temp: -Infinity, shift: 2, line: null, ok: false });
    const snap = JSON.parse(JSON.stringify(snapshotBuffer(b)));
    const back = restoreBuffer(snap);
    expect(bufferTable(back, 'w')).toEqual(bufferTable(b, 'w'));
    appendRow(back, 7, { temp: 1, line: 'x' });
    expect(bufferTable(back, 'w').columns[2]!.values).toEqual(['x', null, 'x']);
  });
});
