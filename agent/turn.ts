import type Anthropic from '@anthropic-ai/sdk';
import { createHash } from 'node:crypto';
import { APIError } from '@anthropic-ai/sdk';
import { newId } from '../core/ids.ts';
import { crashPoint } from '../core/crash.ts';
import { errorSummary, type Logger } from '../core/logger.ts';
import type { Conversation } from '../data/conversations.ts';
import type { HistoryRow } from '../data/turns.ts';
import { templates } from '../prompts/templates.ts';
import type { InboxRow } from '../data/inbox.ts';
import type { Services } from '../services/context.ts';
import { executeToolUse, type ToolResultBlock, type TransientFailure } from '../tools/execute.ts';
import { TOOLS } from '../tools/registry.ts';
import { recentOrders } from '../refunds/verify-order.ts';
import { inputSchemaOf } from '../tools/tool.ts';
import { splitMessage } from '../providers/zapi.ts';
import type { ModelClient } from './model.ts';
import { identifyChat } from './identify.ts';
import { customerLang, detectLang, handOff, handoffReasonFor, heldByStaff, inferHandoffReason, transition } from '../conversations/state.ts';
import { mediaOf, mediaBlocks, type Transcriber } from './media.ts';

/**
 * One turn of the agent for one conversation: the customer's pending messages
 * become one user message, then the tool-calling loop on `messages.create`
 * with the full history from SQLite until `end_turn` (DESIGN "The path of one
 * message"). Every step is committed as it happens, so a turn cut short by a
 * crash resumes where it stopped and no tool call runs twice.
 */

export interface AgentSettings {
  model: string;
  maxTokens: number;
  maxIterations: number;
  /** Place the customer's verified recent orders in the first turn's context. */
  prefetchOrders: boolean;
  /** How long a turn waits after the model failed (after the SDK's own retries). */
  retryDelayMs: number;
  /** The current system prompt (admins edit it; the next turn uses the new one). */
  systemPrompt: () => Promise<{ text: string; version: string }>;
  /** How long a turn keeps failing on the model before the conversation goes to staff (reason model_unavailable). */
  modelOutageHandoffMs?: number;
  /** Turns voice notes into text; none by default (then audio goes to staff). */
  transcriber?: Transcriber | null;
}

export type TurnResult =
  | { status: 'idle' }
  | { status: 'done'; turnId: string; modelCalls: number }
  | { status: 'parked'; turnId: string; retryInMs: number; error: string }
  | { status: 'failed'; turnId: string; error: string };

type MessageParam = Anthropic.MessageParam;
type ContentBlock = Anthropic.ContentBlockParam;

/** Builds the stable prefix (tools + system) once per prompt version: byte-identical across calls so caching applies. */
export function buildPrefix(systemText: string): { tools: Anthropic.Tool[]; system: Anthropic.TextBlockParam[]; hash: string } {
  const tools: Anthropic.Tool[] = TOOLS.map((t, i) => ({
    name: t.name,
    description: t.description,
    input_schema: inputSchemaOf(t) as Anthropic.Tool.InputSchema,
    ...(i === TOOLS.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
  }));
  const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: systemText, cache_control: { type: 'ephemeral' } }];
  const hash = createHash('sha256').update(JSON.stringify({ tools, system })).digest('hex');
  return { tools, system, hash };
}

/** A provider (ERP, rail, fiscal) was down during a tool call: the turn waits and is retried. */
class ProviderDown extends Error {
  override name = 'ProviderDown';
  constructor(provider: string) {
    super(`${provider} unavailable`);
  }
}

/** A customer has used up their model calls for now: the turn waits, nobody is told. */
class RateLimited extends Error {
  override name = 'RateLimited';
  readonly waitMs: number;
  constructor(waitMs: number) {
    super(`customer rate limit: wait ${waitMs} ms`);
    this.waitMs = waitMs;
  }
}

/**
 * A per-customer budget of model calls (a sliding window): one customer's
 * flood cannot make the service call the model more than `max` times per
 * `windowMs`. Returns how long to wait, 0 when a call is allowed now (and counts it).
 */
