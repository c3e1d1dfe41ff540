/**
 * The service's start-up order (embedded engine, the demo reference): the evaluation workers get the active
 * references, with their warm-up windows, before the source starts delivering records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEMO_MODEL } from '../../src/app/demo-data.js';
import { startService } from '../../src/app/service.js';
import type { Source } from '../../src/core/stream.js';
import { WorkerEvaluator } from '../../src/pipeline/evaluator.js';
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
});
