/**
 * One window's report, served by the running service (what notifications link to):
 * `GET /v1/reports/:model/:start-:end?<segment key>=<value>` answers the HTML page (the same renderer as `compare
 * --format html`: histogram overlays of the reference against the window's stored sample rows, each feature's
 * score over the model's recent windows, outliers, quality checks), or JSON with `?format=json` or
 * `Accept: application/json`. `GET /v1/reports/:model` redirects to the newest window's page.
 */
import type { FastifyInstance } from 'fastify';
import type { Store, WindowKey, WindowSummary } from '../core/store.js';
import type { ActiveReferences } from '../reference/active.js';
import { CONTENT_SECURITY_POLICY, renderHtml } from '../report/html/render.js';
import { fromStoredWindow, type WindowHistoryEntry } from '../report/html/from-stored-window.js';

/** Recent windows shown in the per-feature sparklines. */
const HISTORY_WINDOWS = 48;
/** How far back the history and the newest-window lookup reach. */
const LOOKBACK_MS = 30 * 86_400_000;

function sameSegment(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function segmentOf(query: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) if (k !== 'format' && typeof v === 'string') out[k] = v;
  return { ...out };
}

function wantsJson(query: Record<string, unknown>, accept: string | undefined): boolean {
  if (query['format'] === 'json') return true;
  if (query['format'] === 'html') return false;
  return !(accept ?? '').includes('text/html') && (accept ?? '').includes('application/json');
}

export function reportPath(key: WindowKey): string {
  const seg = Object.keys(key.segment)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(key.segment[k]!)}`)
    .join('&');
  // A count window's id follows its bounds (`<start>-<end>.<id>`): two count windows may share their bounds.
  const span = `${key.start}-${key.end}${key.countId !== undefined ? `.${key.countId}` : ''}`;
  return `/v1/reports/${encodeURIComponent(key.model)}/${span}${seg ? `?${seg}` : ''}`;
}

export function registerReportRoutes(
  app: FastifyInstance,
  o: { readonly store: Store; readonly references: ActiveReferences; readonly driftShare: (model: string) => number | undefined },
): void {
  const { store } = o;

  app.get('/v1/reports/:model', async (req, reply) => {
    const { model } = req.params as { model: string };
    const segment = segmentOf(req.query);
    const now = Date.now();
    const windows = (await store.listWindows({ model, from: now - LOOKBACK_MS, to: now + 86_400_000 })).filter(
      (w) => Object.keys(segment).length === 0 || sameSegment(w.key.segment, segment),
    );
    const newest = windows[windows.length - 1];
    if (!newest) return reply.code(404).send({ error: `no reports for ${model} in the last 30 days` });
    return reply.redirect(reportPath(newest.key), 302);
  });

  app.get('/v1/reports/:model/:span', async (req, reply) => {
    const { model, span } = req.params as { model: string; span: string };
    const query = (req.query ?? {}) as Record<string, unknown>;
    const m = /^(\d{1,16})-(\d{1,16})(?:\.([0-9a-f]{16}))?$/.exec(span);
    if (!m) return reply.code(400).send({ error: 'expected /v1/reports/<model>/<start ms>-<end ms>, and .<count window id> for a count window' });
    const segment = segmentOf(query);
    const key: WindowKey = m[3] !== undefined ? { model, segment, start: Number(m[1]), end: Number(m[2]), countId: m[3] } : { model, segment, start: Number(m[1]), end: Number(m[2]) };
    const recent = await store.listWindows({ model, from: key.start - LOOKBACK_MS, to: key.start + 1 });
    const summary = recent.find(
      (w) => w.key.start === key.start && w.key.end === key.end && w.key.countId === key.countId && sameSegment(w.key.segment, segment),
    );
    if (!summary) return reply.code(404).send({ error: `no report for ${model} in that window` });
    const [features, outliers, quality] = await Promise.all([store.windowFeatures(key), store.windowOutliers(key), store.windowQuality(key)]);
    const details = detailsState(summary, outliers);
    if (wantsJson(query, req.headers.accept)) return { summary, details, features, outliers, quality };

    const history = await historyOf(store, recent.filter((w) => sameSegment(w.key.segment, segment)).slice(-HISTORY_WINDOWS));
    const sample = await store.windowSamples({ model, from: key.start, to: key.start + 1, excludeDrifted: false, segment, countId: key.countId ?? '' });
    const loaded = o.references.get(model);
    const reference =
      loaded && loaded.snapshot.id === summary.referenceId
        ? { rows: loaded.rows, columns: loaded.snapshot.columns, rowCount: loaded.snapshot.rowCount }
        : await storedReference(store, summary.referenceId);
    const driftShare = o.driftShare(model);
    const page = renderHtml(
      fromStoredWindow({
        summary,
        features,
        outliers,
        quality,
        ...(reference ? { reference } : {}),
        ...(sample.windows > 0 ? { sample: sample.table } : {}),
        history,
        ...(driftShare !== undefined ? { driftShare } : {}),
        detailsPending: details === 'pending',
      }),
    );
    return reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', CONTENT_SECURITY_POLICY).send(page);
  });
}

/**
 * Whether a window's details (outlier and quality results, sample rows) are stored yet. The pipeline stores them
 * just after the drift results and summary a drift event waits for, so a page opened in between finds the window
 * without them; a window compared with a reference always has outlier rows once they are stored (one per method).
 */
function detailsState(summary: WindowSummary, outliers: ReadonlyArray<unknown>): 'stored' | 'pending' {
  return summary.referenceId !== '' && outliers.length === 0 ? 'pending' : 'stored';
}

async function historyOf(store: Store, windows: ReadonlyArray<WindowSummary>): Promise<WindowHistoryEntry[]> {
  const out: WindowHistoryEntry[] = [];
  for (const w of windows) out.push({ windowEnd: w.key.end, features: await store.windowFeatures(w.key) });
  return out;
}

async function storedReference(store: Store, id: string) {
  if (id === '') return null;
  const snapshot = await store.getReference(id);
  if (!snapshot) return null;
  return { rows: await store.loadReferenceRows(id), columns: snapshot.columns, rowCount: snapshot.rowCount };
}
