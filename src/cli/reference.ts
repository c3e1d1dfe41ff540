/**
 * `driftwatch reference create|list|show|promote|rollback|export|delete`: the reference lifecycle from the command
 * line, on the configured store (embedded engine under ./data, or CLICKHOUSE_URL).
 */
import { userInfo } from 'node:os';
import { extname } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ReferenceSnapshot, Store } from '../core/store.js';
import type { ColumnType, Table } from '../core/table.js';
import type { FileFormat } from '../files/file-table.js';
import { readTable } from '../files/read-table.js';
import { writeTable, type ExportFormat } from '../files/write-table.js';
import {
  createReference,
  DEFAULT_MAX_ROWS,
  DEFAULT_SEED,
  loadReference,
  promoteReference,
  rollbackReference,
  type CreatePhase,
} from '../reference/lifecycle.js';
import { openStore, storeConfigFromEnv } from '../store/index.js';
import { parseDuration } from '../config/index.js';
import { parseColumnType } from './options.js';
import { UsageError } from './usage-error.js';

export interface ReferenceIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Whether stderr is a terminal (progress bars only then). */
  readonly interactive: boolean;
}

interface StoreFlags {
  dataDir?: string;
}

export async function withStore<T>(flags: StoreFlags, run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeConfigFromEnv(process.env, flags.dataDir ? { dataDir: flags.dataDir } : {}));
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

function whoAmI(): string {
  try {
    return process.env['DRIFTWATCH_USER'] || userInfo().username;
  } catch {
    return 'unknown';
  }
}

function durationValue(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) throw new InvalidArgumentError(`expected a duration such as 30s, 10m or 2h, got "${value}"`);
  return ms;
}

interface CaptureFlags {
  model: string;
  modelVersion: string;
  records?: number;
  duration?: number;
  url?: string;
  maxRows: number;
  promote?: boolean;
  reason?: string;
  format: 'text' | 'json';
}

/** How long `--from-stream` waits for the service at most (the service's own capture limit is one hour). */
const CAPTURE_WAIT_MS = 3_700_000;

/** Asks the running service to capture the model's next records and waits until the reference exists. */
async function captureFromStream(flags: CaptureFlags, io: ReferenceIo): Promise<void> {
  const base = (flags.url ?? process.env['DRIFTWATCH_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = process.env['DRIFTWATCH_API_TOKEN'];
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const call = async (path: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new UsageError(`cannot reach the service at ${base}: ${(e as Error).message} (is \`driftwatch run\` running? see --url)`);
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { error: text.slice(0, 200) };
    }
    return { status: res.status, body };
  };
  const started = await call('/v1/references/capture', {
    method: 'POST',
    body: JSON.stringify({
      model: flags.model,
      model_version: flags.modelVersion,
      ...(flags.records !== undefined ? { records: flags.records } : { duration_ms: flags.duration }),
      promote: flags.promote === true,
      max_rows: flags.maxRows,
      ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
    }),
  });
  if (started.status !== 202) throw new UsageError(`the service refused the capture (HTTP ${started.status}): ${String(started.body['error'] ?? '')}`);
  const id = String(started.body['id']);
  if (flags.format === 'text') io.err(`capturing ${flags.records !== undefined ? `the next ${flags.records} records` : 'a span of event time'} of ${flags.model} (${id})...\n`);
  const deadline = Date.now() + CAPTURE_WAIT_MS;
  let last = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await call(`/v1/references/capture/${encodeURIComponent(id)}`, { method: 'GET' });
    if (s.status !== 200) throw new UsageError(`the service lost capture ${id} (HTTP ${s.status}); was it restarted?`);
    const status = s.body['status'];
    const records = Number(s.body['records'] ?? 0);
    if (status === 'done') {
      if (flags.format === 'json') io.out(`${JSON.stringify(s.body, null, 2)}\n`);
      else io.out(`created ${String(s.body['snapshot'])} for model ${JSON.stringify(flags.model)} from ${records} streamed records${s.body['promoted'] ? ', active' : ', candidate'}\n`);
      return;
    }
    if (status === 'failed') throw new UsageError(`capture failed: ${String(s.body['error'] ?? 'unknown reason')}`);
    if (io.interactive && records !== last) io.err(`\r${records} records`);
    last = records;
  }
  throw new UsageError(`capture ${id} did not finish in time`);
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1, got "${value}"`);
    return n;
  };
}

function seedValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 0xffffffff) throw new InvalidArgumentError(`--seed must be a whole number from 0 to 4294967295, got "${value}"`);
  return n;
}

function timeValue(name: string) {
  return (value: string): number => {
    const asNumber = Number(value);
    const ms = /^\d+$/.test(value.trim()) ? asNumber : Date.parse(value);
    if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${name} must be an ISO time (2026-01-02T03:04:05Z) or epoch milliseconds, got "${value}"`);
    return ms;
  };
}


