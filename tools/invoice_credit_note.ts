import { z } from 'zod';
import { defineTool, ok, refused } from './tool.ts';
import { issueCreditNote } from '../refunds/refund-flow.ts';

/** `invoice_credit_note {refund_id}`: the credit note of a settled refund; once per refund (a second call returns the first). */
export const invoiceCreditNote = defineTool({
  name: 'invoice_credit_note',
  description:
    'Issues (or returns, if already issued) the NF-e de devolução for a settled refund of this conversation. ' +
    'The service issues it automatically when the refund settles; call this only to tell the customer its number.',
  input: z.object({ refund_id: z.string().regex(/^rf_[a-z0-9]{1,40}$/) }).strict(),
  async run(input, ctx) {
    const { store } = ctx.services;
    const refund = await store.refunds.get(input.refund_id);
    if (!refund || refund.conversation_id !== ctx.conversation.id) return refused('refund_not_found', 'No such refund in this conversation.');
    if (refund.status !== 'settled') return refused('refund_not_settled', `The refund is ${refund.status}; the credit note comes after it settles.`);
    const existing = await store.creditNotes.forRefund(refund.id);
    if (existing?.status !== 'authorized') await issueCreditNote(ctx.services, refund.id);
    const note = await store.creditNotes.forRefund(refund.id);
    if (!note || note.status !== 'authorized') return ok({ status: 'processing', refund_id: refund.id });
    return ok({ status: 'issued', refund_id: refund.id, number: note.number, series: note.series, access_key: note.access_key });
  },
});
