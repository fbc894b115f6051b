import { z } from 'zod';
import { defineTool, ok, refused } from './tool.ts';
import { proposeRefund, type RefusalReason } from '../refunds/guard.ts';
import { executeRefund } from '../refunds/refund-flow.ts';
import { SUPPORT_AGENT_ID } from '../refunds/mandate.ts';

/** What the model is told for each refusal; the Pix window is the configured one (PIX_REFUND_WINDOW_DAYS). */
const refusalMessages = (windowDays: number): Record<RefusalReason, string> => ({
  invalid_input: 'The proposal is malformed: amount_cents must be a positive integer and order_id digits.',
  order_not_found: 'No such order for this customer.',
  order_cancelled: 'The order is cancelled.',
  unsupported_rail: 'The order was not paid by Pix; only Pix refunds are automated. Hand the customer off to staff.',
  payment_not_confirmed: 'The original Pix payment could not be confirmed on the rail. Hand off to staff.',
  payment_ambiguous: 'Several Pix payments on the rail could be the one of this order; staff must pick it. Hand off to staff.',
  outside_refund_window: `The Pix refund window (${windowDays} days after payment) has passed. Hand off to staff.`,
  exceeds_refundable: 'The amount is more than what is left to refund on this order.',
  mandate_missing: 'No spend mandate is configured for the agent; nothing can be refunded automatically.',
  mandate_unreadable: "The agent's spend mandate cannot be read; refunds are stopped.",
  bad_signature: "The agent's spend mandate does not verify; refunds are stopped.",
  mandate_inactive: "The agent's spend mandate is not active (paused, revoked or expired); refunds are stopped.",
  over_per_refund_cap: "The amount is above the agent's per-refund cap; it was sent to staff for approval.",
  over_window_cap: "The amount would exceed the agent's rolling spend cap; it was sent to staff for approval.",
  approval_not_pending: 'That approval was already decided.',
  conversation_with_staff: 'A person from the team holds this conversation; the agent may not refund. Say nothing more.',
  mandate_agent_mismatch: "The spend mandate is not issued to this agent; refunds are stopped. Hand off to staff.",
});

/** `pay_refund {order_id, amount_cents, reason}`: a refund on the original rail, to the original payer, through the guard. */
export const payRefund = defineTool({
  name: 'pay_refund',
  description:
    'Refunds part or all of an order to the payer, on the rail the customer paid with (Pix). ' +
    'Only after the customer confirmed. Destination and rail come from the verified order; amount in integer cents. ' +
    'A mandate decides: refusals come back as errors with a reason to explain to the customer.',
  input: z
    .object({
      order_id: z.string().regex(/^#?\d{1,20}$/, 'order number: digits only'),
      amount_cents: z.number().int().positive().describe('Amount in integer cents of BRL, e.g. 18600 for R$ 186,00'),
      reason: z.string().min(1).max(500).describe("Why, in the customer's words"),
    })
    .strict(),
  async run(input, ctx) {
    // This very call already reserved a refund before a crash: report it, never propose it twice.
    const earlier = await ctx.services.store.guardDecisions.allowedForToolUse(ctx.conversation.id, ctx.toolUseId);
    const earlierRefund = earlier?.refund_id ? await ctx.services.store.refunds.get(earlier.refund_id) : undefined;
    if (earlierRefund) {
      const base = { refund_id: earlierRefund.id, order_id: earlierRefund.order_number, amount_cents: earlierRefund.amount_cents, receipt_id: earlierRefund.case_id };
      if (earlierRefund.status === 'failed') return refused('rail_refused', `The payment rail refused the refund: ${earlierRefund.failure_reason ?? 'failed'}. Hand off to staff.`, { refund_id: earlierRefund.id });
      return ok({ status: earlierRefund.status === 'pending' || earlierRefund.status === 'settled' ? 'refund_requested' : 'refund_processing', ...base });
    }
    const decision = await proposeRefund(
      ctx.services,
      { id: SUPPORT_AGENT_ID, mandateId: await ctx.services.agentMandateId(), conversation: ctx.conversation, toolUseId: ctx.toolUseId },
      { orderNumber: input.order_id.replace(/^#/, ''), amountCents: input.amount_cents, reason: input.reason },
    );
    if (!decision.ok) {
      const windowDays = ctx.services.pixRefundWindowDays;
      return refused(decision.reason, `${refusalMessages(windowDays)[decision.reason]} (${decision.detail})`,
        decision.approvalId ? { approval: { approval_id: decision.approvalId, status: 'pending' } }
          : decision.reason === 'outside_refund_window' ? { refund_window_days: windowDays } : undefined);
    }
    let outcome: Awaited<ReturnType<typeof executeRefund>>;
    try {
      outcome = await executeRefund(ctx.services, decision.refund.id);
    } catch (error) {
      // Reserved but not sent (the database was busy, say): the reservation's own reconcile job
      // sends it shortly, so the refund is on its way, not failed.
      ctx.logger.warn({ refundId: decision.refund.id, err: error instanceof Error ? error.name : 'error' }, 'refund reserved; its rail call is left to reconciliation');
      const base = { refund_id: decision.refund.id, order_id: decision.refund.order_number, amount_cents: decision.refund.amount_cents, receipt_id: decision.caseId };
      return ok({ status: 'refund_processing', ...base, note: 'The refund is reserved and will be sent shortly; the customer will be notified automatically.' });
    }
    const base = { refund_id: outcome.refund.id, order_id: outcome.refund.order_number, amount_cents: outcome.refund.amount_cents, receipt_id: decision.caseId };
    switch (outcome.status) {
      case 'pending':
      case 'settled':
        return ok({ status: 'refund_requested', ...base });
      case 'unknown':
        return ok({ status: 'refund_processing', ...base, note: 'The rail has not confirmed yet; the customer will be notified automatically.' });
      case 'failed':
        return refused('rail_refused', `The payment rail refused the refund: ${outcome.detail}. Hand off to staff.`, { refund_id: outcome.refund.id });
    }
  },
});
