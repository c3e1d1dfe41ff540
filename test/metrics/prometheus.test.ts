/**
 * The metrics as Prometheus sees them: a real Prometheus (Debian package) scrapes a running driftwatch fed by the
 * demo generator (shipped rules acting on the local receivers), every metric family is queried through
 * Prometheus's HTTP API and must return series, and `promtool check metrics` finds nothing to say about our
 * families (names, units, help texts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LOTS, DEMO_MODEL, DEMO_SEGMENT, DEMO_STEP_MS, DEMO_WINDOW_MS, demoConfig, prepareDemo } from '../../src/app/demo-data.js';
import { startDemoReceivers } from '../../src/app/demo-receivers.js';
import { startService, type Service } from '../../src/app/service.js';
import { parseConfig } from '../../src/config/index.js';
import { METHOD_NAMES } from '../../src/drift/methods.js';
import { createDemoSource } from '../../src/sources/demo.js';
import { openStore, storeConfigFromEnv } from '../../src/store/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'driftwatch-prom-'));
const cleanups: Array<() => Promise<void> | void> = [];
let service: Service;
let prometheus: ChildProcess | null = null;
let promUrl = '';

/** Every metric family driftwatch exports, as a PromQL expression that must return at least one series. */
const EXPRESSIONS = [
  'driftwatch_up',
  'driftwatch_records_total{source="demo"}',
  'driftwatch_records_rejected_total',
  'driftwatch_dead_letters_total{reason="bad_json"}',
  'driftwatch_pipeline_errors_total',
  'driftwatch_window_closes_total{model="press-qa"}',
  'sum by (model) (rate(driftwatch_window_closes_total[1m]))',
  'histogram_quantile(0.99, sum by (le, model) (rate(driftwatch_window_evaluation_latency_seconds_bucket[5m])))',
  'driftwatch_window_evaluation_latency_seconds_count',
  'driftwatch_last_window_end_timestamp_seconds',
  'driftwatch_drift_score{feature="temp_c"}',
  'driftwatch_drift_threshold',
  'driftwatch_feature_drifted == 1',
  'driftwatch_dataset_drift_share_ratio',
  'driftwatch_dataset_drifted',
  'driftwatch_outlier_share_ratio{method="mahalanobis"}',
  'driftwatch_quality_check_failed',
  'driftwatch_quality_checks_failed',
  'driftwatch_store_write_duration_seconds_count',
  'driftwatch_backpressure_paused',
  'driftwatch_alerts{state="firing"}',
  'driftwatch_alert_transitions_total{to="firing"}',
  'driftwatch_action_deliveries_total{result="delivered"}',
  'driftwatch_action_delivery_duration_seconds_count',
  'driftwatch_outbox_entries{status="delivered"} > 0',
  'driftwatch_reference_info{model="press-qa"}',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_p99_seconds',
];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data!.result;
}

