import { readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/**
 * Peak resident memory of the whole process during one step of a benchmark.
 *
 * A worker thread reads `process.memoryUsage.rss()` (process-wide, not per thread) every `intervalMs` and keeps the
 * maximum in shared memory. A timer on the main thread would not do: most steps are synchronous JavaScript (the
 * Parquet decoder, sampling, profiling, building insert bodies), during which the main thread's timers never fire.
 * The worker's loop runs beside them, and beside the embedded engine's own threads.
 *
 * On Linux the kernel's own high-water mark (VmHWM in /proc/self/status) is also reset at the start of each step
 * (`echo 5 > /proc/self/clear_refs`) and read at the end: it misses nothing, so it checks the sampled peak.
 */

/** Layout of the shared Int32Array: stop flag, peak RSS in KiB, number of samples. */
const STOP = 0;
const PEAK_KIB = 1;
const SAMPLES = 2;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.buffer);
const intervalMs = workerData.intervalMs;
while (Atomics.load(state, ${STOP}) === 0) {
  const kib = Math.round(process.memoryUsage.rss() / 1024);
  for (;;) {
    const peak = Atomics.load(state, ${PEAK_KIB});
    if (kib <= peak || Atomics.compareExchange(state, ${PEAK_KIB}, peak, kib) === peak) break;
  }
  Atomics.add(state, ${SAMPLES}, 1);
  Atomics.wait(state, ${STOP}, 0, intervalMs);
}
`;

export interface StepMemory {
  /** RSS when the step started. */
  readonly rssBeforeBytes: number;
  /** Largest RSS seen while the step ran (sampled, and at its start and end). */
  readonly peakRssBytes: number;
  /** RSS when the step ended. */
  readonly rssAfterBytes: number;
  /** The kernel's peak RSS over the step (VmHWM after a reset), null where /proc cannot do that. */
  readonly kernelPeakRssBytes: number | null;
  /** Samples the worker took during the step. */
  readonly samples: number;
}

export class RssSampler {
  private readonly state = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  private readonly worker: Worker;
  private hwmResettable = canResetHighWaterMark();
  private rssBefore = 0;

  private constructor(intervalMs: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffer: this.state.buffer, intervalMs } });
  }

  static async start(intervalMs = 20): Promise<RssSampler> {
    const sampler = new RssSampler(intervalMs);
    await once(sampler.worker, 'online');
    // Referenced until it is online (an unreferenced worker would let the process exit during that await); after
    // that it never keeps the process alive on its own.
    sampler.worker.unref();
    return sampler;
  }

  /** Starts a step: the peak restarts from the current RSS. */
  begin(): void {
    if (this.hwmResettable) this.hwmResettable = resetHighWaterMark();
    this.rssBefore = process.memoryUsage.rss();
    Atomics.store(this.state, PEAK_KIB, Math.round(this.rssBefore / 1024));
    Atomics.store(this.state, SAMPLES, 0);
  }

  /** Ends the step started by the last `begin()`. */
  end(): StepMemory {
    const after = process.memoryUsage.rss();
    const peak = Math.max(Atomics.load(this.state, PEAK_KIB) * 1024, after, this.rssBefore);
    return {
      rssBeforeBytes: this.rssBefore,
      peakRssBytes: peak,
      rssAfterBytes: after,
      kernelPeakRssBytes: this.hwmResettable ? highWaterMark() : null,
      samples: Atomics.load(this.state, SAMPLES),
    };
  }

  async stop(): Promise<void> {
    const exited = once(this.worker, 'exit');
    this.worker.ref(); // or the process could exit while waiting
    Atomics.store(this.state, STOP, 1);
    Atomics.notify(this.state, STOP);
    await exited;
  }
}

function canResetHighWaterMark(): boolean {
  return process.platform === 'linux' && resetHighWaterMark() && highWaterMark() !== null;
}

function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function highWaterMark(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
