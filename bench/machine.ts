import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a benchmark ran on, as written into its results JSON. */
export function machineInfo(loadAtStart: number): {
  cpus: number;
  cpu: string | null;
  memory_gib: number;
  load_average_start: number;
  load_average_end: number | null;
  node: string;
} {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? null,
    memory_gib: totalmem() / 2 ** 30,
    load_average_start: loadAtStart,
    load_average_end: loadavg()[0] ?? null,
    node: process.version,
  };
}

/** One line describing the machine, printed before the figures. */
export function machineLine(loadAtStart: number): string {
  return (
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `Node ${process.version}, load average ${loadAtStart.toFixed(2)}`
  );
}
