import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Column } from '../src/core/table.js';
import { columnDrift, prepareSample, sampleDrift, type ColumnDrift } from '../src/drift/column-drift.js';
import type { MethodName } from '../src/drift/methods.js';
import { detectOutliers, type OutlierReport } from '../src/outliers/outliers.js';
import { buildReferenceProfile, type ColumnProfile } from '../src/profile/reference-profile.js';
import { machineInfo, machineLine } from './machine.js';
import { writeNpyColumns } from './npy.js';
import { runBaseline, type BaselineResult } from './python-baseline.js';
import { syntheticData } from './synthetic-data.js';
import { median, positiveInt, fmtNum } from './common.js';

/**
 * `npm run bench`: driftwatch's drift evaluation against scipy and Evidently, on the same data, in the same run.
 *
 * A reference and a current window (seeded synthetic data, see synthetic-data.ts) are written to bench/.work/ as
 * .npy files. driftwatch profiles the reference once, then evaluates the window `--windows` times (median
 * reported): ks, wasserstein, psi, kl_div and jensenshannon for every column through `columnDrift`, outliers
 * through `detectOutliers`, and the default method alone (what Evidently's DataDriftPreset computes).
 * bench/baseline.py then times the scipy loop, a prepared scipy variant, numpy outliers and Evidently on the same
 * files, and returns the values it computed, which are checked against driftwatch's. Figures are printed and
 * written to bench/results/latest.json. Options: --rows, --features, --windows, --repeats (Python), --seed.
 */

const METHODS = ['ks', 'wasserstein', 'psi', 'kl_div', 'jensenshannon'] as const satisfies ReadonlyArray<MethodName>;
type BenchMethod = (typeof METHODS)[number];

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    features: { type: 'string', default: '50' },
    windows: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '3' },
    seed: { type: 'string', default: '20240611' },
  },
});
const rows = positiveInt('rows', opts.rows);
const features = positiveInt('features', opts.features);
const windows = positiveInt('windows', opts.windows);
const repeats = positiveInt('repeats', opts.repeats);
const seed = positiveInt('seed', opts.seed);
const valuesPerWindow = rows * features;

let peakRss = process.memoryUsage().rss;
const sampleRss = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

console.log(`driftwatch bench: ${features} numerical features, reference ${rows} rows vs current ${rows} rows, ${windows} windows`);
// Other work on the machine slows every side of the comparison, not evenly: the load average goes with the figures.
const loadAtStart = loadavg()[0] ?? Number.NaN;
console.log(machineLine(loadAtStart));

// --- data ---------------------------------------------------------------------------------------------------------
const generated = timed(() => syntheticData(rows, features, seed));
const data = generated.value;
const workDir = join(root, 'bench', '.work');
mkdirSync(workDir, { recursive: true });
const names = data.features.map((f) => f.name);
const numberValues = (columns: ReadonlyArray<Column>): Float64Array[] =>
  columns.map((col) => {
    if (col.kind !== 'number') throw new Error('synthetic columns are numerical');
    return col.values;
  });
const written = timed(() => {
  writeNpyColumns(join(workDir, 'reference.npy'), numberValues(data.reference.columns));
  writeNpyColumns(join(workDir, 'current.npy'), numberValues(data.current.columns));
  writeFileSync(join(workDir, 'manifest.json'), JSON.stringify({ columns: names, seed, rows, features }));
});
sampleRss();
console.log(
  `data: generated in ${fmtS(generated.seconds)}, written to ${workDir} in ${fmtS(written.seconds)} ` +
    `(${data.features.filter((f) => f.drifted).length} of ${features} features drift)`,
);

// --- driftwatch -----------------------------------------------------------------------------------------------------
const profiled = timed(() => buildReferenceProfile(data.reference));
const profile = profiled.value;
const refByName = new Map<string, ColumnProfile>(profile.columns.map((c) => [c.name, c]));
const pairs = data.current.columns.map((col) => {
  const ref = refByName.get(col.name);
  if (!ref) throw new Error(`column ${col.name} is missing from the profile`);
  return { ref, col };
});
sampleRss();
console.log(`driftwatch: profile once ${fmtS(profiled.seconds)}`);

