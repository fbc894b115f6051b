import { afterEach, describe, expect, it } from 'vitest';
import { Agent, type AgentSettings } from '../../../agent/turn.ts';
import { ProviderError } from '../../../core/errors.ts';
import { handOff } from '../../../conversations/state.ts';
import { MARINA } from '../../../sandbox/seed.ts';
import { testServices } from '../../helpers/services.ts';
import { callTool, fail, say, scriptedModel, toolUse, type ScriptedResponse } from '../../helpers/scripted-model.ts';

/**
 * The agent loop against the in-process scripted model (no HTTP): every kind
 * of next step is reached through a real store and the real tools.
 */

const stores: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

let messages = 0;

async function setup(script: ScriptedResponse[], settings: Partial<AgentSettings> = {}) {
  const { services, store } = await testServices();
  stores.push(store);
  const model = scriptedModel(script);
  const agent = new Agent(services, model, {
    model: 'scripted',
    maxTokens: 256,
    maxIterations: 5,
    retryDelayMs: 1_000,
    systemPrompt: async () => ({ text: 'Você é o assistente de estornos.', version: '1' }),
    ...settings,
  });
  const conversation = await store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
  const customerSays = async (text: string) => {
    await store.inbox.insert({ message_id: `m-${++messages}`, conversation_id: conversation.id, kind: 'text', ignore_reason: null, text, payload: '{}', received_at: new Date().toISOString() });
  };
  const sent = async () => (await store.outbox.forConversation(conversation.id)).map((m) => ({ source: m.source, template: m.template, text: m.text }));
  return { services, store, model, agent, conversation, customerSays, sent };
}

/** The text of the last user message of a model request. */
function lastUserText(request: { messages: Array<{ role: string; content: unknown }> }): string {
  const last = request.messages.filter((m) => m.role === 'user').at(-1);
  return JSON.stringify(last?.content);
}

