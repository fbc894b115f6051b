import { samePhone } from '../core/phone.ts';
import type { Conversation } from '../data/conversations.ts';
import type { PaymentRow } from '../data/payments.ts';
import { isHolding } from '../data/refunds.ts';
import type { ErpOrder, PixPayment } from '../providers/types.ts';
import type { Services } from '../services/context.ts';

/**
 * Verification: the order as the ERP has it, visible only to the WhatsApp
 * number (or the CPF-bound customer) that bought it, and its original payment
 * as the rail has it (DESIGN invariants 1 and 2).
 */

/** How the order's pay-in was found on the rail: recorded in the case's verification record. */
export type PaymentMatch =
  | { by: 'reference'; reference: string }
  | { by: 'amount_payer_window'; amount_cents: number; payer: string; from: string; to: string; candidates: 1 }
  | { by: 'previous_match'; verified_at: string };

/** A pay-in the rail showed as possibly this order's, for staff to decide (no automatic refund). */
export interface PaymentCandidate {
  document_id: string;
  end_to_end_id: string;
  amount_cents: number;
  paid_at: string;
}

/** Why no pay-in was used: none found, or several that only staff can tell apart. */
export interface PaymentIssue {
  reason: 'payment_not_confirmed' | 'payment_ambiguous';
  detail: string;
  candidates: PaymentCandidate[];
}

export type Verification =
  | { found: false }
  | {
      found: true;
      order: ErpOrder;
      /** Null for orders not paid by Pix, or when the rail does not know the payment. */
      payment: PaymentRow | null;
      railPayment: PixPayment | null;
      /** How the pay-in was matched to the order, when it was. */
      match?: PaymentMatch;
      /** Why there is no payment, for a Pix order. */
      issue?: PaymentIssue;
    };

/** The order, only if it belongs to this conversation's customer; otherwise exactly like a missing order. */
export async function findOwnOrder(services: Services, conversation: Conversation, orderNumber: string): Promise<ErpOrder | null> {
  const order = await services.erp.getOrder(orderNumber);
  if (!order) return null;
  if (conversation.customer_code !== null) return order.customerCode === conversation.customer_code ? order : null;
  if (!conversation.phone) return null;
  const customer = await services.erp.getCustomer(order.customerCode);
  if (!customer || !customer.phones.some((p) => samePhone(p, conversation.phone as string))) return null;
  return order;
}

export async function verifyOrder(services: Services, conversation: Conversation, orderNumber: string): Promise<Verification> {
  const order = await findOwnOrder(services, conversation, orderNumber);
  if (!order) return { found: false };
  return verifyPayment(services, order);
}

/** The window around the order's date in which its pay-in is looked for on the rail. */
export const MATCH_WINDOW_BEFORE_MS = 3 * 86_400_000;
export const MATCH_WINDOW_AFTER_MS = 1 * 86_400_000;

/**
 * The original payment of an order already known to be the customer's, as
 * the rail has it. Omie stores no Pix id, so the pay-in is found on the rail:
 * first by the id a merchant's integration stored in the order (configured
 * field), else by amount + the customer's CPF/CNPJ + a window around the
 * order's date. Exactly one candidate is used; none or several are left to staff.
 */
export async function verifyPayment(services: Services, given: ErpOrder): Promise<Verification & { found: true }> {
  // `meio_pagamento` is optional in Omie: an order without it ('other') may still be a Pix found on the rail.
  if (given.payment.method !== 'pix' && given.payment.method !== 'other') return { found: true, order: given, payment: null, railPayment: null };
  const unknownMethod = given.payment.method === 'other';
  const order: ErpOrder = unknownMethod ? { ...given, payment: { ...given.payment, method: 'pix' } } : given;
  const verified = await findPayIn(services, order);
  // Not found on the rail and not declared as Pix: as the ERP says, some other rail.
  if (unknownMethod && !verified.payment) return { found: true, order: given, payment: null, railPayment: null };
  return verified;
}

