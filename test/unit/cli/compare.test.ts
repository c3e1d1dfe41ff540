/**
 * `driftwatch compare` end to end, in process (the same `main` the binary runs) and once through the built
 * binary: outputs, exit codes, and one-line errors for bad input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './run-cli.js';

const REF = 'fixtures/demo/reference.csv';
const CUR = 'fixtures/demo/current.csv';
const DEMO_COLUMNS = 'temp_c,pressure_bar,vibration_mm_s,cycle_time_s,line,shift,seal_ok';
const tmp = mkdtempSync(join(tmpdir(), 'driftwatch-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

interface JsonReport {
  dataset: { columns_tested: number; columns_drifted: number; share: number; drift_share: number; drifted: boolean };
  columns: Array<Record<string, unknown> & { column: string; method: string; drifted: boolean; status: string }>;
  outliers: { iqr: Array<Record<string, unknown>>; zscore: Array<Record<string, unknown>>; mahalanobis: Record<string, unknown> };
  quality: Array<Record<string, unknown>>;
}

describe('compare on the bundled fixtures', () => {
  it('prints the JSON shape other tools parse and exits 1 on dataset drift', async () => {
    const r = await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as JsonReport;
    expect(Object.keys(doc.dataset).sort()).toEqual(['columns_drifted', 'columns_tested', 'drift_share', 'drifted', 'share']);
    expect(doc.dataset.drifted).toBe(true);
    expect(doc.dataset.columns_tested).toBe(7);
    for (const c of doc.columns) {
      for (const key of ['column', 'type', 'method', 'score', 'threshold', 'drifted', 'n_reference', 'n_current', 'status']) {
        expect(c, `${c.column} ${key}`).toHaveProperty(key);
      }
    }
    const byName = new Map(doc.columns.map((c) => [c.column, c]));
    // 2000 reference rows: Evidently's choice is wasserstein for continuous columns, jensenshannon for categories.
    expect(byName.get('temp_c')).toMatchObject({ type: 'numerical', method: 'wasserstein', drifted: true });
    expect(byName.get('vibration_mm_s')).toMatchObject({ drifted: true });
    expect(byName.get('line')).toMatchObject({ type: 'categorical', method: 'jensenshannon', drifted: true });
    expect(byName.get('cycle_time_s')).toMatchObject({ drifted: false });
    expect(byName.get('shift')).toMatchObject({ type: 'categorical', drifted: false });
    expect(byName.get('temp_c')!['n_current']).toBeLessThan(1000); // the gaps were dropped before the test
    for (const key of ['column', 'rows', 'flagged', 'share']) expect(doc.outliers.iqr[0]).toHaveProperty(key);
    for (const key of ['rows', 'flagged', 'share']) expect(doc.outliers.mahalanobis).toHaveProperty(key);
    expect(doc.quality.length).toBeGreaterThan(0);
    for (const q of doc.quality) for (const key of ['check', 'value', 'condition', 'passed']) expect(q).toHaveProperty(key);
    const tempMissing = doc.quality.find((q) => q['check'] === 'missing_share' && q['column'] === 'temp_c');
    expect(tempMissing).toBeDefined();
  });

  it('prints a table for people', async () => {
    const r = await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/temp_c\s+numerical\s+wasserstein/);
    expect(r.out).toContain('DRIFT DETECTED');
    expect(r.out).toContain('Data quality:');
  });

  it('exits 0 when nothing drifted', async () => {
    const r = await run('compare', '--reference', REF, '--current', REF, '--columns', DEMO_COLUMNS, '--format', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as JsonReport;
    expect(doc.dataset.columns_drifted).toBe(0);
  });

  it('honours --method, --threshold, --drift-share and --column-type', async () => {
    const r = await run(
      'compare', '--reference', REF, '--current', CUR, '--format', 'json', '--columns', 'temp_c,cycle_time_s,shift',
      '--method', 'ks', '--threshold', '0.01', '--drift-share', '0.9', '--column-type', 'shift=numerical',
    );
    const doc = JSON.parse(r.out) as JsonReport;
    expect(doc.columns.map((c) => [c.column, c.method, c['threshold']])).toEqual([
      ['temp_c', 'ks', 0.01],
      ['cycle_time_s', 'ks', 0.01],
      ['shift', 'ks', 0.01],
    ]);
    expect(doc.columns[0]!['statistic']).toBeGreaterThan(0);
    expect(doc.dataset.drift_share).toBe(0.9);
    expect(doc.dataset.drifted).toBe(false);
    expect(r.code).toBe(0);
  });

  it('reads NDJSON and Arrow IPC and gives the same verdicts as CSV', async () => {
    const rows = readFileSync(CUR, 'utf8').trim().split('\n');
    const header = rows[0]!.split(',');
    const records = rows.slice(1).map((line) => {
      const cells = line.split(',');
      const rec: Record<string, unknown> = {};
      header.forEach((h, i) => {
        const v = cells[i]!;
        rec[h] = v === '' ? null : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' || v === 'false' ? v === 'true' : v;
      });
      return rec;
    });
    const ndjson = write('current.ndjson', records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const arrow = join(tmp, 'current.arrow');
    const numbers = (k: string): Float64Array => Float64Array.from(records, (r) => (r[k] === null ? Number.NaN : Number(r[k])));
    const table = tableFromArrays({
      temp_c: numbers('temp_c'),
      pressure_bar: numbers('pressure_bar'),
      vibration_mm_s: numbers('vibration_mm_s'),
    });
    writeFileSync(arrow, tableToIPC(table, 'file'));

    const csv = JSON.parse((await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'json')).out) as JsonReport;
    const nd = JSON.parse((await run('compare', '--reference', REF, '--current', ndjson, '--columns', DEMO_COLUMNS, '--format', 'json')).out) as JsonReport;
    expect(nd.columns.map((c) => [c.column, c.method, c.drifted])).toEqual(csv.columns.map((c) => [c.column, c.method, c.drifted]));
    const cols = 'temp_c,pressure_bar,vibration_mm_s';
    const fromCsv = JSON.parse((await run('compare', '--reference', REF, '--current', CUR, '--columns', cols, '--format', 'json')).out) as JsonReport;
    const fromArrow = JSON.parse((await run('compare', '--reference', REF, '--current', arrow, '--columns', cols, '--format', 'json')).out) as JsonReport;
    expect(fromArrow.columns.map((c) => c['score'])).toEqual(fromCsv.columns.map((c) => c['score']));
  });
});

describe('edge data', () => {
  it('an all-missing current column is insufficient data; a category the reference never saw drifts with no null statistic', async () => {
    const ref = write('edge-ref.csv', 'a,b\n1.5,x\n2.5,y\n3.5,x\n');
    const cur = write('edge-cur.csv', 'a,b\n,x\n,y\n,z\n');
    const r = await run('compare', '--reference', ref, '--current', cur, '--format', 'json');
    const doc = JSON.parse(r.out) as JsonReport;
    expect(doc.columns[0]).toMatchObject({ column: 'a', status: 'insufficient_data', score: null, drifted: false, n_current: 0 });
    expect(doc.columns[1]).toMatchObject({ column: 'b', method: 'chisquare', score: 0, drifted: true });
    expect(doc.columns[1]).not.toHaveProperty('statistic');
    expect(doc.dataset).toMatchObject({ columns_tested: 1, columns_drifted: 1, drifted: true });
    expect(r.code).toBe(1);
  });
});

describe('review findings', () => {
  it('a column empty in one file takes the other side\'s kind: insufficient data, not a type error', async () => {
    const ref = write('gone-ref.csv', 'flag,x\ntrue,1.5\nfalse,2.5\ntrue,3.5\n');
    const cur = write('gone-cur.csv', 'flag,x\n,1.5\n,2.5\n,3.5\n');
    const r = await run('compare', '--reference', ref, '--current', cur, '--format', 'json');
    expect(r.err).toBe('');
    const doc = JSON.parse(r.out) as JsonReport;
    expect(doc.columns[0]).toMatchObject({ column: 'flag', type: 'categorical', status: 'insufficient_data' });
    const missing = doc.quality.find((q) => q['check'] === 'missing_share' && q['column'] === 'flag');
    expect(missing).toMatchObject({ value: 1, passed: false });
  });

  it('column names that exist on every JS object are ordinary names', async () => {
    const f = write('proto.csv', 'constructor,toString,__proto__\n1.5,a,2.5\n2.5,b,3.5\n3.5,a,4.5\n');
    const r = await run('compare', '--reference', f, '--current', f, '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as JsonReport;
    expect(doc.columns.map((c) => [c.column, c['type']])).toEqual([
      ['constructor', 'numerical'],
      ['toString', 'categorical'],
      ['__proto__', 'numerical'],
    ]);
  });

  it('a current feature with no values makes Mahalanobis insufficient, not "0 of 0 rows ok"', async () => {
    const rows = (f: (i: number) => string): string => `a,b\n${Array.from({ length: 50 }, (_, i) => f(i)).join('\n')}\n`;
    const ref = write('m1.csv', rows((i) => `${(i * 7) % 13}.5,${(i * 5) % 11}.25`));
    const cur = write('m2.csv', rows((i) => `${100 + ((i * 7) % 13)}.5,`));
    const doc = JSON.parse((await run('compare', '--reference', ref, '--current', cur, '--format', 'json')).out) as JsonReport;
    expect(doc.outliers.mahalanobis).toMatchObject({ status: 'insufficient_data', rows: 0 });
    expect(doc.outliers.mahalanobis).not.toHaveProperty('threshold');
    expect(doc.outliers.iqr[1]).toMatchObject({ column: 'b', status: 'insufficient_data' });
    expect(doc.outliers.iqr[0]).toMatchObject({ column: 'a', status: 'ok', share: 1 });
  });

  it('rejects a repeated --columns name and a --drift-share outside (0, 1]', async () => {
    expect((await run('compare', '--reference', REF, '--current', CUR, '--columns', 'temp_c,temp_c')).code).toBe(2);
    expect((await run('compare', '--reference', REF, '--current', CUR, '--drift-share', '1.5')).code).toBe(2);
    expect((await run('compare', '--reference', REF, '--current', CUR, '--drift-share', '0')).code).toBe(2);
  });
});

describe('bad input gets one line naming the place, exit 2', () => {
  const expectOneLineError = (r: { code: number; out: string; err: string }, ...parts: string[]): void => {
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\bat .*\(.*:\d+:\d+\)/); // no stack frames
    for (const p of parts) expect(r.err).toContain(p);
  };

  it('a missing file', async () => {
    expectOneLineError(await run('compare', '--reference', REF, '--current', join(tmp, 'nope.csv')), 'nope.csv');
  });

  it('a ragged row', async () => {
    const f = write('ragged.csv', 'a,b\n1,2\n3\n4,5\n');
    expectOneLineError(await run('compare', '--reference', f, '--current', f), 'ragged.csv:3');
  });

  it('text in a numerical column', async () => {
    const ref = write('num-ref.csv', 'temp,x\n1.5,1\n2.5,2\n3.5,3\n');
    const cur = write('num-cur.csv', 'temp,x\n1.5,1\nhot,2\n3.5,3\n');
    expectOneLineError(await run('compare', '--reference', ref, '--current', cur), 'num-cur.csv:3', 'temp', '"hot"');
  });

  it('an empty file', async () => {
    const f = write('empty.csv', '');
    expectOneLineError(await run('compare', '--reference', f, '--current', REF), 'empty.csv');
  });

  it('a column on one side only', async () => {
    const ref = write('side-ref.csv', 'a,b\n1,2\n');
    const cur = write('side-cur.csv', 'a\n1\n');
    expectOneLineError(await run('compare', '--reference', ref, '--current', cur), 'side-cur.csv', '"b"');
  });

  it('usage mistakes', async () => {
    expect((await run('compare', '--reference', REF)).code).toBe(2);
    expect((await run('compare', '--reference', REF, '--current', CUR, '--method', 'nope')).code).toBe(2);
    expect((await run('compare', '--reference', REF, '--current', CUR, '--column-type', 'temp_c=float')).code).toBe(2);
    expect((await run('compare', '--reference', REF, '--current', CUR, '--threshold', 'abc')).code).toBe(2);
  });
});

describe('the built binary', () => {
  it('runs the live demo: windows evaluated, the injected drift detected, exit 0', () => {
    const demo = spawnSync(process.execPath, ['dist/src/cli/main.js', 'demo', '--rate', '0'], { encoding: 'utf8', timeout: 120_000 });
    expect(demo.stderr).toBe('');
    expect(demo.status).toBe(0);
    const windows = demo.stdout.split('\n').filter((l) => l.startsWith('window '));
    expect(windows).toHaveLength(12);
    // The drift is injected after record 1800 of 3600: the first six windows have no dataset drift, the last six do.
    expect(windows.map((l) => l.includes('DATASET DRIFT'))).toEqual([...Array(6).fill(false), ...Array(6).fill(true)]);
    expect(windows[8]).toMatch(/temp_c wasserstein=/);
    expect(demo.stdout).toContain('12 windows evaluated; 6 with dataset drift');
    // The shipped rules act on the local stand-ins: a Slack message and a verified signed webhook per firing
    // notification, and exactly one retraining run, for the first drifted lot, carrying its lot id and date.
    const lines = demo.stdout.split('\n');
    const runs = lines.filter((l) => l.includes('[airflow stand-in] DAG run created'));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toContain('"lot_id":"L-2002"');
    expect(runs[0]).toMatch(/"window_date":"\d{4}-\d{2}-\d{2}"/);
    expect(lines.filter((l) => l.includes('[slack stand-in] message'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('[slack stand-in]') && l.includes('key-feature-drift'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('[webhook stand-in] signature verified'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('  FAILED') || l.includes('retrying'))).toEqual([]);
    expect(demo.stdout).toMatch(/5 notifications and triggers delivered to the local stand-ins \(5 requests received\)/);
  });

  it('exits 1 from compare on the drifted fixtures', () => {
    const compare = spawnSync(
      process.execPath,
      ['dist/src/cli/main.js', 'compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'json'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(compare.status).toBe(1);
    expect((JSON.parse(compare.stdout) as JsonReport).dataset.drifted).toBe(true);
  });
});