interface WindowTimes {
  readonly prepare: number;
  readonly methods: Record<BenchMethod, number>;
  readonly drift: number;
  readonly outliers: number;
  readonly auto: number;
}
const windowTimes: WindowTimes[] = [];
let firstDrift: Record<BenchMethod, ColumnDrift[]> | null = null;
let firstOutliers: OutlierReport | null = null;
let firstAuto: ColumnDrift[] = [];
for (let w = 0; w < windows; w++) {
  const methodSeconds = {} as Record<BenchMethod, number>;
  const results = {} as Record<BenchMethod, ColumnDrift[]>;
  // The window's side of each column (sorting it) is done once and shared by the five methods, as a report with
  // several methods does; its time is counted in the drift total, not in any one method.
  const prepared = timed(() => pairs.map(({ ref, col }) => prepareSample(ref, col)));
  for (const method of METHODS) {
    const t = timed(() => pairs.map(({ ref }, i) => sampleDrift(ref, prepared.value[i]!, { method })));
    methodSeconds[method] = t.seconds;
    results[method] = t.value;
  }
  const outliers = timed(() => detectOutliers(profile, data.current));
  const auto = timed(() => pairs.map(({ ref, col }) => columnDrift(ref, col)));
  const drift = prepared.seconds + METHODS.reduce((s, m) => s + methodSeconds[m], 0);
  windowTimes.push({ prepare: prepared.seconds, methods: methodSeconds, drift, outliers: outliers.seconds, auto: auto.seconds });
  if (w === 0) {
    firstDrift = results;
    firstOutliers = outliers.value;
    firstAuto = auto.value;
  }
  sampleRss();
  console.log(
    `driftwatch window ${w + 1}/${windows}: drift ${fmtS(drift)} (${METHODS.map((m) => `${m} ${fmtS(methodSeconds[m])}`).join(', ')}), ` +
      `outliers ${fmtS(outliers.seconds)}, default method ${fmtS(auto.seconds)}`,
  );
}
if (!firstDrift || !firstOutliers) throw new Error('--windows must be at least 1');
const dw = {
  profile: profiled.seconds,
  methods: Object.fromEntries(METHODS.map((m) => [m, median(windowTimes.map((t) => t.methods[m]))])) as Record<BenchMethod, number>,
  prepare: median(windowTimes.map((t) => t.prepare)),
  drift: median(windowTimes.map((t) => t.drift)),
  outliers: median(windowTimes.map((t) => t.outliers)),
  driftAndOutliers: median(windowTimes.map((t) => t.drift + t.outliers)),
  auto: median(windowTimes.map((t) => t.auto)),
};
const nodeMaxRssMb = process.resourceUsage().maxRSS / 1024;

// --- baselines ------------------------------------------------------------------------------------------------------
console.log(`\nbaselines (bench/baseline.py, ${repeats} repeats of each scipy/numpy step, Evidently once) ...`);
let py: BaselineResult;
try {
  py = runBaseline(root, workDir, repeats);
} finally {
  for (const f of ['reference.npy', 'current.npy']) rmSync(join(workDir, f), { force: true });
}

