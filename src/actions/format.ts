/**
 * Small pieces several senders share: times, numbers, segments, labels common to a group, and the checks on a
 * trigger's rendered parameters.
 */
import { createHash } from 'node:crypto';
import type { Notification, TemplateValue } from '../rules/types.js';
import { failed } from './http.js';
import type { DeliveryResult } from './types.js';

/** ISO 8601 in UTC (`2024-05-01T10:00:00.000Z`); 'invalid time' for a value no Date can hold. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? 'invalid time' : d.toISOString();
}

/** A number to 4 significant digits without trailing zeros: 0.123456 -> `0.1235`, 12345 -> `12350`, 1e-7 -> `1e-7`. */
export function sig4(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** `lot_id=L-1042, line=3` (keys sorted, so the same segment reads the same everywhere); '' for the whole model. */
export function segmentText(segment: Readonly<Record<string, string>>): string {
  return Object.keys(segment)
    .sort()
    .map((k) => `${k}=${segment[k] ?? ''}`)
    .join(', ');
}

/** The entries every record has with the same value (Alertmanager's commonLabels / commonAnnotations). */
export function commonEntries(records: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  const [first, ...rest] = records;
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) {
    if (rest.every((r) => Object.hasOwn(r, k) && r[k] === v)) out[k] = v;
  }
  return out;
}

/** Trigger kinds start pipeline runs; a resolved alert must never start one (the engine never asks, but a replay tool might). */
export function firingOnly(n: Notification): DeliveryResult | undefined {
  return n.status === 'firing' ? undefined : failed(null, 'trigger actions run on firing only');
}

/** The rendered parameters as a JSON object (Airflow `conf`, Kubeflow and Argo parameters), or why they are not one. */
export function paramsObject(n: Notification, what: string): { readonly [k: string]: TemplateValue } | DeliveryResult {
  const p = n.params;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    return failed(null, `${what} must be a JSON object, the rendered parameters are ${p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p}`);
  }
  return p as { readonly [k: string]: TemplateValue };
}

/** True for a `DeliveryResult` (as opposed to the value a helper returns on success). */
export function isResult(x: unknown): x is DeliveryResult {
  return typeof x === 'object' && x !== null && 'outcome' in x && typeof (x as { outcome: unknown }).outcome === 'string';
}

/**
 * An id made safe for a receiver that allows fewer characters and fewer of them.
 *
 * - An id that is already clean and short enough is used as is.
 * - A longer lowercase hex id (a hash, which is what the engine makes) keeps its first `maxCleanLength`
 *   characters: a prefix of a hash is as unique as a hash (40 hex digits are 160 bits).
 * - Anything else is cleaned and cut, and 12 hex digits of the id's SHA-256 are appended: two ids that differ
 *   only in removed or cut characters must not become the same run (the second, different trigger would be taken
 *   for a duplicate and silently skipped).
 */
export function safeId(id: string, clean: (id: string) => string, maxCleanLength: number, separator: string): string {
  const cleaned = clean(id);
  if (cleaned === id && id !== '' && id.length <= maxCleanLength) return id;
  if (cleaned === id && /^[0-9a-f]+$/.test(id)) return id.slice(0, maxCleanLength);
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 12);
  const head = cleaned.slice(0, maxCleanLength);
  return head === '' ? hash : `${head}${separator}${hash}`;
}
