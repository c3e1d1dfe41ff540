import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { pairwiseSum } from './describe.js';

/**
 * Mahalanobis distance of rows to a reference distribution: `d2 = (x - mu)' S+ (x - mu)` with mu the reference
 * mean vector, S the sample covariance (ddof = 1, numpy's `cov(rowvar=False)`) and S+ its Moore-Penrose
 * pseudo-inverse, which equals the inverse when S is regular and stays defined when S is singular (a constant or
 * duplicated feature). Each feature's share of d2, `(x - mu)_j (S+ (x - mu))_j`, sums to d2 and tells a user
 * which features made a row unusual.
 */

/** Everything a window needs from the reference: computed once per reference. */
export interface MahalanobisModel {
  readonly dim: number;
  readonly mean: Float64Array;
  /** Sample covariance, row-major dim x dim. */
  readonly covariance: Float64Array;
  /** Pseudo-inverse of the covariance, row-major dim x dim. */
  readonly precision: Float64Array;
  /** Rank of the covariance as seen by the pseudo-inverse's cut-off. */
  readonly rank: number;
  /** Reference rows used (rows with every feature finite). */
  readonly rows: number;
}

/**
 * Fits the model on reference columns (one Float64Array per feature, equal lengths). Rows where any feature is
 * missing or infinite are left out, so every moment is computed on the same rows. Needs at least 2 such rows.
 * Cost: O(n p^2 + p^3).
 */
export function fitMahalanobis(columns: ReadonlyArray<Float64Array>): MahalanobisModel | null {
  const p = columns.length;
  const keep = completeRows(columns);
  const n = keep.length;
  if (p === 0 || n < 2) return null;
  const mean = new Float64Array(p);
  const centered: Float64Array[] = [];
  const scratch = new Float64Array(n);
  for (let j = 0; j < p; j++) {
    const col = columns[j]!;
    for (let r = 0; r < n; r++) scratch[r] = col[keep[r]!]!;
    mean[j] = pairwiseSum(scratch) / n;
    const c = new Float64Array(n);
    for (let r = 0; r < n; r++) c[r] = scratch[r]! - mean[j]!;
    centered.push(c);
  }
  const covariance = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    const ca = centered[a]!;
    for (let b = a; b < p; b++) {
      const cb = centered[b]!;
      let s = 0;
      for (let r = 0; r < n; r++) s += ca[r]! * cb[r]!;
      const v = s / (n - 1);
      covariance[a * p + b] = v;
      covariance[b * p + a] = v;
    }
  }
  const sMatrix = new Matrix(p, p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) sMatrix.set(a, b, covariance[a * p + b]!);
  const { precision, rank } = pseudoInverseSymmetric(sMatrix);
  return { dim: p, mean, covariance, precision, rank, rows: n };
}

/**
 * Moore-Penrose pseudo-inverse through the SVD, with numpy's default cut-off: singular values at or below
 * 1e-15 times the largest count as zero. The rank is the number kept. Symmetrised, because S+ of a symmetric S
 * is symmetric and rounding should not make d2 depend on the order of the features. O(p^3).
 */
function pseudoInverseSymmetric(m: Matrix): { precision: Float64Array; rank: number } {
  const p = m.rows;
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  const s = svd.diagonal;
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  const cutoff = 1e-15 * (s[0] ?? 0);
  let rank = 0;
  const inv = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    if (s[i]! > cutoff) {
      inv[i] = 1 / s[i]!;
      rank++;
    }
  }
  const out = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      let acc = 0;
      for (let i = 0; i < s.length; i++) if (inv[i] !== 0) acc += v.get(a, i) * inv[i]! * u.get(b, i);
      out[a * p + b] = acc;
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = a + 1; b < p; b++) {
      const avg = (out[a * p + b]! + out[b * p + a]!) / 2;
      out[a * p + b] = avg;
      out[b * p + a] = avg;
    }
  }
  return { precision: out, rank };
}

/** Indices of rows where every column holds a finite number. O(n p). */
export function completeRows(columns: ReadonlyArray<Float64Array>): Uint32Array {
  const n = columns.length > 0 ? columns[0]!.length : 0;
  const keep = new Uint32Array(n);
  let k = 0;
  for (let r = 0; r < n; r++) {
    let ok = true;
    for (let j = 0; j < columns.length; j++) {
      if (!Number.isFinite(columns[j]![r]!)) {
        ok = false;
        break;
      }
    }
    if (ok) keep[k++] = r;
  }
  return keep.subarray(0, k);
}

