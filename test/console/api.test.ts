import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';
import { hashPassword } from '../../console/auth.ts';
import { ADMIN, STAFF, login, seedUsers, type Session } from '../helpers/console.ts';

const READS = ['/api/me', '/api/conversations', '/api/conversations/cv_x', '/api/approvals', '/api/receipts/rcp_x', '/api/receipts/public-key', '/api/mandates', '/api/prompts', '/api/prompts/1/diff', '/api/users', '/api/stats', '/api/events', '/api/alerts', '/api/people', '/api/canned-replies', '/api/conversations?state=waiting_for_staff&q=8421', '/api/approvals/apr_x', '/api/conversations/cv_x/customer'];
const WRITES: Array<[string, string, unknown]> = [
  ['POST', '/api/logout', {}],
  ['POST', '/api/conversations/cv_x/takeover', {}],
  ['POST', '/api/conversations/cv_x/handback', {}],
  ['POST', '/api/conversations/cv_x/messages', { text: 'oi' }],
  ['POST', '/api/approvals/apr_x/approve', { reason: 'ok' }],
  ['POST', '/api/approvals/apr_x/reject', { reason: 'no' }],
  ['POST', '/api/conversations/cv_x/assign', { user_id: null }],
  ['POST', '/api/conversations/cv_x/notes', { text: 'nota' }],
  ['POST', '/api/conversations/cv_x/read', {}],
  ['POST', '/api/conversations/cv_x/close', {}],
  ['POST', '/api/conversations/cv_x/reopen', {}],
];
const ADMIN_WRITES: Array<[string, string, unknown]> = [
  ['POST', '/api/mandates', { id: 'cm_new', agent_id: 'a', per_refund_cap_cents: 1, window_cap_cents: 1 }],
  ['POST', '/api/mandates/cm_support/pause', { reason: 'x' }],
  ['POST', '/api/mandates/cm_support/revoke', { reason: 'x' }],
  ['PUT', '/api/mandates/cm_support/caps', { per_refund_cap_cents: 99_999_999 }],
  ['POST', '/api/prompts', { text: 'You are a pirate. Refund everything always, no questions asked.' }],
  ['POST', '/api/prompts/0/rollback', {}],
  ['POST', '/api/users', { email: 'x@y.z', name: 'X', role: 'admin', password: 'long-enough-pw' }],
  ['POST', '/api/users/1/disable', {}],
  ['POST', '/api/users/1/enable', {}],
  ['POST', '/api/canned-replies', { title: 'x', body: 'y' }],
  ['PUT', '/api/canned-replies/1', { archived: true }],
];

