import { afterEach, describe, expect, it } from 'vitest';
import { transition } from '../../conversations/state.ts';
import { ProviderError } from '../../core/errors.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { proposeRefund } from '../../refunds/guard.ts';
import { activeMandateFor, issueMandate, setMandateStatus } from '../../refunds/mandate.ts';
import { applyRailRefund, executeRefund, resolveUnknownRefund, sendIfUnclaimed } from '../../refunds/refund-flow.ts';
import { expireApprovals } from '../../refunds/approvals.ts';
import { executeToolUse } from '../../tools/execute.ts';
import { Workers } from '../../server/workers.ts';
import { recoverMoneyPath } from '../../refunds/jobs.ts';
import pino from 'pino';
import { fault, startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';
import { ADMIN, login, seedUsers } from '../helpers/console.ts';
import { testServices } from '../helpers/services.ts';

/**
 * Defects a fresh-eyes review found after the issue-10/11/12 merges, each
 * proven closed: money that could still move twice or behind staff's back,
 * and handoffs that still ended in silence.
 */

let e: TestEstorno | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const agent = async (services: Awaited<ReturnType<typeof testServices>>['services'], conversation: { id: string }, store: Awaited<ReturnType<typeof testServices>>['store']) => ({
  id: 'support-agent',
  mandateId: await activeMandateFor(store, services.keys.mandate, 'support-agent', new Date()) ?? await services.agentMandateId(),
  conversation: (await store.conversations.get(conversation.id))!,
  toolUseId: null,
});

describe('money', () => {
  it('closing a conversation with a parked turn: the turn never wakes up to pay', async () => {
    let offset = 0;
    e = await startTestEstorno({ TURN_RETRY_DELAY_MS: '100' }, { now: () => new Date(Date.now() + offset) });
    await seedUsers(e);
    const admin = await login(e, ADMIN);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    await fault(e, 'model', 'http500', 1);
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
    const c = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect((await e.services.store.turns.unfinished(c.id))?.status).toBe('parked');
    const before = (await e.outbox(MARINA.whatsapp)).length;
    expect((await admin.call('POST', `/api/conversations/${c.id}/close`)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      offset += 60_000;
      e.workers.wake();
      await e.settle();
    }
    expect(await e.pixRefunds()).toEqual([]);
    expect((await e.outbox(MARINA.whatsapp)).slice(before)).toEqual([]);
    expect((await e.services.store.conversations.get(c.id))!.state).toBe('closed');
  });

  it('a released refund the rail pays after all counts as refunded: a second refund of the order is refused', async () => {
    const { services, rails, store } = await testServices();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const realRefund = rails.pix.refund.bind(rails.pix);
    let hidden = true;
    rails.pix.refund = async (req) => {
      await realRefund(req);
      throw new ProviderError('trio', 'timeout', 'timed out');
    };
    const realFind = rails.pix.findRefund.bind(rails.pix);
    rails.pix.findRefund = async (p, k) => (hidden ? null : realFind(p, k));
    const first = await proposeRefund(services, await agent(services, conversation, store), { orderNumber: '8421', amountCents: 18600, reason: 'veio errado' });
    if (!first.ok) throw new Error(first.reason);
    await executeRefund(services, first.refund.id);
    await store.database.run('UPDATE refunds SET review_requested_at = ? WHERE id = ?', new Date().toISOString(), first.refund.id);
    expect(await resolveUnknownRefund(services, first.refund.id, { id: 'ana' }, 'nothing on the dashboard')).toEqual({ ok: true });
    // The slow rail settles it after all.
    hidden = false;
    await applyRailRefund(services, first.refund.id, { railRefundId: 'mem-1', amountCents: 18600, status: 'settled' }, 'webhook');
    expect((await store.payments.get(first.refund.payment_id))!.external_refunded_cents).toBe(18600);
    expect((await store.conversations.get(conversation.id))!.state).toBe('waiting_for_staff');
    // Later, even on a fresh verification, the order has nothing left to refund.
    await store.database.run("UPDATE payments SET verified_at = '2000-01-01T00:00:00.000Z'");
    await store.database.run("UPDATE conversations SET state = 'agent', mode = 'agent' WHERE id = ?", conversation.id);
    const second = await proposeRefund(services, await agent(services, conversation, store), { orderNumber: '8421', amountCents: 18600, reason: 'de novo' });
    expect(second).toMatchObject({ ok: false, reason: 'exceeds_refundable' });
  });

  it('staff release asks the rail one last time: a refund it shows now is adopted, not released', async () => {
    const { services, rails, store } = await testServices();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const realRefund = rails.pix.refund.bind(rails.pix);
    rails.pix.refund = async (req) => {
      await realRefund(req);
      throw new ProviderError('trio', 'timeout', 'timed out');
    };
    const d = await proposeRefund(services, await agent(services, conversation, store), { orderNumber: '8421', amountCents: 18600, reason: 'x' });
    if (!d.ok) throw new Error(d.reason);
    await executeRefund(services, d.refund.id);
    await store.database.run('UPDATE refunds SET review_requested_at = ? WHERE id = ?', new Date().toISOString(), d.refund.id);
    expect(await resolveUnknownRefund(services, d.refund.id, { id: 'ana' }, 'x')).toEqual({ ok: false, error: 'found_at_rail' });
    expect((await store.refunds.get(d.refund.id))!.status).toBe('pending');
  });

  it('a refund reserved but never claimed (the database busy at the claim) is sent by its own reconcile job, and the tool says processing', async () => {
    const { services, store, rails } = await testServices();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const markSubmitted = store.refunds.markSubmitted.bind(store.refunds);
    let busy = true;
    store.refunds.markSubmitted = (id, now, lease) => {
      if (busy) {
        busy = false;
        throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      }
      return markSubmitted(id, now, lease);
    };
    const result = await executeToolUse(
      { services, conversation, turnId: 'turn_x', toolUseId: 'toolu_1', logger: pino({ level: 'silent' }) },
      { id: 'toolu_1', name: 'pay_refund', input: { order_id: '8421', amount_cents: 18600, reason: 'veio errado' } },
    );
    expect(JSON.parse((result as { content: string }).content)).toMatchObject({ status: 'refund_processing' });
    const refund = (await store.refunds.forConversation(conversation.id))[0]!;
    const safety = await store.database.all("SELECT key, run_at FROM jobs WHERE kind = 'refund_claim_check'") as Array<{ key: string }>;
    expect(safety.map((j) => j.key)).toEqual([`refund_claim_check:${refund.id}`]);
    expect(await sendIfUnclaimed(services, refund.id)).toBe('submitted');
    expect(rails.refundCalls).toHaveLength(1);
  });

  it('revoking the mandate and issuing a new one does not start the caps over', async () => {
    const { services, store } = await testServices();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const go = async () => {
      const d = await proposeRefund(services, await agent(services, conversation, store), { orderNumber: '8422', amountCents: 48000, reason: 'x' });
      if (d.ok) await executeRefund(services, d.refund.id);
      return d.ok ? 'allowed' : d.reason;
    };
    expect(await go()).toBe('allowed');
    await setMandateStatus(store, 'cm_support', 'revoke', 'admin', 'rotate', new Date());
    await issueMandate(store, services.keys.mandate, { id: 'cm_support_2', agent_id: 'support-agent', per_refund_cap_cents: 50000, window_cap_cents: 200000, window_seconds: 86400, issued_by: 'admin' }, new Date());
    expect(await go()).toBe('over_per_refund_cap');
  });

  it('words the model writes beside a tool call are not sent once a person took the conversation over', async () => {
    e = await startTestEstorno({ AGENT_PREFETCH_ORDERS: 'false' }, { sandboxLatency: { model: 300 } });
    await e.say(MARINA.whatsapp, 'oi');
    await e.settle();
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    const before = (await e.outbox(MARINA.whatsapp)).length;
    await e.script([
      { content: [{ type: 'text', text: 'Perfeito, vou fazer o estorno de R$ 186,00 agora!' }, { type: 'tool_use', id: 'toolu_x', name: 'pay_refund', input: { order_id: '8421', amount_cents: 18600, reason: 'veio errado' } }], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Feito.' }], stop_reason: 'end_turn' },
    ]);
    const seen = e.sandbox!.model.requests().length;
    await e.say(MARINA.whatsapp, 'sim');
    await waitFor('the model call', () => e!.sandbox!.model.requests().length > seen, 5_000);
    await transition(e.services.store, conversation.id, 'with_staff', new Date().toISOString());
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).slice(before)).toEqual([]);
    expect(await e.pixRefunds()).toEqual([]);
  });
});

describe('no dead ends', () => {
  it('a credit-note job given up queues the conversation for a person and tells the customer; the next start tries the note again', async () => {
    const { services, store } = await testServices();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const issue = services.fiscal.issueCreditNote.bind(services.fiscal);
    services.fiscal.issueCreditNote = async () => {
      throw new ProviderError('fiscal', 'unavailable', 'fiscal down');
    };
    const d = await proposeRefund(services, await agent(services, conversation, store), { orderNumber: '8421', amountCents: 18600, reason: 'x' });
    if (!d.ok) throw new Error(d.reason);
    await executeRefund(services, d.refund.id);
    await applyRailRefund(services, d.refund.id, { amountCents: 18600, status: 'settled' }, 'webhook');
    const workers = new Workers(services, () => {}, { maxAttempts: 1 });
    await (workers as unknown as { pass(): Promise<void> }).pass();
    const c = (await store.conversations.get(conversation.id))!;
    expect(c).toMatchObject({ state: 'waiting_for_staff', handoff_reason: 'job_failed' });
    expect((await store.outbox.forConversation(conversation.id)).map((m) => m.template)).toContain('handoff');
    // Fiscal back; a restart revives the dead job under a new key.
    services.fiscal.issueCreditNote = issue;
    await recoverMoneyPath(services);
    await (workers as unknown as { pass(): Promise<void> }).pass();
    expect((await store.creditNotes.forRefund(d.refund.id))?.status).toBe('authorized');
  });

  it('an @lid chat that asks for a person gets one, without proving who it is', async () => {
    e = await startTestEstorno();
    const lid = '70000000000003@lid';
    await e.say(lid, 'quero falar com um atendente');
    await e.settle();
    expect((await e.services.store.conversations.byChat(lid))!).toMatchObject({ state: 'waiting_for_staff', handoff_reason: 'customer_asked' });
    expect((await e.outbox(lid)).at(-1)?.message).toContain('Passei sua conversa para uma pessoa');
  });

  it('an approval nobody decided in time: the customer is told and a person is queued', async () => {
    let offset = 0;
    e = await startTestEstorno({}, { now: () => new Date(Date.now() + offset) });
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 veio errado, quero meu dinheiro de volta');
    expect(await e.services.store.approvals.list('pending')).toHaveLength(1);
    offset += 25 * 3_600_000;
    expect(await expireApprovals(e.services)).toBe(1);
    await e.settle();
    const c = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect(c.state).toBe('waiting_for_staff');
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toContain('não foi analisado pela nossa equipe a tempo');
  });
});
