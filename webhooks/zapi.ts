import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { parseChatId } from '../core/phone.ts';
import { logToken, type Logger } from '../core/logger.ts';
import type { Store } from '../data/store.ts';
import type { NewInbox } from '../data/inbox.ts';
import { secretsEqual } from './secret.ts';
import { mediaFromCallback } from './zapi-media.ts';

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
  // Absent on documented notifications that are not messages (profile name, photo, chat labels).
  messageId: z.string().min(1).max(200).nullish(),
  phone: z.string().min(1).max(200).nullish(),
  chatLid: z.string().max(200).nullish(),
  senderLid: z.string().max(200).nullish(),
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
  /** Read at each flush: the sandbox's reset swaps the store. */
  store: () => Store;
  batcher: IngestBatcher;
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
    options.logger.warn({ eventType: logToken(head.data.type) }, 'unknown Z-API event refused');
    res.status(400).json({ error: 'unknown_event', message: `unknown Z-API event type "${head.data.type.slice(0, 100)}"` });
    return;
  }
  const parsed = receivedCallback.safeParse(req.body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    res.status(400).json({ error: 'invalid_event', message: `invalid ReceivedCallback: ${issues}` });
    return;
  }
  const parsed0 = parsed.data;
  if (options.instanceId && parsed0.instanceId !== options.instanceId) {
    res.status(403).json({ error: 'wrong_instance', message: 'event from another Z-API instance' });
    return;
  }
  const CONTENT = ['text', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'contact', 'reaction', 'buttonsResponseMessage', 'listResponseMessage'];
  const body = req.body as Record<string, unknown>;
  if (!parsed0.messageId && CONTENT.some((k) => body[k] !== undefined && body[k] !== null)) {
    // A message we could not dedupe nor reply to safely: refuse it, readably.
    res.status(400).json({ error: 'invalid_event', message: 'invalid ReceivedCallback: messageId is required on a message' });
    return;
  }
  if (!parsed0.messageId || !parsed0.phone) {
    // Documented ReceivedCallbacks without a message (profile name or photo changed, chat labels…): acknowledged, nothing to store.
    options.logger.info({ eventType: parsed0.type.slice(0, 100), notification: typeof parsed0.notification === 'string' ? parsed0.notification.slice(0, 60) : undefined }, 'Z-API notification without a message ignored');
    res.status(200).json({ received: true, ignored: 'not_a_message' });
    return;
  }
  const msg = { ...parsed0, messageId: parsed0.messageId, phone: parsed0.phone };
  const text = msg.text?.message ?? msg.buttonsResponseMessage?.message ?? msg.listResponseMessage?.message ?? msg.image?.caption ?? msg.video?.caption ?? null;
  // Media (a photo, a voice note, a document…) is answered too, with or without a caption.
  const media = mediaFromCallback(msg);
  const chat = parseChatId(msg.phone);
  // WhatsApp's Linked ID: `chatLid` (the most stable id), else `senderLid`, else `phone` when it is one.
  const lidOf = (value: string | null | undefined) => (value && parseChatId(value)?.kind === 'lid' ? value.trim() : null);
  const lid = lidOf(msg.chatLid) ?? lidOf(msg.senderLid) ?? (chat?.kind === 'lid' ? chat.lid : null);
  const ignoreReason = msg.fromMe
    ? 'from_me'
    : msg.isGroup || msg.phone.endsWith('-group')
      ? 'group'
      : msg.isNewsletter
        ? 'newsletter'
        : msg.broadcast
          ? 'status'
          : !chat
            ? 'unknown_sender'
            : (text === null || text.trim() === '') && !media
              ? 'no_text'
              : null;
  const chatId = chat && !ignoreReason ? (chat.kind === 'phone' ? chat.phone : chat.lid) : null;
  options.batcher.add({
    chatId,
    phone: chat?.kind === 'phone' ? chat.phone : null,
    lid,
    row: {
      message_id: msg.messageId,
      kind: ignoreReason ? 'ignored' : 'text',
      ignore_reason: ignoreReason,
      text: ignoreReason ? null : text?.trim() ? text : null,
      payload: JSON.stringify(req.body),
      media: ignoreReason || !media ? null : JSON.stringify(media),
      received_at: options.now().toISOString(),
    },
  }).then(
    (stored) => answer(options, res, msg.messageId, ignoreReason, stored),
    (error: unknown) => {
      options.logger.error({ err: error instanceof Error ? { type: error.name, code: (error as { code?: string }).code } : 'error', messageId: logToken(msg.messageId) }, 'could not store a WhatsApp message');
      // Not stored: Z-API must see a failure so that the message is not lost silently.
      res.status(503).set('retry-after', '1').json({ error: 'unavailable', message: 'could not store the message; retry' });
    },
  );
}

