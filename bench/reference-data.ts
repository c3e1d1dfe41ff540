import type { CategoryColumn, Column, NumberColumn, Table } from '../src/core/table.js';
import { mulberry32, normalSource } from './seeded-random.js';

/**
 * The reference benchmark's data: `rows` rows of 20 columns that look like a machine's telemetry, seeded (mulberry32
 * + Box-Muller), so every run and every machine sees the same values.
 *
 * 15 float columns of different shapes (normal, log-normal, gamma, exponential, uniform, a bimodal mixture, Student
 * t, logistic, a clipped normal with mass at both bounds, values rounded to 0.1 with many ties, a tiny scale, two
 * columns with 0.5 % missing values), 2 integer columns (one with many distinct values, so numerical; one with at
 * most 10, so categorical) and 3 string columns (5, 3 and 500 Zipf-distributed categories, the last with 0.2 %
 * missing).
 */

export interface ColumnSpec {
  readonly name: string;
  /** What the values are drawn from, for the results file. */
  readonly distribution: string;
}

export interface ReferenceData {
  readonly table: Table;
  readonly specs: ReadonlyArray<ColumnSpec>;
}

type Draw = () => number;

interface FloatSpec extends ColumnSpec {
  readonly draw: (u: Draw, z: Draw) => number;
}

const FLOATS: ReadonlyArray<FloatSpec> = [
  { name: 'temperature', distribution: 'normal(70, 5)', draw: (_u, z) => 70 + 5 * z() },
  { name: 'pressure', distribution: 'normal(101.3, 0.8)', draw: (_u, z) => 101.3 + 0.8 * z() },
  { name: 'vibration', distribution: 'lognormal(0, 0.5)', draw: (_u, z) => Math.exp(0.5 * z()) },
  { name: 'current_a', distribution: 'gamma(3, 2): sum of 3 exponentials', draw: (u) => -2 * (Math.log(1 - u()) + Math.log(1 - u()) + Math.log(1 - u())) },
  { name: 'wait_s', distribution: 'exponential(rate 0.2)', draw: (u) => -Math.log(1 - u()) / 0.2 },
  { name: 'humidity', distribution: 'uniform(20, 80)', draw: (u) => 20 + 60 * u() },
  { name: 'torque', distribution: '0.6 normal(40, 3) + 0.4 normal(55, 4)', draw: (u, z) => (u() < 0.6 ? 40 + 3 * z() : 55 + 4 * z()) },
  { name: 'latency_ms', distribution: 'lognormal(3, 1) (heavy tail)', draw: (_u, z) => Math.exp(3 + z()) },
  {
    name: 'speed',
    distribution: 'student t(3) * 2 + 100',
    draw: (_u, z) => {
      const x = z();
      const chi2 = z() ** 2 + z() ** 2 + z() ** 2;
      return 100 + (2 * x) / Math.sqrt(chi2 / 3);
    },
  },
  { name: 'flow_rate', distribution: '100 u^2 (beta(0.5, 1))', draw: (u) => 100 * u() ** 2 },
  { name: 'voltage', distribution: 'normal(230, 2) rounded to 0.1 (many ties)', draw: (_u, z) => Math.round(10 * (230 + 2 * z())) / 10 },
  { name: 'score', distribution: 'logistic(0, 1)', draw: (u) => { const p = u(); return Math.log((p + 1e-12) / (1 - p)); } },
  { name: 'noise', distribution: 'normal(0, 0.001)', draw: (_u, z) => 0.001 * z() },
  { name: 'load_pct', distribution: 'normal(80, 15) clipped to [0, 100]', draw: (_u, z) => Math.min(100, Math.max(0, 80 + 15 * z())) },
  { name: 'energy_kwh', distribution: 'normal(500, 50), 0.5 % missing', draw: (u, z) => (u() < 0.005 ? Number.NaN : 500 + 50 * z()) },
];

