import { describe, expect, it } from 'vitest';
import { MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, waitFor } from '../helpers/estorno.ts';

/**
 * `POST /sandbox/reset` while the background workers are mid-send: the reset
 * waits for the send in flight and holds the workers until the new world is in
 * place, so nothing of the old world lands after it (CONTRACT: "back to the seed
 * data, empty queues").
 */
describe('POST /sandbox/reset', () => {
  it('waits for a message being sent, then leaves an empty world: no old message reaches WhatsApp after it', async () => {
    // Z-API takes a second per message: the reset arrives while the reply is on its way.
    const e = await startTestEstorno({}, { sandboxLatency: { zapi: 1_000 } });
    try {
      await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
      await waitFor('a reply queued', async () => {
        const c = await e.services.store.conversations.byChat(MARINA.whatsapp);
        return c && (await e.services.store.outbox.forConversation(c.id)).length > 0;
      });
      const reset = await fetch(`${e.url}/sandbox/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
      await e.settle();
      expect(await e.outbox()).toEqual([]);
      expect(await e.services.store.conversations.byChat(MARINA.whatsapp)).toBeUndefined();
      // And the workers run again after it.
      await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
      await waitFor('the reply after the reset', async () => (await e.outbox(MARINA.whatsapp)).find((m) => m.message.includes('Confirma')), 20_000);
    } finally {
      await e.stop();
    }
  }, 60_000);
});
