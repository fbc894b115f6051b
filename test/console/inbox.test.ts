import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOAO, MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';
import { ADMIN, STAFF, login, seedUsers, type Session } from '../helpers/console.ts';
import { renderCanned } from '../../console/routes/canned.ts';

const NEW_READS = ['/api/conversations/cv_x/customer', '/api/conversations/cv_x/customer/erp', '/api/conversations/cv_x/canned-replies', '/api/canned-replies', '/api/approvals/apr_x', '/api/people', '/api/alerts'];
const NEW_WRITES: Array<[string, string, unknown]> = [
  ['POST', '/api/conversations/cv_x/assign', { user_id: null }],
  ['POST', '/api/conversations/cv_x/read', {}],
  ['POST', '/api/conversations/cv_x/notes', { text: 'x' }],
  ['POST', '/api/conversations/cv_x/close', {}],
  ['POST', '/api/conversations/cv_x/reopen', {}],
];
const ADMIN_WRITES: Array<[string, string, unknown]> = [
  ['POST', '/api/canned-replies', { title: 'Oi', body: 'Olá, {primeiro_nome}!' }],
  ['PUT', '/api/canned-replies/1', { archived: true }],
];

describe('console inbox API', () => {
  let e: TestEstorno;
  let admin: Session;
  let staff: Session;
  beforeAll(async () => {
    e = await startTestEstorno();
    await seedUsers(e);
    admin = await login(e, ADMIN);
    staff = await login(e, STAFF);
  });
  afterAll(async () => {
    await e.stop();
  });
  const conversationOf = async (phone: string) => (await e.services.store.conversations.byChat(phone))!;
  const list = async (query = '') => ({ items: (await staff.call('GET', `/api/conversations${query}`)).body as Array<Record<string, any>> });

  it('answers 401 without a session, 403 without the CSRF token, and 403 to staff on canned-reply writes', async () => {
    for (const path of NEW_READS) expect((await fetch(`${e.url}${path}`)).status, path).toBe(401);
    for (const [method, path, body] of [...NEW_WRITES, ...ADMIN_WRITES]) {
      expect((await fetch(`${e.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status, path).toBe(401);
      expect((await staff.call(method, path, body, { 'x-csrf-token': 'forged' })).status, path).toBe(403);
    }
    for (const [method, path, body] of ADMIN_WRITES) expect((await staff.call(method, path, body)).status, path).toBe(403);
    expect((await e.services.store.consoleWork.cannedReplies()).map((c) => c.title)).toEqual(['Cartão de crédito', 'Encerramento', 'Pedido em análise', 'Saudação']);
  });

  it('lists conversations with the ERP name (fetched in the background), masked phone, last message and unread count', async () => {
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
    await e.settle();
    const first = (await list()).items[0]!;
    expect(first.phone).toBe('(11) •••••-4321');
    expect(JSON.stringify(first)).not.toContain(MARINA.whatsapp);
    expect(first.last_message.at).toBeTruthy();
    expect(first.unread).toBe(1);
    // The name was not known at the first listing; it arrives from the ERP without blocking the list.
    const named = await waitFor('the ERP name', async () => (await list()).items.find((c) => c.name === 'Marina Souza'));
    expect(await e.services.store.conversations.get(named.id)).toMatchObject({ customer_name: 'Marina Souza', customer_code: MARINA.code });
    expect((await staff.call('POST', `/api/conversations/${named.id}/read`, {})).status).toBe(200);
    expect((await list()).items.find((c) => c.id === named.id)!.unread).toBe(0);
    // Admins have their own read marks.
    expect(((await admin.call('GET', '/api/conversations')).body as Array<{ id: string; unread: number }>).find((c) => c.id === named.id)!.unread).toBe(1);
  });

  it('puts a conversation handed to staff first in the queue, with its reason and waiting time, and filters by state', async () => {
    await e.say(JOAO.whatsapp, 'oi');
    await e.say(MARINA.whatsapp, 'e o pedido 8423? paguei no cartão, quero estorno');
    await e.settle();
    const items = (await list()).items;
    expect(items[0]).toMatchObject({ state: 'waiting_for_staff', handoff_reason: 'card_payment', name: 'Marina Souza' });
    expect(items[0]!.waiting_seconds).toBeGreaterThanOrEqual(0);
    expect((await list('?state=waiting_for_staff')).items.map((c) => c.id)).toEqual([(await conversationOf(MARINA.whatsapp)).id]);
    expect((await list('?state=agent')).items.map((c) => c.id)).toEqual([(await conversationOf(JOAO.whatsapp)).id]);
    // Dates are São Paulo days.
    const spDay = (offsetDays: number) => new Date(Date.now() - 3 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
    expect((await list(`?from=${spDay(0)}&to=${spDay(0)}`)).items).toHaveLength(2);
    expect((await list(`?from=${spDay(1)}`)).items).toHaveLength(0);
    expect((await list(`?to=${spDay(-1)}`)).items).toHaveLength(0);
    expect((await staff.call('GET', '/api/conversations?from=ontem')).status).toBe(400);
  });

  it('finds a conversation by order number, phone suffix, name without accents and receipt id', async () => {
    await e.complainAndConfirm(JOAO.whatsapp, 'o pedido 9001 veio quebrado');
    const joao = (await conversationOf(JOAO.whatsapp)).id;
    const marina = (await conversationOf(MARINA.whatsapp)).id;
    const ids = async (q: string) => (await list(`?q=${encodeURIComponent(q)}`)).items.map((c) => c.id);
    expect(await ids('8421')).toEqual([marina]);
    expect(await ids('9001')).toEqual([joao]);
    expect(await ids('5678')).toEqual([joao]);
    await waitFor('João named', async () => (await list()).items.find((c) => c.name === 'João Pereira'));
    expect(await ids('joao')).toEqual([joao]);
    expect(await ids('MARINA')).toEqual([marina]);
    const receipt = (await e.services.store.cases.forConversation(joao))[0]!.id;
    expect(await ids(receipt)).toEqual([joao]);
    expect(await ids('77777')).toEqual([]);
  });

  it('assigns to me and to someone, filters by assignee, keeps notes internal, and signs staff messages', async () => {
    const marina = (await conversationOf(MARINA.whatsapp)).id;
    const people = (await staff.call('GET', '/api/people')).body as Array<{ id: number; name: string }>;
    const staffId = people.find((p) => p.name === STAFF.name)!.id;
    const adminId = people.find((p) => p.name === ADMIN.name)!.id;
    expect((await staff.call('POST', `/api/conversations/${marina}/assign`, { user_id: adminId })).status).toBe(200);
    expect((await admin.call('GET', '/api/conversations?assignee=me')).body.map((c: { id: string }) => c.id)).toEqual([marina]);
    expect((await staff.call('POST', `/api/conversations/${marina}/assign`, { user_id: 999 })).status).toBe(422);
    expect((await staff.call('POST', `/api/conversations/${marina}/assign`, { user_id: staffId })).status).toBe(200);
    expect((await list('?assignee=me')).items.map((c) => c.id)).toEqual([marina]);
    expect((await list('?assignee=none')).items.map((c) => c.id)).not.toContain(marina);
    const before = (await e.outbox(MARINA.whatsapp)).length;
    expect((await staff.call('POST', `/api/conversations/${marina}/notes`, { text: 'cliente VIP, cuidado' })).status).toBe(201);
    const canned = (await staff.call('GET', `/api/conversations/${marina}/canned-replies`)).body as Array<{ title: string; text: string; missing: string[] }>;
    const analysis = canned.find((c) => c.title === 'Pedido em análise')!;
    expect(analysis).toMatchObject({ text: 'Marina, estou analisando o pedido 8423 e te retorno em instantes.', missing: [] });
    expect((await staff.call('POST', `/api/conversations/${marina}/takeover`, {})).status).toBe(200);
    expect((await staff.call('POST', `/api/conversations/${marina}/messages`, { text: analysis.text })).status).toBe(201);
    await e.settle();
    const sent = (await e.outbox(MARINA.whatsapp)).slice(before).map((m) => m.message);
    expect(sent).toEqual([analysis.text]);
    const t = (await staff.call('GET', `/api/conversations/${marina}`)).body;
    expect(t.entries.find((x: { kind: string }) => x.kind === 'note')).toMatchObject({ text: 'cliente VIP, cuidado', author_name: STAFF.name });
    expect(t.entries.filter((x: { kind: string }) => x.kind === 'staff').at(-1)).toMatchObject({ text: analysis.text, sent_by: STAFF.email, sent_by_name: STAFF.name });
    expect(t).toMatchObject({ name: 'Marina Souza', assignee: { id: staffId, name: STAFF.name }, state: 'with_staff' });
  });

  it('closes and reopens a conversation (reopened held by staff)', async () => {
    const marina = (await conversationOf(MARINA.whatsapp)).id;
    expect((await staff.call('POST', `/api/conversations/${marina}/reopen`, {})).status).toBe(409);
    expect((await staff.call('POST', `/api/conversations/${marina}/close`, {})).body).toMatchObject({ state: 'closed' });
    expect((await list('?state=closed')).items.map((c) => c.id)).toEqual([marina]);
    expect((await staff.call('POST', `/api/conversations/${marina}/reopen`, {})).body).toMatchObject({ state: 'with_staff' });
    const panel = (await staff.call('GET', `/api/conversations/${marina}/customer`)).body;
    expect(panel.closed_cycles).toHaveLength(1);
    expect(panel.orders).toContain('8421');
    expect(panel.payments.map((p: { order_number: string }) => p.order_number)).toContain('8421');
    const erp = (await staff.call('GET', `/api/conversations/${marina}/customer/erp`)).body;
    expect(erp.customer).toMatchObject({ name: 'Marina Souza' });
    expect(erp.orders.map((o: { order_number: string }) => o.order_number)).toEqual(expect.arrayContaining(['8421', '8422', '8423']));
  });

  it('lets admins manage canned replies, refusing unknown variables', async () => {
    expect((await admin.call('POST', '/api/canned-replies', { title: 'Prazo', body: 'Oi {cliente}' })).status).toBe(400);
    const created = await admin.call('POST', '/api/canned-replies', { title: 'Prazo do Pix', body: 'O Pix do pedido {pedido} cai em instantes, {primeiro_nome}.' });
    expect(created.status).toBe(201);
    expect((await admin.call('PUT', `/api/canned-replies/${created.body.id}`, { archived: true })).status).toBe(200);
    expect(((await staff.call('GET', '/api/canned-replies')).body.items as Array<{ title: string }>).map((c) => c.title)).not.toContain('Prazo do Pix');
    expect(renderCanned('Olá, {primeiro_nome}! Pedido {pedido}.', { nome: 'Ana Maria Silva', pedido: null, atendente: 'Sergio' })).toEqual({ text: 'Olá, Ana! Pedido {pedido}.', missing: ['pedido'] });
  });

  it('shows an approval with its context and refuses an approval naming another amount', async () => {
    const marina = (await conversationOf(MARINA.whatsapp)).id;
    await staff.call('POST', `/api/conversations/${marina}/handback`, {});
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 chegou quebrado, quero estorno');
    // After the hand back the model reads the staff note as a note, and the staff reply as what staff said.
    const seen = JSON.stringify(e.sandbox!.model.requests().at(-1));
    expect(seen).toContain('<staff_note>cliente VIP, cuidado</staff_note>');
    expect(seen).toContain('<staff_message');
    const pending = (await staff.call('GET', '/api/approvals?status=pending')).body as Array<{ id: string; amount_cents: number; customer_name: string }>;
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ amount_cents: 240_000, customer_name: 'Marina Souza' });
    const ctx = (await staff.call('GET', `/api/approvals/${pending[0]!.id}`)).body;
    expect(ctx.order).toMatchObject({ order_number: '8422', total_cents: 240_000, method: 'pix' });
    expect(ctx.order.items.length).toBeGreaterThan(0);
    expect(ctx.payment).toMatchObject({ amount_cents: 240_000, rail: expect.any(String) });
    expect(ctx.refund_history).toEqual([]);
    expect(ctx.excerpt.some((m: { who: string; text: string }) => m.who === 'customer' && m.text.includes('8422'))).toBe(true);
    expect(ctx.approval.reason).toBeTruthy();
    const wrong = await staff.call('POST', `/api/approvals/${pending[0]!.id}/approve`, { reason: 'ok', amount_cents: 24_000 });
    expect(wrong.status).toBe(409);
    expect((await e.services.store.approvals.get(pending[0]!.id))!.status).toBe('pending');
    expect((await e.pixRefunds()).some((r) => r.amount_cents === 240_000)).toBe(false);
    const right = await staff.call('POST', `/api/approvals/${pending[0]!.id}/approve`, { reason: 'cliente antiga', amount_cents: 240_000 });
    expect(right.body).toMatchObject({ ok: true, status: 'approved' });
    await e.settle();
    expect((await e.pixRefunds()).some((r) => r.amount_cents === 240_000)).toBe(true);
    const panel = (await staff.call('GET', `/api/conversations/${marina}/customer`)).body;
    expect(panel.refunds.map((r: { order_number: string; status: string }) => [r.order_number, r.status])).toEqual([['8422', 'settled']]);
    expect(panel.receipts.map((r: { order_number: string }) => r.order_number)).toEqual(['8422']);
  });

  it('counts handoffs by reason, waiting time and time to refund as p50/p95 in /api/stats', async () => {
    const stats = (await staff.call('GET', '/api/stats')).body;
    expect(stats.handoffs_by_reason).toEqual(expect.arrayContaining([{ reason: 'card_payment', count: 1 }]));
    expect(stats.waiting.count).toBeGreaterThanOrEqual(1);
    expect(stats.waiting.p50).not.toBeNull();
    expect(stats.complaint_to_refund.p50).not.toBeNull();
    expect(stats.complaint_to_refund.p95).toBeGreaterThanOrEqual(stats.complaint_to_refund.p50);
    expect(stats.refunds_by_reason.reduce((n: number, r: { refunds: number }) => n + r.refunds, 0)).toBeGreaterThanOrEqual(2);
  });
});

describe('rejecting an approval from the console', () => {
  it('keeps the internal reason internal and sends the customer the template plus the message written for them', async () => {
    const e = await startTestEstorno();
    await seedUsers(e);
    const admin = await login(e, ADMIN);
    expect((await admin.call('PUT', '/api/mandates/cm_support/caps', { per_refund_cap_cents: 5_000 })).status).toBe(200);
    await e.complainAndConfirm(JOAO.whatsapp, 'o pedido 9001 veio quebrado');
    const [pending] = (await admin.call('GET', '/api/approvals?status=pending')).body as Array<{ id: string; amount_cents: number }>;
    expect(pending).toMatchObject({ amount_cents: 7_550 });
    const before = (await e.outbox(JOAO.whatsapp)).length;
    const r = await admin.call('POST', `/api/approvals/${pending!.id}/reject`, { reason: 'suspeita de fraude, ver CPF', customer_message: 'Podemos oferecer a troca do produto.' });
    expect(r.body).toMatchObject({ ok: true, status: 'rejected' });
    await e.settle();
    const sent = (await e.outbox(JOAO.whatsapp)).slice(before).map((m) => m.message);
    expect(sent).toEqual(['Nossa equipe analisou o pedido de estorno de R$ 75,50 do pedido #9001 e não pôde aprová-lo.\nPodemos oferecer a troca do produto.']);
    expect(sent.join()).not.toContain('fraude');
    expect(await e.pixRefunds()).toEqual([]);
    await e.stop();
  });
});

describe('the inbox with 10,000 conversations', () => {
  it('pages through them with a cursor: the queue first oldest first, then newest activity first, none twice', async () => {
    const e = await startTestEstorno();
    await seedUsers(e);
    const staff = await login(e, STAFF);
    const store = e.services.store;
    const base = Date.parse('2026-11-01T00:00:00.000Z');
    await store.tx(async () => {
      const sql = store.database;
      const insert = "INSERT INTO conversations (id, chat_id, phone, mode, state, waiting_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
      const msg = "INSERT INTO inbox (message_id, conversation_id, kind, text, payload, received_at) VALUES (?, ?, 'text', ?, '{}', ?)";
      for (let i = 0; i < 10_000; i++) {
        const id = `cv_bulk${String(i).padStart(5, '0')}`;
        const phone = `55119${String(10_000_000 + i)}`;
        const waiting = i % 50 === 0;
        const at = new Date(base + i * 60_000).toISOString();
        await sql.run(insert, id, phone, phone, waiting ? 'staff' : 'agent', waiting ? 'waiting_for_staff' : 'agent', waiting ? new Date(base + (10_000 - i) * 60_000).toISOString() : null, at, at);
        await sql.run(msg, `BULK${i}`, id, `mensagem ${i} sobre o pedido ${50_000 + i}`, at);
      }
    });
    const seen: Array<Record<string, any>> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await fetch(`${e.url}/api/conversations?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { headers: { cookie: staff.cookie } });
      seen.push(...((await res.json()) as Array<Record<string, any>>));
      cursor = res.headers.get('x-next-cursor');
      if (cursor) expect(res.headers.get('link')).toContain(`cursor=${cursor}`);
      pages++;
    } while (cursor && pages < 100);
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen.map((c) => c.id)).size).toBe(10_000);
    const waiting = seen.slice(0, 200);
    expect(waiting.every((c) => c.state === 'waiting_for_staff')).toBe(true);
    expect(waiting.map((c) => c.waiting_since)).toEqual([...waiting.map((c) => c.waiting_since)].sort());
    const rest = seen.slice(200).map((c) => c.activity_at as string);
    expect(rest).toEqual([...rest].sort().reverse());
    expect(seen[0]!.last_message.text).toMatch(/^mensagem \d+ sobre o pedido/);
    // Search by an order number a customer typed, and by the end of a phone, among all of them.
    const hit = (await staff.call('GET', '/api/conversations?q=54321')).body as Array<{ id: string }>;
    expect(hit.map((c) => c.id)).toEqual(['cv_bulk04321']);
    const byPhone = (await staff.call('GET', '/api/conversations?q=0004321')).body as Array<{ id: string }>;
    expect(byPhone.map((c) => c.id)).toEqual(['cv_bulk04321']);
    // The page is picked on indexes: no full sort of the table for a state filter.
    if (store.sqlite) {
      const plan = store.sqlite.prepare("EXPLAIN QUERY PLAN SELECT id FROM conversations c WHERE c.state = 'waiting_for_staff' ORDER BY c.waiting_since, c.id LIMIT 50").all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join(' ')).toContain('conversations_queue');
    } else {
      await store.database.run('ANALYZE conversations');
      const plan = await store.database.all("EXPLAIN (FORMAT JSON) SELECT id FROM conversations c WHERE c.state = 'waiting_for_staff' ORDER BY c.waiting_since, c.id LIMIT 50");
      expect(JSON.stringify(plan)).toContain('conversations_queue');
    }
    await e.stop();
  }, 60_000);
});
