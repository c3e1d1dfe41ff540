import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCpus } from '../../../src/config/cpus.js';
import { defaultEvaluationWorkers } from '../../../src/config/build.js';

describe('usable CPUs under a cgroup quota', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A cgroup tree in a temporary directory: files by path, and the membership file's text. */
  function tree(files: Record<string, string>, membership: string): { cgroupRoot: string; membership: string } {
    const base = mkdtempSync(join(tmpdir(), 'driftwatch-cgroup-'));
    dirs.push(base);
    const cgroupRoot = join(base, 'sys-fs-cgroup');
    mkdirSync(cgroupRoot);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(cgroupRoot, path)), { recursive: true });
      writeFileSync(join(cgroupRoot, path), text);
    }
    writeFileSync(join(base, 'cgroup'), membership);
    return { cgroupRoot, membership: join(base, 'cgroup') };
  }

  it('cgroup v2: the tightest cpu.max of the group and its ancestors, rounded up', () => {
    const t = tree({ 'kubepods/pod1/cpu.max': '150000 100000\n', 'kubepods/pod1/app/cpu.max': 'max 100000\n', 'kubepods/cpu.max': '400000 100000\n' }, '0::/kubepods/pod1/app\n');
    expect(cgroupCpuQuota(t.cgroupRoot, t.membership)).toBe(1.5);
    expect(usableCpus({ cores: 8, ...t })).toBe(2);
    expect(usableCpus({ cores: 1, ...t })).toBe(1);
    expect(defaultEvaluationWorkers(usableCpus({ cores: 32, ...t }))).toBe(1);
  });

  it('cgroup v1: the cpu controller quota, found at the mount point when the host path is not visible', () => {
    const t = tree({ 'cpu,cpuacct/cpu.cfs_quota_us': '50000\n', 'cpu,cpuacct/cpu.cfs_period_us': '100000\n' }, '11:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n');
    expect(cgroupCpuQuota(t.cgroupRoot, t.membership)).toBe(0.5);
    expect(usableCpus({ cores: 16, ...t })).toBe(1);
  });

  it('a path outside the mount (another cgroup namespace) reads the mount point itself, not a sibling hierarchy', () => {
    const t = tree({ 'cpu.max': '200000 100000\n', '../cpuacct/x/cpu.max': '100000 100000\n' }, '0::/../x\n');
    expect(cgroupCpuQuota(t.cgroupRoot, t.membership)).toBe(2);
    const v1 = tree({ 'cpu/cpu.cfs_quota_us': '300000\n', 'cpu/cpu.cfs_period_us': '100000\n', 'cpuacct/x/cpu.cfs_quota_us': '100000\n', 'cpuacct/x/cpu.cfs_period_us': '100000\n' }, '1:cpu:/../cpuacct/x\n');
    expect(cgroupCpuQuota(v1.cgroupRoot, v1.membership)).toBe(3);
  });

  it('no quota ("max", -1) or nothing readable: every core', () => {
    const v2 = tree({ 'cpu.max': 'max 100000\n' }, '0::/\n');
    expect(usableCpus({ cores: 6, ...v2 })).toBe(6);
    const v1 = tree({ 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' }, '1:cpu:/\n');
    expect(usableCpus({ cores: 6, ...v1 })).toBe(6);
    expect(usableCpus({ cores: 3, cgroupRoot: '/nonexistent', membership: '/nonexistent/cgroup' })).toBe(3);
  });
});
