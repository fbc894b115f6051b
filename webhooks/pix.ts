import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { errorSummary, logToken, type Logger } from '../core/logger.ts';
import { applyRailRefund } from '../refunds/refund-flow.ts';
import type { Services } from '../services/context.ts';
import { keyFromDescription, trioWebhookEvent, verifyTrioSignature, type TrioWebhookEvent } from '../providers/trio.ts';
import type { RefundRow } from '../data/refunds.ts';
import { secretsEqual } from './secret.ts';
import { sendBodyError } from './zapi.ts';

/**
 * `POST /webhooks/pix` (CONTRACT.md): Trio's refund events, authenticated by
 * `x-webhook-secret` and `x-webhook-signature` (uppercase hex HMAC-SHA256 of
 * the raw body, or of Trio's documented `JSON.stringify(body)`). Each event
 * moves the refund along its state machine; a replayed event changes nothing;
 * an event whose amount, collecting document or date contradicts our refund
 * is recorded and refused, the refund unchanged.
 */

/**
 * How much earlier than our request a rail's settlement date may be before it
 * is impossible: generous, because the two clocks are not ours to align (and
 * tests run the service on a shifted clock); a day earlier is another refund.
 */
const SETTLED_SKEW_MS = 24 * 3_600_000;

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
    raw(req, res, async (err?: unknown) => {
      if (err) return sendBodyError(res, err);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifyTrioSignature(body, req.get('x-webhook-signature'), options.signingKey)) {
        res.status(401).json({ error: 'bad_signature', message: 'x-webhook-signature does not match the body' });
        return;
      }
      try {
        await handle(options, body, res);
      } catch (error) {
        // The event is not recorded: the rail retries it (it gets no 2xx).
        options.logger.error({ err: errorSummary(error) }, 'pix webhook failed');
        if (!res.headersSent) res.status(500).json({ error: 'internal_error' });
      }
    });
  });
  return router;
}

async function handle(options: PixWebhookOptions, body: Buffer, res: Response): Promise<void> {
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
    await store.webhookEvents.record('pix', eventKey, body.toString('utf8'), 'unhandled', now);
    logger.warn({ category: logToken(event.category), type: logToken(event.type) }, 'unhandled Pix rail event');
    res.status(422).json({ error: 'unhandled_event', message: `event ${event.category}.${event.type} is not handled` });
    return;
  }
  // Two documented shapes: `data.id` is the refund (current reference, = ref_id),
  // or `data.refund_document_id` names it (older guide).
  const ids = [event.data.refund_document_id, event.data.id, event.ref_id].filter((v): v is string => typeof v === 'string' && v !== '');
  const key = typeof event.data.description === 'string' ? keyFromDescription(event.data.description) : null;
  let byId: { id: string; refund: RefundRow } | undefined;
  for (const id of ids) {
    const found = await store.refunds.byRailId(id);
    if (found) {
      byId = { id, refund: found };
      break;
    }
  }
  const refund = byId?.refund ?? (key ? await store.refunds.byKey(key) : undefined);
  const railRefundId = byId?.id ?? ids[0] ?? event.ref_id;
  const mismatch = refund ? await contradiction(services, event, refund) : null;
  // A refused event, or one for a refund we cannot match yet (its webhook beat our own record of
  // the rail's answer), is kept under its own key: the rail's retry of the genuine event must still count.
  const bodyHash = () => createHash('sha256').update(body).digest('hex').slice(0, 16);
  const recordKey = mismatch ? `${eventKey}:mismatch:${bodyHash()}` : !refund ? `${eventKey}:unknown:${bodyHash()}` : eventKey;
  if (refund && !mismatch) {
    // Applied first, recorded after: a crash between the two leaves the event unrecorded, so the
    // rail's retry applies it again (a no-op for a move already made) instead of being taken as a
    // replay of something that never happened.
    if (await store.webhookEvents.seen(recordKey)) {
      res.status(200).json({ received: true, duplicate: true });
      return;
    }
    await applyEvent(services, event, refund, railRefundId);
    await store.webhookEvents.record('pix', recordKey, body.toString('utf8'), 'applied', now);
    logger.info({ refundId: refund.id, type: event.type }, 'Pix refund event applied');
    res.status(200).json({ received: true });
    return;
  }
  if (!await store.webhookEvents.record('pix', recordKey, body.toString('utf8'), !refund ? 'unknown_refund' : mismatch ? 'mismatch' : 'applied', now)) {
    res.status(200).json({ received: true, duplicate: true });
    return;
  }
  if (!refund) {
    logger.warn({ railRefundId: logToken(railRefundId) }, 'Pix refund event for a refund we do not know');
    res.status(200).json({ received: true, unknown_refund: true });
    return;
  }
  if (mismatch) {
    logger.warn({ refundId: refund.id, type: event.type, mismatch: mismatch.field }, 'Pix refund event contradicts our refund; refused, refund unchanged');
    res.status(422).json({ error: 'event_mismatch', message: `event ${mismatch.field} does not match the refund` });
    return;
  }
}

async function applyEvent(services: Services, event: TrioWebhookEvent, refund: RefundRow, railRefundId: string): Promise<void> {
  const status = event.type as (typeof REFUND_TYPES)[number];
  await applyRailRefund(
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
}

/** What in the event contradicts our refund: its amount, its collecting document, or a settlement dated before we asked. */
async function contradiction(services: Services, event: TrioWebhookEvent, refund: RefundRow): Promise<{ field: string } | null> {
  const amount = event.data.amount;
  const cents = typeof amount === 'number' ? amount : amount && typeof amount === 'object' ? amount.amount : undefined;
  if (cents !== undefined && cents !== refund.amount_cents) return { field: 'amount' };
  const documentId = event.data.collecting_document_id;
  if (typeof documentId === 'string' && documentId !== '') {
    const payment = await services.store.payments.get(refund.payment_id);
    if (payment && payment.document_id !== documentId) return { field: 'collecting_document_id' };
  }
  if (event.type === 'settled') {
    const at = Date.parse(String(event.data.transaction_date ?? event.timestamp ?? ''));
    if (!Number.isNaN(at) && at < Date.parse(refund.created_at) - SETTLED_SKEW_MS) return { field: 'transaction_date' };
  }
  return null;
}