/** The second column with missing values: `pressure` (0.5 % NaN), so two float columns carry them. */
const PRESSURE_MISSING = 0.005;

const PLANTS = ['north', 'south', 'east', 'west', 'central'] as const;
const PLANT_WEIGHTS = [0.35, 0.25, 0.2, 0.15, 0.05];
const SHIFTS = ['A', 'B', 'C'] as const;
const PRODUCTS = Array.from({ length: 500 }, (_, i) => `P-${String(i + 1).padStart(4, '0')}`);

export function referenceData(rows: number, seed: number): ReferenceData {
  const uniform = mulberry32(seed);
  const normal = normalSource(uniform);
  const columns: Column[] = [];
  const specs: ColumnSpec[] = [];

  for (const spec of FLOATS) {
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) values[i] = spec.draw(uniform, normal);
    if (spec.name === 'pressure') for (let i = 0; i < rows; i++) if (uniform() < PRESSURE_MISSING) values[i] = Number.NaN;
    columns.push(numberColumn(spec.name, values, false));
    specs.push({ name: spec.name, distribution: spec.name === 'pressure' ? `${spec.distribution}, 0.5 % missing` : spec.distribution });
  }

  // Integers: a count with many distinct values (numerical) and a small count (at most 10 values: categorical).
  const batch = new Float64Array(rows);
  for (let i = 0; i < rows; i++) batch[i] = 50 + Math.floor(-30 * Math.log(1 - uniform()));
  columns.push(numberColumn('batch_size', batch, true));
  specs.push({ name: 'batch_size', distribution: 'integer, 50 + floor(exponential(mean 30))' });
  const defects = new Float64Array(rows);
  for (let i = 0; i < rows; i++) defects[i] = Math.min(9, poisson(1.2, uniform));
  columns.push(numberColumn('defect_count', defects, true));
  specs.push({ name: 'defect_count', distribution: 'integer, min(9, poisson(1.2)): 10 values, categorical' });

  // Strings: the same few string objects repeated, as a reader interning its dictionary would give.
  columns.push(categoryColumn('plant', rows, () => PLANTS[weighted(PLANT_WEIGHTS, uniform())]!));
  specs.push({ name: 'plant', distribution: `5 categories, weights ${PLANT_WEIGHTS.join('/')}` });
  columns.push(categoryColumn('shift', rows, () => SHIFTS[Math.floor(3 * uniform())]!));
  specs.push({ name: 'shift', distribution: '3 categories, uniform' });
  const zipf = zipfSampler(PRODUCTS.length, 1.1);
  columns.push(categoryColumn('product_code', rows, () => (uniform() < 0.002 ? null : PRODUCTS[zipf(uniform())]!)));
  specs.push({ name: 'product_code', distribution: '500 categories, Zipf(1.1), 0.2 % missing' });

  return { table: { source: 'synthetic reference', rowCount: rows, columns }, specs };
}

function numberColumn(name: string, values: Float64Array, integer: boolean): NumberColumn {
  return { kind: 'number', name, values, integer };
}

function categoryColumn(name: string, rows: number, draw: () => string | null): CategoryColumn {
  const values = new Array<string | null>(rows);
  for (let i = 0; i < rows; i++) values[i] = draw();
  return { kind: 'category', name, values, dtype: 'string' };
}

/** Knuth's method: fine for a small mean. */
function poisson(mean: number, uniform: Draw): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = uniform();
  while (p > limit) {
    k++;
    p *= uniform();
  }
  return k;
}

function weighted(weights: ReadonlyArray<number>, u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (u < acc) return i;
  }
  return weights.length - 1;
}

/** Index in [0, n) with P(i) proportional to 1 / (i + 1)^s, by binary search over the cumulative weights. */
function zipfSampler(n: number, s: number): (u: number) => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s;
    cumulative[i] = total;
  }
  return (u) => {
    const target = u * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}
