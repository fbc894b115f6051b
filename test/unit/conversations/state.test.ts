import { describe, expect, it } from 'vitest';
import { detectLang, handoffMessage, LEGAL_MOVES, parseBusinessHours, transition, withinBusinessHours, IllegalTransition } from '../../../conversations/state.ts';
import { NO_TEXT_MARKER, toMessages } from '../../../agent/history.ts';
import type { HistoryRow } from '../../../data/turns.ts';
import { respond, type Message } from '../../../sandbox/scripted-model/policy.ts';
import { testServices } from '../../helpers/services.ts';

const row = (id: number, role: 'user' | 'assistant', content: unknown[], turn = 't1'): HistoryRow => ({ id, conversation_id: 'cv', turn_id: turn, role, content: JSON.stringify(content), created_at: '2026-01-01T00:00:00.000Z' });

describe('the model history after a handoff (defect 2)', () => {
  it('does not fold a new customer message into an old notify_customer tool_result', () => {
    const history = [
      row(1, 'user', [{ type: 'text', text: 'vocês entregam em Manaus?' }]),
      row(2, 'assistant', [{ type: 'tool_use', id: 'n1', name: 'notify_customer', input: { template: 'handoff' } }]),
      row(3, 'user', [{ type: 'tool_result', tool_use_id: 'n1', content: '{"sent":true}' }]),
      row(4, 'assistant', []),
      row(5, 'user', [{ type: 'text', text: 'o pedido 8421 veio errado' }], 't2'),
    ];
    const messages = toMessages(history);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(messages[3]!.content).toEqual([{ type: 'text', text: NO_TEXT_MARKER }]);
    expect(messages[4]!.content).toEqual([{ type: 'text', text: 'o pedido 8421 veio errado' }]);
    // The scripted model answers the new words, not the old tool_result.
    expect(respond({ messages: messages as Message[], tools: [{ name: 'ledger_lookup' }] }).content[0]).toMatchObject({ name: 'ledger_lookup', input: { order_id: '8421' } });
  });

  it('separates two user rows when a turn ended without an answer (stopped for staff)', () => {
    const messages = toMessages([
      row(1, 'user', [{ type: 'text', text: 'oi' }]),
      row(2, 'assistant', [{ type: 'tool_use', id: 'x', name: 'ledger_lookup', input: { order_id: '1' } }]),
      row(3, 'user', [{ type: 'tool_result', tool_use_id: 'x', content: '{}', is_error: true }]),
      row(4, 'user', [{ type: 'text', text: 'alô?' }], 't2'),
    ]);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
  });
});

describe('the conversation state machine', () => {
  it('moves only along legal transitions, compare-and-set', async () => {
    const { store } = await testServices();
    const now = new Date().toISOString();
    const c = await store.conversations.ensure('5511987654321', '5511987654321', now);
    expect(await transition(store, c.id, 'waiting_for_staff', now, 'card_payment')).toBe(true);
    expect(await store.conversations.get(c.id)).toMatchObject({ state: 'waiting_for_staff', mode: 'staff', handoff_reason: 'card_payment', waiting_since: now });
    expect(await transition(store, c.id, 'with_staff', now)).toBe(true);
    expect(await store.conversations.get(c.id)).toMatchObject({ state: 'with_staff', handoff_reason: 'card_payment' });
    await expect(transition(store, c.id, 'waiting_for_staff', now)).rejects.toThrow(IllegalTransition);
    expect(await transition(store, c.id, 'agent', now)).toBe(true);
    expect(await store.conversations.get(c.id)).toMatchObject({ state: 'agent', mode: 'agent', handoff_reason: null, waiting_since: null });
    expect(LEGAL_MOVES.with_staff).not.toContain('waiting_for_staff');
  });

  it('tells the customer what happens next, within or outside business hours, in their language', () => {
    const hours = parseBusinessHours('1-5 09:00-18:00');
    const mondayNoon = new Date('2026-11-23T15:00:00Z'); // 12h in São Paulo
    const sundayNight = new Date('2026-11-22T23:30:00Z');
    expect(withinBusinessHours(mondayNoon, hours)).toBe(true);
    expect(withinBusinessHours(sundayNight, hours)).toBe(false);
    expect(handoffMessage('card_payment', 'pt', mondayNoon, hours)).toBe('Pagamentos com cartão são atendidos pela nossa equipe. Passei sua conversa para uma pessoa da nossa equipe. Em breve alguém responde por aqui.');
    expect(handoffMessage('customer_asked', 'pt', sundayNight, hours)).toContain('de segunda a sexta, das 9h às 18h');
    expect(handoffMessage('outside_window', 'en', mondayNoon, hours)).toContain('passed your conversation to a person');
    expect(detectLang('my order came broken, I want my money back')).toBe('en');
    expect(detectLang('o pedido veio errado')).toBe('pt');
  });
});

describe('the scripted model on real openings (item 8)', () => {
  const tools = ['ledger_lookup', 'pay_refund', 'invoice_credit_note', 'notify_customer'].map((name) => ({ name }));
  const ask = (messages: Message[]) => respond({ messages, tools });
  const ctx = (orders: unknown[], said: string): Message => ({ role: 'user', content: [{ type: 'text', text: `System context.\n<customer_context>${JSON.stringify({ recent_orders: orders })}</customer_context>` }, { type: 'text', text: said }] });
  const o8421 = { found: true, order_id: '8421', items: [], total_cents: 18600, payment: { method: 'pix', paid_at: '2026-11-22T13:30:00.000Z', amount_cents: 18600, refundable_cents: 18600 }, refund_eligible: true };

  it('greets, thanks, and reads a CPF as a CPF', () => {
    expect(ask([{ role: 'user', content: 'oi, bom dia' }]).content[0]?.text).toMatch(/^Olá!/);
    expect(ask([{ role: 'user', content: 'obrigada!' }]).content[0]?.text).toMatch(/^Por nada/);
    expect(ask([{ role: 'user', content: 'meu cpf é 529.982.247-25' }]).content[0]?.text).toMatch(/Não preciso do seu CPF/);
  });

  it('lists recent orders when the customer does not know the number', () => {
    expect(ask([ctx([o8421], 'não sei o número do pedido')]).content[0]?.text).toMatch(/#8421/);
  });

  it('answers English in English', () => {
    expect(ask([{ role: 'user', content: 'hello' }]).content[0]?.text).toMatch(/^Hello!/);
  });

  it('does not offer a refunded order again, and "sim" does not loop on the order number', () => {
    const refunded: Message[] = [
      ctx([o8421], 'o pedido 8421 veio errado'),
      { role: 'assistant', content: [{ type: 'text', text: 'Encontrei seu pedido #8421 … Confirma? (sim/não)' }] },
      { role: 'user', content: 'sim' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'p1', name: 'pay_refund', input: { order_id: '8421', amount_cents: 18600, reason: 'x' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'p1', content: '{"status":"refund_requested"}' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Pronto!' }] },
    ];
    expect(ask([...refunded, { role: 'user', content: 'o pedido 8421 veio errado de novo' }]).content[0]?.text).toMatch(/já foi feito/);
    const again = ask([...refunded, { role: 'user', content: 'sim' }]).content[0]?.text;
    expect(again).not.toMatch(/número do seu pedido/);
  });
});