/** Squared distances of the given rows, and optionally each row's per-feature contributions (row-major). */
export interface MahalanobisScores {
  /** Row indices that were scored (complete rows). */
  readonly rows: Uint32Array;
  readonly d2: Float64Array;
}

/**
 * Scores every complete row of `columns` (features in the model's order). Cost: O(n p^2).
 *
 * S+ is symmetric, so d2 = sum_a diff_a (P_aa diff_a + 2 sum_{b>a} P_ab diff_b): half the multiplications of the
 * full quadratic form. Rows are scored four at a time, each with the same operations in the same order as alone
 * (so the same bits), so that the four rows' sums do not wait on each other.
 */
export function mahalanobisScores(model: MahalanobisModel, columns: ReadonlyArray<Float64Array>): MahalanobisScores {
  const p = model.dim;
  const rows = completeRows(columns);
  const d2 = new Float64Array(rows.length);
  const prec = model.precision;
  const mean = model.mean;
  // diff of lane l (0-3) for feature j at 4 j + l.
  const diff = new Float64Array(4 * p);
  let k = 0;
  for (; k + 4 <= rows.length; k += 4) {
    const r0 = rows[k]!;
    const r1 = rows[k + 1]!;
    const r2 = rows[k + 2]!;
    const r3 = rows[k + 3]!;
    for (let j = 0; j < p; j++) {
      const col = columns[j]!;
      const m = mean[j]!;
      diff[4 * j] = col[r0]! - m;
      diff[4 * j + 1] = col[r1]! - m;
      diff[4 * j + 2] = col[r2]! - m;
      diff[4 * j + 3] = col[r3]! - m;
    }
    let t0 = 0;
    let t1 = 0;
    let t2 = 0;
    let t3 = 0;
    for (let a = 0; a < p; a++) {
      const off = a * p;
      let y0 = 0;
      let y1 = 0;
      let y2 = 0;
      let y3 = 0;
      for (let b = a + 1; b < p; b++) {
        const c = prec[off + b]!;
        y0 += c * diff[4 * b]!;
        y1 += c * diff[4 * b + 1]!;
        y2 += c * diff[4 * b + 2]!;
        y3 += c * diff[4 * b + 3]!;
      }
      const paa = prec[off + a]!;
      const d0 = diff[4 * a]!;
      const d1 = diff[4 * a + 1]!;
      const d2a = diff[4 * a + 2]!;
      const d3 = diff[4 * a + 3]!;
      t0 += d0 * (paa * d0 + 2 * y0);
      t1 += d1 * (paa * d1 + 2 * y1);
      t2 += d2a * (paa * d2a + 2 * y2);
      t3 += d3 * (paa * d3 + 2 * y3);
    }
    d2[k] = t0;
    d2[k + 1] = t1;
    d2[k + 2] = t2;
    d2[k + 3] = t3;
  }
  for (; k < rows.length; k++) d2[k] = quadraticForm(model, columns, rows[k]!, diff);
  return { rows, d2 };
}

/** d2 of one row, in the order `mahalanobisScores` keeps for every row; `diff` is scratch of at least p. */
function quadraticForm(model: MahalanobisModel, columns: ReadonlyArray<Float64Array>, row: number, diff: Float64Array): number {
  const p = model.dim;
  const prec = model.precision;
  for (let j = 0; j < p; j++) diff[j] = columns[j]![row]! - model.mean[j]!;
  let total = 0;
  for (let a = 0; a < p; a++) {
    const off = a * p;
    const da = diff[a]!;
    let y = 0;
    for (let b = a + 1; b < p; b++) y += prec[off + b]! * diff[b]!;
    total += da * (prec[off + a]! * da + 2 * y);
  }
  return total;
}

/** Per-feature shares of d2 for one row: `(x - mu)_j (S+ (x - mu))_j`, summing to d2. O(p^2). */
export function mahalanobisContributions(model: MahalanobisModel, x: Float64Array): Float64Array {
  const p = model.dim;
  const diff = new Float64Array(p);
  for (let j = 0; j < p; j++) diff[j] = x[j]! - model.mean[j]!;
  const out = new Float64Array(p);
  for (let a = 0; a < p; a++) {
    let y = 0;
    for (let b = 0; b < p; b++) y += model.precision[a * p + b]! * diff[b]!;
    out[a] = diff[a]! * y;
  }
  return out;
}
