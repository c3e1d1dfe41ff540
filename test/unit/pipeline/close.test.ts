/**
 * A clean stop (`Pipeline.close`): what was queued is written and committed; a batch handed over after it is not
 * read (not committed either, so the partition's next owner reads it), since its windows would be written while
 * the store closes.
 */
import { describe, expect, it } from 'vitest';
import type { Store, WindowRecord } from '../../../src/core/store.js';
import type { ModelSettings } from '../../../src/pipeline/models.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { ListSource } from '../../helpers/list-source.js';

const MIN = 60_000;
const START = Date.UTC(2026, 0, 5, 8);

const settings: ModelSettings = {
  kind: 'telemetry',
  segmentBy: [],
  features: new Map([['x', 'numerical']]),
  window: { shape: { type: 'tumbling', sizeMs: MIN }, watermarkDelayMs: 0, allowedLatenessMs: 0 },
  time: 'event',
  evaluation: { driftShare: 0.5, drift: {}, perFeature: new Map() },
  sampleRows: 0,
};

describe('Pipeline.close', () => {
  it('writes what was queued, and reads no batch handed over after it', async () => {
    const written: WindowRecord[] = [];
    const store = {
      async putWindowResults(r: ReadonlyArray<WindowRecord>) {
        written.push(...r);
      },
      async putWindowDetails() {},
      async putDeadLetters() {},
    } as unknown as Store;
    const source = new ListSource();
    const pipeline = new Pipeline({
      store,
      source,
      publisher: null,
      topics: { driftEvents: null, deadLetters: null },
      reference: () => undefined,
      settings: (m) => (m === 'm' ? settings : undefined),
      defaults: settings,
      limits: { maxRecordBytes: 1 << 20, maxFutureMs: 1e13, maxPastMs: 1e13 },
      idleTimeoutMs: 0,
    });
    await source.start(pipeline);
    const record = (i: number) => ({ model: 'm', ts: START + i * MIN, features: { x: i } });
    expect((await source.sendRecords([record(0), record(1)])).accepted).toBe(2);
    const closing = pipeline.close();
    // Handed over while the pipeline closes: it would close the window of minute 1 and write it.
    const late = source.sendRecords([record(2), record(3)]);
    await closing;
    expect(await late).toEqual({ accepted: 0, rejected: [], rejectedCount: 0 });
    expect(written.map((w) => w.key.start)).toEqual([START]);
  });
});