export function modelCallBudget(max: number, windowMs: number, now: () => number = Date.now, globalMax = Number.POSITIVE_INFINITY): (conversationId: string) => number {
  const calls = new Map<string, number[]>();
  // All conversations together: 10,000 strangers writing at once cannot mean 10,000 model calls.
  let all: number[] = [];
  return (conversationId) => {
    const t = now();
    const recent = (calls.get(conversationId) ?? []).filter((at) => t - at < windowMs);
    calls.set(conversationId, recent);
    if (recent.length >= max) return windowMs - (t - (recent[0] as number)) + 1;
    all = all.filter((at) => t - at < windowMs);
    if (all.length >= globalMax) return windowMs - (t - (all[0] as number)) + 1;
    recent.push(t);
    all.push(t);
    if (calls.size > 50_000) for (const [k, v] of calls) if (v.every((at) => t - at >= windowMs)) calls.delete(k);
    return 0;
  };
}

/** Marks the first turn's context as ours, not the customer's words. */
export const CONTEXT_PREAMBLE =
  'System context, not written by the customer: the recent orders of the customer in this chat, already verified with the ERP and the payment rail (the same fields ledger_lookup returns).';

export class Agent {
  /** Set to limit model calls per customer (see modelCallBudget). */
  rateLimiter: ((conversationId: string) => number | Promise<number>) | null = null;
  private prefixCache: { version: string; prefix: Awaited<ReturnType<typeof buildPrefix>> } | null = null;
  private readonly services: Services;
  private readonly model: ModelClient;
  private readonly settings: AgentSettings;

  constructor(services: Services, model: ModelClient, settings: AgentSettings) {
    this.services = services;
    this.model = model;
    this.settings = settings;
  }

  /** Runs (or resumes) the turn of a conversation; safe to call when nothing is pending. */
  async runTurn(conversationId: string): Promise<TurnResult> {
    const { store } = this.services;
    const conversation = await store.conversations.get(conversationId);
    if (!conversation) return { status: 'idle' };
    const log = this.services.logger.child({ conversationId });
    // A person holds the conversation: no model call, no message, no tool. Their
    // customer's messages wait in the inbox and are answered after the hand back.
    if (heldByStaff(conversation)) {
      if (await this.resumableTurn(conversationId)) await stopTurnsForStaff(this.services, conversationId);
      return { status: 'idle' };
    }
    let resumable = await this.resumableTurn(conversationId);
    const pending = await store.inbox.pending(conversationId);
    if (conversation.state === 'closed') {
      // A person closed it: a turn left over from before never resumes (it could move money
      // nobody is watching); only new words from the customer open the conversation again.
      if (resumable) await stopTurnsForStaff(this.services, conversationId);
      resumable = null;
      if (pending.length === 0) return { status: 'idle' };
      await transition(store, conversationId, 'agent', this.nowIso());
    }
    if (!resumable && pending.length === 0) return { status: 'idle' };

    let turnId: string;
    if (resumable) {
      turnId = resumable;
      await store.turns.reopen(turnId);
      // New messages join inside the loop, after any tool results still owed: the API
      // refuses customer text between a tool_use and its tool_result.
    } else {
      if (!this.identified(conversation)) return this.identify(conversation, pending, log);
      turnId = newId('turn');
      const context = (await this.needsContext(conversation)) ? await this.customerContext(conversation, log) : null;
      const media = await this.prepareMedia(pending, log);
      await store.tx(async () => {
        await store.turns.start(turnId, conversationId, this.nowIso());
        await this.absorbInTx(conversation, turnId, await store.inbox.pending(conversationId), context, media.blocks);
      });
      if (media.needsPerson) {
        // Media the agent cannot read (a voice note with no transcriber, a document…): acknowledged, and a person looks.
        await this.endSilently(conversation.id, turnId, 'media needs a person');
        await handOff(this.services, conversation.id, 'media_needs_person', media.needsPerson);
        return { status: 'done', turnId, modelCalls: 0 };
      }
    }
    return this.loop(await store.conversations.get(conversationId) as Conversation, turnId, log);
  }

