/**
 * The Alertmanager webhook payload, version "4" (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
 * any receiver that already understands Alertmanager (PagerDuty bridges, chat relays, home-grown handlers) takes
 * driftwatch's alerts unchanged. As in Alertmanager, a firing alert's `endsAt` is Go's zero time
 * `0001-01-01T00:00:00Z`, and `externalURL` is where the alerts can be looked at (the report's origin).
 */
import type { ActionDefinition, Notification } from '../rules/types.js';
import { commonEntries, isoTime } from './format.js';
import { type HttpClient, send, statusResult } from './http.js';
import type { DeliveryResult, Env, Sender } from './types.js';

type AlertmanagerDefinition = Extract<ActionDefinition, { kind: 'alertmanager' }>;

/** Go's zero `time.Time`, which Alertmanager sends for an alert that has not ended. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One alert of the payload. */
export interface AlertmanagerAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
}

/** The webhook body Alertmanager itself would send. */
export interface AlertmanagerPayload {
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly alerts: ReadonlyArray<AlertmanagerAlert>;
}

/** The Alertmanager-format sender of one action (the definition carries no secret). */
export function createAlertmanagerSender(def: AlertmanagerDefinition, _env: Env, client: HttpClient): Sender {
  return {
    action: def.name,
    kind: 'alertmanager',
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      const body = JSON.stringify(alertmanagerPayload(n, def.receiver));
      const out = await send(client, { method: 'POST', url: def.url, body }, signal);
      if (!out.ok) return out.result;
      return statusResult(client, out.response);
    },
  };
}

/** The version 4 payload of a notification. */
export function alertmanagerPayload(n: Notification, receiver: string): AlertmanagerPayload {
  return {
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: 0,
    status: n.status,
    receiver,
    groupLabels: { alertname: n.rule, model: n.model },
    commonLabels: commonEntries(n.alerts.map((a) => a.labels)),
    commonAnnotations: commonEntries(n.alerts.map((a) => a.annotations)),
    externalURL: originOf(n.reportUrl),
    alerts: n.alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: isoTime(a.startsAt),
      endsAt: a.endsAt === null ? ZERO_TIME : isoTime(a.endsAt),
      generatorURL: n.reportUrl,
      fingerprint: a.fingerprint,
    })),
  };
}

function originOf(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? '' : origin;
  } catch {
    return '';
  }
}
