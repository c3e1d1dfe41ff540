/**
 * Prometheus metrics (prom-client, a registry of driftwatch's own): the pipeline's, alerting's and the dispatcher's
 * events become counters, gauges and histograms; alert states, outbox backlog and the references in use are read
 * when Prometheus scrapes.
 *
 * Names follow Prometheus conventions: `driftwatch_` prefix, base units (`_seconds`, `_ratio`), counters end in
 * `_total`. Labels stay bounded: `model` and `feature` come from the configuration and the references, `method`,
 * `reason`, `cause`, `check`, `action` and `result` from closed sets; never record ids, segment values or data as
 * labels.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the metrics are fed: plain shapes (this adapter imports no other part of driftwatch). */
export interface WindowObservation {
  readonly model: string;
  readonly cause: string;
  /** Window close to report written, seconds. */
  readonly latencySeconds: number;
  readonly windowEndSeconds: number;
  /** Null when the model had no active reference (nothing compared). */
  readonly evaluated: null | {
    readonly driftShare: number | null;
    readonly datasetDrifted: boolean;
    readonly features: ReadonlyArray<{
      readonly feature: string;
      readonly method: string;
      readonly scoreKind: 'p_value' | 'distance';
      readonly score: number | null;
      readonly threshold: number;
      readonly drifted: boolean;
    }>;
    readonly outliers: ReadonlyArray<{ readonly method: string; readonly share: number | null }>;
    readonly quality: ReadonlyArray<{ readonly check: string; readonly column: string; readonly failed: boolean }>;
    readonly health: null | {
      readonly errorShare: number | null;
      readonly metrics: ReadonlyArray<{ readonly metric: string; readonly value: number | null; readonly reference: number | null }>;
    };
  };
}

export interface MetricsSources {
  /** Pending and firing alerts, read at scrape time. */
  readonly alerts?: () => ReadonlyArray<{ readonly rule: string; readonly model: string; readonly state: 'pending' | 'firing' }>;
  /** Outbox rows by status, read at scrape time. */
  readonly outbox?: () => Promise<ReadonlyArray<{ readonly status: string; readonly count: number }>>;
  /** The active reference of each model. */
  readonly references?: () => ReadonlyMap<string, string>;
  /** Every dead-letter reason code: their counters start at 0, so rates work before the first one. */
  readonly deadLetterReasons?: ReadonlyArray<string>;
}

export class DriftwatchMetrics {
  readonly registry = new Registry();
  private readonly records: Counter<'source' | 'model'>;
  private readonly rejected: Counter<'source'>;
  private readonly deadLetters: Counter<'reason'>;
  private readonly late: Counter<'model'>;
  private readonly windows: Counter<'model' | 'cause'>;
  private readonly latency: Histogram<'model'>;
  private readonly lastWindow: Gauge<'model'>;
  private readonly lastWritten: Gauge<'model'>;
  private readonly score: Gauge<'model' | 'feature' | 'method'>;
  private readonly pValue: Gauge<'model' | 'feature' | 'method'>;
  private readonly threshold: Gauge<'model' | 'feature' | 'method'>;
  private readonly drifted: Gauge<'model' | 'feature' | 'method'>;
  private readonly share: Gauge<'model'>;
  private readonly datasetDrifted: Gauge<'model'>;
  private readonly outliers: Gauge<'model' | 'method'>;
  private readonly qualityFailed: Gauge<'model' | 'check' | 'column'>;
  private readonly qualityFailedCount: Gauge<'model'>;
  private readonly modelQuality: Gauge<'model' | 'metric'>;
  private readonly modelQualityReference: Gauge<'model' | 'metric'>;
  private readonly errorShare: Gauge<'model'>;
  private readonly lag: Gauge<'partition'>;
  private readonly paused: Gauge;
  private readonly pausedSeconds: Counter;
  private readonly writeLatency: Histogram;
  private readonly writeErrors: Counter<'where'>;
  private readonly deliveries: Counter<'action' | 'kind' | 'result'>;
  private readonly deliveryLatency: Histogram<'action'>;
  private readonly alertTransitions: Counter<'rule' | 'to'>;
  private pausedAt: number | null = null;