  private async loop(conversation: Conversation, turnId: string, log: Logger): Promise<TurnResult> {
    const { store } = this.services;
    const prompt = await this.settings.systemPrompt();
    const prefix = this.prefix(prompt);
    let calls = 0;
    for (;;) {
      const history = await store.turns.history(conversation.id);
      const last = history.at(-1);
      // Resume: the model asked for tools and the results were not all stored.
      if (last?.role === 'assistant') {
        const blocks = JSON.parse(last.content) as Anthropic.ContentBlock[];
        const toolUses = blocks.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
        if (toolUses.length === 0) {
          // Messages that came in while the model was writing: answer them together, not one by one.
          const late = await store.inbox.pending(conversation.id);
          // Held by staff now: the late messages stay pending, to be answered after the hand back.
          if (late.length > 0 && calls < this.settings.maxIterations && !heldByStaff(await store.conversations.get(conversation.id))) {
            const stop = await this.absorbLate(conversation, turnId, late, log);
            if (stop) return stop;
            continue;
          }
          return await this.finish(conversation, turnId, blocks, calls, log);
        }
        if (await this.takenOver(conversation.id, turnId)) return { status: 'idle' };
        const down = await this.runTools(conversation, turnId, toolUses, log);
        if (down) {
          const delay = this.settings.retryDelayMs * 2 ** (down.attempts - 1);
          return await this.park(conversation, turnId, new ProviderDown(down.provider), 0, prefix.hash, log, delay);
        }
        // A refusal that means "a person must look" queues the conversation for staff now.
        const reason = await this.handoffFromResults(conversation.id, turnId);
        if (reason) await handOff(this.services, conversation.id, reason);
        continue;
      }
      if (calls >= this.settings.maxIterations) break;
      // Re-read before every model call: staff may have taken over (or the agent handed off) meanwhile.
      if (await this.takenOver(conversation.id, turnId)) return { status: 'idle' };
      // Messages that arrived while this turn was running join it: one answer, not one per message.
      const arrived = await store.inbox.pending(conversation.id);
      if (arrived.length > 0) {
        const stop = await this.absorbLate(conversation, turnId, arrived, log);
        if (stop) return stop;
        continue;
      }
      const wait = (await this.rateLimiter?.(conversation.id)) ?? 0;
      if (wait > 0) return await this.park(conversation, turnId, new RateLimited(wait), 0, prefix.hash, log, wait);
      const started = Date.now();
      let response: Anthropic.Message;
      try {
        response = await this.model.messages.create({
          model: this.settings.model,
          max_tokens: this.settings.maxTokens,
          system: prefix.system,
          tools: prefix.tools,
          tool_choice: { type: 'auto', disable_parallel_tool_use: true },
          messages: boundHistory(toMessages(history), HISTORY_LIMITS, history.reduce((n, row) => n + row.content.length, 0)),
        });
      } catch (error) {
        return await this.park(conversation, turnId, error, Date.now() - started, prefix.hash, log);
      }
      calls++;
      await store.tx(async () => {
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
          created_at: this.nowIso(),
        });
        await store.turns.appendHistory(conversation.id, turnId, 'assistant', response.content, this.nowIso());
        // Words the model wrote beside a tool call ("Confirma o estorno?") are for the customer too,
        // unless a person took the conversation over while the model was writing.
        if (response.stop_reason === 'tool_use' && !heldByStaff(await store.conversations.get(conversation.id))) {
          const said = response.content.filter((b): b is Anthropic.TextBlock => b.type === 'text').map((b) => b.text).join('\n').trim();
          if (said) for (const [i, part] of splitMessage(said).entries()) await this.enqueueText(conversation, part, 'agent', `reply:${turnId}:${response.id}:${i}`);
        }
      });
      if (response.stop_reason === 'tool_use') crashPoint('after_tool_use_stored');
      this.services.publish({ type: 'model_call', conversationId: conversation.id, stopReason: response.stop_reason });
    }
    // Too many round trips: stop spending, hand the customer to a person.
    log.warn({ turnId, maxIterations: this.settings.maxIterations }, 'turn hit the iteration cap');
    await this.endSilently(conversation.id, turnId, 'iteration cap', this.settings.maxIterations);
    await handOff(this.services, conversation.id, await inferHandoffReason(store, conversation.id, turnId));
    return { status: 'failed', turnId, error: 'iteration cap' };
  }

  /** Runs the turn's tool calls; returns the failure when a provider was down (nothing is answered then). */
  private async runTools(conversation: Conversation, turnId: string, toolUses: Anthropic.ToolUseBlock[], log: Logger): Promise<TransientFailure | null> {
    const results: ToolResultBlock[] = [];
    let refundsProposed = 0;
    // One at a time, in order: a money-moving agent never runs tools concurrently.
    for (const block of toolUses) {
      // At most one refund per model answer, whatever the model sends: the
      // customer confirmed one refund, and parts must not add up past a cap.
      const extraRefund = block.name === 'pay_refund' && ++refundsProposed > 1;
      const result = await executeToolUse(
        { services: this.services, conversation: await this.services.store.conversations.get(conversation.id) as Conversation, turnId, toolUseId: block.id, logger: log },
        block,
        extraRefund ? { reason: 'one_refund_per_answer', message: 'Only one pay_refund runs per answer; this one was not executed. Confirm any further refund with the customer first.' } : undefined,
      );
      if ('transient' in result) return result;
      results.push(result);
    }
    await this.services.store.turns.appendHistory(conversation.id, turnId, 'user', results, this.nowIso());
    return null;
  }

  private async finish(conversation: Conversation, turnId: string, blocks: Anthropic.ContentBlock[], calls: number, log: Logger): Promise<TurnResult> {
    const { store } = this.services;
    const text = blocks
      .filter((b): b is Anthropic.TextBlock => b.type === 'text')
      .map((b) => b.text)
      .join('\n')
      .trim();
    const silenced = await store.tx(async () => {
      // Re-read before sending: text written while a person took the chat is never sent.
      const held = heldByStaff(await store.conversations.get(conversation.id));
      if (text && !held) for (const [i, part] of splitMessage(text).entries()) await this.enqueueText(conversation, part, 'agent', `reply:${turnId}:${i}`);
      await store.turns.finish(turnId, 'done', calls, held ? 'taken_over' : null, this.nowIso());
      await store.conversations.touch(conversation.id, this.nowIso());
      return held;
    });
    // The model promised a person: make it true (never promise one that is not queued).
    if (!silenced && text && PROMISES_PERSON.test(text)) await handOff(this.services, conversation.id, await inferHandoffReason(store, conversation.id, turnId));
    this.services.wake();
    this.services.publish({ type: 'turn', conversationId: conversation.id, status: 'done' });
    log.info({ turnId, modelCalls: calls }, 'turn done');
    return { status: 'done', turnId, modelCalls: calls };
  }

  /** The model failed after the SDK's own retries: hold, tell the customer once, retry the turn later. */
  private async park(conversation: Conversation, turnId: string, error: unknown, latencyMs: number, prefixHash: string, log: Logger, retryInMs = this.settings.retryDelayMs): Promise<TurnResult> {
    const { store } = this.services;
    const message = error instanceof APIError ? `${error.status ?? 'no status'} ${error.name}` : error instanceof Error ? `${error.name}: ${error.message}` : 'error';
    const limited = error instanceof RateLimited;
    const modelFailed = !limited && !(error instanceof ProviderDown);
    const outageMs = this.settings.modelOutageHandoffMs ?? 120_000;
    if (modelFailed && this.services.now().getTime() - await this.failingSince(conversation.id, turnId) >= outageMs) {
      // The model has been down for too long: a person takes over; retries go on for later turns.
      await store.turns.recordModelCall({
        conversation_id: conversation.id, turn_id: turnId, model: this.settings.model, request_id: null, message_id: null, stop_reason: null,
        input_tokens: null, output_tokens: null, cache_read_tokens: null, cache_creation_tokens: null, prefix_hash: prefixHash,
        latency_ms: latencyMs, error: message, created_at: this.nowIso(),
      });
      await this.endSilently(conversation.id, turnId, `model unavailable: ${message}`);
      await handOff(this.services, conversation.id, 'model_unavailable');
      log.warn({ turnId, error: message }, 'model unavailable too long; handed to staff');
      return { status: 'failed', turnId, error: message };
    }
    await store.tx(async () => {
      if (modelFailed) await store.turns.recordModelCall({
        conversation_id: conversation.id, turn_id: turnId, model: this.settings.model, request_id: null, message_id: null, stop_reason: null,
        input_tokens: null, output_tokens: null, cache_read_tokens: null, cache_creation_tokens: null, prefix_hash: prefixHash,
        latency_ms: latencyMs, error: message, created_at: this.nowIso(),
      });
      // Told once per outage (one holding message per turn, however often it is retried), never while a person holds the chat.
      if (!limited && !heldByStaff(await store.conversations.get(conversation.id))) {
        const holding = await customerLang(store, conversation.id) === 'en' ? templates.unavailable_en() : templates.unavailable();
        await this.enqueueText(conversation, holding, 'system', `holding:${turnId}`);
      }
      await store.turns.finish(turnId, 'parked', 0, message, this.nowIso());
      const now = this.services.now();
      await store.jobs.schedule('resume_turn', `resume_turn:${turnId}:${now.getTime()}`, { conversationId: conversation.id, turnId }, new Date(now.getTime() + retryInMs).toISOString(), now.toISOString());
    });
    this.services.wake();
    log.warn({ turnId, error: message, retryInMs }, 'turn parked');
    return { status: 'parked', turnId, retryInMs, error: message };
  }

  /** When this turn's model calls started failing (the first error after its last success), as epoch ms; now when they have not. */
  private async failingSince(conversationId: string, turnId: string): Promise<number> {
    const calls = (await this.services.store.turns.modelCalls(conversationId)).filter((c) => c.turn_id === turnId);
    let since: string | null = null;
    for (const c of calls) since = c.error ? (since ?? c.created_at) : null;
    return since ? Date.parse(since) : this.services.now().getTime();
  }

  /** The newest turn of a conversation that did not finish (running after a crash, or parked). */
  private async resumableTurn(conversationId: string): Promise<string | null> {
    return (await this.services.store.turns.unfinished(conversationId))?.id ?? null;
  }

  private identified(conversation: Conversation): boolean {
    return conversation.phone !== null || conversation.customer_code !== null;
  }

  /**
   * An `@lid` chat has no phone number to match orders against: it proves it
   * controls the customer's number on file first (agent/identify.ts).
   */
  private async identify(conversation: Conversation, pending: InboxRow[], log: Logger): Promise<TurnResult> {
    const { store } = this.services;
    const replies: Array<{ text: string; key: string }> = [];
    const result = await identifyChat(this.services, conversation, pending, (text, key) => replies.push({ text, key }), log);
    await store.tx(async () => {
      await this.absorbInTx(conversation, null, pending);
      for (const r of replies) await this.enqueueText(conversation, r.text, 'system', r.key);
    });
    this.services.wake();
    if (!result.bound) {
      if (result.handoff) await handOff(this.services, conversation.id, result.handoff.reason, result.handoff.prefix);
      return { status: 'idle' };
    }
    // Identified: the complaint that came before the code is already in the history; answer it now.
    const turnId = newId('turn');
    await store.turns.start(turnId, conversation.id, this.nowIso());
    return this.loop(await store.conversations.get(conversation.id) as Conversation, turnId, log);
  }

  private async absorb(conversation: Conversation, turnId: string | null, pending: InboxRow[]): Promise<void> {
    await this.services.store.tx(async () => await this.absorbInTx(conversation, turnId, pending));
  }

  /**
   * The pending messages become one user message in the history, and are
   * marked processed, atomically. What staff said and noted since the model's
   * last view comes first, labelled as such, interleaved in time with the
   * customer's messages (so after a hand back the model knows what a person
   * promised, and answers what the customer wrote meanwhile).
   */
  private async absorbInTx(conversation: Conversation, turnId: string | null, pending: InboxRow[], context: string | null = null, media: Map<number, ContentBlock[]> = new Map()): Promise<void> {
    const { store } = this.services;
    if (pending.length === 0) return;
    const since = (await store.turns.lastHistory(conversation.id))?.created_at ?? '';
    const items: Array<{ at: string; blocks: ContentBlock[] }> = [];
    for (const r of pending) {
      const own = media.get(r.id);
      items.push({ at: r.received_at, blocks: own ?? (r.text ? [{ type: 'text', text: r.text }] : mediaOf(r) ? [{ type: 'text', text: `[${mediaOf(r)!.kind}]` }] : []) });
    }
    const staff = await staffSince(store, conversation.id, since);
    items.push(...staff);
    items.sort((a, b) => a.at.localeCompare(b.at));
    // Consecutive plain customer texts stay one block, as before (one answer per burst).
    const merged: ContentBlock[] = [];
    for (const b of items.flatMap((i) => i.blocks)) {
      const prev = merged.at(-1);
      if (prev?.type === 'text' && b.type === 'text' && !isLabelled(prev.text) && !isLabelled(b.text)) prev.text = `${prev.text}\n${b.text}`;
      else merged.push(b.type === 'text' ? { ...b } : b);
    }
    const blocks: ContentBlock[] = [
      ...(context ? [{ type: 'text' as const, text: context }] : []),
      ...(staff.length > 0 ? [{ type: 'text' as const, text: STAFF_PREAMBLE }] : []),
      ...merged,
    ];
    if (blocks.length === 0) blocks.push({ type: 'text', text: '[mensagem vazia]' });
    await store.turns.appendHistory(conversation.id, turnId, 'user', blocks, this.nowIso());
    await store.inbox.markProcessed(pending.map((r) => r.id), turnId ?? 'staff', this.nowIso());
  }

  /** Messages that came during the turn join it (media included); null, or the result when one needs a person. */
  private async absorbLate(conversation: Conversation, turnId: string, rows: InboxRow[], log: Logger): Promise<TurnResult | null> {
    const media = await this.prepareMedia(rows, log);
    await this.services.store.tx(async () => await this.absorbInTx(conversation, turnId, rows, null, media.blocks));
    if (!media.needsPerson) return null;
    await this.endSilently(conversation.id, turnId, 'media needs a person');
    await handOff(this.services, conversation.id, 'media_needs_person', media.needsPerson);
    return { status: 'done', turnId, modelCalls: 0 };
  }

  /** Images are fetched for the model; other media are stored and, unless transcribed, go to a person. */
  private async prepareMedia(pending: InboxRow[], log: Logger): Promise<{ blocks: Map<number, ContentBlock[]>; needsPerson: string | null }> {
    return mediaBlocks(pending, { transcriber: this.settings.transcriber ?? null, lang: detectLang(pending.map((p) => p.text ?? '').join('\n')), logger: log });
  }

  /** The turn stops here without a model answer: any tool_use left open is closed, and the history shows where it stopped. */
  private async endSilently(conversationId: string, turnId: string, why: string, iterations = 0): Promise<void> {
    const { store } = this.services;
    await store.tx(async () => {
      await closeOpenToolUses(store, conversationId, turnId, this.nowIso());
      await store.turns.finish(turnId, 'failed', iterations, why, this.nowIso());
    });
    this.services.wake();
  }

  /** True (and the turn is ended) when a person holds the conversation now. */
  private async takenOver(conversationId: string, turnId: string): Promise<boolean> {
    if (!heldByStaff(await this.services.store.conversations.get(conversationId))) return false;
    await this.endSilently(conversationId, turnId, 'taken_over');
    this.services.logger.info({ conversationId, turnId }, 'turn stopped: staff hold the conversation');
    return true;
  }

  /** The handoff reason of this turn's newest tool results, if one refused for a reason a person must look at. */
  private async handoffFromResults(conversationId: string, turnId: string): Promise<Awaited<ReturnType<typeof handoffReasonFor>>> {
    const last = (await this.services.store.turns.toolCalls(conversationId)).filter((t) => t.turn_id === turnId).at(-1);
    return last && last.name === 'pay_refund' && last.outcome === 'refused' ? handoffReasonFor(last.reason) : null;
  }

  /** A first turn, or a new turn after refunds were made since the last context: the orders are (re)read. */
  private async needsContext(conversation: Conversation): Promise<boolean> {
    const { store } = this.services;
    const history = await store.turns.history(conversation.id);
    if (history.length === 0) return true;
    const lastContext = [...history].reverse().find((h) => h.role === 'user' && h.content.includes('<customer_context>'));
    if (!lastContext) return false;
    return (await store.payments.refundsForConversation(conversation.id)).some((r) => r.created_at >= lastContext.created_at);
  }

  /**
   * The customer's recent orders, verified, placed before their first message
   * so that the model needs no lookup round trip (it still cannot move money
   * without pay_refund, which verifies everything again). Best effort: when a
   * provider is down the model simply looks orders up itself.
   */
  private async customerContext(conversation: Conversation, log: Logger): Promise<string | null> {
    if (!this.settings.prefetchOrders) return null;
    try {
      const orders = await recentOrders(this.services, conversation);
      if (!orders) return null;
      return `${CONTEXT_PREAMBLE}\n<customer_context>${JSON.stringify({ recent_orders: orders })}</customer_context>`;
    } catch (error) {
      log.warn({ err: errorSummary(error) }, 'recent orders unavailable; the model will look them up');
      return null;
    }
  }

  private async enqueueText(conversation: Conversation, text: string, source: 'agent' | 'system', dedupeKey: string): Promise<void> {
    await this.services.store.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text, source, dedupe_key: dedupeKey, now: this.nowIso() });
  }

  private prefix(prompt: { text: string; version: string }): Awaited<ReturnType<typeof buildPrefix>> {
    if (this.prefixCache?.version !== prompt.version) this.prefixCache = { version: prompt.version, prefix: buildPrefix(prompt.text) };
    return this.prefixCache.prefix;
  }

  private nowIso(): string {
    return this.services.now().toISOString();
  }
}

