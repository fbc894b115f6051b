import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTrioBody } from '../../providers/trio.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';

describe('POST /webhooks/zapi', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno();
  });
  afterAll(async () => {
    await e.stop();
  });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${e.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const event = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({ type: 'ReceivedCallback', messageId: `W${Math.random().toString(36).slice(2)}`, phone: MARINA.whatsapp, fromMe: false, text: { message: 'oi' }, ...extra });

  it('answers 401 without the secret, with a wrong one, and stores nothing', async () => {
    const before = await e.services.store.database.one('SELECT COUNT(*) AS n FROM inbox') as { n: number };
    expect((await post('/webhooks/zapi', event())).status).toBe(401);
    expect((await post('/webhooks/zapi/wrong-token', event())).status).toBe(401);
    expect((await post('/webhooks/zapi', event(), { 'x-webhook-token': 'nope' })).status).toBe(401);
    const after = await e.services.store.database.one('SELECT COUNT(*) AS n FROM inbox') as { n: number };
    expect(after.n).toBe(before.n);
  });

  it('accepts the secret as the last path segment or as x-webhook-token', async () => {
    expect((await post(`/webhooks/zapi/${e.webhookToken}`, event({ text: { message: '?' }, phone: '5511900000001' }))).status).toBe(200);
    expect((await post('/webhooks/zapi', event({ phone: '5511900000002' }), { 'x-webhook-token': e.webhookToken })).status).toBe(200);
  });

  it('answers 400 with a readable error for JSON that is not a Z-API event, and for broken JSON', async () => {
    const bad = await post(`/webhooks/zapi/${e.webhookToken}`, JSON.stringify({ hello: 'world' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_event', message: expect.stringContaining('type') });
    // A message without its id (a notification without one is documented and acknowledged: see test/contract).
    const missing = await post(`/webhooks/zapi/${e.webhookToken}`, JSON.stringify({ type: 'ReceivedCallback', phone: MARINA.whatsapp, text: { message: 'oi' } }));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toContain("messageId");
    expect((await post(`/webhooks/zapi/${e.webhookToken}`, '{"type": "Rece')).status).toBe(400);
    expect((await post(`/webhooks/zapi/${e.webhookToken}`, JSON.stringify({ type: 'SomethingNew' }))).status).toBe(400);
  });

  it('answers 413 over 256 KB', async () => {
    const res = await post(`/webhooks/zapi/${e.webhookToken}`, event({ text: { message: 'x'.repeat(300_000) } }));
    expect(res.status).toBe(413);
  });

  it('processes a repeated messageId once', async () => {
    const body = event({ messageId: 'DUPLICATE-1', phone: '5511900000003', text: { message: 'quero falar com alguém sobre a entrega' } });
    const first = await post(`/webhooks/zapi/${e.webhookToken}`, body);
    const second = await post(`/webhooks/zapi/${e.webhookToken}`, body);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ duplicate: true });
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat('5511900000003'))!;
    expect(await e.services.store.inbox.forConversation(conversation.id)).toHaveLength(1);
    expect(await e.services.store.database.one('SELECT COUNT(*) AS n FROM turns WHERE conversation_id = ?', conversation.id)).toEqual({ n: 1 });
    expect((await e.outbox('5511900000003')).length).toBeGreaterThan(0);
  });

  it('stores fromMe, group, newsletter and status events and never answers them', async () => {
    const cases = [
      event({ fromMe: true, phone: '5511900000010' }),
      event({ isGroup: true, phone: '120363019502650977-group' }),
      event({ isNewsletter: true, phone: '5511900000011' }),
      event({ broadcast: true, phone: '5511900000012' }),
    ];
    for (const body of cases) expect((await post(`/webhooks/zapi/${e.webhookToken}`, body)).status).toBe(200);
    expect((await post(`/webhooks/zapi/${e.webhookToken}`, JSON.stringify({ type: 'MessageStatusCallback', status: 'READ', ids: ['x'] }))).status).toBe(200);
    await e.settle();
    const ignored = await e.services.store.database.all("SELECT ignore_reason FROM inbox WHERE kind = 'ignored' ORDER BY id") as Array<{ ignore_reason: string }>;
    expect(ignored.map((r) => r.ignore_reason)).toEqual(expect.arrayContaining(['from_me', 'group', 'newsletter', 'status']));
    const outbox = await e.outbox();
    expect(outbox.filter((m) => ['5511900000010', '5511900000011', '5511900000012'].includes(m.phone) || m.phone.endsWith('-group'))).toEqual([]);
  });
});

describe('POST /webhooks/pix', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno();
  });
  afterAll(async () => {
    await e.stop();
  });
  const { webhookSecret, webhookSigningKey } = SANDBOX_CREDENTIALS.trio;
  const send = (body: string, headers: Record<string, string>) => fetch(`${e.url}/webhooks/pix`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('refuses a missing secret or a bad signature with 401', async () => {
    const body = JSON.stringify({ ref_id: 'x', category: 'collecting_document_refund', type: 'settled', data: { id: 'x' } });
    expect((await send(body, { 'x-webhook-signature': signTrioBody(body, webhookSigningKey) })).status).toBe(401);
    expect((await send(body, { 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signTrioBody(body, 'other-key') })).status).toBe(401);
    expect((await send(body, { 'x-webhook-secret': webhookSecret })).status).toBe(401);
  });

  it('settles a refund once; a replayed event changes nothing', async () => {
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado');
    const refund = (await e.services.store.refunds.forConversation((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id))[0]!;
    expect(refund.status).toBe('settled');
    const events = await e.services.store.database.one('SELECT COUNT(*) AS n FROM refund_events WHERE refund_id = ?', refund.id) as { n: number };
    const records = (await e.services.store.cases.records(refund.case_id!)).length;
    const body = JSON.stringify({ ref_id: refund.rail_refund_id, category: 'collecting_document_refund', type: 'settled', timestamp: new Date().toISOString(), data: { id: refund.rail_refund_id, end_to_end_id: 'D'.padEnd(32, '9') } });
    const headers = { 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signTrioBody(body, webhookSigningKey) };
    const replay = await send(body, headers);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ duplicate: true });
    // A "failed" after settled is not a legal move either.
    const failed = JSON.stringify({ ref_id: refund.rail_refund_id, category: 'collecting_document_refund', type: 'failed', timestamp: new Date().toISOString(), data: { id: refund.rail_refund_id, error_message: 'late' } });
    expect((await send(failed, { 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signTrioBody(failed, webhookSigningKey) })).status).toBe(200);
    await e.settle();
    const after = (await e.services.store.refunds.get(refund.id))!;
    expect(after.status).toBe('settled');
    expect(after.end_to_end_id).toBe(refund.end_to_end_id);
    expect((await e.services.store.database.one('SELECT COUNT(*) AS n FROM refund_events WHERE refund_id = ?', refund.id) as { n: number }).n).toBe(events.n);
    expect(await e.services.store.cases.records(refund.case_id!)).toHaveLength(records);
    expect(await e.fiscalNotes()).toHaveLength(1);
  });

  it('records and refuses an event it does not handle (fail closed)', async () => {
    const body = JSON.stringify({ ref_id: 'p1', category: 'payment_document', type: 'settled', timestamp: new Date().toISOString(), data: { id: 'p1' } });
    const res = await send(body, { 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signTrioBody(body, webhookSigningKey) });
    expect(res.status).toBe(422);
    const row = await e.services.store.database.one("SELECT outcome FROM webhook_events WHERE event_key LIKE 'trio:payment_document:%'") as { outcome: string };
    expect(row.outcome).toBe('unhandled');
  });
});
