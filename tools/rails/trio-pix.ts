import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ProviderError } from '../../core/errors.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { PixPayment, PixRail, RailRefund, RailRefundStatus } from './types.ts';

/**
 * Trio's banking API (PROVIDERS.md §3): a refund is tied to the collecting
 * document of the original Pix, in integer cents, with HTTP Basic auth. Trio
 * documents no idempotency key, so ours travels in the description
 * (`… [ref KEY]`) and reconciliation finds the refund by it before any retry.
 */

type Json = Record<string, unknown>;

const KEY_TAG = /\[ref ([A-Za-z0-9]{1,35})\]\s*$/;

/** The refund description shown to the payer, with our key at the end; ≤ 140 characters. */
export function refundDescription(text: string, key: string): string {
  const tag = ` [ref ${key}]`;
  return text.slice(0, 140 - tag.length).trimEnd() + tag;
}

export function keyFromDescription(description: string): string | null {
  return KEY_TAG.exec(description)?.[1] ?? null;
}

/** Uppercase hex HMAC-SHA256 of the raw body (Trio's `x-webhook-signature`). */
export function signTrioBody(rawBody: Buffer | string, key: string): string {
  return createHmac('sha256', key).update(rawBody).digest('hex').toUpperCase();
}

export function verifyTrioSignature(rawBody: Buffer, header: string | undefined, key: string): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signTrioBody(rawBody, key), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Trio's webhook envelope (all categories); the receiver decides what it handles. */
export const trioWebhookEvent = z.looseObject({
  ref_id: z.string().min(1).max(200),
  category: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  timestamp: z.string().max(100).optional(),
  data: z.looseObject({
    id: z.string().max(200).optional(),
    collecting_document_id: z.string().max(200).optional(),
    description: z.string().max(1000).nullish(),
    end_to_end_id: z.string().max(100).nullish(),
    error_code: z.string().max(100).nullish(),
    error_message: z.string().max(1000).nullish(),
  }),
});

function amountOf(value: unknown): number {
  const n = typeof value === 'object' && value !== null ? (value as Json).amount : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ProviderError('trio', 'unavailable', `unreadable amount ${JSON.stringify(value)}`);
  return n;
}

function toRefund(raw: Json): RailRefund {
  const status = (['created', 'settled', 'failed'].includes(String(raw.status)) ? raw.status : raw.status === undefined ? 'settled' : 'created') as RailRefundStatus;
  const description = typeof raw.description === 'string' ? raw.description : undefined;
  const key = description ? keyFromDescription(description) : null;
  return {
    ...(typeof raw.id === 'string' ? { railRefundId: raw.id } : typeof raw.refund_document_id === 'string' ? { railRefundId: raw.refund_document_id } : {}),
    amountCents: amountOf(raw.amount),
    status,
    ...(typeof raw.end_to_end_id === 'string' && raw.end_to_end_id ? { endToEndId: raw.end_to_end_id } : {}),
    ...(description ? { description } : {}),
    ...(key ? { key } : {}),
  };
}

function trioError(status: number, body: unknown): ProviderError {
  const b = (body ?? {}) as Json;
  const err = (typeof b.error === 'object' && b.error !== null ? b.error : {}) as Json;
  const code = typeof err.error_code === 'string' ? err.error_code : undefined;
  const message = typeof err.error_message === 'string' ? err.error_message : typeof b.message === 'string' ? b.message : `HTTP ${status}`;
  return failureForStatus('trio', status, message, code);
}

export function createTrioRail(options: { baseUrl: string; clientId: string; clientSecret: string; virtualAccountId: string; timeoutMs: number }): PixRail {
  const auth = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
  const http = createHttp('trio', { baseURL: options.baseUrl.replace(/\/$/, ''), timeoutMs: options.timeoutMs, headers: { authorization: auth } });
  const isNotFound = (status: number, body: unknown) =>
    status === 404 || (status === 400 && ((body as Json)?.error as Json | undefined)?.error_code === 'NOT_FOUND_RESOURCE');

  return {
    name: 'trio',
    async findPayment(endToEndId, paidAt) {
      const t = Date.parse(paidAt);
      const res = await http.get('/banking/cashin/documents/search', {
        params: { end_to_end_id: endToEndId, from_datetime: new Date(t - 86_400_000).toISOString(), to_datetime: new Date(t + 86_400_000).toISOString() },
      });
      if (isNotFound(res.status, res.data)) return null;
      if (res.status !== 200) throw trioError(res.status, res.data);
      const doc = ((res.data as Json)?.data ?? null) as Json | null;
      if (!doc || doc.end_to_end_id !== endToEndId) return null;
      return {
        documentId: String(doc.id),
        endToEndId,
        amountCents: amountOf(doc.amount),
        paidAt: typeof doc.transaction_date === 'string' ? doc.transaction_date : paidAt,
        refunds: ((doc.refunds ?? []) as Json[]).map(toRefund),
      } satisfies PixPayment;
    },
    async refund({ payment, amountCents, key, description }) {
      const res = await http.post(`/banking/cashin/documents/${encodeURIComponent(payment.documentId)}/refund`, {
        amount: amountCents,
        description: refundDescription(description, key),
      });
      if (res.status !== 200 && res.status !== 201) throw trioError(res.status, res.data);
      const body = (res.data ?? {}) as Json;
      // Two documented answers: {data: refund} (current) and {refund_document_id, scheduled_at} (older guide).
      const data = (body.data ?? body) as Json;
      if (typeof data.id !== 'string' && typeof data.refund_document_id !== 'string') throw new ProviderError('trio', 'unavailable', 'refund answer without an id');
      return { ...toRefund({ status: 'created', amount: amountCents, ...data }), key };
    },
    async findRefund(payment, key) {
      let after: string | undefined;
      for (let page = 0; page < 100; page++) {
        const res = await http.get('/banking/cashin/refunds', {
          params: { virtual_account_id: options.virtualAccountId, from_datetime: payment.paidAt, to_datetime: new Date(Date.now() + 3_600_000).toISOString(), ...(after ? { after } : {}) },
        });
        if (res.status === 404) break;
        if (res.status !== 200) throw trioError(res.status, res.data);
        const body = res.data as Json;
        const found = ((body.data ?? []) as Json[]).find(
          (r) => r.collecting_document_id === payment.documentId && typeof r.description === 'string' && keyFromDescription(r.description) === key,
        );
        if (found) return toRefund(found);
        after = ((body.metadata ?? {}) as Json).after as string | undefined;
        if (!after) return null;
      }
      // Fallback: the collecting document's own refunds[].
      const doc = await this.findPayment(payment.endToEndId, payment.paidAt);
      return doc?.refunds.find((r) => r.key === key) ?? null;
    },
  };
}