async function findPayIn(services: Services, order: ErpOrder): Promise<Verification & { found: true }> {
  const sinceIso = new Date(services.now().getTime() - PAYMENT_FRESH_MS).toISOString();
  const reference = order.payment.reference;

  // Verified with the rail a moment ago (the lookup before the refund): no second round trip.
  // Refunds made elsewhere in that minute cannot slip through: the rail refuses over-refunds itself.
  const recent = reference ? await services.store.payments.verifiedSince(reference, sinceIso) : await services.store.payments.forOrder(order.orderNumber, order.customerCode);
  if (recent && recent.customer_code === order.customerCode && recent.order_number === order.orderNumber && recent.verified_at >= sinceIso) {
    return { found: true, order, payment: recent, railPayment: railPaymentOf(recent), match: { by: 'previous_match', verified_at: recent.verified_at } };
  }

  if (reference && /^[ED][0-9A-Za-z]{31}$/.test(reference)) {
    const byReference = await services.pix.findPayment(reference, order.placedAt);
    if (byReference) return await record(services, order, byReference, { by: 'reference', reference });
  } else if (reference && services.pix.findPaymentByTxid) {
    // A txid names one charge; still, only one paid Pix of that amount counts.
    const placedAt = Date.parse(order.placedAt);
    const byTxid = (await services.pix.findPaymentByTxid(reference, new Date(placedAt - MATCH_WINDOW_BEFORE_MS).toISOString(), new Date(Math.min(placedAt + MATCH_WINDOW_AFTER_MS, services.now().getTime())).toISOString())).filter((p) => p.amountCents === order.totalCents);
    if (byTxid.length === 1) return await record(services, order, byTxid[0] as PixPayment, { by: 'reference', reference });
  }

  const customer = await services.erp.getCustomer(order.customerCode);
  if (!customer?.taxId) {
    return noPayment(order, { reason: 'payment_not_confirmed', detail: `the customer of order ${order.orderNumber} has no CPF/CNPJ in the ERP to match the Pix payer`, candidates: [] });
  }
  const placed = Date.parse(order.placedAt);
  const from = new Date(placed - MATCH_WINDOW_BEFORE_MS).toISOString();
  const to = new Date(Math.min(placed + MATCH_WINDOW_AFTER_MS, services.now().getTime())).toISOString();
  const found = await services.pix.findPayments({ amountCents: order.totalCents, payerTaxId: customer.taxId, from, to });
  // A pay-in already matched to another order is that order's, not a candidate here.
  const candidates = [];
  for (const p of found) {
    const known = await services.store.payments.get(paymentId(services.pix.name, p.documentId));
    if (!known || known.order_number === order.orderNumber) candidates.push(p);
  }
  const listed = candidates.map((p) => ({ document_id: p.documentId, end_to_end_id: p.endToEndId, amount_cents: p.amountCents, paid_at: p.paidAt }));
  if (candidates.length === 1) {
    return await record(services, order, candidates[0] as PixPayment, { by: 'amount_payer_window', amount_cents: order.totalCents, payer: maskTaxId(customer.taxId), from, to, candidates: 1 });
  }
  if (candidates.length === 0) {
    return noPayment(order, { reason: 'payment_not_confirmed', detail: `no Pix of ${order.totalCents} cents from the customer's CPF/CNPJ between ${from} and ${to}`, candidates: [] });
  }
  return noPayment(order, {
    reason: 'payment_ambiguous',
    detail: `${candidates.length} Pix of ${order.totalCents} cents from the customer's CPF/CNPJ between ${from} and ${to}; staff must pick one: ${JSON.stringify(listed)}`,
    candidates: listed,
  });
}

function noPayment(order: ErpOrder, issue: PaymentIssue): Verification & { found: true } {
  return { found: true, order, payment: null, railPayment: null, issue };
}

/** Stores the matched pay-in (amount, e2e and owner never change once seen). */
async function record(services: Services, order: ErpOrder, railPayment: PixPayment, match: PaymentMatch): Promise<Verification & { found: true }> {
  // Ours = refunds we still hold against the payment. A rail refund matching one of our
  // *failed* refunds (released by staff, then paid by a slow rail after all) is money that
  // left: it counts as refunded outside Estorno, so nobody can refund it again.
  const ours = new Set(
    (await services.store.refunds
      .forPayment(paymentId(services.pix.name, railPayment.documentId)))
      .filter((r) => isHolding(r.status))
      .flatMap((r) => [r.rail_refund_id, r.idempotency_key]),
  );
  const external = railPayment.refunds
    .filter((r) => r.status !== 'failed')
    .filter((r) => !(r.railRefundId && ours.has(r.railRefundId)) && !(r.key && ours.has(r.key)))
    .reduce((sum, r) => sum + r.amountCents, 0);
  const payment = await services.store.payments.upsert({
    id: paymentId(services.pix.name, railPayment.documentId),
    rail: services.pix.name,
    document_id: railPayment.documentId,
    end_to_end_id: railPayment.endToEndId,
    order_number: order.orderNumber,
    customer_code: order.customerCode,
    amount_cents: railPayment.amountCents,
    external_refunded_cents: external,
    paid_at: railPayment.paidAt,
    verified_at: services.now().toISOString(),
  });
  return { found: true, order, payment, railPayment, match };
}

