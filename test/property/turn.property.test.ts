import type Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOLDING_STATUSES } from '../../data/refunds.ts';
import { Agent } from '../../agent/turn.ts';
import type { ModelClient } from '../../agent/model.ts';
import { JOAO, MARINA } from '../../sandbox/seed.ts';
import { APPROVER_MANDATE, DEFAULT_MANDATE, issueMandate } from '../../refunds/mandate.ts';
import { testServices } from '../helpers/services.ts';

/**
 * The agent loop under a model that answers with several `pay_refund` blocks
 * at once and splits refunds over answers (the attack of issue "Money that
 * cannot move twice", M6): whatever the model sends, at most one refund runs
 * per answer, and per order and per conversation the agent's mandate pays at
 * most its per-refund cap without approval.
 */
const MANDATE = { ...DEFAULT_MANDATE, per_refund_cap_cents: 50_000, window_cap_cents: 200_000 };

/** An in-process model: each call takes the next scripted answer, then ends the turn. */
function scriptedModel(answers: Anthropic.ContentBlock[][]): ModelClient {
  let n = 0;
  const create = async () => {
    const content = answers.shift();
    const message = {
      id: `msg_${++n}`,
      type: 'message',
      role: 'assistant',
      model: 'scripted',
      content: content ?? [{ type: 'text', text: 'Certo.', citations: null }],
      stop_reason: content ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    };
    return message;
  };
  return { messages: { create } } as unknown as ModelClient;
}

const block = fc.record({
  order: fc.constantFrom('8421', '8422', '8422', '8424', '9001'),
  amount: fc.oneof(fc.integer({ min: 1, max: 60_000 }), fc.constant(48_000), fc.constant(10_000)),
});
const answer = fc.array(block, { minLength: 1, maxLength: 5 });

describe('turn property: one refund per answer, and splits never beat the per-refund cap', () => {
  it('holds over random multi-block, split-refund answers', async () => {
    let answers = 0;
    let multiBlock = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 6 }), fc.constantFrom(MARINA.whatsapp, JOAO.whatsapp), async (plan, phone) => {
        const { services, rails, store } = await testServices({ seedMandates: false });
        await issueMandate(store, services.keys.mandate, MANDATE, new Date());
        await issueMandate(store, services.keys.mandate, APPROVER_MANDATE, new Date());
        const conversation = await store.conversations.ensure(phone, phone, new Date().toISOString());
        let ids = 0;
        const script = plan.map((blocks) => blocks.map((b) => ({ type: 'tool_use', id: `toolu_${++ids}`, name: 'pay_refund', input: { order_id: b.order, amount_cents: b.amount, reason: 'veio errado' } }) as Anthropic.ContentBlock));
        const agent = new Agent(services, scriptedModel(script), { model: 'scripted', maxTokens: 256, maxIterations: 20, retryDelayMs: 10, systemPrompt: async () => ({ text: 'x', version: '1' }) });
        await store.inbox.insert({ message_id: `m-${ids}-${Date.now()}`, conversation_id: conversation.id, kind: 'text', ignore_reason: null, text: 'quero meu dinheiro de volta', payload: '{}', received_at: new Date().toISOString() });
        const railCallsBefore = rails.refundCalls.length;
        await agent.runTurn(conversation.id);
        answers += plan.length;
        multiBlock += plan.filter((a) => a.length > 1).length;

        // At most one refund reached the rail per model answer.
        expect(rails.refundCalls.length - railCallsBefore).toBeLessThanOrEqual(plan.length);
        const calls = await store.turns.toolCalls(conversation.id);
        const extra = calls.filter((c) => c.reason === 'one_refund_per_answer');
        expect(extra).toHaveLength(plan.reduce((s, a) => s + a.length - 1, 0));
        // Every block beyond the first of an answer was refused and recorded, never executed.
        for (const c of extra) expect(await store.guardDecisions.allowedForToolUse(conversation.id, c.tool_use_id)).toBeUndefined();

        const holding = HOLDING_STATUSES.map((s) => `'${s}'`).join(',');
        for (const scope of ['order_number', 'conversation_id']) {
          const split = await store.database.all(`SELECT ${scope} AS k, SUM(amount_cents) AS t FROM refunds WHERE mandate_id = ? AND approval_id IS NULL AND status IN (${holding}) GROUP BY ${scope} HAVING SUM(amount_cents) > ?`, MANDATE.id, MANDATE.per_refund_cap_cents);
          expect(split, `split refunds per ${scope}`).toEqual([]);
        }
        await store.close();
      }),
      { numRuns: 60, seed: Number(process.env.PROPERTY_SEED ?? 20261123) },
    );
    expect(multiBlock).toBeGreaterThan(20);
    expect(answers).toBeGreaterThan(100);
  }, 120_000);
});
