/**
 * A one-line progress bar on a terminal (stderr) with other lines printed above it: `replay` prints a line per
 * window on stdout while the bar runs, and on a terminal both streams end up on the same screen. Every line goes
 * through `print`, which clears the bar's line, writes the line whole, and draws the bar again below it; `stop`
 * leaves the bar's last state on a line of its own, so what is printed next (the summary) comes after everything.
 *
 * No saved cursor positions and no hidden cursor: after any output the cursor is at the start of the bar's line or
 * at its end, so a line printed by someone else, or an error after a crash, at worst follows the bar on its line.
 */

/** Erases the whole line the cursor is on (ECMA-48 EL 2), after a carriage return to its start. */
const CLEAR_LINE = '\r\x1b[2K';
/** Draws at most this often while updating (the last state is always drawn by `stop`). */
const REDRAW_MS = 100;
const BAR_SIZE = 40;

export interface ProgressLineOptions {
  /** Writes to the terminal the bar is drawn on (stderr). */
  readonly write: (s: string) => void;
  /** The terminal's width in columns: the bar is cut to fit one line (a wrapped line could not be cleared). */
  readonly columns?: number;
  /** Text before the bar. */
  readonly label: string;
  /** Text after the counts, e.g. `records`. */
  readonly unit: string;
  readonly now?: () => number;
}

export class ProgressLine {
  private done = 0;
  private total = 0;
  private started = false;
  private drawn = false;
  private stopped = false;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly o: ProgressLineOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Records `done` of `total`; draws the bar (the first time, and then at most every 100 ms). */
  update(done: number, total: number): void {
    if (this.stopped) return;
    this.done = done;
    this.total = total;
    this.started = true;
    if (!this.drawn || this.now() - this.lastDraw >= REDRAW_MS) this.draw();
  }

  /** Writes `text` (whole lines, ending in a newline) with `write` (default: the bar's), above the bar. */
  print(text: string, write: (s: string) => void = this.o.write): void {
    if (this.drawn) {
      this.o.write(CLEAR_LINE);
      this.drawn = false;
    }
    write(text);
    if (this.started && !this.stopped) this.draw();
  }

  /** Draws the last state and ends the bar's line; later output starts on the next one. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    if (this.started) {
      this.draw();
      this.o.write('\n');
      this.drawn = false;
    }
    this.stopped = true;
  }

  private draw(): void {
    const share = this.total > 0 ? Math.min(1, Math.max(0, this.done / this.total)) : 0;
    const full = Math.round(share * BAR_SIZE);
    const text = `${this.o.label} [${'='.repeat(full)}${'-'.repeat(BAR_SIZE - full)}] ${this.done}/${this.total} ${this.o.unit}`;
    const width = this.o.columns !== undefined && this.o.columns > 1 ? this.o.columns - 1 : text.length;
    this.o.write(`${CLEAR_LINE}${text.slice(0, width)}`);
    this.drawn = true;
    this.lastDraw = this.now();
  }
}