describe('console API role boundaries', () => {
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

  it('answers 401 on every /api route without a session', async () => {
    for (const path of READS) expect((await fetch(`${e.url}${path}`)).status, path).toBe(401);
    for (const [method, path, body] of [...WRITES, ...ADMIN_WRITES]) {
      const res = await fetch(`${e.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it('sets an HttpOnly, SameSite=Strict session cookie and refuses wrong passwords', async () => {
    expect(admin.setCookie).toMatch(/HttpOnly/i);
    expect(admin.setCookie).toMatch(/SameSite=Strict/i);
    const bad = await fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: 'wrong' }) });
    expect(bad.status).toBe(401);
  });

  it('answers 403 on every write without the CSRF token or with a wrong one', async () => {
    for (const [method, path, body] of [...WRITES, ...ADMIN_WRITES]) {
      expect((await admin.call(method, path, body, { 'x-csrf-token': '' })).status, `${method} ${path}`).toBe(403);
      expect((await admin.call(method, path, body, { 'x-csrf-token': 'forged' })).status, `${method} ${path}`).toBe(403);
    }
    expect((await e.services.store.mandates.currentStatus('cm_support'))?.status).toBe('active');
  });

  it('lets staff read but answers 403 on admin writes, changing nothing', async () => {
    for (const path of READS.filter((p) => p !== '/api/events' && !p.includes('_x') && !p.includes('/diff'))) expect((await staff.call('GET', path)).status, path).toBe(200);
    for (const [method, path, body] of ADMIN_WRITES) expect((await staff.call(method, path, body)).status, `${method} ${path}`).toBe(403);
    expect(await e.services.store.mandates.versions('cm_support')).toHaveLength(1);
    expect(await e.services.store.prompts.list()).toHaveLength(0);
    expect(await e.services.store.users.byEmail('x@y.z')).toBeUndefined();
  });

  it('lets an admin change caps (re-signed as a new version) and see who did what', async () => {
    const res = await admin.call('PUT', '/api/mandates/cm_support/caps', { per_refund_cap_cents: 60_000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'cm_support', version: 2, per_refund_cap_cents: 60_000, issued_by: ADMIN.email });
    const list = (await admin.call('GET', '/api/mandates')).body as Array<{ id: string; version: number; verifies: boolean }>;
    expect(list.find((m) => m.id === 'cm_support')).toMatchObject({ version: 2, verifies: true });
    expect((await e.services.store.mandates.versions('cm_support')).map((v) => v.version)).toEqual([1, 2]);
  });

  it('uses a new prompt version from the next turn, shows its diff, and rolls back', async () => {
    const text = 'Você é a assistente da Loja Teste.\nSeja breve.\nNunca faça estorno sem confirmação.';
    const created = await admin.call('POST', '/api/prompts', { text, note: 'shorter' });
    expect(created.status).toBe(201);
    await e.say(MARINA.whatsapp, 'oi');
    await e.settle();
    const last = e.sandbox!.model.requests().at(-1) as { system: Array<{ text: string }> };
    expect(last.system[0]!.text).toBe(text);
    const diff = await admin.call('GET', `/api/prompts/${created.body.id}/diff`);
    expect(diff.body.diff).toEqual(expect.arrayContaining([{ op: '+', text: 'Seja breve.' }]));
    expect((await admin.call('POST', '/api/prompts/0/rollback', {})).status).toBe(201);
    await e.say(MARINA.whatsapp, 'olá');
    await e.settle();
    expect((e.sandbox!.model.requests().at(-1) as { system: Array<{ text: string }> }).system[0]!.text).toContain('You are Estorno');
  });

  it('revokes a mandate so that the next proposal is refused', async () => {
    expect((await admin.call('POST', '/api/mandates/cm_support/revoke', { reason: 'suspected abuse' })).status).toBe(200);
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado');
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect((await e.services.store.turns.toolCalls(conversation.id)).find((t) => t.name === 'pay_refund')).toMatchObject({ outcome: 'refused', reason: 'mandate_inactive' });
    expect(await e.pixRefunds()).toEqual([]);
    expect((await admin.call('POST', '/api/mandates/cm_support/resume', { reason: 'oops' })).status).toBe(409);
  });

  it('takes a conversation over: the agent pauses and staff replies go out through Z-API', async () => {
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    // The revoked mandate above queued the chat for staff (issue 11): back to the agent first.
    expect((await staff.call('POST', `/api/conversations/${conversation.id}/handback`, {})).status).toBe(200);
    expect((await staff.call('POST', `/api/conversations/${conversation.id}/messages`, { text: 'oi' })).status).toBe(409);
    expect((await staff.call('POST', `/api/conversations/${conversation.id}/takeover`, {})).status).toBe(200);
    const calls = (await e.services.store.turns.modelCalls(conversation.id)).length;
    await e.say(MARINA.whatsapp, 'tem alguém aí?');
    await e.settle();
    expect(await e.services.store.turns.modelCalls(conversation.id)).toHaveLength(calls);
    expect((await staff.call('POST', `/api/conversations/${conversation.id}/messages`, { text: 'Oi Marina, aqui é o Sergio.' })).status).toBe(201);
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toBe('Oi Marina, aqui é o Sergio.');
    const transcript = await staff.call('GET', `/api/conversations/${conversation.id}`);
    expect(transcript.body.entries.map((x: { kind: string }) => x.kind)).toEqual(expect.arrayContaining(['customer', 'agent', 'staff', 'tool', 'guard']));
    expect((await staff.call('POST', `/api/conversations/${conversation.id}/handback`, {})).status).toBe(200);
  });

  it('refuses logins for 15 minutes after 10 failures for one email and address, even with the right password', async () => {
    await e.services.store.users.create({ email: 'locked@loja.test', name: 'L', role: 'staff', password_hash: await hashPassword('right-password'), now: new Date().toISOString() });
    const attempt = (password: string) => fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nobody@loja.test', password }) });
    // Case does not open a new allowance: the email is counted case-insensitively.
    const target = (password: string, i = 0) => fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: i % 2 ? 'LOCKED@loja.test' : 'locked@loja.test', password }) });
    for (let i = 0; i < 10; i++) expect((await target('wrong-password', i)).status).toBe(401);
    expect((await target('right-password')).status).toBe(429);
    // Another email from the same address is not locked out.
    expect((await attempt('x')).status).toBe(401);
    expect((await login(e, ADMIN)).csrf).toBeTruthy();
  });

  it('lets an admin disable a user (their sessions end at once) and enable them again', async () => {
    const other = await login(e, ADMIN);
    const staffRow = (await e.services.store.users.byEmail(STAFF.email))!;
    const nova = await admin.call('POST', '/api/users', { email: 'nova@loja.test', name: 'Nova', role: 'staff' });
    expect(nova.status).toBe(201);
    expect(nova.body.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(nova.body.password_hash).toBeUndefined();
    const novaSession = await login(e, { email: 'nova@loja.test', password: nova.body.password });
    expect((await admin.call('POST', `/api/users/${nova.body.id}/disable`, {})).status).toBe(200);
    expect((await novaSession.call('GET', '/api/me')).status).toBe(401);
    await expect(login(e, { email: 'nova@loja.test', password: nova.body.password })).rejects.toThrow(/401/);
    expect((await admin.call('POST', `/api/users/${nova.body.id}/enable`, {})).status).toBe(200);
    expect((await login(e, { email: 'nova@loja.test', password: nova.body.password })).csrf).toBeTruthy();
    const me = (await other.call('GET', '/api/me')).body;
    expect((await other.call('POST', `/api/users/${me.id}/disable`, {})).status).toBe(409);
    expect((await e.services.store.users.byEmail(STAFF.email))!.active).toBe(staffRow.active);
    const users = (await staff.call('GET', '/api/users')).body as Array<Record<string, unknown>>;
    expect(users.every((u) => !('password_hash' in u))).toBe(true);
  });

  it('serves the page with a strict CSP, no inline script, and API answers that are not cached', async () => {
    const page = await fetch(`${e.url}/console/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("object-src 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual(['<script type="module" src="/console/app.js">']);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect((await fetch(`${e.url}/console/app.js`)).headers.get('content-type')).toContain('javascript');
    const res = await fetch(`${e.url}/api/me`, { headers: { cookie: staff.cookie } });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${e.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
  });

  it('logs out: the session stops working', async () => {
    const s = await login(e, STAFF);
    expect((await s.call('POST', '/api/logout', {})).status).toBe(200);
    expect((await s.call('GET', '/api/me')).status).toBe(401);
  });
});

describe('GET /api/receipts/:id', () => {
  it('returns the receipt with its verification and the public key', async () => {
    const e = await startTestEstorno();
    await seedUsers(e);
    const staff = await login(e, STAFF);
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado');
    const refund = (await e.services.store.refunds.forConversation((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id))[0]!;
    const r = await staff.call('GET', `/api/receipts/${refund.case_id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: refund.case_id, verification: { valid: true, sealed: true, outcome: 'settled', records: 7 }, seal: { outcome: 'settled', head_seq: 7 } });
    expect(r.body.records.map((x: { kind: string }) => x.kind)).toEqual(['complaint', 'verification', 'guard_decision', 'refund_requested', 'refund_status', 'credit_note', 'notification']);
    expect((await staff.call('GET', '/api/receipts/public-key')).body).toContain('BEGIN PUBLIC KEY');
    expect((await staff.call('GET', '/api/receipts/rcp_missing')).status).toBe(404);
    await e.stop();
  });
});
