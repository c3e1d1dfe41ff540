import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTable } from '../../../src/files/read-table.js';
import { writeTable } from '../../../src/files/write-table.js';
import type { Table } from '../../../src/core/table.js';

const tmp = mkdtempSync(join(tmpdir(), 'driftwatch-write-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const table: Table = {
  source: 'x',
  rowCount: 4,
  columns: [
    { kind: 'number', name: 'f', values: new Float64Array([1.5, Number.NaN, -Infinity, 0.1 + 0.2]), integer: false },
    { kind: 'number', name: 'i', values: new Float64Array([1, 2, 3, 9007199254740991]), integer: true },
    { kind: 'category', name: 's', values: ["it's", null, 'ünï "q"', ''], dtype: 'string' },
    { kind: 'category', name: 'b', values: ['true', 'false', null, 'true'], dtype: 'boolean' },
  ],
};

describe('writeTable', () => {
  for (const format of ['arrow', 'parquet'] as const) {
    it(`${format}: reads back with the same kinds and values`, async () => {
      const path = join(tmp, `t.${format}`);
      await writeTable(table, path, format);
      const back = await readTable(path);
      expect(back.rowCount).toBe(4);
      const byName = Object.fromEntries(back.columns.map((c) => [c.name, c]));
      expect(byName['f']?.kind).toBe('number');
      expect(Array.from((byName['f'] as { values: Float64Array }).values)).toEqual([1.5, Number.NaN, -Infinity, 0.1 + 0.2]);
      expect(byName['i']).toMatchObject({ kind: 'number', integer: true });
      expect(Array.from((byName['i'] as { values: Float64Array }).values)).toEqual([1, 2, 3, 9007199254740991]);
      // The readers treat '' as missing, as everywhere else in driftwatch.
      expect(byName['s']).toMatchObject({ kind: 'category', values: ["it's", null, 'ünï "q"', null] });
      expect(byName['b']).toMatchObject({ kind: 'category', dtype: 'boolean', values: ['true', 'false', null, 'true'] });
    });
  }
});
