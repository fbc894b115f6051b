import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ProviderError } from '../core/errors.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { PaymentQuery, PixPayment, PixRail, RailRefund, RailRefundStatus } from './types.ts';

/**
 * Trio's banking API (PROVIDERS.md §3): a refund is tied to the collecting
 * document of the original Pix, amounts are integer cents, auth is HTTP Basic.
 * Trio documents no idempotency key, so ours travels at the end of the
 * description (`… [ref KEY]`) and `findRefund` finds it there before any retry.
 */

type Json = Record<string, unknown>;

export interface TrioOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  virtualAccountId: string;
  timeoutMs: number;
}

const DESCRIPTION_MAX = 140;
const KEY_TAG = /\[ref ([A-Za-z0-9]{1,35})\]$/;
const DAY_MS = 86_400_000;
const MAX_PAGES = 100;
// A busy merchant's pay-ins over the matching window: many pages, but never an endless cursor.
const MAX_DOCUMENT_PAGES = 1000;

/** The description the payer sees, ending with our key; ≤ 140 characters whatever the text. */
export function refundDescription(text: string, key: string): string {
  if (!/^[A-Za-z0-9]{1,35}$/.test(key)) throw new RangeError('refund key must be [A-Za-z0-9]{1,35}');
  const tag = `[ref ${key}]`;
  const room = DESCRIPTION_MAX - tag.length - 1;
  let head = '';
  // Whole code points only, counted in UTF-16 units as the 140 limit is usually checked.
  for (const ch of text.replace(/\s+/g, ' ').trim()) {
    if (head.length + ch.length > room) break;
    head += ch;
  }
  head = head.trimEnd();
  return head ? `${head} ${tag}` : tag;
}

/** Our key from a description written by `refundDescription`; null when there is none. */
export function keyFromDescription(description: string): string | null {
  return KEY_TAG.exec(description.trim())?.[1] ?? null;
}

/** Uppercase hex HMAC-SHA256 of the raw body: Trio's `x-webhook-signature`. */
export function signTrioBody(rawBody: Buffer | string, key: string): string {
  return createHmac('sha256', key).update(rawBody).digest('hex').toUpperCase();
}

/**
 * True for the uppercase HMAC-SHA256 of the raw bytes, or of
 * `JSON.stringify(JSON.parse(body))` — the recipe Trio's documentation shows
 * (`developers/webooks/authentication`), which differs from the raw bytes
 * whenever Trio's serialiser spaces or escapes differently. Both comparisons
 * run, each in constant time.
 */
export function verifyTrioSignature(rawBody: Buffer, signatureHeader: string | undefined, signingKey: string): boolean {
  // Trio documents uppercase hex; anything else is not its signature.
  if (typeof signatureHeader !== 'string' || !/^[0-9A-F]{64}$/.test(signatureHeader)) return false;
  const given = Buffer.from(signatureHeader, 'utf8');
  let reserialised: string | null = null;
  try {
    reserialised = JSON.stringify(JSON.parse(rawBody.toString('utf8')));
  } catch {
    reserialised = null;
  }
  const raw = timingSafeEqual(given, Buffer.from(signTrioBody(rawBody, signingKey), 'utf8'));
  const documented = reserialised !== null && timingSafeEqual(given, Buffer.from(signTrioBody(reserialised, signingKey), 'utf8'));
  return raw || documented;
}

const text = (max: number) => z.string().max(max);
const money = z.union([z.number().int().nonnegative(), z.looseObject({ amount: z.number().int().nonnegative(), currency: text(10).optional() })]);

/** Trio's webhook envelope for every category; the receiver decides which `category`/`type` it handles. */
export const trioWebhookEvent = z.looseObject({
  ref_id: text(200).min(1),
  category: text(100).min(1),
  type: text(100).min(1),
  timestamp: text(100),
  context_id: text(200).nullish(),
  context_type: text(100).nullish(),
  company_id: text(200).nullish(),
  data: z.looseObject({
    id: text(200).min(1),
    /** Older guide's shape: `data.id` is another id and this one names the refund. */
    refund_document_id: text(200).nullish(),
    collecting_document_id: text(200).nullish(),
    amount: money.nullish(),
    description: text(1000).nullish(),
    end_to_end_id: text(100).nullish(),
    status: text(50).nullish(),
    transaction_date: text(100).nullish(),
    error_code: text(100).nullish(),
    error_message: text(1000).nullish(),
  }),
});

