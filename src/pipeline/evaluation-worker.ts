/**
 * The worker thread behind `WorkerEvaluator` (evaluator.ts): holds the references it was sent and evaluates
 * windows against them with the same `evaluateWindow` the pipeline's own thread would use.
 */
import { parentPort } from 'node:worker_threads';
import type { LoadedReference } from '../reference/lifecycle.js';
import type { DueWindow } from '../window/engine.js';
import type { FromWorker, ToWorker } from './evaluator.js';
import { evaluateWindow } from './window-report.js';

const port = parentPort;
if (!port) throw new Error('evaluation-worker.js runs as a worker thread (see evaluator.ts)');

const references = new Map<string, LoadedReference>();

port.on('message', (m: ToWorker) => {
  if (m.type === 'reference') {
    references.set(m.id, m.reference);
    return;
  }
  if (m.type === 'forget') {
    references.delete(m.id);
    return;
  }
  try {
    const reference = m.referenceId === null ? undefined : references.get(m.referenceId);
    if (m.referenceId !== null && !reference) throw new Error(`reference ${m.referenceId} was not sent to this worker`);
    // evaluateWindow reads only the window's table and key; the rest of the window stays with the pipeline.
    const due = { table: m.table, key: m.key } as DueWindow;
    const { due: _due, reference: _reference, ...result } = evaluateWindow(due, reference, m.settings, Date.now(), m.prediction);
    port.postMessage({ type: 'done', job: m.job, result } satisfies FromWorker);
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ type: 'failed', job: m.job, message: error.message, ...(error.stack ? { stack: error.stack } : {}) } satisfies FromWorker);
  }
});
