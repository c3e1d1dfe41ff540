/**
 * The Grafana dashboards (`dashboards/*.json`), their provisioning and the Prometheus rules, checked against the
 * real thing:
 *
 * 1. Structure: every dashboard parses; panel ids are unique (panels nested in collapsed rows included), gridPos
 *    fits the 24-column grid without overlaps, every datasource is a `{type, uid}` provisioned in
 *    `provisioning/datasources/driftwatch.yaml`, every target has a PromQL `expr` or a SQL `rawSql`, every `$var`
 *    is a Grafana built-in or a template variable of the dashboard, every `/d/<uid>` link names a dashboard here.
 * 2. PromQL: every expression of the dashboards (panel targets and `label_values(...)` variable queries) and of
 *    `prometheus/alerts.yml` is evaluated through the HTTP API of a real Prometheus scraping driftwatch fed by the
 *    demo stream, and must return series.
 *    - Grafana's variables are replaced the way Grafana and its Prometheus datasource do: `$model` -> `press-qa`;
 *      built-ins `$__rate_interval` -> 1m, `$__interval` -> 15s, `$__range` -> 5m; a multi-value variable is tried
 *      both as "All" (its `allValue`, else the regex of every option) and as its first option, the options coming
 *      from the variable's own query.
 *    - Alert rules are mostly threshold comparisons that legitimately return nothing on a healthy demo, so a rule's
 *      full `expr` must evaluate without error and its left-hand side (the expression with the top-level comparison
 *      removed, for every operand of a top-level `and`/`or`/`unless`) must return series. Prometheus also loads the
 *      rule file: every rule evaluates healthy, and exactly `DatasetDrift` fires (the demo's last window drifted).
 *    - The demo model is a telemetry model (no predictions, no labels) and the demo source is not Kafka, so
 *      driftwatch exports no model-quality, error-share, late-record or consumer-lag series. To still check those
 *      panels' names and labels against the code, a second target (job `driftwatch-synthetic`) serves a
 *      `DriftwatchMetrics` registry fed one classification window, one late record and one partition's lag, and
 *      Prometheus keeps only those families from it (metric_relabel_configs).
 * 3. `promtool check rules` accepts `prometheus/alerts.yml` and `promtool check config` accepts
 *    `prometheus/prometheus.yml` as shipped (promtool does not resolve the `driftwatch:8080` target).
 * 4. SQL: every ClickHouse query (panel targets, annotations, variable queries), with the plugin's macros expanded
 *    the way grafana-clickhouse-datasource expands them for the last 6 hours (`$__timeFilter(c)` ->
 *    `c >= toDateTime(<from>) AND c <= toDateTime(<to>)`, `$__timeInterval(c)` ->
 *    `toStartOfInterval(toDateTime(c), INTERVAL 60 second)`, `$__conditionalAll(cond, $v)` -> `1=1` for "All" else
 *    `cond`; a single-value variable is inserted as is, a multi-value one as `'a','b'`) and `driftwatch.` replaced
 *    by the test database, runs on the service's store after the demo stream and returns rows. Tables are read
 *    qualified and with FINAL (every table of the store is a ReplacingMergeTree).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DriftwatchMetrics } from '../../src/metrics/metrics.js';
import { MIGRATIONS, type ClickHouseStore } from '../../src/store/index.js';
import { DemoStack, ROOT, sleep } from './helpers.js';

const DIR = join(ROOT, 'dashboards');
const MODEL = 'press-qa';

// ---------------------------------------------------------------------------------------------------------------
// The files.

/** Parsed dashboard JSON / YAML: loosely typed on purpose (the tests check its shape). */
type Json = Record<string, any>;

interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

const dashboards = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, json: JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Json }));

