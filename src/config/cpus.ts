/**
 * How many CPUs this process may use: the cores it may run on, capped by the CPU quota of its control group (a
 * container's limit, a systemd unit's CPUQuota), which `os.availableParallelism()` does not see. A pod limited to
 * one CPU on a 32-core node is one CPU here.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, sep } from 'node:path';

export interface CpuProbe {
  /** Cores the process may run on (default: `availableParallelism()`). */
  readonly cores?: number;
  /** Where the cgroup file systems are mounted (default /sys/fs/cgroup). */
  readonly cgroupRoot?: string;
  /** The process's cgroup membership (default /proc/self/cgroup). */
  readonly membership?: string;
}

export function usableCpus(probe: CpuProbe = {}): number {
  const cores = probe.cores ?? availableParallelism();
  const quota = cgroupCpuQuota(probe.cgroupRoot ?? '/sys/fs/cgroup', probe.membership ?? '/proc/self/cgroup');
  return quota === null ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/**
 * The tightest CPU quota (in CPUs, quota / period) on the process's cgroup or any of its ancestors, or null when
 * none is set or none can be read. cgroup v2: `cpu.max` ("max 100000" means no limit). cgroup v1: the cpu
 * controller's `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1 means no limit). In a container the path in the
 * membership file may not exist in the container's view; walking up to the mount point reaches its own group.
 */
export function cgroupCpuQuota(root: string, membership: string): number | null {
  const lines = readText(membership)?.split('\n') ?? [];
  let tightest: number | null = null;
  const note = (cpus: number | null): void => {
    if (cpus !== null && cpus > 0 && (tightest === null || cpus < tightest)) tightest = cpus;
  };
  for (const line of lines) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') {
      for (const dir of groupAndAncestors(root, path)) note(v2Quota(dir));
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of [join(root, controllers), join(root, 'cpu'), join(root, 'cpu,cpuacct')]) {
        for (const dir of groupAndAncestors(mount, path)) note(v1Quota(dir));
      }
    }
  }
  return tightest;
}

/**
 * `mount + path` and each of its parents up to `mount`; just `mount` when the path leads outside it (a process
 * outside its cgroup namespace's root sees a path such as /../x).
 */
function groupAndAncestors(mount: string, path: string): string[] {
  const inside = (d: string): boolean => d === mount || d.startsWith(mount + sep);
  let dir = join(mount, path);
  if (!inside(dir)) return [mount];
  const dirs: string[] = [];
  for (let i = 0; i < 64 && inside(dir); i++) {
    dirs.push(dir);
    if (dir === mount) break;
    dir = dirname(dir);
  }
  return dirs;
}

function v2Quota(dir: string): number | null {
  const text = readText(join(dir, 'cpu.max'));
  if (text === null) return null;
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return null;
  const q = Number(quota);
  const p = Number(period ?? 100_000);
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : null;
}

function v1Quota(dir: string): number | null {
  const quota = readText(join(dir, 'cpu.cfs_quota_us'));
  const period = readText(join(dir, 'cpu.cfs_period_us'));
  if (quota === null || period === null) return null;
  const q = Number(quota.trim());
  const p = Number(period.trim());
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
