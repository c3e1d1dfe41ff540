import { describe, expect, it } from 'vitest';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../../src/config/index.js';

describe('parseDuration', () => {
  it('reads each unit', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
  });

  it('combines parts, allows decimals, spaces and a bare zero', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d 12h')).toBe(129_600_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration(' 10s ')).toBe(10_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
  });

  it('rejects numbers without a unit, unknown units and junk', () => {
    for (const bad of ['', '30', '5x', 'abc', '-5m', '5 minutes', '1M', 'm', '1h30', '5m!']) {
      expect(parseDuration(bad), bad).toBeNull();
    }
  });

  it('formats back', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0');
    expect(formatDuration(604_800_000)).toBe('7d');
  });
});

describe('parseSize', () => {
  it('reads bytes and units', () => {
    expect(parseSize(1048576)).toBe(1048576);
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('16MiB')).toBe(16 * 2 ** 20);
    expect(parseSize('512KiB')).toBe(512 * 1024);
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('1 GiB')).toBe(2 ** 30);
    expect(parseSize('1.5KiB')).toBe(1536);
    expect(parseSize('100b')).toBe(100);
    expect(parseSize('2kb')).toBe(2000);
  });

  it('rejects fractions of a byte, negatives and unknown units', () => {
    for (const bad of [1.5, -1, '1.5', '-1MiB', '10 parsecs', 'MiB', '', '5Mi']) {
      expect(parseSize(bad), String(bad)).toBeNull();
    }
  });

  it('formats back', () => {
    expect(formatSize(16 * 2 ** 20)).toBe('16MiB');
    expect(formatSize(1500)).toBe('1500B');
  });
});
