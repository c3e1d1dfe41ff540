/**
 * Slack incoming webhooks: `POST {text, blocks}` to the webhook URL (a secret, read from the environment at each
 * delivery). Slack answers 200 `ok`; 400/403/404/410 (`invalid_payload`, `no_service`, `channel_is_archived`...) are
 * permanent; 429 carries Retry-After.
 *
 * Slack allows about one message per second per webhook and has no idempotency key (the outbox de-duplicates on our
 * side). The sender keeps the definition's `minIntervalMs` between attempts and honours a 429's Retry-After for the
 * attempts after it: a call that comes too early sends nothing and answers `retry` with the wait, so the dispatcher
 * never needs to sleep inside a delivery.
 *
 * Message limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks, 3000 characters per section text,
 * 10 fields of 2000, 150 for a header. A group of 200 drifted features becomes one list cut with "… and N more".
 */
import type { ActionDefinition, Alert, Notification } from '../rules/types.js';
import { isoTime, segmentText, sig4 } from './format.js';
import { type HttpClient, parseRetryAfter, readSecret, retry, send, statusResult } from './http.js';
import type { DeliveryResult, Env, Sender } from './types.js';

type SlackDefinition = Extract<ActionDefinition, { kind: 'slack' }>;

/** A Block Kit block as this sender builds them (header, section, context, divider). */
export type SlackBlock = { readonly type: string } & Readonly<Record<string, unknown>>;

/** The body of an incoming-webhook POST. */
export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  readonly text: string;
  readonly blocks: ReadonlyArray<SlackBlock>;
}

/** Slack's documented limits, which the message builder keeps. */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, fieldText: 2000, fields: 10, headerText: 150 } as const;

/** The Slack sender of one action. */
export function createSlackSender(def: SlackDefinition, env: Env, client: HttpClient): Sender {
  let nextAllowedAt = 0;
  return {
    action: def.name,
    kind: 'slack',
    async deliver(n: Notification, signal?: AbortSignal): Promise<DeliveryResult> {
      const url = readSecret(env, def.urlEnv);
      if (typeof url !== 'string') return url;
      const now = client.now();
      if (now < nextAllowedAt) {
        const wait = nextAllowedAt - now;
        return retry(null, wait, `Slack webhook (env ${def.urlEnv}): rate limited, next message allowed in ${wait} ms`);
      }
      // Reserved before the request, so two concurrent calls cannot both take the slot.
      nextAllowedAt = now + def.minIntervalMs;
      const path = pathOf(url);
      const out = await send(
        client,
        {
          method: 'POST',
          url,
          body: JSON.stringify(slackMessage(n)),
          label: `POST Slack webhook (env ${def.urlEnv})`,
          secrets: path.length > 1 ? [url, path] : [url],
        },
        signal,
      );
      if (!out.ok) return out.result;
      if (out.response.status === 429) {
        const after = parseRetryAfter(out.response.headers.get('retry-after'), client.now());
        if (after !== null) nextAllowedAt = Math.max(nextAllowedAt, client.now() + after);
      }
      return statusResult(client, out.response, `Slack answered HTTP ${out.response.status}`);
    },
  };
}

