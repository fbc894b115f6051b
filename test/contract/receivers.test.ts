import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetSandbox, startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { signTrioBody } from '../../providers/trio.ts';

/** The webhook receivers against the providers' documented behaviour (issue 12, and issue 10 "Low"). */
describe('POST /webhooks/pix: what a refund event says is checked against our refund', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    // The emulated rail settles only after 10 minutes: the test delivers the events itself.
    e = await startTestEstorno({}, { pixWebhookDelaysMs: { created: 5, settled: 600_000 } });
  });
  afterAll(async () => {
    await e.stop();
  });
  const { webhookSecret, webhookSigningKey } = SANDBOX_CREDENTIALS.trio;
  const send = (payload: unknown) => {
    const body = JSON.stringify(payload);
    return fetch(`${e.url}/webhooks/pix`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signTrioBody(body, webhookSigningKey) }, body });
  };

  /** A refund the rail accepted (pending), its settlement not yet delivered. */
  async function pendingRefund() {
    await resetSandbox(e);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await waitFor('the confirmation question', async () => (await e.outbox(MARINA.whatsapp)).find((m) => m.message.includes('Confirma')));
    await e.say(MARINA.whatsapp, 'sim');
    const refund = await waitFor('a pending refund', async () => {
      const c = await e.services.store.conversations.byChat(MARINA.whatsapp);
      return c ? (await e.services.store.refunds.forConversation(c.id)).find((r) => r.status === 'pending' && r.rail_refund_id) : undefined;
    });
    const payment = (await e.services.store.payments.get(refund.payment_id))!;
    return { refund, payment };
  }
  const settled = (refundId: string, data: Record<string, unknown>) => ({
    ref_id: refundId,
    category: 'collecting_document_refund',
    type: 'settled',
    timestamp: new Date().toISOString(),
    data: { id: refundId, end_to_end_id: 'D'.padEnd(32, '5'), transaction_date: new Date().toISOString(), ...data },
  });

  it('refuses a settled event with another amount, another collecting document or a date before our request; the refund stays as it was', async () => {
    const { refund, payment } = await pendingRefund();
    expect(refund.status).toBe('pending');
    const id = refund.rail_refund_id!;
    const wrongAmount = await send(settled(id, { amount: { amount: refund.amount_cents + 1, currency: 'BRL' }, collecting_document_id: payment.document_id }));
    expect(wrongAmount.status).toBe(422);
    expect(await wrongAmount.json()).toMatchObject({ error: 'event_mismatch', message: expect.stringContaining('amount') });
    const wrongDoc = await send({ ...settled(id, { amount: { amount: refund.amount_cents, currency: 'BRL' }, collecting_document_id: 'another-document' }), context_id: 'c2' });
    expect(wrongDoc.status).toBe(422);
    const early = settled(id, { amount: { amount: refund.amount_cents, currency: 'BRL' }, transaction_date: new Date(Date.parse(refund.created_at) - 2 * 86_400_000).toISOString() });
    expect((await send({ ...early, type: 'settled', timestamp: early.data.transaction_date })).status).toBe(422);
    expect((await e.services.store.refunds.get(refund.id))?.status).toBe('pending');
    const outcomes = await e.services.store.database.all("SELECT outcome FROM webhook_events WHERE outcome = 'mismatch'");
    expect(outcomes.length).toBeGreaterThanOrEqual(1);

    // The true event still settles it.
    const good = await send(settled(id, { amount: { amount: refund.amount_cents, currency: 'BRL' }, collecting_document_id: payment.document_id, transaction_date: new Date(Date.now() + 1000).toISOString() }));
    expect(good.status).toBe(200);
    expect((await e.services.store.refunds.get(refund.id))?.status).toBe('settled');
  });

  it('reads the older settled shape, where data.refund_document_id names the refund and data.id is another id', async () => {
    const { refund } = await pendingRefund();
    const older = { ref_id: 'other-id', category: 'collecting_document_refund', type: 'settled', timestamp: new Date().toISOString(), company_id: 'co', data: { id: 'attempt-id', attempt: 0, refund_document_id: refund.rail_refund_id, amount: { amount: refund.amount_cents, currency: 'BRL' } } };
    expect((await send(older)).status).toBe(200);
    expect((await e.services.store.refunds.get(refund.id))?.status).toBe('settled');
  });

  it('accepts Trio\'s documented signature recipe (HMAC of JSON.stringify(body)) and still refuses a forged one', async () => {
    const payload = { ref_id: 'unknown', category: 'collecting_document_refund', type: 'created', timestamp: new Date().toISOString(), data: { id: 'unknown-refund' } };
    const body = JSON.stringify(payload, null, 1);
    const documented = createHmac('sha256', webhookSigningKey).update(JSON.stringify(payload)).digest('hex').toUpperCase();
    const post = (signature: string) => fetch(`${e.url}/webhooks/pix`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signature }, body });
    expect((await post(documented)).status).toBe(200);
    expect((await post(createHmac('sha256', 'forged').update(JSON.stringify(payload)).digest('hex').toUpperCase())).status).toBe(401);
  });
});

describe('POST /webhooks/zapi: one customer, one conversation, whatever mix of phone and @lid', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno({ AGENT_PREFETCH_ORDERS: 'false' });
  });
  afterAll(async () => {
    await e.stop();
  });
  let n = 0;
  const post = (fields: Record<string, unknown>) =>
    fetch(`${e.url}/webhooks/zapi/${e.webhookToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'ReceivedCallback', messageId: `LIDTEST${++n}`, fromMe: false, isGroup: false, momment: Date.now(), text: { message: 'oi' }, ...fields }),
    });
  const conversations = async () => await e.services.store.database.all('SELECT chat_id, phone, lid FROM conversations ORDER BY created_at') as Array<{ chat_id: string; phone: string | null; lid: string | null }>;

  it('phone + chatLid, then the lid alone in phone, then senderLid + phone: the same conversation, the lid stored beside the phone', async () => {
    expect((await post({ phone: '5511955550001', chatLid: '81896604192873@lid' })).status).toBe(200);
    expect((await post({ phone: '81896604192873@lid' })).status).toBe(200);
    expect((await post({ phone: '5511955550001', senderLid: '81896604192873@lid' })).status).toBe(200);
    await e.settle();
    expect((await conversations()).filter((c) => c.lid === '81896604192873@lid' || c.phone === '5511955550001' || c.chat_id.includes('81896604192873'))).toEqual([
      { chat_id: '5511955550001', phone: '5511955550001', lid: '81896604192873@lid' },
    ]);
  });

  it('a contact first seen by its lid alone keeps one conversation when its phone shows up later', async () => {
    expect((await post({ phone: '70000000000777@lid' })).status).toBe(200);
    expect((await post({ phone: '5511955550002', chatLid: '70000000000777@lid' })).status).toBe(200);
    expect((await post({ phone: '5511955550002' })).status).toBe(200);
    await e.settle();
    expect((await conversations()).filter((c) => c.lid === '70000000000777@lid' || c.phone === '5511955550002' || c.chat_id === '5511955550002')).toEqual([
      { chat_id: '70000000000777@lid', phone: '5511955550002', lid: '70000000000777@lid' },
    ]);
  });
});
