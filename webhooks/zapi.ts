import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { parseChatId } from '../core/phone.ts';
import type { Logger } from '../core/logger.ts';
import type { Store } from '../data/store.ts';
import { secretsEqual } from './secret.ts';

/**
 * `POST /webhooks/zapi[/<token>]` (CONTRACT.md): authenticate, validate,
 * dedupe on messageId (a UNIQUE constraint), store, answer 200 at once; the
 * turn runs after the answer. fromMe, group, newsletter, broadcast and status
 * events are stored as ignored and never answered.
 */

const NON_MESSAGE_CALLBACKS = ['deliverycallback', 'messagestatuscallback', 'connectedcallback', 'disconnectedcallback', 'presencechatcallback'];

const event = z.looseObject({ type: z.string().min(1).max(100) });

/** The fields of Z-API's ReceivedCallback we rely on (PROVIDERS.md §1.4); the rest is kept as sent. */
export const receivedCallback = z.looseObject({
  type: z.string(),
  instanceId: z.string().max(200).optional(),
  messageId: z.string().min(1).max(200),
  phone: z.string().min(1).max(200),
  fromMe: z.boolean().optional(),
  isGroup: z.boolean().optional(),
  isNewsletter: z.boolean().optional(),
  broadcast: z.boolean().optional(),
  isStatusReply: z.boolean().optional(),
  momment: z.number().int().optional(),
  text: z.looseObject({ message: z.string().max(65_536) }).optional(),
  image: z.looseObject({ caption: z.string().max(65_536).nullish() }).optional(),
  video: z.looseObject({ caption: z.string().max(65_536).nullish() }).optional(),
  buttonsResponseMessage: z.looseObject({ message: z.string().max(65_536) }).optional(),
  listResponseMessage: z.looseObject({ message: z.string().max(65_536) }).optional(),
});

export interface ZapiWebhookOptions {
  /** Read at each request: the sandbox's reset swaps the store. */
  store: () => Store;
  logger: Logger;
  webhookToken: string;
  /** When set, events from another instance are refused. */
  instanceId?: string;
  now: () => Date;
  /** Called after the answer for each conversation with new text. */
  onMessage: (conversationId: string) => void;
}

export function zapiWebhook(options: ZapiWebhookOptions): express.Router {
  const router = express.Router();
  const json = express.json({ limit: '256kb', type: () => true, strict: true });
  const handle = (req: Request, res: Response) => {
    const token = (req.params.token as string | undefined) ?? req.get('x-webhook-token');
    if (!secretsEqual(token, options.webhookToken)) {
      res.status(401).json({ error: 'unauthorized', message: 'missing or wrong webhook token' });
      return;
    }
    json(req, res, (err?: unknown) => {
      if (err) return sendBodyError(res, err);
      receive(options, req, res);
    });
  };
  router.post('/webhooks/zapi', handle);
  router.post('/webhooks/zapi/:token', handle);
  return router;
}

function receive(options: ZapiWebhookOptions, req: Request, res: Response): void {
  const head = event.safeParse(req.body);
  if (!head.success) {
    res.status(400).json({ error: 'invalid_event', message: 'not a Z-API event: expected a JSON object with a "type"' });
    return;
  }
  const type = head.data.type.toLowerCase();
  if (NON_MESSAGE_CALLBACKS.includes(type)) {
    res.status(200).json({ ignored: head.data.type });
    return;
  }
  if (type !== 'receivedcallback') {
    options.logger.warn({ eventType: head.data.type.slice(0, 100) }, 'unknown Z-API event refused');
    res.status(400).json({ error: 'unknown_event', message: `unknown Z-API event type "${head.data.type.slice(0, 100)}"` });
    return;
  }
  const parsed = receivedCallback.safeParse(req.body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    res.status(400).json({ error: 'invalid_event', message: `invalid ReceivedCallback: ${issues}` });
    return;
  }
  const msg = parsed.data;
  if (options.instanceId && msg.instanceId !== options.instanceId) {
    res.status(403).json({ error: 'wrong_instance', message: 'event from another Z-API instance' });
    return;
  }
  const text = msg.text?.message ?? msg.buttonsResponseMessage?.message ?? msg.listResponseMessage?.message ?? msg.image?.caption ?? msg.video?.caption ?? null;
  const chat = parseChatId(msg.phone);
  const ignoreReason = msg.fromMe
    ? 'from_me'
    : msg.isGroup || msg.phone.endsWith('-group')
      ? 'group'
      : msg.isNewsletter
        ? 'newsletter'
        : msg.broadcast || msg.isStatusReply
          ? 'status'
          : !chat
            ? 'unknown_sender'
            : text === null || text.trim() === ''
              ? 'no_text'
              : null;
  const now = options.now().toISOString();
  const store = options.store();
  const stored = store.immediate(() => {
    const conversation = chat && !ignoreReason ? store.conversations.ensure(chat.kind === 'phone' ? chat.phone : chat.lid, chat.kind === 'phone' ? chat.phone : null, now) : null;
    const fresh = store.inbox.insert({
      message_id: msg.messageId,
      conversation_id: conversation?.id ?? null,
      kind: ignoreReason ? 'ignored' : 'text',
      ignore_reason: ignoreReason,
      text: ignoreReason ? null : text,
      payload: JSON.stringify(req.body),
      received_at: now,
    });
    return { fresh, conversationId: conversation?.id ?? null };
  });
  if (!stored.fresh) {
    res.status(200).json({ received: true, duplicate: true });
    return;
  }
  res.status(200).json({ received: true, ...(ignoreReason ? { ignored: ignoreReason } : {}) });
  options.logger.info({ messageId: msg.messageId, conversationId: stored.conversationId, ignored: ignoreReason ?? undefined }, 'whatsapp message stored');
  // Only queues the turn (it runs on a later tick): the answer above is already on its way.
  if (stored.conversationId && !ignoreReason) options.onMessage(stored.conversationId);
}

/** body-parser errors as readable JSON: 413 over the limit, 400 for broken JSON or encoding. */
export function sendBodyError(res: Response, err: unknown): void {
  const e = err as { status?: number; type?: string; message?: string };
  if (e.type === 'entity.too.large' || e.status === 413) {
    res.status(413).json({ error: 'too_large', message: 'body over 256 KB' });
    return;
  }
  res.status(400).json({ error: 'invalid_json', message: `body is not valid JSON (${e.type ?? 'parse error'})` });
}
