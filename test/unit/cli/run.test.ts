import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'driftwatch-run-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('driftwatch run', () => {
  it('reports every problem of a bad configuration file with its place, and exits 2 without starting', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      ['windows:', '  size: soon', '  type: hoping', 'models:', '  press-qa:', '    kind: prediction', 'kafka:', '  brokerz: [a:1]', ''].join('\n'),
    );
    const r = await run('run', '--config', file, '--data-dir', join(dir, 'data'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:2:9`);
    expect(r.err).toMatch(/windows\.size: .*duration/);
    expect(r.err).toMatch(/windows\.type/);
    expect(r.err).toMatch(/models\.press-qa\.task/);
    expect(r.err).toMatch(/brokerz.*did you mean "brokers"/);
    expect(r.err).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('says which file is missing', async () => {
    const r = await run('run', '--config', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.yaml/);
  });
});

describe('driftwatch dead-letters list', () => {
  it('lists what the store holds (nothing in a new data directory)', async () => {
    const r = await run('dead-letters', 'list', '--data-dir', join(dir, 'empty'), '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([]);
    expect((await run('dead-letters', 'list', '--data-dir', join(dir, 'empty'))).out).toBe('no dead letters\n');
  });
});
