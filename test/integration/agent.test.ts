import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testStore } from '../helpers/test-store.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { decideApproval } from '../../refunds/approvals.ts';
import { fault, startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';
import { ADMIN, login, seedUsers } from '../helpers/console.ts';
import { proposeRefund } from '../../refunds/guard.ts';
import { transition } from '../../conversations/state.ts';
import { promptSha256 } from '../../data/evals.ts';
import { DEFAULT_SYSTEM_PROMPT } from '../../agent/prompt.ts';

/** The tool-calling loop with the scripted model, through the real SDK and the real server. */
describe('the agent loop', () => {
  let e: TestEstorno | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('keeps the tools + system prefix byte-identical across calls, so prompt caching applies', async () => {
    e = await startTestEstorno();
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado');
    const calls = await e.services.store.turns.modelCalls((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id);
    expect(calls.length).toBe(3);
    expect(new Set(calls.map((c) => c.prefix_hash)).size).toBe(1);
    expect(calls[0]!.cache_creation_tokens).toBeGreaterThan(0);
    expect(calls.slice(1).every((c) => (c.cache_read_tokens ?? 0) > 0)).toBe(true);
    const requests = e.sandbox!.model.requests() as Array<{ tool_choice: unknown; tools: Array<{ name: string; input_schema: Record<string, unknown> }> }>;
    expect(requests[0]!.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(requests[0]!.tools.map((t) => t.name)).toEqual(['ledger_lookup', 'pay_refund', 'invoice_credit_note', 'notify_customer']);
    expect(requests[0]!.tools[1]!.input_schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['order_id', 'amount_cents', 'reason'] });
  });

  it('picks up messages stored before a crash when it starts again', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-restart-'));
    const store = await testStore(dataDir);
    const now = new Date().toISOString();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, now);
    await store.inbox.insert({ message_id: 'BEFORE-CRASH', conversation_id: conversation.id, kind: 'text', ignore_reason: null, text: 'o pedido 8421 veio errado', payload: '{}', received_at: now });
    await store.close();
    e = await startTestEstorno({}, { dataDir });
    await e.settle();
    expect((await e.services.store.inbox.byMessageId('BEFORE-CRASH'))?.processed_at).toEqual(expect.any(String));
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toContain('R$ 186,00');
  });

  it('binds an @lid chat only after it types the code sent to the number on file, then answers the complaint it already had', async () => {
    e = await startTestEstorno();
    const lid = '81896604192873@lid';
    await e.say(lid, 'o pedido 8421 veio errado, quero meu dinheiro');
    await e.settle();
    expect((await e.outbox(lid)).map((m) => m.message)).toEqual([expect.stringContaining('CPF')]);
    expect(await e.services.store.turns.modelCalls((await e.services.store.conversations.byChat(lid))!.id)).toHaveLength(0);
    await e.say(lid, 'meu cpf é 111.111.111-11');
    await e.settle();
    expect((await e.outbox(lid)).at(-1)?.message).toContain('CPF'); // invalid CPF: asked again
    await e.say(lid, 'desculpa, é 529.982.247-25');
    await e.settle();
    // A CPF is not a login: nothing is bound yet, a code went to Marina's own WhatsApp.
    expect((await e.services.store.conversations.byChat(lid))!.customer_code).toBeNull();
    expect((await e.outbox(lid)).at(-1)?.message).toContain('código de 6 dígitos');
    const code = (await e.outbox(MARINA.whatsapp)).at(-1)?.message.match(/\d{6}/)?.[0];
    expect(code).toMatch(/^\d{6}$/);
    await e.say(lid, code === '000000' ? '111111' : '000000');
    await e.settle();
    expect((await e.outbox(lid)).at(-1)?.message).toContain('não confere');
    expect((await e.services.store.conversations.byChat(lid))!.customer_code).toBeNull();
    await e.say(lid, code!);
    await e.settle();
    expect((await e.services.store.conversations.byChat(lid))!.customer_code).toBe(MARINA.code);
    expect((await e.outbox(lid)).at(-1)?.message).toContain('R$ 186,00');
  });

  it('holds the customer and retries the turn later when the model is down', async () => {
    e = await startTestEstorno({ TURN_RETRY_DELAY_MS: '50' });
    await fetch(`${e.url}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'model', mode: 'http500', count: 1 }) });
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    await new Promise((r) => setTimeout(r, 100));
    await e.settle();
    const messages = (await e.outbox(MARINA.whatsapp)).map((m) => m.message);
    expect(messages[0]).toContain('instabilidade');
    expect(messages.at(-1)).toContain('R$ 186,00');
    const calls = await e.services.store.turns.modelCalls((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id);
    expect(calls[0]!.error).toMatch(/529/);
  });

  it('stops at the iteration cap and hands the customer to staff', async () => {
    e = await startTestEstorno({ AGENT_MAX_ITERATIONS: '3' });
    const loop = Array.from({ length: 5 }, () => ({ content: [{ type: 'tool_use', name: 'ledger_lookup', input: { order_id: '8421' } }], stop_reason: 'tool_use' }));
    await e.script(loop);
    await e.say(MARINA.whatsapp, 'oi');
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect(await e.services.store.turns.modelCalls(conversation.id)).toHaveLength(3);
    expect(conversation.mode).toBe('staff');
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toContain('equipe');
    await fetch(`${e.url}/sandbox/model/script`, { method: 'DELETE' });
  });

  it('executes an approved over-cap refund under the approver mandate, and tells the customer', async () => {
    e = await startTestEstorno();
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 chegou quebrado');
    const [approval] = await e.services.store.approvals.list('pending');
    expect(approval).toMatchObject({ order_number: '8422', amount_cents: 240000 });
    expect(await decideApproval(e.services, approval!.id, 'approve', { id: 'ana@loja' }, '')).toEqual({ ok: false, error: 'reason_required' });
    const result = await decideApproval(e.services, approval!.id, 'approve', { id: 'ana@loja' }, 'cliente antiga, produto com defeito');
    expect(result).toMatchObject({ ok: true, status: 'approved' });
    await e.settle();
    expect(await decideApproval(e.services, approval!.id, 'approve', { id: 'bia@loja' }, 'again')).toEqual({ ok: false, error: 'not_pending' });
    expect((await e.pixRefunds()).map((r) => r.amount_cents)).toEqual([240000]);
    const refund = (await e.services.store.refunds.get((result as { refundId: string }).refundId))!;
    expect(refund).toMatchObject({ status: 'settled', mandate_id: 'cm_staff_approvals', authorized_by: 'staff:ana@loja', approval_id: approval!.id });
    expect((await e.services.store.cases.get(refund.case_id!))?.status).toBe('sealed');
    const said = (await e.outbox(MARINA.whatsapp)).map((m) => m.message);
    expect(said.some((m) => m.includes('aprovou'))).toBe(true);
    expect(said.at(-1)).toContain('R$ 2.400,00');
  });

  it('tells the customer when staff reject, and moves no money; the internal reason stays internal (defect 7)', async () => {
    e = await startTestEstorno();
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 chegou quebrado');
    const [approval] = await e.services.store.approvals.list('pending');
    expect(await decideApproval(e.services, approval!.id, 'reject', { id: 'ana@loja' }, 'cliente suspeito de fraude, 3 estornos no mês', 'Como o produto foi usado, não podemos estornar, mas podemos trocar.')).toEqual({ ok: true, status: 'rejected' });
    await e.settle();
    expect(await e.pixRefunds()).toEqual([]);
    const said = (await e.outbox(MARINA.whatsapp)).map((m) => m.message);
    expect(said.at(-1)).toContain('não pôde aprová-lo');
    expect(said.at(-1)).toContain('podemos trocar');
    expect(said.join('\n')).not.toContain('fraude');
    expect((await e.services.store.approvals.get(approval!.id))?.decision_reason).toContain('fraude');
  });
});

describe('resuming a turn cut between a tool_use and its result', () => {
  it('runs the owed tool first, then answers the message that came meanwhile', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-resume-'));
    const store = await testStore(dataDir);
    const now = new Date().toISOString();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, now);
    await store.inbox.insert({ message_id: 'R-1', conversation_id: conversation.id, kind: 'text', ignore_reason: null, text: 'o pedido 8421 veio errado', payload: '{}', received_at: now });
    await store.turns.start('turn_cut', conversation.id, now);
    await store.turns.appendHistory(conversation.id, 'turn_cut', 'user', [{ type: 'text', text: 'o pedido 8421 veio errado' }], now);
    await store.inbox.markProcessed([(await store.inbox.byMessageId('R-1'))!.id], 'turn_cut', now);
    await store.turns.appendHistory(conversation.id, 'turn_cut', 'assistant', [{ type: 'tool_use', id: 'toolu_cut', name: 'ledger_lookup', input: { order_id: '8421' } }], now);
    // The crash happened here; then the customer wrote again.
    await store.inbox.insert({ message_id: 'R-2', conversation_id: conversation.id, kind: 'text', ignore_reason: null, text: 'alô?', payload: '{}', received_at: now });
    await store.close();
    const e = await startTestEstorno({}, { dataDir });
    await e.settle();
    const history = (await e.services.store.turns.history(conversation.id)).map((h) => JSON.parse(h.content) as Array<{ type: string }>);
    const afterToolUse = history[2]!;
    expect(afterToolUse[0]!.type).toBe('tool_result');
    expect((await e.services.store.inbox.byMessageId('R-2'))?.processed_at).toEqual(expect.any(String));
    expect((await e.services.store.turns.modelCalls(conversation.id)).every((c) => c.error === null)).toBe(true);
    expect((await e.outbox(MARINA.whatsapp)).length).toBeGreaterThan(0);
    await e.stop();
  });
});

describe('a conversation a person holds (issue 11, defect 1)', () => {
  let e: TestEstorno | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  const startWithClock = async (env: Record<string, string> = {}) => {
    let offset = 0;
    const started = await startTestEstorno(env, { now: () => new Date(Date.now() + offset) });
    await seedUsers(started);
    return { e: started, advance: (ms: number) => void (offset += ms), admin: await login(started, ADMIN) };
  };

  it('takeover cancels the parked turn and its resume job: time passes, no refund reaches the rail, the agent says nothing', async () => {
    const t = await startWithClock();
    e = t.e;
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    await fault(e, 'model', 'http500', 1);
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect((await e.services.store.turns.unfinished(conversation.id))?.status).toBe('parked');
    expect(await e.services.store.turns.pendingResumeJobs(conversation.id)).toBe(1);
    const before = (await e.outbox(MARINA.whatsapp)).length;
    expect((await t.admin.call('POST', `/api/conversations/${conversation.id}/takeover`)).body).toMatchObject({ state: 'with_staff' });
    expect(await e.services.store.turns.pendingResumeJobs(conversation.id)).toBe(0);
    expect(await e.services.store.turns.unfinished(conversation.id)).toBeUndefined();
    for (let i = 0; i < 5; i++) {
      t.advance(60_000);
      e.workers.wake();
      await e.settle();
    }
    expect(await e.pixRefunds()).toEqual([]);
    expect((await e.outbox(MARINA.whatsapp)).length).toBe(before);
    expect((await e.services.store.turns.toolCalls(conversation.id)).map((c) => c.name)).not.toContain('pay_refund');
  });

  it('a turn in flight when staff take over sends nothing and runs no tool', async () => {
    e = await startTestEstorno({}, { sandboxLatency: { model: 300 } });
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    const seen = e.sandbox!.model.requests().length;
    const before = (await e.outbox(MARINA.whatsapp)).length;
    await e.say(MARINA.whatsapp, 'sim');
    // The model is answering "sim" (with a pay_refund) when the person takes the chat.
    await waitFor('the model call for "sim"', () => e!.sandbox!.model.requests().length > seen);
    await transition(e.services.store, conversation.id, 'with_staff', new Date().toISOString());
    await e.settle();
    expect(await e.pixRefunds()).toEqual([]);
    expect((await e.outbox(MARINA.whatsapp)).length).toBe(before);
    expect((await e.services.store.turns.toolCalls(conversation.id)).map((c) => c.name)).not.toContain('pay_refund');
  });

  it('the guard refuses an agent proposal for a conversation staff hold, with its own reason; staff executing an approval are not blocked', async () => {
    e = await startTestEstorno();
    await e.say(MARINA.whatsapp, 'o pedido 8422 chegou quebrado');
    await e.settle();
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    await transition(e.services.store, conversation.id, 'with_staff', new Date().toISOString());
    const held = (await e.services.store.conversations.get(conversation.id))!;
    const refused = await proposeRefund(e.services, { id: 'support-agent', mandateId: 'cm_support', conversation: held, toolUseId: null }, { orderNumber: '8421', amountCents: 18600, reason: 'x' });
    expect(refused).toMatchObject({ ok: false, reason: 'conversation_with_staff' });
    expect((await e.services.store.guardDecisions.forConversation(conversation.id)).map((d) => d.reason)).toContain('conversation_with_staff');
    const [approval] = await e.services.store.approvals.list('pending');
    expect(await decideApproval(e.services, approval!.id, 'approve', { id: 'ana@loja' }, 'ok')).toMatchObject({ ok: true, status: 'approved' });
    await e.settle();
    expect((await e.pixRefunds()).map((r) => r.amount_cents)).toEqual([240000]);
  });

  it('the guard refuses a mandate issued to another agent (defect 5)', async () => {
    e = await startTestEstorno();
    await e.say(MARINA.whatsapp, 'oi');
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    const refused = await proposeRefund(e.services, { id: 'support-agent', mandateId: 'cm_staff_approvals', conversation, toolUseId: null }, { orderNumber: '8421', amountCents: 100, reason: 'x' });
    expect(refused).toMatchObject({ ok: false, reason: 'mandate_agent_mismatch' });
    expect(await e.pixRefunds()).toEqual([]);
  });

  it('readiness reports the model degraded while it fails, and the one holding message blames no order lookup (defect 6)', async () => {
    e = await startTestEstorno({ TURN_RETRY_DELAY_MS: '60000' });
    const ready = async () => (await fetch(`${e!.url}/readyz`)).json() as Promise<{ status: string; model: { status: string }; providers: Record<string, { status: string }> }>;
    expect(await ready()).toMatchObject({ status: 'ok', model: { status: 'ok' } });
    await fault(e, 'model', 'http500', 1);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    const r = await fetch(`${e.url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ status: 'degraded', model: { status: 'degraded' }, providers: { omie: { status: 'ok' }, pix: { status: 'ok' }, zapi: { status: 'ok' } } });
    const said = (await e.outbox(MARINA.whatsapp)).map((m) => m.message);
    expect(said).toHaveLength(1);
    expect(said[0]).not.toMatch(/consultar seu pedido/);
  });
});

