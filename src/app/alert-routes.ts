/**
 * The alerting part of the HTTP API. Reads are open; changes (silences, retries, reloads) need the bearer token
 * like every mutating route (src/api/server.ts).
 *
 * - `GET /v1/alerts`: pending and firing alerts; `GET /v1/alerts/history?model=&rule=&limit=`
 * - `GET /v1/silences`, `POST /v1/silences` {matchers, duration | ends_at, comment, created_by}, `DELETE /v1/silences/:id`
 * - `GET /v1/actions?status=`, `POST /v1/actions/retry` {ids} or {status: "dead"}
 * - `GET /v1/rules`, `POST /v1/rules/reload`
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import type { OutboxStatus, Silence, Store } from '../core/store.js';
import { firingAlerts } from '../rules/engine.js';
import type { AlertRuntime } from './alerts.js';
import { requeued } from './dispatcher.js';

const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;

const silenceSchema = z
  .object({
    matchers: z
      .array(z.object({ label: z.string().regex(LABEL, 'a label name (letters, digits, _)'), pattern: z.string().min(1).max(200) }).strict())
      .min(1, 'at least one matcher')
      .max(20),
    duration: z.string().optional(),
    starts_at: z.string().datetime().optional(),
    ends_at: z.string().datetime().optional(),
    comment: z.string().max(1000).default(''),
    created_by: z.string().max(200).default('api'),
  })
  .strict()
  .refine((s) => (s.duration === undefined) !== (s.ends_at === undefined), { message: 'give exactly one of duration or ends_at' });

const retrySchema = z
  .object({ ids: z.array(z.string().min(1)).min(1).max(1000).optional(), status: z.literal('dead').optional() })
  .strict()
  .refine((r) => (r.ids === undefined) !== (r.status === undefined), { message: 'give exactly one of ids or status: "dead"' });

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

/** A silence from a request body (also used by the CLI); throws Error with a user message. */
export function silenceFrom(body: unknown, now: number): Silence {
  const parsed = silenceSchema.safeParse(body);
  if (!parsed.success) throw new Error(issues(parsed.error));
  const s = parsed.data;
  const startsAt = s.starts_at ? Date.parse(s.starts_at) : now;
  let endsAt: number;
  if (s.duration !== undefined) {
    const ms = parseDuration(s.duration);
    if (ms === null || ms <= 0) throw new Error(`duration: expected a duration such as 30m or 2h, got ${JSON.stringify(s.duration)}`);
    endsAt = startsAt + ms;
  } else endsAt = Date.parse(s.ends_at!);
  if (endsAt <= startsAt) throw new Error('the silence ends before it starts');
  return { id: `sil-${randomUUID()}`, matchers: s.matchers, startsAt, endsAt, createdBy: s.created_by, comment: s.comment, createdAt: now };
}

export function registerAlertRoutes(app: FastifyInstance, o: { store: Store; alerts: AlertRuntime | null }): void {
  const { store } = o;

  app.get('/v1/alerts', async () => {
    const alerts = o.alerts ? firingAlerts(o.alerts.alerting.current as never) : [];
    return { alerts: alerts.map((a) => ({ ...a, startsAt: new Date(a.startsAt).toISOString() })) };
  });

  app.get('/v1/alerts/history', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = Math.min(Math.max(Number(q['limit'] ?? 100) || 100, 1), 10_000);
    const list = await store.listAlertHistory({ ...(q['model'] ? { model: q['model'] } : {}), ...(q['rule'] ? { rule: q['rule'] } : {}), limit });
    return { transitions: list };
  });

  app.get('/v1/silences', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return { silences: await store.listSilences(q['all'] === 'true' ? {} : { activeAt: Date.now() }) };
  });

  app.post('/v1/silences', async (req, reply) => {
    let silence: Silence;
    try {
      silence = silenceFrom(req.body, Date.now());
    } catch (e) {
      return reply.code(400).send({ error: (e as Error).message });
    }
    await store.putSilences([silence]);
    await o.alerts?.refreshSilences();
    return reply.code(201).send(silence);
  });

  app.delete('/v1/silences/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const found = (await store.listSilences()).find((s) => s.id === id);
    if (!found) return reply.code(404).send({ error: `no silence ${id}` });
    const now = Date.now();
    const expired = { ...found, endsAt: Math.min(found.endsAt, now), startsAt: Math.min(found.startsAt, now) };
    await store.putSilences([expired]);
    await o.alerts?.refreshSilences();
    return expired;
  });

  app.get('/v1/actions', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const status = q['status'];
    if (status !== undefined && !['pending', 'delivered', 'dead'].includes(status)) return { error: 'status is one of pending, delivered, dead' };
    const limit = Math.min(Math.max(Number(q['limit'] ?? 100) || 100, 1), 10_000);
    const entries = await store.listOutbox({ ...(status ? { status: status as OutboxStatus } : {}), limit });
    return { deliveries: entries };
  });

  app.post('/v1/actions/retry', async (req, reply) => {
    const parsed = retrySchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: issues(parsed.error) });
    const entries = parsed.data.ids
      ? await store.listOutbox({ ids: parsed.data.ids, limit: parsed.data.ids.length })
      : await store.listOutbox({ status: 'dead', limit: 10_000 });
    const again = requeued(entries.filter((e) => e.status !== 'delivered'), Date.now());
    await store.putOutbox(again);
    o.alerts?.dispatcher.wake();
    return { requeued: again.map((e) => e.id), skipped: entries.filter((e) => e.status === 'delivered').map((e) => e.id) };
  });

  app.get('/v1/rules', async () => {
    if (!o.alerts) return { rules_dir: null, rules: [], actions: [] };
    const set = o.alerts.rules();
    return {
      rules_dir: o.alerts.rulesDir,
      rules: set.rules.map((r) => ({ name: r.name, location: r.location, severity: r.severity, condition: r.condition.kind, actions: r.actions })),
      actions: [...set.actions.values()].map((a) => ({ name: a.name, kind: a.kind, location: a.location })),
    };
  });

  app.post('/v1/rules/reload', async (_req, reply) => {
    if (!o.alerts) return reply.code(409).send({ error: 'alerting is off (no rules directory)' });
    const r = await o.alerts.reload('API request');
    return reply.code(r.ok ? 200 : 422).send(r);
  });
}