/** Stands in for an assistant answer that had no text (a template spoke, or the turn ended at a handoff). */
export const NO_TEXT_MARKER = '[no text reply: a template message was sent or the conversation went to staff]';

/**
 * The stored history as Messages API messages; a history must start with the
 * user. An assistant answer with no text (the API refuses empty messages)
 * becomes a short marker, so a later customer message is never folded into
 * an old tool_result and left unanswered. Two user rows in a row (a turn
 * ended without an answer) are separated by the same marker.
 */
export function toMessages(history: HistoryRow[]): MessageParam[] {
  const messages: MessageParam[] = [];
  for (const row of history) {
    let content = JSON.parse(row.content) as ContentBlock[];
    if (content.length === 0) {
      if (row.role !== 'assistant') continue;
      content = [{ type: 'text', text: NO_TEXT_MARKER }];
    }
    const previous = messages.at(-1);
    if (previous && previous.role === row.role) {
      const prevBlocks = previous.content as ContentBlock[];
      if (row.role === 'user' && prevBlocks.at(-1)?.type === 'tool_result' && content[0]?.type !== 'tool_result') {
        messages.push({ role: 'assistant', content: [{ type: 'text', text: NO_TEXT_MARKER }] }, { role: 'user', content: [...content] });
      } else prevBlocks.push(...content);
    } else messages.push({ role: row.role, content: [...content] });
  }
  while (messages[0]?.role === 'assistant') messages.shift();
  return messages;
}

