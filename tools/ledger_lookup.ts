import { z } from 'zod';
import { defineTool, ok, refused } from './tool.ts';
import { refundableCents, refundWindowEnds, verifyOrder } from './ledger.ts';

/** `ledger_lookup {order_id}`: the sender's order with its payment and what is left to refund. */
export const ledgerLookup = defineTool({
  name: 'ledger_lookup',
  description:
    "Looks up one of the customer's own orders in the ERP by its number, with the original payment, what was already refunded and what is left. " +
    'Orders of other customers answer exactly like orders that do not exist.',
  input: z.object({ order_id: z.string().regex(/^#?\d{1,20}$/, 'order number: digits only').describe('The order number, e.g. "8421"') }).strict(),
  async run(input, ctx) {
    const orderNumber = input.order_id.replace(/^#/, '');
    const { services, conversation } = ctx;
    if (!conversation.phone && conversation.customer_code === null) {
      return refused('identity_required', 'The customer is not identified yet: ask for the CPF used on the purchase.');
    }
    const v = await verifyOrder(services, conversation, orderNumber);
    if (!v.found) return ok({ found: false, order_id: orderNumber });
    const { order, payment } = v;
    const base = {
      found: true,
      order_id: order.orderNumber,
      placed_at: order.placedAt,
      items: order.items.map((i) => ({ description: i.description, quantity: i.quantity })),
      total_cents: order.totalCents,
    };
    if (order.payment.method !== 'pix') {
      return ok({ ...base, payment: { method: order.payment.method }, refund_eligible: false, ineligible_reason: 'unsupported_rail' });
    }
    if (!payment) return ok({ ...base, payment: { method: 'pix' }, refund_eligible: false, ineligible_reason: 'payment_not_confirmed' });
    const refundable = refundableCents(services, payment);
    const windowEnds = refundWindowEnds(services, payment.paid_at);
    const ineligible = order.cancelled
      ? 'order_cancelled'
      : services.now() > windowEnds
        ? 'outside_refund_window'
        : refundable === 0
          ? 'fully_refunded'
          : null;
    return ok({
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
    });
  },
});
