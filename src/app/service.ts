/**
 * The composition root of `driftwatch run` (and of the demo and file replay): opens the store, loads the active
 * references, picks the source (Kafka when brokers are configured, else HTTP ingest; or one the caller gives),
 * starts the pipeline with its periodic tick, the HTTP API and the rolling-reference schedule, and stops all of it
 * in order. With Kafka configured, drift events go to its drift-events topic whatever the source (a file replay
 * too); dead letters go to its dead-letter topic only when Kafka is the source (a replayed file's bad records are
 * in the file: they stay in the store).
 */
import type { DriftwatchConfig } from '../config/types.js';
import type { Publisher, Source } from '../core/stream.js';
import type { Store } from '../core/store.js';
import { InlineEvaluator, WorkerEvaluator } from '../pipeline/evaluator.js';
import { Pipeline, type PipelineEvent } from '../pipeline/pipeline.js';
import { ActiveReferences } from '../reference/active.js';
import { scheduleRolling, type RollingHandle } from '../reference/rolling.js';
import { createApiServer } from '../api/server.js';
import { createHttpIngest } from '../sources/http.js';
import { createKafkaPublisher, ensureTopics } from '../sources/kafka-publisher.js';
import { createKafkaSource, type KafkaSourceOptions } from '../sources/kafka.js';
import { openStore, storeConfigFromEnv } from '../store/index.js';
import { registerAlertRoutes } from './alert-routes.js';
import { reportLink, startAlerts, type AlertRuntime } from './alerts.js';
import type { DriftEvent } from '../core/drift-event.js';
import type { AlertingEvent } from '../pipeline/alerting.js';
import type { DispatchEvent } from './dispatcher.js';
import { registerCaptureRoutes } from './capture.js';
import { registerReportRoutes } from './report-page.js';
import { packageVersion } from './package-root.js';
import { registerMetricsRoutes, serviceMetrics, sourceKind, type ServiceMetrics } from './metrics.js';
import { defaultSettings, modelSettings } from './settings.js';

export interface ServiceOptions {
  readonly config: DriftwatchConfig;
  /** A source to use instead of the configured one (the demo generator, a file replay). */
  readonly source?: Source;
  /** Serve the HTTP API (health, and ingest when it is the source). Default: `config.http.enabled`. */
  readonly http?: boolean;
  readonly log: (line: string) => void;
  readonly onEvent?: (event: PipelineEvent) => void;
  /** How often idle windows and commits are looked at (ms). */
  readonly tickMs?: number;
  /** How often the active references are polled for a promotion (ms). */
  readonly referencePollMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Where relative paths (the default `./rules`) resolve. */
  readonly cwd?: string;
  readonly onAlert?: (event: AlertingEvent) => void;
  readonly onDelivery?: (event: DispatchEvent) => void;
  /** Where the HTTP host and port are set, named when they cannot be listened on. Default: the configuration's keys. */
  readonly httpSettings?: { readonly host: string; readonly port: string };
}

export interface Service {
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly source: Source;
  readonly references: ActiveReferences;
  /** Alert rules and deliveries; null when there is no rules directory. */
  readonly alerts: AlertRuntime | null;
  readonly metrics: ServiceMetrics;
  /** The HTTP API's base URL, when it is served. */
  readonly url: string | null;
  /** Resolves when a finite source (file replay, demo) has delivered everything, or rejects when the pipeline fails. */
  readonly finished: Promise<void>;
  /** Stops taking input, writes and commits what is pending, and closes everything. Idempotent. */
  stop(): Promise<void>;
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const { config, log } = o;
  const env = o.env ?? process.env;
  const storeEnv: NodeJS.ProcessEnv = {
    ...env,
    CLICKHOUSE_URL: config.store.clickhouseUrl ?? '',
    CLICKHOUSE_USER: config.store.user,
    CLICKHOUSE_PASSWORD: config.store.password ?? '',
    CLICKHOUSE_DATABASE: config.store.database,
  };
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const store = await openStore(storeConfigFromEnv(storeEnv, { dataDir: config.store.dataDir }));
    cleanup.push(() => store.close());

