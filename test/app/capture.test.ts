/**
 * A reference from the live stream, end to end through a running service (embedded engine, HTTP ingest on
 * loopback): `driftwatch reference create --from-stream` asks the service to capture the model's next records
 * while records are being posted, and the new snapshot is stored, marked as coming from the stream, and promoted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL, prepareDemo } from '../../src/app/demo-data.js';
import { startService } from '../../src/app/service.js';
import { parseConfig } from '../../src/config/index.js';
import { METHOD_NAMES } from '../../src/drift/methods.js';
import { openStore, storeConfigFromEnv } from '../../src/store/index.js';
import { run } from '../unit/cli/run-cli.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'demo');
const dataDir = mkdtempSync(join(tmpdir(), 'driftwatch-capture-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** NDJSON records of the drifted fixture batch, `n` of them from event time `t0` on. */
function records(t0: number, n: number): string {
  const [header, ...rows] = readFileSync(join(FIXTURES, 'current.csv'), 'utf8').trim().split('\n');
  const names = header!.split(',');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const cells = rows[i % rows.length]!.split(',');
    const features: Record<string, unknown> = {};
    names.forEach((name, k) => {
      if (name === 'ts' || name === 'lot_id') return;
      const v = cells[k]!;
      features[name] = name === 'line' ? v : name === 'seal_ok' ? v === 'true' : v === '' ? null : Number(v);
    });
    out.push(JSON.stringify({ model: DEMO_MODEL, ts: t0 + i * 1000, features }));
  }
  return out.join('\n');
}

describe('reference from the live stream', () => {
  it('captures the next N records of a model through the running service and promotes the new reference', async () => {
    const database = `dw_test_${randomBytes(6).toString('hex')}`;
    const env = { DRIFTWATCH_DATA_DIR: dataDir, CLICKHOUSE_DATABASE: database, DRIFTWATCH_HTTP_PORT: '0' };
    const config = parseConfig('{}', '(test)', env, METHOD_NAMES);
    const setup = await openStore(storeConfigFromEnv({ ...process.env, CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: database }, { dataDir }));
    const demo = await prepareDemo(setup, FIXTURES);
    await setup.close();

    const service = await startService({ config, log: () => undefined, referencePollMs: 200 });
    try {
      const url = service.url!;
      let done = false;
      const cli = run('reference', 'create', '--model', DEMO_MODEL, '--model-version', 'v2', '--from-stream', '--records', '500', '--promote', '--url', url, '--format', 'json').finally(() => (done = true));
      const t0 = Date.now() - 3_600_000;
      for (let i = 0; i < 200 && !done; i++) {
        const res = await fetch(`${url}/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: records(t0 + i * 100_000, 100) });
        expect(res.status).toBe(200);
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await cli;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const result = JSON.parse(r.out) as { snapshot: string; records: number; promoted: boolean; status: string };
      expect(result).toMatchObject({ status: 'done', records: 500, promoted: true });
      const snapshot = await service.store.getReference(result.snapshot);
      expect(snapshot).toMatchObject({ model: DEMO_MODEL, modelVersion: 'v2', rowCount: 500, status: 'active', previousActive: demo.reference.id });
      expect(snapshot!.source.kind).toBe('stream');
      expect(snapshot!.columns.map((c) => c.name).sort()).toEqual(demo.reference.columns.map((c) => c.name).sort());
      // The captured rows are the drifted batch (mean temperature about 84.3 °C), not the reference (about 80.9 °C).
      const rows = await service.store.loadReferenceRows(result.snapshot);
      const temp = rows.columns.find((c) => c.name === 'temp_c')!;
      const present = temp.kind === 'number' ? Array.from(temp.values).filter((x) => !Number.isNaN(x)) : [];
      expect(present.length).toBeGreaterThan(400);
      const mean = present.reduce((a, b) => a + b, 0) / present.length;
      expect(mean).toBeGreaterThan(83);
    } finally {
      await service.stop();
    }
  });

  it('refuses a capture for a model with no schema, and a request without a count or duration', async () => {
    const database = `dw_test_${randomBytes(6).toString('hex')}`;
    const config = parseConfig('{}', '(test)', { DRIFTWATCH_DATA_DIR: dataDir, CLICKHOUSE_DATABASE: database, DRIFTWATCH_HTTP_PORT: '0' }, METHOD_NAMES);
    const service = await startService({ config, log: () => undefined });
    try {
      const post = (body: unknown) => fetch(`${service.url}/v1/references/capture`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const unknown = await post({ model: 'nobody', records: 10 });
      expect(unknown.status).toBe(400);
      expect(((await unknown.json()) as { error: string }).error).toMatch(/no active reference and no features|not configured/);
      const neither = await post({ model: DEMO_MODEL });
      expect(neither.status).toBe(400);
      const r = await run('reference', 'create', '--model', 'nobody', '--from-stream', '--records', '5', '--url', service.url!);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/refused the capture/);
    } finally {
      await service.stop();
    }
  });
});
