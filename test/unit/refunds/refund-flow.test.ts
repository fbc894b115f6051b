import { describe, expect, it } from 'vitest';
import { MARINA } from '../../../sandbox/seed.ts';
import { proposeRefund } from '../../../refunds/guard.ts';
import { executeRefund, reconcileRefund, sendIfUnclaimed } from '../../../refunds/refund-flow.ts';
import { testServices } from '../../helpers/services.ts';

/** Reconciliation decides whether a refund may reach the rail again (invariant 6). */
async function reservedRefund(enforcesKey: boolean) {
  const t = await testServices();
  (t.services.pix as { enforcesIdempotencyKey: boolean }).enforcesIdempotencyKey = enforcesKey;
  const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
  const decision = await proposeRefund(t.services, { id: 'support-agent', mandateId: await t.services.agentMandateId(), conversation, toolUseId: null }, { orderNumber: '8421', amountCents: 18600, reason: 'veio errado' });
  if (!decision.ok) throw new Error(decision.reason);
  return { ...t, refund: decision.refund };
}

/** A lease already over: the process that claimed the rail call is gone. */
const EXPIRED_LEASE = { owner: 'a-dead-process', until: '2000-01-01T00:00:00.000Z' };

describe('reconciliation', () => {
  it('sends a reserved refund that was never submitted (a crash before the rail call), once', async () => {
    const { services, rails, refund } = await reservedRefund(false);
    expect(await reconcileRefund(services, refund.id)).toBe('submitted');
    expect(await reconcileRefund(services, refund.id)).toBe('pending'); // found at the rail now: adopted, not sent again
    expect(rails.refundCalls).toEqual([expect.objectContaining({ key: refund.idempotency_key })]);
  });

  it('never sends a submitted refund again on a rail without an idempotency key, however often it is asked', async () => {
    const { services, store, rails, refund } = await reservedRefund(false);
    await store.tx(async () => await store.refunds.markSubmitted(refund.id, new Date().toISOString(), EXPIRED_LEASE));
    for (let i = 0; i < 3; i++) expect(await reconcileRefund(services, refund.id)).toBe('unresolved');
    expect(rails.refundCalls).toEqual([]);
    expect((await store.refunds.get(refund.id))?.status).toBe('unknown');
    expect(await store.refunds.heldCents(refund.payment_id)).toBe(18600);
  });

  it('retries under the same key only on a rail that enforces it (BCB PUT /devolucao/{id})', async () => {
    const { services, store, rails, refund } = await reservedRefund(true);
    await store.tx(async () => await store.refunds.markSubmitted(refund.id, new Date().toISOString(), EXPIRED_LEASE));
    expect(await reconcileRefund(services, refund.id)).toBe('retried');
    expect(rails.refundCalls).toEqual([expect.objectContaining({ key: refund.idempotency_key })]);
  });

  it('a refund is claimed for its rail call once: a second claim fails', async () => {
    const { store, refund } = await reservedRefund(false);
    const now = new Date().toISOString();
    expect(await store.refunds.markSubmitted(refund.id, now, { owner: 'a', until: now })).toBe(true);
    expect(await store.refunds.markSubmitted(refund.id, now, { owner: 'b', until: now })).toBe(false);
    expect((await store.refunds.get(refund.id))).toMatchObject({ status: 'submitting', lease_owner: 'a' });
  });

  it('a submission whose lease is alive is left to its owner: no rail call, not even a listing, whoever asks', async () => {
    const { services, store, rails, refund } = await reservedRefund(true);
    const until = new Date(Date.now() + 60_000).toISOString();
    await store.tx(async () => await store.refunds.markSubmitted(refund.id, new Date().toISOString(), { owner: 'another-replica', until }));
    let listings = 0;
    const find = rails.pix.findRefund.bind(rails.pix);
    rails.pix.findRefund = async (p, k) => (listings++, find(p, k));
    expect(await reconcileRefund(services, refund.id)).toBe('leased');
    expect(await sendIfUnclaimed(services, refund.id)).toBe('unchanged');
    expect(rails.refundCalls).toEqual([]);
    expect(listings).toBe(0);
    expect((await store.refunds.get(refund.id))?.status).toBe('submitting');
    expect(await store.refunds.expiredSubmissions(new Date().toISOString())).toEqual([]);
    expect((await store.refunds.expiredSubmissions(new Date(Date.now() + 61_000).toISOString())).map((r) => r.id)).toEqual([refund.id]);
  });

  it('the claim check leaves a claimed refund alone: no rail call, not even a listing', async () => {
    const { services, rails, refund } = await reservedRefund(false);
    await executeRefund(services, refund.id);
    let listings = 0;
    const find = rails.pix.findRefund.bind(rails.pix);
    rails.pix.findRefund = async (p, k) => (listings++, find(p, k));
    expect(await sendIfUnclaimed(services, refund.id)).toBe('unchanged');
    expect(listings).toBe(0);
    expect(rails.refundCalls).toHaveLength(1);
  });
});
