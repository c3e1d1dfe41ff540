/** Argo Workflows: a deterministic, DNS-1123-valid workflow name, and 409 AlreadyExists counted as delivered. */
import { afterEach, describe, expect, it } from 'vitest';
import { argoWorkflowName, createSender } from '../../src/actions/index.js';
import type { ActionDefinition } from '../../src/rules/types.js';
import { type TestServer, makeNotification, startTestServer } from './helpers.js';

type ArgoDef = Extract<ActionDefinition, { kind: 'argo' }>;

function argoDef(url: string, tokenEnv = ''): ArgoDef {
  return {
    kind: 'argo',
    name: 'argo-retrain',
    location: 'rules/actions.yaml:30:3',
    url,
    namespace: 'ml-pipelines',
    workflowTemplate: 'retrain-template',
    tokenEnv,
    parameters: {},
  };
}

/** Kubernetes object names (RFC 1123 subdomain), at most 63 so they also fit label values. */
const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('argo workflow name', () => {
  it('is dw- and the first 40 characters of a lowercase hex id', () => {
    const id = '3f2a9c0d4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8';
    expect(argoWorkflowName(id)).toBe(`dw-${id.slice(0, 40)}`);
    expect(argoWorkflowName('abc')).toBe('dw-abc');
  });

  it('is deterministic, valid and distinct for ids with characters a name cannot hold', () => {
    const ids = ['Rule/Model:2024-05-01T10:05', 'rule/model:2024-05-01t10:05', 'ABC', 'abc!', '', '---', 'ünïcödé', 'x'.repeat(500), 'x'.repeat(501)];
    const names = ids.map(argoWorkflowName);
    for (const name of names) {
      expect(name).toMatch(DNS_1123);
      expect(name.length).toBeLessThanOrEqual(63);
    }
    expect(new Set(names).size).toBe(ids.length);
    expect(ids.map(argoWorkflowName)).toEqual(names);
  });
});

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('argo sender', () => {
  it('submits the template once; a second submit is 409 AlreadyExists and counts as delivered', async () => {
    const names = new Set<string>();
    const server = await startTestServer((req) => {
      if (req.headers.authorization !== 'Bearer argo-sa-token') return { status: 401, body: { code: 16, message: 'token not valid' } };
      const body = JSON.parse(req.body) as { submitOptions: { name: string } };
      const name = body.submitOptions.name;
      if (names.has(name)) return { status: 409, body: { code: 6, message: `workflows.argoproj.io "${name}" already exists` } };
      names.add(name);
      return { status: 200, body: { metadata: { name, namespace: 'ml-pipelines' } } };
    });
    servers.push(server);
    const sender = createSender(argoDef(`${server.url}/`, 'ARGO_TOKEN'), { ARGO_TOKEN: 'argo-sa-token' });
    const n = makeNotification({ kind: 'argo', params: { model: 'press-qa', threshold: 0.2, features: ['a', 'b'] } });
    const name = argoWorkflowName(n.id);

    expect(await sender.deliver(n)).toEqual({ outcome: 'delivered', status: 200, detail: `workflow ${name} submitted (HTTP 200)` });
    expect(await sender.deliver(n)).toEqual({ outcome: 'delivered', status: 409, detail: `workflow ${name} already triggered (409)` });
    expect(names.size).toBe(1);

    const req = server.requests[0]!;
    expect(req.url).toBe('/api/v1/workflows/ml-pipelines/submit');
    expect(JSON.parse(req.body)).toEqual({
      namespace: 'ml-pipelines',
      resourceKind: 'WorkflowTemplate',
      resourceName: 'retrain-template',
      submitOptions: {
        name,
        parameters: ['model=press-qa', 'threshold=0.2', 'features=["a","b"]'],
        labels: `driftwatch.io/notification=${name.slice(3)}`,
      },
    });

    const unauthorized = await createSender(argoDef(server.url, 'ARGO_TOKEN'), { ARGO_TOKEN: 'stale' }).deliver(n);
    expect(unauthorized).toMatchObject({ outcome: 'failed', status: 401 });
  });

  it('never submits for a resolved notification', async () => {
    const server = await startTestServer(() => ({ status: 200, body: {} }));
    servers.push(server);
    const result = await createSender(argoDef(server.url), {}).deliver(makeNotification({ status: 'resolved' }));
    expect(result).toEqual({ outcome: 'failed', status: null, error: 'trigger actions run on firing only' });
    expect(server.requests).toHaveLength(0);
  });
});
