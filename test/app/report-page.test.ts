/**
 * The report page the running service serves for a window (what notifications link to), opened in real headless
 * Chromium: the newest window of the demo stream (drifted) shows its drifted features by name with their
 * histograms and score history, the page makes no request but its own, and the JSON form answers the same window.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL } from '../../src/app/demo-data.js';
import { startService, type Service } from '../../src/app/service.js';
import type { WindowRecord } from '../../src/core/store.js';
import type { DriftEvent } from '../../src/core/drift-event.js';
import { reportLink } from '../../src/app/alerts.js';
import { demoSetup, demoStream } from '../helpers/demo-service.js';
import { launchChromium } from '../report/html-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'driftwatch-page-'));
let service: Service;
let browser: Browser;

const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const { config, env, data } = await demoSetup(dir, { rules: false, onCleanup: (fn) => cleanups.push(fn) });
  const source = demoStream(data);
  service = await startService({ config, source, http: true, env, log: () => undefined });
  await service.finished;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  for (const fn of cleanups) await fn();
  rmSync(dir, { recursive: true, force: true });
});

describe('the served report page', () => {
  it('the newest window, in Chromium: drifted features by name with charts and history, nothing loaded from elsewhere', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(`${service.url}/v1/reports/${DEMO_MODEL}?lot_id=L-2003`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    // The redirect to the newest window of lot L-2003, and the page itself: nothing else.
    const origin = new URL(service.url!).origin;
    expect(requests.every((u) => u.startsWith(`${origin}/v1/reports/${DEMO_MODEL}`))).toBe(true);
    expect(requests).toHaveLength(2);
    expect(errors).toEqual([]);
    for (const name of ['temp_c', 'pressure_bar', 'vibration_mm_s']) {
      const row = page.locator('tr.feature.drifted').filter({ has: page.getByText(name, { exact: true }) });
      expect(await row.count(), name).toBe(1);
      expect(await row.isVisible(), name).toBe(true);
      expect(await row.locator('svg.hist').isVisible(), `${name} histogram`).toBe(true);
      expect(await row.locator('svg').count(), `${name} charts`).toBeGreaterThanOrEqual(2);
    }
    const shot = join(dir, 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(30_000);
    await page.close();
  });

  it('answers JSON for the same window, 404 for a window that does not exist, 400 for a malformed one', async () => {
    const first = await fetch(`${service.url}/v1/reports/${DEMO_MODEL}?lot_id=L-2000`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const path = first.headers.get('location')!;
    const json = (await (await fetch(`${service.url}${path}&format=json`)).json()) as { summary: { datasetDrifted: boolean; rowCount: number }; features: unknown[] };
    expect(json.summary).toMatchObject({ datasetDrifted: false, rowCount: 300 });
    expect(json.features.length).toBe(7);
    expect((await fetch(`${service.url}/v1/reports/${DEMO_MODEL}/1-2`)).status).toBe(404);
    expect((await fetch(`${service.url}/v1/reports/${DEMO_MODEL}/yesterday`)).status).toBe(400);
    expect((await fetch(`${service.url}/v1/reports/nobody`)).status).toBe(404);
  });

  it('says when the details of a window are still being stored (between its drift results and its details)', async () => {
    const store = service.store;
    const listed = await store.listWindows({ model: DEMO_MODEL, from: 0, to: Date.now() + 86_400_000 });
    const stored = listed[listed.length - 1]!;
    // A window like the newest one, 10 minutes after it, written as the pipeline writes it: results first.
    const key = { ...stored.key, start: stored.key.end + 600_000, end: stored.key.end + 900_000 };
    const [features, outliers, quality] = await Promise.all([store.windowFeatures(stored.key), store.windowOutliers(stored.key), store.windowQuality(stored.key)]);
    expect(outliers.length).toBe(3);
    const record: WindowRecord = { ...stored, key, features, outliers, quality };
    await store.putWindowResults([record]);
    const path = `${service.url}/v1/reports/${DEMO_MODEL}/${key.start}-${key.end}?lot_id=${encodeURIComponent(key.segment['lot_id']!)}`;
    type Answer = { details: string; features: unknown[]; outliers: unknown[]; quality: unknown[] };
    const pending = (await (await fetch(`${path}&format=json`)).json()) as Answer;
    expect(pending).toMatchObject({ details: 'pending', outliers: [], quality: [] });
    expect(pending.features.length).toBe(features.length);
    const page = await (await fetch(path)).text();
    expect(page).toContain('still being stored');
    expect(page).not.toContain('are not available');

    await store.putWindowDetails([record]);
    const done = (await (await fetch(`${path}&format=json`)).json()) as Answer;
    expect(done.details).toBe('stored');
    expect(done.outliers.length).toBe(3);
    expect(done.quality.length).toBe(quality.length);
    expect(await (await fetch(path)).text()).not.toContain('still being stored');
    // A window stored whole (the demo's) was never pending.
    expect(((await (await fetch(`${service.url}/v1/reports/${DEMO_MODEL}/${stored.key.start}-${stored.key.end}?lot_id=${encodeURIComponent(stored.key.segment['lot_id']!)}&format=json`)).json()) as Answer).details).toBe('stored');
  });

  it('serves each of two count windows that share their bounds at the link a notification gives it', async () => {
    const store = service.store;
    const listed = await store.listWindows({ model: DEMO_MODEL, from: 0, to: Date.now() + 86_400_000 });
    const stored = listed[listed.length - 1]!;
    const [features, outliers, quality] = await Promise.all([store.windowFeatures(stored.key), store.windowOutliers(stored.key), store.windowQuality(stored.key)]);
    const bounds = { ...stored.key, start: stored.key.end + 3_600_000, end: stored.key.end + 3_600_001 };
    const a: WindowRecord = { ...stored, key: { ...bounds, countId: '00000000000000aa' }, rowCount: 11, features, outliers, quality };
    const b: WindowRecord = { ...stored, key: { ...bounds, countId: '00000000000000bb' }, rowCount: 22, features, outliers, quality };
    await store.putWindows([a, b]);
    const event = (r: WindowRecord) =>
      ({ model: r.key.model, segment: r.key.segment, window: { start: new Date(r.key.start).toISOString(), end: new Date(r.key.end).toISOString(), count: r.rowCount, version: r.version, cause: 'count', count_id: r.key.countId } }) as DriftEvent;
    for (const r of [a, b]) {
      const link = reportLink(service.url!, event(r));
      expect(link).toContain(`.${r.key.countId}`);
      const json = (await (await fetch(`${link}${link.includes('?') ? '&' : '?'}format=json`)).json()) as { summary: { rowCount: number } };
      expect(json.summary.rowCount).toBe(r.rowCount);
    }
  });
});
