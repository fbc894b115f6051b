import { describe, expect, it } from 'vitest';
import { MARINA } from '../../../sandbox/seed.ts';
import { proposeRefund } from '../../../refunds/guard.ts';
import { describeOrder, verifyOrder } from '../../../refunds/verify-order.ts';
import { testServices } from '../../helpers/services.ts';

/**
 * Omie carries no Pix id: the pay-in is found on the rail by amount, payer
 * CPF and a window around the order's date. One candidate is used and the
 * case says how it was matched; none or several leave it to staff.
 */
async function setup() {
  const t = await testServices();
  const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
  const actor = { id: 'support-agent', mandateId: await t.services.agentMandateId(), conversation, toolUseId: 'toolu_1' };
  return { ...t, conversation, actor };
}

describe('finding the original pay-in on the rail', () => {
  it('uses the one pay-in of that amount from the customer\'s CPF in the window, and the case records how it was matched', async () => {
    const { services, conversation, actor, store } = await setup();
    const v = await verifyOrder(services, conversation, '8421');
    expect(v).toMatchObject({ found: true, match: { by: 'amount_payer_window', amount_cents: 18600, payer: '***.982.247-**', candidates: 1 } });
    const decision = await proposeRefund(services, actor, { orderNumber: '8421', amountCents: 18600, reason: 'defeito' });
    expect(decision.ok).toBe(true);
    const record = (await store.cases.records((decision as { caseId: string }).caseId)).find((r) => r.kind === 'verification')!;
    expect(JSON.parse(record.body).data.match).toMatchObject({ by: expect.stringMatching(/amount_payer_window|previous_match/) });
  });

  it('refuses with the candidates for staff when two pay-ins fit, and tells the model payment_ambiguous', async () => {
    const { services, conversation, actor, store, rails } = await setup();
    const original = rails.payments.get([...rails.payments.keys()].find((k) => rails.payments.get(k)!.amountCents === 18600)!)!;
    rails.payments.set('E'.padEnd(32, '7'), { ...structuredClone(original), documentId: 'decoy-doc', endToEndId: 'E'.padEnd(32, '7') });
    const v = await verifyOrder(services, conversation, '8421');
    expect(v).toMatchObject({ found: true, payment: null, issue: { reason: 'payment_ambiguous' } });
    expect((v as { issue: { candidates: unknown[] } }).issue.candidates).toHaveLength(2);
    expect(await describeOrder(services, v as never)).toMatchObject({ refund_eligible: false, ineligible_reason: 'payment_ambiguous', candidate_payments: 2 });
    const decision = await proposeRefund(services, actor, { orderNumber: '8421', amountCents: 18600, reason: 'defeito' });
    expect(decision).toMatchObject({ ok: false, reason: 'payment_ambiguous' });
    expect((decision as { detail: string }).detail).toContain('decoy-doc');
    expect(rails.refundCalls).toEqual([]);
    const row = await store.database.one("SELECT detail FROM guard_decisions WHERE reason = 'payment_ambiguous'") as { detail: string } | undefined;
    expect(row?.detail).toContain('decoy-doc');
  });

  it('moves no money when no pay-in fits (another payer, another amount, or outside the window)', async () => {
    const { services, conversation, actor, rails } = await setup();
    for (const p of rails.payments.values()) if (p.amountCents === 18600) p.payerTaxId = '11144477735';
    const v = await verifyOrder(services, conversation, '8421');
    expect(v).toMatchObject({ found: true, payment: null, issue: { reason: 'payment_not_confirmed', candidates: [] } });
    expect(await proposeRefund(services, actor, { orderNumber: '8421', amountCents: 18600, reason: 'x' })).toMatchObject({ ok: false, reason: 'payment_not_confirmed' });
    expect(rails.refundCalls).toEqual([]);
  });

  it('uses the Pix id a merchant\'s integration stored in the order first, when it is there', async () => {
    const { services, conversation, rails } = await setup();
    const order = (await rails.erp.getOrder('8421'))!;
    const e2e = [...rails.payments.values()].find((p) => p.amountCents === 18600)!.endToEndId;
    rails.erp.getOrder = async () => ({ ...order, payment: { method: 'pix', reference: e2e } });
    const v = await verifyOrder(services, conversation, '8421');
    expect(v).toMatchObject({ found: true, match: { by: 'reference', reference: e2e }, payment: { end_to_end_id: e2e } });
  });
});
