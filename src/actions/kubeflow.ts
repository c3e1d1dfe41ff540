/**
 * Kubeflow Pipelines v2 runs: `POST {url}/apis/v2beta1/runs {display_name, description, pipeline_version_reference,
 * runtime_config: {parameters}, experiment_id?}`.
 *
 * KFP has no idempotency key, so the run's `display_name` is the notification id and each attempt first lists runs
 * with that name (`GET /apis/v2beta1/runs?filter=...`, the v2beta1 filter JSON with an EQUALS predicate); when one
 * exists (a retry after a lost answer, a replay) the notification counts as delivered. The check and the create are
 * not atomic, which is fine because the outbox never runs two attempts of one notification at the same time.
 */
import type { ActionDefinition, Notification } from '../rules/types.js';
import { firingOnly, isResult, paramsObject, segmentText } from './format.js';
import { bearerFromEnv, type HttpClient, joinUrl, parseJson, responseError, retry, send, statusResult } from './http.js';
import type { DeliveryResult, Env, Sender } from './types.js';

type KubeflowDefinition = Extract<ActionDefinition, { kind: 'kubeflow' }>;

/** The v2beta1 `filter` query value that finds runs named `displayName`. */
export function kubeflowNameFilter(displayName: string): string {
  return JSON.stringify({ predicates: [{ key: 'display_name', operation: 'EQUALS', string_value: displayName }] });
}

/** The Kubeflow Pipelines sender of one action. */
export function createKubeflowSender(def: KubeflowDefinition, env: Env, client: HttpClient): Sender {
  return {
    action: def.name,
    kind: 'kubeflow',
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      const notFiring = firingOnly(n);
      if (notFiring) return notFiring;
      const parameters = paramsObject(n, 'Kubeflow parameters');
      if (isResult(parameters)) return parameters;
      const auth = bearerFromEnv(env, def.tokenEnv);
      if (isResult(auth)) return auth;
      const { headers, secrets } = auth;

      const query = new URLSearchParams({ filter: kubeflowNameFilter(n.id), page_size: '10' });
      if (def.experimentId !== '') query.set('experiment_id', def.experimentId);
      const listed = await send(
        client,
        { method: 'GET', url: joinUrl(def.url, `/apis/v2beta1/runs?${query.toString()}`), headers, secrets },
        signal,
      );
      if (!listed.ok) return listed.result;
      const list = listed.response;
      if (list.status < 200 || list.status >= 300) return statusResult(client, list);
      const body = parseJson(list);
      if (typeof body !== 'object' || body === null) {
        return retry(list.status, null, responseError(list, `HTTP ${list.status} but the run list could not be read`));
      }
      const runs: unknown = (body as { runs?: unknown }).runs ?? [];
      // Checked here too: a server that ignored the filter must not make us skip a run that was never created.
      const existing = Array.isArray(runs) ? runs.find((r) => isRecord(r) && r['display_name'] === n.id) : undefined;
      if (existing !== undefined) {
        const id = isRecord(existing) && typeof existing['run_id'] === 'string' ? ` ${existing['run_id']}` : '';
        return { outcome: 'delivered', status: list.status, detail: `run${id} already exists` };
      }

      const segment = segmentText(n.segment);
      const create = {
        display_name: n.id,
        description: `driftwatch: rule ${n.rule} fired for model ${n.model}${segment === '' ? '' : ` (${segment})`}`,
        pipeline_version_reference: { pipeline_id: def.pipelineId, pipeline_version_id: def.pipelineVersionId },
        runtime_config: { parameters },
        ...(def.experimentId !== '' ? { experiment_id: def.experimentId } : {}),
      };
      const created = await send(
        client,
        { method: 'POST', url: joinUrl(def.url, '/apis/v2beta1/runs'), headers, body: JSON.stringify(create), secrets },
        signal,
      );
      if (!created.ok) return created.result;
      const res = created.response;
      const made = parseJson(res);
      const runId = isRecord(made) && typeof made['run_id'] === 'string' ? ` ${made['run_id']}` : '';
      return statusResult(client, res, `run${runId} created (HTTP ${res.status})`);
    },
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
