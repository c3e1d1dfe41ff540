/**
 * Durations and byte sizes as people write them in a config file: `30s`, `1h30m`, `16MiB`. Parsers return null for
 * anything else, so the caller words the message (it knows which setting it was).
 */

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** One `<number><unit>` part; units are lower-case so `m` (minutes) is never read as months. */
const DURATION_PART = /\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;

/**
 * Milliseconds in a duration: `250ms`, `30s`, `5m`, `2h`, `7d`, parts combined (`1h30m`, `1d 12h`), decimals
 * (`1.5h`), and a bare `0`. Null for anything else, including a number without a unit (is `30` seconds or
 * minutes?) and a negative duration.
 */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (/^0+(?:\.0+)?$/.test(s)) return 0;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (;;) {
    const m = DURATION_PART.exec(s);
    if (m === null) break;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    end = DURATION_PART.lastIndex;
  }
  if (end !== s.length) return null;
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : null;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes in a size: a whole number of bytes (`1048576`, as a number or a string), or a number with a unit:
 * `512KiB`, `16MiB`, `1GiB` (powers of 1024) or `10MB`, `1KB` (powers of 1000), `100B`. Units are
 * case-insensitive. Null for anything else, negative or fractional byte counts included.
 */
export function parseSize(input: string | number): number | null {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(input.trim());
  if (m === null) return null;
  const unit = m[2]!.toLowerCase();
  const factor = unit === '' ? 1 : SIZE_UNITS[unit];
  if (factor === undefined) return null;
  const bytes = Number(m[1]) * factor;
  const rounded = Math.round(bytes);
  // A fraction of a byte is a typo, not something to round away (`1.5` or `0.5B`); `1.5KiB` is 1536.
  if (unit === '' || unit === 'b') return Number.isSafeInteger(bytes) ? bytes : null;
  return Number.isSafeInteger(rounded) ? rounded : null;
}

/** The shortest exact spelling of a duration for logs: `5m`, `1h30m`, `250ms`, `0`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (!Number.isSafeInteger(ms) || ms < 0) return `${ms}ms`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** A byte count for logs: `16MiB` when it is an exact multiple of a binary unit, else `1500B`. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
