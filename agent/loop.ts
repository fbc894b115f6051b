import { outboxKeys } from '../core/keys.ts';
import type Anthropic from '@anthropic-ai/sdk';
import { crashPoint } from '../core/crash.ts';
import type { Logger } from '../core/logger.ts';
import type { Conversation } from '../data/conversations.ts';
import type { HistoryRow } from '../data/turns.ts';
import type { InboxRow } from '../data/inbox.ts';
import type { Services } from '../services/context.ts';
import { executeToolUse, type ToolResultBlock } from '../tools/execute.ts';
import { splitMessage } from '../providers/zapi.ts';
import { agentMustStop, handOff, handoffReasonFor, inferHandoffReason } from '../conversations/state.ts';
import type { ModelClient } from './model.ts';
import type { AgentSettings, TurnResult } from './settings.ts';
import type { Prefix } from './prefix.ts';
import { boundHistory, HISTORY_LIMITS, textOf, toMessages } from './history.ts';
import { absorbInTx, prepareMedia } from './absorb.ts';
import { endSilently } from './stop.ts';
import { failingForMs, modelErrorMessage, parkTurn, recordFailedModelCall } from './park.ts';
import { nextStep, unreachable, type NextStep, type StepLimits, type StepOutcome, type TurnView } from './next-step.ts';

/**
 * The tool-calling loop of one turn: read the stored turn, decide the next
 * step (agent/next-step.ts), perform it, and ask again, until the turn
 * answers, parks, goes to staff or stops. Every step is committed as it
 * happens, so a turn cut short by a crash resumes where it stopped and no
 * tool call runs twice (DESIGN "The path of one message").
 */

export interface LoopDeps {
  services: Services;
  model: ModelClient;
  settings: AgentSettings;
  /** Model calls per customer (see agent/budget.ts); read at each call, null for no limit. */
  rateLimiter: () => ((conversationId: string) => number | Promise<number>) | null;
}

/** The model answered with text promising a person (pt-BR or English). */
const PROMISES_PERSON = /(uma pessoa da (nossa )?equipe|transferir (seu|o) atendimento|atendente humano|a person (from|on) our team|a human agent)/i;

export function stepLimits(settings: AgentSettings): StepLimits {
  return { maxIterations: settings.maxIterations, retryDelayMs: settings.retryDelayMs, modelOutageHandoffMs: settings.modelOutageHandoffMs ?? 120_000 };
}

/** Runs the loop of a started turn; `first` is what the turn's start already reported (media that needs a person). */
export async function runLoop(deps: LoopDeps, conversation: Conversation, turnId: string, prefix: Prefix, log: Logger, first: StepOutcome | null = null): Promise<TurnResult> {
  const { services, settings } = deps;
  const { store } = services;
  const limits = stepLimits(settings);
  let calls = 0;
  let outcome: StepOutcome | null = first;
  for (;;) {
    let history: HistoryRow[] = [];
    let view: TurnView;
    if (outcome) view = { last: undefined, pending: [], held: false, calls, outcome };
    else {
      history = await store.turns.history(conversation.id);
      const pending = await store.inbox.pending(conversation.id);
      view = { last: history.at(-1), pending, held: agentMustStop(await store.conversations.get(conversation.id)), calls, outcome: null };
    }
    const step: NextStep = nextStep(view, limits);
    outcome = null;
    switch (step.kind) {
      case 'run_tools':
        outcome = await runTools(services, conversation, turnId, step.toolUses, log);
        break;
      case 'absorb':
        outcome = await absorbLate(deps, conversation, turnId, step.rows, log);
        break;
      case 'call_model': {
        const called = await callModel(deps, conversation, turnId, prefix, history);
        if (called === 'taken_elsewhere') return takenElsewhere(conversation, turnId, log);
        if (called === 'answered') calls++;
        else outcome = called;
        break;
      }
      case 'answer':
        return await finish(deps, conversation, turnId, step.blocks, calls, log);
      case 'park':
        return await parkTurn(services, conversation, turnId, { reason: step.reason, delayMs: step.delayMs, model: settings.model, prefixHash: prefix.hash }, log);
      case 'hand_off': {
        const ended = await handOffStep(services, conversation, turnId, step, { model: settings.model, prefixHash: prefix.hash }, log);
        if (ended) return ended;
        break;
      }
      case 'done':
        await endSilently(services, conversation.id, turnId, step.reason);
        services.logger.info({ conversationId: conversation.id, turnId }, 'turn stopped: staff hold the conversation');
        return { status: 'idle' };
      default:
        return unreachable(step);
    }
  }
}