const provisionedDatasources = YAML.parse(readFileSync(join(DIR, 'provisioning', 'datasources', 'driftwatch.yaml'), 'utf8')) as Json;
const provisionedDashboards = YAML.parse(readFileSync(join(DIR, 'provisioning', 'dashboards', 'driftwatch.yaml'), 'utf8')) as Json;
const alertRules = YAML.parse(readFileSync(join(DIR, 'prometheus', 'alerts.yml'), 'utf8')) as Json;
const DATASOURCES = new Map<string, string>((provisionedDatasources.datasources as Json[]).map((d) => [d.uid as string, d.type as string]));
const PROMETHEUS = 'prometheus';
const CLICKHOUSE = 'grafana-clickhouse-datasource';

/** Every panel, those nested in (collapsed) rows included. */
function allPanels(d: Json): Json[] {
  const out: Json[] = [];
  for (const p of (d.panels ?? []) as Json[]) {
    out.push(p);
    for (const q of (p.panels ?? []) as Json[]) out.push(q);
  }
  return out;
}

interface Variable {
  readonly name: string;
  readonly datasource: DatasourceRef;
  readonly multi: boolean;
  readonly includeAll: boolean;
  readonly allValue?: string;
  /** The PromQL variable query, or the SQL. */
  readonly query: string;
}

function variablesOf(d: Json): Variable[] {
  return ((d.templating?.list ?? []) as Json[]).map((v) => ({
    name: v.name,
    datasource: v.datasource,
    multi: !!v.multi,
    includeAll: !!v.includeAll,
    ...(v.allValue ? { allValue: v.allValue as string } : {}),
    query: typeof v.query === 'string' ? v.query : ((v.query?.query ?? v.query?.rawSql ?? '') as string),
  }));
}

/** A query of a dashboard: a panel target, an annotation or a variable query. */
interface Query {
  readonly dashboard: string;
  readonly where: string;
  readonly kind: 'panel' | 'annotation' | 'variable';
  readonly datasource: DatasourceRef;
  readonly text: string;
  readonly target: Json;
}

function queriesOf(file: string, d: Json): Query[] {
  const out: Query[] = [];
  for (const p of allPanels(d)) {
    if (p.type === 'row') continue;
    for (const t of (p.targets ?? []) as Json[]) {
      const ds = (t.datasource ?? p.datasource) as DatasourceRef;
      out.push({ dashboard: file, where: `${file} panel ${p.id} "${p.title}" ${t.refId}`, kind: 'panel', datasource: ds, text: t.expr ?? t.rawSql ?? '', target: t });
    }
  }
  for (const a of (d.annotations?.list ?? []) as Json[]) {
    if (a.builtIn) continue;
    const t = (a.target ?? {}) as Json;
    out.push({ dashboard: file, where: `${file} annotation "${a.name}"`, kind: 'annotation', datasource: a.datasource, text: t.expr ?? t.rawSql ?? '', target: t });
  }
  for (const v of variablesOf(d)) {
    out.push({ dashboard: file, where: `${file} variable $${v.name}`, kind: 'variable', datasource: v.datasource, text: v.query, target: {} });
  }
  return out;
}

const QUERIES = dashboards.flatMap(({ file, json }) => queriesOf(file, json));
const PROM_QUERIES = QUERIES.filter((q) => q.datasource?.type === PROMETHEUS);
const SQL_QUERIES = QUERIES.filter((q) => q.datasource?.type === CLICKHOUSE);

/** `$name` and `${name}` / `${name:format}` references in a text. */
function variableRefs(text: string): string[] {
  return [...text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)].map((m) => (m[1] ?? m[2])!);
}

// ---------------------------------------------------------------------------------------------------------------
// Grafana's interpolation.

interface Scenario {
  readonly label: string;
  /** Variable name -> the selected values ('$__all' for All). */
  readonly values: ReadonlyMap<string, string | readonly string[]>;
}

const PROM_BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

const escapeRegex = (s: string) => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');

