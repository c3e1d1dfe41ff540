/**
 * Sorted typed arrays: the shape every kernel in this folder works on. A reference is sorted once when it is
 * profiled; a window is sorted once when it closes; every test after that walks the arrays in O(n + m) or
 * binary-searches them in O(log n).
 */

/**
 * The finite values of `values` (NaN and ±Infinity dropped, as every drift test requires), sorted ascending.
 * Cost: O(n log n). Returns a new array; the input is not modified.
 */
export function sortedFinite(values: Float64Array): Float64Array {
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is 0 for finite v and NaN for NaN and ±Infinity: one comparison instead of Number.isFinite's call.
    if (v - v === 0) {
      count++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (count < SMALL_SORT) {
    const out = new Float64Array(count);
    let j = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v - v === 0) out[j++] = v;
    }
    return out.sort();
  }
  return bucketSort(values, count, min, max);
}

/** `sortedFinite`, or a memo of it that several kernels of one evaluation share (see `sortedFiniteMemo`). */
export type SortedFinite = (values: Float64Array) => Float64Array;

/**
 * `sortedFinite` computed once per column for one evaluation: drift sorts each window column, and the quality
 * checks read the same sorted values for their counts. Keyed by the array itself; the results are shared, so no
 * caller may change them (none does: every kernel here only reads sorted input).
 */
export function sortedFiniteMemo(): SortedFinite {
  const memo = new Map<Float64Array, Float64Array>();
  return (values) => {
    let sorted = memo.get(values);
    if (sorted === undefined) {
      sorted = sortedFinite(values);
      memo.set(values, sorted);
    }
    return sorted;
  };
}

/** Below this size the engine's comparison sort is as fast as a distribution sort's fixed passes. */
const SMALL_SORT = 2048;
/** Buckets up to this size are finished by insertion sort; larger ones (clustered data) are sorted recursively. */
const INSERTION_MAX = 48;
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/**
 * Sorts finite doubles ascending, in place. Equal values keep no particular order (so -0 and +0 may come in
 * either order; no kernel here can tell them apart). Input must not contain NaN (callers drop it first).
 *
 * Sorting the window is most of what a drift test costs, so this is the hot loop of every window. Large arrays
 * use a distribution (bucket) sort: n buckets over [min, max], bucket index `floor((x - min) * scale)`, which is
 * monotone in x under IEEE rounding, so buckets are ordered; measured data (sensor readings, scores) fills them
 * evenly and each is finished by insertion sort: O(n) expected. Buckets that stay large (clustered or heavy-tailed
 * data) are sorted by an LSD radix sort on the IEEE-754 bit patterns, O(n) whatever the distribution.
 */
export function sortFloat64InPlace(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < SMALL_SORT) return values.sort();
  let min = values[0]!;
  let max = values[0]!;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  values.set(bucketSort(values, n, min, max));
  return values;
}

/**
 * The finite values of `source` (there are `count` of them, spanning [min, max]) sorted into a new array: the
 * bucket sort described at `sortFloat64InPlace`, reading the source directly so that dropping NaN/inf, copying
 * and sorting cost three passes in all.
 */
function bucketSort(source: Float64Array, count: number, min: number, max: number): Float64Array {
  const out = new Float64Array(count);
  const range = max - min;
  const scale = count / range;
  if (range === 0 || !Number.isFinite(range) || !Number.isFinite(scale)) {
    let j = 0;
    for (let i = 0; i < source.length; i++) {
      const v = source[i]!;
      if (v - v === 0) out[j++] = v;
    }
    return range === 0 ? out : radixSortInPlace(out);
  }
  const last = count - 1;
  const n = source.length;
  // Each value's bucket, computed once for the count and the scatter (-1 for a value dropped).
  const bucket = new Int32Array(n);
  const starts = new Int32Array(count + 1);
  for (let i = 0; i < n; i++) {
    const v = source[i]!;
    if (v - v !== 0) {
      bucket[i] = -1;
      continue;
    }
    // (v - min) * scale is in [0, count]: truncation is floor there, and cheaper than Math.floor.
    let b = ((v - min) * scale) | 0;
    if (b > last) b = last;
    bucket[i] = b;
    starts[b + 1]!++;
  }
  let largest = 0;
  for (let b = 0; b < count; b++) {
    const size = starts[b + 1]!;
    if (size > largest) largest = size;
    starts[b + 1] = size + starts[b]!;
  }
  const fill = starts.slice(0, count);
  for (let i = 0; i < n; i++) {
    const b = bucket[i]!;
    if (b >= 0) out[fill[b]!++] = source[i]!;
  }
  if (largest <= INSERTION_MAX) {
    // Values are out of order only within their bucket: one insertion pass over the whole array finishes it, in
    // about as many moves as the buckets' own sorts would take, without a loop over the buckets.
    for (let i = 1; i < count; i++) {
      const v = out[i]!;
      let j = i - 1;
      if (!(out[j]! > v)) continue;
      do {
        out[j + 1] = out[j]!;
        j--;
      } while (j >= 0 && out[j]! > v);
      out[j + 1] = v;
    }
    return out;
  }
  for (let b = 0; b < count; b++) {
    const lo = starts[b]!;
    const hi = starts[b + 1]!;
    const size = hi - lo;
    if (size < 2) continue;
    if (size <= INSERTION_MAX) insertionSort(out, lo, hi);
    else if (size < SMALL_SORT) out.subarray(lo, hi).sort();
    else radixSortInPlace(out.subarray(lo, hi));
  }
  return out;
}