/** Runs the turn's tool calls and stores their results; reports a provider down (nothing stored then) or a refusal a person must see. */
async function runTools(services: Services, conversation: Conversation, turnId: string, toolUses: Anthropic.ToolUseBlock[], log: Logger): Promise<StepOutcome | null> {
  const results: ToolResultBlock[] = [];
  let refundsProposed = 0;
  // One at a time, in order: a money-moving agent never runs tools concurrently.
  for (const block of toolUses) {
    // At most one refund per model answer, whatever the model sends: the
    // customer confirmed one refund, and parts must not add up past a cap.
    const extraRefund = block.name === 'pay_refund' && ++refundsProposed > 1;
    const result = await executeToolUse(
      { services, conversation: await services.store.conversations.get(conversation.id) as Conversation, turnId, toolUseId: block.id, logger: log },
      block,
      extraRefund ? { reason: 'one_refund_per_answer', message: 'Only one pay_refund runs per answer; this one was not executed. Confirm any further refund with the customer first.' } : undefined,
    );
    if ('transient' in result) return { kind: 'provider_down', provider: result.provider, attempts: result.attempts };
    results.push(result);
  }
  await services.store.turns.appendHistory(conversation.id, turnId, 'user', results, services.now().toISOString());
  // The handoff reason of this turn's newest tool results, if one refused for a reason a person must look at.
  const last = (await services.store.turns.toolCalls(conversation.id)).filter((t) => t.turn_id === turnId).at(-1);
  const reason = last && last.name === 'pay_refund' && last.outcome === 'refused' ? handoffReasonFor(last.reason) : null;
  return reason ? { kind: 'tools_refused', reason } : null;
}

/** Messages that came during the turn join it (media included); reports media that needs a person. */
async function absorbLate(deps: LoopDeps, conversation: Conversation, turnId: string, rows: InboxRow[], log: Logger): Promise<StepOutcome | null> {
  const media = await prepareMedia(rows, deps.settings.transcriber ?? null, log);
  await deps.services.store.tx(async () => await absorbInTx(deps.services, conversation, turnId, rows, null, media.blocks));
  return media.needsPerson ? { kind: 'media_needs_person', prefix: media.needsPerson } : null;
}

/** One model call over the bounded history; the answer is stored (and words beside a tool call are sent). */
async function callModel(deps: LoopDeps, conversation: Conversation, turnId: string, prefix: Prefix, history: HistoryRow[]): Promise<StepOutcome | 'answered' | 'taken_elsewhere'> {
  const { services, settings } = deps;
  const { store } = services;
  const nowIso = () => services.now().toISOString();
  const wait = (await deps.rateLimiter()?.(conversation.id)) ?? 0;
  if (wait > 0) return { kind: 'rate_limited', waitMs: wait };
  const started = Date.now();
  let response: Anthropic.Message;
  try {
    response = await deps.model.messages.create({
      model: settings.model,
      max_tokens: settings.maxTokens,
      system: prefix.system,
      tools: prefix.tools,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: boundHistory(toMessages(history), HISTORY_LIMITS, history.reduce((n, row) => n + row.content.length, 0)),
    });
  } catch (error) {
    const latencyMs = Date.now() - started;
    return { kind: 'model_failed', message: modelErrorMessage(error), latencyMs, failingForMs: await failingForMs(services, conversation.id, turnId) };
  }
  const stored = await store.tx(async () => {
    if (!(await holdsTurn(settings, conversation.id))) return false;
    await store.turns.recordModelCall({
      conversation_id: conversation.id,
      turn_id: turnId,
      model: response.model,
      request_id: (response as { _request_id?: string | null })._request_id ?? null,
      message_id: response.id,
      stop_reason: response.stop_reason,
      input_tokens: response.usage.input_tokens,
      output_tokens: response.usage.output_tokens,
      cache_read_tokens: response.usage.cache_read_input_tokens ?? null,
      cache_creation_tokens: response.usage.cache_creation_input_tokens ?? null,
      prefix_hash: prefix.hash,
      latency_ms: Date.now() - started,
      error: null,
      created_at: nowIso(),
    });
    await store.turns.appendHistory(conversation.id, turnId, 'assistant', response.content, nowIso());
    // Words the model wrote beside a tool call ("Confirma o estorno?") are for the customer too,
    // unless a person took the conversation over while the model was writing.
    if (response.stop_reason === 'tool_use' && !agentMustStop(await store.conversations.get(conversation.id))) {
      const said = textOf(response.content);
      if (said) for (const [i, part] of splitMessage(said).entries()) await enqueueText(services, conversation, part, outboxKeys.agentReply(turnId, i, response.id));
    }
    return true;
  });
  if (!stored) return 'taken_elsewhere';
  if (response.stop_reason === 'tool_use') crashPoint('after_tool_use_stored');
  services.publish({ type: 'model_call', conversationId: conversation.id, stopReason: response.stop_reason });
  return 'answered';
}