/** The Prometheus datasource's interpolation: regex-escaped for multi/All variables, `(a|b)` for several values. */
function interpolatePromQL(expr: string, variables: ReadonlyArray<Variable>, options: ReadonlyMap<string, readonly string[]>, scenario: Scenario): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    if (name in PROM_BUILTINS) return PROM_BUILTINS[name]!;
    const v = variables.find((x) => x.name === name);
    if (!v) return whole;
    const selected = scenario.values.get(name);
    if (!v.multi && !v.includeAll) return String(selected).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const list = selected === '$__all' || (Array.isArray(selected) && selected[0] === '$__all') ? null : ([] as string[]).concat(selected as string | string[]);
    if (list === null) return v.allValue ?? `(${(options.get(name) ?? []).map(escapeRegex).join('|')})`;
    return list.length === 1 ? escapeRegex(list[0]!) : `(${list.map(escapeRegex).join('|')})`;
  });
}

/** Splits at top-level occurrences of the given pattern (outside (), {}, [] and quotes). */
function splitTopLevel(expr: string, pattern: RegExp): { parts: string[]; ops: string[] } {
  const parts: string[] = [];
  const ops: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (depth === 0) {
      const m = pattern.exec(expr.slice(i));
      if (m && m.index === 0) {
        parts.push(expr.slice(start, i));
        ops.push(m[0]);
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(expr.slice(start));
  return { parts, ops };
}

/**
 * The left-hand sides of a rule expression: each operand of a top-level `and`/`or`/`unless`, with its top-level
 * comparison (`> 0.05`, `== 1`, `> bool 3` ...) removed. An operand without a comparison is kept whole.
 */
function leftHandSides(expr: string): string[] {
  const operands = splitTopLevel(expr, /^\s(and|or|unless)\s/).parts;
  return operands.map((o) => splitTopLevel(o, /^(==|!=|>=|<=|>|<)/).parts[0]!.trim());
}

interface SqlContext {
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly intervalSeconds: number;
  readonly database: string;
}

/** The arguments of the macro call whose `(` is at `open`, split at top-level commas, and the index after `)`. */
function macroArgs(text: string, open: number): { args: string[]; end: number } {
  let depth = 0;
  let quote: string | null = null;
  let start = open + 1;
  const args: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return { args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error(`unbalanced macro call at ${open}: ${text.slice(open, open + 60)}`);
}

const isAll = (v: string | readonly string[] | undefined) => v === '$__all' || (Array.isArray(v) && v.includes('$__all'));

/**
 * What grafana-clickhouse-datasource sends for a target: `$__conditionalAll` resolved (frontend), the variables
 * replaced (frontend: a multi-value variable as `'a','b'`, a single value as is), then the macros expanded
 * (backend, pkg/macros) — and, for the test, `driftwatch.` replaced by the test database.
 */
function interpolateSql(raw: string, variables: ReadonlyArray<Variable>, options: ReadonlyMap<string, readonly string[]>, scenario: Scenario, c: SqlContext): string {
  let sql = raw;
  // $__conditionalAll(condition, $var): `1=1` when the variable is All (or empty).
  for (let at = sql.lastIndexOf('$__conditionalAll('); at !== -1; at = sql.lastIndexOf('$__conditionalAll(')) {
    const { args, end } = macroArgs(sql, at + '$__conditionalAll'.length);
    if (args.length !== 2) throw new Error(`$__conditionalAll takes 2 arguments: ${sql.slice(at, end)}`);
    const name = variableRefs(args[1]!)[0]!;
    sql = sql.slice(0, at) + (isAll(scenario.values.get(name)) ? '1=1' : args[0]!) + sql.slice(end);
  }
  sql = sql.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const v = variables.find((x) => x.name === name);
    if (!v) return whole;
    const selected = scenario.values.get(name);
    if (!v.multi && !v.includeAll) return String(selected);
    const list = isAll(selected) ? (options.get(name) ?? []) : ([] as string[]).concat(selected as string | string[]);
    return `'${list.join("','")}'`;
  });
  const dt = (s: number) => `toDateTime(${s})`;
  const macros: Record<string, (args: string[]) => string> = {
    timeFilter: ([col]) => `${col} >= ${dt(c.fromSeconds)} AND ${col} <= ${dt(c.toSeconds)}`,
    timeFilter_ms: ([col]) => `${col} >= fromUnixTimestamp64Milli(${c.fromSeconds * 1000}) AND ${col} <= fromUnixTimestamp64Milli(${c.toSeconds * 1000})`,
    timeInterval: ([col]) => `toStartOfInterval(toDateTime(${col}), INTERVAL ${c.intervalSeconds} second)`,
    timeInterval_ms: ([col]) => `toStartOfInterval(toDateTime64(${col}, 3), INTERVAL ${c.intervalSeconds * 1000} millisecond)`,
    fromTime: () => dt(c.fromSeconds),
    toTime: () => dt(c.toSeconds),
    fromTime_ms: () => `fromUnixTimestamp64Milli(${c.fromSeconds * 1000})`,
    toTime_ms: () => `fromUnixTimestamp64Milli(${c.toSeconds * 1000})`,
    interval_s: () => String(c.intervalSeconds),
  };
  for (;;) {
    const m = /\$__(\w+)/.exec(sql);
    if (!m) break;
    const fn = macros[m[1]!];
    if (!fn) throw new Error(`unknown macro $__${m[1]} in: ${raw}`);
    const after = m.index + m[0].length;
    if (sql[after] === '(') {
      const { args, end } = macroArgs(sql, after);
      sql = sql.slice(0, m.index) + fn(args.map((x) => x.trim())) + sql.slice(end);
    } else {
      sql = sql.slice(0, m.index) + fn([]) + sql.slice(after);
    }
  }
  return sql.replace(/\bdriftwatch\.(?=\w)/g, `${c.database}.`);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Structure (no services needed).

describe('dashboard files', () => {
  it('there are the four dashboards, with distinct uids', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['alerts.json', 'model.json', 'overview.json', 'pipeline.json']);
    const uids = dashboards.map((d) => d.json.uid as string);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.sort()).toEqual(['driftwatch-alerts', 'driftwatch-model', 'driftwatch-overview', 'driftwatch-pipeline']);
  });

  for (const { file, json } of dashboards) {
    describe(file, () => {
      it('has a uid, a title, schemaVersion 39 and the driftwatch tag', () => {
        expect(json.uid).toMatch(/^[a-z0-9-]{1,40}$/);
        expect(json.title).toMatch(/^driftwatch \/ /);
        expect(json.schemaVersion).toBe(39);
        expect(json.tags).toContain('driftwatch');
        expect(json.id ?? null).toBeNull();
      });

      it('has unique panel ids, nested panels included', () => {
        const ids = allPanels(json).map((p) => p.id as number);
        expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
        expect(ids.length - new Set(ids).size).toBe(0);
      });

      it('has a valid gridPos on every panel, and no two panels overlap', () => {
        const check = (panels: Json[]) => {
          const boxes: Array<{ id: number; x: number; y: number; w: number; h: number }> = [];
          for (const p of panels) {
            const g = p.gridPos as Json;
            const where = `panel ${p.id} "${p.title}"`;
            for (const k of ['x', 'y', 'w', 'h']) expect(Number.isInteger(g?.[k]), `${where}: gridPos.${k}`).toBe(true);
            expect(g.x >= 0 && g.y >= 0 && g.w >= 1 && g.h >= 1, `${where}: ${JSON.stringify(g)}`).toBe(true);
            expect(g.x + g.w, `${where}: x + w`).toBeLessThanOrEqual(24);
            for (const b of boxes) {
              const overlap = g.x < b.x + b.w && b.x < g.x + g.w && g.y < b.y + b.h && b.y < g.y + g.h;
              expect(overlap, `${where} overlaps panel ${b.id}`).toBe(false);
            }
            boxes.push({ id: p.id, ...(g as { x: number; y: number; w: number; h: number }) });
          }
        };
        check(json.panels as Json[]);
        // A collapsed row's panels are laid out below it as if it were open.
        for (const row of (json.panels as Json[]).filter((p) => p.type === 'row' && p.collapsed)) check(row.panels as Json[]);
        for (const row of (json.panels as Json[]).filter((p) => p.type === 'row' && !p.collapsed)) expect(row.panels ?? []).toEqual([]);
      });

      it('uses only provisioned datasources, as {type, uid}', () => {
        const refs: Array<[string, unknown]> = [];
        for (const p of allPanels(json)) {
          if (p.type === 'row') continue;
          refs.push([`panel ${p.id}`, p.datasource]);
          for (const t of (p.targets ?? []) as Json[]) refs.push([`panel ${p.id} target ${t.refId}`, t.datasource ?? p.datasource]);
        }
        for (const a of (json.annotations?.list ?? []) as Json[]) refs.push([`annotation ${a.name}`, a.datasource]);
        for (const v of (json.templating?.list ?? []) as Json[]) if (v.type === 'query') refs.push([`variable ${v.name}`, v.datasource]);
        expect(refs.length).toBeGreaterThan(0);
        for (const [where, ref] of refs) {
          const r = ref as DatasourceRef;
          expect(typeof r === 'object' && r !== null && typeof r.uid === 'string' && typeof r.type === 'string', `${where}: ${JSON.stringify(ref)}`).toBe(true);
          expect(DATASOURCES.get(r.uid), `${where}: datasource uid ${r.uid} is not provisioned`).toBe(r.type);
        }
      });

      it('has targets with an expression on every panel', () => {
        for (const p of allPanels(json)) {
          if (p.type === 'row') continue;
          const targets = (p.targets ?? []) as Json[];
          expect(targets.length, `panel ${p.id} "${p.title}" has no target`).toBeGreaterThan(0);
          expect(new Set(targets.map((t) => t.refId)).size, `panel ${p.id}: refIds`).toBe(targets.length);
          for (const t of targets) {
            const type = (t.datasource ?? p.datasource).type as string;
            const text = type === PROMETHEUS ? t.expr : t.rawSql;
            expect(typeof text === 'string' && text.trim().length > 0, `panel ${p.id} "${p.title}" target ${t.refId}: no ${type === PROMETHEUS ? 'expr' : 'rawSql'}`).toBe(true);
            if (type === CLICKHOUSE) expect(t.editorType, `panel ${p.id}: SQL editor`).toBe('sql');
          }
        }
      });

      it('refers only to its own template variables and Grafana built-ins', () => {
        const names = new Set(variablesOf(json).map((v) => v.name));
        for (const q of queriesOf(file, json)) {
          for (const name of variableRefs(q.text)) {
            if (name.startsWith('__')) continue;
            expect(names.has(name), `${q.where}: $${name} is not a variable of ${file}`).toBe(true);
          }
        }
      });

      it('links only to dashboards that exist', () => {
        const uids = new Set(dashboards.map((d) => d.json.uid as string));
        for (const m of JSON.stringify(json).matchAll(/\/d\/([\w-]+)/g)) expect(uids.has(m[1]!), `link to /d/${m[1]}`).toBe(true);
      });
    });
  }

  it('reads the store with qualified table names and FINAL (every store table is a ReplacingMergeTree)', () => {
    const tables = new Set(MIGRATIONS.flatMap((m) => m.statements.map((s) => /CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)/.exec(s)?.[1]).filter((t): t is string => !!t)));
    const engines = MIGRATIONS.flatMap((m) => m.statements).filter((s) => s.startsWith('CREATE TABLE'));
    expect(engines.every((s) => s.includes('ReplacingMergeTree'))).toBe(true);
    expect(SQL_QUERIES.length).toBeGreaterThan(10);
    for (const q of SQL_QUERIES) {
      const reads = [...q.text.matchAll(/\b(?:FROM|JOIN)\s+([\w.]+)(\s+FINAL\b)?/gi)].filter((m) => m[1] !== '(');
      expect(reads.length, `${q.where}: reads no table`).toBeGreaterThan(0);
      for (const m of reads) {
        expect(m[1], `${q.where}`).toMatch(/^driftwatch\.\w+$/);
        expect(tables.has(m[1]!.slice('driftwatch.'.length)), `${q.where}: ${m[1]} is not a store table`).toBe(true);
        expect(m[2], `${q.where}: ${m[1]} without FINAL`).toBeTruthy();
      }
    }
  });
});

