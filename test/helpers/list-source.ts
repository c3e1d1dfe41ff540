/**
 * A source fed by the test: `send` hands the pipeline one batch, one message per line (JSON text), on a partition
 * of its own offsets; commits, rewinds and pauses do nothing.
 */
import type { BatchOutcome, Checkpoint, PartitionId, Source, SourceHandler, SourceMessage } from '../../src/core/stream.js';

export class ListSource implements Source {
  readonly description = 'list';
  readonly finished = new Promise<void>(() => undefined);
  private handler: SourceHandler | null = null;
  private offset = 0n;
  async start(handler: SourceHandler): Promise<void> {
    this.handler = handler;
    await handler.onAssigned([{ partition: 'list', checkpoint: null }]);
  }
  send(lines: string[], partition: PartitionId = 'list', kind?: 'label'): Promise<BatchOutcome> {
    const messages: SourceMessage[] = lines.map((l) => {
      this.offset++;
      return { partition, offset: this.offset, value: new TextEncoder().encode(l), format: 'json', receivedAt: Date.now(), origin: `${partition}:${this.offset}`, ...(kind ? { kind } : {}) };
    });
    return this.handler!.onBatch({ partition, messages });
  }
  /** Each record as its JSON text. */
  sendRecords(records: object[], partition: PartitionId = 'list'): Promise<BatchOutcome> {
    return this.send(records.map((r) => JSON.stringify(r)), partition);
  }
  async commit(_c: ReadonlyArray<Checkpoint>): Promise<void> {}
  async rewind(_p: PartitionId, _o: bigint): Promise<void> {}
  pause(): void {}
  resume(): void {}
  async stop(): Promise<void> {}
}
