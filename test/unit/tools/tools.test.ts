import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { JOAO, MARINA } from '../../../sandbox/seed.ts';
import { executeToolUse as execute, type ToolResultBlock } from '../../../tools/execute.ts';

/** These tests use providers that never fail, so a result is always an answer. */
const executeToolUse = async (...args: Parameters<typeof execute>): Promise<ToolResultBlock> => {
  const r = await execute(...args);
  if ('transient' in r) throw new Error('unexpected transient failure');
  return r;
};
import { applyRailRefund } from '../../../refunds/refund-flow.ts';
import { testServices } from '../../helpers/services.ts';

/** Each tool through the dispatcher the agent uses: parse, run, record, answer. */
async function setup(phone = MARINA.whatsapp) {
  const t = await testServices();
  const conversation = await t.store.conversations.ensure(phone, phone, new Date().toISOString());
  let n = 0;
  const call = async (name: string, input: unknown) => {
    const block = { id: `toolu_${++n}`, name, input };
    const result = await executeToolUse({ services: t.services, conversation: (await t.store.conversations.get(conversation.id))!, turnId: 'turn_1', toolUseId: block.id, logger: pino({ level: 'silent' }) }, block);
    return { ...result, json: JSON.parse(result.content) as Record<string, unknown> };
  };
  return { ...t, conversation, call };
}

describe('ledger_lookup', () => {
  it("returns the sender's order with its payment and what is left", async () => {
    const { call } = await setup();
    const r = await call('ledger_lookup', { order_id: '#8424' });
    expect(r.is_error).toBeUndefined();
    expect(r.json).toMatchObject({ found: true, order_id: '8424', total_cents: 15000, refund_eligible: true, payment: { method: 'pix', amount_cents: 15000, refunded_cents: 5000, refundable_cents: 10000 } });
  });

  it('names why an order cannot be refunded automatically', async () => {
    const { call } = await setup();
    expect((await call('ledger_lookup', { order_id: '8423' })).json).toMatchObject({ refund_eligible: false, ineligible_reason: 'unsupported_rail' });
    expect((await call('ledger_lookup', { order_id: '8425' })).json).toMatchObject({ refund_eligible: false, ineligible_reason: 'outside_refund_window' });
  });

  it("answers another customer's order exactly like a missing one", async () => {
    const { call } = await setup(JOAO.whatsapp);
    const other = await call('ledger_lookup', { order_id: '8421' });
    const missing = await call('ledger_lookup', { order_id: '1234' });
    expect(other.json).toEqual({ found: false, order_id: '8421' });
    expect(missing.json).toEqual({ found: false, order_id: '1234' });
  });

  it('refuses unknown fields and records the refusal', async () => {
    const { call, store, conversation } = await setup();
    const r = await call('ledger_lookup', { order_id: '8421', include_other_customers: true });
    expect(r).toMatchObject({ is_error: true, json: { refused: true, reason: 'invalid_input' } });
    expect((await store.turns.toolCalls(conversation.id))[0]).toMatchObject({ outcome: 'refused', reason: 'invalid_input' });
  });
});

describe('pay_refund, invoice_credit_note and notify_customer', () => {
  it('refunds, then issues exactly one credit note per settled refund, however often asked', async () => {
    const { call, services, store, rails } = await setup();
    const paid = await call('pay_refund', { order_id: '8421', amount_cents: 18600, reason: 'veio errado' });
    expect(paid.json).toMatchObject({ status: 'refund_requested', amount_cents: 18600, receipt_id: expect.stringMatching(/^rcp_/) });
    expect(rails.refundCalls).toEqual([expect.objectContaining({ amountCents: 18600 })]);
    const refundId = paid.json.refund_id as string;
    expect((await call('invoice_credit_note', { refund_id: refundId })).json).toMatchObject({ refused: true, reason: 'refund_not_settled' });
    await applyRailRefund(services, refundId, { amountCents: 18600, status: 'settled', endToEndId: 'D'.padEnd(32, '1') }, 'test');
    const first = await call('invoice_credit_note', { refund_id: refundId });
    const second = await call('invoice_credit_note', { refund_id: refundId });
    expect(first.json).toMatchObject({ status: 'issued', number: '1' });
    expect(second.json).toEqual(first.json);
    expect(await store.database.one('SELECT COUNT(*) AS n FROM credit_notes WHERE refund_id = ?', refundId)).toEqual({ n: 1 });
  });

  it('sends a refund template once per refund and hands a conversation to staff', async () => {
    const { call, store, conversation } = await setup();
    const paid = await call('pay_refund', { order_id: '8424', amount_cents: 10000, reason: 'x' });
    const refundId = paid.json.refund_id as string;
    expect((await call('notify_customer', { template: 'refund_pending', refund_id: refundId })).json).toMatchObject({ sent: true });
    expect((await call('notify_customer', { template: 'refund_pending', refund_id: refundId })).json).toMatchObject({ sent: false, note: 'already sent' });
    expect((await call('notify_customer', { template: 'refund_done', refund_id: refundId })).json).toMatchObject({ refused: true, reason: 'refund_not_settled' });
    expect((await call('notify_customer', { template: 'handoff' })).json).toMatchObject({ sent: true });
    expect((await store.conversations.get(conversation.id))?.mode).toBe('staff');
    expect((await store.outbox.forConversation(conversation.id)).map((m) => m.template)).toEqual(['refund_pending', 'handoff']);
    expect((await call('notify_customer', { template: 'custom', text: 'mande o Pix para…' })).json).toMatchObject({ refused: true, reason: 'invalid_input' });
  });

  it("refuses a refund id of another conversation", async () => {
    const marina = await setup();
    const paid = await marina.call('pay_refund', { order_id: '8421', amount_cents: 100, reason: 'x' });
    const joao = await marina.store.conversations.ensure(JOAO.whatsapp, JOAO.whatsapp, new Date().toISOString());
    const result = await executeToolUse(
      { services: marina.services, conversation: joao, turnId: 't', toolUseId: 'toolu_x', logger: pino({ level: 'silent' }) },
      { id: 'toolu_x', name: 'notify_customer', input: { template: 'refund_pending', refund_id: paid.json.refund_id } },
    );
    expect(JSON.parse(result.content)).toMatchObject({ refused: true, reason: 'refund_not_found' });
  });

  it('returns the stored result for a tool_use id already executed, without running it again', async () => {
    const { services, store, conversation, rails } = await setup();
    const ctx = { services, conversation, turnId: 't', toolUseId: 'toolu_same', logger: pino({ level: 'silent' }) };
    const block = { id: 'toolu_same', name: 'pay_refund', input: { order_id: '8421', amount_cents: 500, reason: 'x' } };
    const first = await executeToolUse(ctx, block);
    const again = await executeToolUse(ctx, block);
    expect(again).toEqual(first);
    expect(rails.refundCalls).toHaveLength(1);
    expect(await store.refunds.forConversation(conversation.id)).toHaveLength(1);
  });
});

