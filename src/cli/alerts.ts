/**
 * Alerting commands:
 * - `driftwatch rules check [DIR]`: validates rule and action files, every problem with file, line and path.
 * - `driftwatch actions list|retry`: the outbox (what was sent where, what is pending or dead) and re-driving it.
 * - `driftwatch silences add|list|expire`.
 * - `driftwatch alerts history`.
 * With `--url` they talk to a running service (token from env DRIFTWATCH_API_TOKEN); without, they open the store
 * (the embedded engine's data directory must not be in use by a running service, or CLICKHOUSE_URL is set).
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadRuleSet, missingSecrets } from '../config/rules-file.js';
import type { OutboxEntry, Silence, Store } from '../core/store.js';
import { silenceFrom } from '../app/alert-routes.js';
import { requeued } from '../app/dispatcher.js';
import { withStore } from './reference.js';
import type { CliIo } from './main.js';
import { UsageError } from './usage-error.js';

interface Remote {
  url?: string;
  dataDir?: string;
}

function limitValue(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`--limit must be a whole number >= 1, got "${value}"`);
  return x;
}

/** A call to the running service's API; an error answer becomes a UsageError with the service's message. */
async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const token = process.env['DRIFTWATCH_API_TOKEN'];
  let res: Response;
  try {
    res = await fetch(`${base.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new UsageError(`cannot reach driftwatch at ${base}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (!res.ok) {
    const msg = json && typeof json === 'object' && 'error' in json ? String((json as { error: unknown }).error) : text.slice(0, 300);
    throw new UsageError(`${method} ${path}: ${res.status} ${msg}`);
  }
  return json as T;
}

function storeFlags(flags: Remote): { dataDir?: string } {
  return flags.dataDir ? { dataDir: flags.dataDir } : {};
}

function withBackend(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'a running driftwatch (its HTTP API); token from env DRIFTWATCH_API_TOKEN')
    .option('--data-dir <dir>', 'embedded engine data directory (default ./data; ignored with --url or CLICKHOUSE_URL)');
}

