/** Small helpers every benchmark uses: command-line numbers, medians, and how figures are printed. */

export function median(xs: ReadonlyArray<number>): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function positiveInt(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw ?? ''}"`);
  return n;
}

/** Three significant digits, exponent notation outside [0.001, 1000). */
export function fmtNum(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1000 || Math.abs(x) < 0.001 ? x.toExponential(2) : x.toPrecision(3);
}

/** A rate as `123 k` or `1.65 M`. */
export function fmtRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`;
}
