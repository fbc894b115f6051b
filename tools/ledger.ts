import { samePhone } from '../core/phone.ts';
import type { Conversation } from '../data/conversations.ts';
import type { PaymentRow } from '../data/payments.ts';
import type { ErpOrder, PixPayment } from './rails/types.ts';
import type { Services } from './context.ts';

/**
 * Verification: the order as the ERP has it, visible only to the WhatsApp
 * number (or the CPF-bound customer) that bought it, and its original payment
 * as the rail has it (DESIGN invariants 1 and 2).
 */

export type Verification =
  | { found: false }
  | {
      found: true;
      order: ErpOrder;
      /** Null for orders not paid by Pix, or when the rail does not know the payment. */
      payment: PaymentRow | null;
      railPayment: PixPayment | null;
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

/** The original payment of an order already known to be the customer's, as the rail has it. */
export async function verifyPayment(services: Services, order: ErpOrder): Promise<Verification & { found: true }> {
  if (order.payment.method !== 'pix' || !order.payment.endToEndId) return { found: true, order, payment: null, railPayment: null };
  // Verified with the rail a moment ago (the lookup before the refund): no second round trip.
  // Refunds made elsewhere in that minute cannot slip through: the rail refuses over-refunds itself.
  const recent = services.store.payments.verifiedSince(order.payment.endToEndId, new Date(services.now().getTime() - PAYMENT_FRESH_MS).toISOString());
  if (recent && recent.customer_code === order.customerCode) {
    return { found: true, order, payment: recent, railPayment: railPaymentOf(recent) };
  }
  const railPayment = await services.pix.findPayment(order.payment.endToEndId, order.placedAt);
  if (!railPayment) return { found: true, order, payment: null, railPayment: null };
  const ours = new Set(services.store.payments.refundsForPayment(paymentId(services.pix.name, railPayment.documentId)).flatMap((r) => [r.rail_refund_id, r.idempotency_key]));
  const external = railPayment.refunds
    .filter((r) => r.status !== 'failed')
    .filter((r) => !(r.railRefundId && ours.has(r.railRefundId)) && !(r.key && ours.has(r.key)))
    .reduce((sum, r) => sum + r.amountCents, 0);
  const payment = services.store.payments.upsert({
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
  return { found: true, order, payment, railPayment };
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
export function refundableCents(services: Services, payment: PaymentRow): number {
  return Math.max(0, payment.amount_cents - payment.external_refunded_cents - services.store.payments.heldCents(payment.id));
}

export function refundWindowEnds(services: Services, paidAt: string): Date {
  return new Date(Date.parse(paidAt) + services.pixRefundWindowDays * 86_400_000);
}

/** What the model is told about a verified order (ledger_lookup's result, and the first turn's context). */
export function describeOrder(services: Services, v: Verification & { found: true }): Record<string, unknown> {
  const { order, payment } = v;
  const base = {
    found: true,
    order_id: order.orderNumber,
    placed_at: order.placedAt,
    items: order.items.map((i) => ({ description: i.description, quantity: i.quantity })),
    total_cents: order.totalCents,
  };
  if (order.payment.method !== 'pix') return { ...base, payment: { method: order.payment.method }, refund_eligible: false, ineligible_reason: 'unsupported_rail' };
  if (!payment) return { ...base, payment: { method: 'pix' }, refund_eligible: false, ineligible_reason: 'payment_not_confirmed' };
  const refundable = refundableCents(services, payment);
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
  return verified.map((v) => describeOrder(services, v));
}
