import type Anthropic from '@anthropic-ai/sdk';
import type { Services } from '../services/context.ts';
import { toolUsesOf } from './history.ts';

/**
 * A turn that stops without a model answer: a person took the conversation,
 * the turn hit a limit, or it goes to staff. Any tool call left open is
 * closed unrun so the history stays valid for the API.
 */

/** Closes tool_use blocks left without a result (a turn stopped for staff), so the history stays valid for the API. */
export async function closeOpenToolUses(store: Services['store'], conversationId: string, turnId: string, now: string): Promise<void> {
  const last = await store.turns.lastHistory(conversationId);
  if (last?.role !== 'assistant') return;
  const uses = toolUsesOf(JSON.parse(last.content) as Anthropic.ContentBlock[]);
  if (uses.length === 0) return;
  const content = JSON.stringify({ refused: true, reason: 'conversation_with_staff', message: 'Not run: a person from the team took over the conversation.' });
  for (const u of uses) {
    if ((await store.turns.toolCall(conversationId, u.id))?.status === 'started') await store.turns.finishToolCall(conversationId, u.id, 'refused', 'conversation_with_staff', content, now);
  }
  await store.turns.appendHistory(conversationId, turnId, 'user', uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content, is_error: true })), now);
}

/**
 * A person took the conversation: parked or running turns end, their resume
 * jobs are cancelled, and any tool call they left open is closed unrun.
 */
export async function stopTurnsForStaff(services: Pick<Services, 'store' | 'now'>, conversationId: string, options: { includeRunning: boolean } = { includeRunning: true }): Promise<void> {
  const { store } = services;
  const now = services.now().toISOString();
  await store.tx(async () => {
    const open = await store.turns.unfinished(conversationId);
    // A running turn is left to stop itself (it re-reads the state before every step); only a parked one is closed here.
    if (open && (options.includeRunning || open.status === 'parked')) await closeOpenToolUses(store, conversationId, open.id, now);
    await store.turns.cancelForStaff(conversationId, now, options.includeRunning);
  });
}

/** The turn stops here without a model answer: any tool_use left open is closed, and the history shows where it stopped. */
export async function endSilently(services: Pick<Services, 'store' | 'now' | 'wake'>, conversationId: string, turnId: string, why: string, iterations = 0): Promise<void> {
  const { store } = services;
  await store.tx(async () => {
    await closeOpenToolUses(store, conversationId, turnId, services.now().toISOString());
    await store.turns.finish(turnId, 'failed', iterations, why, services.now().toISOString());
  });
  services.wake();
}
