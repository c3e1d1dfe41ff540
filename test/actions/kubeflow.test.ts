/** Kubeflow Pipelines v2 runs: list by display name first (KFP has no idempotency key), then create. */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createSender } from '../../src/actions/index.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type Answer, type SeenRequest, type TestServer, makeNotification, startTestServer } from './helpers.js';

type KubeflowDef = Extract<ActionDefinition, { kind: 'kubeflow' }>;

function kubeflowDef(url: string, over: Partial<KubeflowDef> = {}): KubeflowDef {
  return {
    kind: 'kubeflow',
    name: 'kfp-retrain',
    location: 'rules/actions.yaml:20:3',
    url,
    pipelineId: 'pipe-1',
    pipelineVersionId: 'ver-7',
    experimentId: '',
    tokenEnv: '',
    parameters: {},
    ...over,
  };
}

interface Run {
  run_id: string;
  display_name: string;
  experiment_id?: string;
  runtime_config: unknown;
}

/** The two KFP v2beta1 run endpoints, honouring the display_name EQUALS filter (unless told to ignore filters). */
async function startKfp(options: { token?: string; ignoreFilter?: boolean; override?: (req: SeenRequest) => Answer | undefined } = {}) {
  const runs: Run[] = [];
  const server = await startTestServer((req) => {
    const overridden = options.override?.(req);
    if (overridden) return overridden;
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) return { status: 401, body: { error: 'unauthenticated' } };
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/apis/v2beta1/runs') return { status: 404, body: { error: 'not found' } };
    if (req.method === 'GET') {
      const filter = JSON.parse(url.searchParams.get('filter') ?? '{"predicates":[]}') as {
        predicates: Array<{ key: string; operation: string; string_value: string }>;
      };
      const experiment = url.searchParams.get('experiment_id');
      const found = runs.filter(
        (r) =>
          (options.ignoreFilter === true ||
            filter.predicates.every((p) => p.key === 'display_name' && p.operation === 'EQUALS' && r.display_name === p.string_value)) &&
          (experiment === null || r.experiment_id === experiment),
      );
      // KFP answers {} when nothing matches.
      return { status: 200, body: found.length === 0 ? {} : { runs: found, total_size: found.length } };
    }
    const body = JSON.parse(req.body) as Run;
    const run = { ...body, run_id: randomUUID() };
    runs.push(run);
    return { status: 200, body: { ...run, state: 'PENDING' } };
  });
  return { ...server, runs };
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function kfp(options: Parameters<typeof startKfp>[0] = {}) {
  const s = await startKfp(options);
  servers.push(s);
  return s;
}

describe('kubeflow sender', () => {
  it('lists then creates; a second delivery finds the run and creates no other', async () => {
    const server = await kfp();
    const sender = createSender(kubeflowDef(server.url), {});
    const n = makeNotification({ kind: 'kubeflow', params: { learning_rate: 0.01, model: 'press-qa' } });

    const first = await sender.deliver(n);
    expect(first).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(first.outcome === 'delivered' && first.detail).toBe(`run ${server.runs[0]!.run_id} created (HTTP 200)`);
    const second = await sender.deliver(n);
    expect(second).toEqual({ outcome: 'delivered', status: 200, detail: `run ${server.runs[0]!.run_id} already exists` });

    expect(server.runs).toHaveLength(1);
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET']);
    const list = new URL(server.requests[0]!.url, 'http://x');
    expect(JSON.parse(list.searchParams.get('filter')!)).toEqual({
      predicates: [{ key: 'display_name', operation: 'EQUALS', string_value: n.id }],
    });
    expect(JSON.parse(server.requests[1]!.body)).toEqual({
      display_name: n.id,
      description: 'driftwatch: rule key-feature-drift fired for model press-qa (lot_id=L-1042)',
      pipeline_version_reference: { pipeline_id: 'pipe-1', pipeline_version_id: 'ver-7' },
      runtime_config: { parameters: { learning_rate: 0.01, model: 'press-qa' } },
    });
  });

  it('scopes to the experiment and sends the bearer token from the environment', async () => {
    const server = await kfp({ token: 'kfp-token-abc' });
    const def = kubeflowDef(server.url, { experimentId: 'exp-9', tokenEnv: 'KFP_TOKEN' });
    const sender = createSender(def, { KFP_TOKEN: 'kfp-token-abc' });
    const n = makeNotification({ id: 'exp-run' });
    expect((await sender.deliver(n)).outcome).toBe('delivered');
    expect(new URL(server.requests[0]!.url, 'http://x').searchParams.get('experiment_id')).toBe('exp-9');
    expect(JSON.parse(server.requests[1]!.body)).toMatchObject({ experiment_id: 'exp-9' });

    expect(await createSender(def, {}).deliver(n)).toEqual({ outcome: 'failed', status: null, error: 'env KFP_TOKEN is not set' });
    const wrong = await createSender(def, { KFP_TOKEN: 'wrong-token-value' }).deliver(n);
    expect(wrong).toMatchObject({ outcome: 'failed', status: 401 });
    expect(JSON.stringify(wrong)).not.toContain('wrong-token-value');
  });

  it('does not take another run for this one when the server ignores the filter', async () => {
    const server = await kfp({ ignoreFilter: true });
    const sender = createSender(kubeflowDef(server.url), {});
    await sender.deliver(makeNotification({ id: 'one' }));
    expect((await sender.deliver(makeNotification({ id: 'two' }))).outcome).toBe('delivered');
    expect(server.runs.map((r) => r.display_name)).toEqual(['one', 'two']);
  });

  it('retries when the list fails or cannot be read, and fails on a rejected create', async () => {
    let mode: 'list500' | 'garbage' | 'create400' = 'list500';
    const server = await kfp({
      override: (req) => {
        if (mode === 'list500' && req.method === 'GET') return { status: 500, body: { error: 'db down' } };
        if (mode === 'garbage' && req.method === 'GET') return { status: 200, body: '<html>proxy login</html>' };
        if (mode === 'create400' && req.method === 'POST') return { status: 400, body: { error: 'pipeline version not found' } };
        return undefined;
      },
    });
    const sender = createSender(kubeflowDef(server.url), {});
    expect(await sender.deliver(makeNotification())).toMatchObject({ outcome: 'retry', status: 500 });
    mode = 'garbage';
    const garbage = await sender.deliver(makeNotification());
    expect(garbage).toMatchObject({ outcome: 'retry', status: 200 });
    expect(garbage.outcome === 'retry' && garbage.error).toContain('the run list could not be read: <html>proxy login</html>');
    mode = 'create400';
    const rejected = await sender.deliver(makeNotification());
    expect(rejected).toMatchObject({ outcome: 'failed', status: 400 });
    expect(rejected.outcome === 'failed' && rejected.error).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/apis\/v2beta1\/runs: HTTP 400: .*pipeline version not found/);
    expect(server.runs).toHaveLength(0);
  });
});
