import express from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { changeCaps, issueMandate, listMandates, setMandateStatus } from '../../refunds/mandate.ts';
import { requireAdmin } from '../auth.ts';
import { parseBody } from '../http.ts';

/** Mandates: everyone reads them with their window usage and events; admins issue, pause, resume, revoke and change caps. */
const reasonBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(500) }).strict();
const cents = z.number().int().min(0).max(1_000_000_000);

export function mandateRoutes(services: Pick<Services, 'store' | 'keys' | 'now' | 'publish'>): express.Router {
  const router = express.Router();
  const store = () => services.store;
  const now = () => services.now();
  router.get('/mandates', async (_req, res) => {
    const since = (seconds: number) => new Date(now().getTime() - seconds * 1000).toISOString();
    res.json(
      await Promise.all((await listMandates(store(), services.keys.mandate, now())).map(async (m) => {
        const doc = m.document as { window_seconds?: number } | null;
        return { ...m, window_used_cents: await store().refunds.mandateWindowCents(m.id, since(doc?.window_seconds ?? 86_400)), events: await store().mandates.events(m.id) };
      })),
    );
  });
  router.post('/mandates', requireAdmin, async (req, res) => {
    const body = parseBody(z.object({ id: z.string().regex(/^[a-z0-9_]{1,64}$/), agent_id: z.string().min(1).max(64), per_refund_cap_cents: cents, window_cap_cents: cents, window_seconds: z.number().int().min(60).max(31_536_000).default(86_400), expires_at: z.iso.datetime().optional() }).strict(), req, res);
    if (!body) return;
    if (await store().mandates.latest(body.id)) return void res.status(409).json({ error: 'exists', message: `mandate ${body.id} exists; change its caps instead` });
    const doc = await issueMandate(store(), services.keys.mandate, { ...body, issued_by: req.user!.email }, now());
    services.publish({ type: 'mandate', mandateId: doc.id });
    res.status(201).json(doc);
  });
  router.post('/mandates/:id/:action', requireAdmin, async (req, res) => {
    const action = req.params.action as string;
    if (action !== 'pause' && action !== 'resume' && action !== 'revoke') return void res.status(404).json({ error: 'not_found' });
    const body = parseBody(reasonBody, req, res);
    if (!body) return;
    const result = await setMandateStatus(store(), req.params.id as string, action, req.user!.email, body.reason, now());
    if (!result.ok) return void res.status(409).json({ error: 'refused', message: result.error });
    services.publish({ type: 'mandate', mandateId: req.params.id, status: result.status });
    res.json(result);
  });
  router.put('/mandates/:id/caps', requireAdmin, async (req, res) => {
    const body = parseBody(z.object({ per_refund_cap_cents: cents.optional(), window_cap_cents: cents.optional(), window_seconds: z.number().int().min(60).optional(), expires_at: z.iso.datetime().optional() }).strict(), req, res);
    if (!body) return;
    const caps = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    if (Object.keys(caps).length === 0) return void res.status(400).json({ error: 'invalid_input', message: 'nothing to change' });
    const result = await changeCaps(store(), services.keys.mandate, req.params.id as string, caps, req.user!.email, now());
    if (!result.ok) return void res.status(409).json({ error: 'refused', message: result.error });
    services.publish({ type: 'mandate', mandateId: req.params.id });
    res.json(result.mandate);
  });
  return router;
}
