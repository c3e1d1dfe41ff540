/**
 * The bundled press telemetry (`fixtures/demo`) as the live demo uses it: a reference for model `press-qa` made
 * from `reference.csv` (its features only) and promoted, and the rows the generator draws from before and after
 * the drift.
 */
import { join } from 'node:path';
import type { DriftwatchConfig } from '../config/types.js';
import type { ReferenceSnapshot, Store } from '../core/store.js';
import type { Table } from '../core/table.js';
import { readTable } from '../files/read-table.js';
import { createReference, promoteReference } from '../reference/lifecycle.js';

export const DEMO_MODEL = 'press-qa';
export const DEMO_SEGMENT = ['lot_id'] as const;
export const DEMO_FEATURES = ['temp_c', 'pressure_bar', 'vibration_mm_s', 'cycle_time_s', 'line', 'shift', 'seal_ok'] as const;

/** One record per second of event time, in windows of five minutes (300 records each). */
export const DEMO_STEP_MS = 1000;
export const DEMO_WINDOW_MS = 5 * 60_000;
/** A lot every 15 minutes of event time (three windows), as the press works through them: L-2000, L-2001, ... */
export const DEMO_LOTS = { key: 'lot_id', records: (3 * DEMO_WINDOW_MS) / DEMO_STEP_MS, prefix: 'L-', first: 2000 } as const;

/** `base` with the demo's model (tumbling windows per lot, closed as soon as the stream passes them) and store. */
export function demoConfig(base: DriftwatchConfig, dataDir: string): DriftwatchConfig {
  return {
    ...base,
    store: { ...base.store, dataDir, clickhouseUrl: null },
    models: {
      [DEMO_MODEL]: {
        name: DEMO_MODEL,
        kind: 'telemetry',
        segmentBy: [DEMO_LOTS.key],
        features: null,
        window: { ...base.windows, type: 'tumbling', sizeMs: DEMO_WINDOW_MS, watermarkDelayMs: 0, allowedLatenessMs: 0, idleTimeoutMs: 2000 },
        evaluation: base.evaluation,
        task: null,
        positiveLabel: null,
        labelJoinMs: 0,
      },
    },
  };
}

export interface DemoData {
  readonly reference: ReferenceSnapshot;
  /** Rows like the reference's (drawn from it), and the drifted batch. */
  readonly normal: Table;
  readonly drifted: Table;
}

function select(table: Table, names: ReadonlyArray<string>): Table {
  return { ...table, columns: table.columns.filter((c) => names.includes(c.name)) };
}

/** The generator's rows: the reference's (drawn from before the drift) and the drifted batch. */
export async function readDemoTables(fixturesDir: string): Promise<{ readonly normal: Table; readonly drifted: Table }> {
  const [normal, drifted] = await Promise.all([readTable(join(fixturesDir, 'reference.csv')), readTable(join(fixturesDir, 'current.csv'))]);
  return { normal, drifted };
}

/** Creates (once: ids follow content) and promotes the demo reference; reads the generator's rows. */
export async function prepareDemo(store: Store, fixturesDir: string): Promise<DemoData> {
  const { normal, drifted } = await readDemoTables(fixturesDir);
  const { snapshot } = await createReference(store, select(normal, DEMO_FEATURES), {
    model: DEMO_MODEL,
    modelVersion: 'v1',
    source: { kind: 'file', path: join(fixturesDir, 'reference.csv'), format: 'csv' },
    by: 'driftwatch demo',
    reason: 'the demo reference',
  });
  await promoteReference(store, snapshot.id, { by: 'driftwatch demo', reason: 'the demo reference' });
  return { reference: snapshot, normal, drifted };
}
