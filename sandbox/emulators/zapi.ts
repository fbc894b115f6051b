import { randomBytes } from 'node:crypto';
import express from 'express';
import { z } from 'zod';
import { SANDBOX_CREDENTIALS } from '../credentials.ts';
import { emulate, type EmulatorContext } from './common.ts';
import type { World } from './state.ts';

/** Z-API send-text (PROVIDERS.md §1.2), recording every message in the outbox. */
const sendText = z.looseObject({ phone: z.string().regex(/^(\d{10,15}|\d{5,20}@lid|[\d-]+-group)$/), message: z.string().min(1).max(4096) });

export function zapiRouter(ctx: EmulatorContext, world: World): express.Router {
  const router = express.Router();
  const { instanceId, instanceToken, clientToken } = SANDBOX_CREDENTIALS.zapi;
  const errorBody = (status: number) => ({ error: status === 429 ? 'Too many requests' : 'Internal error' });
  router.post('/instances/:id/token/:token/send-text', express.json({ limit: '64kb', type: () => true }), emulate(ctx, 'zapi', errorBody, (req, res) => {
    if (req.params.id !== instanceId || req.params.token !== instanceToken) return void res.status(400).json({ error: 'Instance not found' });
    const given = req.get('client-token');
    if (!given) return void res.status(400).json({ error: 'your client-token is not configured' });
    if (given !== clientToken) return void res.status(403).json({ error: 'Client-Token inválido' });
    if (!req.is('application/json')) return void res.status(415).json({ error: 'Content-Type must be application/json' });
    const parsed = sendText.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const messageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    const zaapId = randomBytes(16).toString('hex').toUpperCase();
    const entry = { phone: parsed.data.phone, message: parsed.data.message, messageId, zaapId, at: new Date().toISOString() };
    world.state.outbox.push(entry);
    world.sent(entry);
    res.json({ zaapId, messageId, id: messageId });
  }));
  return router;
}