describe('refunded orders (issue 11, defect 4)', () => {
  it('the order context of a later turn shows the refund made, and the order is not offered again', async () => {
    const e = await startTestEstorno();
    try {
      await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado');
      await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado de novo');
      await e.settle();
      await e.say(MARINA.whatsapp, 'sim');
      await e.settle();
      const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
      const contexts = (await e.services.store.turns.history(conversation.id)).filter((h) => h.role === 'user' && h.content.includes('<customer_context>'));
      expect(contexts).toHaveLength(2);
      const latest = JSON.parse(/<customer_context>([\s\S]*?)<\/customer_context>/.exec(JSON.parse(contexts[1]!.content)[0].text)![1]!) as { recent_orders: Array<{ order_id: string; refund_eligible: boolean; ineligible_reason?: string; payment: { refundable_cents: number } }> };
      expect(latest.recent_orders.find((o) => o.order_id === '8421')).toMatchObject({ refund_eligible: false, ineligible_reason: 'fully_refunded', payment: { refundable_cents: 0 } });
      expect((await e.pixRefunds()).map((r) => r.amount_cents)).toEqual([18600]);
      const said = (await e.outbox(MARINA.whatsapp)).map((m) => m.message);
      expect(said.at(-1)).toContain('já foi feito');
      expect(said.join('\n')).not.toContain('qual é o número do seu pedido');
    } finally {
      await e.stop();
    }
  });
});

