/**
 * Seeded data for the streaming benchmark (stream-bench.ts): per model, a reference table and a stream of records
 * with 20 numerical features, as JSON messages (one record each) and as Arrow IPC stream messages (one block of
 * records each) holding exactly the same values, so that both formats feed the pipeline identical numbers.
 */
import { makeVector, Table as ArrowTable, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import type { Column, Table } from '../src/core/table.js';
import { mulberry32, normalSource } from './seeded-random.js';

export const FEATURES = 20;
export const FEATURE_NAMES: ReadonlyArray<string> = Array.from({ length: FEATURES }, (_, j) => `f${String(j).padStart(2, '0')}`);

/** Feature j is N(MEAN_j, SCALE_j) in the reference (and in the stream of every model but the drifting one). */
const mean = (j: number): number => (j - 10) * 0.7;
const scale = (j: number): number => 1 + 0.15 * j;

/** The last model's stream drifts: its first DRIFTED features are shifted by 0.3 of their scale. */
const DRIFTED = 12;
const SHIFT = 0.3;

/** Values are rounded to 5 decimals, so the JSON text (shortest round-trip form) and Arrow carry the same doubles. */
const round5 = (x: number): number => Math.round(x * 1e5) / 1e5;

export function modelNames(models: number): string[] {
  return Array.from({ length: models }, (_, m) => `m${m}`);
}

/** A model's reference: `rows` rows of the undrifted distribution. */
export function referenceTable(model: number, rows: number, seed: number): Table {
  const normal = normalSource(mulberry32((seed ^ (0x9e3779b9 * (model + 1))) >>> 0));
  const columns: Column[] = FEATURE_NAMES.map((name) => ({ kind: 'number', name, values: new Float64Array(rows), integer: false }));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < FEATURES; j++) (columns[j]!.values as Float64Array)[i] = round5(mean(j) + scale(j) * normal());
  }
  return { source: `stream-bench reference m${model}`, rowCount: rows, columns };
}

/** A block of consecutive stream records of one model: event times and one array per feature. */
export interface Block {
  readonly model: string;
  readonly ts: Float64Array;
  readonly features: ReadonlyArray<Float64Array>;
}

/** The stream of one model: blocks of `size` records, event times `baseTs + index` (one millisecond apart). */
export class ModelStream {
  private readonly normal: () => number;
  private next = 0;
  constructor(
    readonly model: number,
    private readonly models: number,
    private readonly baseTs: number,
    seed: number,
  ) {
    this.normal = normalSource(mulberry32((seed ^ (0x85ebca6b * (model + 1)) ^ 0x5bd1e995) >>> 0));
  }

  block(size: number): Block {
    const drifting = this.model === this.models - 1 && this.models > 1;
    const ts = new Float64Array(size);
    const features = FEATURE_NAMES.map(() => new Float64Array(size));
    for (let i = 0; i < size; i++) {
      ts[i] = this.baseTs + this.next++;
      for (let j = 0; j < FEATURES; j++) {
        const shift = drifting && j < DRIFTED ? SHIFT * scale(j) : 0;
        features[j]![i] = round5(mean(j) + shift + scale(j) * this.normal());
      }
    }
    return { model: `m${this.model}`, ts, features };
  }
}

/** One JSON object per record: `{"model":"m0","ts":<epoch ms>,"features":{"f00":...,...}}` (about 330 bytes). */
export function jsonRecords(block: Block): string[] {
  const n = block.ts.length;
  const out = new Array<string>(n);
  const head = `{"model":"${block.model}","ts":`;
  for (let i = 0; i < n; i++) {
    let s = `${head}${block.ts[i]!},"features":{`;
    for (let j = 0; j < FEATURES; j++) s += `${j === 0 ? '' : ','}"${FEATURE_NAMES[j]!}":${block.features[j]![i]!}`;
    out[i] = `${s}}}`;
  }
  return out;
}

/** The block as one Arrow IPC stream in the flat layout decode.ts reads: `model` (Utf8), `ts` (Float64), features. */
export function arrowMessage(block: Block): Uint8Array {
  const n = block.ts.length;
  const columns: Record<string, Vector> = {
    model: vectorFromArray(new Array<string>(n).fill(block.model), new Utf8()),
    ts: makeVector(block.ts),
  };
  FEATURE_NAMES.forEach((name, j) => {
    columns[name] = makeVector(block.features[j]!);
  });
  return tableToIPC(new ArrowTable(columns), 'stream');
}