    const references = await ActiveReferences.open(store, {
      pollMs: o.referencePollMs ?? 10_000,
      onSwitch: (model, from, to) => log(`reference for ${model}: ${from ?? 'none'} -> ${to ?? 'none'}\n`),
      onError: (error, where) => log(`reference ${where.id ?? ''} of ${where.model ?? 'all models'} could not be loaded: ${error.message}\n`),
    });
    references.start();
    cleanup.push(() => references.stop());

    let publisher: Publisher | null = null;
    let source: Source;
    const serveHttp = o.http ?? config.http.enabled;
    let ingest: ReturnType<typeof createHttpIngest> | null = null;
    const kafka = config.kafka;
    const client = kafka
      ? {
          brokers: kafka.brokers,
          clientId: kafka.clientId,
          ssl: kafka.ssl,
          ...(kafka.sasl ? { sasl: kafka.sasl } : {}),
          log: (level: string, message: string) => log(`kafka ${level}: ${message}\n`),
        }
      : null;
    // Drift events go to Kafka whatever the source; dead letters only with the records they come from (a given
    // source's, a replayed file's, stay in the store: the file holds the records).
    const topics = { driftEvents: kafka?.topics.driftEvents ?? null, deadLetters: o.source ? null : (kafka?.topics.deadLetters ?? null) };
    if (kafka && client) {
      const outputs = [topics.driftEvents, topics.deadLetters].filter((t): t is string => t !== null);
      if (outputs.length > 0) {
        await ensureTopics(kafka.brokers, outputs.map((topic) => ({ topic, partitions: 1 })), client);
        const p = createKafkaPublisher(client);
        publisher = p;
        cleanup.push(() => p.close());
        await p.connect();
      }
    }
    if (o.source) {
      source = o.source;
    } else if (kafka && client) {
      const inputs: KafkaSourceOptions['topics'] = [
        ...kafka.topics.telemetry.map((topic) => ({ topic, kind: 'telemetry' as const })),
        ...kafka.topics.predictions.map((topic) => ({ topic, kind: 'prediction' as const })),
        ...kafka.topics.labels.map((topic) => ({ topic, kind: 'label' as const })),
      ];
      source = createKafkaSource({ ...client, groupId: kafka.groupId, topics: inputs, fromBeginning: kafka.fromBeginning, maxBytesPerPartition: kafka.maxBytesPerPartition });
    } else {
      ingest = createHttpIngest({ maxBodyBytes: config.http.maxBodyBytes });
      source = ingest.source;
    }

    let url: string | null = null;
    let sourceStarted = false;
    let alerts: AlertRuntime | null = null;
    const metrics = serviceMetrics({
      source: sourceKind(source.description),
      store,
      alertState: () => alerts?.alerting.current ?? null,
      references: () => references.ids(),
      version: packageVersion(),
    });
    alerts = await startAlerts({
      config: config.alerts,
      store,
      env,
      cwd: o.cwd ?? process.cwd(),
      log,
      baseUrl: () => url ?? `http://${config.http.host}:${config.http.port}`,
      onAlert: (e) => {
        metrics.onAlert(e);
        o.onAlert?.(e);
      },
      onDelivery: (e) => {
        metrics.onDelivery(e);
        o.onDelivery?.(e);
      },
    });
    const alertRuntime = alerts;
    if (alertRuntime) cleanup.push(() => alertRuntime.stop());

    // Closed after the pipeline has written what it holds (cleanup runs in reverse).
    const workers = config.pipeline.evaluationWorkers;
    const evaluator = workers > 0 ? new WorkerEvaluator(workers, { timeoutMs: config.pipeline.evaluationTimeoutMs }) : new InlineEvaluator();
    cleanup.push(() => evaluator.close());

