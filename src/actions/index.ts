/**
 * Action senders: one HTTP delivery attempt per call for each action kind (Slack, Standard Webhooks, Alertmanager
 * format, Airflow 2/3, Kubeflow Pipelines v2, Argo Workflows). The dispatcher builds one sender per action with
 * `createSender`, calls `deliver` for each outbox row and decides from the `DeliveryResult` whether to mark the row
 * done, retry it later (honouring `retryAfterMs`) or give up.
 *
 * Secrets are named by environment variable in the definition and read from `env` at every delivery.
 */
import type { ActionDefinition, Notification } from '../rules/types.js';
import { createAirflowSender } from './airflow.js';
import { createAlertmanagerSender } from './alertmanager.js';
import { createArgoSender } from './argo.js';
import { failed, httpClient } from './http.js';
import { createKubeflowSender } from './kubeflow.js';
import { createSlackSender } from './slack.js';
import type { DeliveryResult, Env, Sender, SenderOptions } from './types.js';
import { createWebhookSender } from './webhook.js';

export type { DeliveryResult, Env, Sender, SenderOptions } from './types.js';
export { airflowRunId } from './airflow.js';
export { alertmanagerPayload } from './alertmanager.js';
export { argoWorkflowName } from './argo.js';
export { parseRetryAfter } from './http.js';
export { toWhsec } from './sign.js';
export { slackMessage } from './slack.js';
export { webhookEvent } from './webhook.js';

/**
 * The sender of one action. `env` is kept and read at each delivery (pass `process.env` so a rotated secret is
 * picked up without a restart). Options: `timeoutMs` per request (default 10 s), `now` (clock), `fetch`.
 *
 * The returned sender never throws: an unexpected error becomes a `failed` result.
 */
export function createSender(def: ActionDefinition, env: Env, options: SenderOptions = {}): Sender {
  const client = httpClient(options);
  const sender = build(def, env, client);
  return {
    action: sender.action,
    kind: sender.kind,
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      try {
        return await sender.deliver(n, signal);
      } catch (error) {
        // A bug of ours, not the receiver's doing: retrying would repeat it. No message text (it could hold a value).
        const name = error instanceof Error ? error.name : typeof error;
        return failed(null, `${def.kind} action ${def.name}: internal error (${name})`);
      }
    },
  };
}

function build(def: ActionDefinition, env: Env, client: ReturnType<typeof httpClient>): Sender {
  switch (def.kind) {
    case 'slack':
      return createSlackSender(def, env, client);
    case 'webhook':
      return createWebhookSender(def, env, client);
    case 'alertmanager':
      return createAlertmanagerSender(def, env, client);
    case 'airflow':
      return createAirflowSender(def, env, client);
    case 'kubeflow':
      return createKubeflowSender(def, env, client);
    case 'argo':
      return createArgoSender(def, env, client);
  }
}
