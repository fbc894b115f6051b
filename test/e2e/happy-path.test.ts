import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JOAO, MARINA, buildSeed } from '../../sandbox/seed.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';

/**
 * The whole loop, end to end: the real server on a random port in sandbox
 * mode, WhatsApp messages in as Z-API webhooks, the real SDK against the
 * scripted model, the real adapters against the emulators over HTTP.
 */
describe('a WhatsApp complaint becomes a governed Pix refund', () => {
  let e: TestEstorno;
  beforeEach(async () => {
    e = await startTestEstorno();
  });
  afterEach(async () => {
    await e.stop();
  });

  it("refunds Marina's order 8421 once, with its credit note, a Portuguese confirmation and every step stored", async () => {
    const started = Date.now();
    const first = await e.say(MARINA.whatsapp, 'Oi, o pedido #8421 veio errado, quero meu dinheiro de volta');
    expect(first.status).toBe(200);
    await e.settle();
    const question = (await e.outbox(MARINA.whatsapp)).at(-1);
    expect(question?.message).toContain('8421');
    expect(question?.message).toContain('R$ 186,00');
    expect(await e.pixRefunds()).toEqual([]); // nothing moves before she confirms

    await e.say(MARINA.whatsapp, 'sim, pode fazer');
    await e.settle();

    const seed = buildSeed();
    const order = seed.orders.find((o) => o.orderNumber === '8421');
    const refunds = await e.pixRefunds();
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ collecting_document_id: order?.documentId, amount_cents: 18600, status: 'settled' });

    const notes = await e.fiscalNotes();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ order_id: '8421', amount_cents: 18600 });

    const store = e.services.store;
    const conversation = await store.conversations.byChat(MARINA.whatsapp);
    expect(conversation).toBeDefined();
    const [refund] = await store.refunds.forConversation(conversation!.id);
    expect(refund).toMatchObject({ order_number: '8421', amount_cents: 18600, status: 'settled', mandate_id: 'cm_support' });
    expect(refund?.end_to_end_id).toMatch(/^D[0-9A-Za-z]{31}$/);
    expect(notes[0]?.refund_id).toBe(refund?.id.replace(/[^A-Za-z0-9]/g, ''));

    const confirmation = (await e.outbox(MARINA.whatsapp)).at(-1)?.message ?? '';
    expect(confirmation).toContain('estorno de R$ 186,00');
    expect(confirmation).toContain(refund?.case_id as string);
    expect(confirmation).toContain(`nº ${notes[0]?.number}`);

    // Every step stored: inbox processed, model calls, tool calls, guard decision, credit note, sealed case.
    expect((await store.inbox.forConversation(conversation!.id)).every((m) => m.processed_at !== null)).toBe(true);
    // Her verified recent orders were in the first turn's context: no lookup round trip, 3 model calls in all.
    expect(await store.turns.modelCalls(conversation!.id)).toHaveLength(3);
    expect((await store.turns.toolCalls(conversation!.id)).map((t) => [t.name, t.outcome])).toEqual([['pay_refund', 'ok']]);
    expect((await store.guardDecisions.forConversation(conversation!.id)).map((d) => d.decision)).toEqual(['allowed']);
    expect(await store.creditNotes.forRefund(refund!.id)).toMatchObject({ status: 'authorized' });
    const kinds = (await store.cases.records(refund!.case_id!)).map((r) => r.kind);
    expect(kinds).toEqual(['complaint', 'verification', 'guard_decision', 'refund_requested', 'refund_status', 'credit_note', 'notification']);
    expect((await store.cases.get(refund!.case_id!))?.status).toBe('sealed');
    expect(await store.cases.sealOf(refund!.case_id!)).toBeDefined();
    // eslint-disable-next-line no-console
    console.info(`e2e happy path wall time: ${Date.now() - started} ms`);
  });

  it("tells João nothing about Marina's order 8421 and refunds nothing", async () => {
    await e.complainAndConfirm(JOAO.whatsapp, 'quero o reembolso do pedido 8421');
    expect(await e.pixRefunds()).toEqual([]);
    const said = (await e.outbox(JOAO.whatsapp)).map((m) => m.message).join('\n');
    expect(said).not.toMatch(/186|Camiseta|Marina/);
    const conversation = (await e.services.store.conversations.byChat(JOAO.whatsapp))!;
    // His context holds only his own order; the model looked 8421 up and got "not found".
    const [contextBlock] = JSON.parse((await e.services.store.turns.history(conversation.id))[0]!.content) as Array<{ text: string }>;
    expect(contextBlock!.text).toContain('<customer_context>');
    expect(contextBlock!.text).toContain('"order_id":"9001"');
    expect(contextBlock!.text).not.toContain('8421');
    const lookup = (await e.services.store.turns.toolCalls(conversation.id)).find((t) => t.name === 'ledger_lookup');
    expect(JSON.parse(lookup!.result!)).toEqual({ found: false, order_id: '8421' });
  });

  it('refuses a refund of 8422 before the rail and opens a staff approval instead', async () => {
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 chegou quebrado, quero estorno');
    expect(await e.pixRefunds()).toEqual([]);
    const store = e.services.store;
    const conversation = (await store.conversations.byChat(MARINA.whatsapp))!;
    const decisions = await store.guardDecisions.forConversation(conversation.id);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ decision: 'approval_required', reason: 'over_per_refund_cap', amount_cents: 240000 });
    expect(await store.approvals.list('pending')).toEqual([expect.objectContaining({ order_number: '8422', amount_cents: 240000 })]);
    const payRefund = (await store.turns.toolCalls(conversation.id)).find((t) => t.name === 'pay_refund');
    expect(payRefund).toMatchObject({ outcome: 'refused', reason: 'over_per_refund_cap' });
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toMatch(/aprova/i);
  });
});