/** What one model call may carry of a conversation (bytes of JSON), and of one text block. */
export const HISTORY_LIMITS = { maxBytes: 400_000, maxTextChars: 8_000 } as const;

/**
 * Keeps a model call bounded however long the chat grew: very long texts are
 * cut, and the oldest messages are left out until the rest fits, starting at
 * a customer message (never at a tool_result whose tool_use was left out).
 * Nothing is deleted: the full history stays in the database and the console.
 */
export function boundHistory(messages: MessageParam[], limits: { maxBytes: number; maxTextChars: number } = HISTORY_LIMITS, storedChars = Number.POSITIVE_INFINITY): MessageParam[] {
  // The common case, on every model call: the stored history is shorter than one text may be — nothing to cut, nothing to measure.
  if (storedChars <= limits.maxTextChars) return messages;
  const cut = messages.map((m) => ({
    role: m.role,
    content: (m.content as ContentBlock[]).map((b) =>
      b.type === 'text' && b.text.length > limits.maxTextChars ? { ...b, text: `${b.text.slice(0, limits.maxTextChars)} [… mensagem cortada]` } : b,
    ),
  })) as MessageParam[];
  const sizes = cut.map((m) => Buffer.byteLength(JSON.stringify(m)));
  let total = sizes.reduce((a, b) => a + b, 0);
  let start = 0;
  while (start < cut.length - 1 && total > limits.maxBytes) total -= sizes[start++] as number;
  const startsTurn = (m: MessageParam) => m.role === 'user' && !(m.content as ContentBlock[]).some((b) => b.type === 'tool_result');
  if (start === 0) return cut;
  let from = start;
  while (from < cut.length && !startsTurn(cut[from] as MessageParam)) from++;
  // No customer message to start from in what fits: start at the nearest one before it instead.
  if (from === cut.length) for (from = start; from > 0 && !startsTurn(cut[from] as MessageParam); ) from--;
  return cut.slice(from);
}

