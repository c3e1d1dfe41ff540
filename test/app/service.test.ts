/**
 * The service's start-up order (embedded engine, the demo reference): the evaluation workers get the active
 * references, with their warm-up windows, before the source starts delivering records. And the pipeline settings it
 * passes on: `pipeline.results_wait` holds the input while a window's results write is late.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEMO_MODEL } from '../../src/app/demo-data.js';
import { startService } from '../../src/app/service.js';
import { reportLink } from '../../src/app/alerts.js';
import type { DriftEvent } from '../../src/core/drift-event.js';
import type { Source } from '../../src/core/stream.js';
import { WorkerEvaluator } from '../../src/pipeline/evaluator.js';
import { ClickHouseStore } from '../../src/store/index.js';
import { demoSetup, demoStream } from '../helpers/demo-service.js';

const dataDir = mkdtempSync(join(tmpdir(), 'driftwatch-service-'));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('service start-up', () => {
  it('prepares the active references on the evaluation workers before the source starts', async () => {
    const s = await demoSetup(dataDir, { rules: false, onCleanup: (fn) => cleanups.push(fn) });
    const prepare = vi.spyOn(WorkerEvaluator.prototype, 'prepare');
    try {
      const demo = demoStream(s.data);
      const preparedAtStart: string[] = [];
      // The demo source (a plain object) noting, as it starts, which references the workers were given by then.
      const source: Source = {
        ...demo,
        start: (handler) => {
          preparedAtStart.push(...prepare.mock.calls.map(([r]) => r.reference.snapshot.model));
          return demo.start(handler);
        },
      };
      const service = await startService({ config: { ...s.config, pipeline: { ...s.config.pipeline, evaluationWorkers: 1 } }, source, http: false, env: s.env, log: () => undefined });
      cleanups.push(() => service.stop());
      await service.finished;
      expect(preparedAtStart).toEqual([DEMO_MODEL]);
      // Every window was still reported, evaluated on the warmed-up worker.
      const windows = await service.store.listWindows({ model: DEMO_MODEL, from: 0, to: Date.now() + 86_400_000 });
      expect(windows.length).toBeGreaterThan(0);
      expect(windows.every((w) => w.testedFeatures > 0)).toBe(true);
    } finally {
      prepare.mockRestore();
    }
  });

  it('links each drift event to its window\'s report page under alerts.public_url, and only then', async () => {
    const run = async (publicUrl: string | null) => {
      const s = await demoSetup(dataDir, { rules: false, onCleanup: (fn) => cleanups.push(fn) });
      const events: DriftEvent[] = [];
      const service = await startService({
        config: { ...s.config, alerts: { ...s.config.alerts, publicUrl } },
        source: demoStream(s.data),
        http: false,
        env: s.env,
        log: () => undefined,
        onEvent: (e) => {
          if (e.type === 'window' && e.event) events.push(e.event);
        },
      });
      cleanups.push(() => service.stop());
      await service.finished;
      return events;
    };
    const linked = await run('https://drift.example.com');
    expect(linked.length).toBeGreaterThan(0);
    for (const e of linked) expect(e.links?.report).toBe(reportLink('https://drift.example.com', e));
    expect(linked[0]!.links!.report).toMatch(/^https:\/\/drift\.example\.com\/v1\/reports\//);
    const unlinked = await run(null);
    expect(unlinked.length).toBe(linked.length);
    expect(unlinked.every((e) => e.links === undefined)).toBe(true);
  }, 120_000);

  it('holds the input while a window waits for its drift results longer than pipeline.results_wait', async () => {
    const s = await demoSetup(dataDir, { rules: false, onCleanup: (fn) => cleanups.push(fn) });
    const records = 7200; // 24 windows: fewer than the queued reports that pause the source
    const original = ClickHouseStore.prototype.putWindowResults;
    /** Runs the demo stream with every results write held until released; how many records got in meanwhile. */
    const run = async (resultsWaitMs: number | null, waitMs: number): Promise<{ accepted: number; allInMs: number | null }> => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let onHeld!: () => void;
      const held = new Promise<void>((resolve) => (onHeld = resolve));
      let onAllIn!: () => void;
      const allIn = new Promise<void>((resolve) => (onAllIn = resolve));
      const spy = vi.spyOn(ClickHouseStore.prototype, 'putWindowResults').mockImplementation(async function (this: ClickHouseStore, rows) {
        onHeld();
        await gate;
        return original.call(this, rows);
      });
      let accepted = 0;
      try {
        const service = await startService({
          // Evaluated on the pipeline's thread: a closed window is evaluated before the next batch ends.
          config: { ...s.config, pipeline: { ...s.config.pipeline, evaluationWorkers: 0, resultsWaitMs } },
          source: demoStream(s.data, { records }),
          http: false,
          env: s.env,
          log: () => undefined,
          onEvent: (e) => {
            if (e.type !== 'records') return;
            accepted += e.accepted;
            if (accepted >= records) onAllIn();
          },
        });
        cleanups.push(() => service.stop());
        await held;
        const from = performance.now();
        const allInMs = await Promise.race([allIn.then(() => performance.now() - from), new Promise<null>((resolve) => setTimeout(() => resolve(null), waitMs))]);
        const acceptedWhileHeld = accepted;
        release();
        await service.finished;
        expect(accepted).toBe(records);
        return { accepted: acceptedWhileHeld, allInMs };
      } finally {
        release();
        spy.mockRestore();
      }
    };
    // No limit: every record gets in while the first window's results are held.
    const free = await run(null, 30_000);
    expect(free.accepted).toBe(records);
    // No wait allowed: the input stops at the first batch that ends after that window was evaluated, and stays
    // stopped for far longer than all the records took to get in above.
    const held = await run(0, Math.max(1000, 5 * free.allInMs!));
    expect(held.allInMs).toBeNull();
    expect(held.accepted).toBeLessThan(records / 4);
  });
});
