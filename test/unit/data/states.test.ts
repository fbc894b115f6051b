import { describe, expect, it } from 'vitest';
import { APPROVAL, CASE, CONVERSATION, IllegalTransition, JOB, OUTBOX, REFUND, stateOf, UnknownState, type Machine } from '../../../data/states.ts';
import { MARINA } from '../../../sandbox/seed.ts';
import { proposeRefund } from '../../../refunds/guard.ts';
import { testServices } from '../../helpers/services.ts';

const MACHINES: Array<Machine<string>> = [REFUND, APPROVAL, CASE, CONVERSATION, JOB, OUTBOX];

describe('state machines (data/states.ts)', () => {
  it('every move of every machine stays inside its own states', () => {
    for (const m of MACHINES) {
      for (const from of m.states) for (const to of m.moves[from] ?? []) expect(m.states, `${m.name}: ${from} → ${to}`).toContain(to);
    }
    expect(REFUND.moves.settled).toEqual([]);
    expect(REFUND.moves.failed).toEqual([]);
    expect(REFUND.moves.reserved).toEqual(['submitting', 'failed']);
  });

  it('a state the machine does not know, read back from storage, raises', () => {
    expect(() => stateOf(REFUND, 'paid')).toThrow(UnknownState);
    expect(() => stateOf(CONVERSATION, null)).toThrow(UnknownState);
    expect(stateOf(REFUND, 'submitting')).toBe('submitting');
  });

  it('an illegal refund move throws instead of looking like a replay; a replay is a no-op', async () => {
    const t = await testServices();
    const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const decision = await proposeRefund(t.services, { id: 'support-agent', mandateId: await t.services.agentMandateId(), conversation, toolUseId: null }, { orderNumber: '8421', amountCents: 18600, reason: 'veio errado' });
    if (!decision.ok) throw new Error(decision.reason);
    const id = decision.refund.id;
    const now = new Date().toISOString();
    // reserved → settled skips the claim of the rail call: never legal.
    await expect(t.store.refunds.transition(id, 'settled', 'test', {}, now)).rejects.toThrow(IllegalTransition);
    expect((await t.store.refunds.get(id))?.status).toBe('reserved');
    expect(await t.store.refunds.transition(id, 'reserved', 'test', {}, now)).toBe(false);
    const events = await t.store.database.all<{ to_status: string }>('SELECT to_status FROM refund_events WHERE refund_id = ? ORDER BY id', id);
    expect(events.map((e) => e.to_status)).toEqual(['reserved']);
    await t.store.close();
  });

  it('a conversation, an approval and a case refuse moves their machines do not list', async () => {
    const t = await testServices();
    const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    await expect(t.store.conversations.moveState(conversation.id, 'with_staff', 'waiting_for_staff', null, null, new Date().toISOString())).rejects.toThrow(IllegalTransition);
    await expect(t.store.approvals.transition('apr_x', 'pending', 'pending', 'x', 'x', new Date().toISOString())).rejects.toThrow(IllegalTransition);
    await expect(t.store.cases.setStatus('rcp_x', 'open')).rejects.toThrow(IllegalTransition);
    await t.store.close();
  });
});