/** The model answered with text promising a person (pt-BR or English). */
const PROMISES_PERSON = /(uma pessoa da (nossa )?equipe|transferir (seu|o) atendimento|atendente humano|a person (from|on) our team|a human agent)/i;

/** Marks what staff wrote, so the model never mistakes it for the customer's words. */
export const STAFF_PREAMBLE =
  'System context, not written by the customer: what the store\'s team or the service itself sent to the customer (<staff_message>, <sent_to_customer>) or noted internally (<staff_note>) since the assistant last spoke, in time order between the customer\'s own messages.';

const isLabelled = (t: string) => /^<(staff_message|staff_note|sent_to_customer)\b/.test(t);

/** Staff messages, notes and automatic messages created after `since`, as labelled text blocks with their time. */
async function staffSince(store: Services['store'], conversationId: string, since: string): Promise<Array<{ at: string; blocks: ContentBlock[] }>> {
  const out: Array<{ at: string; blocks: ContentBlock[] }> = [];
  for (const m of await store.outbox.forConversation(conversationId)) {
    if (m.created_at <= since || m.source === 'agent') continue;
    const tag = m.source === 'staff' ? 'staff_message' : 'sent_to_customer';
    out.push({ at: m.created_at, blocks: [{ type: 'text', text: `<${tag}${m.source === 'staff' ? '' : ` source="${m.template ?? m.source}"`}>${m.text}</${tag}>` }] });
  }
  for (const n of await store.conversations.notes(conversationId)) {
    if (n.created_at <= since) continue;
    out.push({ at: n.created_at, blocks: [{ type: 'text', text: `<staff_note>${n.text}</staff_note>` }] });
  }
  return out;
}

