import { afterEach, describe, expect, it } from 'vitest';
import { MARINA, buildSeed } from '../../sandbox/seed.ts';
import { fault, startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';

/** Provider faults injected through /sandbox/faults: nothing is lost, nothing is paid twice. */
describe('provider faults', () => {
  let e: TestEstorno;
  afterEach(async () => {
    await e.stop();
  });
  const conversation = async () => (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
  const doc8421 = buildSeed().orders.find((o) => o.orderNumber === '8421')!.documentId;
  /** The complaint turn, then `before()` (a fault for the refund itself), then the confirmation. */
  const confirmRefund = async (before: () => Promise<void> = async () => {}) => {
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    await before();
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
  };
  const sealed = async () => {
    const refund = (await e.services.store.refunds.forConversation((await conversation()).id))[0];
    return refund && (await e.services.store.cases.get(refund.case_id!))?.status === 'sealed' ? refund : null;
  };

  it('ERP down for the first turn\'s context: the model looks the order up itself', async () => {
    e = await startTestEstorno({ PROVIDER_TIMEOUT_MS: '300' });
    await fault(e, 'omie', 'http500', 1);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toContain('R$ 186,00');
    expect((await e.services.store.turns.toolCalls((await conversation()).id)).map((t) => t.name)).toEqual(['ledger_lookup']);
  });

  it('ERP failing or slow during a lookup: the customer is told, and the turn is retried until the lookup works', async () => {
    e = await startTestEstorno({ TURN_RETRY_DELAY_MS: '100', PROVIDER_TIMEOUT_MS: '300', AGENT_PREFETCH_ORDERS: 'false' });
    await fault(e, 'omie', 'http500', 1);
    await fault(e, 'omie', 'timeout', 1);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    const summary = await waitFor('the order summary', async () => (await e.outbox(MARINA.whatsapp)).find((m) => m.message.includes('R$ 186,00')));
    const messages = (await e.outbox(MARINA.whatsapp)).map((m) => m.message);
    expect(messages[0]).toContain('instabilidade');
    expect(messages.filter((m) => m.includes('instabilidade'))).toHaveLength(1); // told once, not on every retry
    expect(summary.message).toContain('Confirma');
    expect((await e.services.store.turns.toolCalls((await conversation()).id))[0]).toMatchObject({ name: 'ledger_lookup', outcome: 'ok', attempts: 2 });
  });

  it('Pix rail timing out: the refund stays unknown and is never sent again (Trio enforces no idempotency key)', async () => {
    e = await startTestEstorno({ PROVIDER_TIMEOUT_MS: '300' });
    await confirmRefund(() => fault(e, 'pix', 'timeout', 1));
    const refund = (await e.services.store.refunds.forConversation((await conversation()).id))[0]!;
    // Reconciliation asks again (and again) and finds nothing: absence is not proof, so no second POST.
    await waitFor('two reconciliations', async () => (await e.services.store.database.one("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'reconcile_refund' AND status = 'done'") as { n: number }).n >= 2, 15_000);
    expect(await e.pixRefunds()).toEqual([]);
    expect(await e.services.store.refunds.get(refund.id)).toMatchObject({ status: 'unknown', review_requested_at: null });
    const moves = await e.services.store.database.all('SELECT from_status, to_status, source FROM refund_events WHERE refund_id = ? ORDER BY id', refund.id);
    expect(moves).toEqual([
      { from_status: null, to_status: 'reserved', source: 'guard' },
      { from_status: 'reserved', to_status: 'submitting', source: 'submit' },
      { from_status: 'submitting', to_status: 'unknown', source: 'rail_response' },
    ]);
    expect(doc8421).toBeTruthy();
  });

  it('Pix rail dropping its answer: the refund it made is found by reconciliation, never made twice', async () => {
    e = await startTestEstorno({ PROVIDER_TIMEOUT_MS: '300' });
    await confirmRefund(() => fault(e, 'pix', 'drop_response', 1));
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toContain('R$ 186,00');
    await waitFor('a sealed refund', sealed);
    expect(await e.pixRefunds()).toHaveLength(1);
    expect(await e.fiscalNotes()).toHaveLength(1);
  });

  it('fiscal API failing: the refund stands, the credit note is retried until issued, and only then the case seals', async () => {
    e = await startTestEstorno();
    await confirmRefund(() => fault(e, 'fiscal', 'http500', 2));
    const refund = (await e.services.store.refunds.forConversation((await conversation()).id))[0]!;
    await waitFor('the refund to settle', async () => (await e.services.store.refunds.get(refund.id))?.status === 'settled');
    expect((await e.services.store.cases.get(refund.case_id!))?.status).toBe('open');
    await waitFor('a sealed refund', sealed);
    expect(await e.fiscalNotes()).toHaveLength(1);
    expect(await e.services.store.jobs.byKey(`credit_note:${refund.id}`)).toMatchObject({ status: 'done', attempts: 3 });
  });

  it('Z-API send failing: the message is kept and retried with backoff until delivered', async () => {
    e = await startTestEstorno();
    await fault(e, 'zapi', 'http500', 2);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    expect(await e.outbox(MARINA.whatsapp)).toEqual([]);
    const row = (await e.services.store.outbox.forConversation((await conversation()).id))[0]!;
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    const delivered = await waitFor('the reply', async () => (await e.outbox(MARINA.whatsapp))[0]);
    expect(delivered.message).toContain('R$ 186,00');
    expect(await e.services.store.outbox.get(row.id)).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('model answering 429 then 529: held, told once, retried, answered', async () => {
    e = await startTestEstorno({ TURN_RETRY_DELAY_MS: '100' });
    await fault(e, 'model', 'http429', 1);
    await fault(e, 'model', 'http500', 1);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await waitFor('the order summary', async () => (await e.outbox(MARINA.whatsapp)).find((m) => m.message.includes('R$ 186,00')));
    const calls = await e.services.store.turns.modelCalls((await conversation()).id);
    expect(calls.slice(0, 2).map((c) => c.error)).toEqual([expect.stringMatching(/429/), expect.stringMatching(/529/)]);
  });
});
