import { ProviderError } from '../core/errors.ts';
import { findTool } from './registry.ts';
import type { ToolContext } from '../services/context.ts';
import type { ToolOutcome } from './tool.ts';

/** A `tool_result` block for the Messages API. */
export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

/** A provider was down: the call is to be run again later, not answered now. */
export interface TransientFailure {
  transient: true;
  attempts: number;
  provider: string;
}

/** After this many transient failures, the model is told and explains. */
export const MAX_TRANSIENT_ATTEMPTS = 4;

/**
 * Runs one `tool_use` block: fail closed on an unknown tool or input that does
 * not parse (invariant 10), record the call before it runs and its result
 * after, and turn refusals and provider failures into `is_error` results the
 * model can explain (invariant 5). A tool_use id already executed returns the
 * stored result instead of running again (a resumed turn never repeats a call).
 */
export async function executeToolUse(
  ctx: ToolContext,
  block: { id: string; name: string; input: unknown },
  /** Refuse this call without running it (recorded like any refusal). */
  refuse?: { reason: string; message: string },
): Promise<ToolResultBlock | TransientFailure> {
  const { store } = ctx.services;
  const now = () => ctx.services.now().toISOString();
  const previous = await store.turns.toolCall(ctx.conversation.id, block.id);
  if (previous?.status === 'done' && previous.result !== null) {
    return { type: 'tool_result', tool_use_id: block.id, content: previous.result, ...(previous.outcome === 'ok' ? {} : { is_error: true }) };
  }
  if (!previous) {
    await store.turns.startToolCall({
      tool_use_id: block.id,
      conversation_id: ctx.conversation.id,
      turn_id: ctx.turnId,
      name: block.name.slice(0, 100),
      input: safeJson(block.input),
      created_at: now(),
    });
  }
  const outcome = refuse ? ({ outcome: 'refused', ...refuse } as const) : await run(ctx, block);
  if ('transient' in outcome) {
    const attempts = await store.turns.failToolCallTransient(ctx.conversation.id, block.id, 'provider_unavailable');
    if (attempts < MAX_TRANSIENT_ATTEMPTS) return { transient: true, attempts, provider: outcome.provider };
    return await finish(ctx, block, { outcome: 'refused', reason: 'provider_unavailable', message: `The ${outcome.provider} service has been unavailable for a while; apologise and hand the customer off to staff.` });
  }
  return await finish(ctx, block, outcome);
}

async function finish(ctx: ToolContext, block: { id: string; name: string }, outcome: ToolOutcome): Promise<ToolResultBlock> {
  const { store } = ctx.services;
  const now = () => ctx.services.now().toISOString();
  const isError = outcome.outcome !== 'ok';
  const content = JSON.stringify(
    outcome.outcome === 'ok' ? outcome.result : { refused: true, reason: outcome.reason, message: outcome.message, ...(outcome.extra ?? {}) },
  );
  await store.turns.finishToolCall(ctx.conversation.id, block.id, outcome.outcome === 'ok' ? 'ok' : 'refused', outcome.outcome === 'ok' ? null : outcome.reason, content, now());
  // The name is the model's text: only a name we know leaves the process (live events, logs).
  const name = knownToolName(block.name);
  ctx.services.publish({ type: 'tool_call', conversationId: ctx.conversation.id, name, outcome: outcome.outcome });
  if (isError) ctx.logger.info({ tool: name, reason: (outcome as { reason: string }).reason }, 'tool refused');
  return { type: 'tool_result', tool_use_id: block.id, content, ...(isError ? { is_error: true } : {}) };
}

async function run(ctx: ToolContext, block: { name: string; input: unknown }): Promise<ToolOutcome | { transient: true; provider: string }> {
  const tool = findTool(block.name);
  if (!tool) return { outcome: 'refused', reason: 'unknown_tool', message: `There is no tool named "${block.name.slice(0, 100)}".` };
  const parsed = tool.input.safeParse(block.input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    return { outcome: 'refused', reason: 'invalid_input', message: `Input refused: ${issues}` };
  }
  try {
    return await tool.run(parsed.data, ctx);
  } catch (error) {
    if (error instanceof ProviderError) {
      ctx.logger.warn({ tool: knownToolName(block.name), provider: error.provider, failure: error.failure, status: error.status }, 'provider failed during tool call');
      if (error.retryable) return { transient: true, provider: error.provider };
      return { outcome: 'refused', reason: 'provider_unavailable', message: `The ${error.provider} service refused our credentials (${error.failure}); hand the customer off to staff.` };
    }
    ctx.logger.error({ err: error instanceof Error ? error.name : 'error', tool: knownToolName(block.name) }, 'tool crashed');
    return { outcome: 'refused', reason: 'internal_error', message: 'The tool failed unexpectedly; hand off to staff.' };
  }
}

/** A registered tool's name, or "unknown_tool". */
export function knownToolName(name: string): string {
  return findTool(name) ? name : 'unknown_tool';
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? null).slice(0, 20_000);
  } catch {
    return '"[unserialisable]"';
  }
}