    const pipeline = new Pipeline({
      store,
      evaluator,
      alerts: alerts?.alerting ?? null,
      source,
      publisher,
      topics,
      // Only a configured public URL: the API's own address can change between runs, and an event issued again
      // must be the same.
      ...(config.alerts.publicUrl !== null ? { reportLink: (e: DriftEvent) => reportLink(config.alerts.publicUrl!, e) } : {}),
      reference: (m) => references.get(m),
      settings: (m) => {
        const c = Object.hasOwn(config.models, m) ? config.models[m] : undefined;
        return c ? modelSettings(c) : undefined;
      },
      defaults: defaultSettings(config),
      limits: { maxRecordBytes: config.ingest.maxRecordBytes, maxFutureMs: config.ingest.maxFutureMs, maxPastMs: config.ingest.maxPastMs },
      idleTimeoutMs: config.windows.idleTimeoutMs,
      // The embedded engine writes on this machine's cores: by default a window late for its results holds the input back.
      ...(config.pipeline.resultsWaitMs !== null ? { resultsWaitMs: config.pipeline.resultsWaitMs } : {}),
      onEvent: (e) => {
        metrics.onPipeline(e);
        o.onEvent?.(e);
      },
    });

    if (serveHttp || ingest) {
      const api = createApiServer({
        host: config.http.host,
        port: config.http.port,
        maxBodyBytes: config.http.maxBodyBytes,
        ...(config.http.apiToken ? { apiToken: config.http.apiToken } : {}),
        settings: o.httpSettings ?? { host: 'http.host / DRIFTWATCH_HTTP_HOST', port: 'http.port / DRIFTWATCH_HTTP_PORT' },
      });
      ingest?.register(api.app);
      const captures = registerCaptureRoutes(api.app, { pipeline, store, log });
      registerAlertRoutes(api.app, { store, alerts });
      registerReportRoutes(api.app, {
        store,
        references,
        driftShare: (m) => (Object.hasOwn(config.models, m) ? config.models[m]!.evaluation.driftShare : config.evaluation.driftShare),
      });
      registerMetricsRoutes(api.app, {
        metrics: metrics.metrics,
        ready: async () => {
          const checks = { store: await store.ping(), source: sourceStarted, references: references.started };
          return { ok: Object.values(checks).every(Boolean), checks };
        },
      });
      cleanup.push(async () => captures.stop());
      cleanup.push(() => api.close());
      url = (await api.listen()).url;
      log(`http: ${url}${ingest ? ' (POST /v1/ingest)' : ''}, GET /metrics, GET /readyz, POST /v1/references/capture\n`);
    }

    let rolling: RollingHandle | null = null;
    if (config.rollingReferences.length > 0) {
      rolling = scheduleRolling(
        store,
        config.rollingReferences.map((r) => ({
          model: r.model,
          schedule: r.schedule,
          trailingMs: r.trailingMs,
          excludeDrifted: r.excludeDrifted,
          promote: r.promote,
          ...(r.maxRows !== null ? { maxRows: r.maxRows } : {}),
        })),
        {
          onResult: (r, spec) => log(`rolling reference for ${spec.model}: ${JSON.stringify(r)}\n`),
          onError: (e, spec) => log(`rolling reference for ${spec.model} failed: ${e.message}\n`),
        },
      );
      const h = rolling;
      cleanup.push(() => h.stop());
    }

    // The evaluation workers take the active references and warm up while the source connects.
    pipeline.prepare(new Set([...references.models(), ...Object.keys(config.models)]));
    // Stopped also when its start fails half-way (a Kafka consumer connected, its subscription refused).
    cleanup.push(() => source.stop());
    await source.start(pipeline);
    sourceStarted = true;
    log(`source: ${source.description}\n`);

    let failed: (e: Error) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => (failed = reject));
    failure.catch(() => undefined);
    const timer = setInterval(() => {
      pipeline.tick().catch((e: unknown) => failed(e instanceof Error ? e : new Error(String(e))));
    }, o.tickMs ?? 1000);
    timer.unref();

    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        clearInterval(timer);
        // What is pending is written and committed while the source can still commit, then the input stops (a batch
        // taken in between is simply read again after a restart), then the rest closes. HTTP ingest cannot replay:
        // its open windows are reported now (cause "flush") instead of being lost.
        const done = ingest ? pipeline.flush() : pipeline.close();
        await done.catch((e: unknown) => log(`pending reports could not be written: ${(e as Error).message}\n`));
        await source.stop().catch(() => undefined);
        await undo();
      })();
      return stopping;
    };
    const finished = Promise.race([
      source.finished.then(async () => {
        await pipeline.flush();
      }),
      failure,
    ]);
    return { store, pipeline, source, references, alerts, metrics, url, finished, stop };
  } catch (e) {
    await undo();
    throw e;
  }
}
