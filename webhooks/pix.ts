import express, { type Request, type Response } from 'express';
import { logToken, type Logger } from '../core/logger.ts';
import { applyRailRefund } from '../tools/refund-flow.ts';
import type { Services } from '../tools/context.ts';
import { keyFromDescription, trioWebhookEvent, verifyTrioSignature } from '../tools/rails/trio.ts';
import { secretsEqual } from './secret.ts';
import { sendBodyError } from './zapi.ts';

/**
 * `POST /webhooks/pix` (CONTRACT.md): Trio's refund events, authenticated by
 * `x-webhook-secret` and `x-webhook-signature` (uppercase hex HMAC-SHA256 of
 * the raw body). Each event moves the refund along its state machine; a
 * replayed event changes nothing.
 */

const REFUND_TYPES = ['created', 'settled', 'failed'] as const;

export interface PixWebhookOptions {
  services: Services;
  logger: Logger;
  secret: string;
  signingKey: string;
  /** Where the rail posts (default `/webhooks/pix`). */
  path?: string;
}

export function pixWebhook(options: PixWebhookOptions): express.Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: '256kb' });
  router.post(options.path ?? '/webhooks/pix', (req: Request, res: Response) => {
    if (!secretsEqual(req.get('x-webhook-secret'), options.secret)) {
      res.status(401).json({ error: 'unauthorized', message: 'missing or wrong x-webhook-secret' });
      return;
    }
    raw(req, res, (err?: unknown) => {
      if (err) return sendBodyError(res, err);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifyTrioSignature(body, req.get('x-webhook-signature'), options.signingKey)) {
        res.status(401).json({ error: 'bad_signature', message: 'x-webhook-signature does not match the body' });
        return;
      }
      handle(options, body, res);
    });
  });
  return router;
}

function handle(options: PixWebhookOptions, body: Buffer, res: Response): void {
  const { services, logger } = options;
  const { store } = services;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    res.status(400).json({ error: 'invalid_json', message: 'body is not valid JSON' });
    return;
  }
  const parsed = trioWebhookEvent.safeParse(json);
  if (!parsed.success) {
    res.status(400).json({ error: 'invalid_event', message: `not a Trio event: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
    return;
  }
  const event = parsed.data;
  const now = services.now().toISOString();
  const eventKey = `trio:${event.category}:${event.data.id ?? event.ref_id}:${event.type}`;
  if (event.category !== 'collecting_document_refund' || !(REFUND_TYPES as readonly string[]).includes(event.type)) {
    // Fail closed: an event we do not handle is recorded and refused, never guessed at.
    store.webhookEvents.record('pix', eventKey, body.toString('utf8'), 'unhandled', now);
    logger.warn({ category: logToken(event.category), type: logToken(event.type) }, 'unhandled Pix rail event');
    res.status(422).json({ error: 'unhandled_event', message: `event ${event.category}.${event.type} is not handled` });
    return;
  }
  const railRefundId = event.data.id ?? event.ref_id;
  const key = typeof event.data.description === 'string' ? keyFromDescription(event.data.description) : null;
  const refund = store.payments.refundByRailId(railRefundId) ?? (key ? store.payments.refundByKey(key) : undefined);
  if (!store.webhookEvents.record('pix', eventKey, body.toString('utf8'), refund ? 'applied' : 'unknown_refund', now)) {
    res.status(200).json({ received: true, duplicate: true });
    return;
  }
  if (!refund) {
    logger.warn({ railRefundId: logToken(railRefundId) }, 'Pix refund event for a refund we do not know');
    res.status(200).json({ received: true, unknown_refund: true });
    return;
  }
  const status = event.type as (typeof REFUND_TYPES)[number];
  applyRailRefund(
    services,
    refund.id,
    {
      railRefundId,
      amountCents: refund.amount_cents,
      status,
      ...(typeof event.data.end_to_end_id === 'string' ? { endToEndId: event.data.end_to_end_id } : {}),
      ...(status === 'failed' ? { failureReason: String(event.data.error_message ?? event.data.error_code ?? 'failed on the rail') } : {}),
    },
    'webhook',
  );
  logger.info({ refundId: refund.id, type: event.type }, 'Pix refund event applied');
  res.status(200).json({ received: true });
}
