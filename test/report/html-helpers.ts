/**
 * Helpers of the HTML report tests: columns and wide tables built deterministically, a drift report computed
 * through the real evaluation, and a headless Chromium that records what a page asks for.
 */
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CategoryColumn, Column, ColumnType, NumberColumn, Table } from '../../src/core/table.js';
import { profileCategorical, profileNumerical, type ColumnProfile, type ReferenceProfile } from '../../src/profile/reference-profile.js';
import { buildQualityBaseline } from '../../src/quality/index.js';
import { evaluateAgainstReference, type DriftReport } from '../../src/report/evaluate.js';
import { mulberry32 } from '../../bench/seeded-random.js';

/** A number column (NaN = missing). */
export function numbers(name: string, values: ReadonlyArray<number>, integer = false): NumberColumn {
  return { kind: 'number', name, integer, values: Float64Array.from(values) };
}

/** A text column (null = missing). */
export function texts(name: string, values: ReadonlyArray<string | null>): CategoryColumn {
  return { kind: 'category', name, dtype: 'string', values: [...values] };
}

/** A table of these columns (all of the same length). */
export function table(source: string, columns: ReadonlyArray<Column>): Table {
  return { source, rowCount: columns[0]?.values.length ?? 0, columns };
}

/** A seeded uniform generator in [0, 1) (the benchmarks' mulberry32), so wide fixtures are the same on every run. */
export const random = mulberry32;

/**
 * Two tables of `width` columns and `rows` rows: three numerical columns out of four (every fifth shifted in the
 * current table), the fourth categorical with 30 categories (every third of those skewed). Column names are long
 * and include markup-like characters, as a wide real dataset might.
 */
export function wideTables(width: number, rows: number): { reference: Table; current: Table; types: Record<string, ColumnType> } {
  const rnd = random(42);
  const normal = (): number => {
    const u = Math.max(rnd(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const ref: Column[] = [];
  const cur: Column[] = [];
  const types: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
  for (let j = 0; j < width; j++) {
    const name = `sensor_<${j}>_"${'x'.repeat(12)}"_&_reading_${j}`;
    if (j % 4 === 3) {
      const pick = (skew: boolean): string => `cat_${Math.floor((skew ? rnd() ** 2 : rnd()) * 30)}`;
      ref.push(texts(name, Array.from({ length: rows }, () => pick(false))));
      cur.push(texts(name, Array.from({ length: rows }, () => pick(j % 3 === 0))));
      types[name] = 'categorical';
    } else {
      const shift = j % 5 === 0 ? 1.5 : 0;
      ref.push(numbers(name, Array.from({ length: rows }, () => 10 + normal())));
      cur.push(numbers(name, Array.from({ length: rows }, () => 10 + shift + normal())));
      types[name] = 'numerical';
    }
  }
  return { reference: table('wide-ref', ref), current: table('wide-cur', cur), types };
}

/**
 * The drift report of `current` against `reference` through the real evaluation (drift, outliers, quality), with
 * the Mahalanobis model left out: its p x p covariance is not what these tests are about.
 */
export function evaluateTables(reference: Table, current: Table, types: Readonly<Record<string, ColumnType>>): DriftReport {
  const columns: ColumnProfile[] = reference.columns.map((c) =>
    types[c.name] === 'numerical' && c.kind === 'number' ? profileNumerical(c) : profileCategorical(c),
  );
  const profile: ReferenceProfile = {
    source: reference.source,
    rowCount: reference.rowCount,
    columns,
    mahalanobis: null,
    quality: buildQualityBaseline(reference, { columnTypes: types }),
  };
  return evaluateAgainstReference(profile, current);
}

/** Arguments that keep Chromium from reaching out on its own (updates, field trials, safe browsing). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Debian's Chromium, launched headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** A page opened on a local file, with every request it made, its console errors and any dialog it tried to open. */
export interface OpenedPage {
  readonly page: Page;
  readonly url: string;
  readonly requests: string[];
  readonly consoleErrors: string[];
  readonly dialogs: string[];
}

/** Opens `path` in a fresh page of `browser`, recording requests from before the navigation on. */
export async function openFile(browser: Browser, path: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const url = pathToFileURL(path).href;
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  return { page, url, requests, consoleErrors, dialogs };
}
