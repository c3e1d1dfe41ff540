/**
 * The items of a JSON array found by a structural scan of its bytes (strings and nesting), without parsing them:
 * an item that is not valid JSON is still an item, which the decoder then refuses on its own. Shared by live JSON
 * bodies (src/pipeline/decode.ts) and file replay (src/sources/file.ts), so that a file splits into the items a
 * live body would.
 */

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** Whether the bytes start with a UTF-8 byte order mark (JSON text may; it is skipped). */
export function hasBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** JSON's whitespace: space, tab, CR and LF. */
export function isJsonSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

export interface ArrayItems {
  /** [start, end) byte pairs, one per item, the spaces around it left out (an empty item is an empty pair). */
  readonly items: number[];
  /** Where the array's closing ']' is; -1 when it never closes. */
  readonly close: number;
  /** Where a string that never closes opens (then the array never closes either); -1 when none. */
  readonly openString: number;
}

/** The items of the JSON array whose '[' is at `open`. */
export function jsonArrayItems(bytes: Uint8Array, open: number): ArrayItems {
  const n = bytes.length;
  const items: number[] = [];
  let i = open + 1;
  while (i < n && isJsonSpace(bytes[i]!)) i++;
  if (bytes[i] === CLOSE_BRACKET) return { items, close: i, openString: -1 };
  while (i < n) {
    const start = i;
    let depth = 0;
    for (; i < n; i++) {
      const c = bytes[i]!;
      if (c === QUOTE) {
        const end = stringEnd(bytes, i);
        if (end === -1) return { items, close: -1, openString: i };
        i = end;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0 && c === CLOSE_BRACKET) break;
        if (depth > 0) depth--;
      } else if (c === COMMA && depth === 0) break;
    }
    if (i >= n) break;
    let end = i;
    while (end > start && isJsonSpace(bytes[end - 1]!)) end--;
    items.push(start, end);
    if (bytes[i] === CLOSE_BRACKET) return { items, close: i, openString: -1 };
    i++;
    while (i < n && isJsonSpace(bytes[i]!)) i++;
  }
  return { items, close: -1, openString: -1 };
}

/** The position of the quote closing the string that opens at `open`, or -1 when it never closes. */
function stringEnd(bytes: Uint8Array, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = bytes.indexOf(QUOTE, from);
    if (q === -1) return -1;
    let backslashes = 0;
    while (bytes[q - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}
