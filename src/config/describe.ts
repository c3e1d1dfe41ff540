/** A one-screen summary of the config for start-up logs. Secrets are shown only as "set" or "not set". */
import { formatDuration, formatSize } from './duration.js';
import { redactUrl } from './schema.js';
import type { DriftwatchConfig, EvaluationConfig, WindowConfig } from './types.js';

/** Models listed one per line; beyond this many the rest are counted. */
const MAX_MODELS_LISTED = 20;

export function describeConfig(config: DriftwatchConfig): string {
  const lines: string[] = [];
  const { store, kafka, http, ingest } = config;
  const secret = (v: string | null): string => (v === null || v === '' ? 'not set' : 'set');

  lines.push(
    store.clickhouseUrl === null
      ? `store: embedded engine in ${store.dataDir}, database ${store.database}`
      : `store: ClickHouse at ${redactUrl(store.clickhouseUrl)}, user ${store.user}, password ${secret(store.password)}, database ${store.database}`,
  );

  if (kafka === null) {
    lines.push('kafka: off (no brokers)');
  } else {
    const security = [kafka.ssl ? 'ssl' : 'no ssl'];
    if (kafka.sasl !== null) security.push(`sasl ${kafka.sasl.mechanism} as ${kafka.sasl.username}, password ${secret(kafka.sasl.password)}`);
    lines.push(
      `kafka: brokers ${kafka.brokers.join(', ')}; client ${kafka.clientId}, group ${kafka.groupId}, ` +
        `${kafka.fromBeginning ? 'from beginning' : 'from latest'}, ${formatSize(kafka.maxBytesPerPartition)} per partition; ${security.join(', ')}`,
    );
    const t = kafka.topics;
    const list = (topics: ReadonlyArray<string>): string => (topics.length === 0 ? '-' : topics.join(', '));
    lines.push(
      `  topics: telemetry ${list(t.telemetry)}; predictions ${list(t.predictions)}; labels ${list(t.labels)}; ` +
        `drift events ${t.driftEvents ?? 'off'}; dead letters ${t.deadLetters ?? 'off'}`,
    );
  }

  lines.push(
    http.enabled
      ? `http: ${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port === 0 ? '<any free port>' : http.port}, ` +
          `max body ${formatSize(http.maxBodyBytes)}, API token ${secret(http.apiToken)}`
      : 'http: off',
  );
  lines.push(
    `ingest: max record ${formatSize(ingest.maxRecordBytes)}, accepts timestamps from ${formatDuration(ingest.maxPastMs)} ago ` +
      `to ${formatDuration(ingest.maxFutureMs)} ahead, unknown models -> ${ingest.unknownModels}`,
  );
  const workers = config.pipeline.evaluationWorkers;
  lines.push(
    `evaluation workers: ${workers === 0 ? 'none (on the pipeline thread)' : `${workers} thread${workers === 1 ? '' : 's'}, a window at most ${formatDuration(config.pipeline.evaluationTimeoutMs)}`}`,
  );
  const wait = config.pipeline.resultsWaitMs;
  lines.push(`input waits for the store: ${wait === null ? 'only when too many reports are queued' : `when a window's results are ${formatDuration(wait)} late`}`);
  lines.push(`windows: ${describeWindow(config.windows)}`);
  lines.push(`evaluation: ${describeEvaluation(config.evaluation)}`);

  const models = Object.values(config.models);
  lines.push(models.length === 0 ? 'models: none' : `models (${models.length}):`);
  for (const m of models.slice(0, MAX_MODELS_LISTED)) {
    const parts: string[] = [m.kind === 'prediction' ? `prediction (${m.task ?? '?'})` : 'telemetry'];
    if (m.segmentBy.length > 0) parts.push(`segments ${m.segmentBy.join(', ')}`);
    parts.push(m.features === null ? 'features from reference' : `${Object.keys(m.features).length} features`);
    // Only what differs from the defaults, to keep a model on one readable line.
    const window = describeWindow(m.window);
    const evaluation = describeEvaluation(m.evaluation);
    parts.push(window === describeWindow(config.windows) ? 'default windows' : window);
    parts.push(evaluation === describeEvaluation(config.evaluation) ? 'default evaluation' : evaluation);
    if (m.kind === 'prediction') parts.push(`label join ${formatDuration(m.labelJoinMs)}`);
    lines.push(`  ${m.name}: ${parts.join('; ')}`);
  }
  if (models.length > MAX_MODELS_LISTED) lines.push(`  ... and ${models.length - MAX_MODELS_LISTED} more`);

  const refs = config.rollingReferences;
  if (refs.length > 0) {
    lines.push(`rolling references (${refs.length}):`);
    for (const r of refs.slice(0, MAX_MODELS_LISTED)) {
      lines.push(
        `  ${r.model}: "${r.schedule}", trailing ${formatDuration(r.trailingMs)}` +
          `${r.excludeDrifted ? ', drifted windows excluded' : ''}${r.promote ? ', promoted' : ', not promoted'}` +
          `${r.maxRows === null ? '' : `, at most ${r.maxRows} rows`}`,
      );
    }
    if (refs.length > MAX_MODELS_LISTED) lines.push(`  ... and ${refs.length - MAX_MODELS_LISTED} more`);
  }
  return lines.join('\n');
}

function describeWindow(w: WindowConfig): string {
  const shape =
    w.type === 'count'
      ? `count ${w.count ?? '?'}`
      : w.type === 'hopping'
        ? `hopping ${formatDuration(w.sizeMs)} every ${formatDuration(w.slideMs ?? 0)}`
        : `tumbling ${formatDuration(w.sizeMs)}`;
  return (
    `${shape}, ${w.time} time, watermark ${formatDuration(w.watermarkDelayMs)}, lateness ${formatDuration(w.allowedLatenessMs)}, ` +
    `idle timeout ${w.idleTimeoutMs === 0 ? 'off' : formatDuration(w.idleTimeoutMs)}, ${w.sampleRows} sample rows`
  );
}

function describeEvaluation(e: EvaluationConfig): string {
  const overrides = Object.keys(e.perFeature).length;
  return (
    `method ${e.method}${e.threshold === null ? '' : ` threshold ${e.threshold}`}, drift share ${e.driftShare}` +
    `${overrides === 0 ? '' : `, ${overrides} per-feature override${overrides === 1 ? '' : 's'}`}`
  );
}
