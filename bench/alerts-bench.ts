/**
 * Alerting costs, each next to a named baseline in the same run:
 *
 * 1. The rule engine: the shipped rules plus `--rules` generated feature rules evaluated over `--events` drift
 *    events of a 20-feature model whose scores wander around the thresholds (alerts pending, firing, resolving),
 *    against serialising the same events to JSON (what publishing a drift event already costs per window).
 * 2. Deliveries: `--deliveries` signed webhooks through the outbox (embedded store) and the dispatcher to a local
 *    receiver, against a bare loop that signs and POSTs the same bodies to the same receiver with fetch.
 *
 *   npm run bench:alerts            # after a build: node dist/bench/alerts-bench.js [--events N] [--rules N] [--deliveries N]
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSender } from '../src/actions/index.js';
import { Dispatcher } from '../src/app/dispatcher.js';
import { loadRuleSet } from '../src/config/rules-file.js';
import type { DriftEvent } from '../src/core/drift-event.js';
import { outboxEntry } from '../src/pipeline/alerting.js';
import { createEngineState, evaluateEvent } from '../src/rules/engine.js';
import type { Notification, Rule, RuleSet } from '../src/rules/types.js';
import { openStore, storeConfigFromEnv } from '../src/store/index.js';
import { mulberry32 } from './seeded-random.js';
import { fmtNum, median, positiveInt } from './common.js';
import { machineLine } from './machine.js';

const args = parseArgs({ options: { events: { type: 'string' }, rules: { type: 'string' }, deliveries: { type: 'string' }, repeats: { type: 'string' } } }).values;
const EVENTS = positiveInt('events', args.events ?? '20000');
const EXTRA_RULES = positiveInt('rules', args.rules ?? '50');
const DELIVERIES = positiveInt('deliveries', args.deliveries ?? '300');
const REPEATS = positiveInt('repeats', args.repeats ?? '3');

const FEATURES = Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`);
const T0 = Date.UTC(2026, 10, 1);
const WINDOW = 60_000;

function events(n: number): DriftEvent[] {
  const rnd = mulberry32(17);
  const out: DriftEvent[] = [];
  for (let i = 0; i < n; i++) {
    const features = FEATURES.map((feature) => {
      const score = 0.05 + 0.1 * rnd() + (Math.sin(i / 50 + feature.length) > 0.6 ? 0.05 : 0);
      return { feature, method: 'wasserstein', score, statistic: score, threshold: 0.1, drifted: score >= 0.1, status: 'ok' };
    });
    const drifted = features.filter((f) => f.drifted).length;
    out.push({
      schema: 'driftwatch.drift-event/v1',
      id: `de-${i}`,
      model: 'press-qa',
      model_version: 'v1',
      segment: { lot_id: `L-${2000 + Math.floor(i / 30)}` },
      window: { start: new Date(T0 + i * WINDOW).toISOString(), end: new Date(T0 + (i + 1) * WINDOW).toISOString(), count: 1000, version: 1, cause: 'watermark' },
      reference_id: 'ref-1',
      dataset: { tested: 20, drifted, share: drifted / 20, drift_share: 0.5, drifted_flag: drifted >= 10 },
      features,
      outliers: [{ method: 'iqr', outliers: 3, scored: 1000, share: 0.003 }],
      quality_failed: [],
      computed_at: new Date(T0 + (i + 1) * WINDOW).toISOString(),
    });
  }
  return out;
}

function withExtraRules(base: RuleSet, n: number): RuleSet {
  const template = base.rules.find((r) => r.name === 'key-feature-drift')!;
  const extra: Rule[] = Array.from({ length: n }, (_, i) => ({
    ...template,
    name: `generated-${i}`,
    match: { ...template.match, features: [FEATURES[i % FEATURES.length]!] },
    condition: { kind: 'feature_score', threshold: { op: 'above', value: 0.1 + (i % 5) * 0.005, clear: 0.09 } },
    for: { k: 2, m: 3 },
    cooldownMs: 30 * WINDOW,
  }));
  return { ...base, rules: [...base.rules, ...extra] };
}

function engineRun(rules: RuleSet, list: DriftEvent[]): { ms: number; notifications: number; transitions: number } {
  const state = createEngineState();
  const started = performance.now();
  let notifications = 0;
  let transitions = 0;
  for (const e of list) {
    const r = evaluateEvent(state, rules, e, { now: T0, silences: [], reportUrl: (x) => `http://127.0.0.1:8080/v1/reports/${x.model}` });
    notifications += r.notifications.length;
    transitions += r.transitions.length;
  }
  return { ms: performance.now() - started, notifications, transitions };
}

function jsonRun(list: DriftEvent[]): number {
  const started = performance.now();
  let bytes = 0;
  for (const e of list) bytes += JSON.stringify(e).length;
  if (bytes === 0) throw new Error('nothing serialised');
  return performance.now() - started;
}

async function deliveries(): Promise<{ outbox: number; bare: number; received: number }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/hook`;
  const secret = randomBytes(24);
  const env = { BENCH_SECRET: `whsec_${secret.toString('base64')}` };
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-alerts-bench-'));
  const store = await openStore(storeConfigFromEnv({ CLICKHOUSE_URL: '' }, { dataDir: dir }));
  try {
    const notes: Notification[] = Array.from({ length: DELIVERIES }, (_, i) => ({
      id: `n-${String(i).padStart(6, '0')}`,
      action: 'hook',
      kind: 'webhook',
      rule: 'key-feature-drift',
      model: 'press-qa',
      modelVersion: 'v1',
      segment: { lot_id: 'L-2002' },
      severity: 'critical',
      status: 'firing',
      window: { start: T0 + i * WINDOW, end: T0 + (i + 1) * WINDOW, count: 1000 },
      eventId: `de-${i}`,
      referenceId: 'ref-1',
      reportUrl: 'http://127.0.0.1:8080/v1/reports/press-qa',
      groupKey: 'key-feature-drift/press-qa/lot_id=L-2002',
      alerts: [],
      params: {},
      createdAt: T0,
    }));

    // Baseline: sign and POST each body in turn.
    const bareStart = performance.now();
    for (const n of notes) {
      const body = JSON.stringify(n);
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', secret).update(`${n.id}.${ts}.${body}`).digest('base64');
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': n.id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` } });
      await res.text();
    }
    const bare = performance.now() - bareStart;

    // driftwatch: stored in the outbox, then delivered by the dispatcher (each outcome written back to the store).
    const sender = createSender({ kind: 'webhook', name: 'hook', location: 'bench', url, secretEnv: ['BENCH_SECRET'], headers: {} }, env);
    await store.putOutbox(notes.map((n, i) => outboxEntry(n, Date.now() + i)));
    const dispatcher = new Dispatcher({
      store,
      senders: () => new Map([['hook', sender]]),
      policy: { maxAttempts: 3, maxAgeMs: 3_600_000, baseDelayMs: 100, maxDelayMs: 1000 },
      batch: DELIVERIES,
    });
    const outboxStart = performance.now();
    for (let round = 0; round < 50; round++) {
      if ((await dispatcher.runOnce()) === 0) break;
    }
    const outbox = performance.now() - outboxStart;
    const pending = await store.listOutbox({ status: 'pending', limit: 1 });
    if (pending.length > 0) throw new Error('deliveries left pending');
    await dispatcher.stop();
    return { outbox, bare, received };
  } finally {
    await store.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(machineLine(loadavg()[0] ?? 0));
  const shipped = await loadRuleSet(join(process.cwd(), 'rules'), {});
  const rules = withExtraRules(shipped, EXTRA_RULES);
  const list = events(EVENTS);
  const engineRuns: number[] = [];
  const jsonRuns: number[] = [];
  let last = { ms: 0, notifications: 0, transitions: 0 };
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < REPEATS; i++) {
    last = engineRun(rules, list);
    engineRuns.push(last.ms);
    jsonRuns.push(jsonRun(list));
  }
  const heapAfter = process.memoryUsage().heapUsed;
  const e = median(engineRuns);
  const j = median(jsonRuns);
  console.log(`\nRule engine: ${rules.rules.length} rules (${shipped.rules.length} shipped + ${EXTRA_RULES} generated), ${EVENTS} events of 20 features; median of ${REPEATS}`);
  console.log(`| side | events/s | µs per event |`);
  console.log(`|---|---|---|`);
  console.log(`| driftwatch rule engine | ${fmtNum((EVENTS / e) * 1000)} | ${fmtNum((e * 1000) / EVENTS)} |`);
  console.log(`| baseline: JSON.stringify of the event | ${fmtNum((EVENTS / j) * 1000)} | ${fmtNum((j * 1000) / EVENTS)} |`);
  console.log(`(${last.transitions} transitions and ${last.notifications} notifications per run; heap ${fmtNum((heapAfter - heapBefore) / 1e6)} MB after the runs)`);

  const d = await deliveries();
  console.log(`\nDeliveries: ${DELIVERIES} signed webhooks to a local receiver (${d.received} requests received)`);
  console.log(`| side | deliveries/s | ms per delivery |`);
  console.log(`|---|---|---|`);
  console.log(`| driftwatch outbox + dispatcher (embedded store) | ${fmtNum((DELIVERIES / d.outbox) * 1000)} | ${fmtNum(d.outbox / DELIVERIES)} |`);
  console.log(`| baseline: bare signed fetch loop | ${fmtNum((DELIVERIES / d.bare) * 1000)} | ${fmtNum(d.bare / DELIVERIES)} |`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