export type TrioWebhookEvent = z.infer<typeof trioWebhookEvent>;

/** A Trio refund (document `refunds[]`, refund list row, refund answer or webhook data) as a RailRefund. */
export function parseTrioRefund(raw: Json): RailRefund {
  const id = str(raw.id) ?? str(raw.refund_document_id);
  const description = str(raw.description);
  const key = description ? keyFromDescription(description) : null;
  const failureReason = str(raw.error_message) ?? lastStageError(raw.stages);
  return {
    ...(id ? { railRefundId: id } : {}),
    amountCents: cents(raw.amount),
    status: refundStatus(raw.status),
    ...(str(raw.end_to_end_id) ? { endToEndId: str(raw.end_to_end_id) } : {}),
    ...(description ? { description } : {}),
    ...(key ? { key } : {}),
    ...(failureReason ? { failureReason } : {}),
  };
}

export function createTrioRail(options: TrioOptions): PixRail {
  const authorization = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
  const http = createHttp('trio', { baseURL: options.baseUrl.replace(/\/+$/, ''), timeoutMs: options.timeoutMs, headers: { authorization } });

  /**
   * Every collecting document of our virtual account in the window — the one
   * documented listing (`GET /banking/cashin/documents`, all three parameters
   * required). Trio has no search by EndToEndId in its reference.
   */
  async function listDocuments(from: string, to: string, keep: (doc: Json) => boolean): Promise<Json[]> {
    const rows: Json[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_DOCUMENT_PAGES; page++) {
      const res = await http.get('/banking/cashin/documents', {
        params: { virtual_account_id: options.virtualAccountId, from_datetime: from, to_datetime: to, ...(after ? { after } : {}) },
      });
      if (res.status !== 200) throw trioError(res.status, res.data);
      const body = isJson(res.data) ? res.data : {};
      if (!Array.isArray(body.data)) throw new ProviderError('trio', 'unavailable', 'document list without data');
      // Filtered page by page: a busy window holds hundreds of documents, and many lookups run at once.
      rows.push(...body.data.filter(isJson).filter(keep));
      const next = str(isJson(body.metadata) ? body.metadata.after : undefined);
      if (!next) return rows;
      if (next === after) throw new ProviderError('trio', 'unavailable', 'document list cursor did not advance');
      after = next;
    }
    throw new ProviderError('trio', 'unavailable', `document list longer than ${MAX_DOCUMENT_PAGES} pages`);
  }

  const payers = new Map<string, Promise<string | undefined>>();
  /** The payer's CPF/CNPJ: in the document when Trio includes it, else its counterparty (`GET /banking/counterparties/{id}`). */
  function payerOf(doc: Json): Promise<string | undefined> {
    const inline = isJson(doc.counterparty) ? str(doc.counterparty.tax_number) : undefined;
    if (inline) return Promise.resolve(inline.replace(/\W/g, ''));
    const id = str(doc.counterparty_id);
    if (!id) return Promise.resolve(undefined);
    let found = payers.get(id);
    if (!found) {
      found = (async () => {
        const res = await http.get(`/banking/counterparties/${encodeURIComponent(id)}`);
        if (res.status === 404) return undefined;
        if (res.status !== 200) throw trioError(res.status, res.data);
        const data = isJson(res.data) && isJson(res.data.data) ? res.data.data : {};
        return str(data.tax_number)?.replace(/\W/g, '');
      })();
      payers.set(id, found);
      found.catch(() => payers.delete(id));
    }
    return found;
  }

  function toPayment(doc: Json, fallbackPaidAt: string, payerTaxId?: string): PixPayment {
    return {
      documentId: String(doc.id),
      endToEndId: str(doc.end_to_end_id) ?? '',
      amountCents: cents(doc.amount),
      paidAt: isoOr(doc.transaction_date, fallbackPaidAt),
      refunds: (Array.isArray(doc.refunds) ? doc.refunds.filter(isJson) : []).map(parseTrioRefund),
      ...(payerTaxId ? { payerTaxId } : {}),
    };
  }

  async function findPayment(endToEndId: string, paidAt: string): Promise<PixPayment | null> {
    const at = Date.parse(paidAt);
    if (Number.isNaN(at)) throw new RangeError(`paidAt is not a date: ${paidAt}`);
    const docs = await listDocuments(new Date(at - DAY_MS).toISOString(), new Date(at + DAY_MS).toISOString(), (d) => d.end_to_end_id === endToEndId && Boolean(str(d.id)));
    const doc = docs[0];
    if (!doc) return null;
    const payer = await payerOf(doc);
    return toPayment(doc, paidAt, payer);
  }

  async function findPayments(query: PaymentQuery): Promise<PixPayment[]> {
    const sameAmount = await listDocuments(query.from, query.to, (d) =>
      Boolean(str(d.id)) && (d.type === undefined || d.type === null || d.type === 'pix') && (isJson(d.amount) || typeof d.amount === 'number' ? cents(d.amount) === query.amountCents : false));
    const out: PixPayment[] = [];
    for (const doc of sameAmount) {
      const payer = await payerOf(doc);
      // A payer we cannot tell is not this customer's: money must go back to who paid.
      if (query.payerTaxId && payer !== query.payerTaxId) continue;
      out.push(toPayment(doc, query.from, payer));
    }
    return out;
  }

  return {
    name: 'trio',
    enforcesIdempotencyKey: false,
    findPayment,
    findPayments,

    async refund({ payment, amountCents, key, description }) {
      const sent = { amount: amountCents, description: refundDescription(description, key) };
      const res = await http.post(`/banking/cashin/documents/${encodeURIComponent(payment.documentId)}/refund`, sent);
      if (res.status !== 200 && res.status !== 201) throw trioError(res.status, res.data);
      // Two documented answers: `{data: refund}` (current reference) and `{refund_document_id, scheduled_at}` (older guide).
      const body = isJson(res.data) ? res.data : {};
      const data = isJson(body.data) ? body.data : body;
      if (!str(data.id) && !str(data.refund_document_id)) throw new ProviderError('trio', 'unavailable', 'refund answer without an id', { status: res.status });
      return { ...parseTrioRefund({ amount: amountCents, description: sent.description, status: 'created', ...data }), key };
    },

    async findRefund(payment, key) {
      let after: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = await http.get('/banking/cashin/refunds', {
          params: {
            virtual_account_id: options.virtualAccountId,
            from_datetime: payment.paidAt,
            to_datetime: new Date(Date.now() + 3_600_000).toISOString(),
            ...(after ? { after } : {}),
          },
        });
        if (res.status === 404) {
          // Listing unavailable here: the collecting document carries its refunds too.
          const doc = await findPayment(payment.endToEndId, payment.paidAt);
          return doc?.refunds.find((r) => r.key === key) ?? null;
        }
        if (res.status !== 200) throw trioError(res.status, res.data);
        const body = isJson(res.data) ? res.data : {};
        const rows = Array.isArray(body.data) ? body.data.filter(isJson) : [];
        const found = rows.find((r) => r.collecting_document_id === payment.documentId && typeof r.description === 'string' && keyFromDescription(r.description) === key);
        if (found) return parseTrioRefund(found);
        const next = str(isJson(body.metadata) ? body.metadata.after : undefined);
        if (!next) return null;
        if (next === after) throw new ProviderError('trio', 'unavailable', 'refund list cursor did not advance');
        after = next;
      }
      // Answering "not there" without having looked everywhere could pay twice.
      throw new ProviderError('trio', 'unavailable', `refund list longer than ${MAX_PAGES} pages`);
    },
  };
}

