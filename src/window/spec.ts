/**
 * Window shapes and how a record's time maps to the windows it belongs to. Bounds are epoch ms, half-open:
 * a window [start, end) holds records with start <= ts < end.
 */
export type WindowShape =
  | { readonly type: 'tumbling'; readonly sizeMs: number }
  | { readonly type: 'hopping'; readonly sizeMs: number; readonly slideMs: number }
  | { readonly type: 'count'; readonly count: number };

/** Everything the window stage needs to know about one model's windows. */
export interface WindowSpec {
  readonly shape: WindowShape;
  /** How far behind the newest event time the watermark trails (bounded out-of-orderness). */
  readonly watermarkDelayMs: number;
  /**
   * How long after its end a window still accepts records. The window is reported when the watermark passes its
   * end; a record arriving within the lateness updates that report (a new version replaces it); later than that
   * the record is late and goes to the dead letters.
   */
  readonly allowedLatenessMs: number;
  /** This model's idle timeout (ms, 0 disables), instead of the engine's. */
  readonly idleTimeoutMs?: number;
}

export interface Bounds {
  readonly start: number;
  readonly end: number;
}

/** Floor division that stays right for times before 1970. */
function floorTo(ts: number, step: number): number {
  return Math.floor(ts / step) * step;
}

/**
 * The time windows a record at `ts` belongs to, oldest first: one for tumbling windows, size/slide (rounded up)
 * for hopping ones. Count windows are not time-assigned (see the engine).
 */
export function windowsFor(shape: WindowShape, ts: number): Bounds[] {
  switch (shape.type) {
    case 'tumbling': {
      const start = floorTo(ts, shape.sizeMs);
      return [{ start, end: start + shape.sizeMs }];
    }
    case 'hopping': {
      const out: Bounds[] = [];
      const last = floorTo(ts, shape.slideMs);
      // Every start s = k * slide with s <= ts < s + size.
      for (let s = last - Math.floor((shape.sizeMs - 1) / shape.slideMs) * shape.slideMs; s <= last; s += shape.slideMs) {
        if (ts < s + shape.sizeMs) out.push({ start: s, end: s + shape.sizeMs });
      }
      return out;
    }
    case 'count':
      return [];
  }
}
