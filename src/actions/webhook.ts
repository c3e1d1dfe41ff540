/**
 * Signed webhooks in the Standard Webhooks format: a JSON event `{type, id, timestamp, data}` with the headers
 * `webhook-id` (the notification id: the same on every retry, the receiver's idempotency key), `webhook-timestamp`
 * (unix seconds of this attempt; receivers reject ones older than 5 minutes, so it is taken at each attempt) and
 * `webhook-signature` (see sign.ts). The body itself is the same on every attempt: its `timestamp` is when the
 * notification was made.
 *
 * Every secret env variable must be set; with none configured the event is sent unsigned (the rule file decides
 * whether that is allowed).
 */
import type { ActionDefinition, Notification, TemplateValue } from '../rules/types.js';
import { isoTime } from './format.js';
import { type HttpClient, failed, readSecret, send, statusResult } from './http.js';
import { signingKey, webhookSignature } from './sign.js';
import type { DeliveryResult, Env, Sender } from './types.js';

type WebhookDefinition = Extract<ActionDefinition, { kind: 'webhook' }>;

/** One alert in the webhook event. */
export interface WebhookAlert {
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly starts_at: string;
  readonly ends_at: string | null;
  readonly value: number | null;
  readonly threshold: number | null;
}

/** The JSON event a webhook receiver gets. */
export interface WebhookEvent {
  readonly type: 'driftwatch.alert.firing' | 'driftwatch.alert.resolved';
  readonly id: string;
  /** When the notification was made (ISO 8601). */
  readonly timestamp: string;
  readonly data: {
    readonly rule: string;
    readonly model: string;
    readonly model_version: string | null;
    readonly segment: Readonly<Record<string, string>>;
    readonly severity: string;
    readonly status: 'firing' | 'resolved';
    readonly window: { readonly start: string; readonly end: string; readonly count: number };
    readonly alerts: ReadonlyArray<WebhookAlert>;
    readonly event_id: string;
    readonly reference_id: string;
    readonly report_url: string;
    readonly params: TemplateValue;
  };
}

/** Header names whose values are treated as secrets in error texts. */
const SECRET_HEADER = /auth|token|key|secret|cookie|signature/i;

/** The webhook sender of one action. */
export function createWebhookSender(def: WebhookDefinition, env: Env, client: HttpClient): Sender {
  return {
    action: def.name,
    kind: 'webhook',
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      const keys: Buffer[] = [];
      const secrets: string[] = [];
      for (const name of def.secretEnv) {
        const secret = readSecret(env, name);
        if (typeof secret !== 'string') return secret;
        const key = signingKey(secret);
        if (typeof key === 'string') return failed(null, `env ${name}: ${key}`);
        keys.push(key);
        secrets.push(secret);
      }
      const body = JSON.stringify(webhookEvent(n));
      const timestamp = Math.floor(client.now() / 1000);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(def.headers)) {
        headers[k.toLowerCase()] = v;
        if (SECRET_HEADER.test(k)) {
          secrets.push(v);
          // `Bearer <token>`: a receiver may echo the credential alone.
          const credential = /^\S+\s+(\S.*)$/.exec(v)?.[1];
          if (credential !== undefined) secrets.push(credential);
        }
      }
      headers['webhook-id'] = n.id;
      headers['webhook-timestamp'] = String(timestamp);
      if (keys.length > 0) headers['webhook-signature'] = webhookSignature(n.id, timestamp, body, keys);
      const out = await send(client, { method: 'POST', url: def.url, headers, body, secrets }, signal);
      if (!out.ok) return out.result;
      return statusResult(client, out.response);
    },
  };
}

/** The event of a notification (deterministic: the same notification gives the same bytes). */
export function webhookEvent(n: Notification): WebhookEvent {
  return {
    type: n.status === 'firing' ? 'driftwatch.alert.firing' : 'driftwatch.alert.resolved',
    id: n.id,
    timestamp: isoTime(n.createdAt),
    data: {
      rule: n.rule,
      model: n.model,
      model_version: n.modelVersion,
      segment: n.segment,
      severity: n.severity,
      status: n.status,
      window: { start: isoTime(n.window.start), end: isoTime(n.window.end), count: n.window.count },
      alerts: n.alerts.map((a) => ({
        fingerprint: a.fingerprint,
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        starts_at: isoTime(a.startsAt),
        ends_at: a.endsAt === null ? null : isoTime(a.endsAt),
        value: a.value,
        threshold: a.threshold,
      })),
      event_id: n.eventId,
      reference_id: n.referenceId,
      report_url: n.reportUrl,
      params: n.params,
    },
  };
}