// --- agreement: both sides did the same work ------------------------------------------------------------------------
interface Agreement {
  readonly check: string;
  readonly compared: number;
  readonly maxAbsDiff: number;
  readonly maxRelDiff: number;
  readonly agree: boolean;
}
const REL_TOLERANCE = 1e-9;
const ABS_TOLERANCE = 1e-12;
function agreement(check: string, ours: ReadonlyArray<number | null | undefined>, theirs: ReadonlyArray<number>): Agreement {
  let maxAbs = 0;
  let maxRel = 0;
  let agree = ours.length === theirs.length;
  theirs.forEach((b, i) => {
    const a = ours[i] ?? Number.NaN;
    const abs = a === b ? 0 : Math.abs(a - b);
    const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(a), Math.abs(b));
    if (!(abs <= ABS_TOLERANCE || rel <= REL_TOLERANCE)) agree = false;
    maxAbs = Math.max(maxAbs, Number.isNaN(abs) ? Number.POSITIVE_INFINITY : abs);
    maxRel = Math.max(maxRel, Number.isNaN(rel) ? Number.POSITIVE_INFINITY : rel);
  });
  return { check, compared: theirs.length, maxAbsDiff: maxAbs, maxRelDiff: maxRel, agree };
}
const d0 = firstDrift;
const o0 = firstOutliers;
const agreements: Agreement[] = [
  agreement('ks p-value vs scipy.stats.ks_2samp', d0.ks.map((r) => r.score), py.values.ks),
  agreement('ks statistic vs scipy.stats.ks_2samp', d0.ks.map((r) => r.statistic), py.values.ks_statistic),
  agreement('wasserstein (normed) vs scipy', d0.wasserstein.map((r) => r.score), py.values.wasserstein),
  agreement('psi vs numpy sturges histograms', d0.psi.map((r) => r.score), py.values.psi),
  agreement('kl_div vs scipy.stats.entropy', d0.kl_div.map((r) => r.score), py.values.kl_div),
  agreement('jensenshannon vs scipy.spatial.distance', d0.jensenshannon.map((r) => r.score), py.values.jensenshannon),
  agreement('default-method score vs Evidently drift_score', firstAuto.map((r) => r.score), py.evidently.drift_scores),
  agreement('IQR outliers per column vs numpy', o0.iqr.map((c) => c.flagged), py.numpy_outliers.iqr_flagged),
  agreement('z-score outliers per column vs numpy', o0.zscore.map((c) => c.flagged), py.numpy_outliers.zscore_flagged),
  agreement('Mahalanobis outliers, rank vs numpy', [o0.mahalanobis.flagged, o0.mahalanobis.rank], [
    py.numpy_outliers.mahalanobis_flagged,
    py.numpy_outliers.mahalanobis_rank,
  ]),
  agreement('drifted columns (default method) vs Evidently', [firstAuto.filter((r) => r.drifted).length], [py.evidently.drifted_columns]),
];
const autoMethods = [...new Set(firstAuto.map((r) => r.method))];
console.log(`\nagreement (first window; tolerance: relative ${REL_TOLERANCE} or absolute ${ABS_TOLERANCE}):`);
console.log(
  alignRows([
    ['check', 'values', 'max |diff|', 'max rel diff', 'agree'],
    ...agreements.map((a) => [a.check, String(a.compared), fmtNum(a.maxAbsDiff), fmtNum(a.maxRelDiff), a.agree ? 'yes' : 'NO']),
  ]),
);
console.log(
  `driftwatch default method: ${autoMethods.join(', ')}; Evidently stattest: ${py.evidently.stattests.join(', ')}; ` +
    `scipy prepared vs scipy loop: max rel diff ${fmtNum(py.scipy_prepared.max_rel_diff_vs_loop)}`,
);

// --- table ----------------------------------------------------------------------------------------------------------
interface Step {
  readonly step: string;
  readonly driftwatch: number;
  readonly scipyLoop: number | null;
  readonly scipyPrepared: number | null;
  readonly evidently: number | null;
}
const loop = py.scipy_loop.median;
const prep = py.scipy_prepared.median;
const npOut = py.numpy_outliers.median_seconds;
const steps: Step[] = [
  {
    step: 'profile once (reference)',
    driftwatch: dw.profile,
    scipyLoop: null,
    scipyPrepared: py.scipy_prepared.profile_seconds + py.numpy_outliers.profile_seconds,
    evidently: null,
  },
  { step: `  sort the window's columns once (shared)`, driftwatch: dw.prepare, scipyLoop: null, scipyPrepared: prep.sort_current, evidently: null },
  ...METHODS.map((m) => ({ step: `  ${m}, ${features} columns`, driftwatch: dw.methods[m], scipyLoop: loop[m], scipyPrepared: null, evidently: null })),
  { step: `drift: 5 methods x ${features} columns`, driftwatch: dw.drift, scipyLoop: loop.total, scipyPrepared: prep.total, evidently: null },
  { step: 'outliers: IQR + z + Mahalanobis', driftwatch: dw.outliers, scipyLoop: npOut, scipyPrepared: npOut, evidently: null },
  {
    step: 'window: drift + outliers',
    driftwatch: dw.driftAndOutliers,
    scipyLoop: loop.total + npOut,
    scipyPrepared: prep.total + npOut,
    evidently: py.evidently.seconds,
  },
  {
    step: 'window: default method (= DataDriftPreset)',
    driftwatch: dw.auto,
    scipyLoop: loop.wasserstein,
    scipyPrepared: prep.sort_current + prep.wasserstein,
    evidently: py.evidently.seconds,
  },
  {
    step: 'one-shot: profile + default-method window',
    driftwatch: dw.profile + dw.auto,
    scipyLoop: loop.wasserstein,
    scipyPrepared: py.scipy_prepared.profile_seconds + prep.sort_current + prep.wasserstein,
    evidently: py.evidently.seconds,
  },
];
const ratio = (other: number | null, ours: number): number | null => (other === null ? null : other / ours);
console.log(`\nseconds per window (median of ${windows} driftwatch windows, ${repeats} scipy/numpy repeats, Evidently once):`);
console.log(
  alignRows([
    ['step', 'driftwatch s', 'values/s', 'scipy loop s', 'loop/dw', 'scipy prep s', 'prep/dw', 'Evidently s', 'Evid/dw'],
    ...steps.map((s) => [
      s.step,
      fmtNum(s.driftwatch),
      fmtRate(valuesPerWindow / s.driftwatch),
      fmtOpt(s.scipyLoop),
      fmtRatio(ratio(s.scipyLoop, s.driftwatch)),
      fmtOpt(s.scipyPrepared),
      fmtRatio(ratio(s.scipyPrepared, s.driftwatch)),
      fmtOpt(s.evidently),
      fmtRatio(ratio(s.evidently, s.driftwatch)),
    ]),
  ]),
);
console.log(
  'Evidently runs once and has no profile: its seconds include handling the reference. "loop" and "prep" on the ' +
    'outliers row are the same numpy code. values/s = features x current rows / driftwatch seconds.',
);
if (py.evidently.subset) {
  console.log(`Evidently took over 3 minutes; on the first ${py.evidently.subset.rows} rows it took ${fmtS(py.evidently.subset.seconds)} (measured, not extrapolated).`);
}
sampleRss();
console.log(
  `\npeak RSS: Node ${nodeMaxRssMb.toFixed(0)} MB (maxRSS; sampled rss peak ${(peakRss / 2 ** 20).toFixed(0)} MB), ` +
    `Python baseline ${py.peak_rss_mb.toFixed(0)} MB`,
);

