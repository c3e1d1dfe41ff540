/**
 * Deterministic sampling: a seeded generator and reservoir sampling of row indices, so the same input and seed
 * always give the same sample (and the same snapshot id).
 */

/** SplitMix32-style generator: 32-bit state, uniform doubles in [0, 1). Fast and good enough for sampling. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

/**
 * Indices of a uniform sample of `k` rows out of `n` (Vitter's Algorithm R over row positions), in ascending order
 * so the sample keeps the source's row order. All rows when n <= k.
 */
export function reservoirIndices(n: number, k: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`row count must be a whole number >= 0, got ${n}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`sample size must be a whole number >= 1, got ${k}`);
  if (n <= k) {
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  const random = seededRandom(seed);
  const reservoir = new Uint32Array(k);
  for (let i = 0; i < k; i++) reservoir[i] = i;
  for (let i = k; i < n; i++) {
    const j = Math.floor(random() * (i + 1));
    if (j < k) reservoir[j] = i;
  }
  return reservoir.sort();
}
