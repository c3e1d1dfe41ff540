/**
 * The service's console output: one line per reported window (what drifted, how much), dead-letter and
 * backpressure notices, and a closing summary. Dashboards come with the metrics; this is what a person running
 * `driftwatch run` or the demo watches.
 */
import type { AlertingEvent } from '../pipeline/alerting.js';
import type { PipelineEvent } from '../pipeline/pipeline.js';
import type { ReceivedItem } from './demo-receivers.js';
import type { DispatchEvent } from './dispatcher.js';

export interface ConsoleReporter {
  readonly onEvent: (event: PipelineEvent) => void;
  /** Windows reported so far, and how many of them drifted. */
  readonly totals: () => { windows: number; drifted: number; deadLetters: number; firstDrift: string | null };
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function fmtScore(x: number | null): string {
  if (x === null) return '-';
  if (x === 0) return '0';
  return Math.abs(x) < 1e-3 ? x.toExponential(1) : x.toFixed(3);
}

export function consoleReporter(write: (line: string) => void, options: { readonly verboseDeadLetters?: number } = {}): ConsoleReporter {
  let windows = 0;
  let drifted = 0;
  let dead = 0;
  let firstDrift: string | null = null;
  const maxDeadShown = options.verboseDeadLetters ?? 5;
  return {
    totals: () => ({ windows, drifted, deadLetters: dead, firstDrift }),
    onEvent(e) {
      switch (e.type) {
        case 'window': {
          windows++;
          const ev = e.evaluation;
          const key = ev.due.key;
          const seg = Object.entries(key.segment).map(([k, v]) => `${k}=${v}`).join(',');
          const head = `window ${time(key.start)} .. ${time(key.end)}  ${key.model}${seg ? ` [${seg}]` : ''}  rows ${ev.due.table.rowCount}`;
          if (!ev.reference) {
            write(`${head}  (no active reference: nothing to compare with)\n`);
            break;
          }
          const d = ev.dataset;
          const flagged = ev.columns.filter((c) => c.drifted);
          const detail = flagged.map((c) => `${c.column} ${c.method}=${fmtScore(c.score)}`).join(', ');
          const verdict = d.drifted ? 'DATASET DRIFT' : flagged.length > 0 ? 'feature drift' : 'ok';
          if (d.drifted) {
            drifted++;
            firstDrift ??= `${key.model} window ${time(key.start)}`;
          }
          const version = ev.due.version !== ev.due.table.rowCount || ev.due.cause === 'late_update' ? ` (update: ${ev.due.cause})` : '';
          write(`${head}  drifted ${d.columns_drifted}/${d.columns_tested}  ${verdict}${detail ? `: ${detail}` : ''}${version}\n`);
          break;
        }
        case 'dead_letter':
          dead++;
          if (dead <= maxDeadShown) write(`dead letter (${e.letter.reasonCode}) ${e.letter.source}: ${e.letter.reason}\n`);
          else if (dead === maxDeadShown + 1) write('more dead letters: see `driftwatch dead-letters list`\n');
          break;
        case 'backpressure':
          write(e.paused ? `writes are behind (${e.queued} windows queued): input paused\n` : 'writes caught up: input resumed\n');
          break;
        case 'error':
          write(`error (${e.where}): ${e.error.message}\n`);
          break;
        default:
          break;
      }
    },
  };
}

/** Alert transitions and deliveries as console lines, with running totals (the demo's and `run`'s output). */
export function alertReporter(write: (line: string) => void): {
  readonly onAlert: (event: AlertingEvent) => void;
  readonly onDelivery: (event: DispatchEvent) => void;
  readonly totals: () => { firing: number; delivered: number; dead: number };
} {
  let firing = 0;
  let delivered = 0;
  let dead = 0;
  return {
    totals: () => ({ firing, delivered, dead }),
    onAlert(e) {
      if (e.type === 'transition') {
        const t = e.transition;
        if (t.to !== 'firing' && t.to !== 'resolved') return;
        if (t.to === 'firing') firing++;
        const feature = t.labels['feature'] ? ` ${t.labels['feature']}` : '';
        const seg = Object.entries(t.labels)
          .filter(([k]) => !['alertname', 'model', 'severity', 'feature', 'method'].includes(k))
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        write(`ALERT ${t.to.toUpperCase()} ${t.rule} ${t.model}${feature}${seg ? ` [${seg}]` : ''} at ${time(t.at)}${t.suppressed ? ` (${t.suppressed})` : ''}\n`);
      } else if (e.queued) {
        write(`  -> ${e.notification.action} (${e.notification.kind}) queued as ${e.notification.id}\n`);
      }
    },
    onDelivery(e) {
      if (e.status === 'delivered') delivered++;
      if (e.status === 'dead') dead++;
      const r = e.result;
      const how = r.outcome === 'delivered' ? r.detail || `HTTP ${r.status}` : r.error;
      write(`  ${e.status === 'delivered' ? 'delivered' : e.status === 'dead' ? 'FAILED' : 'retrying'}: ${e.entry.action} ${e.entry.id} (attempt ${e.attempt}): ${how}\n`);
    },
  };
}

/** What a local demo receiver got, in one line. */
export function describeReceived(r: ReceivedItem): string {
  const body = r.body as Record<string, unknown>;
  if (r.kind === 'slack') return `  [slack stand-in] message: ${String(body['text'] ?? '').slice(0, 160)}\n`;
  if (r.kind === 'webhook') {
    const data = (body['data'] ?? {}) as Record<string, unknown>;
    return `  [webhook stand-in] signature verified; ${String(body['type'])} id ${r.id}${r.duplicate ? ' (a repeat, ignored)' : ''}; rule ${String(data['rule'])}\n`;
  }
  const conf = (body['conf'] ?? {}) as Record<string, unknown>;
  return `  [airflow stand-in] ${r.duplicate ? 'duplicate run id, answered 409: ' : 'DAG run created: '}${r.id} conf ${JSON.stringify({ lot_id: conf['lot_id'], window_date: conf['window_date'], features: conf['features'] })}\n`;
}
