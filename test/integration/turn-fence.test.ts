import { describe, expect, it } from 'vitest';
import { MARINA } from '../../sandbox/seed.ts';
import { TURN_LEASE_MS } from '../../agent/scheduler.ts';
import { startTestEstorno, waitFor } from '../helpers/estorno.ts';
import { PG_URL, testSchemaName } from '../helpers/pg.ts';
import { pgSuite } from '../helpers/test-store.ts';

/**
 * Replicas: a process that stalls past its turn lease (a long pause, the
 * database out of reach for the renewals) must not go on storing and sending
 * once another replica has taken the turn over — the customer would get two
 * answers and the model would be paid twice.
 */
const available = await pgSuite('turn-fence.test');

describe.runIf(available)('a turn whose lease passed to another replica', () => {
  it('stores and sends nothing more; the turn is left for the lease holder, who answers once', async () => {
    let offsetMs = 0;
    const clock = () => new Date(Date.now() + offsetMs);
    // The model takes 3 s: the lease passes to B while the turn's model call is in flight.
    const e = await startTestEstorno({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: testSchemaName() }, { now: clock, sandboxLatency: { model: 3_000 } });
    try {
      const store = e.services.store;
      await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
      const conversationId = await waitFor('the conversation', async () => (await store.conversations.byChat(MARINA.whatsapp))?.id);
      // The turn started (its lease is held) and its model call is in flight; the process
      // now "stalls" past the lease and replica B takes the turn over.
      const turn = await waitFor('a running turn', async () => await store.turns.unfinished(conversationId));
      offsetMs += TURN_LEASE_MS + 1_000;
      const until = new Date(clock().getTime() + TURN_LEASE_MS).toISOString();
      expect(await store.conversations.claimTurn(conversationId, 'replica-b', until, clock().toISOString())).toBe(true);

      await e.settle();
      // The late model answer was neither stored nor sent; no person was queued; the turn is B's to finish.
      expect(await store.turns.modelCalls(conversationId)).toEqual([]);
      expect(await e.outbox(MARINA.whatsapp)).toEqual([]);
      expect((await store.turns.unfinished(conversationId))?.id).toBe(turn.id);
      expect((await store.conversations.get(conversationId))?.state).toBe('agent');

      // B dies; its lease expires and this process resumes the same turn: one answer reaches the customer.
      offsetMs += TURN_LEASE_MS + 1_000;
      e.scheduler.schedule(conversationId);
      await e.settle();
      const sent = await e.outbox(MARINA.whatsapp);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.message).toMatch(/Confirma/);
      const calls = await store.turns.modelCalls(conversationId);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.turn_id === turn.id)).toBe(true);
      expect(await store.turns.unfinished(conversationId)).toBeUndefined();
    } finally {
      await e.stop();
    }
  }, 60_000);
});
