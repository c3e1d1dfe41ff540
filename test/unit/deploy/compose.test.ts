/**
 * docker-compose.yml cannot be started here (no docker engine), so its parts are checked one by one: the files it
 * mounts exist, ports are published on loopback only, driftwatch's configuration parses with the environment the
 * stack gives it, the shipped rules find every secret and URL they need there, and every command the stack runs
 * is a command of this build.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/index.js';
import { missingSecrets, parseRuleFiles } from '../../../src/config/rules-file.js';
import { METHOD_NAMES } from '../../../src/drift/methods.js';
import { run } from '../cli/run-cli.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** `${NAME:-default}` as compose resolves it with nothing set in the environment. */
function resolved(env: Record<string, string | number> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
}

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual(['clickhouse', 'demo-producer', 'driftwatch', 'grafana', 'kafka', 'prometheus', 'receivers']);
  });

  it('mounts files that exist and publishes ports on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (host.startsWith('.')) expect(existsSync(join(ROOT, host)), `${name}: ${host}`).toBe(true);
      }
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
  });

  it("driftwatch's configuration parses with the stack's environment", () => {
    const env = resolved(services['driftwatch']!.environment);
    const text = readFileSync(join(ROOT, 'deploy', 'driftwatch.compose.yaml'), 'utf8');
    const config = parseConfig(text, 'deploy/driftwatch.compose.yaml', env, METHOD_NAMES, '/app');
    expect(config.kafka?.brokers).toEqual(['kafka:9092']);
    expect(config.store.clickhouseUrl).toBe('http://clickhouse:8123');
    expect(config.models['press-qa']?.segmentBy).toEqual(['lot_id']);
    expect(config.alerts.rulesDir).toBe('/app/rules');
  });

  it('the shipped rules find every secret and URL they need in the stack', () => {
    const env = resolved({ ...services['driftwatch']!.environment });
    const dir = join(ROOT, 'rules');
    const files = ['actions.yaml', 'drift.yaml', 'model-health.yaml'].map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }));
    const set = parseRuleFiles(files, env);
    expect(missingSecrets(set, env)).toEqual([]);
    const urls = [...set.actions.values()].map((a) => ('url' in a ? a.url : ''));
    expect(urls.filter((u) => u !== '').every((u) => u.startsWith('http://receivers:9000'))).toBe(true);
    // The receivers check signatures and passwords with the same values.
    const receivers = resolved(services['receivers']!.environment);
    for (const k of ['DRIFTWATCH_WEBHOOK_SECRET', 'AIRFLOW_USERNAME', 'AIRFLOW_PASSWORD']) expect(receivers[k], k).toBe(env[k]);
  });

  it('every command the stack runs is a command of this build', async () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.build) continue;
      const r = await run(s.command![0]!, '--help');
      expect(r.code, `${name}: ${s.command!.join(' ')}`).toBe(0);
    }
  });
});
