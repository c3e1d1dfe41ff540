/**
 * The metrics as Prometheus sees them: a real Prometheus (Debian package) scrapes a running driftwatch fed by the
 * demo generator (shipped rules acting on the local receivers), every metric family is queried through
 * Prometheus's HTTP API and must return series, and `promtool check metrics` finds nothing to say about our
 * families (names, units, help texts).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoStack } from './helpers.js';

const stack = new DemoStack({ prefix: 'driftwatch-prom-' });
const query = (expr: string) => stack.query(expr);

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
  'time() - driftwatch_last_window_written_timestamp_seconds < 600',
  'driftwatch_build_info{version="0.1.0"}',
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

beforeAll(() => stack.start(), 120_000);
afterAll(() => stack.close());

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
    const text = await (await fetch(`${stack.service.url}/metrics`)).text();
    // Our families only: prom-client's default `nodejs_active_*_total` gauges break the `_total` rule upstream.
    const ours = text
      .split('\n')
      .filter((l) => /^(# (HELP|TYPE) )?driftwatch_/.test(l))
      .join('\n');
    expect(ours.split('\n').filter((l) => l.startsWith('# TYPE ')).length).toBeGreaterThan(25);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: `${ours}\n`, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    const ready = await fetch(`${stack.service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { store: true, source: true, references: true } });
  });
});
