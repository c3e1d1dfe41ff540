import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ClickHouseClient } from '@clickhouse/client';
import { inferColumnType } from '../src/core/column-type.js';
import type { ReferenceSnapshot, SnapshotColumn } from '../src/core/store.js';
import type { Column, ColumnType, Table } from '../src/core/table.js';
import { readTable } from '../src/files/read-table.js';
import { writeTable } from '../src/files/write-table.js';
import { buildReferenceProfile, type ReferenceProfile } from '../src/profile/reference-profile.js';
import { decodeProfile, encodeProfile } from '../src/profile/stored-profile.js';
import { createReference, DEFAULT_MAX_ROWS, DEFAULT_SEED, loadReference, sampleRows, snapshotId } from '../src/reference/lifecycle.js';
import { ARROW_SETTINGS } from '../src/store/clickhouse/arrow.js';
import { openStore, storeConfigFromEnv, type ClickHouseStore, type StoreConfig } from '../src/store/index.js';
import { referenceData, type ColumnSpec } from './reference-data.js';
import { machineInfo, machineLine } from './machine.js';
import { RssSampler, type StepMemory } from './rss-sampler.js';
import { median, positiveInt, fmtNum, fmtRate } from './common.js';

/**
 * `node dist/bench/reference-bench.js`: the cost of a reference snapshot, step by step, on 1 000 000 rows x 20
 * columns (seeded, see reference-data.ts) written as Parquet with the project's own writer.
 *
 * For each row cap (every row, then DEFAULT_MAX_ROWS) it measures, separately, seconds and peak RSS of:
 *   (a) import: `readTable` of the Parquet file;
 *   (b) sample + profile: what `createReference` does before storing (`sampleRows`, column types and the content
 *       id, `buildReferenceProfile`, `encodeProfile`), called piece by piece so each is timed;
 *   (c) store: `putReference` into the store named by the environment (the embedded engine in a temp dir unless
 *       CLICKHOUSE_URL is set), in a fresh database;
 *   (d) load: `loadReference` (rows read back as Arrow, the profile restored on them, which re-sorts numerical
 *       columns); then, measured apart, its two halves.
 * Baselines in the same run (each the median of 3 runs): the engine alone reading the stored rows (`SELECT numbers,
 * categories ... FORMAT ArrowStream`, bytes only, nothing decoded), and chDB reading the Parquet file itself
 * (embedded engine only).
 *
 * Processes: this one generates the data and writes the Parquet file (setup), then runs each cap in three fresh
 * child processes: one creates the reference (a, b, c: what `reference create` does), one loads it (d: what an
 * evaluator does when it starts), one runs the baselines. So no step's memory figure carries the data generator's,
 * another cap's or the other side's heap, and the load runs in a process that never held the source table.
 *
 * Checks (the run fails otherwise): the loaded rows equal the sample bit for bit (every column, Object.is per value;
 * the sample is rebuilt in the loading process from the file and the seed), the restored profile counts the sample's
 * rows, re-encodes to the very text that was stored and has the same sorted values as the profile built at creation
 * (SHA-256 of each array), and `createReference` on the same input finds the stored snapshot (so the pieces timed in
 * (b) computed exactly what createReference computes). Options: --rows (1000000), --seed.
 */

const MODEL = 'press-line-7';
const MB = 2 ** 20;
const SAMPLE_INTERVAL_MS = 20;
const BASELINE_RUNS = 3;
const scriptPath = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('../../', import.meta.url));

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '20240611' },
    // Internal: set by the parent for its child processes.
    phase: { type: 'string' },
    dir: { type: 'string' },
    cap: { type: 'string' },
    database: { type: 'string' },
    id: { type: 'string' },
    created: { type: 'string' },
    out: { type: 'string' },
  },
});

interface StepResult {
  readonly key: string;
  readonly step: string;
  readonly seconds: number;
  readonly memory: StepMemory | null;
  /** Rows the step handled (for rows/s); null for sub-phases. */
  readonly rows: number | null;
  readonly detail?: Readonly<Record<string, unknown>>;
  /** Printed indented under the step it belongs to. */
  readonly sub?: boolean;
}

