/**
 * References from the live stream, through the running service: `POST /v1/references/capture` starts collecting a
 * model's next N records (or an event-time span of them) from whatever source feeds the pipeline, then creates a
 * reference from them (sampled and profiled like any other) and, if asked, promotes it. `GET
 * /v1/references/capture/:id` tells how far it is. `driftwatch reference create --from-stream` drives both.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Store } from '../core/store.js';
import { CaptureError, type Pipeline } from '../pipeline/pipeline.js';
import { createReference, promoteReference, ReferenceError, DEFAULT_MAX_ROWS } from '../reference/lifecycle.js';

export const CAPTURE_PATH = '/v1/references/capture';

/** How long a capture may run at most (processing time), unless the request says otherwise. */
const DEFAULT_TIMEOUT_MS = 3_600_000;
/** Finished captures kept for GET. */
const KEEP_FINISHED = 100;

const requestSchema = z
  .object({
    model: z.string().min(1),
    model_version: z.string().default(''),
    records: z.number().int().min(1).max(10_000_000).optional(),
    duration_ms: z.number().int().min(1).optional(),
    promote: z.boolean().default(false),
    max_rows: z.number().int().min(1).default(DEFAULT_MAX_ROWS),
    timeout_ms: z.number().int().min(1).max(86_400_000).default(DEFAULT_TIMEOUT_MS),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine((r) => (r.records === undefined) !== (r.duration_ms === undefined), { message: 'give exactly one of records or duration_ms' });

export interface CaptureStatus {
  readonly id: string;
  readonly model: string;
  readonly status: 'running' | 'done' | 'failed';
  readonly records: number;
  readonly snapshot?: string;
  readonly promoted?: boolean;
  readonly error?: string;
}

export function registerCaptureRoutes(app: FastifyInstance, deps: { readonly pipeline: Pipeline; readonly store: Store; readonly log: (line: string) => void }): { stop(): void } {
  const captures = new Map<string, CaptureStatus>();
  const running = new Set<AbortController>();
  const set = (s: CaptureStatus) => {
    captures.set(s.id, s);
    if (captures.size > KEEP_FINISHED) {
      for (const [id, c] of captures) {
        if (captures.size <= KEEP_FINISHED) break;
        if (c.status !== 'running') captures.delete(id);
      }
    }
  };

  app.post(CAPTURE_PATH, async (req, reply) => {
    let body: unknown = req.body;
    if (Buffer.isBuffer(body)) {
      try {
        body = JSON.parse(body.toString('utf8'));
      } catch {
        return reply.code(400).send({ error: 'the body is not valid JSON' });
      }
    }
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    }
    const r = parsed.data;
    const id = `cap-${randomUUID()}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), r.timeout_ms);
    timer.unref();
    let count = 0;
    let table;
    try {
      // Fails at once when the model has no schema; otherwise runs in the background.
      const pending = deps.pipeline.capture(
        r.model,
        {
          ...(r.records !== undefined ? { records: r.records } : {}),
          ...(r.duration_ms !== undefined ? { durationMs: r.duration_ms } : {}),
          onProgress: (n) => {
            count = n;
            const cur = captures.get(id);
            if (cur && cur.status === 'running') set({ ...cur, records: n });
          },
        },
        controller.signal,
      );
      table = pending;
    } catch (e) {
      clearTimeout(timer);
      return reply.code(400).send({ error: (e as Error).message });
    }
    running.add(controller);
    set({ id, model: r.model, status: 'running', records: 0 });
    table
      .then(async (rows) => {
        const what = r.records !== undefined ? `the next ${r.records} records` : `${r.duration_ms} ms of event time`;
        const { snapshot } = await createReference(deps.store, rows, {
          model: r.model,
          modelVersion: r.model_version,
          source: { kind: 'stream', detail: `${what} from ${new Date().toISOString()}` },
          maxRows: r.max_rows,
          by: 'api',
          reason: r.reason ?? 'captured from the live stream',
        });
        if (r.promote) await promoteReference(deps.store, snapshot.id, { by: 'api', reason: r.reason ?? 'captured from the live stream' });
        set({ id, model: r.model, status: 'done', records: rows.rowCount, snapshot: snapshot.id, promoted: r.promote });
        deps.log(`reference ${snapshot.id} for ${r.model} captured from the stream (${rows.rowCount} records${r.promote ? ', promoted' : ''})\n`);
      })
      .catch((e: unknown) => {
        const message = e instanceof CaptureError || e instanceof ReferenceError ? e.message : `could not create the reference: ${(e as Error).message}`;
        set({ id, model: r.model, status: 'failed', records: count, error: message });
      })
      .finally(() => {
        clearTimeout(timer);
        running.delete(controller);
      });
    return reply.code(202).send(captures.get(id));
  });

  app.get<{ Params: { id: string } }>(`${CAPTURE_PATH}/:id`, async (req, reply) => {
    const s = captures.get(req.params.id);
    return s ? reply.send(s) : reply.code(404).send({ error: `no capture ${req.params.id}` });
  });

  return {
    stop() {
      for (const c of running) c.abort();
    },
  };
}