describe('the agent loop with a scripted model', () => {
  it('answer: the model writes words, the customer gets them, the turn is done', async () => {
    const t = await setup([say('Olá, Marina! Como posso ajudar?')]);
    await t.customerSays('oi');
    const result = await t.agent.runTurn(t.conversation.id);
    expect(result).toMatchObject({ status: 'done', modelCalls: 1 });
    expect(t.model.requests).toHaveLength(1);
    expect(lastUserText(t.model.requests[0]!)).toContain('oi');
    expect(await t.sent()).toEqual([{ source: 'agent', template: null, text: 'Olá, Marina! Como posso ajudar?' }]);
    expect(await t.store.inbox.pending(t.conversation.id)).toEqual([]);
  });

  it('run_tools: the tool runs once, its result goes back to the model, then the answer', async () => {
    const t = await setup([callTool('ledger_lookup', { order_id: '8421' }, { id: 'toolu_a', text: 'Vou verificar o pedido.' }), say('Encontrei o pedido 8421.')]);
    await t.customerSays('quero estornar o pedido 8421');
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'done', modelCalls: 2 });
    const calls = await t.store.turns.toolCalls(t.conversation.id);
    expect(calls.map((c) => [c.tool_use_id, c.name, c.status])).toEqual([['toolu_a', 'ledger_lookup', 'done']]);
    expect(lastUserText(t.model.requests[1]!)).toContain('tool_result');
    expect((await t.sent()).map((m) => m.text)).toEqual(['Vou verificar o pedido.', 'Encontrei o pedido 8421.']);
  });

  it('absorb: a message that arrives while the model writes joins the turn, one answer for both', async () => {
    let t: Awaited<ReturnType<typeof setup>>;
    t = await setup([{ before: async () => await t.customerSays('e o pedido 8422 também'), content: [{ type: 'text', text: 'Sobre o 8421…', citations: null }] }, say('Vejo os dois pedidos.')]);
    await t.customerSays('oi, pedido 8421');
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'done', modelCalls: 2 });
    expect(lastUserText(t.model.requests[1]!)).toContain('e o pedido 8422 também');
    expect((await t.sent()).map((m) => m.text)).toEqual(['Vejo os dois pedidos.']);
  });

  it('park: a model failure holds the turn, tells the customer once, schedules the retry; the resumed turn answers', async () => {
    const t = await setup([fail(new Error('model overloaded')), say('Voltei, desculpe a demora.')]);
    await t.customerSays('oi');
    const parked = await t.agent.runTurn(t.conversation.id);
    expect(parked).toMatchObject({ status: 'parked', retryInMs: 1_000, error: 'Error: model overloaded' });
    expect((await t.sent()).map((m) => m.source)).toEqual(['system']);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await t.store.jobs.due(future)).filter((j) => j.kind === 'resume_turn')).toHaveLength(1);
    expect((await t.store.turns.modelCalls(t.conversation.id)).map((c) => c.error)).toEqual(['Error: model overloaded']);

    const resumed = await t.agent.runTurn(t.conversation.id);
    expect(resumed).toMatchObject({ status: 'done', turnId: (parked as { turnId: string }).turnId, modelCalls: 1 });
    expect((await t.sent()).map((m) => m.text).at(-1)).toBe('Voltei, desculpe a demora.');
  });

  it('park: a spent model-call budget waits without a model call and without telling the customer', async () => {
    const t = await setup([say('Pronto.')]);
    t.agent.rateLimiter = () => 2_500;
    await t.customerSays('oi');
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'parked', retryInMs: 2_500, error: 'RateLimited: customer rate limit: wait 2500 ms' });
    expect(t.model.requests).toHaveLength(0);
    expect(await t.sent()).toEqual([]);
    t.agent.rateLimiter = null;
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'done', modelCalls: 1 });
  });

  it('park: a provider down during a tool call stores no result; the resumed turn runs the same tool call', async () => {
    const t = await setup([callTool('ledger_lookup', { order_id: '8421' }, { id: 'toolu_down' }), say('Encontrei o pedido.')]);
    const getOrder = t.services.erp.getOrder.bind(t.services.erp);
    t.services.erp.getOrder = async () => {
      throw new ProviderError('omie', 'unavailable', 'HTTP 503');
    };
    await t.customerSays('pedido 8421');
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'parked', retryInMs: 1_000, error: 'ProviderDown: omie unavailable' });
    t.services.erp.getOrder = getOrder;
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'done' });
    expect((await t.store.turns.toolCalls(t.conversation.id)).map((c) => [c.tool_use_id, c.outcome])).toEqual([['toolu_down', 'ok']]);
    expect(t.model.requests).toHaveLength(2);
  });

  it('hand_off: a model failing past the outage limit queues a person and tells the customer', async () => {
    const t = await setup([fail(new Error('model down'))], { modelOutageHandoffMs: 0 });
    await t.customerSays('oi');
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'failed', error: 'Error: model down' });
    const conversation = await t.store.conversations.get(t.conversation.id);
    expect(conversation).toMatchObject({ state: 'waiting_for_staff', handoff_reason: 'model_unavailable' });
    expect((await t.sent()).map((m) => m.template)).toEqual(['handoff']);
    expect(await t.store.turns.unfinished(t.conversation.id)).toBeUndefined();
  });

  it('hand_off: the iteration cap stops spending and hands the customer to a person', async () => {
    const t = await setup([callTool('ledger_lookup', { order_id: '8421' }), callTool('ledger_lookup', { order_id: '8421' })], { maxIterations: 2 });
    await t.customerSays('pedido 8421');
    expect(await t.agent.runTurn(t.conversation.id)).toMatchObject({ status: 'failed', error: 'iteration cap' });
    expect(t.model.requests).toHaveLength(2);
    expect((await t.store.conversations.get(t.conversation.id))?.state).toBe('waiting_for_staff');
    expect((await t.sent()).filter((m) => m.template === 'handoff')).toHaveLength(1);
  });

  it('hand_off: media the agent cannot read goes to a person before any model call, and the customer is told', async () => {
    const t = await setup([]);
    await t.store.inbox.insert({ message_id: `m-${++messages}`, conversation_id: t.conversation.id, kind: 'text', ignore_reason: null, text: null, payload: '{}', received_at: new Date().toISOString(), media: JSON.stringify({ kind: 'document', fileName: 'nota.pdf', mimeType: 'application/pdf' }) });
    const result = await t.agent.runTurn(t.conversation.id);
    expect(result).toMatchObject({ status: 'done', modelCalls: 0 });
    expect(t.model.requests).toHaveLength(0);
    expect(await t.store.conversations.get(t.conversation.id)).toMatchObject({ state: 'waiting_for_staff', handoff_reason: 'media_needs_person' });
    expect((await t.sent()).map((m) => m.template)).toEqual(['handoff']);
    expect(await t.store.turns.unfinished(t.conversation.id)).toBeUndefined();
  });

  it('done: a person takes the chat while the model writes a tool call; the tool never runs and nothing the model wrote is sent', async () => {
    let t: Awaited<ReturnType<typeof setup>>;
    t = await setup([{ before: async () => { await handOff(t.services, t.conversation.id, 'customer_asked'); }, content: [{ type: 'text', text: 'Vou estornar.', citations: null }, toolUse('ledger_lookup', { order_id: '8421' }, 'toolu_held')] } as ScriptedResponse]);
    await t.customerSays('quero falar com uma pessoa');
    expect(await t.agent.runTurn(t.conversation.id)).toEqual({ status: 'idle' });
    expect(await t.store.turns.toolCalls(t.conversation.id)).toEqual([]);
    expect((await t.sent()).map((m) => m.template)).toEqual(['handoff']);
    // The open tool_use is closed unrun, so the history stays valid for the API.
    const last = await t.store.turns.lastHistory(t.conversation.id);
    expect(last?.content).toContain('conversation_with_staff');
    expect(t.model.remaining).toBe(0);
  });
});
