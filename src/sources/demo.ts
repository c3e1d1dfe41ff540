/**
 * The live demo's source: a generator that replays the bundled press telemetry (`fixtures/demo`) as a stream, with
 * fresh event times, and switches to the drifted batch after a while, so that a new user sees windows evaluated
 * and the drift detected without any infrastructure. It is an ordinary `Source`: the pipeline cannot tell it from
 * Kafka or HTTP ingest.
 */
import type { BatchOutcome, Checkpoint, PartitionId, Source, SourceHandler, SourceMessage } from '../core/stream.js';
import type { Table } from '../core/table.js';
import { seededRandom } from '../stats/reservoir.js';

export interface DemoSourceOptions {
  readonly model: string;
  /** Rows to draw from before the drift (the reference's own distribution) and after it (the drifted batch). */
  readonly normal: Table;
  readonly drifted: Table;
  /** Columns sent as the segment (e.g. lot_id); the rest except `ts` are features. */
  readonly segmentBy: ReadonlyArray<string>;
  /** Records in all, and how many of them come before the drift. */
  readonly records: number;
  readonly driftAfter: number;
  /** Event time of the first record, and the event-time step between records (ms). */
  readonly startTs: number;
  readonly stepMs: number;
  /** Records delivered per second of wall time (pacing); 0 = as fast as possible. */
  readonly ratePerSecond: number;
  readonly batchSize?: number;
  /**
   * Production lots: every `records` records form one lot, named `<prefix><first + n>` and sent as segment `key`
   * (instead of the sampled row's own value), as a press works through lot after lot.
   */
  readonly lots?: { readonly key: string; readonly records: number; readonly prefix: string; readonly first: number };
  readonly seed?: number;
  /** Send this raw text in place of record `at` (a malformed record among good ones, for dead-letter demos). */
  readonly inject?: { readonly at: number; readonly value: string };
  readonly signal?: AbortSignal;
}

const PARTITION: PartitionId = 'demo';

export function createDemoSource(o: DemoSourceOptions): Source {
  let handler: SourceHandler | null = null;
  let stopped = false;
  let resolveFinished!: () => void;
  let rejectFinished!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => {
    resolveFinished = res;
    rejectFinished = rej;
  });
  finished.catch(() => undefined);
  let pausedUntil: Promise<void> | null = null;
  let release: (() => void) | null = null;
  const encoder = new TextEncoder();

  const recordAt = demoRecords(o);

  async function run(): Promise<void> {
    const size = o.batchSize ?? 100;
    const started = Date.now();
    for (let i = 0; i < o.records && !stopped && !o.signal?.aborted; ) {
      if (pausedUntil) await pausedUntil;
      const messages: SourceMessage[] = [];
      const now = Date.now();
      for (let k = 0; k < size && i < o.records; k++, i++) {
        const value = o.inject?.at === i ? encoder.encode(o.inject.value) : recordAt(i);
        messages.push({ partition: PARTITION, offset: BigInt(i), value, format: 'json', receivedAt: now, origin: `demo:${i}` });
      }
      const outcome: BatchOutcome = await handler!.onBatch({ partition: PARTITION, messages });
      void outcome;
      if (o.ratePerSecond > 0) {
        const due = started + (i / o.ratePerSecond) * 1000;
        const wait = Math.min(5000, due - Date.now());
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  return {
    description: `demo:${o.model}`,
    async start(h) {
      handler = h;
      await h.onAssigned([{ partition: PARTITION, checkpoint: null }]);
      run().then(resolveFinished, (e: unknown) => rejectFinished(e instanceof Error ? e : new Error(String(e))));
    },
    async commit(_checkpoints: ReadonlyArray<Checkpoint>) {
      // Generated data cannot be replayed from an offset; nothing to make durable.
    },
    async rewind() {
      // See commit.
    },
    pause() {
      if (!pausedUntil) pausedUntil = new Promise((r) => (release = r));
    },
    resume() {
      release?.();
      pausedUntil = null;
      release = null;
    },
    finished,
    async stop() {
      stopped = true;
      release?.();
    },
  };
}

/** What a demo record is drawn from (a subset of the source's options: also what the Kafka demo producer uses). */
export type DemoRecordOptions = Pick<DemoSourceOptions, 'model' | 'normal' | 'drifted' | 'segmentBy' | 'driftAfter' | 'startTs' | 'stepMs' | 'lots' | 'seed'>;

/**
 * The demo's records as JSON bytes, by index: record i is a row drawn (seeded) from the normal rows before
 * `driftAfter` and from the drifted ones after, stamped `startTs + i * stepMs`. Call it with increasing i.
 */
export function demoRecords(o: DemoRecordOptions): (i: number) => Uint8Array {
  const rnd = seededRandom(o.seed ?? 11);
  const encoder = new TextEncoder();
  return (i: number): Uint8Array => {
    const table = i < o.driftAfter ? o.normal : o.drifted;
    const row = Math.floor(rnd() * table.rowCount);
    const features: Record<string, unknown> = {};
    const segment: Record<string, string> = {};
    for (const c of table.columns) {
      if (c.name === 'ts') continue;
      const v = c.values[row];
      const value = typeof v === 'number' ? (Number.isNaN(v) ? null : v) : (v ?? null);
      if (o.segmentBy.includes(c.name)) segment[c.name] = String(value);
      else features[c.name] = c.kind === 'category' && c.dtype === 'boolean' && value !== null ? value === 'true' : value;
    }
    if (o.lots) segment[o.lots.key] = `${o.lots.prefix}${o.lots.first + Math.floor(i / o.lots.records)}`;
    return encoder.encode(JSON.stringify({ model: o.model, ts: new Date(o.startTs + i * o.stepMs).toISOString(), segment, features }));
  };
}
