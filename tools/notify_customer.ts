import { z } from 'zod';
import { defineTool, ok, refused } from './tool.ts';
import { TEMPLATE_NAMES, templates } from '../prompts/templates.ts';
import { templateKey } from '../core/keys.ts';
import { handOff, inferHandoffReason } from '../conversations/state.ts';

/** `notify_customer {template, refund_id?}`: a templated WhatsApp message to this conversation's customer. */
export const notifyCustomer = defineTool({
  name: 'notify_customer',
  description:
    'Sends a fixed, pre-approved WhatsApp message to the customer of this conversation. ' +
    '"handoff" also passes the conversation to a human. "refund_done" and "refund_pending" need the refund_id.',
  input: z.object({ template: z.enum(TEMPLATE_NAMES), refund_id: z.string().regex(/^rf_[a-z0-9]{1,40}$/).optional() }).strict(),
  async run(input, ctx) {
    const { store } = ctx.services;
    const now = ctx.services.now().toISOString();
    const conversation = ctx.conversation;
    let text: string;
    let caseId: string | null = null;
    let dedupeKey: string | null = null;
    if (input.template === 'handoff') {
      // A handoff queues the conversation for a person (with its reason); the customer is told by the state machine, once.
      const reason = await inferHandoffReason(store, conversation.id, ctx.turnId);
      const queued = await handOff(ctx.services, conversation.id, reason);
      return ok({ sent: queued, template: 'handoff', queued_for_staff: true, reason, ...(queued ? {} : { note: 'already with staff' }) });
    } else {
      const refund = input.refund_id ? await store.refunds.get(input.refund_id) : undefined;
      if (!refund || refund.conversation_id !== conversation.id) return refused('refund_not_found', 'This template needs a refund_id of this conversation.');
      caseId = refund.case_id;
      // The same template for the same refund goes out once, however often the model asks
      // (and "refund_done" shares its key with the message the flow queues itself).
      dedupeKey = templateKey(input.template, refund.id);
      if (input.template === 'refund_done') {
        const note = await store.creditNotes.forRefund(refund.id);
        if (refund.status !== 'settled' || note?.status !== 'authorized' || !refund.case_id) {
          return refused('refund_not_settled', 'The refund is not settled with its credit note yet; the customer is told automatically when it is.');
        }
        text = templates.refund_done({ amountCents: refund.amount_cents, orderNumber: refund.order_number, receiptId: refund.case_id, publicBaseUrl: ctx.services.publicBaseUrl, creditNoteNumber: note.number, creditNoteSeries: note.series, creditNoteAccessKey: note.access_key });
      } else {
        text = templates.refund_pending({ amountCents: refund.amount_cents, orderNumber: refund.order_number });
      }
    }
    const id = await store.tx(async () => {
      return await store.outbox.enqueue({
        conversation_id: conversation.id,
        chat_id: conversation.chat_id,
        text,
        source: 'template',
        template: input.template,
        case_id: caseId,
        dedupe_key: dedupeKey,
        now,
      });
    });
    ctx.services.wake();
    return ok({ sent: id !== null, template: input.template, ...(id === null ? { note: 'already sent' } : { outbox_id: id }) });
  },
});
