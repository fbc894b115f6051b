import { z } from 'zod';
import { defineTool, ok, refused } from './tool.ts';
import { describeOrder, verifyOrder } from '../refunds/verify-order.ts';

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
    return ok(await describeOrder(services, v));
  },
});
