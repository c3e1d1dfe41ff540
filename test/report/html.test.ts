/**
 * The HTML drift report: histograms from typed-array columns, escaping of every user string, the size bound for
 * wide datasets, the compare and stored-window adapters, `driftwatch compare --format html`, and the page opened in
 * real headless Chromium (screenshot, drifted features visible by name, no request but the file itself).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompare, type CompareResult } from '../../src/cli/compare.js';
import type { WindowFeatureResult } from '../../src/core/store.js';
import { fromCompare } from '../../src/report/html/from-compare.js';
import { fromStoredWindow } from '../../src/report/html/from-stored-window.js';
import {
  categoricalHistogram,
  columnHistogram,
  numericalHistogram,
  OTHER_LABEL,
  type CategoricalHistogram,
  type NumericalHistogram,
} from '../../src/report/html/histograms.js';
import { planFeatures, type FeatureReport, type ReportModel } from '../../src/report/html/model.js';
import { CONTENT_SECURITY_POLICY, escapeHtml, formatNumber, renderHtml } from '../../src/report/html/render.js';
import { run } from '../unit/cli/run-cli.js';
import { evaluateTables, launchChromium, numbers, openFile, table, texts, wideTables } from './html-helpers.js';

const REF = 'fixtures/demo/reference.csv';
const CUR = 'fixtures/demo/current.csv';
const DEMO_COLUMNS = 'temp_c,pressure_bar,vibration_mm_s,cycle_time_s,line,shift,seal_ok';
/** What `compare --format json` reports as drifted on the demo fixtures (checked below, not assumed). */
const DEMO_DRIFTED = ['temp_c', 'pressure_bar', 'vibration_mm_s', 'line'];
const DEMO_NOT_DRIFTED = ['cycle_time_s', 'shift', 'seal_ok'];
/** The stated size bound of a 2000-column report. */
const WIDE_BOUND_BYTES = 5 * 1024 * 1024;

