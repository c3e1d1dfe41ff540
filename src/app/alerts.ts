/**
 * Alerting in the running service: the rule files (loaded at start, reloaded when a file changes or on SIGHUP; an
 * invalid new version is reported and the rules in force stay), the silences in force, the rule engine on the
 * pipeline's report path, and the outbox dispatcher with one sender per action.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { resolve } from 'node:path';
import { createSender, type Sender } from '../actions/index.js';
import { isConfigError } from '../config/errors.js';
import { loadRuleSet, missingSecrets } from '../config/rules-file.js';
import type { AlertsConfig } from '../config/types.js';
import type { DriftEvent } from '../core/drift-event.js';
import type { Store } from '../core/store.js';
import { Alerting, type AlertingEvent } from '../pipeline/alerting.js';
import type { RuleSet, Silence } from '../rules/types.js';
import { Dispatcher, type DispatchEvent } from './dispatcher.js';
import { reportPath } from './report-page.js';

export interface AlertRuntimeOptions {
  readonly config: AlertsConfig;
  readonly store: Store;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly log: (line: string) => void;
  /** Base URL of report links when `config.publicUrl` is not set (the HTTP API's address, once known). */
  readonly baseUrl: () => string;
  readonly onAlert?: (event: AlertingEvent) => void;
  readonly onDelivery?: (event: DispatchEvent) => void;
  /** How often silences are re-read from the store (ms). */
  readonly silencePollMs?: number;
  /** Watch the rules directory for changes (default true). */
  readonly watch?: boolean;
  readonly dispatcherPollMs?: number;
}

export interface AlertRuntime {
  readonly alerting: Alerting;
  readonly dispatcher: Dispatcher;
  readonly rulesDir: string;
  rules(): RuleSet;
  /** Reads the rule files again; on any problem the rules in force stay and the problems are returned. */
  reload(reason: string): Promise<{ readonly ok: boolean; readonly problems: ReadonlyArray<string> }>;
  /** Re-reads the silences (after one is created or expired). */
  refreshSilences(): Promise<void>;
  silences(): ReadonlyArray<Silence>;
  stop(): Promise<void>;
}

/** The rules directory in force: the configured one, else `./rules` when it exists; null when there is none. */
export function rulesDirectory(config: AlertsConfig, cwd: string): string | null {
  if (!config.enabled) return null;
  if (config.rulesDir !== null) return config.rulesDir;
  const local = resolve(cwd, 'rules');
  return existsSync(local) ? local : null;
}

/** Link to a window's report. */
export function reportLink(base: string, e: DriftEvent): string {
  const key = { model: e.model, segment: e.segment, start: Date.parse(e.window.start), end: Date.parse(e.window.end) };
  return `${base}${reportPath(e.window.count_id !== undefined ? { ...key, countId: e.window.count_id } : key)}`;
}

/** Starts alerting, or returns null when there is no rules directory (alerting off). Throws ConfigError for bad rules. */
export async function startAlerts(o: AlertRuntimeOptions): Promise<AlertRuntime | null> {
  const dir = rulesDirectory(o.config, o.cwd);
  if (dir === null) return null;
  let ruleSet = await loadRuleSet(dir, o.env);
  let senders = buildSenders(ruleSet, o);
  warnSecrets(ruleSet, o);
  let silences: Silence[] = await o.store.listSilences({ activeAt: Date.now() });

  const dispatcher = new Dispatcher({
    store: o.store,
    senders: () => senders,
    policy: o.config.delivery,
    minIntervalMs: (action) => {
      const def = ruleSet.actions.get(action);
      return def?.kind === 'slack' ? def.minIntervalMs : 0;
    },
    pollMs: o.dispatcherPollMs ?? 1000,
    ...(o.onDelivery ? { onEvent: o.onDelivery } : {}),
    onError: (e) => o.log(`alerts: delivery round failed: ${e.message}\n`),
  });
  const alerting = await Alerting.open({
    store: o.store,
    rules: () => ruleSet,
    silences: () => silences,
    reportUrl: (e) => reportLink(o.config.publicUrl ?? o.baseUrl(), e),
    ...(o.onAlert ? { onEvent: o.onAlert } : {}),
    onQueued: () => dispatcher.wake(),
  });
  dispatcher.start();
  o.log(`alerts: ${ruleSet.rules.length} rules, ${ruleSet.actions.size} actions from ${dir}\n`);

  let reloading: Promise<{ ok: boolean; problems: string[] }> | null = null;
  const reload = (reason: string): Promise<{ ok: boolean; problems: string[] }> => {
    reloading ??= (async () => {
      try {
        const next = await loadRuleSet(dir, o.env);
        ruleSet = next;
        senders = buildSenders(next, o);
        warnSecrets(next, o);
        o.log(`alerts: rules reloaded (${reason}): ${next.rules.length} rules, ${next.actions.size} actions\n`);
        return { ok: true, problems: [] };
      } catch (e) {
        const problems = isConfigError(e) ? e.message.split('\n') : [(e as Error).message];
        o.log(`alerts: rules not reloaded (${reason}); the previous rules stay in force:\n${problems.map((p) => `  ${p}\n`).join('')}`);
        return { ok: false, problems };
      } finally {
        reloading = null;
      }
    })();
    return reloading;
  };

  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  if (o.watch ?? true) {
    try {
      watcher = watch(dir, { persistent: false }, (_type, file) => {
        if (file !== null && !/\.ya?ml$/i.test(String(file))) return;
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(() => void reload('file change'), 300);
        debounce.unref();
      });
      watcher.on('error', () => undefined);
    } catch {
      watcher = null;
    }
  }
  const onHup = (): void => void reload('SIGHUP');
  process.on('SIGHUP', onHup);

  const refreshSilences = async (): Promise<void> => {
    silences = await o.store.listSilences({ activeAt: Date.now() });
  };
  const silenceTimer = setInterval(() => {
    refreshSilences().catch((e: unknown) => o.log(`alerts: silences could not be read: ${(e as Error).message}\n`));
  }, o.silencePollMs ?? 5000);
  silenceTimer.unref();

  return {
    alerting,
    dispatcher,
    rulesDir: dir,
    rules: () => ruleSet,
    reload,
    refreshSilences,
    silences: () => silences,
    async stop() {
      clearInterval(silenceTimer);
      if (debounce) clearTimeout(debounce);
      watcher?.close();
      process.off('SIGHUP', onHup);
      await dispatcher.stop();
    },
  };
}

function buildSenders(set: RuleSet, o: AlertRuntimeOptions): Map<string, Sender> {
  const out = new Map<string, Sender>();
  for (const [name, def] of set.actions) out.set(name, createSender(def, o.env, { timeoutMs: o.config.delivery.timeoutMs }));
  return out;
}

function warnSecrets(set: RuleSet, o: AlertRuntimeOptions): void {
  for (const m of missingSecrets(set, o.env)) {
    o.log(`alerts: ${m.location}: action ${m.action}: env ${m.variable} is not set; its deliveries will fail until it is\n`);
  }
}
