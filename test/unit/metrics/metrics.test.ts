/** The metrics registry on its own: what the event handlers record, read back through prom-client's registry. */
import { describe, expect, it } from 'vitest';
import { DriftwatchMetrics } from '../../../src/metrics/metrics.js';

async function value(m: DriftwatchMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return hit?.value;
}

describe('driftwatch metrics', () => {
  it('consumer lag per partition, dropped when the partition is revoked', async () => {
    const m = new DriftwatchMetrics('kafka');
    m.onLag('telemetry/0', 1200);
    m.onLag('telemetry/1', 0);
    m.onLag('telemetry/0', 300);
    expect(await value(m, 'driftwatch_consumer_lag_messages', { partition: 'telemetry/0' })).toBe(300);
    m.dropPartition('telemetry/0');
    expect(await value(m, 'driftwatch_consumer_lag_messages', { partition: 'telemetry/0' })).toBeUndefined();
    expect(await value(m, 'driftwatch_consumer_lag_messages', { partition: 'telemetry/1' })).toBe(0);
  });

  it('backpressure: the paused flag and the time spent paused', async () => {
    let now = 1_000_000;
    const m = new DriftwatchMetrics('kafka', {}, () => now);
    m.onBackpressure(true);
    expect(await value(m, 'driftwatch_backpressure_paused')).toBe(1);
    now += 2500;
    m.onBackpressure(false);
    now += 10_000;
    m.onBackpressure(false);
    expect(await value(m, 'driftwatch_backpressure_paused')).toBe(0);
    expect(await value(m, 'driftwatch_backpressure_paused_seconds_total')).toBe(2.5);
  });

  it('every dead-letter reason starts at 0; late records also count per model', async () => {
    const m = new DriftwatchMetrics('http', { deadLetterReasons: ['bad_json', 'late'] });
    expect(await value(m, 'driftwatch_dead_letters_total', { reason: 'bad_json' })).toBe(0);
    m.onDeadLetter('late', 'press-qa');
    m.onDeadLetter('late', 'press-qa');
    expect(await value(m, 'driftwatch_dead_letters_total', { reason: 'late' })).toBe(2);
    expect(await value(m, 'driftwatch_late_records_total', { model: 'press-qa' })).toBe(2);
  });

  it('a window: scores (p-values also as p-values), verdicts, and an insufficient score removed rather than kept stale', async () => {
    const m = new DriftwatchMetrics('demo');
    const window = (score: number | null) => ({
      model: 'press-qa',
      cause: 'watermark',
      latencySeconds: 0.2,
      windowEndSeconds: 1_800_000_000,
      evaluated: {
        driftShare: 0.5,
        datasetDrifted: true,
        features: [
          { feature: 'temp_c', method: 'ks', scoreKind: 'p_value' as const, score, threshold: 0.05, drifted: score !== null && score <= 0.05 },
          { feature: 'line', method: 'psi', scoreKind: 'distance' as const, score: 0.3, threshold: 0.1, drifted: true },
        ],
        outliers: [{ method: 'iqr', share: 0.01 }],
        quality: [{ check: 'missing_share', column: 'temp_c', failed: true }],
        health: null,
      },
    });
    m.onWindow(window(0.001));
    const ks = { model: 'press-qa', feature: 'temp_c', method: 'ks' };
    expect(await value(m, 'driftwatch_drift_score', ks)).toBe(0.001);
    expect(await value(m, 'driftwatch_drift_p_value', ks)).toBe(0.001);
    expect(await value(m, 'driftwatch_drift_p_value', { feature: 'line' })).toBeUndefined();
    expect(await value(m, 'driftwatch_feature_drifted', ks)).toBe(1);
    expect(await value(m, 'driftwatch_quality_checks_failed', { model: 'press-qa' })).toBe(1);
    m.onWindow(window(null));
    expect(await value(m, 'driftwatch_drift_score', ks)).toBeUndefined();
    expect(await value(m, 'driftwatch_feature_drifted', ks)).toBe(0);
    expect(await value(m, 'driftwatch_window_closes_total', { model: 'press-qa', cause: 'watermark' })).toBe(2);
  });
});
