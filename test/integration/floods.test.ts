import { afterEach, describe, expect, it } from 'vitest';
import { JOAO, MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';

/** Floods: bursts become one answer, a per-customer budget of model calls, and no customer slows another. */
describe('floods', () => {
  let e: TestEstorno;
  afterEach(async () => {
    await e.stop();
  });
  const turns = async (phone: string) => await e.services.store.database.one('SELECT COUNT(*) AS n FROM turns t JOIN conversations c ON c.id = t.conversation_id WHERE c.chat_id = ?', phone) as { n: number };

  // With a slow ERP the turn starts later: "oi" and the order number open it, and "veio errado" comes
  // while the answer is being written (on a slow machine this happens with no ERP latency at all).
  it.each([0, 100])('answers messages that arrive within about two seconds as one turn (ERP latency %i ms)', async (omie) => {
    e = await startTestEstorno({ TURN_DEBOUNCE_MS: '0' }, { sandboxLatency: { model: 400, omie } });
    await e.say(MARINA.whatsapp, 'oi');
    await new Promise((r) => setTimeout(r, 150));
    await e.say(MARINA.whatsapp, 'o pedido 8421');
    await new Promise((r) => setTimeout(r, 150));
    await e.say(MARINA.whatsapp, 'veio errado, quero meu dinheiro de volta');
    await e.settle();
    expect(await turns(MARINA.whatsapp)).toEqual({ n: 1 });
    const replies = await e.outbox(MARINA.whatsapp);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.message).toContain('R$ 186,00');
  });

  it('with a debounce window, a burst waits for quiet and is one turn from the start', async () => {
    e = await startTestEstorno({ TURN_DEBOUNCE_MS: '300' });
    for (const text of ['oi', 'o pedido é o 8421', 'veio errado']) await e.say(MARINA.whatsapp, text);
    await waitFor('a reply', async () => (await e.outbox(MARINA.whatsapp)).length > 0);
    await e.settle();
    expect(await turns(MARINA.whatsapp)).toEqual({ n: 1 });
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect((await e.services.store.turns.history(conversation.id))[0]!.content).toContain('oi\\no pedido é o 8421\\nveio errado');
  });

  it('never calls the model more often than the per-customer budget', async () => {
    e = await startTestEstorno({ MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: '3', TURN_RETRY_DELAY_MS: '60000' });
    for (let i = 0; i < 10; i++) {
      await e.say(MARINA.whatsapp, `oi, mensagem número ${i}`);
      await e.settle();
    }
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    expect((await e.services.store.turns.modelCalls(conversation.id)).length).toBeLessThanOrEqual(3);
    // Nothing is lost: every message is in the history, waiting for the budget.
    expect((await e.services.store.inbox.forConversation(conversation.id)).every((m) => m.processed_at !== null)).toBe(true);
  });

  it("does not slow other customers down during one customer's flood", async () => {
    e = await startTestEstorno({ MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: '10000' }, { sandboxLatency: { model: 20 } });
    const flood = Array.from({ length: 300 }, (_, i) => e.say(MARINA.whatsapp, `spam ${i}`));
    await new Promise((r) => setTimeout(r, 50));
    await e.say(JOAO.whatsapp, 'o pedido 9001 chegou errado');
    await waitFor("João's answer", async () => (await e.outbox(JOAO.whatsapp)).length > 0);
    await Promise.all(flood);
    await e.settle();
    // A flood costs a bounded amount of work: Marina's 300 messages were absorbed into a few turns,
    // so the shared resources (model calls, turn slots) stay free for João.
    const marina = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    const joao = (await e.services.store.conversations.byChat(JOAO.whatsapp))!;
    expect((await e.services.store.inbox.forConversation(marina.id)).filter((m) => m.processed_at !== null)).toHaveLength(300);
    expect((await e.services.store.turns.modelCalls(marina.id)).length).toBeLessThanOrEqual(10);
    expect(await e.services.store.turns.modelCalls(joao.id)).toHaveLength(1);
    expect((await e.outbox(JOAO.whatsapp))[0]?.message).toContain('R$ 75,50');
    expect((await turns(MARINA.whatsapp)).n).toBeLessThanOrEqual(5);
  });
});