/** The model answered: its words are sent (unless a person took the chat meanwhile) and the turn is done. */
async function finish(deps: LoopDeps, conversation: Conversation, turnId: string, blocks: Anthropic.ContentBlock[], calls: number, log: Logger): Promise<TurnResult> {
  const { services } = deps;
  const { store } = services;
  const nowIso = () => services.now().toISOString();
  const text = textOf(blocks);
  const finished = await store.tx(async () => {
    if (!(await holdsTurn(deps.settings, conversation.id))) return false;
    // Re-read before sending: text written while a person took (or closed) the chat is never sent.
    const held = agentMustStop(await store.conversations.get(conversation.id));
    if (text && !held) for (const [i, part] of splitMessage(text).entries()) await enqueueText(services, conversation, part, outboxKeys.agentReply(turnId, i));
    await store.turns.finish(turnId, 'done', calls, held ? 'taken_over' : null, nowIso());
    await store.conversations.touch(conversation.id, nowIso());
    // The model promised a person: make it true in the same transaction (a promise is never left without a queue).
    if (!held && text && PROMISES_PERSON.test(text)) await handOff(services, conversation.id, await inferHandoffReason(store, conversation.id, turnId));
    return true;
  });
  if (!finished) return takenElsewhere(conversation, turnId, log);
  services.wake();
  services.publish({ type: 'turn', conversationId: conversation.id, status: 'done' });
  log.info({ turnId, modelCalls: calls }, 'turn done');
  return { status: 'done', turnId, modelCalls: calls };
}

/** Queues the conversation for a person (the customer is told); ends the turn when the step says so, else the loop goes on. */
async function handOffStep(services: Services, conversation: Conversation, turnId: string, step: Extract<NextStep, { kind: 'hand_off' }>, call: { model: string; prefixHash: string }, log: Logger): Promise<TurnResult | null> {
  if (step.failedCall) await recordFailedModelCall(services, { conversationId: conversation.id, turnId, model: call.model, prefixHash: call.prefixHash, ...step.failedCall });
  const end = step.end;
  if (end?.why === 'iteration cap') log.warn({ turnId, maxIterations: end.iterations }, 'turn hit the iteration cap');
  // The turn ends and a person is queued in one transaction: never a stopped turn with nobody queued.
  await services.store.tx(async () => {
    if (end) await endSilently(services, conversation.id, turnId, end.why, end.iterations);
    const reason = step.reason === 'infer' ? await inferHandoffReason(services.store, conversation.id, turnId) : step.reason;
    await handOff(services, conversation.id, reason, step.prefix);
  });
  if (!end) return null;
  if (step.failedCall) log.warn({ turnId, error: step.failedCall.message }, 'model unavailable too long; handed to staff');
  return end.result.status === 'failed' ? { status: 'failed', turnId, error: end.result.error } : { status: 'done', turnId, modelCalls: 0 };
}

/** Replicas: whether this process still holds the turn, asked inside the transaction that would store the step. */
async function holdsTurn(settings: AgentSettings, conversationId: string): Promise<boolean> {
  return settings.turnFence ? await settings.turnFence(conversationId) : true;
}

/** Another process holds the turn now (this one stalled past its lease): it answers; nothing more is stored or sent here. */
function takenElsewhere(conversation: Conversation, turnId: string, log: Logger): TurnResult {
  log.warn({ turnId, conversationId: conversation.id }, 'turn lease lost mid-turn; another process runs the turn, this one stops');
  return { status: 'taken_elsewhere', turnId };
}

async function enqueueText(services: Pick<Services, 'store' | 'now'>, conversation: Pick<Conversation, 'id' | 'chat_id'>, text: string, dedupeKey: string): Promise<void> {
  await services.store.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text, source: 'agent', dedupe_key: dedupeKey, now: services.now().toISOString() });
}
