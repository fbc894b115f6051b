import express from 'express';
import type { Store } from '../data/store.ts';
import type { Services } from '../services/context.ts';

/**
 * `GET /readyz`: whether the service can do its work now, per dependency —
 * the model and each provider, `ok` or `degraded` from the outcome of their
 * latest calls (`/healthz` stays the database's liveness). 200 when all are
 * ok, 503 with the list when any is degraded, so an operator's probe sees an
 * outage instead of "all is well".
 */

type Status = 'ok' | 'degraded';
const PROVIDERS = ['erp', 'pix', 'fiscal', 'whatsapp'] as const;
const NAMES: Record<(typeof PROVIDERS)[number], string> = { erp: 'omie', pix: 'pix', fiscal: 'fiscal', whatsapp: 'zapi' };

/** A model call older than this says nothing about now. */
const MODEL_FRESH_MS = 10 * 60_000;

export function readiness(services: Pick<Services, 'erp' | 'pix' | 'fiscal' | 'whatsapp' | 'now'>, store: () => Store): express.Router {
  const last = new Map<string, { ok: boolean; at: string; error?: string }>();
  // Each provider client is wrapped once: every call's outcome is remembered (no extra traffic to probe).
  for (const key of PROVIDERS) {
    const client = services[key] as unknown as Record<string, unknown>;
    const name = NAMES[key];
    services[key] = new Proxy(client, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) {
            result.then(
              () => last.set(name, { ok: true, at: services.now().toISOString() }),
              (error: unknown) => last.set(name, { ok: false, at: services.now().toISOString(), error: error instanceof Error ? error.name : 'error' }),
            );
          }
          return result;
        };
      },
    }) as never;
  }
  const router = express.Router();
  router.get('/readyz', async (_req, res) => {
    const s = store();
    let database: Status = 'degraded';
    try {
      database = (await s.ping()) ? 'ok' : 'degraded';
    } catch {
      database = 'degraded';
    }
    const call = await s.turns.lastModelCall();
    const fresh = call && services.now().getTime() - Date.parse(call.created_at) < MODEL_FRESH_MS;
    const model = { status: (fresh && call.error ? 'degraded' : 'ok') as Status, last_call_at: call?.created_at ?? null, ...(fresh && call.error ? { error: call.error } : {}) };
    const providers = Object.fromEntries(
      Object.values(NAMES).map((name) => {
        const l = last.get(name);
        return [name, { status: (l && !l.ok ? 'degraded' : 'ok') as Status, last_call_at: l?.at ?? null, ...(l && !l.ok ? { error: l.error } : {}) }];
      }),
    );
    const ready = database === 'ok' && model.status === 'ok' && Object.values(providers).every((p) => p.status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'degraded', database, model, providers });
  });
  return router;
}