function insertionSort(a: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= lo && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/**
 * LSD radix sort on the IEEE-754 bit patterns (flip the sign bit of positives, invert negatives: the unsigned
 * integer order is then the numeric order), six counting passes of at most 11 bits, a pass skipped when every key
 * shares its digit. O(n) for any distribution.
 */
function radixSortInPlace(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < SMALL_SORT || !LITTLE_ENDIAN) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    if (hi & 0x80000000) {
      words[2 * i + 1] = ~hi >>> 0;
      words[2 * i] = ~words[2 * i]! >>> 0;
    } else {
      words[2 * i + 1] = (hi | 0x80000000) >>> 0;
    }
  }
  let src: Uint32Array = words;
  let dst: Uint32Array = new Uint32Array(n * 2);
  // Six passes of at most 11 bits (0-10, 11-21, 22-31 of each 32-bit half): a 2048-entry count table stays in
  // the L1 cache, which beats four passes over a 65536-entry table.
  const counts = new Uint32Array(2048);
  for (let pass = 0; pass < 6; pass++) {
    const word = pass < 3 ? 0 : 1;
    const shift = (pass % 3) * 11;
    const mask = shift === 22 ? 0x3ff : 0x7ff;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(src[2 * i + word]! >>> shift) & mask]!++;
    if (counts[(src[word]! >>> shift) & mask] === n) continue; // every key has this digit: nothing moves
    let sum = 0;
    for (let d = 0; d <= mask; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i]!;
      const hi = src[2 * i + 1]!;
      const at = counts[((word === 0 ? lo : hi) >>> shift) & mask]!++;
      dst[2 * at] = lo;
      dst[2 * at + 1] = hi;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== words) words.set(src);
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    if (hi & 0x80000000) {
      words[2 * i + 1] = (hi & 0x7fffffff) >>> 0;
    } else {
      words[2 * i + 1] = ~hi >>> 0;
      words[2 * i] = ~words[2 * i]! >>> 0;
    }
  }
  return values;
}

/** Index of the first element >= x in an ascending array (numpy `searchsorted(side="left")`). O(log n). */
export function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x in an ascending array (numpy `searchsorted(side="right")`). O(log n). */
export function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distinct values of an ascending array and how often each occurs. O(n). */
export interface ValueCounts {
  readonly values: Float64Array;
  readonly counts: Float64Array;
}

export function valueCountsSorted(sorted: Float64Array): ValueCounts {
  const n = sorted.length;
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const values = new Float64Array(distinct);
  const counts = new Float64Array(distinct);
  let k = -1;
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    if (k < 0 || v !== values[k]) values[++k] = v;
    counts[k]! += 1;
  }
  return { values, counts };
}

/** Number of distinct values in an ascending array. O(n). */
export function countDistinctSorted(sorted: Float64Array): number {
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  return distinct;
}

/** Number of distinct values in the union of two ascending arrays, by merging. O(n + m). */
export function countDistinctUnionSorted(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let distinct = 0;
  let last = Number.NaN;
  while (i < a.length || j < b.length) {
    let v: number;
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) v = a[i++]!;
    else v = b[j++]!;
    if (distinct === 0 || v !== last) {
      distinct++;
      last = v;
    }
  }
  return distinct;
}

/**
 * Aligns two value-count tables over the union of their values (ascending), filling absent values with 0.
 * Used for per-value bins and for chi-square / z tests on numerical columns with few distinct values. O(k1 + k2).
 */
export function alignValueCounts(a: ValueCounts, b: ValueCounts): { values: Float64Array; a: Float64Array; b: Float64Array } {
  const values: number[] = [];
  const ca: number[] = [];
  const cb: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.values.length || j < b.values.length) {
    const va = i < a.values.length ? a.values[i]! : Number.POSITIVE_INFINITY;
    const vb = j < b.values.length ? b.values[j]! : Number.POSITIVE_INFINITY;
    if (i < a.values.length && (j >= b.values.length || va < vb)) {
      values.push(va);
      ca.push(a.counts[i++]!);
      cb.push(0);
    } else if (j < b.values.length && (i >= a.values.length || vb < va)) {
      values.push(vb);
      ca.push(0);
      cb.push(b.counts[j++]!);
    } else {
      values.push(va);
      ca.push(a.counts[i++]!);
      cb.push(b.counts[j++]!);
    }
  }
  return { values: Float64Array.from(values), a: Float64Array.from(ca), b: Float64Array.from(cb) };
}
