/**
 * The service's console output: one line per reported window (what drifted, how much), dead-letter and
 * backpressure notices, and a closing summary. Dashboards come with the metrics; this is what a person running
 * `driftwatch run` or the demo watches.
 */
import type { PipelineEvent } from '../pipeline/pipeline.js';

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
