/**
 * A clean stop (`Pipeline.close`): what was queued is written and committed; a batch handed over after it is not
 * read (not committed either, so the partition's next owner reads it), since its windows would be written while
 * the store closes.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSettings } from '../../../src/pipeline/models.js';
import { memoryPipeline } from '../../helpers/memory-pipeline.js';

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
    const { pipeline, source, written } = await memoryPipeline(settings);
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