const tmp = mkdtempSync(join(tmpdir(), 'driftwatch-html-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sum = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0);

const HOSTILE = ['<script>alert(1)</script>', `"'><img src=x onerror=alert(2)>`, '</style><svg onload=alert(3)>', '&amp; <!-- x -->'];

/** Tag names the renderer writes; anything else in the output came from user data. */
const TAGS = new Set(
  'html head meta title style body header h1 h2 p section div span strong table thead tbody tr th td svg g path text details summary footer'.split(' '),
);

function tagsIn(html: string): Set<string> {
  const found = new Set<string>();
  for (const m of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)) found.add(m[1]!.toLowerCase());
  return found;
}

/** A model whose every string is hostile, with a histogram whose categories are hostile too. */
function hostileModel(): ReportModel {
  const [a, b, c, d] = HOSTILE as [string, string, string, string];
  const feature = (name: string, drifted: boolean): FeatureReport => ({
    name,
    type: 'categorical',
    method: c,
    score: 0.5,
    threshold: 0.1,
    drifted,
    status: 'ok',
    histogram: categoricalHistogram(texts(name, [a, b, c, d, a]), texts(name, [b, b, c, null, `${d}${'y'.repeat(40)}`])),
    history: [
      { windowEnd: 0, score: 0.05, drifted: false },
      { windowEnd: 300_000, score: 0.5, drifted: true },
    ],
  });
  return {
    title: a,
    subtitle: b,
    generatedAt: c,
    dataset: { referenceLabel: a, currentLabel: b, referenceRows: 5, currentRows: 5, tested: 3, drifted: 2, share: 2 / 3, threshold: 0.5, verdict: 'drift' },
    features: [
      feature(a, true),
      feature(b, true),
      { name: d, type: 'numerical', method: 'ks', score: null, threshold: 0.05, drifted: false, status: 'insufficient_data', reason: c },
    ],
    outliers: [
      { method: a, rows: 10, flagged: 1, share: 0.1, status: 'ok', topFeatures: [{ feature: b, share: 1 }] },
      { method: 'iqr', column: a, rows: 10, flagged: 0, share: 0, status: 'insufficient_data', reason: d },
      { method: '__proto__', column: 'constructor', rows: 10, flagged: 0, share: 0, status: 'ok' },
    ],
    quality: [
      { check: a, column: b, status: 'failed', value: c, condition: d },
      { check: 'missing_share', column: a, status: 'passed', value: 0, condition: b },
    ],
    notes: [d],
  };
}

describe('histograms', () => {
  it('bins both sides on shared edges over the pooled range, shares summing to 1', () => {
    const h = numericalHistogram(numbers('x', [0, 1, 2, 3]), numbers('x', [2, 3, 4, 5]), { maxBins: 5 });
    expect(h.edges).toEqual([0, 1, 2, 3, 4, 5]);
    expect(h.reference).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
    // 5 is the pooled maximum: it falls in the last (closed) bin.
    expect(h.current).toEqual([0, 0, 0.25, 0.25, 0.5]);
    expect(h.referenceCount).toBe(4);
    expect(h.currentCount).toBe(4);
  });

  it('caps the bins at 20 by default and ignores NaN and infinities', () => {
    const ref = numbers('x', Array.from({ length: 1000 }, (_, i) => (i % 97 === 5 ? Number.NaN : i / 10)));
    const cur = numbers('x', [5, 7.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 250]);
    const h = numericalHistogram(ref, cur);
    expect(h.reference.length).toBe(20);
    expect(h.edges.length).toBe(21);
    expect(h.edges[0]).toBe(0);
    expect(h.edges[20]).toBe(250); // the current side's 250 widens the shared range; ±inf do not
    expect(sum(h.reference)).toBeCloseTo(1, 12);
    expect(sum(h.current)).toBeCloseTo(1, 12);
    expect(h.currentCount).toBe(3);
    expect(h.currentMissing).toBe(3);
    expect(h.referenceMissing).toBe(11);
    for (const s of [...h.reference, ...h.current]) expect(Number.isFinite(s)).toBe(true);
  });

  it('gives integer columns with a short range one bin per value, and a constant column one bin', () => {
    const h = numericalHistogram(numbers('n', [1, 2, 2, 3], true), numbers('n', [3, 3, 4], true));
    expect(h.edges).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    expect(h.reference).toEqual([0.25, 0.5, 0.25, 0]);
    const c = numericalHistogram(numbers('c', [7, 7]), numbers('c', [7]));
    expect(c.edges).toEqual([6.5, 7.5]);
    expect(c.reference).toEqual([1]);
    expect(c.current).toEqual([1]);
  });

  it('leaves an empty side at zero and an all-missing pair without bins', () => {
    const h = numericalHistogram(numbers('x', [1, 2, 3]), numbers('x', [Number.NaN]));
    expect(sum(h.reference)).toBeCloseTo(1, 12);
    expect(h.current.every((s) => s === 0)).toBe(true);
    const none = numericalHistogram(numbers('x', [Number.NaN]), numbers('x', []));
    expect(none.edges).toEqual([]);
    expect(renderHtml(modelWith([{ ...plainFeature('x'), histogram: none }]))).toContain('no finite values');
  });

  it('keeps the top 12 categories by pooled share and sums the rest into "(other)"', () => {
    // 20 categories; "new" only exists in the smaller current side but is half of it: it must make the list.
    const refValues: string[] = [];
    for (let k = 0; k < 20; k++) for (let i = 0; i < 20 - k; i++) refValues.push(`c${k}`);
    const curValues = [...Array.from({ length: 10 }, () => 'new'), 'c0', 'c1', null];
    const h = categoricalHistogram(texts('k', refValues), texts('k', curValues));
    expect(h.categories.length).toBe(13);
    expect(h.otherBucket).toBe(true);
    expect(h.categories[12]).toBe(OTHER_LABEL);
    expect(h.categories[0]).toBe('new');
    expect(h.categories.slice(1, 4)).toEqual(['c0', 'c1', 'c2']);
    expect(h.distinct).toBe(21);
    expect(sum(h.reference)).toBeCloseTo(1, 12);
    expect(sum(h.current)).toBeCloseTo(1, 12);
    expect(h.currentCount).toBe(12); // the null is not a category
    expect(h.currentMissing).toBe(1);
    // "(other)" holds exactly the reference rows of the categories not listed.
    const listed = new Set(h.categories.slice(0, 12));
    const rest = refValues.filter((v) => !listed.has(v)).length / refValues.length;
    expect(h.reference[12]).toBeCloseTo(rest, 12);
  });

  it('lists 13 categories by name rather than an "(other)" of one', () => {
    const values = Array.from({ length: 13 }, (_, i) => `v${i}`);
    const h = categoricalHistogram(texts('k', values), texts('k', values));
    expect(h.otherBucket).toBe(false);
    expect(h.categories).not.toContain(OTHER_LABEL);
    expect(h.categories.length).toBe(13);
  });

  it('counts numbers as categories (-0 and 0 are one) for categorical number columns', () => {
    const h = columnHistogram('categorical', numbers('shift', [1, 2, 2, -0, 0, Number.NaN], true), numbers('shift', [2, 2], true));
    expect(h.kind).toBe('categorical');
    const c = h as CategoricalHistogram;
    expect(c.categories).toEqual(['2', '0', '1']);
    expect(c.reference).toEqual([0.4, 0.4, 0.2]);
    expect(c.current).toEqual([1, 0, 0]);
    expect(columnHistogram('numerical', numbers('x', [1, 2]), numbers('x', [3])).kind).toBe('numerical');
  });
});

function plainFeature(name: string, drifted = false): FeatureReport {
  return { name, type: 'numerical', method: 'ks', score: drifted ? 0.001 : 0.5, threshold: 0.05, drifted, status: 'ok' };
}

function modelWith(features: FeatureReport[]): ReportModel {
  return {
    title: 't',
    generatedAt: '2026-01-01T00:00:00.000Z',
    dataset: { referenceLabel: 'r', currentLabel: 'c', referenceRows: 1, currentRows: 1, tested: features.length, drifted: 0, share: 0, threshold: 0.5, verdict: 'no_drift' },
    features,
    outliers: [],
    quality: [],
  };
}

describe('rendering', () => {
  it('escapes every user string: no markup from the data reaches the page', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderHtml(hostileModel());
    for (const tag of tagsIn(html)) expect(TAGS, `tag <${tag}> in the output`).toContain(tag);
    expect(html).not.toMatch(/<script|<img|<svg onload|<!-- x/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('&lt;/style&gt;&lt;svg onload=alert(3)&gt;');
    expect(html).toContain('&amp;amp; &lt;!-- x --&gt;');
    // One <style> element, closed once: the hostile "</style>" did not end it early.
    expect(html.match(/<\/style>/g)?.length).toBe(1);
  });

  it('declares the content policy, a viewport and a title', () => {
    const html = renderHtml(modelWith([plainFeature('a')]));
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(html).toContain('<meta name="viewport"');
    expect(html).toMatch(/<title>t<\/title>/);
    expect(html).not.toMatch(/https?:\/\//); // nothing refers to a host
  });

  it('puts drifted features first with a red "drifted" badge, and draws sparklines only with history', () => {
    const features = [plainFeature('calm'), plainFeature('moved', true), { ...plainFeature('empty'), status: 'insufficient_data' as const, score: null, reason: 'no values' }];
    const html = renderHtml(modelWith(features));
    const at = (s: string): number => html.indexOf(`<span class="name">${s}</span>`);
    expect(at('moved')).toBeGreaterThan(0);
    expect(at('moved')).toBeLessThan(at('empty'));
    expect(at('empty')).toBeLessThan(at('calm'));
    expect(html).toMatch(/<tr class="feature drifted"><th scope="row"><span class="name">moved<\/span> <span class="badge drifted">drifted<\/span>/);
    expect(html).toContain('no values');
    expect(html).not.toContain('class="spark"');
    const withHistory = renderHtml(modelWith([{ ...plainFeature('moved', true), history: [{ windowEnd: 1, score: 0.2, drifted: false }, { windowEnd: 2, score: 0.01, drifted: true }] }]));
    expect(withHistory).toContain('<th>Recent windows</th>');
    expect(withHistory.match(/<svg class="spark"/g)?.length).toBe(1);
  });

  it('formats numbers to 4 significant digits', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(1234567)).toBe('1.235e+6');
    expect(formatNumber(0.00001234)).toBe('1.234e-5');
    expect(formatNumber(null)).toBe('–');
    expect(formatNumber(Number.NaN)).toBe('–');
    expect(formatNumber(0)).toBe('0');
  });

  it('plans charts for all drifted features and the first others, and caps the rows listed', () => {
    const features = Array.from({ length: 30 }, (_, i) => ({ drifted: i % 3 === 0, status: 'ok' as const }));
    const plan = planFeatures(features, { maxDriftedCharts: 100, maxOtherCharts: 5, maxRows: 25 });
    expect(plan.order.slice(0, 10)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    expect(plan.order.length).toBe(25);
    expect(plan.omitted).toBe(5);
    expect(plan.charted.filter(Boolean).length).toBe(15);
    expect(plan.charted[27]).toBe(true);
    expect(plan.charted[1]).toBe(true);
    expect(plan.charted[29]).toBe(false);
  });
});

describe('a 2000-column report', () => {
  it(`stays under ${WIDE_BOUND_BYTES / 1024 / 1024} MB, lists every feature and charts a bounded number`, () => {
    const { reference, current, types } = wideTables(2000, 300);
    const report = evaluateTables(reference, current, types);
    const drifted = report.columns.filter((c) => c.drifted).length;
    expect(drifted).toBeGreaterThan(300);
    const started = performance.now();
    const model = fromCompare({ reference: { path: 'wide-ref.csv', rows: 300 }, current: { path: 'wide-cur.csv', rows: 300 }, report, tables: { reference, current } });
    const html = renderHtml(model);
    const ms = performance.now() - started;
    const bytes = Buffer.byteLength(html);
    writeFileSync(join(tmp, 'wide.html'), html);
    console.log(`2000-column report: ${bytes} bytes, ${drifted} drifted, model + render ${ms.toFixed(0)} ms`);
    expect(bytes).toBeLessThan(WIDE_BOUND_BYTES);
    const charts = html.match(/<svg class="hist"/g)?.length ?? 0;
    expect(charts).toBe(Math.min(drifted, 500) + 200);
    expect(model.features.filter((f) => f.histogram !== undefined).length).toBe(charts); // no histogram computed in vain
    expect(html.match(/<tr class="feature /g)?.length).toBe(2000);
    expect(html).toContain('listed features are shown without charts');
    expect(html).toContain(escapeHtml(reference.columns[1999]!.name));
    expect(html.match(/<tr><td>/g)?.length ?? 0).toBeLessThanOrEqual(100 + 1); // outlier rows are capped
  });

  it('counts the features past the row cap instead of listing them', () => {
    const features = Array.from({ length: 12_000 }, (_, i) => plainFeature(`f${i}`, i === 11_999));
    const html = renderHtml(modelWith(features));
    expect(html.match(/<tr class="feature /g)?.length).toBe(5000);
    expect(html).toContain('<span class="name">f11999</span>'); // the drifted one is listed first
    expect(html).toContain('7,000 more features are not listed (none of them drifted).');
    expect(Buffer.byteLength(html)).toBeLessThan(WIDE_BOUND_BYTES);
  });
});

describe('adapters', () => {
  it('builds the model of a compare run, histograms included', async () => {
    const result: CompareResult = await runCompare({
      reference: REF,
      current: CUR,
      method: 'auto',
      columnTypes: {},
      columns: DEMO_COLUMNS.split(','),
      driftShare: 0.5,
    });
    expect(result.tables?.reference.columns.map((c) => c.name)).toEqual(DEMO_COLUMNS.split(','));
    const model = fromCompare(result, { now: new Date('2026-01-02T03:04:05Z') });
    expect(model.generatedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(model.dataset).toMatchObject({ referenceRows: 2000, currentRows: 1000, tested: 7, drifted: 4, verdict: 'drift', threshold: 0.5 });
    expect(model.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(DEMO_DRIFTED);
    const temp = model.features.find((f) => f.name === 'temp_c')!;
    expect(temp.scoreKind).toBe('distance');
    expect(temp.histogram?.kind).toBe('numerical');
    const h = temp.histogram as NumericalHistogram;
    expect(h.referenceCount).toBe(temp.referenceCount); // the gaps are left out, as the drift test left them out
    expect(h.currentCount).toBe(temp.currentCount);
    expect(model.features.find((f) => f.name === 'line')!.histogram).toMatchObject({ kind: 'categorical', categories: ['C', 'B', 'A'] });
    expect(model.features.find((f) => f.name === 'shift')!.histogram?.kind).toBe('categorical');
    expect(model.outliers[0]).toMatchObject({ method: 'mahalanobis', status: 'ok' });
    expect(model.outliers[0]!.topFeatures?.[0]?.feature).toBe('vibration_mm_s');
    expect(model.quality.filter((q) => q.status === 'failed').length).toBe(result.report.quality.filter((q) => !q.passed).length);
    // Without the tables, the model still renders (no distributions) and says why.
    const bare = fromCompare({ reference: result.reference, current: result.current, report: result.report });
    expect(bare.features.every((f) => f.histogram === undefined)).toBe(true);
    expect(renderHtml(bare)).toContain('no distributions are drawn');
  });

  it('builds the model of a stored window, with per-column outliers, quality conditions and history', () => {
    const feature = (name: string, score: number, drifted: boolean): WindowFeatureResult => ({
      feature: name, method: 'psi', status: 'ok', score, statistic: null, threshold: 0.1, drifted, reason: '', referenceSize: 4, currentSize: 3,
    });
    const key = { model: 'press-qa', segment: { lot_id: 'L-2002' }, start: 1_800_000, end: 2_100_000 };
    const model = fromStoredWindow(
      {
        summary: { key, referenceId: 'ref-0123456789abcdef', rowCount: 3, testedFeatures: 2, driftedFeatures: 1, driftShare: 0.5, datasetDrifted: true, version: 1, computedAt: 2_100_500 },
        features: [feature('temp_c', 0.4, true), feature('line', 0.01, false)],
        outliers: [
          { method: 'iqr', status: 'ok', outliers: 1, scored: 3, share: 1 / 3, reason: '', detail: [{ column: 'temp_c', rows: 3, flagged: 1, share: 1 / 3, bounds: { lower: 1, upper: 4 } }] },
          { method: 'mahalanobis', status: 'ok', outliers: 1, scored: 3, share: 1 / 3, reason: '', detail: { threshold: 9.2, rank: 1, features: ['temp_c'], top_features: [{ feature: 'temp_c', share: 1 }] } },
        ],
        quality: [{ check: 'max_value', column: 'temp_c', status: 'failed', value: null, detail: { condition: 'lte 4', value: 'inf' } }],
        reference: { rows: table('ref', [numbers('temp_c', [1, 2, 3, 4]), texts('line', ['A', 'B', 'A', 'A'])]), columns: [{ name: 'temp_c', kind: 'number', type: 'numerical' }] },
        sample: table('window', [numbers('temp_c', [5, 6, Number.POSITIVE_INFINITY]), texts('line', ['B', 'B', 'A'])]),
        history: [0, 1, 2, 3, 4].map((i) => ({ windowEnd: 300_000 * (i + 2), features: [{ feature: 'temp_c', score: 0.05 * i, drifted: i >= 2 }] })),
        driftShare: 0.5,
      },
      { now: new Date(0) },
    );
    expect(model.title).toBe('Drift report: press-qa [lot_id=L-2002]');
    expect(model.dataset).toMatchObject({ referenceRows: 4, currentRows: 3, verdict: 'drift', threshold: 0.5 });
    const temp = model.features[0]!;
    expect(temp.type).toBe('numerical');
    expect(temp.histogram).toMatchObject({ kind: 'numerical', referenceCount: 4, currentCount: 2 });
    expect(model.features[1]!.type).toBe('categorical'); // inferred from the reference rows
    expect(model.features[1]!.history).toBeUndefined(); // one point (this window) is no history
    // Five windows of history plus the window itself (it ends after them).
    expect(temp.history?.map((p) => p.windowEnd)).toEqual([600_000, 900_000, 1_200_000, 1_500_000, 1_800_000, 2_100_000]);
    expect(temp.history?.at(-1)).toEqual({ windowEnd: 2_100_000, score: 0.4, drifted: true });
    expect(model.outliers[0]).toMatchObject({ method: 'iqr', column: 'temp_c', flagged: 1, bounds: { lower: 1, upper: 4 } });
    expect(model.outliers[1]).toMatchObject({ method: 'mahalanobis', threshold: 9.2, topFeatures: [{ feature: 'temp_c', share: 1 }] });
    expect(model.quality[0]).toEqual({ check: 'max_value', column: 'temp_c', status: 'failed', value: 'inf', condition: 'lte 4' });
    const html = renderHtml(model);
    expect(html.match(/<svg class="spark"/g)?.length).toBe(1);
    expect(html).toContain('Recent windows');
  });
});

describe('driftwatch compare --format html', () => {
  it('reports the drifted features the JSON output reports', async () => {
    const r = await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'json');
    const doc = JSON.parse(r.out) as { columns: Array<{ column: string; drifted: boolean }> };
    expect(doc.columns.filter((c) => c.drifted).map((c) => c.column)).toEqual(DEMO_DRIFTED);
  });

  it('prints the page to stdout without --output, and writes the file with it (exit 1: drift)', async () => {
    const printed = await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'html');
    expect(printed.code).toBe(1);
    expect(printed.err).toBe('');
    expect(printed.out.startsWith('<!doctype html>')).toBe(true);
    const path = join(tmp, 'stdout-check.html');
    const written = await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'html', '--output', path);
    expect(written.code).toBe(1);
    expect(written.out).toBe('');
    // Same page but for the time it was generated.
    const strip = (s: string): string => s.replace(/Generated [^<]* by/, 'Generated by');
    expect(strip(readFileSync(path, 'utf8'))).toBe(strip(printed.out));
  });

  it('fails with one line and exit 2 when --output cannot be written', async () => {
    const r = await run('compare', '--reference', REF, '--current', CUR, '--format', 'html', '--output', join(tmp, 'no-such-dir', 'r.html'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: cannot write --output .*no-such-dir.*ENOENT\n$/);
  });
});

describe('in headless Chromium', () => {
  let browser: Browser;
  const reportPath = join(tmp, 'r.html');
  beforeAll(async () => {
    const r = await run('compare', '--reference', REF, '--current', CUR, '--columns', DEMO_COLUMNS, '--format', 'html', '--output', reportPath);
    expect(r.code).toBe(1);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  }, 20_000);

  it('shows the drifted features by name, marked drifted, and loads nothing but the file', async () => {
    const bytes = statSync(reportPath).size;
    console.log(`demo report: ${bytes} bytes`);
    const { page, url, requests, consoleErrors } = await openFile(browser, reportPath);
    try {
      for (const name of DEMO_DRIFTED) {
        const row = page.locator('tr.feature.drifted').filter({ has: page.getByText(name, { exact: true }) });
        expect(await row.count(), name).toBe(1);
        expect(await row.isVisible(), name).toBe(true);
        expect(await row.locator('.badge.drifted').innerText()).toBe('drifted');
        expect(await row.locator('svg.hist').isVisible(), `${name} histogram`).toBe(true);
      }
      for (const name of DEMO_NOT_DRIFTED) {
        const row = page.locator('tr.feature').filter({ has: page.getByText(name, { exact: true }) });
        expect(await row.count(), name).toBe(1);
        expect(await row.getAttribute('class'), name).toBe('feature ok');
      }
      expect(await page.locator('#verdict').innerText()).toContain('Dataset drift detected');
      expect(await page.title()).toBe('Drift report: current.csv vs reference.csv');
      // Drifted rows come first in the table.
      const names = await page.locator('tr.feature th .name').allInnerTexts();
      expect(names.slice(0, 4)).toEqual(DEMO_DRIFTED);
      const shot = join(tmp, 'r.png');
      await page.screenshot({ path: shot, fullPage: true, timeout: 20_000 });
      const png = readFileSync(shot);
      expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect(png.length).toBeGreaterThan(50_000);
      expect(png.readUInt32BE(20)).toBeGreaterThan(1000); // full-page height: the whole report, not one screen
      expect(requests).toEqual([url]);
      expect(requests.filter((u) => /^https?:/.test(u))).toEqual([]);
      expect(consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('renders hostile names as text: no script, no image, no dialog', async () => {
    const path = join(tmp, 'hostile.html');
    writeFileSync(path, renderHtml(hostileModel()));
    const { page, url, requests, dialogs, consoleErrors } = await openFile(browser, path);
    try {
      const counts = {
        scripts: await page.locator('script').count(),
        images: await page.locator('img').count(),
        handlers: await page.locator('[onload],[onerror]').count(),
      };
      expect(counts).toEqual({ scripts: 0, images: 0, handlers: 0 });
      expect(await page.title()).toBe(HOSTILE[0]);
      const names = await page.locator('tr.feature.drifted th .name').allInnerTexts();
      expect(names).toEqual([HOSTILE[0], HOSTILE[1]]);
      expect(await page.getByText(HOSTILE[0]!, { exact: true }).first().isVisible()).toBe(true);
      expect(dialogs).toEqual([]);
      expect(requests).toEqual([url]);
      expect(consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('keeps a 2000-column report usable', async () => {
    const path = join(tmp, 'wide.html');
    if (!existsSync(path)) {
      const { reference, current, types } = wideTables(2000, 300);
      writeFileSync(path, renderHtml(fromCompare({ reference: { path: 'r', rows: 300 }, current: { path: 'c', rows: 300 }, report: evaluateTables(reference, current, types), tables: { reference, current } })));
    }
    const { page, url, requests, consoleErrors } = await openFile(browser, path);
    try {
      expect(await page.locator('tr.feature').count()).toBe(2000);
      expect(await page.locator('tr.feature.drifted').first().isVisible()).toBe(true);
      expect(requests).toEqual([url]);
      expect(consoleErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
