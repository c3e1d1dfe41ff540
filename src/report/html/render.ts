/**
 * The HTML drift report: one self-contained page (inline CSS and inline SVG, no script, no font, no image, no
 * request of any kind; a Content-Security-Policy meta tag forbids them anyway), readable at a glance and bounded in
 * size for wide datasets (see `planFeatures`). Every string from the model is escaped with `escapeHtml`.
 */
import { planFeatures, type FeatureLimits, type FeatureReport, type HistoryPoint, type OutlierRow, type QualityRow, type ReportModel } from './model.js';
import type { CategoricalHistogram, Histogram, NumericalHistogram } from './histograms.js';

/** Limits of `renderHtml` beyond the feature limits of `planFeatures`. */
export interface RenderOptions extends FeatureLimits {
  /** Outlier rows listed (default 100), largest share first; the rest are counted. */
  readonly maxOutlierRows?: number;
  /** Failed or unscored quality checks listed (default 1000). */
  readonly maxProblemChecks?: number;
  /** Passed quality checks listed in the collapsed list (default 300). */
  readonly maxPassedChecks?: number;
  /** Points of a feature's history drawn (the most recent; default 60). */
  readonly maxHistoryPoints?: number;
}

/** The policy the page declares: nothing may be loaded from anywhere; inline styles and data: images only. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const REF_COLOR = '#4e79a7';
const CUR_COLOR = '#f28e2b';

/** Text made safe for HTML element content and quoted attribute values (also inside inline SVG). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A number to 4 significant digits (exponent notation outside [1e-3, 1e6)); '–' for null, NaN or undefined. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? String(Number(x.toPrecision(4))) : x.toExponential(3);
}

/** The whole report as one HTML document. Deterministic: the same model gives the same bytes. */
export function renderHtml(model: ReportModel, options: RenderOptions = {}): string {
  const title = escapeHtml(model.title);
  const parts: string[] = [
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${title}</title>`,
    `<style>${STYLE}</style></head><body>`,
    '<header>',
    `<h1>${title}</h1>`,
    model.subtitle ? `<p class="sub">${escapeHtml(model.subtitle)}</p>` : '',
    `<p class="gen">Generated ${escapeHtml(model.generatedAt)} by driftwatch</p>`,
    '</header>',
    renderSummary(model),
    renderFeatures(model.features, options),
    renderOutliers(model.outliers, options),
    renderQuality(model.quality, options),
    '<footer>Self-contained report: no scripts, no external resources. ',
    `<span class="key ref"></span>reference <span class="key cur"></span>current</footer>`,
    '</body></html>\n',
  ];
  return parts.join('');
}

function renderSummary(model: ReportModel): string {
  const d = model.dataset;
  const verdict =
    d.verdict === 'drift'
      ? '<strong>Dataset drift detected</strong>'
      : d.verdict === 'no_drift'
        ? '<strong>No dataset drift</strong>'
        : '<strong>Insufficient data</strong>';
  const share = d.share === null ? 'no feature could be tested' : pct(d.share);
  const threshold = d.threshold === null ? '' : `; the dataset drifts at ${pct(d.threshold)}`;
  const cls = d.verdict === 'drift' ? 'drift' : d.verdict === 'no_drift' ? 'ok' : 'na';
  const card = (label: string, value: string, sub = ''): string =>
    `<div class="card"><div class="label">${label}</div><div class="value">${value}</div>${sub ? `<div class="cardsub">${sub}</div>` : ''}</div>`;
  const notes = (model.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
  return (
    `<section class="verdict ${cls}" id="verdict">${verdict} — ${d.drifted} of ${d.tested} tested features drifted ` +
    `(${share}${threshold})</section>` +
    '<section class="cards" id="summary">' +
    card('Reference rows', fmtInt(d.referenceRows), escapeHtml(d.referenceLabel)) +
    card('Current rows', fmtInt(d.currentRows), escapeHtml(d.currentLabel)) +
    card('Features tested', fmtInt(d.tested)) +
    card('Drifted', `<span class="${d.drifted > 0 ? 'red' : ''}">${fmtInt(d.drifted)}</span>`) +
    card('Drift share', d.share === null ? '–' : pct(d.share), d.threshold === null ? '' : `threshold ${pct(d.threshold)}`) +
    '</section>' +
    notes
  );
}

function renderFeatures(features: ReadonlyArray<FeatureReport>, options: RenderOptions): string {
  const plan = planFeatures(features, options);
  const withHistory = features.some((f) => f.history !== undefined && f.history.length > 0);
  const maxPoints = options.maxHistoryPoints ?? 60;
  const rows: string[] = [];
  let uncharted = 0;
  for (const i of plan.order) {
    const f = features[i]!;
    const charted = plan.charted[i] === true;
    if (!charted) uncharted++;
    const cls = f.status !== 'ok' ? 'feature na' : f.drifted ? 'feature drifted' : 'feature ok';
    const badge =
      f.status !== 'ok'
        ? '<span class="badge na">insufficient data</span>'
        : f.drifted
          ? '<span class="badge drifted">drifted</span>'
          : '<span class="badge ok">ok</span>';
    const reason = f.status !== 'ok' && f.reason ? `<div class="reason">${escapeHtml(f.reason)}</div>` : '';
    const kind = f.scoreKind === 'p_value' ? 'p-value' : f.scoreKind === 'distance' ? 'distance' : '';
    const counts =
      f.referenceCount === undefined && f.currentCount === undefined
        ? '–'
        : `${fmtInt(f.referenceCount)} / ${fmtInt(f.currentCount)}`;
    rows.push(
      `<tr class="${cls}"><th scope="row"><span class="name">${escapeHtml(f.name)}</span> ${badge}${reason}</th>` +
        `<td>${escapeHtml(f.type)}</td><td>${escapeHtml(f.method)}${kind ? `<div class="dim">${kind}</div>` : ''}</td>` +
        `<td class="num${f.drifted && f.status === 'ok' ? ' red' : ''}">${formatNumber(f.score)}</td>` +
        `<td class="num">${formatNumber(f.threshold)}</td><td class="num">${counts}</td>` +
        `<td class="chart">${charted ? histogramSvg(f) : '<span class="dim">–</span>'}</td>` +
        (withHistory ? `<td class="chart">${charted ? sparklineSvg(f, maxPoints) : '<span class="dim">–</span>'}</td>` : '') +
        '</tr>',
    );
  }
  const notes: string[] = [];
  if (uncharted > 0) {
    notes.push(
      `${fmtInt(uncharted)} of ${fmtInt(plan.order.length)} listed features are shown without charts to keep the ` +
        'report small (charts are drawn for the drifted features first, then for the others in order).',
    );
  }
  if (plan.omitted > 0) {
    const listed = new Set(plan.order);
    const driftedOmitted = features.filter((f, i) => !listed.has(i) && f.status === 'ok' && f.drifted).length;
    notes.push(
      `${fmtInt(plan.omitted)} more features are not listed` +
        (driftedOmitted > 0 ? ` (${fmtInt(driftedOmitted)} of them drifted).` : ' (none of them drifted).'),
    );
  }
  if (features.length === 0) notes.push('No features were compared.');
  return (
    '<section id="features"><h2>Features</h2>' +
    '<p class="legend"><span class="key ref"></span>reference <span class="key cur"></span>current' +
    (withHistory ? ' · recent windows: score per window, dashed line = threshold, red dots = drifted' : '') +
    '</p><div class="scroll"><table class="features"><thead><tr><th>Feature</th><th>Type</th><th>Method</th>' +
    '<th class="num">Score</th><th class="num">Threshold</th><th class="num">n ref / cur</th><th>Reference vs current</th>' +
    (withHistory ? '<th>Recent windows</th>' : '') +
    `</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>` +
    notes.map((n) => `<p class="note">${n}</p>`).join('') +
    '</section>'
  );
}

function histogramSvg(f: FeatureReport): string {
  const h: Histogram | undefined = f.histogram;
  if (!h) return '<span class="dim">no rows</span>';
  return h.kind === 'numerical' ? numericalSvg(f.name, h) : categoricalSvg(f.name, h);
}

const CHART_W = 240;

function numericalSvg(name: string, h: NumericalHistogram): string {
  const bins = h.reference.length;
  if (bins === 0 || h.edges.length !== bins + 1) return '<span class="dim">no finite values</span>';
  const H = 64;
  const top = 4;
  const base = 50;
  const left = 2;
  const width = CHART_W - 4;
  const lo = h.edges[0]!;
  const hi = h.edges[bins]!;
  const span = hi - lo || 1;
  const x = (e: number): string => r1(left + ((e - lo) / span) * width);
  let peak = 0;
  for (let i = 0; i < bins; i++) peak = Math.max(peak, h.reference[i]!, h.current[i]!);
  const y = (s: number): string => r1(peak > 0 ? base - (s / peak) * (base - top) : base);
  const steps = (shares: ReadonlyArray<number>): string => {
    let d = `M${x(lo)} ${base}`;
    for (let i = 0; i < bins; i++) d += `V${y(shares[i]!)}H${x(h.edges[i + 1]!)}`;
    return `${d}V${base}Z`;
  };
  const label = `${escapeHtml(name)}: reference (${fmtInt(h.referenceCount)} values) vs current (${fmtInt(h.currentCount)} values)`;
  return (
    `<svg class="hist" width="${CHART_W}" height="${H}" viewBox="0 0 ${CHART_W} ${H}" role="img"><title>${label}</title>` +
    (h.referenceCount > 0 ? `<path class="sr" d="${steps(h.reference)}"/>` : '') +
    (h.currentCount > 0 ? `<path class="sc" d="${steps(h.current)}"/>` : '') +
    `<path d="M${left} ${base}H${left + width}" stroke="#999"/>` +
    `<text x="${left}" y="${H - 3}">${formatNumber(lo)}</text>` +
    `<text x="${left + width}" y="${H - 3}" text-anchor="end">${formatNumber(hi)}</text>` +
    (h.currentCount === 0 ? `<text x="${CHART_W / 2}" y="${H - 3}" text-anchor="middle">no current values</text>` : '') +
    (h.referenceCount === 0 ? `<text x="${CHART_W / 2}" y="${H - 3}" text-anchor="middle">no reference values</text>` : '') +
    '</svg>'
  );
}

function categoricalSvg(name: string, h: CategoricalHistogram): string {
  const n = h.categories.length;
  if (n === 0) return '<span class="dim">no values</span>';
  const rowH = 11;
  const labelW = 92;
  const barW = CHART_W - labelW - 34;
  const H = n * rowH + 2;
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, h.reference[i]!, h.current[i]!);
  const w = (s: number): string => r1(peak > 0 ? (s / peak) * barW : 0);
  let refPath = '';
  let curPath = '';
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const y0 = 1 + i * rowH;
    const rw = w(h.reference[i]!);
    const cw = w(h.current[i]!);
    refPath += `M${labelW} ${y0}h${rw}v4.5h-${rw}z`;
    curPath += `M${labelW} ${r1(y0 + 4.5)}h${cw}v4.5h-${cw}z`;
    const isOther = h.otherBucket && i === n - 1;
    const full = h.categories[i]!;
    const shown = isOther ? full : truncate(full, 15);
    labels.push(
      `<text x="${labelW - 3}" y="${y0 + 8}"${isOther ? ' font-style="italic"' : ''}>` +
        `${shown !== full ? `<title>${escapeHtml(full)}</title>` : ''}${escapeHtml(shown)}</text>` +
        `<text x="${CHART_W - 2}" y="${y0 + 8}" class="pc">${pctShort(h.current[i]!)}</text>`,
    );
  }
  const label =
    `${escapeHtml(name)}: category shares, reference (${fmtInt(h.referenceCount)} values) vs current (${fmtInt(h.currentCount)} values)` +
    (h.otherBucket ? `; ${fmtInt(h.distinct - (n - 1))} more categories in (other)` : '');
  return (
    `<svg class="hist" width="${CHART_W}" height="${H}" viewBox="0 0 ${CHART_W} ${H}" role="img"><title>${label}</title>` +
    `<path class="r" d="${refPath}"/><path class="c" d="${curPath}"/><g text-anchor="end">${labels.join('')}</g></svg>`
  );
}

function sparklineSvg(f: FeatureReport, maxPoints: number): string {
  const all: ReadonlyArray<HistoryPoint> = f.history ?? [];
  if (all.length === 0) return '<span class="dim">–</span>';
  const points = [...all].sort((a, b) => a.windowEnd - b.windowEnd).slice(-Math.max(1, maxPoints));
  const W = 130;
  const H = 34;
  const top = 3;
  const base = H - 3;
  let peak = f.threshold > 0 && Number.isFinite(f.threshold) ? f.threshold * 1.5 : 0;
  for (const p of points) if (p.score !== null && Number.isFinite(p.score)) peak = Math.max(peak, p.score);
  if (!(peak > 0)) peak = 1;
  const step = points.length > 1 ? (W - 6) / (points.length - 1) : 0;
  const px = (i: number): string => r1(3 + (points.length > 1 ? i * step : (W - 6) / 2));
  const py = (s: number): string => r1(base - (Math.min(s, peak) / peak) * (base - top));
  let line = '';
  let dots = '';
  let pen = false;
  points.forEach((p, i) => {
    if (p.score === null || !Number.isFinite(p.score)) {
      pen = false;
      return;
    }
    line += `${pen ? 'L' : 'M'}${px(i)} ${py(p.score)}`;
    pen = true;
    if (p.drifted) dots += `M${px(i)} ${py(p.score)}m-2 0a2 2 0 1 0 4 0a2 2 0 1 0-4 0`;
  });
  const first = new Date(points[0]!.windowEnd);
  const last = new Date(points[points.length - 1]!.windowEnd);
  const drifted = points.filter((p) => p.drifted).length;
  const label =
    `${escapeHtml(f.name)}: ${points.length} windows ending ${isoOr(first)} to ${isoOr(last)}, ${drifted} drifted; ` +
    `latest score ${formatNumber(points[points.length - 1]!.score)}, threshold ${formatNumber(f.threshold)}`;
  const ty = f.threshold > 0 && Number.isFinite(f.threshold) ? py(f.threshold) : null;
  return (
    `<svg class="spark" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><title>${label}</title>` +
    (ty === null ? '' : `<path d="M0 ${ty}H${W}" stroke="#c0392b" stroke-dasharray="3 2" stroke-width=".8"/>`) +
    (line ? `<path d="${line}" fill="none" stroke="#555" stroke-width="1.2"/>` : '') +
    (dots ? `<path d="${dots}" fill="#c0392b"/>` : '') +
    '</svg>'
  );
}

function renderOutliers(outliers: ReadonlyArray<OutlierRow>, options: RenderOptions): string {
  if (outliers.length === 0) return '<section id="outliers"><h2>Outliers</h2><p class="note">No outlier detection in this report.</p></section>';
  const max = options.maxOutlierRows ?? 100;
  // Row-level detectors first, then the columns with the most flagged rows.
  const ranked = outliers
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rowLevel(b.o) - rowLevel(a.o) || (b.o.share ?? -1) - (a.o.share ?? -1) || a.i - b.i)
    .map((e) => e.o);
  const shown = ranked.slice(0, Math.max(0, max));
  const rows = shown.map((o) => {
    // Own keys only: a method called `__proto__` or `constructor` is just a name.
    const method = Object.hasOwn(METHOD_LABELS, o.method) ? METHOD_LABELS[o.method]! : o.method;
    const share = o.share === null ? '–' : `${bar(o.share)} ${pct(o.share)}`;
    const details: string[] = [];
    if (o.status !== 'ok') details.push(`not scored${o.reason ? `: ${escapeHtml(o.reason)}` : ''}`);
    if (o.bounds) details.push(`outside [${formatNumber(o.bounds.lower)}, ${formatNumber(o.bounds.upper)}]`);
    if (o.threshold !== undefined) details.push(`d² above ${formatNumber(o.threshold)}`);
    if (o.topFeatures && o.topFeatures.length > 0) {
      details.push(
        'driven by ' +
          o.topFeatures
            .slice(0, 8)
            .map((t) => `<span class="driver">${bar(t.share)} <span class="name">${escapeHtml(t.feature)}</span> ${pct(t.share)}</span>`)
            .join(' '),
      );
    }
    return (
      `<tr><td>${escapeHtml(method)}</td><td>${o.column === undefined ? '<span class="dim">all rows</span>' : `<span class="name">${escapeHtml(o.column)}</span>`}</td>` +
      `<td class="num">${fmtInt(o.flagged)} / ${fmtInt(o.rows)}</td><td class="num">${share}</td><td>${details.join('; ')}</td></tr>`
    );
  });
  const more = ranked.length - shown.length;
  return (
    '<section id="outliers"><h2>Outliers in the current rows</h2><div class="scroll"><table><thead><tr><th>Method</th>' +
    '<th>Column</th><th class="num">Flagged / rows</th><th class="num">Share</th><th>Details</th></tr></thead><tbody>' +
    rows.join('\n') +
    '</tbody></table></div>' +
    (more > 0 ? `<p class="note">${fmtInt(more)} more rows with smaller shares are not listed.</p>` : '') +
    '</section>'
  );
}

const METHOD_LABELS: Readonly<Record<string, string>> = { iqr: 'IQR (k=1.5)', zscore: 'z-score (>3)', mahalanobis: 'Mahalanobis' };

function rowLevel(o: OutlierRow): number {
  return o.column === undefined ? 1 : 0;
}

function renderQuality(quality: ReadonlyArray<QualityRow>, options: RenderOptions): string {
  if (quality.length === 0) return '<section id="quality"><h2>Data quality</h2><p class="note">No data-quality checks in this report.</p></section>';
  const maxProblems = options.maxProblemChecks ?? 1000;
  const maxPassed = options.maxPassedChecks ?? 300;
  const failed = quality.filter((q) => q.status === 'failed');
  const unscored = quality.filter((q) => q.status === 'insufficient_data');
  const passed = quality.filter((q) => q.status === 'passed');
  const problems = [...failed, ...unscored];
  const head =
    '<div class="scroll"><table><thead><tr><th>Check</th><th>Column</th><th>Status</th><th class="num">Value</th>' +
    '<th>Condition</th></tr></thead><tbody>';
  const row = (q: QualityRow): string => {
    const badge =
      q.status === 'failed'
        ? '<span class="badge drifted">failed</span>'
        : q.status === 'passed'
          ? '<span class="badge ok">passed</span>'
          : '<span class="badge na">not computed</span>';
    const value = typeof q.value === 'number' ? formatNumber(q.value) : q.value === null ? '–' : escapeHtml(q.value);
    return (
      `<tr class="q-${q.status}"><td>${escapeHtml(q.check)}</td><td>${q.column ? `<span class="name">${escapeHtml(q.column)}</span>` : '<span class="dim">dataset</span>'}</td>` +
      `<td>${badge}</td><td class="num">${value}</td><td>${escapeHtml(q.condition)}</td></tr>`
    );
  };
  const list = (items: ReadonlyArray<QualityRow>, max: number): string => {
    const shown = items.slice(0, Math.max(0, max));
    const more = items.length - shown.length;
    return `${head}${shown.map(row).join('\n')}</tbody></table></div>${more > 0 ? `<p class="note">${fmtInt(more)} more not listed.</p>` : ''}`;
  };
  const summary =
    `<p>${fmtInt(quality.length)} checks: <span class="${failed.length > 0 ? 'red' : ''}">${fmtInt(failed.length)} failed</span>, ` +
    `${fmtInt(passed.length)} passed${unscored.length > 0 ? `, ${fmtInt(unscored.length)} not computed` : ''}.</p>`;
  return (
    '<section id="quality"><h2>Data quality</h2>' +
    summary +
    (problems.length > 0 ? list(problems, maxProblems) : '') +
    (passed.length > 0 ? `<details><summary>${fmtInt(passed.length)} passed checks</summary>${list(passed, maxPassed)}</details>` : '') +
    '</section>'
  );
}

/** A share as a small inline bar (CSS width; no image). */
function bar(share: number): string {
  const w = Math.max(0, Math.min(1, share)) * 40;
  return `<span class="bar"><span style="width:${r1(w)}px"></span></span>`;
}

function pct(x: number): string {
  if (!Number.isFinite(x)) return formatNumber(x);
  return `${Number((x * 100).toFixed(1))}%`;
}

function pctShort(x: number): string {
  if (!(x > 0)) return '0';
  if (x < 0.001) return '&lt;0.1%';
  return `${Number((x * 100).toFixed(x < 0.1 ? 1 : 0))}%`;
}

function fmtInt(x: number | null | undefined): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}

function r1(x: number): string {
  return String(Math.round(x * 10) / 10);
}

function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

function isoOr(d: Date): string {
  return Number.isFinite(d.getTime()) ? d.toISOString().replace('.000Z', 'Z') : '?';
}

const STYLE = [
  ':root{color-scheme:light;--red:#c0392b;--green:#1e8449;--grey:#7f8c8d}',
  '*{box-sizing:border-box}',
  'body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1280px;padding:16px 20px 40px;color:#222;background:#fff}',
  'h1{font-size:22px;margin:0 0 4px;word-break:break-word}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}',
  '.sub,.gen,.dim,.note,.reason{color:#666}.gen{font-size:12px;margin:0}.sub{margin:0 0 2px;word-break:break-all}',
  '.verdict{margin:14px 0;padding:10px 14px;border-radius:6px;font-size:15px}',
  '.verdict.drift{background:#fdecea;border-left:6px solid var(--red)}.verdict.ok{background:#e9f7ef;border-left:6px solid var(--green)}',
  '.verdict.na{background:#f4f6f6;border-left:6px solid var(--grey)}',
  '.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 12px;min-width:140px;max-width:320px}',
  '.card .label{font-size:12px;color:#666}.card .value{font-size:20px;font-weight:600}.cardsub{font-size:11px;color:#666;word-break:break-all}',
  '.red{color:var(--red);font-weight:600}',
  '.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}',
  'th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:middle}thead th{font-size:12px;color:#555;border-bottom:2px solid #ddd;white-space:nowrap}',
  '.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}',
  'tbody th{font-weight:400;max-width:320px;word-break:break-word}.name{font-weight:600}',
  'tr.drifted{background:#fff6f5}tr.drifted th{border-left:4px solid var(--red)}',
  '.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 6px;border-radius:9px;color:#fff;vertical-align:1px}',
  '.badge.drifted{background:var(--red)}.badge.ok{background:var(--green)}.badge.na{background:var(--grey)}',
  '.reason{font-size:12px}.chart{padding:2px 8px}',
  'svg text{font:9px system-ui,sans-serif;fill:#444}svg text.pc{fill:' + CUR_COLOR + '}',
  `.r{fill:${REF_COLOR}}.c{fill:${CUR_COLOR}}.sr{fill:${REF_COLOR};fill-opacity:.45;stroke:${REF_COLOR}}.sc{fill:${CUR_COLOR};fill-opacity:.45;stroke:${CUR_COLOR}}`,
  '.legend{font-size:12px;color:#555}',
  '.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 8px;vertical-align:-1px}.key.ref{background:' + REF_COLOR + '}.key.cur{background:' + CUR_COLOR + '}',
  '.bar{display:inline-block;width:40px;height:8px;background:#eee;vertical-align:0}.bar span{display:block;height:8px;background:var(--red)}',
  '.driver{white-space:nowrap;margin-right:8px}',
  'details summary{cursor:pointer;margin:8px 0;color:#444}',
  'footer{margin-top:32px;font-size:12px;color:#777}',
].join('');
