import { describe, expect, it } from 'vitest';
import { MARINA } from '../../../sandbox/seed.ts';
import { Workers } from '../../../server/workers.ts';
import { proposeRefund } from '../../../refunds/guard.ts';
import { applyRailRefund, executeRefund } from '../../../refunds/refund-flow.ts';
import { jobKeys } from '../../../core/keys.ts';
import { loadReceipt, verifyReceipt } from '../../../refunds/verify-receipt.ts';
import type { CreditNote } from '../../../providers/types.ts';
import { testServices } from '../../helpers/services.ts';

/**
 * Issue 15: the credit note is issued once the rail accepted the refund
 * (pending), while it settles; the case still records the note, tells the
 * customer and seals only after the refund settled.
 */
async function acceptedRefund(fiscal: () => Promise<CreditNote> = async () => ({ ref: 'x', status: 'authorized', number: '7', series: '1', accessKey: '3'.repeat(44) })) {
  const t = await testServices();
  let notes = 0;
  t.services.fiscal = { issueCreditNote: async () => (notes++, fiscal()), getCreditNote: async () => null };
  const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
  const decision = await proposeRefund(t.services, { id: 'support-agent', mandateId: await t.services.agentMandateId(), conversation, toolUseId: 'toolu_1' }, { orderNumber: '8421', amountCents: 18600, reason: 'defeito' });
  if (!decision.ok) throw new Error(decision.reason);
  expect((await executeRefund(t.services, decision.refund.id)).status).toBe('pending');
  const workers = new Workers(t.services, () => {});
  const run = async () => {
    workers.wake();
    await workers.idle();
  };
  const outbox = async () => (await t.store.database.all('SELECT template, text, status FROM outbox WHERE conversation_id = ?', conversation.id) as Array<{ template: string | null; text: string; status: string }>).filter((m) => m.template);
  const kinds = async () => (await t.store.cases.records(decision.caseId)).map((r) => r.kind);
  return { ...t, refundId: decision.refund.id, caseId: decision.caseId, conversation, run, outbox, kinds, notes: () => notes, workers };
}

describe('credit note while the refund settles', () => {
  it('is issued when the rail accepts the refund; the case records it, tells the customer and seals only after the settlement', async () => {
    const t = await acceptedRefund();
    await t.run();
    // Issued and authorised while the refund is pending…
    expect(t.notes()).toBe(1);
    expect((await t.store.refunds.get(t.refundId))?.status).toBe('pending');
    expect(await t.store.creditNotes.forRefund(t.refundId)).toMatchObject({ status: 'authorized', number: '7' });
    // …but nothing tells the customer or joins the receipt before the money settled.
    expect(await t.outbox()).toEqual([]);
    expect(await t.kinds()).not.toContain('credit_note');
    expect((await t.store.cases.get(t.caseId))?.status).toBe('open');

    await applyRailRefund(t.services, t.refundId, { amountCents: 18600, status: 'settled', endToEndId: 'D'.padEnd(32, '1') }, 'webhook');
    await t.run();
    expect(t.notes()).toBe(1);
    expect(await t.outbox()).toEqual([expect.objectContaining({ template: 'refund_done', status: 'sent', text: expect.stringContaining('nº 7') })]);
    expect((await t.kinds()).slice(-4)).toEqual(['refund_requested', 'refund_status', 'credit_note', 'notification']);
    expect((await t.store.cases.get(t.caseId))?.status).toBe('sealed');
    expect(verifyReceipt((await loadReceipt(t.store, t.caseId))!, t.services.keys.receipt.publicKey)).toMatchObject({ valid: true, sealed: true, outcome: 'settled' });
    // A second settled webhook changes nothing.
    await applyRailRefund(t.services, t.refundId, { amountCents: 18600, status: 'settled', endToEndId: 'D'.padEnd(32, '1') }, 'webhook');
    await t.run();
    expect((await t.kinds()).filter((k) => k === 'credit_note')).toHaveLength(1);
    expect(await t.outbox()).toHaveLength(1);
    await t.workers.stop();
  });

  it('a note SEFAZ rejects while the refund is pending is told to the customer only once the refund settled', async () => {
    const t = await acceptedRefund(async () => ({ ref: 'x', status: 'rejected', message: 'Rejeição 327' }));
    await t.run();
    expect((await t.store.creditNotes.forRefund(t.refundId))?.status).toBe('rejected');
    expect(await t.outbox()).toEqual([]);
    expect((await t.store.conversations.get(t.conversation.id))?.mode).not.toBe('staff');
    await applyRailRefund(t.services, t.refundId, { amountCents: 18600, status: 'settled', endToEndId: 'D'.padEnd(32, '1') }, 'webhook');
    await t.run();
    expect((await t.outbox()).map((m) => m.template)).toEqual(['credit_note_failed']);
    expect((await t.store.conversations.get(t.conversation.id))?.mode).toBe('staff');
    await t.workers.stop();
  });

  it('a refund the rail fails after its note was issued: the customer hears the failure, the case names the note to cancel', async () => {
    const t = await acceptedRefund();
    await t.run();
    await applyRailRefund(t.services, t.refundId, { amountCents: 18600, status: 'failed', failureReason: 'conta encerrada' }, 'webhook');
    await t.run();
    expect((await t.outbox()).map((m) => m.template)).toEqual(['refund_failed', 'handoff']);
    const failure = (await t.store.cases.records(t.caseId)).map((r) => JSON.parse(r.body) as { kind: string; data: Record<string, unknown> }).find((r) => r.kind === 'failure');
    expect(failure?.data).toMatchObject({ credit_note_to_cancel: { status: 'authorized', number: '7' } });
    expect((await t.store.jobs.byKey(jobKeys.creditNote(t.refundId)))?.status).toBe('done');
    expect(verifyReceipt((await loadReceipt(t.store, t.caseId))!, t.services.keys.receipt.publicKey)).toMatchObject({ valid: true, outcome: 'failed' });
    await t.workers.stop();
  });
});
