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
  if (order.payment.method !== 'pix' || !order.payment.endToEndId) return { found: true, order, payment: null, railPayment: null };
  // Verified with the rail a moment ago (the lookup before the refund): no second round trip.
  // Refunds made elsewhere in that minute cannot slip through: the rail refuses over-refunds itself.
  const recent = services.store.payments.verifiedSince(order.payment.endToEndId, new Date(services.now().getTime() - PAYMENT_FRESH_MS).toISOString());
  if (recent && recent.customer_code === order.customerCode) {
    return { found: true, order, payment: recent, railPayment: { documentId: recent.document_id, endToEndId: recent.end_to_end_id, amountCents: recent.amount_cents, paidAt: recent.paid_at, refunds: [] } };
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