describe('eval results beside prompt versions (issue 11, item 9)', () => {
  it('shows the last eval of each version and asks for confirmation before publishing a text that evaluated worse', async () => {
    const e = await startTestEstorno();
    try {
      await seedUsers(e);
      const admin = await login(e, ADMIN);
      const draft = 'Você é o Estorno. Responda sempre em português e nunca estorne nada sem confirmação.';
      const run = async (text: string, passK: number) => await e.services.store.evals.record({ prompt_sha256: promptSha256(text), prompt_label: 'x', model: 'scripted model', k: 1, scenarios: 40, passed_all: Math.round(40 * passK), pass_k: passK, pass_1: passK, created_at: new Date().toISOString() });
      await run(DEFAULT_SYSTEM_PROMPT, 1);
      await run(draft, 0.5);
      const refused = await admin.call('POST', '/api/prompts', { text: draft });
      expect(refused).toMatchObject({ status: 409, body: { error: 'lower_pass_rate' } });
      expect(await e.services.store.prompts.list()).toHaveLength(0);
      expect((await admin.call('POST', '/api/prompts', { text: draft, confirm: true })).status).toBe(201);
      const prompts = (await admin.call('GET', '/api/prompts')).body as { model: string; model_note?: string; versions: Array<{ eval: { pass_k: number } | null }>; default_eval: { pass_k: number } };
      expect(prompts.versions[0]!.eval).toMatchObject({ pass_k: 0.5 });
      expect(prompts.default_eval).toMatchObject({ pass_k: 1 });
      expect(prompts.model).toBe('scripted model');
      expect(prompts.model_note).toMatch(/no effect/);
    } finally {
      await e.stop();
    }
  });
});

