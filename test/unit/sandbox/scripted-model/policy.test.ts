import { describe, expect, it } from 'vitest';
import { respond, type Message } from '../../../../sandbox/scripted-model/policy.ts';

const tools = ['ledger_lookup', 'pay_refund', 'invoice_credit_note', 'notify_customer'].map((name) => ({ name }));
const ask = (messages: Message[]) => respond({ messages, tools });
const user = (text: string): Message => ({ role: 'user', content: text });
const lookup = (order: string, result: unknown, id = 't1'): Message[] => [
  { role: 'assistant', content: [{ type: 'tool_use', id, name: 'ledger_lookup', input: { order_id: order } }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: JSON.stringify(result) }] },
];
const eligible = { found: true, order_id: '8421', items: [{ description: 'Camiseta', quantity: 2 }], total_cents: 18600, payment: { method: 'pix', paid_at: '2026-11-22T13:30:00.000Z', amount_cents: 18600, refunded_cents: 0, refundable_cents: 18600 }, refund_eligible: true };

describe('scripted model policy', () => {
  it('looks up an order named in Portuguese or English', () => {
    expect(ask([user('o pedido #8421 veio errado, quero meu dinheiro de volta')]).content[0]).toMatchObject({ type: 'tool_use', name: 'ledger_lookup', input: { order_id: '8421' } });
    expect(ask([user('order 9001 came broken, I want my money back')]).content[0]).toMatchObject({ name: 'ledger_lookup', input: { order_id: '9001' } });
  });

  it('summarises an eligible order in pt-BR and asks to confirm', () => {
    const r = ask([user('pedido 8421'), ...lookup('8421', eligible)]);
    expect(r.stop_reason).toBe('end_turn');
    expect(r.content[0]?.text).toMatch(/R\$ 186,00.*Confirma/s);
  });

  it('refunds the refundable amount after a confirmation, in either language', () => {
    for (const yes of ['sim', 'Sim, pode fazer', 'yes please', 'ok']) {
      const r = ask([user('o pedido 8421 veio errado'), ...lookup('8421', { ...eligible, payment: { ...eligible.payment, refundable_cents: 10000 } }), { role: 'assistant', content: [{ type: 'text', text: 'Encontrei seu pedido #8421 … Posso fazer o estorno de R$ 100,00? Confirma? (sim/não)' }] }, user(yes)]);
      expect(r.content[0]).toMatchObject({ type: 'tool_use', name: 'pay_refund', input: { order_id: '8421', amount_cents: 10000, reason: 'Cliente relatou: o pedido 8421 veio errado' } });
    }
  });

  it('does not refund on a refusal, and asks for the number when nothing was looked up', () => {
    expect(ask([user('pedido 8421'), ...lookup('8421', eligible), user('não, deixa')]).content[0]?.text).toMatch(/não vou fazer nenhum estorno/);
    expect(ask([user('sim')]).content[0]?.text).toMatch(/número do seu pedido/);
    expect(ask([user('oi, quero um reembolso')]).content[0]?.text).toMatch(/número do pedido/);
  });

  it('keeps to the order it just offered when more words of complaint come without a number', () => {
    const offer: Message = { role: 'assistant', content: [{ type: 'text', text: 'Encontrei seu pedido #8421 … Posso fazer o estorno de R$ 186,00? Confirma? (sim/não)' }] };
    // "o pedido 8421", then "veio errado…" while the offer was being written: the offer stands, no second question for the number.
    expect(ask([user('oi\no pedido 8421'), ...lookup('8421', eligible), offer, user('veio errado, quero meu dinheiro de volta')]).content[0]?.text).toMatch(/#8421.*R\$ 186,00.*Confirma/s);
    // Nothing offered yet (or the offered order already refunded): it asks for the number.
    expect(ask([user('oi'), { role: 'assistant', content: [{ type: 'text', text: 'Olá!' }] }, user('veio errado')]).content[0]?.text).toMatch(/número do pedido/);
  });

  it('hands off a question it cannot answer, and card-paid orders', () => {
    expect(ask([user('vocês entregam em Manaus?')]).content[0]).toMatchObject({ name: 'notify_customer', input: { template: 'handoff' } });
    expect(ask([user('pedido 8423'), ...lookup('8423', { found: true, order_id: '8423', refund_eligible: false, ineligible_reason: 'unsupported_rail' })]).content[0]).toMatchObject({ name: 'notify_customer' });
  });

  it('never reveals anything about an order it did not find', () => {
    const r = ask([user('pedido 9001'), ...lookup('9001', { found: false, order_id: '9001' })]);
    expect(r.content[0]?.text).toBe('Não encontrei o pedido #9001 vinculado a este número. Pode conferir o número do pedido?');
  });

  it('explains refusals and pending approvals', () => {
    const refused = (result: unknown): Message[] => [
      user('sim'),
      { role: 'assistant', content: [{ type: 'tool_use', id: 'p', name: 'pay_refund', input: { order_id: '8422', amount_cents: 240000, reason: 'x' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'p', is_error: true, content: JSON.stringify(result) }] },
    ];
    expect(ask(refused({ refused: true, reason: 'over_per_refund_cap', approval: { approval_id: 'apr_1', status: 'pending' } })).content[0]?.text).toMatch(/aprovação/);
    expect(ask(refused({ refused: true, reason: 'exceeds_refundable' })).content[0]?.text).toMatch(/maior do que/);
  });

  it('answers from the first turn\'s context without a lookup, and refunds what it offered', () => {
    const context: Message = { role: 'user', content: [{ type: 'text', text: `System context.\n<customer_context>${JSON.stringify({ recent_orders: [eligible, { ...eligible, order_id: '8424' }] })}</customer_context>` }, { type: 'text', text: 'o pedido 8421 veio errado' }] };
    const first = ask([context]);
    expect(first.stop_reason).toBe('end_turn');
    expect(first.content[0]?.text).toMatch(/#8421[\s\S]*Confirma/);
    const second = ask([context, { role: 'assistant', content: first.content }, user('sim')]);
    expect(second.content[0]).toMatchObject({ name: 'pay_refund', input: { order_id: '8421', amount_cents: 18600, reason: 'Cliente relatou: o pedido 8421 veio errado' } });
    expect(ask([context, { role: 'assistant', content: first.content }, user('e o pedido 9999?')]).content[0]).toMatchObject({ name: 'ledger_lookup', input: { order_id: '9999' } });
  });

  it('ends quietly after a template was sent, and only uses tools it was given', () => {
    expect(ask([user('?'), { role: 'assistant', content: [{ type: 'tool_use', id: 'n', name: 'notify_customer', input: { template: 'handoff' } }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'n', content: '{"sent":true}' }] }])).toEqual({ content: [], stop_reason: 'end_turn' });
    expect(respond({ messages: [user('pedido 8421')], tools: [] }).stop_reason).toBe('end_turn');
  });
});
