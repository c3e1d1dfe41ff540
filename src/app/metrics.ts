/**
 * The service's metrics: the pipeline's, alerting's and the dispatcher's events fed to the Prometheus registry,
 * and the `/metrics` and `/readyz` routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../core/store.js';
import { METHODS, isMethodName } from '../drift/methods.js';
import { DriftwatchMetrics } from '../metrics/metrics.js';
import type { AlertingEvent } from '../pipeline/alerting.js';
import { DEAD_REASON_CODES } from '../pipeline/decode.js';
import type { PipelineEvent } from '../pipeline/pipeline.js';
import { firingAlerts, type EngineState } from '../rules/engine.js';
import type { DispatchEvent } from './dispatcher.js';

export interface ServiceMetrics {
  readonly metrics: DriftwatchMetrics;
  onPipeline(e: PipelineEvent): void;
  onAlert(e: AlertingEvent): void;
  onDelivery(e: DispatchEvent): void;
}

/** `kafka`, `http`, `demo`, `file`: the kind of source, from its description (one bounded label value). */
export function sourceKind(description: string): string {
  const kind = /^[a-z]+/.exec(description)?.[0] ?? 'other';
  return ['kafka', 'http', 'demo', 'file'].includes(kind) ? kind : 'other';
}

export function serviceMetrics(o: {
  readonly source: string;
  readonly store: Store;
  readonly alertState?: () => Readonly<EngineState> | null;
  readonly references: () => ReadonlyMap<string, string>;
  /** The package version, for `driftwatch_build_info`. */
  readonly version?: string;
}): ServiceMetrics {
  const metrics = new DriftwatchMetrics(
    o.source,
    {
    alerts: () => {
      const state = o.alertState?.();
      return state ? firingAlerts(state as EngineState) : [];
    },
    outbox: () => o.store.countOutbox(),
      references: o.references,
      deadLetterReasons: DEAD_REASON_CODES,
    },
    Date.now,
    o.version ?? '',
  );
  return {
    metrics,
    onPipeline(e) {
      switch (e.type) {
        case 'records':
          metrics.onRecords(e.byModel, e.rejected);
          if (e.lag !== undefined) metrics.onLag(e.partition, e.lag);
          break;
        case 'dead_letter':
          metrics.onDeadLetter(e.letter.reasonCode, e.letter.model);
          break;
        case 'window': {
          const ev = e.evaluation;
          metrics.onWindow({
            model: ev.due.key.model,
            cause: ev.due.cause,
            latencySeconds: e.latencyMs / 1000,
            windowEndSeconds: ev.due.key.end / 1000,
            evaluated: ev.reference
              ? {
                  driftShare: ev.dataset.columns_tested > 0 ? ev.dataset.share : null,
                  datasetDrifted: ev.dataset.drifted,
                  features: ev.columns.map((c) => ({
                    feature: c.column,
                    method: c.method,
                    scoreKind: isMethodName(c.method) ? METHODS[c.method].scoreKind : 'distance',
                    score: c.status === 'ok' ? c.score : null,
                    threshold: c.threshold,
                    drifted: c.drifted,
                  })),
                  outliers: e.event?.outliers.map((x) => ({ method: x.method, share: x.share })) ?? [],
                  quality: ev.quality.map((q) => ({ check: q.check, column: q.column ?? '', failed: !q.passed && !q.condition.startsWith('error:') && q.value !== null })),
                  health: ev.health
                    ? {
                        errorShare: ev.health.errorShare,
                        metrics: ev.health.metrics.map((m) => ({
                          metric: m.metric,
                          value: m.current.status === 'ok' ? m.current.value : null,
                          reference: m.reference?.status === 'ok' ? m.reference.value : null,
                        })),
                      }
                    : null,
                }
              : null,
          });
          break;
        }
        case 'revoked':
          for (const p of e.partitions) metrics.dropPartition(p);
          break;
        case 'backpressure':
          metrics.onBackpressure(e.paused);
          break;
        case 'write':
          metrics.onWrite(e.durationMs / 1000);
          break;
        case 'error':
          metrics.onError(e.where);
          break;
        default:
          break;
      }
    },
    onAlert(e) {
      if (e.type === 'transition') metrics.onAlertTransition(e.transition.rule, e.transition.to);
    },
    onDelivery(e) {
      const result = e.status === 'delivered' ? 'delivered' : e.status === 'dead' ? 'dead' : 'retry';
      metrics.onDelivery(e.entry.action, e.entry.kind, result, e.latencyMs / 1000);
    },
  };
}

/** `/metrics` (Prometheus text format) and `/readyz` (store reachable, source started, references loaded). */
export function registerMetricsRoutes(app: FastifyInstance, o: { metrics: DriftwatchMetrics; ready: () => Promise<{ ok: boolean; checks: Record<string, boolean> }> }): void {
  app.get('/metrics', async (_req, reply) => {
    const text = await o.metrics.text();
    return reply.header('content-type', o.metrics.registry.contentType).send(text);
  });
  app.get('/readyz', async (_req, reply) => {
    const r = await o.ready();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', checks: r.checks });
  });
}