/** "52998224725" → "***.982.247-**": enough for staff to recognise, not a CPF in a log or receipt. */
export function maskTaxId(taxId: string): string {
  return taxId.length === 11 ? `***.${taxId.slice(3, 6)}.${taxId.slice(6, 9)}-**` : `**.${taxId.slice(2, 5)}.${taxId.slice(5, 8)}/****-**`;
}

/** How long a payment verified with the rail is trusted without asking again. */
export const PAYMENT_FRESH_MS = 60_000;

/** A stored payment as the rail adapters take it (refunds are the rail's to tell). */
export function railPaymentOf(payment: PaymentRow): PixPayment {
  return { documentId: payment.document_id, endToEndId: payment.end_to_end_id, amountCents: payment.amount_cents, paidAt: payment.paid_at, refunds: [] };
}

export function paymentId(rail: string, documentId: string): string {
  return `${rail}:${documentId}`;
}

/** What is left to refund on a payment: paid − refunded outside Estorno − held by Estorno. */
export async function refundableCents(services: Services, payment: PaymentRow): Promise<number> {
  return Math.max(0, payment.amount_cents - payment.external_refunded_cents - await services.store.refunds.heldCents(payment.id));
}

export function refundWindowEnds(services: Services, paidAt: string): Date {
  return new Date(Date.parse(paidAt) + services.pixRefundWindowDays * 86_400_000);
}

/** What the model is told about a verified order (ledger_lookup's result, and the first turn's context). */
export async function describeOrder(services: Services, v: Verification & { found: true }): Promise<Record<string, unknown>> {
  const { order, payment } = v;
  const base = {
    found: true,
    order_id: order.orderNumber,
    placed_at: order.placedAt,
    items: order.items.map((i) => ({ description: i.description, quantity: i.quantity })),
    total_cents: order.totalCents,
  };
  if (order.payment.method !== 'pix') return { ...base, payment: { method: order.payment.method }, refund_eligible: false, ineligible_reason: 'unsupported_rail' };
  if (!payment) {
    const reason = v.issue?.reason ?? 'payment_not_confirmed';
    return { ...base, payment: { method: 'pix' }, refund_eligible: false, ineligible_reason: reason, ...(reason === 'payment_ambiguous' ? { candidate_payments: v.issue?.candidates.length ?? 0 } : {}) };
  }
  const refundable = await refundableCents(services, payment);
  const windowEnds = refundWindowEnds(services, payment.paid_at);
  const ineligible = order.cancelled ? 'order_cancelled' : services.now() > windowEnds ? 'outside_refund_window' : refundable === 0 ? 'fully_refunded' : null;
  return {
    ...base,
    payment: {
      method: 'pix',
      paid_at: payment.paid_at,
      amount_cents: payment.amount_cents,
      refunded_cents: payment.amount_cents - refundable,
      refundable_cents: refundable,
      refund_window_ends: windowEnds.toISOString(),
    },
    refund_eligible: ineligible === null,
    ...(ineligible ? { ineligible_reason: ineligible } : {}),
  };
}

/** How far back the first turn's context looks for the customer's orders. */
export const RECENT_ORDERS_DAYS = 120;

/**
 * The customer's recent orders, verified like ledger_lookup would, for the
 * first turn's context — so the model needs no lookup round trip. Null when
 * the customer is not known to the ERP.
 */
export async function recentOrders(services: Services, conversation: Conversation, limit = 5): Promise<Array<Record<string, unknown>> | null> {
  const customer = conversation.customer_code !== null
    ? await services.erp.getCustomer(conversation.customer_code)
    : conversation.phone
      ? await services.erp.findCustomerByPhone(conversation.phone)
      : null;
  if (!customer) return null;
  const since = new Date(services.now().getTime() - RECENT_ORDERS_DAYS * 86_400_000).toISOString();
  const orders = (await services.erp.listOrders(customer.code, since)).filter((o) => o.customerCode === customer.code).slice(0, limit);
  // Each order is also read by number in the background, warming the ERP cache that
  // pay_refund's verification will hit; the context does not wait for it.
  for (const o of orders) services.erp.getOrder(o.orderNumber).catch(() => undefined);
  const verified = await Promise.all(orders.map((o) => verifyPayment(services, o)));
  return Promise.all(verified.map((v) => describeOrder(services, v)));
}
