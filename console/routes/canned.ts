import express from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { requireAdmin } from '../auth.ts';
import { parseBody } from '../http.ts';

/**
 * Canned replies: pt-BR texts with variables, read by everyone, managed by
 * admins. Variables: {primeiro_nome}, {nome}, {pedido}, {atendente}.
 */

export const CANNED_VARIABLES = ['primeiro_nome', 'nome', 'pedido', 'atendente'] as const;

/** Fills a canned reply's variables; the ones with no value stay as written and are listed in `missing`, for staff to fill. */
export function renderCanned(body: string, values: { nome: string | null; pedido: string | null; atendente: string | null }): { text: string; missing: string[] } {
  const firstName = (name: string | null) => name?.trim().split(/\s+/)[0] ?? null;
  const map: Record<string, string | null> = { nome: values.nome, primeiro_nome: firstName(values.nome), pedido: values.pedido, atendente: firstName(values.atendente) };
  const missing = new Set<string>();
  const text = body.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    if (!(name in map)) return whole;
    const v = map[name];
    if (!v) {
      missing.add(name);
      return whole;
    }
    return v;
  });
  return { text, missing: [...missing] };
}

const fields = {
  title: z.string().trim().min(1).max(80),
  body: z.string().trim().min(1).max(2000).refine((b) => [...b.matchAll(/\{([a-z_]+)\}/g)].every((m) => (CANNED_VARIABLES as readonly string[]).includes(m[1]!)), {
    message: `unknown variable; use ${CANNED_VARIABLES.map((v) => `{${v}}`).join(', ')}`,
  }),
};

export function cannedRoutes(services: Pick<Services, 'store' | 'now' | 'publish'>): express.Router {
  const router = express.Router();
  const store = () => services.store;
  const now = () => services.now().toISOString();
  const changed = (by: string) => services.publish({ type: 'canned', by });

  router.get('/canned-replies', async (req, res) => {
    res.json({ variables: CANNED_VARIABLES, items: await store().consoleWork.cannedReplies(req.query.archived === '1') });
  });
  router.post('/canned-replies', requireAdmin, async (req, res) => {
    const body = parseBody(z.object(fields).strict(), req, res);
    if (!body) return;
    const row = await store().consoleWork.addCannedReply(body.title, body.body, req.user!.email, now());
    changed(req.user!.email);
    res.status(201).json(row);
  });
  router.put('/canned-replies/:id', requireAdmin, async (req, res) => {
    const body = parseBody(z.object({ title: fields.title.optional(), body: fields.body.optional(), archived: z.boolean().optional() }).strict(), req, res);
    if (!body) return;
    const id = Number(req.params.id);
    if (!await store().consoleWork.cannedReply(id)) return void res.status(404).json({ error: 'not_found' });
    const row = await store().consoleWork.updateCannedReply(id, body, now());
    changed(req.user!.email);
    res.json(row);
  });
  return router;
}
