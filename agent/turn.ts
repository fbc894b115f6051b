import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { Conversation } from '../data/conversations.ts';
import type { InboxRow } from '../data/inbox.ts';
import type { Services } from '../services/context.ts';
import { handOff, heldByStaff, transition } from '../conversations/state.ts';
import type { ModelClient } from './model.ts';
import { identifyChat } from './identify.ts';
import type { AgentSettings, TurnResult } from './settings.ts';
import { PrefixCache } from './prefix.ts';
import { absorbInTx, prepareMedia } from './absorb.ts';
import { customerContext, needsContext } from './context.ts';
import { stopTurnsForStaff } from './stop.ts';
import type { StepOutcome } from './next-step.ts';
import { runLoop } from './loop.ts';

/**
 * The agent's public entry: one turn for one conversation. The customer's
 * pending messages become one user message, then the tool-calling loop
 * (agent/loop.ts, deciding each step in agent/next-step.ts) runs on the full
 * stored history until the model answers (DESIGN "The path of one message").
 * Every step is committed as it happens, so a turn cut short by a crash
 * resumes where it stopped and no tool call runs twice.
 */

// The agent's public surface, for callers that need no more than this file.
export type { AgentSettings, TurnResult } from './settings.ts';

export class Agent {
  /** Set to limit model calls per customer (see modelCallBudget). */
  rateLimiter: ((conversationId: string) => number | Promise<number>) | null = null;
  private readonly prefixes = new PrefixCache();
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
    let first: StepOutcome | null = null;
    if (resumable) {
      turnId = resumable;
      await store.turns.reopen(turnId);
      // New messages join inside the loop, after any tool results still owed: the API
      // refuses customer text between a tool_use and its tool_result.
    } else {
      if (!this.identified(conversation)) return this.identify(conversation, pending, log);
      turnId = newId('turn');
      const recentOrders = this.settings.recentOrders;
      const context = recentOrders && (await needsContext(store, conversation)) ? await customerContext(recentOrders, conversation, log) : null;
      const media = await prepareMedia(pending, this.settings.transcriber ?? null, log);
      await store.tx(async () => {
        await store.turns.start(turnId, conversationId, this.nowIso());
        await absorbInTx(this.services, conversation, turnId, await store.inbox.pending(conversationId), context, media.blocks);
      });
      // Media the agent cannot read (a voice note with no transcriber, a document…): the loop's first step hands off.
      if (media.needsPerson) first = { kind: 'media_needs_person', prefix: media.needsPerson };
    }
    return this.loop(await store.conversations.get(conversationId) as Conversation, turnId, log, first);
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
      await absorbInTx(this.services, conversation, null, pending);
      for (const r of replies) await store.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text: r.text, source: 'system', dedupe_key: r.key, now: this.nowIso() });
      // Absorbed and queued together: a crash never leaves the messages taken with nobody queued.
      if (!result.bound && result.handoff) await handOff(this.services, conversation.id, result.handoff.reason, result.handoff.prefix);
    });
    this.services.wake();
    if (!result.bound) return { status: 'idle' };
    // Identified: the complaint that came before the code is already in the history; answer it now.
    const turnId = newId('turn');
    await store.turns.start(turnId, conversation.id, this.nowIso());
    return this.loop(await store.conversations.get(conversation.id) as Conversation, turnId, log);
  }

  private async loop(conversation: Conversation, turnId: string, log: Logger, first: StepOutcome | null = null): Promise<TurnResult> {
    const prefix = this.prefixes.get(await this.settings.systemPrompt());
    return runLoop({ services: this.services, model: this.model, settings: this.settings, rateLimiter: () => this.rateLimiter }, conversation, turnId, prefix, log, first);
  }

  private nowIso(): string {
    return this.services.now().toISOString();
  }
}