/** What the creating process hands to the loading one (and to the report). */
interface CreateResult {
  readonly snapshotId: string;
  readonly sampleRows: number;
  readonly sourceRows: number;
  readonly processStartRssBytes: number;
  readonly openSeconds: number;
  readonly steps: StepResult[];
  /** Doubles in the stored rows and in the file: the least a baseline read must return (8 bytes each). */
  readonly storedNumbers: number;
  readonly fileNumbers: number;
  /** SHA-256 of the stored profile text and of each numerical column's sorted values, as built at creation. */
  readonly profileTextDigest: string;
  readonly sortedDigests: Readonly<Record<string, string>>;
}

/** A process's report: its steps, from the RSS it had once the store was open. */
interface PhaseResult {
  readonly processStartRssBytes: number;
  readonly openSeconds: number;
  readonly steps: StepResult[];
}

interface LoadResult extends PhaseResult {
  readonly verification: ReadonlyArray<string>;
}

if (opts.phase === undefined) await parent();
else await child(opts.phase);

// === the parent: data, then create, load and baseline processes per cap ===========================================
async function parent(): Promise<void> {
  const rows = positiveInt('rows', opts.rows);
  const seed = positiveInt('seed', opts.seed);
  const caps = [...new Set([rows, DEFAULT_MAX_ROWS])];
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const workDir = mkdtempSync(join(tmpdir(), 'driftwatch-reference-bench-'));
  const parquetPath = join(workDir, 'reference.parquet');
  const baseConfig = storeConfigFromEnv(process.env, { dataDir: join(workDir, 'data') });
  const engineNote =
    baseConfig.engine === 'embedded' ? `embedded engine (chDB) in ${baseConfig.path}` : `ClickHouse server ${baseConfig.url} (CLICKHOUSE_URL)`;
  console.log(`driftwatch reference bench: ${rows} rows x 20 columns, row caps ${caps.join(' and ')}, store: ${engineNote}`);
  console.log(machineLine(loadAtStart));

  const runs: Array<{ maxRows: number; database: string; create: CreateResult; load: LoadResult; baseline: PhaseResult }> = [];
  let data: { generationSeconds: number; writeSeconds: number; parquetBytes: number; specs: ReadonlyArray<ColumnSpec> };
  let childMaxRssMb = 0;
  try {
    data = await prepareData(rows, seed, parquetPath);
    for (const maxRows of caps) {
      const database = `dw_bench_${randomBytes(5).toString('hex')}`;
      console.log(`\n=== row cap ${maxRows}: database ${database} ===`);
      const common = ['--dir', workDir, '--cap', String(maxRows), '--database', database];
      const created = runChild<CreateResult>(workDir, ['--phase', 'create', ...common]);
      const createdPath = join(workDir, `created-${maxRows}.json`);
      writeFileSync(createdPath, JSON.stringify(created.value));
      const after = [...common, '--id', created.value.snapshotId, '--created', createdPath];
      const loaded = runChild<LoadResult>(workDir, ['--phase', 'load', ...after]);
      const baseline = runChild<PhaseResult>(workDir, ['--phase', 'baseline', ...after]);
      childMaxRssMb = Math.max(childMaxRssMb, created.maxRssMb, loaded.maxRssMb, baseline.maxRssMb);
      const run = { maxRows, database, create: created.value, load: loaded.value, baseline: baseline.value };
      printRun(run.maxRows, run.create, run.load, run.baseline);
      runs.push(run);
    }
  } catch (e) {
    console.error(`\nreference bench FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
    return;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  // --- summary ------------------------------------------------------------------------------------------------------
  const summaryKeys = ['import', 'sample_profile', 'store', 'load', 'baseline_clickhouse_read', 'baseline_chdb_parquet'] as const;
  const summaryNames: Record<(typeof summaryKeys)[number], string> = {
    import: '(a) import: readTable (Parquet)',
    sample_profile: '(b) sample + profile',
    store: '(c) store: putReference',
    load: '(d) load: loadReference',
    baseline_clickhouse_read: 'baseline: engine reads the stored rows',
    baseline_chdb_parquet: 'baseline: chDB reads the Parquet file',
  };
  const stepsOf = (r: (typeof runs)[number]): StepResult[] => [...r.create.steps, ...r.load.steps, ...r.baseline.steps];
  console.log(`\nsummary: seconds / peak RSS of the process during the step`);
  console.log(
    alignRows([
      ['step', ...runs.map((r) => `cap ${r.maxRows} (${r.create.sampleRows} rows stored)`)],
      ...summaryKeys.map((k) => [
        summaryNames[k],
        ...runs.map((r) => {
          const s = stepsOf(r).find((x) => x.key === k);
          return s ? `${fmtNum(s.seconds)} s / ${s.memory ? (s.memory.peakRssBytes / MB).toFixed(0) : '-'} MB` : 'skipped';
        }),
      ]),
    ]),
  );
  console.log(
    `RSS of a fresh process once the store is open (Node + embedded engine, before any step): ` +
      `${runs.map((r) => `${(r.load.processStartRssBytes / MB).toFixed(0)} MB`).join(', ')}; ` +
      `largest maxRSS of any child: ${childMaxRssMb.toFixed(0)} MB`,
  );

  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const resultsPath = join(resultsDir, 'reference-latest.json');
  const mb = (x: number | null | undefined): number | null => (x === null || x === undefined ? null : x / MB);
  const stepJson = (s: StepResult, process: 'create' | 'load' | 'baseline'): Record<string, unknown> => ({
    key: s.key,
    step: s.step,
    process,
    seconds: s.seconds,
    rows_per_second: s.rows === null ? null : s.rows / s.seconds,
    rss_before_mb: mb(s.memory?.rssBeforeBytes),
    peak_rss_mb: mb(s.memory?.peakRssBytes),
    rss_after_mb: mb(s.memory?.rssAfterBytes),
    kernel_peak_rss_mb: mb(s.memory?.kernelPeakRssBytes),
    rss_samples: s.memory?.samples ?? null,
    ...(s.detail ? { detail: s.detail } : {}),
  });
  writeFileSync(
    resultsPath,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          ...machineInfo(loadAtStart),
        },
        store: baseConfig.engine === 'embedded' ? { engine: 'embedded' } : { engine: 'server', url: baseConfig.url },
        data: {
          rows,
          features: data.specs.length,
          seed,
          columns: data.specs,
          parquet_bytes: data.parquetBytes,
          generation_seconds: data.generationSeconds,
          parquet_write_seconds: data.writeSeconds,
        },
        method: {
          rss_sample_interval_ms: SAMPLE_INTERVAL_MS,
          rss_sampler: 'worker thread reading process.memoryUsage.rss(); kernel_peak_rss_mb: VmHWM after a clear_refs reset',
          gc_before_each_step: true,
          processes: 'per cap, three fresh child processes: create (import, sample + profile, store), load (load and its halves), baseline',
        },
        runs: runs.map((r) => ({
          max_rows: r.maxRows,
          sample_rows: r.create.sampleRows,
          source_rows: r.create.sourceRows,
          snapshot_id: r.create.snapshotId,
          create_process: { start_rss_mb: mb(r.create.processStartRssBytes), open_store_seconds: r.create.openSeconds },
          load_process: { start_rss_mb: mb(r.load.processStartRssBytes), open_store_seconds: r.load.openSeconds },
          baseline_process: { start_rss_mb: mb(r.baseline.processStartRssBytes), open_store_seconds: r.baseline.openSeconds },
          steps: [
            ...r.create.steps.map((s) => stepJson(s, 'create')),
            ...r.load.steps.map((s) => stepJson(s, 'load')),
            ...r.baseline.steps.map((s) => stepJson(s, 'baseline')),
          ],
          verification: r.load.verification,
        })),
        memory: { largest_child_max_rss_mb: childMaxRssMb },
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results written to ${resultsPath}`);
}

/** Generates the data and writes the Parquet file (setup: timed, not a measured step). */
async function prepareData(
  rows: number,
  seed: number,
  parquetPath: string,
): Promise<{ generationSeconds: number; writeSeconds: number; parquetBytes: number; specs: ReadonlyArray<ColumnSpec> }> {
  const generated = timed(() => referenceData(rows, seed));
  const written = await timedAsync(() => writeTable(generated.value.table, parquetPath, 'parquet'));
  console.log(
    `data: generated in ${fmtS(generated.seconds)}, written as Parquet (writeTable) in ${fmtS(written.seconds)}: ` +
      `${(written.value / MB).toFixed(1)} MB`,
  );
  // The file must hold what was generated, or the bench would measure something else.
  const problems = compareTables(generated.value.table, await readTable(parquetPath), 'generated', 'read back from Parquet');
  if (problems.length > 0) throw new Error(`the Parquet file does not hold the generated data:\n  ${problems.join('\n  ')}`);
  return { generationSeconds: generated.seconds, writeSeconds: written.seconds, parquetBytes: written.value, specs: generated.value.specs };
}

/** Runs this script as a child phase (same Node flags, so --cpu-prof reaches it) and reads what it wrote. */
function runChild<T>(workDir: string, args: ReadonlyArray<string>): { value: T; maxRssMb: number } {
  const resultPath = join(workDir, `result-${randomBytes(4).toString('hex')}.json`);
  const r = spawnSync(process.execPath, [...process.execArgv, scriptPath, ...args, '--out', resultPath], {
    stdio: 'inherit',
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed (exit ${r.status ?? r.signal ?? '?'})`);
  const out = JSON.parse(readFileSync(resultPath, 'utf8')) as { value: T; maxRssMb: number };
  rmSync(resultPath, { force: true });
  return out;
}

// === the children =================================================================================================
async function child(phase: string): Promise<void> {
  const out = opts.out;
  const dir = required('dir', opts.dir);
  const maxRows = positiveInt('cap', opts.cap);
  const config: StoreConfig = { ...storeConfigFromEnv(process.env, { dataDir: join(dir, 'data') }), database: required('database', opts.database) };
  const parquetPath = join(dir, 'reference.parquet');
  // A full collection before each step, so a step is neither charged for nor helped by the last one's garbage.
  setFlagsFromString('--expose-gc');
  const gc = (runInNewContext('gc') as (() => void) | undefined) ?? ((): void => undefined);
  const sampler = await RssSampler.start(SAMPLE_INTERVAL_MS);
  const measure = async <T>(fn: () => T | Promise<T>): Promise<{ value: T; seconds: number; memory: StepMemory }> => {
    gc();
    sampler.begin();
    const start = performance.now();
    const value = await fn();
    const seconds = (performance.now() - start) / 1000;
    return { value, seconds, memory: sampler.end() };
  };
  let store: ClickHouseStore | null = null;
  try {
    const opened = await timedAsync(() => openStore(config));
    store = opened.value;
    gc();
    const startRss = process.memoryUsage.rss();
    let value: unknown;
    if (phase === 'create') value = await createPhase(store, parquetPath, maxRows, measure, opened.seconds, startRss);
    else if (phase === 'load') value = await loadPhase(store, parquetPath, maxRows, required('id', opts.id), measure, opened.seconds, startRss);
    else if (phase === 'baseline') value = await baselinePhase(store, config, parquetPath, required('id', opts.id), measure, opened.seconds, startRss);
    else throw new Error(`unknown phase ${phase}`);
    if (out !== undefined) writeFileSync(out, JSON.stringify({ value, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  } catch (e) {
    console.error(`${phase} (cap ${maxRows}) failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    // Leave nothing behind on a server; the embedded engine's directory goes with the temp dir.
    if (store) await store.client.command({ query: `DROP DATABASE IF EXISTS \`${config.database}\`` }).catch(() => undefined);
    process.exitCode = 1;
  } finally {
    if (store) await store.close();
    await sampler.stop();
  }
}

type Measure = <T>(fn: () => T | Promise<T>) => Promise<{ value: T; seconds: number; memory: StepMemory }>;

/** (a), (b), (c): what `reference create` does. */
async function createPhase(
  store: ClickHouseStore,
  parquetPath: string,
  maxRows: number,
  measure: Measure,
  openSeconds: number,
  startRss: number,
): Promise<CreateResult> {
  const steps: StepResult[] = [];

  // (a) import
  const imported = await measure(() => readTable(parquetPath));
  const table = imported.value;
  steps.push({ key: 'import', step: '(a) import: readTable (Parquet)', seconds: imported.seconds, memory: imported.memory, rows: table.rowCount });

  // (b) sample + profile: createReference's work before the store, piece by piece.
  const phases = { sample: 0, id: 0, profile: 0, encode: 0 };
  const prepared = await measure(() => {
    let at = performance.now();
    const lap = (): number => {
      const now = performance.now();
      const s = (now - at) / 1000;
      at = now;
      return s;
    };
    const sample = sampleRows(table, maxRows, DEFAULT_SEED);
    phases.sample = lap();
    // As createReference does: inferred types, the catalogue's column list, the content id.
    const types: Record<string, ColumnType> = Object.create(null) as Record<string, ColumnType>;
    const columns: SnapshotColumn[] = sample.columns.map((c) => {
      const type = inferColumnType(c);
      types[c.name] = type;
      return c.kind === 'number'
        ? { name: c.name, kind: 'number', type, integer: c.integer }
        : { name: c.name, kind: 'category', type, dtype: c.dtype };
    });
    const id = snapshotId(MODEL, '', columns, sample);
    phases.id = lap();
    const profile = buildReferenceProfile(sample, { columnTypes: types });
    phases.profile = lap();
    const text = encodeProfile(profile);
    phases.encode = lap();
    return { sample, columns, id, profile, text };
  });
  const { sample, columns, id, profile, text } = prepared.value;
  const textKiB = (Buffer.byteLength(text) / 1024).toFixed(0);
  steps.push(
    { key: 'sample_profile', step: '(b) sample + profile', seconds: prepared.seconds, memory: prepared.memory, rows: table.rowCount, detail: { profile_json_bytes: Buffer.byteLength(text) } },
    { key: 'sample', step: 'sampleRows (seeded reservoir)', seconds: phases.sample, memory: null, rows: null, sub: true },
    { key: 'snapshot_id', step: 'column types + content id (SHA-256)', seconds: phases.id, memory: null, rows: null, sub: true },
    { key: 'profile', step: 'buildReferenceProfile', seconds: phases.profile, memory: null, rows: null, sub: true },
    { key: 'encode', step: `encodeProfile (${textKiB} KiB of JSON)`, seconds: phases.encode, memory: null, rows: null, sub: true },
  );

  // (c) store
  const now = Date.now();
  const snapshot: ReferenceSnapshot = {
    id,
    model: MODEL,
    modelVersion: '',
    createdAt: now,
    source: { kind: 'file', path: parquetPath, format: 'parquet' },
    rowCount: sample.rowCount,
    sourceRowCount: table.rowCount,
    sampling: { seed: DEFAULT_SEED, maxRows },
    columns,
    status: 'candidate',
    activatedAt: null,
    previousActive: null,
    changedBy: 'reference-bench',
    reason: 'created',
    changedAt: now,
  };
  const stored = await measure(() => store.putReference(snapshot, sample, text));
  steps.push({ key: 'store', step: `(c) store: putReference (${store.config.engine})`, seconds: stored.seconds, memory: stored.memory, rows: sample.rowCount });

  return {
    snapshotId: id,
    sampleRows: sample.rowCount,
    sourceRows: table.rowCount,
    processStartRssBytes: startRss,
    openSeconds,
    steps,
    storedNumbers: countNumbers(sample),
    fileNumbers: countNumbers(table),
    profileTextDigest: sha256(text),
    sortedDigests: sortedDigests(profile),
  };
}

/** (d), in a process that never held the source table, then its halves; then the checks. */
async function loadPhase(
  store: ClickHouseStore,
  parquetPath: string,
  maxRows: number,
  id: string,
  measure: Measure,
  openSeconds: number,
  startRss: number,
): Promise<LoadResult> {
  const steps: StepResult[] = [];
  const loadedStep = await measure(() => loadReference(store, id));
  const loaded = loadedStep.value;
  const n = loaded.rows.rowCount;
  steps.push({ key: 'load', step: '(d) load: loadReference (Arrow rows + profile restored)', seconds: loadedStep.seconds, memory: loadedStep.memory, rows: n });

  // The two halves of (d), measured apart (loadReference runs them together).
  const rowsOnly = await measure(() => store.loadReferenceRows(id));
  steps.push({ key: 'load_rows', step: 'loadReferenceRows alone (Arrow -> Table)', seconds: rowsOnly.seconds, memory: rowsOnly.memory, rows: n, sub: true });
  const decoded = await measure(async () => decodeProfile(await store.loadReferenceProfile(id), loaded.rows));
  steps.push({ key: 'load_profile', step: 'loadReferenceProfile + decodeProfile alone (sorts)', seconds: decoded.seconds, memory: decoded.memory, rows: n, sub: true });

  // --- checks: the store gave back exactly what was put in ------------------------------------------------------
  const checks: string[] = [];
  // The sample again, from the file and the seed (deterministic), outside every measured step.
  const table = await readTable(parquetPath);
  const sample = sampleRows(table, maxRows, DEFAULT_SEED);
  checks.push(...compareTables(sample, loaded.rows, 'sample', 'loaded rows'));
  checks.push(...compareTables(sample, rowsOnly.value, 'sample', 'loadReferenceRows'));
  if (loaded.profile.rowCount !== sample.rowCount) checks.push(`the loaded profile counts ${loaded.profile.rowCount} rows, the sample has ${sample.rowCount}`);
  if (loaded.snapshot.rowCount !== sample.rowCount) checks.push(`the loaded snapshot says ${loaded.snapshot.rowCount} rows, the sample has ${sample.rowCount}`);
  const createdBy = JSON.parse(readFileSync(required('created', opts.created), 'utf8')) as CreateResult;
  if (sha256(encodeProfile(loaded.profile)) !== createdBy.profileTextDigest) checks.push('the restored profile does not re-encode to the stored text');
  const restored = sortedDigests(loaded.profile);
  for (const [name, digest] of Object.entries(createdBy.sortedDigests)) {
    if (restored[name] !== digest) checks.push(`profile column ${name}: the restored sorted values differ from the ones built at creation`);
  }
  // The pieces timed in (b) must be what createReference computes: on the same input it finds the stored snapshot.
  const again = await createReference(store, table, { model: MODEL, source: { kind: 'file', path: parquetPath, format: 'parquet' }, maxRows, by: 'reference-bench' });
  if (again.created || again.snapshot.id !== id) {
    checks.push(`createReference on the same input ${again.created ? 'created a new snapshot' : 'found another one'} (${again.snapshot.id}, the bench computed ${id})`);
  }
  if (checks.length > 0) throw new Error(`verification failed:\n  ${checks.join('\n  ')}`);
  return {
    processStartRssBytes: startRss,
    openSeconds,
    steps,
    verification: [
      `loaded rows equal the sample bit for bit (Object.is), all ${sample.columns.length} columns x ${sample.rowCount} rows; loadReferenceRows too`,
      `restored profile: rowCount ${loaded.profile.rowCount} = sample; re-encodes to the stored text; sorted values equal the creation's (SHA-256 per column)`,
      `createReference on the same input finds snapshot ${id} (created: false)`,
    ],
  };
}

/** The baselines, in a fresh process: the engine alone, bytes only, nothing decoded. Drops the database last. */
async function baselinePhase(
  store: ClickHouseStore,
  config: StoreConfig,
  parquetPath: string,
  id: string,
  measure: Measure,
  openSeconds: number,
  startRss: number,
): Promise<PhaseResult> {
  const created = JSON.parse(readFileSync(required('created', opts.created), 'utf8')) as CreateResult;
  const steps: StepResult[] = [];
  const checks: string[] = [];
  const chRead = await measureRepeated(measure, () =>
    arrowBytes(store.client, `SELECT numbers, categories FROM \`${config.database}\`.reference_values WHERE snapshot_id = {id:String}`, { id }),
  );
  steps.push({
    key: 'baseline_clickhouse_read',
    step: `baseline: engine reads the stored rows (${(chRead.value / MB).toFixed(0)} MB Arrow; median of ${BASELINE_RUNS})`,
    seconds: chRead.seconds,
    memory: chRead.memory,
    rows: created.sampleRows,
    detail: { arrow_bytes: chRead.value, runs_seconds: chRead.runs },
  });
  if (chRead.value < created.storedNumbers * 8) checks.push(`the engine read returned ${chRead.value} bytes, less than the ${created.storedNumbers} stored doubles`);
  if (config.engine === 'embedded') {
    const quoted = parquetPath.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    const fileRead = await measureRepeated(measure, () => arrowBytes(store.client, `SELECT * FROM file('${quoted}', Parquet)`, {}));
    steps.push({
      key: 'baseline_chdb_parquet',
      step: `baseline: chDB reads the Parquet file (${(fileRead.value / MB).toFixed(0)} MB Arrow; median of ${BASELINE_RUNS})`,
      seconds: fileRead.seconds,
      memory: fileRead.memory,
      rows: null,
      detail: { arrow_bytes: fileRead.value, runs_seconds: fileRead.runs },
    });
    if (fileRead.value < created.fileNumbers * 8) checks.push(`chDB read ${fileRead.value} bytes of Parquet, less than the file's ${created.fileNumbers} doubles`);
  } else {
    console.log("baseline chDB-on-Parquet skipped: CLICKHOUSE_URL is set, and a server cannot read this machine's temp file");
  }

  if (checks.length > 0) throw new Error(`baseline check failed:\n  ${checks.join('\n  ')}`);
  await store.client.command({ query: `DROP DATABASE IF EXISTS \`${config.database}\`` });
  return { processStartRssBytes: startRss, openSeconds, steps };
}

// === measuring, checks, output ====================================================================================
/**
 * A baseline, run BASELINE_RUNS times (they take a second or less, and one run on a shared 2-core machine is noisy):
 * the median seconds, the first run's RSS before, the highest peak of all runs.
 */
async function measureRepeated<T>(measure: Measure, fn: () => Promise<T>): Promise<{ value: T; seconds: number; memory: StepMemory; runs: number[] }> {
  const results: Array<{ value: T; seconds: number; memory: StepMemory }> = [];
  for (let i = 0; i < BASELINE_RUNS; i++) results.push(await measure(fn));
  const first = results[0]!;
  const max = (f: (m: StepMemory) => number | null): number | null =>
    results.reduce<number | null>((acc, r) => {
      const v = f(r.memory);
      return v === null ? acc : Math.max(acc ?? v, v);
    }, null);
  return {
    value: first.value,
    seconds: median(results.map((r) => r.seconds)),
    memory: {
      rssBeforeBytes: first.memory.rssBeforeBytes,
      peakRssBytes: max((m) => m.peakRssBytes) ?? first.memory.peakRssBytes,
      rssAfterBytes: results[results.length - 1]!.memory.rssAfterBytes,
      kernelPeakRssBytes: max((m) => m.kernelPeakRssBytes),
      samples: results.reduce((k, r) => k + r.memory.samples, 0),
    },
    runs: results.map((r) => r.seconds),
  };
}

/** Runs a SELECT as ArrowStream with the store's Arrow settings and counts the bytes; nothing is decoded. */
async function arrowBytes(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<number> {
  const result = await client.exec({ query: `${query} FORMAT ArrowStream ${ARROW_SETTINGS}`, query_params: params });
  let bytes = 0;
  for await (const chunk of result.stream) bytes += (chunk as Buffer).length;
  return bytes;
}

function countNumbers(table: Table): number {
  return table.columns.reduce((k, c) => k + (c.kind === 'number' ? c.values.length : 0), 0);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** SHA-256 of each numerical column's sorted values (their bytes: every bit counts). */
function sortedDigests(profile: ReferenceProfile): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of profile.columns) {
    if (c.type !== 'numerical') continue;
    const bytes = new Uint8Array(c.sorted.buffer, c.sorted.byteOffset, c.sorted.byteLength);
    Object.defineProperty(out, c.name, { value: createHash('sha256').update(bytes).digest('hex'), enumerable: true });
  }
  return out;
}

/** Differences between two tables: names, kinds, integer flags, category dtypes, lengths, then every value by Object.is (NaN = NaN, -0 != 0). */
function compareTables(expected: Table, actual: Table, expectedName: string, actualName: string): string[] {
  const problems: string[] = [];
  if (expected.rowCount !== actual.rowCount) problems.push(`${actualName} has ${actual.rowCount} rows, ${expectedName} ${expected.rowCount}`);
  if (expected.columns.length !== actual.columns.length) {
    problems.push(`${actualName} has ${actual.columns.length} columns, ${expectedName} ${expected.columns.length}`);
  }
  for (const e of expected.columns) {
    const a = actual.columns.find((c) => c.name === e.name);
    if (!a) {
      problems.push(`${actualName} lacks column ${e.name}`);
      continue;
    }
    if (a.kind !== e.kind) {
      problems.push(`column ${e.name}: ${actualName} has kind ${a.kind}, ${expectedName} ${e.kind}`);
      continue;
    }
    if (a.kind === 'number' && e.kind === 'number' && a.integer !== e.integer) problems.push(`column ${e.name}: integer flag differs`);
    if (a.kind === 'category' && e.kind === 'category' && a.dtype !== e.dtype) problems.push(`column ${e.name}: dtype differs`);
    const at = firstDifference(e, a);
    if (at !== -1) {
      problems.push(
        `column ${e.name}: row ${at} differs (${expectedName} ${String(e.values[at])}, ${actualName} ${String(a.values[at])}; ` +
          `lengths ${e.values.length}/${a.values.length})`,
      );
    }
  }
  return problems;
}

function firstDifference(e: Column, a: Column): number {
  const n = Math.min(e.values.length, a.values.length);
  for (let i = 0; i < n; i++) if (!Object.is(e.values[i], a.values[i])) return i;
  return e.values.length === a.values.length ? -1 : n;
}

function printRun(maxRows: number, create: CreateResult, load: LoadResult, baseline: PhaseResult): void {
  const steps = [...create.steps, ...load.steps, ...baseline.steps];
  const byKey = new Map(steps.map((s) => [s.key, s]));
  const line = (s: StepResult): string[] => {
    const m = s.memory;
    return [
      `${s.sub ? '    ' : ''}${s.step}`,
      fmtNum(s.seconds),
      s.rows === null ? '' : fmtRate(s.rows / s.seconds),
      m ? (m.rssBeforeBytes / MB).toFixed(0) : '',
      m ? (m.peakRssBytes / MB).toFixed(0) : '',
      m ? `+${((m.peakRssBytes - m.rssBeforeBytes) / MB).toFixed(0)}` : '',
      m?.kernelPeakRssBytes ? (m.kernelPeakRssBytes / MB).toFixed(0) : '',
      m ? String(m.samples) : '',
    ];
  };
  const note = (text: string): string[] => [text, '', '', '', '', '', '', ''];
  console.log(`\nrow cap ${maxRows}: ${create.sampleRows} of ${create.sourceRows} rows stored (snapshot ${create.snapshotId})`);
  console.log(
    alignRows([
      ['step', 'seconds', 'rows/s', 'RSS before MB', 'peak RSS MB', 'peak - before', 'kernel peak MB', 'samples'],
      note(`create process: RSS ${(create.processStartRssBytes / MB).toFixed(0)} MB with the store open (${fmtS(create.openSeconds)})`),
      ...create.steps.map(line),
      note(`load process: RSS ${(load.processStartRssBytes / MB).toFixed(0)} MB with the store open (${fmtS(load.openSeconds)})`),
      ...load.steps.map(line),
      note(`baseline process: RSS ${(baseline.processStartRssBytes / MB).toFixed(0)} MB with the store open (${fmtS(baseline.openSeconds)})`),
      ...baseline.steps.map(line),
    ]),
  );
  const ratio = (a: string, b: string): string => {
    const x = byKey.get(a);
    const y = byKey.get(b);
    return x && y ? `${(x.seconds / y.seconds).toFixed(1)}x` : '-';
  };
  console.log(
    `load / engine reading the same rows: ${ratio('load', 'baseline_clickhouse_read')}; ` +
      `import / chDB reading the Parquet file: ${ratio('import', 'baseline_chdb_parquet')}`,
  );
  console.log(`verified: ${load.verification.join('; ')}`);
}

function timed<T>(fn: () => T): { value: T; seconds: number } {
  const start = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

function required(name: string, raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new Error(`--${name} is required with --phase`);
  return raw;
}

function fmtS(seconds: number): string {
  return `${fmtNum(seconds)} s`;
}

function alignRows(table: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  return table.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}
