/**
 * The alerting commands in process: `rules check` on good and bad folders, and the outbox and silence commands
 * against the embedded store (a data directory of their own).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, storeConfigFromEnv } from '../../../src/store/index.js';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'driftwatch-cli-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('driftwatch rules check', () => {
  it('accepts the shipped rules and lists them', async () => {
    const r = await run('rules', 'check', 'rules');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^rules: 4 rules, 4 actions in 3 files: OK$/m);
    expect(r.out).toContain('rule key-feature-drift (critical, feature_drifted) -> ops-slack, pipeline-webhook, retrain');
  });

  it('reports every problem with file, line, column and path, exit 2, no stack trace', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(
      join(bad, 'a.yaml'),
      ['rules:', '  - name: one', '    condition: { feature_score: { above: 0.1, clear: 0.2 } }', '    for: { k: 4, m: 3 }', '    actions: [pager]', ''].join('\n'),
    );
    writeFileSync(join(bad, 'b.yaml'), ['actions:', '  pager:', '    kind: slak', ''].join('\n'));
    const r = await run('rules', 'check', bad);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines.some((l) => /a\.yaml:3:\d+: rules\[0\]\.condition\.feature_score/.test(l))).toBe(true);
    expect(lines.some((l) => /a\.yaml:4:\d+: rules\[0\]\.for/.test(l))).toBe(true);
    expect(lines.some((l) => /b\.yaml:3:\d+: actions\.pager\.kind: .*"slack"/.test(l))).toBe(true);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a missing folder is one clear line', async () => {
    const r = await run('rules', 'check', join(dir, 'nope'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rules directory not found/);
  });
});

describe('driftwatch actions and silences on the store', () => {
  it('lists deliveries, re-drives dead ones, and adds, lists and expires silences', async () => {
    const dataDir = join(dir, 'data');
    const store = await openStore(storeConfigFromEnv({ CLICKHOUSE_URL: '' }, { dataDir }));
    const now = Date.now();
    const entry = {
      id: 'n-dead',
      action: 'retrain',
      kind: 'airflow',
      payload: JSON.stringify({ rule: 'key-feature-drift', model: 'press-qa', status: 'firing', segment: { lot_id: 'L-2002' }, window: { end: now } }),
      status: 'dead' as const,
      attempts: 12,
      nextAttemptAt: now,
      lastError: 'gave up after 12 attempts: HTTP 503',
      createdAt: now - 1000,
      updatedAt: now - 1000,
    };
    await store.putOutbox([entry, { ...entry, id: 'n-ok', status: 'delivered', lastError: '', attempts: 1 }]);
    await store.close();

    const list = await run('actions', 'list', '--data-dir', dataDir, '--status', 'dead');
    expect(list.code).toBe(0);
    expect(list.out).toContain('n-dead  dead      retrain (airflow), 12 attempts');
    expect(list.out).toContain('key-feature-drift firing press-qa [lot_id=L-2002]');
    expect(list.out).toContain('last error: gave up after 12 attempts: HTTP 503');
    expect(list.out).not.toContain('n-ok');

    const retry = await run('actions', 'retry', '--data-dir', dataDir, '--dead');
    expect(retry.out).toContain('requeued 1 deliveries: n-dead');
    const json = JSON.parse((await run('actions', 'list', '--data-dir', dataDir, '--format', 'json')).out) as Array<{ id: string; status: string; attempts: number }>;
    expect(json.map((e) => [e.id, e.status, e.attempts])).toEqual([
      ['n-dead', 'pending', 0],
      ['n-ok', 'delivered', 1],
    ]);
    expect((await run('actions', 'retry', '--data-dir', dataDir)).code).toBe(2);

    const add = await run('silences', 'add', '--data-dir', dataDir, '--match', 'model=press-*', '--match', 'feature=temp_c', '--duration', '2h', '--comment', 'maintenance');
    expect(add.code).toBe(0);
    const id = /^(sil-\S+)\s+active/.exec(add.out)?.[1];
    expect(id).toBeDefined();
    expect(add.out).toContain('{model=~"press-*", feature=~"temp_c"}');
    expect((await run('silences', 'list', '--data-dir', dataDir)).out).toContain(id!);
    expect((await run('silences', 'add', '--data-dir', dataDir, '--match', 'model', '--duration', '2h')).code).toBe(2);
    expect((await run('silences', 'expire', '--data-dir', dataDir, id!)).out).toMatch(/expired/);
    expect((await run('silences', 'list', '--data-dir', dataDir)).out).toBe('no silences\n');
    expect((await run('silences', 'list', '--data-dir', dataDir, '--all')).out).toContain(id!);
  });
});
