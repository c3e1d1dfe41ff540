/**
 * The set-up the metrics tests share: driftwatch fed by the demo generator (the shipped rules acting on the local
 * receivers, an embedded store in a fresh database), run to the end of its finite stream and left serving
 * `/metrics`, and a real Prometheus (Debian package) scraping it every second on 127.0.0.1.
 *
 * Usage: `const stack = new DemoStack(); beforeAll(() => stack.start(), 120_000); afterAll(() => stack.close());`.
 * Everything started is stopped by `close()`, also when `start()` failed half-way; every wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type Service } from '../../src/app/service.js';
import { demoSetup, demoStream } from '../helpers/demo-service.js';

export { ROOT } from '../helpers/demo-service.js';

/** One instant-vector (or scalar) sample as Prometheus's `/api/v1/query` returns it. */
export interface PromSeries {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface DemoStackOptions {
  /** Prefix of the temporary directory. */
  readonly prefix?: string;
  /** Rule files Prometheus loads (`rule_files`), evaluated every second. */
  readonly ruleFiles?: ReadonlyArray<string>;
  /** More `scrape_configs` entries (YAML list items, indented by two spaces), e.g. a second target; a function is
   * called when Prometheus is configured (after the service started). */
  readonly extraScrapeConfigs?: string | (() => string);
  /** How many demo records (one per second of event time, 300 per window). Default 3600: 12 windows. */
  readonly records?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class DemoStack {
  readonly dir: string;
  readonly database = `dw_test_${randomBytes(6).toString('hex')}`;
  promUrl = '';
  private svc: Service | null = null;
  private prometheus: ChildProcess | null = null;
  private log = '';
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  constructor(private readonly options: DemoStackOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'driftwatch-prom-'));
  }

  get service(): Service {
    if (!this.svc) throw new Error('the demo stack is not started');
    return this.svc;
  }

  /** The last lines Prometheus wrote (for failure messages). */
  get prometheusLog(): string {
    return this.log;
  }

  async start(): Promise<void> {
    const which = spawnSync('prometheus', ['--version']);
    if (which.error) throw new Error('prometheus is not installed (apt-get install prometheus; .ci/run does it)');
    const { dir } = this;
    const { config, env, data } = await demoSetup(join(dir, 'data'), { database: this.database, onCleanup: (fn) => this.cleanups.push(fn) });
    // One malformed message among them: a dead letter to count.
    const source = demoStream(data, { records: this.options.records ?? 3600, inject: { at: 10, value: '{"model": "press-qa", "ts": ' } });
    const service = await startService({ config, source, http: true, env, log: () => undefined });
    this.svc = service;
    this.cleanups.push(() => service.stop());
    await service.finished;

    const port = await freePort();
    this.promUrl = `http://127.0.0.1:${port}`;
    const target = new URL(service.url!).host;
    const extra = this.options.extraScrapeConfigs;
    const rules = this.options.ruleFiles?.length ? `rule_files:\n${this.options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join('')}` : '';
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n${rules}scrape_configs:\n  - job_name: driftwatch\n    static_configs:\n      - targets: ["${target}"]\n${typeof extra === 'function' ? extra() : (extra ?? '')}`,
    );
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.prometheus = prometheus;
    prometheus.stderr!.setEncoding('utf8').on('data', (s: string) => (this.log = (this.log + s).slice(-4000)));
    this.cleanups.push(() => stopProcess(prometheus));
    // Wait (bounded) for three scrapes, so that rate() has points.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${this.log}`);
      try {
        const up = await this.query('count_over_time(up{job="driftwatch"}[1m])');
        if (up.length > 0 && Number(up[0]!.value[1]) >= 3) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus did not scrape driftwatch in time: ${this.log}`);
      await sleep(250);
    }
  }

  /** An instant query through Prometheus's HTTP API; throws on a PromQL error. */
  async query(expr: string): Promise<PromSeries[]> {
    const res = await fetch(`${this.promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
    const { resultType, result } = body.data!;
    // A scalar (`time()`, `vector(1)` folded) is one value with no labels.
    if (resultType === 'scalar' || resultType === 'string') return [{ metric: {}, value: result as [number, string] }];
    return result as PromSeries[];
  }

  /** Any Prometheus API path (`/api/v1/rules`), its `data`. */
  async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.promUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { status: string; error?: string; data?: T };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data!;
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    this.cleanups.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
