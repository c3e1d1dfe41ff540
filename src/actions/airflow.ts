/**
 * Airflow DAG runs, triggered once per firing notification.
 *
 * - Airflow 2 (stable REST API v1): `POST {url}/api/v1/dags/{dag_id}/dagRuns {dag_run_id, conf}` with basic auth.
 * - Airflow 3 (REST API v2): a JWT from `POST {url}/auth/token {username, password}` (kept by the sender until a 401,
 *   then fetched once more), and `POST {url}/api/v2/dags/{dag_id}/dagRuns {dag_run_id, logical_date: null, conf}`
 *   with `Authorization: Bearer`. Airflow 3 rejects unknown fields and needs `logical_date` present.
 *
 * Exactly once: the `dag_run_id` is derived from the notification id, so a retry or a replay of a delivery whose
 * answer was lost gets 409 Conflict, which counts as delivered ("already triggered").
 *
 * One `deliver` call is one trigger attempt; with Airflow 3 it may make up to three requests (token, run, and after a
 * 401 a new token and the run again), each with the sender's timeout.
 */
import type { ActionDefinition, Notification } from '../rules/types.js';
import { firingOnly, isResult, paramsObject, safeId } from './format.js';
import {
  type HttpClient,
  type HttpResponse,
  basicAuth,
  failed,
  joinUrl,
  parseJson,
  readSecret,
  responseError,
  retry,
  send,
  statusResult,
} from './http.js';
import type { DeliveryResult, Env, Sender } from './types.js';

type AirflowDefinition = Extract<ActionDefinition, { kind: 'airflow' }>;

/** Prefix of every run id driftwatch creates, so runs it triggered are easy to find in the Airflow UI. */
export const AIRFLOW_RUN_PREFIX = 'driftwatch__';

/**
 * The `dag_run_id` of a notification: `driftwatch__<id>`. When the id has characters outside Airflow 2's run id
 * pattern `[A-Za-z0-9_.~:+-]` (they become `_`) or is longer than 200, a hash of it is appended (see `safeId`).
 */
export function airflowRunId(notificationId: string): string {
  return AIRFLOW_RUN_PREFIX + safeId(notificationId, (id) => id.replace(/[^A-Za-z0-9_.~:+-]/g, '_'), 200, '__');
}

/** The Airflow sender of one action (2 or 3 by `apiVersion`). */
export function createAirflowSender(def: AirflowDefinition, env: Env, client: HttpClient): Sender {
  let token: string | undefined;

  async function fetchToken(username: string, password: string, signal?: AbortSignal): Promise<string | DeliveryResult> {
    const out = await send(
      client,
      { method: 'POST', url: joinUrl(def.url, '/auth/token'), body: JSON.stringify({ username, password }), secrets: [password] },
      signal,
    );
    if (!out.ok) return out.result;
    const res = out.response;
    if (res.status === 401 || res.status === 403) {
      return failed(res.status, responseError(res, `HTTP ${res.status} (credentials from env ${def.usernameEnv}/${def.passwordEnv} rejected)`));
    }
    if (res.status < 200 || res.status >= 300) return statusResult(client, res);
    const body = parseJson(res);
    if (body === undefined) return retry(res.status, null, responseError(res, `HTTP ${res.status} but the token answer could not be read`));
    const accessToken = typeof body === 'object' && body !== null ? (body as { access_token?: unknown }).access_token : undefined;
    if (typeof accessToken !== 'string' || accessToken === '') return failed(res.status, `${res.label}: HTTP ${res.status} without an access_token`);
    return accessToken;
  }

  function triggerResult(res: HttpResponse, runId: string): DeliveryResult {
    if (res.status === 409) return { outcome: 'delivered', status: 409, detail: `dag run ${runId} already triggered (409)` };
    return statusResult(client, res, `dag run ${runId} triggered (HTTP ${res.status})`);
  }

  return {
    action: def.name,
    kind: 'airflow',
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      const notFiring = firingOnly(n);
      if (notFiring) return notFiring;
      const conf = paramsObject(n, 'Airflow conf');
      if (isResult(conf)) return conf;
      const username = readSecret(env, def.usernameEnv);
      if (typeof username !== 'string') return username;
      const password = readSecret(env, def.passwordEnv);
      if (typeof password !== 'string') return password;
      const runId = airflowRunId(n.id);
      const dag = encodeURIComponent(def.dagId);

      if (def.apiVersion === 2) {
        const auth = basicAuth(username, password);
        const out = await send(
          client,
          {
            method: 'POST',
            url: joinUrl(def.url, `/api/v1/dags/${dag}/dagRuns`),
            headers: { authorization: auth.header },
            body: JSON.stringify({ dag_run_id: runId, conf }),
            secrets: auth.secrets,
          },
          signal,
        );
        return out.ok ? triggerResult(out.response, runId) : out.result;
      }

      const body = JSON.stringify({ dag_run_id: runId, logical_date: null, conf });
      for (let attempt = 0; attempt < 2; attempt++) {
        const fresh = token === undefined;
        if (token === undefined) {
          const got = await fetchToken(username, password, signal);
          if (typeof got !== 'string') return got;
          token = got;
        }
        const used = token;
        const out = await send(
          client,
          {
            method: 'POST',
            url: joinUrl(def.url, `/api/v2/dags/${dag}/dagRuns`),
            headers: { authorization: `Bearer ${used}` },
            body,
            secrets: [used, password],
          },
          signal,
        );
        if (!out.ok) return out.result;
        if (out.response.status !== 401) return triggerResult(out.response, runId);
        // Expired or revoked: forget it (unless a concurrent call already replaced it); a fresh token that is refused is final.
        if (token === used) token = undefined;
        if (fresh) return failed(401, responseError(out.response, 'HTTP 401 with a new token'));
      }
      return failed(401, `POST ${def.url.replace(/\/+$/, '')}/api/v2/dags/${dag}/dagRuns: HTTP 401 after a token refresh`);
    },
  };
}
