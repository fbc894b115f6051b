import { describe, expect, it } from 'vitest';
import { transition } from '../../../conversations/state.ts';
import { MARINA } from '../../../sandbox/seed.ts';
import { proposeRefund } from '../../../refunds/guard.ts';
import { testServices } from '../../helpers/services.ts';

describe('the guard and a takeover that lands while the order is being verified', () => {
  it('refuses inside its transaction: the person who took over wins, no refund is reserved', async () => {
    const { services, store, rails } = await testServices();
    const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    const getOrder = services.erp.getOrder.bind(services.erp);
    // Staff take the conversation over while the ERP is answering.
    services.erp.getOrder = async (n) => {
      const order = await getOrder(n);
      await store.tx(async () => await transition(store, conversation.id, 'with_staff', new Date().toISOString()));
      return order;
    };
    const decision = await proposeRefund(services, { id: 'support-agent', mandateId: await services.agentMandateId(), conversation, toolUseId: null }, { orderNumber: '8421', amountCents: 18600, reason: 'veio errado' });
    expect(decision).toMatchObject({ ok: false, reason: 'conversation_with_staff' });
    expect(await store.refunds.forConversation(conversation.id)).toEqual([]);
    expect(rails.refundCalls).toEqual([]);
  });
});
