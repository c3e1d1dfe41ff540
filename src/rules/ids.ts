/**
 * Deterministic identities of the alert engine: alert fingerprints, group and cooldown keys, notification ids. All
 * are derived from content only (rule, model, segment, labels, window bounds), never from time or randomness, so a
 * replay or a restart produces the same ids and every delivery is idempotent.
 */
import { createHash } from 'node:crypto';

/** Hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Plain code-unit ordering (not locale dependent, so the same on every machine). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The entries of a string record sorted by key: the canonical form hashed and printed everywhere. */
export function sortedPairs(record: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(record).sort((a, b) => compareText(a[0], b[0]));
}

/** Alert fingerprint: the first 16 hex characters of SHA-256 over the JSON of the sorted label pairs. */
export function labelFingerprint(labels: Readonly<Record<string, string>>): string {
  return sha256Hex(JSON.stringify(sortedPairs(labels))).slice(0, 16);
}

/** URI-encodes one key component (identity for ordinary names such as `press-qa`, `lot_id`, `L-1042`). */
function part(text: string): string {
  return encodeURIComponent(text);
}

/**
 * The key of one rule/model/segment group: `rule/model/k1=v1,k2=v2` (segment pairs sorted by key; every component
 * URI-encoded, so a `/`, `,` or `=` inside a name cannot make two groups collide). Also `Notification.groupKey`.
 */
export function groupKeyOf(rule: string, model: string, segment: Readonly<Record<string, string>>): string {
  const pairs = sortedPairs(segment)
    .map(([k, v]) => `${part(k)}=${part(v)}`)
    .join(',');
  return `${part(rule)}/${part(model)}/${pairs}`;
}

/** The key of a rule's cooldown for one model (shared by all its segments): `rule/model`. */
export function cooldownKeyOf(rule: string, model: string): string {
  return `${part(rule)}/${part(model)}`;
}

/**
 * Notification id: `n-` + 24 hex of SHA-256 over the JSON of [rule, model, sorted segment pairs, window start,
 * window end, status, action], and a count window's id after them when it has one (two count windows may share
 * their bounds). The same window's firing for the same action always gets the same id (webhook id,
 * Airflow `dag_run_id`, outbox row id).
 */
export function notificationId(
  rule: string,
  model: string,
  segment: Readonly<Record<string, string>>,
  windowStart: number,
  windowEnd: number,
  status: 'firing' | 'resolved',
  action: string,
  countId?: string,
): string {
  const parts = [rule, model, sortedPairs(segment), windowStart, windowEnd, status, action];
  const body = JSON.stringify(countId === undefined ? parts : [...parts, countId]);
  return `n-${sha256Hex(body).slice(0, 24)}`;
}
