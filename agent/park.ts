import { jobKeys, JobKinds, outboxKeys, scheduleJob } from '../core/keys.ts';
import { APIError } from '@anthropic-ai/sdk';
import type { Logger } from '../core/logger.ts';
import type { Conversation } from '../data/conversations.ts';
import type { Services } from '../services/context.ts';
import { templates } from '../prompts/templates.ts';
import { customerLang, heldByStaff } from '../conversations/state.ts';
import { parkMessage, type ParkReason } from './next-step.ts';

/**
 * Parking: a turn that cannot go on now (a provider down, the model failing,
 * the customer's model-call budget spent) is finished as `parked`, the
 * customer is told once, and a `resume_turn` job retries it later.
 */

export type ParkDeps = Pick<Services, 'store' | 'now' | 'wake'>;

/** What a model call failure is recorded as. */
export function modelErrorMessage(error: unknown): string {
  return error instanceof APIError ? `${error.status ?? 'no status'} ${error.name}` : error instanceof Error ? `${error.name}: ${error.message}` : 'error';
}

/** The failed model call, as stored (the console and the outage clock read it). */
export async function recordFailedModelCall(services: Pick<Services, 'store' | 'now'>, call: { conversationId: string; turnId: string; model: string; prefixHash: string; message: string; latencyMs: number }): Promise<void> {
  await services.store.turns.recordModelCall({
    conversation_id: call.conversationId, turn_id: call.turnId, model: call.model, request_id: null, message_id: null, stop_reason: null,
    input_tokens: null, output_tokens: null, cache_read_tokens: null, cache_creation_tokens: null, prefix_hash: call.prefixHash,
    latency_ms: call.latencyMs, error: call.message, created_at: services.now().toISOString(),
  });
}

/** How long this turn's model calls have been failing (since the first error after its last success), 0 when they have not. */
export async function failingForMs(services: Pick<Services, 'store' | 'now'>, conversationId: string, turnId: string): Promise<number> {
  const calls = (await services.store.turns.modelCalls(conversationId)).filter((c) => c.turn_id === turnId);
  let since: string | null = null;
  for (const c of calls) since = c.error ? (since ?? c.created_at) : null;
  const now = services.now().getTime();
  return now - (since ? Date.parse(since) : now);
}

/** Holds the turn: tells the customer once (unless only their budget is spent), and schedules the retry. */
export async function parkTurn(
  services: ParkDeps,
  conversation: Pick<Conversation, 'id' | 'chat_id'>,
  turnId: string,
  park: { reason: ParkReason; delayMs: number; model: string; prefixHash: string },
  log: Logger,
): Promise<{ status: 'parked'; turnId: string; retryInMs: number; error: string }> {
  const { store } = services;
  const { reason, delayMs } = park;
  const message = parkMessage(reason);
  await store.tx(async () => {
    if (reason.kind === 'model_failed') await recordFailedModelCall(services, { conversationId: conversation.id, turnId, model: park.model, prefixHash: park.prefixHash, message, latencyMs: reason.latencyMs });
    // Told once per outage (one holding message per turn, however often it is retried), never while a person holds the chat.
    if (reason.kind !== 'rate_limited' && !heldByStaff(await store.conversations.get(conversation.id))) {
      const holding = await customerLang(store, conversation.id) === 'en' ? templates.unavailable_en() : templates.unavailable();
      await store.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text: holding, source: 'system', dedupe_key: outboxKeys.holding(turnId), now: services.now().toISOString() });
    }
    await store.turns.finish(turnId, 'parked', 0, message, services.now().toISOString());
    const now = services.now();
    await scheduleJob(store, { kind: JobKinds.resumeTurn, payload: { conversationId: conversation.id, turnId } }, { key: jobKeys.resumeTurn(turnId, now.getTime()), runAt: new Date(now.getTime() + delayMs).toISOString(), now: now.toISOString() });
  });
  services.wake();
  log.warn({ turnId, error: message, retryInMs: delayMs }, 'turn parked');
  return { status: 'parked', turnId, retryInMs: delayMs, error: message };
}
