/**
 * The replay's progress bar with lines printed above it, on a terminal: stdout and stderr written to one recorded
 * stream (as they reach one terminal), then looked at as the screen shows it (./screen.ts).
 */
import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../../../src/cli/progress-line.js';
import { screen } from './screen.js';

function terminal(o: { columns?: number } = {}) {
  let output = '';
  let clock = 0;
  const write = (s: string) => void (output += s);
  const bar = new ProgressLine({ write, label: 'replay', unit: 'records', now: () => clock, ...o });
  return {
    bar,
    out: write,
    tick: (ms: number) => void (clock += ms),
    output: () => output,
  };
}

describe('progress line', () => {
  it('keeps every printed line whole on its own line, the bar below them, and what follows the bar after it', () => {
    const t = terminal();
    t.bar.print('reference for m: none -> ref-1\n'); // before the bar starts: just written
    t.bar.update(1, 40);
    t.tick(150);
    t.bar.update(10, 40);
    t.bar.print('window 03:00 .. 03:05  m  rows 10  drifted 0/2  ok\n', t.out);
    t.tick(150);
    t.bar.update(30, 40);
    t.bar.print('window 03:05 .. 03:10  m  rows 20  drifted 1/2  DATASET DRIFT: temp ks=0.001\n', t.out);
    t.tick(150);
    t.bar.update(40, 40);
    t.bar.stop();
    t.out('replayed f.ndjson: 40 records accepted\n');
    expect(screen(t.output())).toEqual([
      'reference for m: none -> ref-1',
      'window 03:00 .. 03:05  m  rows 10  drifted 0/2  ok',
      'window 03:05 .. 03:10  m  rows 20  drifted 1/2  DATASET DRIFT: temp ks=0.001',
      `replay [${'='.repeat(40)}] 40/40 records`,
      'replayed f.ndjson: 40 records accepted',
    ]);
  });

  it('shows the bar while it runs, below the lines printed so far', () => {
    const t = terminal();
    t.bar.update(1, 4);
    t.bar.print('window a\n', t.out);
    t.tick(150);
    t.bar.update(2, 4);
    expect(screen(t.output())).toEqual(['window a', `replay [${'='.repeat(20)}${'-'.repeat(20)}] 2/4 records`]);
  });

  it('redraws at most every 100 ms while updating, and always the last state at stop', () => {
    const t = terminal();
    t.bar.update(1, 100);
    const first = t.output();
    t.tick(50);
    t.bar.update(2, 100);
    expect(t.output()).toBe(first);
    t.tick(50);
    t.bar.update(3, 100);
    expect(screen(t.output())).toEqual([expect.stringContaining(' 3/100 records')]);
    t.bar.update(4, 100);
    t.bar.stop();
    t.bar.stop();
    t.bar.update(5, 100);
    expect(screen(t.output())).toEqual([expect.stringContaining(' 4/100 records')]);
  });

  it('fits the bar on one line of a narrow terminal, so that clearing its line clears all of it', () => {
    const t = terminal({ columns: 30 });
    t.bar.update(5, 10);
    t.bar.print('window a\n', t.out);
    t.bar.stop();
    const shown = screen(t.output());
    expect(shown).toEqual(['window a', 'replay [====================-']);
    expect(shown[1]!.length).toBe(29);
  });

  it('writes nothing of its own when it never started', () => {
    const t = terminal();
    t.bar.print('replay failed early\n', t.out);
    t.bar.stop();
    expect(t.output()).toBe('replay failed early\n');
  });
});