/** The Block Kit message of a notification: header, summary, what drifted, facts, and a link to the report. */
export function slackMessage(n: Notification): SlackMessage {
  const firing = n.status === 'firing';
  const sev = n.severity.toUpperCase();
  const icon = firing ? (n.severity === 'critical' ? ':rotating_light:' : ':warning:') : ':white_check_mark:';
  const headline = `[${sev}] ${n.rule} ${firing ? 'firing' : 'resolved'} — ${n.model}`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${icon} ${headline}`, SLACK_LIMITS.headerText), emoji: true } },
  ];

  const notes = annotationsOf(n.alerts);
  const noteLines = [notes.summary, notes.description].filter((s): s is string => s !== undefined && s !== '');
  if (noteLines.length > 0) {
    blocks.push(section(noteLines.map((s, i) => (i === 0 ? `*${escape(s)}*` : escape(s))).join('\n')));
  }

  if (n.alerts.length > 0) {
    const title = firing ? `*What drifted* (${n.alerts.length})` : `*Back to normal* (${n.alerts.length})`;
    blocks.push(section(listWithin(title, n.alerts.map(alertLine), SLACK_LIMITS.sectionText)));
  }

  const segment = segmentText(n.segment);
  const since = n.alerts.reduce((min, a) => Math.min(min, a.startsAt), n.window.end);
  const fields = [
    ['Model', n.model],
    ['Model version', n.modelVersion ?? 'unknown'],
    ['Segment', segment === '' ? 'all' : segment],
    ['Window', `${windowText(n.window.start, n.window.end)} (${n.window.count.toLocaleString('en-US')} rows)`],
    [firing ? 'Since' : 'Resolved', firing ? utcText(since) : utcText(resolvedAt(n))],
    ['Severity', n.severity],
  ].map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${k}*\n${escape(v ?? '')}`, SLACK_LIMITS.fieldText) }));
  blocks.push({ type: 'section', fields: fields.slice(0, SLACK_LIMITS.fields) });

  const link = n.reportUrl === '' ? 'report unavailable' : `<${linkTarget(n.reportUrl)}|View the window report>`;
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: cut(`${link} · rule \`${escape(n.rule)}\` · driftwatch`, SLACK_LIMITS.sectionText) }],
  });

  const first = notes.summary !== undefined && notes.summary !== '' ? `: ${notes.summary}` : '';
  return { text: cut(`${headline}${first}`, SLACK_LIMITS.sectionText), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** `• *feature* (method): 0.1234 vs threshold 0.05`, or the flag / check / rule for alerts without a feature. */
function alertLine(a: Alert): string {
  const l = a.labels;
  const what = l['feature'] ?? l['check'] ?? l['metric'] ?? l['alertname'] ?? 'alert';
  const method = l['method'] !== undefined ? ` (${escape(cut(l['method'], 40))})` : '';
  const value =
    a.value === null ? 'flagged' : a.threshold === null ? sig4(a.value) : `${sig4(a.value)} vs threshold ${sig4(a.threshold)}`;
  return `• *${escape(cut(what, 100))}*${method}: ${value}`;
}

/** `title` then as many lines as fit in `limit` characters, the rest summed up as "… and N more". */
function listWithin(title: string, lines: ReadonlyArray<string>, limit: number): string {
  let text = title;
  for (let i = 0; i < lines.length; i++) {
    const more = `\n… and ${lines.length - i - 1} more`;
    const next = `${text}\n${lines[i]}`;
    const reserve = i === lines.length - 1 ? 0 : more.length;
    if (next.length + reserve > limit) return `${text}\n… and ${lines.length - i} more`;
    text = next;
  }
  return text;
}

/** The first alert's summary and description (per-feature texts differ; the list below shows every feature). */
function annotationsOf(alerts: ReadonlyArray<Alert>): { summary?: string; description?: string } {
  const first = alerts[0]?.annotations ?? {};
  const out: { summary?: string; description?: string } = {};
  const summary = first['summary'];
  const description = first['description'];
  if (summary !== undefined) out.summary = cut(summary, 1000);
  if (description !== undefined) out.description = cut(description, 1500);
  return out;
}

function resolvedAt(n: Notification): number {
  const ends = n.alerts.map((a) => a.endsAt).filter((e): e is number => e !== null);
  return ends.length > 0 ? ends.reduce((a, b) => Math.max(a, b)) : n.window.end;
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(text, SLACK_LIMITS.sectionText) } };
}

/** `2024-05-01 10:00 UTC` (seconds shown only when not zero). */
function utcText(ms: number): string {
  return `${shortIso(ms)} UTC`;
}

/** `2024-05-01 10:00–10:05 UTC`, the date repeated only when the window crosses midnight. */
function windowText(start: number, end: number): string {
  const a = shortIso(start);
  const b = shortIso(end);
  const sameDay = a.slice(0, 10) === b.slice(0, 10);
  return `${a}–${sameDay ? b.slice(11) : b} UTC`;
}

function shortIso(ms: number): string {
  const iso = isoTime(ms);
  if (iso === 'invalid time') return iso;
  const [date, time = ''] = iso.split('T');
  const hms = time.slice(0, 8);
  return `${date} ${hms.endsWith(':00') && time.slice(8, 12) === '.000' ? hms.slice(0, 5) : hms}`;
}

/** Slack's mrkdwn needs only these three escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `|` and `>` end a `<url|text>` link early. */
function linkTarget(url: string): string {
  return url.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C');
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}