const FILE_FORMATS: FileFormat[] = ['csv', 'ndjson', 'parquet', 'arrow'];

function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function describeSource(s: ReferenceSnapshot['source']): string {
  switch (s.kind) {
    case 'file':
      return `file ${s.path} (${s.format})`;
    case 'windows':
      return `${s.windows} window(s) from ${time(s.from)} to ${time(s.to)}${s.excludeDrifted ? ', drifted windows excluded' : ''}`;
    case 'stream':
      return `stream: ${s.detail}`;
  }
}

/** Snapshot as JSON for `--format json`: stable field names. */
export function snapshotJson(s: ReferenceSnapshot): unknown {
  return {
    id: s.id,
    model: s.model,
    model_version: s.modelVersion,
    status: s.status,
    created_at: time(s.createdAt),
    activated_at: s.activatedAt === null ? null : time(s.activatedAt),
    previous_active: s.previousActive,
    rows: s.rowCount,
    source_rows: s.sourceRowCount,
    sampling: { seed: s.sampling.seed, max_rows: s.sampling.maxRows },
    source: s.source,
    columns: s.columns,
    changed_by: s.changedBy,
    reason: s.reason,
    changed_at: time(s.changedAt),
  };
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function listTable(list: ReadonlyArray<ReferenceSnapshot>): string {
  if (list.length === 0) return 'no references\n';
  const rows = [['ID', 'MODEL', 'VERSION', 'STATUS', 'ROWS', 'CREATED', 'ACTIVATED', 'SOURCE']];
  for (const s of list) {
    rows.push([s.id, JSON.stringify(s.model).slice(1, -1), s.modelVersion || '-', s.status, String(s.rowCount), time(s.createdAt), time(s.activatedAt), describeSource(s.source)]);
  }
  return pad(rows);
}

function showText(s: ReferenceSnapshot): string {
  const lines = [
    `reference ${s.id}`,
    `  model:          ${s.model}${s.modelVersion ? ` (version ${s.modelVersion})` : ''}`,
    `  status:         ${s.status}${s.activatedAt !== null ? `, last activated ${time(s.activatedAt)}` : ''}`,
    `  created:        ${time(s.createdAt)}`,
    `  source:         ${describeSource(s.source)}`,
    `  rows:           ${s.rowCount}${s.sourceRowCount > s.rowCount ? ` (sampled from ${s.sourceRowCount}, seed ${s.sampling.seed})` : ''}`,
    `  rollback goes:  ${s.previousActive ?? '-'}`,
    `  last change:    ${time(s.changedAt)} by ${s.changedBy}: ${s.reason}`,
    `  columns:`,
    ...s.columns.map((c) => `    ${c.name}  ${c.type} (${c.kind === 'number' ? (c.integer ? 'integer' : 'float') : (c.dtype ?? 'string')})`),
  ];
  return lines.join('\n') + '\n';
}

function progressReporter(io: ReferenceIo): { onProgress: (phase: CreatePhase, done: number, total: number) => void; stop: () => void } {
  if (!io.interactive) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: '{phase} [{bar}] {percentage}% {value}/{total}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let phase: CreatePhase | null = null;
  return {
    onProgress: (p, done, total) => {
      if (p !== phase) {
        if (phase !== null) bar.stop();
        phase = p;
        bar.start(total, done, { phase: p.padEnd(7) });
      } else bar.update(done);
    },
    stop: () => {
      if (phase !== null) bar.stop();
    },
  };
}

function formatFromPath(path: string): ExportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.arrow' || ext === '.arrows' || ext === '.ipc' || ext === '.feather') return 'arrow';
  throw new UsageError(`cannot tell the export format from "${path}": use a .parquet or .arrow file name, or --format`);
}