describe('leases (replicas)', () => {
  it('jobs: two processes claim disjoint jobs; a dead owner\'s job is free once its lease ran out; finishing twice is refused', async () => {
    const t = await testServices();
    const s = t.store;
    const at = '2026-11-23T10:00:00.000Z';
    for (let i = 0; i < 6; i++) await s.jobs.schedule('resume_turn', `resume_turn:lease-test-${i}`, { conversationId: `cv_${i}` }, at, at);
    const now = '2026-11-23T10:00:01.000Z';
    const until = '2026-11-23T10:01:01.000Z';
    const a = await s.jobs.claimDue(now, { owner: 'A', until }, 4);
    const b = await s.jobs.claimDue(now, { owner: 'B', until: '2026-11-23T10:05:00.000Z' }, 4);
    expect(a).toHaveLength(4);
    expect(b).toHaveLength(2);
    expect(new Set([...a, ...b].map((j) => j.id)).size).toBe(6);
    // A dies: nobody gets its jobs before the lease is over, anybody after.
    expect(await s.jobs.claimDue('2026-11-23T10:00:30.000Z', { owner: 'B', until: '2026-11-23T10:02:00.000Z' })).toEqual([]);
    const taken = await s.jobs.claimDue('2026-11-23T10:01:02.000Z', { owner: 'B', until: '2026-11-23T10:02:02.000Z' });
    expect(taken.map((j) => j.id).sort()).toEqual(a.map((j) => j.id).sort());
    expect(await s.jobs.done(taken[0]!.id, '2026-11-23T10:01:03.000Z')).toBe(true);
    // A comes back late and finishes the same job: refused, nothing changes.
    expect(await s.jobs.done(taken[0]!.id, '2026-11-23T10:01:04.000Z')).toBe(false);
    await s.close();
  });

  it('outbox: a chat whose message another process is sending is skipped, so its messages keep their order', async () => {
    const t = await testServices();
    const s = t.store;
    const c1 = await s.conversations.ensure('5511900000001', '5511900000001', '2026-11-23T10:00:00.000Z');
    const c2 = await s.conversations.ensure('5511900000002', '5511900000002', '2026-11-23T10:00:00.000Z');
    const at = '2026-11-23T10:00:00.000Z';
    for (const [c, text] of [[c1, 'a1'], [c2, 'b1'], [c1, 'a2']] as const) await s.outbox.enqueue({ conversation_id: c.id, chat_id: c.chat_id, text, source: 'agent', now: at });
    const now = '2026-11-23T10:00:01.000Z';
    const first = await s.outbox.claimDue(now, { owner: 'A', until: '2026-11-23T10:00:31.000Z' }, 1);
    expect(first.map((m) => m.text)).toEqual(['a1']);
    // B may send b1, never a2 while A is sending a1.
    const second = await s.outbox.claimDue(now, { owner: 'B', until: '2026-11-23T10:00:31.000Z' });
    expect(second.map((m) => m.text)).toEqual(['b1']);
    expect(await s.outbox.markSent(first[0]!.id, 'm1', now)).toBe(true);
    expect((await s.outbox.claimDue(now, { owner: 'B', until: '2026-11-23T10:00:31.000Z' })).map((m) => m.text)).toEqual(['a2']);
    await s.close();
  });

  it('a conversation\'s turn is held by one process at a time, and free again when released or expired', async () => {
    const t = await testServices();
    const s = t.store;
    const c = await s.conversations.ensure('5511900000003', '5511900000003', '2026-11-23T10:00:00.000Z');
    const now = '2026-11-23T10:00:00.000Z';
    expect(await s.conversations.claimTurn(c.id, 'A', '2026-11-23T10:00:30.000Z', now)).toBe(true);
    expect(await s.conversations.claimTurn(c.id, 'B', '2026-11-23T10:00:30.000Z', now)).toBe(false);
    expect(await s.conversations.renewTurn(c.id, 'B', '2026-11-23T10:01:00.000Z')).toBe(false);
    expect(await s.conversations.orphanedTurns('2026-11-23T10:00:10.000Z', now)).toEqual([]);
    // A died: after its lease the turn is an orphan any replica picks up.
    expect(await s.conversations.orphanedTurns('2026-11-23T10:00:31.000Z', now)).toEqual([c.id]);
    expect(await s.conversations.claimTurn(c.id, 'B', '2026-11-23T10:01:01.000Z', '2026-11-23T10:00:31.000Z')).toBe(true);
    await s.conversations.releaseTurn(c.id, 'B');
    expect(await s.conversations.claimTurn(c.id, 'C', '2026-11-23T10:01:05.000Z', '2026-11-23T10:00:35.000Z')).toBe(true);
    await s.close();
  });

  it('a process restarting gives back what its previous life held, and only that', async () => {
    const t = await testServices();
    const s = t.store;
    const at = '2026-11-23T10:00:00.000Z';
    for (let i = 0; i < 4; i++) await s.jobs.schedule('resume_turn', `resume_turn:give-back-${i}`, { conversationId: `cv_${i}`, turnId: `turn_${i}` }, at, at);
    const now = '2026-11-23T10:00:01.000Z';
    const a = await s.jobs.claimDue(now, { owner: 'A:1', until: '2026-11-23T10:01:00.000Z' }, 2);
    await s.jobs.claimDue(now, { owner: 'B:1', until: '2026-11-23T10:01:00.000Z' }, 2);
    const given = await s.leases.releaseHeldBy('A', now);
    expect(given.jobs).toBe(2);
    // A's jobs are free at once (not after its lease); B's stay B's.
    expect((await s.jobs.claimDue(now, { owner: 'C', until: '2026-11-23T10:01:00.000Z' })).map((j) => j.id).sort()).toEqual(a.map((j) => j.id).sort());
    expect((await s.leases.releaseHeldBy(null, now)).jobs).toBe(4);
    await s.close();
  });
});