/** Closes tool_use blocks left without a result (a turn stopped for staff), so the history stays valid for the API. */
async function closeOpenToolUses(store: Services['store'], conversationId: string, turnId: string, now: string): Promise<void> {
  const last = await store.turns.lastHistory(conversationId);
  if (last?.role !== 'assistant') return;
  const uses = (JSON.parse(last.content) as Anthropic.ContentBlock[]).filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
  if (uses.length === 0) return;
  const content = JSON.stringify({ refused: true, reason: 'conversation_with_staff', message: 'Not run: a person from the team took over the conversation.' });
  for (const u of uses) {
    if ((await store.turns.toolCall(conversationId, u.id))?.status === 'started') await store.turns.finishToolCall(conversationId, u.id, 'refused', 'conversation_with_staff', content, now);
  }
  await store.turns.appendHistory(conversationId, turnId, 'user', uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content, is_error: true })), now);
}

/** Stands in, in the model's history, for the answer a person gave before closing the conversation. */
export const CLOSED_BY_STAFF_MARKER = '[no reply from the assistant: a person from the team handled these messages and closed the conversation]';

/**
 * Staff closed the conversation: what the customer wrote while they held it
 * was answered by a person, so it enters the history as handled (with what
 * staff said) instead of waiting for the agent.
 */
