import express from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { generatePassword, hashPassword, requireAdmin } from '../auth.ts';
import { parseBody } from '../http.ts';

/** Console users: everyone sees who can be assigned a conversation; admins list, add, disable and enable users. */
export function userRoutes(services: Pick<Services, 'store' | 'now'>): express.Router {
  const router = express.Router();
  const store = () => services.store;
  const now = () => services.now();
  // Who staff can assign a conversation to.
  router.get('/people', async (_req, res) => {
    res.json((await store().users.list()).filter((u) => u.active === 1).map((u) => ({ id: u.id, name: u.name, role: u.role })));
  });
  router.get('/users', async (_req, res) => {
    res.json((await store().users.list()).map(({ password_hash: _p, ...u }) => u));
  });
  router.post('/users', requireAdmin, async (req, res) => {
    const body = parseBody(z.object({ email: z.string().email().max(200), name: z.string().trim().min(1).max(100), role: z.enum(['staff', 'admin']), password: z.string().min(10).max(200).optional() }).strict(), req, res);
    if (!body) return;
    if (await store().users.byEmail(body.email)) return void res.status(409).json({ error: 'exists', message: 'a user with that email exists' });
    // Without a password one is generated and shown once, to be handed over out of band.
    const password = body.password ?? generatePassword();
    const user = await store().users.create({ email: body.email, name: body.name, role: body.role, password_hash: await hashPassword(password), now: now().toISOString() });
    const { password_hash: _p, ...safe } = user;
    res.status(201).json(body.password ? safe : { ...safe, password });
  });
  router.post('/users/:id/:action', requireAdmin, async (req, res) => {
    const action = req.params.action as string;
    if (action !== 'disable' && action !== 'enable') return void res.status(404).json({ error: 'not_found' });
    const id = Number(req.params.id);
    if (id === req.user!.id) return void res.status(409).json({ error: 'refused', message: 'you cannot disable or enable yourself' });
    if (!await store().users.setActive(id, action === 'enable', now().toISOString())) return void res.status(404).json({ error: 'not_found' });
    // A disabled user's open sessions end now, not in 12 hours.
    if (action === 'disable') await store().users.deleteSessionsOf(id);
    res.json({ id, active: action === 'enable' });
  });
  return router;
}