function trioError(status: number, body: unknown): ProviderError {
  const b = isJson(body) ? body : {};
  const err = isJson(b.error) ? b.error : {};
  const code = str(err.error_code);
  const message = str(err.error_message) ?? str(b.message) ?? str(b.error) ?? `HTTP ${status}`;
  return failureForStatus('trio', status, message, code);
}

function isNotFound(status: number, body: unknown): boolean {
  return status === 404 || (status === 400 && isJson(body) && isJson(body.error) && body.error.error_code === 'NOT_FOUND_RESOURCE');
}

function refundStatus(value: unknown): RailRefundStatus {
  // Refunds listed on a collecting document carry no status: they are done.
  if (value === undefined || value === null) return 'settled';
  return value === 'settled' || value === 'failed' ? value : 'created';
}

function lastStageError(stages: unknown): string | undefined {
  if (!Array.isArray(stages)) return undefined;
  return stages.filter(isJson).map((s) => str(s.error_message)).filter(Boolean).at(-1);
}

/** `{amount: 18600, currency: "BRL"}` or a bare 18600. */
function cents(value: unknown): number {
  const n = isJson(value) ? value.amount : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ProviderError('trio', 'unavailable', `unreadable amount ${JSON.stringify(value)}`);
  return n;
}

function isoOr(value: unknown, fallback: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
