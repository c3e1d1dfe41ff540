/**
 * A Pipeline of one model `m` fed by a ListSource, with a store that keeps the drift results it is given in memory
 * (details and dead letters are dropped), no Kafka and wide time limits: for tests of what the pipeline computes.
 */
import type { Store, WindowRecord } from '../../src/core/store.js';
import type { ModelSettings } from '../../src/pipeline/models.js';
import { Pipeline, type PipelineEvent } from '../../src/pipeline/pipeline.js';
import type { LoadedReference } from '../../src/reference/lifecycle.js';
import { ListSource } from './list-source.js';

export interface MemoryPipeline {
  readonly pipeline: Pipeline;
  readonly source: ListSource;
  /** The drift results stored, in the order written. */
  readonly written: WindowRecord[];
}

export async function memoryPipeline(
  settings: ModelSettings,
  reference?: LoadedReference,
  onEvent?: (event: PipelineEvent) => void,
): Promise<MemoryPipeline> {
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
    reference: (m) => (m === 'm' ? reference : undefined),
    settings: (m) => (m === 'm' ? settings : undefined),
    defaults: settings,
    limits: { maxRecordBytes: 1 << 20, maxFutureMs: 1e13, maxPastMs: 1e13 },
    idleTimeoutMs: 0,
    ...(onEvent ? { onEvent } : {}),
  });
  await source.start(pipeline);
  return { pipeline, source, written };
}