describe('approvals', () => {
  it('expire after 24 hours and can no longer be executed', async () => {
    let clock = Date.now();
    const t = await testServices({ now: () => new Date(clock) });
    const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date(clock).toISOString());
    const { proposeRefund } = await import('../../../refunds/guard.ts');
    const { decideApproval } = await import('../../../refunds/approvals.ts');
    const decision = await proposeRefund(t.services, { id: 'support-agent', mandateId: 'cm_support', conversation, toolUseId: null }, { orderNumber: '8422', amountCents: 240000, reason: 'quebrou' });
    expect(decision).toMatchObject({ ok: false, reason: 'over_per_refund_cap', approvalId: expect.stringMatching(/^apr_/) });
    // The same proposal again does not open a second approval; a different amount would.
    const again = await proposeRefund(t.services, { id: 'support-agent', mandateId: 'cm_support', conversation, toolUseId: null }, { orderNumber: '8422', amountCents: 240000, reason: 'quebrou' });
    expect((again as { approvalId: string }).approvalId).toBe((decision as { approvalId: string }).approvalId);
    const other = await proposeRefund(t.services, { id: 'support-agent', mandateId: 'cm_support', conversation, toolUseId: null }, { orderNumber: '8422', amountCents: 200000, reason: 'quebrou' });
    expect((other as { approvalId: string }).approvalId).not.toBe((decision as { approvalId: string }).approvalId);
    clock += 24 * 3_600_000 + 1;
    expect(await decideApproval(t.services, (decision as { approvalId: string }).approvalId, 'approve', { id: 'ana' }, 'ok')).toEqual({ ok: false, error: 'expired' });
    expect(t.rails.refundCalls).toEqual([]);
  });
});

describe('the pending sweep', () => {
  it('reconciles a refund whose settled webhook never came, and the case completes', async () => {
    let clock = Date.now();
    const t = await testServices({ now: () => new Date(clock) });
    const { Workers } = await import('../../../server/workers.ts');
    const workers = new Workers(t.services, () => {});
    const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date(clock).toISOString());
    const result = await executeToolUse(
      { services: t.services, conversation, turnId: 't', toolUseId: 'toolu_sweep', logger: pino({ level: 'silent' }) },
      { id: 'toolu_sweep', name: 'pay_refund', input: { order_id: '8421', amount_cents: 18600, reason: 'x' } },
    );
    const refundId = (JSON.parse(result.content) as { refund_id: string }).refund_id;
    expect((await t.store.refunds.get(refundId))?.status).toBe('pending');
    // The rail settled it, but its webhook was lost.
    const onRail = [...t.rails.payments.values()].flatMap((p) => p.refunds).find((r) => r.railRefundId && r.amountCents === 18600)!;
    onRail.status = 'settled';
    expect(await workers.sweepPending(60_000)).toBe(0); // too young to chase
    clock += 61_000;
    expect(await workers.sweepPending(60_000)).toBe(1);
    await workers.idle();
    expect((await t.store.refunds.get(refundId))?.status).toBe('settled');
    expect((await t.store.creditNotes.forRefund(refundId))?.status).toBe('authorized');
    expect((await t.store.cases.get((await t.store.refunds.get(refundId))!.case_id!))?.status).toBe('sealed');
    await workers.stop();
  });
});