const fasterThanLoop = dw.driftAndOutliers < loop.total + npOut && dw.drift < loop.total;
const evidentlyRatio = py.evidently.seconds / dw.auto;
console.log(
  `targets: faster than the scipy loop: ${fasterThanLoop ? 'met' : 'NOT met'} ` +
    `(${fmtRatio((loop.total + npOut) / dw.driftAndOutliers)} per window); ` +
    `>= 50x faster than Evidently (default method vs DataDriftPreset): ${evidentlyRatio >= 50 ? 'met' : 'NOT met'} (${fmtRatio(evidentlyRatio)})`,
);

const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const resultsPath = join(resultsDir, 'latest.json');
writeFileSync(
  resultsPath,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: {
        ...machineInfo(loadAtStart),
        python: py.versions,
      },
      data: { rows, features, seed, drifted_features: data.features.filter((f) => f.drifted).map((f) => f.name) },
      windows,
      python_repeats: repeats,
      driftwatch: { ...dw, windows: windowTimes, data_generation_seconds: generated.seconds, write_seconds: written.seconds },
      baseline: {
        scipy_loop: py.scipy_loop,
        scipy_prepared: py.scipy_prepared,
        numpy_outliers_seconds: npOut,
        evidently: {
          seconds: py.evidently.seconds,
          import_seconds: py.evidently.import_seconds,
          subset: py.evidently.subset,
          stattests: py.evidently.stattests,
        },
      },
      steps: steps.map((s) => ({
        ...s,
        values_per_second: valuesPerWindow / s.driftwatch,
        scipy_loop_over_driftwatch: ratio(s.scipyLoop, s.driftwatch),
        scipy_prepared_over_driftwatch: ratio(s.scipyPrepared, s.driftwatch),
        evidently_over_driftwatch: ratio(s.evidently, s.driftwatch),
      })),
      agreement: agreements,
      memory: { node_max_rss_mb: nodeMaxRssMb, node_sampled_rss_peak_mb: peakRss / 2 ** 20, python_max_rss_mb: py.peak_rss_mb },
      targets: { faster_than_scipy_loop: fasterThanLoop, evidently_over_driftwatch_default: evidentlyRatio, at_least_50x_evidently: evidentlyRatio >= 50 },
    },
    null,
    2,
  )}\n`,
);
console.log(`results written to ${resultsPath}`);

// --- helpers --------------------------------------------------------------------------------------------------------
function timed<T>(fn: () => T): { value: T; seconds: number } {
  const start = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

function fmtS(seconds: number): string {
  return `${fmtNum(seconds)} s`;
}

function fmtOpt(x: number | null): string {
  return x === null ? '-' : fmtNum(x);
}

function fmtRatio(x: number | null): string {
  return x === null ? '-' : `${x >= 100 ? x.toFixed(0) : x.toFixed(1)}x`;
}

function fmtRate(x: number): string {
  return `${(x / 1e6).toFixed(1)} M`;
}

function alignRows(table: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  return table.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}