function outboxLine(e: OutboxEntry): string {
  let what = '';
  try {
    const n = JSON.parse(e.payload) as { rule?: string; model?: string; status?: string; segment?: Record<string, string>; window?: { end?: number } };
    const seg = Object.entries(n.segment ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    what = `${n.rule ?? '?'} ${n.status ?? '?'} ${n.model ?? '?'}${seg ? ` [${seg}]` : ''}${n.window?.end ? ` window end ${new Date(n.window.end).toISOString()}` : ''}`;
  } catch {
    what = '(unreadable payload)';
  }
  const next = e.status === 'pending' ? `, next ${new Date(e.nextAttemptAt).toISOString()}` : '';
  const err = e.lastError ? `\n    last error: ${e.lastError}` : '';
  return `${e.id}  ${e.status.padEnd(9)} ${e.action} (${e.kind}), ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${next}\n    ${what}${err}\n`;
}

function silenceLine(s: Silence, now: number): string {
  const state = now < s.startsAt ? 'pending' : now < s.endsAt ? 'active' : 'expired';
  const m = s.matchers.map((x) => `${x.label}=~"${x.pattern}"`).join(', ');
  return `${s.id}  ${state.padEnd(7)} ${new Date(s.startsAt).toISOString()} .. ${new Date(s.endsAt).toISOString()}  {${m}}  by ${s.createdBy}${s.comment ? `: ${s.comment}` : ''}\n`;
}

/** `label=pattern` matchers from the command line. */
function parseMatcher(value: string, previous: Array<{ label: string; pattern: string }> = []): Array<{ label: string; pattern: string }> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected label=pattern (e.g. model=press-qa or feature='temp_*'), got "${value}"`);
  return [...previous, { label: value.slice(0, at).trim(), pattern: value.slice(at + 1).trim() }];
}

export function addAlertCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const rules = program.command('rules').description('Alert rules and actions (rules/*.yaml).');
  rules
    .command('check')
    .description('Validate the rule and action files of DIR (default ./rules); every problem is listed with file, line and path.')
    .argument('[dir]', 'rules directory', 'rules')
    .action(async (dir: string) => {
      const set = await loadRuleSet(resolve(dir), process.env);
      io.out(`${dir}: ${set.rules.length} rules, ${set.actions.size} actions in ${set.files.length} files: OK\n`);
      for (const r of set.rules) io.out(`  rule ${r.name} (${r.severity}, ${r.condition.kind}) -> ${r.actions.join(', ') || 'no actions'}\n`);
      for (const m of missingSecrets(set, process.env)) io.out(`  note: ${m.location}: action ${m.action} needs env ${m.variable}, which is not set here\n`);
      setExit(0);
    });

  const actions = program.command('actions').description('Notification and trigger deliveries (the outbox).');
  withBackend(
    actions
      .command('list')
      .description('Deliveries, oldest first: what was sent to which action, its status, attempts and last error.')
      .addOption(new Option('--status <status>', 'only these').choices(['pending', 'delivered', 'dead']))
      .option('--limit <n>', 'at most this many', limitValue, 100)
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
  ).action(async (flags: Remote & { status?: 'pending' | 'delivered' | 'dead'; limit: number; format: 'table' | 'json' }) => {
    const query = { ...(flags.status ? { status: flags.status } : {}), limit: flags.limit };
    const list = flags.url
      ? (await api<{ deliveries: OutboxEntry[] }>(flags.url, 'GET', `/v1/actions?limit=${flags.limit}${flags.status ? `&status=${flags.status}` : ''}`)).deliveries
      : await withStore(storeFlags(flags), (store) => store.listOutbox(query));
    if (flags.format === 'json') io.out(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) io.out('no deliveries\n');
    else for (const e of list) io.out(outboxLine(e));
    setExit(0);
  });
  withBackend(
    actions
      .command('retry')
      .description('Deliver again: the given delivery ids, or every dead one with --dead.')
      .argument('[ids...]', 'delivery ids (see actions list)')
      .option('--dead', 'every delivery marked dead'),
  ).action(async (ids: string[], flags: Remote & { dead?: boolean }) => {
    if ((ids.length > 0) === Boolean(flags.dead)) throw new UsageError('give delivery ids or --dead (not both)');
    let done: string[];
    if (flags.url) {
      const r = await api<{ requeued: string[] }>(flags.url, 'POST', '/v1/actions/retry', ids.length > 0 ? { ids } : { status: 'dead' });
      done = r.requeued;
    } else {
      done = await withStore(storeFlags(flags), async (store: Store) => {
        const entries = ids.length > 0 ? await store.listOutbox({ ids, limit: ids.length }) : await store.listOutbox({ status: 'dead', limit: 10_000 });
        const again = requeued(entries.filter((e) => e.status !== 'delivered'), Date.now());
        await store.putOutbox(again);
        return again.map((e) => e.id);
      });
    }
    const missing = ids.filter((id) => !done.includes(id));
    io.out(`requeued ${done.length} deliveries${done.length ? `: ${done.join(', ')}` : ''}\n`);
    if (missing.length > 0) io.out(`not requeued (unknown or already delivered): ${missing.join(', ')}\n`);
    setExit(0);
  });

  const silences = program.command('silences').description('Silences: matching alerts change state but send nothing for a while.');
  withBackend(
    silences
      .command('add')
      .description('Silence alerts whose labels match every --match (glob on the value), for --duration.')
      .requiredOption('--match <label=pattern>', 'a matcher (repeatable): alertname, model, feature, method, severity, a segment key', parseMatcher)
      .requiredOption('--duration <d>', 'how long, e.g. 2h')
      .option('--comment <text>', 'why', '')
      .option('--by <name>', 'who', process.env['DRIFTWATCH_USER'] ?? process.env['USER'] ?? 'cli'),
  ).action(async (flags: Remote & { match: Array<{ label: string; pattern: string }>; duration: string; comment: string; by: string }) => {
    const body = { matchers: flags.match, duration: flags.duration, comment: flags.comment, created_by: flags.by };
    let silence: Silence;
    if (flags.url) silence = await api<Silence>(flags.url, 'POST', '/v1/silences', body);
    else {
      try {
        silence = silenceFrom(body, Date.now());
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      await withStore(storeFlags(flags), (store) => store.putSilences([silence]));
    }
    io.out(silenceLine(silence, Date.now()));
    setExit(0);
  });
  withBackend(silences.command('list').description('Silences in force (--all: expired ones too), newest first.').option('--all', 'include expired')).action(
    async (flags: Remote & { all?: boolean }) => {
      const list = flags.url
        ? (await api<{ silences: Silence[] }>(flags.url, 'GET', `/v1/silences${flags.all ? '?all=true' : ''}`)).silences
        : await withStore(storeFlags(flags), (store) => store.listSilences(flags.all ? {} : { activeAt: Date.now() }));
      if (list.length === 0) io.out('no silences\n');
      for (const s of list) io.out(silenceLine(s, Date.now()));
      setExit(0);
    },
  );
  withBackend(silences.command('expire').description('End a silence now.').argument('<id>')).action(async (id: string, flags: Remote) => {
    let s: Silence;
    if (flags.url) s = await api<Silence>(flags.url, 'DELETE', `/v1/silences/${encodeURIComponent(id)}`);
    else {
      s = await withStore(storeFlags(flags), async (store) => {
        const found = (await store.listSilences()).find((x) => x.id === id);
        if (!found) throw new UsageError(`no silence ${id}`);
        const now = Date.now();
        const expired = { ...found, endsAt: Math.min(found.endsAt, now), startsAt: Math.min(found.startsAt, now) };
        await store.putSilences([expired]);
        return expired;
      });
    }
    io.out(silenceLine(s, Date.now()));
    setExit(0);
  });

  const alerts = program.command('alerts').description('Alert state changes.');
  withBackend(
    alerts
      .command('history')
      .description('Alert transitions (pending, firing, resolved), newest first.')
      .option('--model <name>')
      .option('--rule <name>')
      .option('--limit <n>', 'at most this many', limitValue, 50),
  ).action(async (flags: Remote & { model?: string; rule?: string; limit: number }) => {
    const q = { ...(flags.model ? { model: flags.model } : {}), ...(flags.rule ? { rule: flags.rule } : {}), limit: flags.limit };
    const list = flags.url
      ? (await api<{ transitions: Array<{ at: number; rule: string; model: string; from: string; to: string; labels: Record<string, string>; value: number | null; suppressed: string }> }>(
          flags.url,
          'GET',
          `/v1/alerts/history?${new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString()}`,
        )).transitions
      : await withStore(storeFlags(flags), (store) => store.listAlertHistory(q));
    if (list.length === 0) io.out('no alert history\n');
    for (const t of list) {
      const feature = t.labels['feature'] ? ` ${t.labels['feature']}` : '';
      const value = t.value === null ? '' : ` value ${Number(t.value.toPrecision(4))}`;
      io.out(`${new Date(t.at).toISOString()}  ${t.rule} ${t.model}${feature}: ${t.from} -> ${t.to}${value}${t.suppressed ? ` (${t.suppressed})` : ''}\n`);
    }
    setExit(0);
  });
}
