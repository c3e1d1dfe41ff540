/**
 * The reference lifecycle from the command line, on the real embedded engine: create from a fixture file, promote,
 * compare against the stored snapshot, roll back, export, delete. One data directory for the whole file (the
 * embedded engine binds one per process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './run-cli.js';

const REF = 'fixtures/demo/reference.csv';
const CUR = 'fixtures/demo/current.csv';
const tmp = mkdtempSync(join(tmpdir(), 'driftwatch-ref-cli-'));
const dataDir = join(tmp, 'data');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface SnapshotJson {
  id: string;
  model: string;
  model_version: string;
  status: string;
  rows: number;
  source_rows: number;
  previous_active: string | null;
  columns: Array<{ name: string; type: string }>;
}

async function create(...extra: string[]): Promise<{ created: boolean; reference: SnapshotJson }> {
  const r = await run('reference', 'create', '--data-dir', dataDir, '--format', 'json', ...extra);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as { created: boolean; reference: SnapshotJson };
}

async function list(model?: string): Promise<SnapshotJson[]> {
  const r = await run('reference', 'list', '--data-dir', dataDir, '--format', 'json', ...(model ? ['--model', model] : []));
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as SnapshotJson[];
}

describe('driftwatch reference', () => {
  it('creates, promotes, compares, rolls back, exports and deletes', async () => {
    const v1 = await create('--model', 'press-qa', '--model-version', 'v1', '--file', REF);
    expect(v1.created).toBe(true);
    expect(v1.reference.id).toMatch(/^ref-[0-9a-f]{16}$/);
    expect(v1.reference.status).toBe('candidate');
    expect(v1.reference.rows).toBe(2000);

    // Same content again: same id, nothing new.
    const again = await create('--model', 'press-qa', '--model-version', 'v1', '--file', REF);
    expect(again.created).toBe(false);
    expect(again.reference.id).toBe(v1.reference.id);
    expect((await list('press-qa')).length).toBe(1);

    const promoted = await run('reference', 'promote', v1.reference.id, '--data-dir', dataDir, '--reason', 'validated');
    expect(promoted.code).toBe(0);
    expect(promoted.out).toContain(`${v1.reference.id} is the active reference of "press-qa"`);

    // compare against the stored snapshot gives exactly what compare against the file gives.
    const columns = 'temp_c,pressure_bar,vibration_mm_s,cycle_time_s,line,shift,seal_ok';
    const fromStore = await run('compare', '--reference', v1.reference.id, '--current', CUR, '--format', 'json', '--data-dir', dataDir);
    const fromFile = await run('compare', '--reference', REF, '--current', CUR, '--format', 'json');
    expect(fromStore.err).toBe('');
    expect(fromStore.code).toBe(fromFile.code);
    const a = JSON.parse(fromStore.out) as Record<string, unknown> & { reference: { snapshot: { id: string } } };
    const b = JSON.parse(fromFile.out) as Record<string, unknown>;
    expect(a['columns']).toEqual(b['columns']);
    expect(a['dataset']).toEqual(b['dataset']);
    expect(a['outliers']).toEqual(b['outliers']);
    expect(a['quality']).toEqual(b['quality']);
    expect(a.reference.snapshot.id).toBe(v1.reference.id);
    // A subset of columns re-profiles the stored rows and still matches the file comparison.
    const sub = await run('compare', '--reference', v1.reference.id, '--current', CUR, '--columns', columns, '--format', 'json', '--data-dir', dataDir);
    const subFile = await run('compare', '--reference', REF, '--current', CUR, '--columns', columns, '--format', 'json');
    expect((JSON.parse(sub.out) as Record<string, unknown>)['columns']).toEqual((JSON.parse(subFile.out) as Record<string, unknown>)['columns']);

    // A second version, promoted at creation, sampled down to 500 rows.
    const v2 = await create('--model', 'press-qa', '--model-version', 'v2', '--file', CUR, '--max-rows', '500', '--promote');
    expect(v2.reference.status).toBe('active');
    expect(v2.reference.rows).toBe(500);
    expect(v2.reference.source_rows).toBe(1000);
    expect(v2.reference.previous_active).toBe(v1.reference.id);
    let all = await list('press-qa');
    expect(Object.fromEntries(all.map((s) => [s.id, s.status]))).toEqual({ [v1.reference.id]: 'retired', [v2.reference.id]: 'active' });

    const back = await run('reference', 'rollback', 'press-qa', '--data-dir', dataDir);
    expect(back.code).toBe(0);
    expect(back.out).toContain(`${v1.reference.id} is the active reference of "press-qa" again`);
    all = await list('press-qa');
    expect(all.filter((s) => s.status === 'active').map((s) => s.id)).toEqual([v1.reference.id]);

    // Nothing before v1: a clear refusal, exit 2, nothing changed.
    const none = await run('reference', 'rollback', 'press-qa', '--data-dir', dataDir);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^error: reference ref-[0-9a-f]+ has no previous active reference/);

    // Back to the v2 reference by model version.
    const byVersion = await run('reference', 'rollback', 'press-qa', '--model-version', 'v2', '--data-dir', dataDir);
    expect(byVersion.code).toBe(0);
    expect(byVersion.out).toContain(v2.reference.id);

    // Export both ways; the exported file compares exactly like the original.
    for (const ext of ['parquet', 'arrow']) {
      const path = join(tmp, `v1.${ext}`);
      const exp = await run('reference', 'export', v1.reference.id, '--output', path, '--data-dir', dataDir);
      expect(exp.code).toBe(0);
      expect(exp.out).toContain('2000 rows x 9 columns');
      const viaExport = await run('compare', '--reference', path, '--current', CUR, '--format', 'json');
      expect((JSON.parse(viaExport.out) as Record<string, unknown>)['columns']).toEqual(b['columns']);
      expect((JSON.parse(viaExport.out) as Record<string, unknown>)['quality']).toEqual(b['quality']);
    }

    // The active one cannot be deleted; a retired one can, and is gone.
    const refused = await run('reference', 'delete', v2.reference.id, '--data-dir', dataDir);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('is the active reference');
    const deleted = await run('reference', 'delete', v1.reference.id, '--data-dir', dataDir);
    expect(deleted.code).toBe(0);
    expect((await list('press-qa')).map((s) => s.id)).toEqual([v2.reference.id]);
    const gone = await run('reference', 'show', v1.reference.id, '--data-dir', dataDir);
    expect(gone.code).toBe(2);
    expect(gone.err).toContain(`no reference ${v1.reference.id}`);
    const gone2 = await run('compare', '--reference', v1.reference.id, '--current', CUR, '--data-dir', dataDir);
    expect(gone2.code).toBe(2);
    expect(gone2.err).toBe(`error: reference ${v1.reference.id} does not exist\n`);
  });

  it('shows a snapshot as text', async () => {
    const made = await create('--model', 'show-me', '--file', REF, '--column-type', 'shift=numerical');
    const r = await run('reference', 'show', made.reference.id, '--data-dir', dataDir);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`reference ${made.reference.id}`);
    expect(r.out).toContain('model:          show-me');
    expect(r.out).toMatch(/shift {2}numerical \(integer\)/);
  });

  it('reports bad requests in one line with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['reference', 'create', '--model', 'm', '--data-dir', dataDir], /give exactly one source/],
      [['reference', 'create', '--model', 'm', '--file', join(tmp, 'nope.csv'), '--data-dir', dataDir], /nope\.csv/],
      [['reference', 'create', '--model', 'm', '--file', REF, '--max-rows', '0', '--data-dir', dataDir], /--max-rows must be a whole number >= 1/],
      [['reference', 'create', '--model', 'm', '--from-windows', '--data-dir', dataDir], /needs --since/],
      [['reference', 'create', '--model', 'm', '--from-windows', '--since', '2026-01-01T00:00:00Z', '--data-dir', dataDir], /no stored window samples/],
      [['reference', 'promote', 'ref-0123456789abcdef', '--data-dir', dataDir], /reference ref-0123456789abcdef does not exist/],
      [['reference', 'rollback', 'no-such-model', '--data-dir', dataDir], /has no active reference/],
      [['reference', 'export', 'ref-0123456789abcdef', '--output', join(tmp, 'x.csv'), '--data-dir', dataDir], /cannot tell the export format/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
      // One error line (commander adds a pointer to --help after option errors).
      expect(r.err, argv.join(' ')).toMatch(/^error: [^\n]+\n(\(run with --help for usage\)\n)?$/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
