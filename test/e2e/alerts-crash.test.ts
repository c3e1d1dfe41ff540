/**
 * A crash in the middle of a delivery: driftwatch is killed while an Airflow trigger is in flight and restarted; the
 * trigger is sent again with the same idempotency key, and the Airflow-like API records exactly one run for it.
 *
 * 1. A receiver (test/e2e/alert-receiver.ts) stands in for Slack, a Standard Webhooks consumer and the Airflow 2 API.
 *    The first Airflow trigger it gets creates the run and is then never answered: the effect happened, the answer
 *    is lost.
 * 2. `driftwatch demo --no-receivers --data-dir D --rate 0` (the built binary, the shipped rules/) streams the demo
 *    data; its alerts queue notifications in the outbox of D and its dispatcher delivers them to the receiver. When
 *    the Airflow trigger hangs, the demo is killed with SIGKILL.
 * 3. `driftwatch run --data-dir D` (HTTP API on a free port, the rules/ folder of the working directory) picks up the
 *    rows still pending and sends them again, with the same ids; the Airflow stand-in answers 409 to the repeated
 *    trigger, which counts as delivered. Once nothing is pending the run is stopped (SIGTERM).
 * 4. The receiver saw the trigger twice with one dag_run_id and recorded one run; every webhook verified and each
 *    webhook notification arrived under its own id (repeats only with the same id); the outbox has every row
 *    delivered.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/core/store.js';
import { airflowRunId } from '../../src/actions/airflow.js';
import { startAlertReceiver, type AlertReceiver } from './alert-receiver.js';
import { childEnv, waitFor, within } from './helpers.js';

const ROOT = process.cwd();
const CLI = join(ROOT, 'dist/src/cli/main.js');


interface Child {
  readonly proc: ChildProcess;
  readonly name: string;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Child[] = [];
const receivers: AlertReceiver[] = [];
const tmpDirs: string[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', () => resolve({ code: null, signal: null }));
  });
  const child: Child = { proc, name, stdout: '', stderr: '', exited };
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (child.stdout += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (child.stderr += s));
  children.push(child);
  return child;
}

const running = (c: Child): boolean => c.proc.exitCode === null && c.proc.signalCode === null;

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
async function stop(c: Child, graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (running(c)) c.proc.kill('SIGTERM');
  const first = await within(c.exited, graceMs, null);
  if (first !== null) return first;
  if (running(c)) c.proc.kill('SIGKILL');
  return (await within(c.exited, 10_000, null)) ?? { code: null, signal: null };
}

function describeChild(c: Child): string {
  const tail = (s: string) => (s.length > 4000 ? `...${s.slice(-4000)}` : s);
  return `--- ${c.name} (pid ${c.proc.pid}, exit ${c.proc.exitCode ?? c.proc.signalCode ?? 'running'}) stdout:\n${tail(c.stdout)}\n--- stderr:\n${tail(c.stderr)}`;
}

afterAll(async () => {
  for (const c of children) {
    if (running(c)) c.proc.kill('SIGKILL');
  }
  await Promise.all(children.map((c) => within(c.exited, 10_000, null)));
  await Promise.all(receivers.map((r) => r.close().catch(() => undefined)));
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('alerts: driftwatch killed in the middle of a delivery', () => {
  it('re-sends the trigger after a restart with the same id, and Airflow records exactly one run', { timeout: 180_000 }, async () => {
    expect(existsSync(CLI), `${CLI} is missing: run npm run build first`).toBe(true);
    const tmp = mkdtempSync(join(tmpdir(), 'driftwatch-alerts-crash-'));
    tmpDirs.push(tmp);
    const dataDir = join(tmp, 'data');

    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const airflow = { username: 'driftwatch-test', password: randomBytes(12).toString('hex') };
    const receiver = await startAlertReceiver({ webhookSecret: secret, airflow, hangFirstAirflow: true });
    receivers.push(receiver);
    const env = childEnv({
      SLACK_WEBHOOK_URL: `${receiver.url}/slack/T000/B000/x`,
      DRIFTWATCH_WEBHOOK_URL: `${receiver.url}/hooks/driftwatch`,
      DRIFTWATCH_WEBHOOK_SECRET: secret,
      AIRFLOW_URL: receiver.url,
      AIRFLOW_USERNAME: airflow.username,
      AIRFLOW_PASSWORD: airflow.password,
    });
    const receiverDetail = () =>
      `receiver saw:\n${receiver.requests.map((r) => `  ${r.kind} ${r.method} ${r.path} id=${r.id} -> ${r.status ?? 'hung'}`).join('\n')}`;

    // --- 1. the demo, killed while the Airflow trigger waits for its answer ---
    const demo = start('demo', ['demo', '--no-receivers', '--data-dir', dataDir, '--rate', '0'], env);
    const hung = await within(receiver.airflowHung, 60_000, null);
    if (hung === null) {
      throw new Error(`the demo sent no Airflow trigger within 60 s\n${receiverDetail()}\n${describeChild(demo)}`);
    }
    expect(running(demo), `the demo exited before it could be killed\n${describeChild(demo)}`).toBe(true);
    demo.proc.kill('SIGKILL');
    const killed = await within(demo.exited, 30_000, null);
    expect(killed, `the demo did not exit after SIGKILL\n${describeChild(demo)}`).not.toBeNull();
    expect(killed!.signal).toBe('SIGKILL');
    const hungRunId = hung.id;
    expect(hungRunId).toMatch(/^driftwatch__/);
    expect(receiver.requests.filter((r) => r.kind === 'airflow')).toHaveLength(1);

    // --- 2. the restart: `driftwatch run` on the same data dir delivers what is pending ---
    const run = start('run', ['run', '--data-dir', dataDir], { ...env, DRIFTWATCH_HTTP_HOST: '127.0.0.1', DRIFTWATCH_HTTP_PORT: '0' });
    let apiUrl = '';
    await waitFor(
      'the restarted service to print its HTTP address',
      () => {
        const m = /^http: (http:\/\/[^\s,]+)/m.exec(run.stderr);
        if (m) apiUrl = m[1]!;
        if (!m && !running(run)) throw new Error(`driftwatch run exited early\n${describeChild(run)}`);
        return m !== null;
      },
      60_000,
      () => describeChild(run),
    );
    expect(run.stderr, describeChild(run)).toContain(`actions from ${join(ROOT, 'rules')}\n`);

    let outbox: OutboxEntry[] = [];
    await waitFor(
      'the repeated trigger and every queued notification to be delivered',
      async () => {
        if (!running(run)) throw new Error(`driftwatch run exited early\n${describeChild(run)}`);
        try {
          const res = await fetch(`${apiUrl}/v1/actions?limit=10000`, { signal: AbortSignal.timeout(10_000) });
          if (!res.ok) return false;
          outbox = ((await res.json()) as { deliveries: OutboxEntry[] }).deliveries;
        } catch {
          return false;
        }
        const airflowSeen = receiver.requests.filter((r) => r.kind === 'airflow').length;
        return airflowSeen >= 2 && outbox.length > 0 && outbox.every((e) => e.status !== 'pending');
      },
      90_000,
      () => `${receiverDetail()}\noutbox: ${JSON.stringify(outbox.map((e) => ({ id: e.id, action: e.action, status: e.status, err: e.lastError })))}\n${describeChild(run)}`,
    );

    const stopped = await stop(run, 30_000);
    expect(stopped.signal, `driftwatch run did not stop on SIGTERM\n${describeChild(run)}`).toBeNull();
    expect(stopped.code, describeChild(run)).toBe(0);

    // --- 3. what the receiver saw ---
    const detail = `${receiverDetail()}\n${describeChild(demo)}\n${describeChild(run)}`;
    const triggers = receiver.requests.filter((r) => r.kind === 'airflow');
    // The trigger twice, with the same dag_run_id: the lost answer, then 409 "already exists".
    expect(triggers.map((r) => r.id), detail).toEqual([hungRunId, hungRunId]);
    expect(triggers.map((r) => r.status), detail).toEqual([null, 409]);
    expect(triggers[1]!.raw).toBe(triggers[0]!.raw);
    // Exactly one run recorded.
    const runs = [...receiver.runs.values()];
    expect(runs, detail).toHaveLength(1);
    const theRun = runs[0]!;
    expect(theRun.runId).toBe(hungRunId);
    expect(theRun.dagId).toBe('retrain_model');
    const conf = theRun.conf as Record<string, unknown>;
    expect(conf['lot_id']).toBe('L-2002');
    expect(conf['model']).toBe('press-qa');
    expect(conf['window_date']).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    // Every webhook verified; repeats only under the same id, one id per webhook notification.
    const hooks = receiver.requests.filter((r) => r.kind === 'webhook');
    expect(hooks.length, detail).toBeGreaterThan(0);
    expect(hooks.filter((r) => !r.verified || r.status !== 200), detail).toEqual([]);
    for (const h of hooks) expect((h.body as { id?: unknown }).id).toBe(h.id);
    expect(receiver.requests.filter((r) => r.kind === 'other' || r.status === 401 || r.status === 400), detail).toEqual([]);

    // --- 4. the outbox, read from the store after the service stopped ---
    const listed = spawnSync(process.execPath, [CLI, 'actions', 'list', '--data-dir', dataDir, '--format', 'json', '--limit', '10000'], {
      cwd: ROOT,
      env: childEnv({}),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(listed.status, `${listed.stdout}\n${listed.stderr}`).toBe(0);
    const stored = JSON.parse(listed.stdout) as OutboxEntry[];
    expect(stored.map((e) => e.id).sort()).toEqual(outbox.map((e) => e.id).sort());
    expect(stored.filter((e) => e.status !== 'delivered'), detail).toEqual([]);

    const webhookRows = stored.filter((e) => e.action === 'pipeline-webhook');
    expect(new Set(hooks.map((h) => h.id))).toEqual(new Set(webhookRows.map((e) => e.id)));
    const slackRows = stored.filter((e) => e.action === 'ops-slack');
    const slack = receiver.requests.filter((r) => r.kind === 'slack');
    // Slack has no idempotency key: a message in flight at the kill may arrive twice, but with the same content.
    expect(new Set(slack.map((r) => r.raw)).size, detail).toBe(slackRows.length);
    const retrainRows = stored.filter((e) => e.kind === 'airflow');
    expect(retrainRows, detail).toHaveLength(1);
    expect(retrainRows[0]!.action).toBe('retrain');
    expect(airflowRunId(retrainRows[0]!.id)).toBe(hungRunId);
  });
});
