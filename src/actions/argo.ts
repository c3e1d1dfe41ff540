/**
 * Argo Workflows: submit a WorkflowTemplate through the Argo Server, `POST {url}/api/v1/workflows/{namespace}/submit
 * {namespace, resourceKind: 'WorkflowTemplate', resourceName, submitOptions: {name, parameters, labels}}`.
 *
 * Exactly once: the workflow name is derived from the notification id, so a second submit of the same notification
 * is refused with 409 (AlreadyExists), which counts as delivered.
 */
import type { ActionDefinition, Notification } from '../rules/types.js';
import { firingOnly, isResult, paramsObject, safeId } from './format.js';
import { bearerFromEnv, type HttpClient, joinUrl, send, statusResult } from './http.js';
import type { DeliveryResult, Env, Sender } from './types.js';

type ArgoDefinition = Extract<ActionDefinition, { kind: 'argo' }>;

/** Label put on every workflow driftwatch submits; its value is the id part of the workflow name. */
export const ARGO_NOTIFICATION_LABEL = 'driftwatch.io/notification';

/**
 * The id as a DNS-1123 label fragment (see `safeId`): lowercase letters and digits; a hex id longer than 40 keeps its
 * first 40; any other id that had to be cleaned or cut gets `-` and 12 hex digits of its SHA-256, so different ids
 * stay different. At most 53 characters, a valid label value.
 */
export function argoIdPart(notificationId: string): string {
  return safeId(notificationId, (id) => id.toLowerCase().replace(/[^a-z0-9]/g, ''), 40, '-');
}

/** The workflow name of a notification: `dw-<argoIdPart>`, deterministic, a valid DNS-1123 name of at most 56 chars. */
export function argoWorkflowName(notificationId: string): string {
  return `dw-${argoIdPart(notificationId)}`;
}

/** The Argo Workflows sender of one action. */
export function createArgoSender(def: ArgoDefinition, env: Env, client: HttpClient): Sender {
  return {
    action: def.name,
    kind: 'argo',
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      const notFiring = firingOnly(n);
      if (notFiring) return notFiring;
      const params = paramsObject(n, 'Argo parameters');
      if (isResult(params)) return params;
      const auth = bearerFromEnv(env, def.tokenEnv);
      if (isResult(auth)) return auth;
      const { headers, secrets } = auth;
      const name = argoWorkflowName(n.id);
      const body = {
        namespace: def.namespace,
        resourceKind: 'WorkflowTemplate',
        resourceName: def.workflowTemplate,
        submitOptions: {
          name,
          // Argo takes `name=value` strings; values that are not strings go as JSON.
          parameters: Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`),
          labels: `${ARGO_NOTIFICATION_LABEL}=${argoIdPart(n.id)}`,
        },
      };
      const out = await send(
        client,
        {
          method: 'POST',
          url: joinUrl(def.url, `/api/v1/workflows/${encodeURIComponent(def.namespace)}/submit`),
          headers,
          body: JSON.stringify(body),
          secrets,
        },
        signal,
      );
      if (!out.ok) return out.result;
      const res = out.response;
      if (res.status === 409) return { outcome: 'delivered', status: 409, detail: `workflow ${name} already triggered (409)` };
      return statusResult(client, res, `workflow ${name} submitted (HTTP ${res.status})`);
    },
  };
}
