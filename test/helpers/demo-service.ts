/**
 * A running driftwatch fed by the demo stream, for tests of what sits on top of it (alerts, metrics, pages): a
 * database of its own holding the demo reference, the shipped rules (a copy) pointed at local receivers, and the
 * demo generator as the source (3600 records, the drifted batch after half of them, a lot every three windows).
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_LOTS, DEMO_MODEL, DEMO_SEGMENT, DEMO_STEP_MS, DEMO_WINDOW_MS, demoConfig, prepareDemo, type DemoData } from '../../src/app/demo-data.js';
import { startDemoReceivers, type DemoReceivers } from '../../src/app/demo-receivers.js';
import { parseConfig } from '../../src/config/index.js';
import type { DriftwatchConfig } from '../../src/config/types.js';
import type { Source } from '../../src/core/stream.js';
import { METHOD_NAMES } from '../../src/drift/methods.js';
import { createDemoSource } from '../../src/sources/demo.js';
import { openStore, storeConfigFromEnv } from '../../src/store/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DEMO_FIXTURES = join(ROOT, 'fixtures', 'demo');

export interface DemoSetup {
  readonly config: DriftwatchConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly data: DemoData;
  /** The copy of the shipped rules in force (null with `rules: false`). */
  readonly rulesDir: string | null;
  readonly receivers: DemoReceivers | null;
}

export interface DemoSetupOptions {
  /** Copy the shipped rules and start receivers they act on (default true). */
  readonly rules?: boolean;
  /** More config YAML (after the `alerts:` section the helper writes). */
  readonly yaml?: string;
  /** The database to use (default: a fresh random name). */
  readonly database?: string;
  /** Called with what must be stopped at the end (the receivers). */
  readonly onCleanup: (fn: () => Promise<void>) => void;
}

/** A fresh database in `dataDir` with the demo reference promoted, and the config and env of a service on it. */
export async function demoSetup(dataDir: string, o: DemoSetupOptions): Promise<DemoSetup> {
  const database = o.database ?? `dw_test_${randomBytes(6).toString('hex')}`;
  let env: NodeJS.ProcessEnv = { DRIFTWATCH_DATA_DIR: dataDir, CLICKHOUSE_DATABASE: database, DRIFTWATCH_HTTP_HOST: '127.0.0.1', DRIFTWATCH_HTTP_PORT: '0' };
  let rulesDir: string | null = null;
  let receivers: DemoReceivers | null = null;
  let alerts = 'alerts: { enabled: false }\n';
  if (o.rules ?? true) {
    mkdirSync(dataDir, { recursive: true });
    rulesDir = mkdtempSync(join(dataDir, 'rules-'));
    cpSync(join(ROOT, 'rules'), rulesDir, { recursive: true });
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const airflow = { username: 'ops', password: randomBytes(8).toString('hex') };
    const started = await startDemoReceivers({ webhookSecret: secret, airflow });
    receivers = started;
    o.onCleanup(() => started.close());
    env = {
      ...env,
      SLACK_WEBHOOK_URL: started.slackUrl,
      DRIFTWATCH_WEBHOOK_URL: started.webhookUrl,
      DRIFTWATCH_WEBHOOK_SECRET: secret,
      AIRFLOW_URL: started.airflowUrl,
      AIRFLOW_USERNAME: airflow.username,
      AIRFLOW_PASSWORD: airflow.password,
    };
    alerts = `alerts:\n  rules_dir: ${JSON.stringify(rulesDir)}\n`;
  }
  const config = demoConfig(parseConfig(`${alerts}${o.yaml ?? ''}`, '(test)', env, METHOD_NAMES), dataDir);
  const store = await openStore(storeConfigFromEnv({ CLICKHOUSE_URL: '', CLICKHOUSE_DATABASE: database }, { dataDir }));
  try {
    return { config, env, data: await prepareDemo(store, DEMO_FIXTURES), rulesDir, receivers };
  } finally {
    await store.close();
  }
}

/** The demo generator as fast as possible: `records` records ending now, the drifted batch after half of them. */
export function demoStream(data: DemoData, o: { readonly records?: number; readonly inject?: { readonly at: number; readonly value: string } } = {}): Source {
  const records = o.records ?? 3600;
  return createDemoSource({
    model: DEMO_MODEL,
    normal: data.normal,
    drifted: data.drifted,
    segmentBy: DEMO_SEGMENT,
    lots: DEMO_LOTS,
    records,
    driftAfter: records / 2,
    startTs: Math.floor((Date.now() - records * DEMO_STEP_MS) / DEMO_WINDOW_MS) * DEMO_WINDOW_MS,
    stepMs: DEMO_STEP_MS,
    ratePerSecond: 0,
    ...(o.inject ? { inject: o.inject } : {}),
  });
}