function answer(options: ZapiWebhookOptions, res: Response, messageId: string, ignoreReason: string | null, stored: { fresh: boolean; conversationId: string | null }): void {
  if (!stored.fresh) {
    res.status(200).json({ received: true, duplicate: true });
    return;
  }
  res.status(200).json({ received: true, ...(ignoreReason ? { ignored: ignoreReason } : {}) });
  // Debug, not info: one line per inbound message is noise at volume (turns log at info).
  options.logger.debug({ messageId: logToken(messageId), conversationId: stored.conversationId, ignored: ignoreReason ?? undefined }, 'whatsapp message stored');
  // Only queues the turn (it runs on a later tick): the answer above is already on its way.
  if (stored.conversationId && !ignoreReason) options.onMessage(stored.conversationId);
}

/** body-parser errors as readable JSON: 413 over the limit, 400 for broken JSON or encoding. */
export function sendBodyError(res: Response, err: unknown, limit = '256 KB'): void {
  const e = err as { status?: number; type?: string; message?: string };
  if (e.type === 'entity.too.large' || e.status === 413) {
    res.status(413).json({ error: 'too_large', message: `body over ${limit}` });
    return;
  }
  res.status(400).json({ error: 'invalid_json', message: `body is not valid JSON (${e.type ?? 'parse error'})` });
}

interface Incoming {
  chatId: string | null;
  phone: string | null;
  lid?: string | null;
  row: Omit<NewInbox, 'conversation_id'>;
}

/**
 * Group commit: the messages that arrive within one turn of the event loop
 * are stored in one transaction, and each is answered only after that
 * transaction committed. Durability per message is unchanged; the cost of
 * BEGIN/COMMIT is shared.
 */
export class IngestBatcher {
  private queue: Array<{ item: Incoming; resolve: (r: { fresh: boolean; conversationId: string | null }) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private readonly store: () => Store;

  constructor(store: () => Store) {
    this.store = store;
  }

  add(item: Incoming): Promise<{ fresh: boolean; conversationId: string | null }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const store = this.store();
    const storeOne = async (item: Incoming) => {
      const conversationId = item.chatId
        ? item.lid || item.phone
          ? await store.conversations.ensureContact({ phone: item.phone, lid: item.lid ?? null }, item.row.received_at)
          : await store.conversations.ensureId(item.chatId, item.phone, item.row.received_at)
        : null;
      const fresh = await store.inbox.insert({ ...item.row, conversation_id: conversationId });
      return { fresh, conversationId };
    };
    let results: Array<{ fresh: boolean; conversationId: string | null }>;
    try {
      results = await store.tx(async () => {
        const stored = [];
        for (const b of batch) stored.push(await storeOne(b.item));
        return stored;
      });
    } catch {
      // One bad apple must not spoil the batch: store them one by one.
      for (const b of batch) {
        try {
          b.resolve(await store.tx(async () => await storeOne(b.item)));
        } catch (error) {
          b.reject(error);
        }
      }
      return;
    }
    batch.forEach((b, i) => b.resolve(results[i] as { fresh: boolean; conversationId: string | null }));
  }
}