export async function absorbHandledByStaff(services: Services, conversationId: string): Promise<void> {
  const { store } = services;
  const now = services.now().toISOString();
  await store.tx(async () => {
    const pending = await store.inbox.pending(conversationId);
    if (pending.length === 0) return;
    const since = (await store.turns.lastHistory(conversationId))?.created_at ?? '';
    const items = [
      ...pending.map((r) => ({ at: r.received_at, text: r.text ?? `[${mediaOf(r)?.kind ?? 'message'}]` })),
      ...(await staffSince(store, conversationId, since)).map((i) => ({ at: i.at, text: (i.blocks[0] as { text: string }).text })),
    ].sort((a, b) => a.at.localeCompare(b.at));
    await store.turns.appendHistory(conversationId, null, 'user', [{ type: 'text', text: STAFF_PREAMBLE }, ...items.map((i) => ({ type: 'text', text: i.text }))], now);
    await store.turns.appendHistory(conversationId, null, 'assistant', [{ type: 'text', text: CLOSED_BY_STAFF_MARKER }], now);
    await store.inbox.markProcessed(pending.map((r) => r.id), 'staff', now);
  });
}

/**
 * A person took the conversation: parked or running turns end, their resume
 * jobs are cancelled, and any tool call they left open is closed unrun.
 */
export async function stopTurnsForStaff(services: Services, conversationId: string, options: { includeRunning: boolean } = { includeRunning: true }): Promise<void> {
  const { store } = services;
  const now = services.now().toISOString();
  await store.tx(async () => {
    const open = await store.turns.unfinished(conversationId);
    // A running turn is left to stop itself (it re-reads the state before every step); only a parked one is closed here.
    if (open && (options.includeRunning || open.status === 'parked')) await closeOpenToolUses(store, conversationId, open.id, now);
    await store.turns.cancelForStaff(conversationId, now, options.includeRunning);
  });
}