  constructor(
    private readonly source: string,
    sources: MetricsSources = {},
    private readonly now: () => number = Date.now,
    version = '',
  ) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.records = new Counter({ name: 'driftwatch_records_total', help: 'Records accepted by the pipeline.', labelNames: ['source', 'model'], registers: r });
    this.rejected = new Counter({ name: 'driftwatch_records_rejected_total', help: 'Records refused (dead-lettered), late ones included.', labelNames: ['source'], registers: r });
    this.rejected.inc({ source }, 0);
    this.deadLetters = new Counter({ name: 'driftwatch_dead_letters_total', help: 'Dead letters by reason code.', labelNames: ['reason'], registers: r });
    for (const reason of sources.deadLetterReasons ?? []) this.deadLetters.inc({ reason }, 0);
    this.late = new Counter({ name: 'driftwatch_late_records_total', help: 'Records later than the allowed lateness.', labelNames: ['model'], registers: r });
    this.windows = new Counter({ name: 'driftwatch_window_closes_total', help: 'Window reports written, by what closed the window.', labelNames: ['model', 'cause'], registers: r });
    this.latency = new Histogram({
      name: 'driftwatch_window_evaluation_latency_seconds',
      help: 'From a window closing to its drift results being stored and its drift event published.',
      labelNames: ['model'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    this.lastWindow = new Gauge({ name: 'driftwatch_last_window_end_timestamp_seconds', help: 'End of the newest window reported (event time).', labelNames: ['model'], registers: r });
    this.lastWritten = new Gauge({
      name: 'driftwatch_last_window_written_timestamp_seconds',
      help: 'When the newest window report was written (wall clock): `time() - this` tells how long a model has been quiet.',
      labelNames: ['model'],
      registers: r,
    });
    const fm = ['model', 'feature', 'method'] as const;
    this.score = new Gauge({ name: 'driftwatch_drift_score', help: 'Drift score of a feature in the last window: the p-value or the distance, as the method gives it.', labelNames: fm, registers: r });
    this.pValue = new Gauge({ name: 'driftwatch_drift_p_value', help: 'p-value of a feature in the last window (test methods only).', labelNames: fm, registers: r });
    this.threshold = new Gauge({ name: 'driftwatch_drift_threshold', help: 'Threshold the score is compared with.', labelNames: fm, registers: r });
    this.drifted = new Gauge({ name: 'driftwatch_feature_drifted', help: '1 when the feature drifted in the last window.', labelNames: fm, registers: r });
    this.share = new Gauge({ name: 'driftwatch_dataset_drift_share_ratio', help: 'Share of tested features that drifted in the last window.', labelNames: ['model'], registers: r });
    this.datasetDrifted = new Gauge({ name: 'driftwatch_dataset_drifted', help: '1 when the last window drifted as a dataset.', labelNames: ['model'], registers: r });
    this.outliers = new Gauge({ name: 'driftwatch_outlier_share_ratio', help: 'Share of rows an outlier method flagged in the last window.', labelNames: ['model', 'method'], registers: r });
    this.qualityFailed = new Gauge({ name: 'driftwatch_quality_check_failed', help: '1 when a quality check failed in the last window.', labelNames: ['model', 'check', 'column'], registers: r });
    this.qualityFailedCount = new Gauge({ name: 'driftwatch_quality_checks_failed', help: 'Quality checks that failed in the last window.', labelNames: ['model'], registers: r });
    this.modelQuality = new Gauge({ name: 'driftwatch_model_quality', help: 'Model quality metric of the last window (accuracy, precision, recall, f1, roc_auc, mae, rmse).', labelNames: ['model', 'metric'], registers: r });
    this.modelQualityReference = new Gauge({ name: 'driftwatch_model_quality_reference', help: 'The same metric on the reference.', labelNames: ['model', 'metric'], registers: r });
    this.errorShare = new Gauge({ name: 'driftwatch_error_status_share_ratio', help: 'Share of predictions with an error status in the last window.', labelNames: ['model'], registers: r });
    this.lag = new Gauge({ name: 'driftwatch_consumer_lag_messages', help: 'Messages behind the end of each Kafka partition after the last batch.', labelNames: ['partition'], registers: r });
    this.paused = new Gauge({ name: 'driftwatch_backpressure_paused', help: '1 while the source is paused because writes are behind.', registers: r });
    this.pausedSeconds = new Counter({ name: 'driftwatch_backpressure_paused_seconds_total', help: 'Time the source spent paused for backpressure.', registers: r });
    this.writeLatency = new Histogram({
      name: 'driftwatch_store_write_duration_seconds',
      help: 'Time to write the drift results of a batch of window reports to the store, before their drift events are published.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    });
    this.writeErrors = new Counter({ name: 'driftwatch_pipeline_errors_total', help: 'Failures of the pipeline (write: the store or broker failed after retries).', labelNames: ['where'], registers: r });
    this.writeErrors.inc({ where: 'write' }, 0);
    this.deliveries = new Counter({ name: 'driftwatch_action_deliveries_total', help: 'Delivery attempts of notifications and triggers, by outcome (delivered, retry, dead).', labelNames: ['action', 'kind', 'result'], registers: r });
    this.deliveryLatency = new Histogram({
      name: 'driftwatch_action_delivery_duration_seconds',
      help: 'Time of one delivery attempt.',
      labelNames: ['action'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.alertTransitions = new Counter({ name: 'driftwatch_alert_transitions_total', help: 'Alert state changes, by rule and new state.', labelNames: ['rule', 'to'], registers: r });

    new Gauge({ name: 'driftwatch_build_info', help: 'The running build (value 1).', labelNames: ['version', 'node'], registers: r }).set(
      { version: version || 'unknown', node: process.version },
      1,
    );
    const self = this;
    new Gauge({
      name: 'driftwatch_alerts',
      help: 'Alerts pending or firing now, by rule and model.',
      labelNames: ['rule', 'model', 'state'],
      registers: r,
      collect() {
        this.reset();
        const list = sources.alerts?.() ?? [];
        for (const a of list) this.inc({ rule: a.rule, model: a.model, state: a.state });
      },
    });
    new Gauge({
      name: 'driftwatch_outbox_entries',
      help: 'Outbox rows (notifications and triggers) by status.',
      labelNames: ['status'],
      registers: r,
      async collect() {
        this.reset();
        for (const s of ['pending', 'delivered', 'dead']) this.set({ status: s }, 0);
        for (const row of (await sources.outbox?.().catch(() => [])) ?? []) this.set({ status: row.status }, row.count);
      },
    });
    new Gauge({
      name: 'driftwatch_reference_info',
      help: 'The active reference of each model (value 1).',
      labelNames: ['model', 'reference_id'],
      registers: r,
      collect() {
        this.reset();
        for (const [model, id] of sources.references?.() ?? new Map<string, string>()) this.set({ model, reference_id: id }, 1);
      },
    });
    new Gauge({
      name: 'driftwatch_up',
      help: 'Always 1 while driftwatch runs; with the source as a label.',
      labelNames: ['source'],
      registers: r,
      collect() {
        this.set({ source: self.source }, 1);
      },
    });
  }

  /** A batch decoded: accepted counts by model, and how many were refused. */
  onRecords(byModel: ReadonlyMap<string, number>, rejected: number): void {
    for (const [model, n] of byModel) this.records.inc({ source: this.source, model }, n);
    if (rejected > 0) this.rejected.inc({ source: this.source }, rejected);
  }

  /** Kafka: how far a partition is behind its end (`topic/partition`). */
  onLag(partition: string, messages: number): void {
    this.lag.set({ partition }, messages);
  }

  /** A partition this instance no longer owns. */
  dropPartition(partition: string): void {
    this.lag.remove({ partition });
  }

  onDeadLetter(reason: string, model: string): void {
    this.deadLetters.inc({ reason });
    if (reason === 'late' && model !== '') this.late.inc({ model });
  }

  onWindow(w: WindowObservation): void {
    const m = w.model;
    this.windows.inc({ model: m, cause: w.cause });
    this.latency.observe({ model: m }, w.latencySeconds);
    this.lastWindow.set({ model: m }, w.windowEndSeconds);
    this.lastWritten.set({ model: m }, this.now() / 1000);
    const e = w.evaluated;
    if (!e) return;
    for (const f of e.features) {
      const labels = { model: m, feature: f.feature, method: f.method };
      if (f.score === null || !Number.isFinite(f.score)) {
        this.score.remove(labels);
        this.pValue.remove(labels);
      } else {
        this.score.set(labels, f.score);
        if (f.scoreKind === 'p_value') this.pValue.set(labels, f.score);
      }
      this.threshold.set(labels, f.threshold);
      this.drifted.set(labels, f.drifted ? 1 : 0);
    }
    if (e.driftShare !== null) this.share.set({ model: m }, e.driftShare);
    this.datasetDrifted.set({ model: m }, e.datasetDrifted ? 1 : 0);
    for (const o of e.outliers) if (o.share !== null) this.outliers.set({ model: m, method: o.method }, o.share);
    let failed = 0;
    for (const q of e.quality) {
      this.qualityFailed.set({ model: m, check: q.check, column: q.column }, q.failed ? 1 : 0);
      if (q.failed) failed++;
    }
    this.qualityFailedCount.set({ model: m }, failed);
    if (e.health) {
      if (e.health.errorShare !== null) this.errorShare.set({ model: m }, e.health.errorShare);
      for (const q of e.health.metrics) {
        if (q.value !== null) this.modelQuality.set({ model: m, metric: q.metric }, q.value);
        if (q.reference !== null) this.modelQualityReference.set({ model: m, metric: q.metric }, q.reference);
      }
    }
  }

  onBackpressure(paused: boolean): void {
    const now = this.now();
    if (paused && this.pausedAt === null) this.pausedAt = now;
    if (!paused && this.pausedAt !== null) {
      this.pausedSeconds.inc((now - this.pausedAt) / 1000);
      this.pausedAt = null;
    }
    this.paused.set(paused ? 1 : 0);
  }

  onWrite(seconds: number): void {
    this.writeLatency.observe(seconds);
  }

  onError(where: string): void {
    this.writeErrors.inc({ where });
  }

  onDelivery(action: string, kind: string, result: string, seconds: number): void {
    this.deliveries.inc({ action, kind, result });
    this.deliveryLatency.observe({ action }, seconds);
  }

  onAlertTransition(rule: string, to: string): void {
    this.alertTransitions.inc({ rule, to });
  }

  /** The exposition text (what `/metrics` answers). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