/** Adds `reference` and its subcommands to the program (so they inherit its output and exit handling). */
export function addReferenceCommand(program: Command, io: ReferenceIo): Command {
  const out = io.out;
  const cmd = program.command('reference').description('Create, list, promote, roll back, export and delete reference snapshots.');
  const dataDir = () => new Option('--data-dir <dir>', 'embedded engine data directory (default ./data, or DRIFTWATCH_DATA_DIR; ignored with CLICKHOUSE_URL)');

  cmd
    .command('create')
    .description(
      'Create a candidate reference for a model from a file, from the samples stored with past windows, or from the\n' +
        'live stream of a running service (its next N records, or a span of event time).',
    )
    .requiredOption('--model <name>', 'model the reference belongs to')
    .option('--model-version <version>', 'model version the reference was validated with', '')
    .option('--file <path>', 'CSV, NDJSON, Parquet or Arrow IPC file')
    .addOption(new Option('--file-format <format>', 'override the file format').choices(FILE_FORMATS))
    .option('--from-windows', 'build from the samples stored with past windows of the model')
    .option('--since <time>', 'with --from-windows: start of the range (ISO time or epoch ms)', timeValue('--since'))
    .option('--until <time>', 'with --from-windows: end of the range (default now)', timeValue('--until'))
    .option('--exclude-drifted', 'with --from-windows: leave out windows flagged as drifted')
    .option('--from-stream', 'capture from the live stream of a running `driftwatch run` (see --url)')
    .option('--records <n>', 'with --from-stream: the next N records of the model', positiveInt('--records'))
    .option('--duration <d>', 'with --from-stream: a span of event time from the next record on (e.g. 10m)', durationValue)
    .option('--url <url>', 'with --from-stream: the running service (default $DRIFTWATCH_URL, else http://127.0.0.1:8080); token from $DRIFTWATCH_API_TOKEN')
    .option('--max-rows <n>', `sample at most this many rows (seeded reservoir; default ${DEFAULT_MAX_ROWS})`, positiveInt('--max-rows'), DEFAULT_MAX_ROWS)
    .option('--seed <n>', `sampling seed (default ${DEFAULT_SEED})`, seedValue, DEFAULT_SEED)
    .option('--column-type <name=type>', 'declare a column numerical or categorical (repeatable)', parseColumnType, {})
    .option('--promote', 'make it the active reference right away')
    .option('--reason <text>', 'why (kept with the snapshot)')
    .addOption(dataDir())
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (flags: {
      model: string;
      modelVersion: string;
      file?: string;
      fileFormat?: FileFormat;
      fromWindows?: boolean;
      fromStream?: boolean;
      records?: number;
      duration?: number;
      url?: string;
      since?: number;
      until?: number;
      excludeDrifted?: boolean;
      maxRows: number;
      seed: number;
      columnType: Record<string, ColumnType>;
      promote?: boolean;
      reason?: string;
      dataDir?: string;
      format: 'text' | 'json';
    }) => {
      const sources = [flags.file !== undefined, flags.fromWindows === true, flags.fromStream === true].filter(Boolean).length;
      if (sources !== 1) throw new UsageError('give exactly one source: --file PATH, --from-windows --since TIME, or --from-stream --records N|--duration D');
      if (flags.fromStream) {
        if ((flags.records === undefined) === (flags.duration === undefined)) throw new UsageError('--from-stream needs exactly one of --records N or --duration D');
        await captureFromStream(flags as CaptureFlags, io);
        return;
      }
      if (flags.records !== undefined || flags.duration !== undefined || flags.url !== undefined) throw new UsageError('--records, --duration and --url go with --from-stream');
      if (flags.fromWindows && flags.since === undefined) throw new UsageError('--from-windows needs --since (the start of the range)');
      if (flags.file !== undefined && (flags.since !== undefined || flags.until !== undefined || flags.excludeDrifted)) {
        throw new UsageError('--since, --until and --exclude-drifted go with --from-windows, not --file');
      }
      // Read the file before touching the store, so a bad file never opens (or creates) a data directory.
      const table = flags.file !== undefined ? await readTable(flags.file, flags.fileFormat ? { format: flags.fileFormat } : {}) : null;
      const by = whoAmI();
      await withStore(flags, async (store) => {
        let rows: Table | null = table;
        let source: ReferenceSnapshot['source'];
        if (table) {
          source = { kind: 'file', path: flags.file!, format: (table as { format?: string }).format ?? 'unknown' };
        } else {
          const from = flags.since!;
          const to = flags.until ?? Date.now();
          if (!(from < to)) throw new UsageError(`--since must be before --until`);
          const samples = await store.windowSamples({ model: flags.model, from, to, excludeDrifted: flags.excludeDrifted ?? false });
          if (samples.windows === 0 || samples.table.rowCount === 0) {
            throw new UsageError(`model ${JSON.stringify(flags.model)} has no stored window samples from ${time(from)} to ${time(to)}${flags.excludeDrifted ? ' (drifted windows excluded)' : ''}`);
          }
          rows = samples.table;
          source = { kind: 'windows', from, to, excludeDrifted: flags.excludeDrifted ?? false, windows: samples.windows };
        }
        const progress = progressReporter(io);
        let created;
        try {
          created = await createReference(store, rows!, {
            model: flags.model,
            modelVersion: flags.modelVersion,
            source,
            maxRows: flags.maxRows,
            seed: flags.seed,
            columnTypes: flags.columnType,
            by,
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
            onProgress: progress.onProgress,
          });
        } finally {
          progress.stop();
        }
        let snapshot = created.snapshot;
        if (flags.promote) snapshot = (await promoteReference(store, snapshot.id, { by, reason: flags.reason ?? 'promoted at creation' })).snapshot;
        if (flags.format === 'json') out(`${JSON.stringify({ created: created.created, reference: snapshotJson(snapshot) }, null, 2)}\n`);
        else {
          out(
            `${created.created ? 'created' : 'already exists:'} ${snapshot.id} for model ${JSON.stringify(snapshot.model)}: ` +
              `${snapshot.rowCount} rows${snapshot.sourceRowCount > snapshot.rowCount ? ` (sampled from ${snapshot.sourceRowCount})` : ''}, ` +
              `${snapshot.columns.length} columns, ${snapshot.status}\n`,
          );
          if (snapshot.status === 'candidate') out(`promote it with: driftwatch reference promote ${snapshot.id}\n`);
        }
      });
    });

  cmd
    .command('list')
    .description('List reference snapshots (all models, or one).')
    .option('--model <name>', 'only this model')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDir())
    .action(async (flags: { model?: string; format: 'table' | 'json'; dataDir?: string }) => {
      await withStore(flags, async (store) => {
        const list = await store.listReferences(flags.model === undefined ? {} : { model: flags.model });
        out(flags.format === 'json' ? `${JSON.stringify(list.map(snapshotJson), null, 2)}\n` : listTable(list));
      });
    });

  cmd
    .command('show')
    .description('Show one snapshot: model, status, source, sampling, columns.')
    .argument('<id>', 'snapshot id (ref-...)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(dataDir())
    .action(async (id: string, flags: { format: 'text' | 'json'; dataDir?: string }) => {
      await withStore(flags, async (store) => {
        const s = await store.getReference(id);
        if (!s) throw new UsageError(`no reference ${id} (see: driftwatch reference list)`);
        out(flags.format === 'json' ? `${JSON.stringify(snapshotJson(s), null, 2)}\n` : showText(s));
      });
    });

  cmd
    .command('promote')
    .description("Make a snapshot its model's active reference (the previous one is retired, atomically).")
    .argument('<id>', 'snapshot id')
    .option('--reason <text>', 'why')
    .addOption(dataDir())
    .action(async (id: string, flags: { reason?: string; dataDir?: string }) => {
      await withStore(flags, async (store) => {
        const { snapshot, previous } = await promoteReference(store, id, { by: whoAmI(), ...(flags.reason === undefined ? {} : { reason: flags.reason }) });
        out(
          previous === null && snapshot.activatedAt !== null && snapshot.status === 'active'
            ? `${snapshot.id} is the active reference of ${JSON.stringify(snapshot.model)}\n`
            : `${snapshot.id} is the active reference of ${JSON.stringify(snapshot.model)}${previous ? ` (was ${previous.id}, now retired)` : ''}\n`,
        );
      });
    });

  cmd
    .command('rollback')
    .description('Re-activate the reference that was active before the current one (or a named one).')
    .argument('<model>', 'model name')
    .option('--to <id>', 'roll back to this snapshot')
    .option('--model-version <version>', "roll back to this model version's reference")
    .option('--reason <text>', 'why')
    .addOption(dataDir())
    .action(async (model: string, flags: { to?: string; modelVersion?: string; reason?: string; dataDir?: string }) => {
      if (flags.to !== undefined && flags.modelVersion !== undefined) throw new UsageError('give --to or --model-version, not both');
      await withStore(flags, async (store) => {
        const { snapshot, from } = await rollbackReference(store, model, {
          by: whoAmI(),
          ...(flags.to === undefined ? {} : { to: flags.to }),
          ...(flags.modelVersion === undefined ? {} : { modelVersion: flags.modelVersion }),
          ...(flags.reason === undefined ? {} : { reason: flags.reason }),
        });
        out(`${snapshot.id} is the active reference of ${JSON.stringify(model)} again (rolled back from ${from.id})\n`);
      });
    });

  cmd
    .command('export')
    .description('Write the rows of a snapshot to an Arrow IPC or Parquet file.')
    .argument('<id>', 'snapshot id')
    .requiredOption('--output <path>', 'file to write (.parquet or .arrow)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['arrow', 'parquet']))
    .addOption(dataDir())
    .action(async (id: string, flags: { output: string; format?: ExportFormat; dataDir?: string }) => {
      const format = flags.format ?? formatFromPath(flags.output);
      await withStore(flags, async (store) => {
        const loaded = await loadReference(store, id);
        const bytes = await writeTable(loaded.rows, flags.output, format);
        out(`wrote ${loaded.rows.rowCount} rows x ${loaded.rows.columns.length} columns of ${id} to ${flags.output} (${format}, ${bytes} bytes)\n`);
      });
    });

  cmd
    .command('delete')
    .description('Delete a snapshot that is not active (its rows and profile go with it).')
    .argument('<id>', 'snapshot id')
    .addOption(dataDir())
    .action(async (id: string, flags: { dataDir?: string }) => {
      await withStore(flags, async (store) => {
        await store.deleteReference(id);
        out(`deleted ${id}\n`);
      });
    });

  return cmd;
}