describe('provisioning', () => {
  it('provisions Prometheus and ClickHouse with the fixed uids', () => {
    expect(provisionedDatasources.apiVersion).toBe(1);
    const byUid = new Map((provisionedDatasources.datasources as Json[]).map((d) => [d.uid as string, d]));
    const prom = byUid.get('driftwatch-prometheus')!;
    expect(prom).toMatchObject({ type: PROMETHEUS, url: 'http://prometheus:9090', access: 'proxy' });
    const ch = byUid.get('driftwatch-clickhouse')!;
    expect(ch.type).toBe(CLICKHOUSE);
    expect(ch.jsonData).toMatchObject({ host: 'clickhouse', port: 8123, protocol: 'http', defaultDatabase: 'driftwatch' });
    // Every uid the dashboards use is provisioned, and every provisioned one is used.
    const used = new Set(QUERIES.map((q) => q.datasource.uid));
    expect([...used].sort()).toEqual([...byUid.keys()].sort());
  });

  it('loads the dashboards from a file provider', () => {
    expect(provisionedDashboards.apiVersion).toBe(1);
    const [provider] = provisionedDashboards.providers as Json[];
    expect(provider).toMatchObject({ type: 'file', options: { path: '/var/lib/grafana/dashboards' } });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. promtool.

describe('promtool', () => {
  it('check rules accepts prometheus/alerts.yml', () => {
    const r = spawnSync('promtool', ['check', 'rules', join(DIR, 'prometheus', 'alerts.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('check config accepts prometheus/prometheus.yml (and the rule file it names)', () => {
    const r = spawnSync('promtool', ['check', 'config', join(DIR, 'prometheus', 'prometheus.yml')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 1 rule files found');
    const config = YAML.parse(readFileSync(join(DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as Json;
    const job = (config.scrape_configs as Json[]).find((j) => j.job_name === 'driftwatch')!;
    expect(job.static_configs[0].targets).toEqual(['driftwatch:8080']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2 and 4. Against driftwatch fed by the demo stream, scraped by a real Prometheus.

/** The families the demo cannot produce, served by the synthetic target. */
const SYNTHETIC_FAMILIES = ['driftwatch_model_quality', 'driftwatch_model_quality_reference', 'driftwatch_error_status_share_ratio', 'driftwatch_late_records_total', 'driftwatch_consumer_lag_messages'];

let synthetic: Server | null = null;
let syntheticPort = 0;

async function startSynthetic(): Promise<void> {
  const m = new DriftwatchMetrics('kafka');
  m.onWindow({
    model: MODEL,
    cause: 'watermark',
    latencySeconds: 0.1,
    windowEndSeconds: Math.floor(Date.now() / 1000),
    evaluated: {
      driftShare: 0,
      datasetDrifted: false,
      features: [],
      outliers: [],
      quality: [],
      health: {
        errorShare: 0.02,
        metrics: [
          { metric: 'f1', value: 0.81, reference: 0.86 },
          { metric: 'accuracy', value: 0.9, reference: 0.92 },
        ],
      },
    },
  });
  m.onDeadLetter('late', MODEL);
  m.onLag('telemetry/0', 42);
  synthetic = createServer((req, res) => {
    void m.text().then((text) => {
      res.writeHead(200, { 'content-type': m.registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    synthetic!.once('error', reject);
    synthetic!.listen(0, '127.0.0.1', () => resolve());
  });
  syntheticPort = (synthetic.address() as { port: number }).port;
}

const stack = new DemoStack({
  prefix: 'driftwatch-dash-',
  ruleFiles: [join(DIR, 'prometheus', 'alerts.yml')],
  extraScrapeConfigs: () =>
    `  - job_name: driftwatch-synthetic\n    static_configs:\n      - targets: ["127.0.0.1:${syntheticPort}"]\n    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: "(${SYNTHETIC_FAMILIES.join('|')})"\n        action: keep\n`,
});

/** Options of every variable of every dashboard, from the variable's own query (model fixed to press-qa). */
const variableOptions = new Map<string, Map<string, string[]>>();

function scenariosOf(variables: ReadonlyArray<Variable>, options: ReadonlyMap<string, readonly string[]>, text: string): Scenario[] {
  const used = new Set(variableRefs(text));
  const base = new Map<string, string | readonly string[]>();
  for (const v of variables) {
    if (v.name === 'model') base.set(v.name, v.multi || v.includeAll ? ['$__all'] : MODEL);
    else base.set(v.name, v.multi || v.includeAll ? ['$__all'] : (options.get(v.name)?.[0] ?? ''));
  }
  const multi = variables.filter((v) => (v.multi || v.includeAll) && used.has(v.name));
  if (multi.length === 0) return [{ label: 'as is', values: base }];
  const first = new Map(base);
  for (const v of multi) first.set(v.name, [v.name === 'model' ? MODEL : options.get(v.name)![0]!]);
  return [
    { label: `All (${multi.map((v) => v.name).join(', ')})`, values: base },
    { label: `first option (${multi.map((v) => `${v.name}=${JSON.stringify(first.get(v.name))}`).join(', ')})`, values: first },
  ];
}

function sqlContext(): SqlContext {
  const now = Math.floor(Date.now() / 1000);
  return { fromSeconds: now - 6 * 3600, toSeconds: now + 300, intervalSeconds: 60, database: stack.database };
}

async function runSql(sql: string): Promise<Json[]> {
  const store = stack.service.store as unknown as ClickHouseStore;
  const rs = await store.client.query({ query: sql, format: 'JSONEachRow' });
  return (await rs.json()) as Json[];
}

/** `label_values(selector, label)` -> the selector and the label; `query_result(expr)` -> the expression. */
function promVariableQuery(q: string): { expr: string; label: string | null } {
  const lv = /^label_values\((.*),\s*(\w+)\s*\)$/s.exec(q.trim());
  if (lv) return { expr: lv[1]!, label: lv[2]! };
  const qr = /^query_result\((.*)\)$/s.exec(q.trim());
  if (qr) return { expr: qr[1]!, label: null };
  throw new Error(`unsupported Prometheus variable query: ${q}`);
}

describe('against driftwatch fed by the demo stream', () => {
  beforeAll(async () => {
    await startSynthetic();
    await stack.start();
    // The synthetic target too (bounded).
    const deadline = Date.now() + 30_000;
    while ((await stack.query('driftwatch_model_quality')).length === 0) {
      if (Date.now() > deadline) throw new Error(`prometheus did not scrape the synthetic target: ${stack.prometheusLog}`);
      await sleep(250);
    }
    // Variable options, in dashboard order (a variable may use the ones before it).
    for (const { file, json } of dashboards) {
      const variables = variablesOf(json);
      const options = new Map<string, string[]>();
      variableOptions.set(file, options);
      for (const v of variables) {
        const scenario: Scenario = { label: 'options', values: new Map(variables.map((x) => [x.name, x.name === 'model' ? (x.multi ? [MODEL] : MODEL) : ['$__all']])) };
        let values: string[];
        if (v.datasource.type === PROMETHEUS) {
          const { expr, label } = promVariableQuery(v.query);
          const series = await stack.query(interpolatePromQL(expr, variables, options, scenario));
          values = [...new Set(series.map((s) => (label ? s.metric[label] : s.value[1])!).filter((x) => x !== undefined))].sort();
        } else {
          const rows = await runSql(interpolateSql(v.query, variables, options, scenario, sqlContext()));
          values = rows.map((r) => String(Object.values(r)[0]));
        }
        options.set(v.name, values);
      }
    }
  }, 150_000);

  afterAll(async () => {
    await stack.close();
    await new Promise<void>((resolve) => (synthetic ? synthetic.close(() => resolve()) : resolve()));
  });

  it('every template variable has options; $model offers press-qa', () => {
    for (const [file, options] of variableOptions) {
      for (const [name, values] of options) expect(values.length, `${file} $${name}`).toBeGreaterThan(0);
      if (options.has('model')) expect(options.get('model'), file).toContain(MODEL);
    }
  });

  describe('every PromQL expression of the dashboards returns series', () => {
    for (const q of PROM_QUERIES) {
      it(`${q.where}: ${q.text.replace(/\s+/g, ' ').slice(0, 120)}`, async () => {
        const json = dashboards.find((d) => d.file === q.dashboard)!.json;
        const variables = variablesOf(json);
        const options = variableOptions.get(q.dashboard)!;
        const expr = q.kind === 'variable' ? promVariableQuery(q.text).expr : q.text;
        for (const scenario of scenariosOf(variables, options, expr)) {
          const concrete = interpolatePromQL(expr, variables, options, scenario);
          expect(concrete, `${scenario.label}: a variable is left`).not.toMatch(/\$/);
          const series = await stack.query(concrete);
          expect(series.length, `${scenario.label}: ${concrete} returned no series`).toBeGreaterThan(0);
        }
      });
    }
  });

  describe('every alert rule of prometheus/alerts.yml evaluates, and its left-hand side returns series', () => {
    const rules = (alertRules.groups as Json[]).flatMap((g) => g.rules as Json[]);
    it('has the expected rules', () => {
      expect(rules.map((r) => r.alert).sort()).toEqual(
        ['BackpressureSustained', 'DatasetDrift', 'DeliveriesFailing', 'DriftwatchDown', 'HighDeadLetterRate', 'OutboxBacklog', 'PipelineErrors', 'WindowLatencyHigh'].sort(),
      );
    });
    for (const rule of rules) {
      it(`${rule.alert}: ${String(rule.expr).replace(/\s+/g, ' ').slice(0, 120)}`, async () => {
        await stack.query(rule.expr as string); // no PromQL error
        const sides = leftHandSides(rule.expr as string);
        expect(sides.length).toBeGreaterThan(0);
        for (const side of sides) expect((await stack.query(side)).length, `${rule.alert}: ${side}`).toBeGreaterThan(0);
      });
    }

    it('Prometheus evaluates every rule without error; on the demo only DatasetDrift fires, for press-qa', async () => {
      interface RuleState {
        name: string;
        health: string;
        lastError?: string;
        lastEvaluation: string;
        alerts?: Array<{ labels: Record<string, string>; state: string }>;
      }
      const deadline = Date.now() + 30_000;
      let states: RuleState[] = [];
      for (;;) {
        const data = await stack.api<{ groups: Array<{ rules: RuleState[] }> }>('/api/v1/rules?type=alert');
        states = data.groups.flatMap((g) => g.rules);
        if (states.length === rules.length && states.every((r) => r.health !== 'unknown' && !r.lastEvaluation.startsWith('0001'))) break;
        if (Date.now() > deadline) throw new Error(`rules not evaluated in time: ${JSON.stringify(states)}`);
        await sleep(250);
      }
      for (const r of states) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
      const active = states.flatMap((r) => (r.alerts ?? []).map((a) => ({ name: r.name, model: a.labels['model'], state: a.state })));
      expect(active).toEqual([{ name: 'DatasetDrift', model: MODEL, state: 'firing' }]);
    });
  });

  describe('every ClickHouse query of the dashboards returns rows from the store', () => {
    for (const q of SQL_QUERIES) {
      it(q.where, async () => {
        const json = dashboards.find((d) => d.file === q.dashboard)!.json;
        const variables = variablesOf(json);
        const options = variableOptions.get(q.dashboard)!;
        for (const scenario of scenariosOf(variables, options, q.text)) {
          const concrete = interpolateSql(q.text, variables, options, scenario, sqlContext());
          expect(concrete, `${scenario.label}: a variable or macro is left`).not.toMatch(/\$/);
          const rows = await runSql(concrete).catch((e: Error) => {
            throw new Error(`${scenario.label}: ${e.message}\n${concrete}`);
          });
          expect(rows.length, `${scenario.label}: no rows\n${concrete}`).toBeGreaterThan(0);
          const columns = Object.keys(rows[0]!);
          if (q.target.queryType === 'timeseries') expect(columns[0], 'a time series starts with its time column').toBe('time');
          if (q.kind === 'annotation') expect(columns).toEqual(expect.arrayContaining(['time', 'text']));
        }
      });
    }
  });
});