describe('handoffs that reach a person (issue 11, defect 3)', () => {
  it('a card order is queued with its reason and waiting time, visible in the console API, and the customer is told why', async () => {
    const e = await startTestEstorno();
    try {
      await seedUsers(e);
      const staff = await login(e, ADMIN);
      await e.say(MARINA.whatsapp, 'o pedido 8423 veio com defeito');
      await e.settle();
      const list = (await staff.call('GET', '/api/conversations')).body as Array<{ state: string; handoff_reason: string; waiting_since: string | null }>;
      expect(list[0]).toMatchObject({ state: 'waiting_for_staff', handoff_reason: 'card_payment', waiting_since: expect.any(String) });
      const alerts = (await staff.call('GET', '/api/alerts')).body as Array<{ kind: string }>;
      expect(alerts.map((a) => a.kind)).toContain('waiting_for_staff');
      expect((await e.outbox(MARINA.whatsapp)).map((m) => m.message)).toEqual([expect.stringMatching(/^Pagamentos com cartão são atendidos pela nossa equipe\. Passei sua conversa para uma pessoa/)]);
      const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
      // Staff answer it: the conversation is theirs now, and the agent stays silent.
      expect((await staff.call('POST', `/api/conversations/${conversation.id}/messages`, { text: 'Oi Marina, vou cuidar do seu pedido.' })).status).toBe(201);
      expect(await e.services.store.conversations.get(conversation.id)).toMatchObject({ state: 'with_staff', handoff_reason: 'card_payment' });
    } finally {
      await e.stop();
    }
  });
});
