import type Anthropic from '@anthropic-ai/sdk';
import type { HandoffReason } from '../data/conversations.ts';
import type { InboxRow } from '../data/inbox.ts';
import type { HistoryRow } from '../data/turns.ts';
import { toolUsesOf } from './history.ts';

/**
 * What the agent loop does next, decided from what is stored (the newest
 * history row, the pending inbox, who holds the conversation) and from what
 * the previous step reported. Pure: no storage, no clock, no model. The loop
 * (agent/loop.ts) performs the step and asks again.
 */

/** Why a turn waits and is retried later by a `resume_turn` job. */
export type ParkReason =
  /** A provider (ERP, rail, fiscal) was down during a tool call. */
  | { kind: 'provider_down'; provider: string }
  /** The customer has used up their model calls for now: nobody is told. */
  | { kind: 'rate_limited'; waitMs: number }
  /** The model failed after the SDK's own retries. */
  | { kind: 'model_failed'; message: string; latencyMs: number };

/** How a turn ends after a hand off (null: the loop goes on and sees the conversation held by staff). */
export type HandoffEnd = { why: string; iterations: number; result: { status: 'failed'; error: string } | { status: 'done' } };

export type NextStep =
  /** The model asked for tools and their results are not stored yet. */
  | { kind: 'run_tools'; toolUses: Anthropic.ToolUseBlock[] }
  /** Messages that came in during the turn join it before the next model call. */
  | { kind: 'absorb'; rows: InboxRow[] }
  /** The history ends with the customer (or tool results): ask the model. */
  | { kind: 'call_model' }
  /** The model answered with no tool call: send its words and finish the turn. */
  | { kind: 'answer'; blocks: Anthropic.ContentBlock[] }
  /** Wait and retry the turn later. */
  | { kind: 'park'; reason: ParkReason; delayMs: number }
  /** A person must look: queue the conversation for staff and tell the customer ('infer': the reason is read from the turn). */
  | { kind: 'hand_off'; reason: HandoffReason | 'infer'; prefix: string | null; end: HandoffEnd | null; failedCall: { message: string; latencyMs: number } | null }
  /** A person holds the conversation: the turn stops without a word. */
  | { kind: 'done'; reason: 'taken_over' };

/** What the previous step reported, when it was more than "stored, go on". */
export type StepOutcome =
  | { kind: 'provider_down'; provider: string; attempts: number }
  | { kind: 'rate_limited'; waitMs: number }
  | { kind: 'model_failed'; message: string; latencyMs: number; failingForMs: number }
  | { kind: 'tools_refused'; reason: HandoffReason }
  | { kind: 'media_needs_person'; prefix: string };

/** The turn as stored, read before each step. */
export interface TurnView {
  /** The newest history row of the conversation. */
  last: Pick<HistoryRow, 'role' | 'content'> | undefined;
  /** Customer messages not yet in the history. */
  pending: InboxRow[];
  /** A person holds the conversation (waiting for staff or with staff). */
  held: boolean;
  /** Model calls made by this run of the turn. */
  calls: number;
  outcome: StepOutcome | null;
}

export interface StepLimits {
  maxIterations: number;
  retryDelayMs: number;
  /** How long the model may keep failing before the conversation goes to staff. */
  modelOutageHandoffMs: number;
}

export function nextStep(view: TurnView, limits: StepLimits): NextStep {
  const outcome = view.outcome;
  if (outcome) {
    switch (outcome.kind) {
      case 'provider_down':
        return { kind: 'park', reason: { kind: 'provider_down', provider: outcome.provider }, delayMs: limits.retryDelayMs * 2 ** (outcome.attempts - 1) };
      case 'rate_limited':
        return { kind: 'park', reason: { kind: 'rate_limited', waitMs: outcome.waitMs }, delayMs: outcome.waitMs };
      case 'model_failed':
        // Down for too long: a person takes over; retries go on for later turns.
        if (outcome.failingForMs >= limits.modelOutageHandoffMs) {
          return {
            kind: 'hand_off',
            reason: 'model_unavailable',
            prefix: null,
            end: { why: `model unavailable: ${outcome.message}`, iterations: 0, result: { status: 'failed', error: outcome.message } },
            failedCall: { message: outcome.message, latencyMs: outcome.latencyMs },
          };
        }
        return { kind: 'park', reason: { kind: 'model_failed', message: outcome.message, latencyMs: outcome.latencyMs }, delayMs: limits.retryDelayMs };
      case 'tools_refused':
        // A refusal that means "a person must look" queues the conversation for staff now.
        return { kind: 'hand_off', reason: outcome.reason, prefix: null, end: null, failedCall: null };
      case 'media_needs_person':
        // Media the agent cannot read (a voice note with no transcriber, a document…): acknowledged, and a person looks.
        return { kind: 'hand_off', reason: 'media_needs_person', prefix: outcome.prefix, end: { why: 'media needs a person', iterations: 0, result: { status: 'done' } }, failedCall: null };
      default:
        return unreachable(outcome);
    }
  }
  const { last, pending, held, calls } = view;
  if (last?.role === 'assistant') {
    const blocks = JSON.parse(last.content) as Anthropic.ContentBlock[];
    const toolUses = toolUsesOf(blocks);
    if (toolUses.length === 0) {
      // Messages that came in while the model was writing: answer them together, not one by one.
      // Held by staff now: the late messages stay pending, to be answered after the hand back.
      if (pending.length > 0 && calls < limits.maxIterations && !held) return { kind: 'absorb', rows: pending };
      return { kind: 'answer', blocks };
    }
    // Resume: the model asked for tools and the results were not all stored.
    if (held) return { kind: 'done', reason: 'taken_over' };
    return { kind: 'run_tools', toolUses };
  }
  // Too many round trips: stop spending, hand the customer to a person.
  if (calls >= limits.maxIterations) {
    return { kind: 'hand_off', reason: 'infer', prefix: null, end: { why: 'iteration cap', iterations: limits.maxIterations, result: { status: 'failed', error: 'iteration cap' } }, failedCall: null };
  }
  // Re-read before every model call: staff may have taken over (or the agent handed off) meanwhile.
  if (held) return { kind: 'done', reason: 'taken_over' };
  // Messages that arrived while this turn was running join it: one answer, not one per message.
  if (pending.length > 0) return { kind: 'absorb', rows: pending };
  return { kind: 'call_model' };
}

/** The message a parked turn records (the same words the error tags used to carry). */
export function parkMessage(reason: ParkReason): string {
  switch (reason.kind) {
    case 'provider_down':
      return `ProviderDown: ${reason.provider} unavailable`;
    case 'rate_limited':
      return `RateLimited: customer rate limit: wait ${reason.waitMs} ms`;
    case 'model_failed':
      return reason.message;
    default:
      return unreachable(reason);
  }
}

export function unreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
