#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { InputError, StoreError } from '../core/errors.js';
import type { ColumnType } from '../core/table.js';
import { DEFAULT_DRIFT_SHARE } from '../drift/dataset-drift.js';
import { isMethodName, METHOD_NAMES, type MethodName } from '../drift/methods.js';
import type { FileFormat } from '../files/file-table.js';
import { ColumnTypeError } from '../profile/reference-profile.js';
import { MissingColumnError } from '../report/evaluate.js';
import { fromCompare } from '../report/html/from-compare.js';
import { renderHtml } from '../report/html/render.js';
import { exitCodeFor, runCompare, toJson, type CompareArgs } from './compare.js';
import { formatTable } from './format-table.js';
import { parseColumnType } from './options.js';
import { addReferenceCommand, withStore } from './reference.js';
import { addStreamCommands } from './run.js';
import { addAlertCommands } from './alerts.js';
import { addDemoStackCommands } from './demo-stack.js';
import { packageVersion } from '../app/package-root.js';
import { ConfigError } from '../config/index.js';
import { loadReference, ReferenceError } from '../reference/lifecycle.js';
import { UsageError } from './usage-error.js';
import { kafkaFailure } from './kafka-failure.js';
import { ListenError } from '../api/server.js';

/** Exit codes: 0 no dataset drift (or success), 1 dataset drift, 2 usage or input error, 3 store error, 4 Kafka error. */
const EXIT_USAGE = 2;
/** The store is unreachable, too new, or returned something unreadable. */
const EXIT_STORE = 3;
/** The Kafka brokers cannot be reached (at start or while running), or refuse driftwatch (credentials, topics). */
const EXIT_KAFKA = 4;
const FORMATS: FileFormat[] = ['csv', 'ndjson', 'parquet', 'arrow'];

interface CompareFlags {
  reference: string;
  current: string;
  format: 'json' | 'table' | 'html';
  output?: string;
  method: MethodName | 'auto';
  threshold?: number;
  columnType: Record<string, ColumnType>;
  columns?: string[];
  driftShare: number;
  referenceFormat?: FileFormat;
  currentFormat?: FileFormat;
  dataDir?: string;
}

function parseProbability(name: string) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError(`${name} must be a number >= 0, got "${value}"`);
    return x;
  };
}

function parseShare(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !(x > 0 && x <= 1)) throw new InvalidArgumentError(`--drift-share must be a number in (0, 1], got "${value}"`);
  return x;
}


function parseColumns(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('expected a comma-separated list of column names');
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new InvalidArgumentError(`column "${repeated}" is listed twice`);
  return names;
}

/** Writes the compare report to `--output`; a path that cannot be written is the user's mistake (exit 2). */
async function writeReport(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new UsageError(`cannot write --output ${path}: ${code}`);
  }
}

export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Whether stderr is a terminal: progress bars are drawn only then. */
  readonly interactive?: boolean;
  /** The width of that terminal, in columns (a progress bar is cut to one line). */
  readonly columns?: number;
}

const processIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  interactive: process.stderr.isTTY === true,
  get columns() {
    return process.stderr.columns;
  },
};

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const out = io.out;
  const program = new Command('driftwatch')
    .description('Streaming data-quality and drift monitoring. Batch mode: compare a current file with a reference.')
    .version(packageVersion() || '0.0.0')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('compare')
    .description(
      'Compare a current dataset with a reference: per-column drift, dataset drift, outliers, data quality.\n' +
        'Exit code: 0 no dataset drift, 1 dataset drift, 2 usage or input error.',
    )
    .requiredOption('--reference <file|id>', 'reference data (CSV, NDJSON, Parquet or Arrow IPC, by extension), or a stored snapshot id (ref-...)')
    .requiredOption('--current <file>', 'current data to check against the reference')
    .addOption(
      new Option('--format <format>', 'output format (html: a self-contained page with charts)').choices(['json', 'table', 'html']).default('table'),
    )
    .option('--output <file>', 'write the report to this file instead of stdout')
    .addOption(
      new Option('--method <method>', 'drift method for every column (auto = Evidently\'s choice per column)')
        .choices(['auto', ...METHOD_NAMES])
        .default('auto'),
    )
    .option('--threshold <t>', "drift threshold (default: the method's own)", parseProbability('--threshold'))
    .option('--column-type <name=type>', 'declare a column numerical or categorical (repeatable)', parseColumnType, {})
    .option('--columns <a,b,...>', 'compare only these columns', parseColumns)
    .option('--drift-share <s>', 'share of drifted columns at which the dataset drifts, in (0, 1]', parseShare, DEFAULT_DRIFT_SHARE)
    .addOption(new Option('--reference-format <format>', 'override the reference format').choices(FORMATS))
    .addOption(new Option('--current-format <format>', 'override the current format').choices(FORMATS))
    .option('--data-dir <dir>', 'embedded engine data directory for a snapshot reference (default ./data; ignored with CLICKHOUSE_URL)')
    .action(async (flags: CompareFlags) => {
      const args: CompareArgs = {
        reference: flags.reference,
        current: flags.current,
        method: isMethodName(flags.method) ? flags.method : 'auto',
        columnTypes: flags.columnType,
        driftShare: flags.driftShare,
        ...(flags.threshold === undefined ? {} : { threshold: flags.threshold }),
        ...(flags.columns ? { columns: flags.columns } : {}),
        ...(flags.referenceFormat ? { referenceFormat: flags.referenceFormat } : {}),
        ...(flags.currentFormat ? { currentFormat: flags.currentFormat } : {}),
      };
      const result = await runCompare(args, (id) =>
        withStore(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }, (store) => loadReference(store, id)),
      );
      const text =
        flags.format === 'json'
          ? `${JSON.stringify(toJson(result), null, 2)}\n`
          : flags.format === 'html'
            ? renderHtml(fromCompare(result))
            : formatTable(result);
      if (flags.output === undefined) out(text);
      else await writeReport(flags.output, text);
      setExit(exitCodeFor(result));
    });

  addReferenceCommand(program, { out: io.out, err: io.err, interactive: io.interactive ?? false });
  addStreamCommands(program, io, setExit);
  addAlertCommands(program, io, setExit);
  addDemoStackCommands(program, io, setExit);
  return program;
}

/**
 * User mistakes get one line and exit 2; an unreachable store (3) or Kafka (4) one line too; anything else is a bug
 * and says so.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    // Thrown by an action rather than by commander's parsing (which prints its errors itself): not printed yet.
    if (e instanceof InvalidArgumentError) {
      io.err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CommanderError) {
      // help and version "errors" are normal exits; the message was already printed by commander
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (
      e instanceof InputError ||
      e instanceof UsageError ||
      e instanceof ColumnTypeError ||
      e instanceof MissingColumnError ||
      e instanceof ReferenceError ||
      e instanceof ConfigError ||
      e instanceof ListenError
    ) {
      io.err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof StoreError) {
      io.err(`error: ${e.message}\n`);
      // A missing snapshot or a refused change is the user's request; an unreachable or broken store is not.
      return e.code === 'not_found' || e.code === 'conflict' || e.code === 'bad_config' ? EXIT_USAGE : EXIT_STORE;
    }
    const kafka = kafkaFailure(e);
    if (kafka !== null) {
      io.err(`error: ${kafka}\n`);
      return EXIT_KAFKA;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.err(`internal error: ${err.message} (this is a driftwatch bug; set DRIFTWATCH_DEBUG=1 for details)\n`);
    if (process.env['DRIFTWATCH_DEBUG']) io.err(`${err.stack ?? ''}\n`);
    return EXIT_USAGE;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  // `driftwatch compare ... | head`: the reader went away; stop quietly instead of throwing EPIPE at the user.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = await main(process.argv.slice(2));
}
