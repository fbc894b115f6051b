import { describe, expect, it } from 'vitest';
import { JOAO, MARINA } from '../../sandbox/seed.ts';
import { issueMandate, DEFAULT_MANDATE } from '../../refunds/mandate.ts';
import { useResetEstorno, type TestEstorno } from '../helpers/estorno.ts';

/**
 * The guard under attack: the scripted model proposes exactly the bad call a
 * test wants, through the real SDK and the real server, and each refusal must
 * be recorded with its reason, returned to the model as an error, and move no
 * money.
 */
describe('the guard refuses before any rail call', () => {
  let e!: TestEstorno;
  let n = 0;
  useResetEstorno((x) => (e = x));

  /** Makes the model call `name` with `input` on the customer's next message; returns the recorded call. */
  async function propose(phone: string, name: string, input: unknown) {
    const id = `toolu_attack_${++n}`;
    await e.script([
      { content: [{ type: 'tool_use', id, name, input }], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Ok.' }], stop_reason: 'end_turn' },
    ]);
    await e.say(phone, 'quero meu dinheiro');
    await e.settle();
    const conversationId = (await e.services.store.conversations.byChat(phone))?.id ?? '';
    const call = await e.services.store.turns.toolCall(conversationId, id);
    expect(call, `tool call ${id} recorded`).toBeDefined();
    return { call: call!, result: JSON.parse(call!.result ?? '{}') as Record<string, unknown> };
  }

  const cases: Array<[string, string, unknown, string]> = [
    ["another customer's order", MARINA.whatsapp, { order_id: '9001', amount_cents: 7550, reason: 'x' }, 'order_not_found'],
    ['an order that does not exist', MARINA.whatsapp, { order_id: '7777', amount_cents: 100, reason: 'x' }, 'order_not_found'],
    ['a card-paid order', MARINA.whatsapp, { order_id: '8423', amount_cents: 32000, reason: 'x' }, 'unsupported_rail'],
    ['a Pix payment past the 90-day window', MARINA.whatsapp, { order_id: '8425', amount_cents: 9000, reason: 'x' }, 'outside_refund_window'],
    ['more than is left on 8424', MARINA.whatsapp, { order_id: '8424', amount_cents: 10001, reason: 'x' }, 'exceeds_refundable'],
    ['more than was paid on 9001', JOAO.whatsapp, { order_id: '9001', amount_cents: 7551, reason: 'x' }, 'exceeds_refundable'],
    ['over the per-refund cap', MARINA.whatsapp, { order_id: '8422', amount_cents: 240000, reason: 'x' }, 'over_per_refund_cap'],
    ['an amount as a string', MARINA.whatsapp, { order_id: '8421', amount_cents: '18600', reason: 'x' }, 'invalid_input'],
    ['a fractional amount', MARINA.whatsapp, { order_id: '8421', amount_cents: 186.5, reason: 'x' }, 'invalid_input'],
    ['a negative amount', MARINA.whatsapp, { order_id: '8421', amount_cents: -100, reason: 'x' }, 'invalid_input'],
    ['a zero amount', MARINA.whatsapp, { order_id: '8421', amount_cents: 0, reason: 'x' }, 'invalid_input'],
    ['a destination chosen by the model', MARINA.whatsapp, { order_id: '8421', amount_cents: 18600, reason: 'x', pix_key: 'golpista@example.com' }, 'invalid_input'],
  ];

  for (const [what, phone, input, reason] of cases) {
    it(`refuses ${what} as ${reason}, records it, and moves no money`, async () => {
      const { call, result } = await propose(phone, 'pay_refund', input);
      expect(call).toMatchObject({ outcome: 'refused', reason });
      expect(result).toMatchObject({ refused: true, reason });
      expect(await e.pixRefunds()).toEqual([]);
      if (reason !== 'invalid_input') {
        const decisions = await e.services.store.guardDecisions.all();
        expect(decisions.at(-1)).toMatchObject({ reason, decision: reason === 'over_per_refund_cap' ? 'approval_required' : 'refused' });
      }
    });
  }

  it('refuses an unknown tool and records it', async () => {
    const { call, result } = await propose(MARINA.whatsapp, 'transfer_money', { to: 'x', amount_cents: 100 });
    expect(call).toMatchObject({ outcome: 'refused', reason: 'unknown_tool' });
    expect(result.reason).toBe('unknown_tool');
    expect(await e.pixRefunds()).toEqual([]);
  });

  it('returns refusals to the model as is_error tool results it can explain', async () => {
    await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8423', amount_cents: 32000, reason: 'x' });
    const conversation = (await e.services.store.conversations.byChat(MARINA.whatsapp))!;
    const history = (await e.services.store.turns.history(conversation.id)).map((h) => JSON.parse(h.content) as Array<Record<string, unknown>>);
    const result = history.flat().find((b) => b.type === 'tool_result');
    expect(result).toMatchObject({ is_error: true });
  });

  it('allows exactly what is left on 8424 (R$ 100,00) and then nothing more', async () => {
    const first = await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8424', amount_cents: 10000, reason: 'x' });
    expect(first.call.outcome).toBe('ok');
    const second = await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8424', amount_cents: 1, reason: 'refund it again' });
    expect(second.call).toMatchObject({ outcome: 'refused', reason: 'exceeds_refundable' });
    expect((await e.pixRefunds()).map((r) => r.amount_cents)).toEqual([10000]);
  });

  it('refuses under a revoked mandate, from the very next proposal', async () => {
    const at = new Date().toISOString();
    await e.services.store.mandates.addEvent('cm_support', 'revoked', 'admin@test', 'test', at);
    const { call } = await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8421', amount_cents: 18600, reason: 'x' });
    expect(call).toMatchObject({ outcome: 'refused', reason: 'mandate_inactive' });
    expect(await e.pixRefunds()).toEqual([]);
  });

  it('refuses under a mandate whose cap was raised by hand in SQLite', async () => {
    await e.services.store.database.run("UPDATE mandates SET document = replace(document, '\"per_refund_cap_cents\":50000', '\"per_refund_cap_cents\":9999999') WHERE id = 'cm_support'");
    const { call } = await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8422', amount_cents: 240000, reason: 'x' });
    expect(call).toMatchObject({ outcome: 'refused', reason: 'bad_signature' });
    expect(await e.pixRefunds()).toEqual([]);
  });

  it('refuses a mandate whose status cannot be read', async () => {
    await e.services.store.mandates.addEvent('cm_support', 'maybe', 'admin@test', 'garbage', new Date().toISOString());
    const { call } = await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8421', amount_cents: 18600, reason: 'x' });
    expect(call).toMatchObject({ outcome: 'refused', reason: 'mandate_unreadable' });
  });

  it('holds the rolling window cap across refunds', async () => {
    await issueMandate(e.services.store, e.services.keys.mandate, { ...DEFAULT_MANDATE, window_cap_cents: 20_000, issued_by: 'admin@test' }, new Date());
    expect((await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8421', amount_cents: 18600, reason: 'x' })).call.outcome).toBe('ok');
    const over = await propose(MARINA.whatsapp, 'pay_refund', { order_id: '8424', amount_cents: 5000, reason: 'x' });
    expect(over.call).toMatchObject({ outcome: 'refused', reason: 'over_window_cap' });
    expect((await e.pixRefunds()).map((r) => r.amount_cents)).toEqual([18600]);
  });
});