beforeAll(async () => {
  const which = spawnSync('prometheus', ['--version']);
  if (which.error) throw new Error('prometheus is not installed (apt-get install prometheus; .ci/run does it)');
  const database = `dw_test_${randomBytes(6).toString('hex')}`;
  const rulesDir = join(dir, 'rules');
  cpSync(join(ROOT, 'rules'), rulesDir, { recursive: true });
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const airflow = { username: 'ops', password: randomBytes(8).toString('hex') };
  const receivers = await startDemoReceivers({ webhookSecret: secret, airflow });
  cleanups.push(() => receivers.close());
  const env: NodeJS.ProcessEnv = {
    DRIFTWATCH_DATA_DIR: join(dir, 'data'),
    CLICKHOUSE_DATABASE: database,
    DRIFTWATCH_HTTP_PORT: '0',
    SLACK_WEBHOOK_URL: receivers.slackUrl,
    DRIFTWATCH_WEBHOOK_URL: receivers.webhookUrl,
    DRIFTWATCH_WEBHOOK_SECRET: secret,
    AIRFLOW_URL: receivers.airflowUrl,
    AIRFLOW_USERNAME: airflow.username,
    AIRFLOW_PASSWORD: airflow.password,
  };
  const base = parseConfig(`alerts:\n  rules_dir: ${JSON.stringify(rulesDir)}\n`, '(test)', env, METHOD_NAMES);
  const config = demoConfig(base, join(dir, 'data'));
  const store = await openStore(storeConfigFromEnv({ CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: database }, { dataDir: join(dir, 'data') }));
  let data;
  try {
    data = await prepareDemo(store, join(ROOT, 'fixtures', 'demo'));
  } finally {
    await store.close();
  }
  const records = 3600;
  const source = createDemoSource({
    model: DEMO_MODEL,
    normal: data.normal,
    drifted: data.drifted,
    segmentBy: DEMO_SEGMENT,
    lots: DEMO_LOTS,
    records,
    driftAfter: 1800,
    startTs: Math.floor((Date.now() - records * DEMO_STEP_MS) / DEMO_WINDOW_MS) * DEMO_WINDOW_MS,
    stepMs: DEMO_STEP_MS,
    ratePerSecond: 0,
    // One malformed message among them: a dead letter to count.
    inject: { at: 10, value: '{"model": "press-qa", "ts": ' },
  });
  service = await startService({ config, source, http: true, env, log: () => undefined });
  cleanups.push(() => service.stop());
  await service.finished;

  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const target = new URL(service.url!).host;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: driftwatch\n    static_configs:\n      - targets: ["${target}"]\n`,
  );
  prometheus = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr!.setEncoding('utf8').on('data', (s: string) => (log = (log + s).slice(-4000)));
  cleanups.push(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          prometheus?.kill('SIGKILL');
          r(null);
        }, 10_000);
        prometheus!.once('exit', () => {
          clearTimeout(t);
          r(null);
        });
      });
    }
  });
  // Wait (bounded) for two scrapes, so that rate() has two points.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    try {
      const up = await query('count_over_time(up{job="driftwatch"}[1m])');
      if (up.length > 0 && Number(up[0]!.value[1]) >= 3) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus did not scrape driftwatch in time: ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('metrics scraped by a real Prometheus', () => {
  it('the scrape target is up', async () => {
    const up = await query('up{job="driftwatch"}');
    expect(up.map((s) => s.value[1])).toEqual(['1']);
  });

  for (const expr of EXPRESSIONS) {
    it(`returns series: ${expr}`, async () => {
      expect((await query(expr)).length).toBeGreaterThan(0);
    });
  }

  it('reports what the demo did: 3599 good records and one dead letter, 12 windows, 6 drifted, the dead letter, one retrain delivered', async () => {
    const value = async (expr: string) => Number((await query(expr))[0]?.value[1] ?? NaN);
    expect(await value('sum(driftwatch_records_total)')).toBe(3599);
    expect(await value('sum(driftwatch_window_closes_total)')).toBe(12);
    expect(await value('driftwatch_dead_letters_total{reason="bad_json"}')).toBe(1);
    expect(await value('driftwatch_dataset_drifted{model="press-qa"}')).toBe(1);
    expect(await value('driftwatch_action_deliveries_total{action="retrain",result="delivered"}')).toBe(1);
    const drifted = await query('driftwatch_feature_drifted{model="press-qa"} == 1');
    expect(drifted.map((s) => s.metric['feature']).sort()).toEqual(expect.arrayContaining(['pressure_bar', 'temp_c']));
  });

  it('promtool check metrics accepts the exposition; /readyz is ready', async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    // Our families only: prom-client's default `nodejs_active_*_total` gauges break the `_total` rule upstream.
    const ours = text
      .split('\n')
      .filter((l) => /^(# (HELP|TYPE) )?driftwatch_/.test(l))
      .join('\n');
    expect(ours.split('\n').filter((l) => l.startsWith('# TYPE ')).length).toBeGreaterThan(25);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: `${ours}\n`, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: true, source: true, references: true } });
  });
});
