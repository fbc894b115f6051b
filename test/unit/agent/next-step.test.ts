import { describe, expect, it } from 'vitest';
import type { InboxRow } from '../../../data/inbox.ts';
import { nextStep, parkMessage, type NextStep, type StepLimits, type TurnView } from '../../../agent/next-step.ts';

/** The loop's decision, alone: from the stored turn and the last step's report to the next step. */
const LIMITS: StepLimits = { maxIterations: 3, retryDelayMs: 1_000, modelOutageHandoffMs: 120_000 };

const customer = { role: 'user' as const, content: JSON.stringify([{ type: 'text', text: 'quero estornar o pedido 8421' }]) };
const toolCall = { role: 'assistant' as const, content: JSON.stringify([{ type: 'text', text: 'Vou verificar.' }, { type: 'tool_use', id: 'toolu_1', name: 'ledger_lookup', input: { order_id: '8421' } }]) };
const answer = { role: 'assistant' as const, content: JSON.stringify([{ type: 'text', text: 'Pronto!' }]) };
const late = [{ id: 7, text: 'e o outro pedido?' }] as InboxRow[];

function view(over: Partial<TurnView>): TurnView {
  return { last: customer, pending: [], held: false, calls: 0, outcome: null, ...over };
}

describe('nextStep', () => {
  it('calls the model when the history ends with the customer', () => {
    expect(nextStep(view({}), LIMITS)).toEqual({ kind: 'call_model' });
  });

  it('runs the tools an assistant row asks for, in its order', () => {
    const step = nextStep(view({ last: toolCall, calls: 1 }), LIMITS);
    expect(step.kind).toBe('run_tools');
    expect(step.kind === 'run_tools' && step.toolUses.map((t) => [t.id, t.name])).toEqual([['toolu_1', 'ledger_lookup']]);
  });

  it('answers when the model wrote words and no tool call', () => {
    const step = nextStep(view({ last: answer, calls: 1 }), LIMITS);
    expect(step).toEqual({ kind: 'answer', blocks: [{ type: 'text', text: 'Pronto!' }] });
  });

  it('absorbs messages that arrived during the turn, before a model call and after an answer', () => {
    expect(nextStep(view({ pending: late }), LIMITS)).toEqual({ kind: 'absorb', rows: late });
    expect(nextStep(view({ last: answer, pending: late, calls: 1 }), LIMITS)).toEqual({ kind: 'absorb', rows: late });
  });

  it('answers instead of absorbing when the turn is out of model calls, or a person holds the chat', () => {
    expect(nextStep(view({ last: answer, pending: late, calls: 3 }), LIMITS).kind).toBe('answer');
    expect(nextStep(view({ last: answer, pending: late, held: true }), LIMITS).kind).toBe('answer');
  });

  it('is done (taken over) when a person holds the chat before tools or a model call', () => {
    expect(nextStep(view({ held: true }), LIMITS)).toEqual({ kind: 'done', reason: 'taken_over' });
    expect(nextStep(view({ last: toolCall, held: true }), LIMITS)).toEqual({ kind: 'done', reason: 'taken_over' });
  });

  it('hands off at the iteration cap, the reason read from the turn, and ends the turn as failed', () => {
    expect(nextStep(view({ calls: 3 }), LIMITS)).toEqual({
      kind: 'hand_off',
      reason: 'infer',
      prefix: null,
      end: { why: 'iteration cap', iterations: 3, result: { status: 'failed', error: 'iteration cap' } },
      failedCall: null,
    });
  });

  it('parks when a provider was down, backing off per attempt', () => {
    expect(nextStep(view({ outcome: { kind: 'provider_down', provider: 'omie', attempts: 1 } }), LIMITS)).toEqual({ kind: 'park', reason: { kind: 'provider_down', provider: 'omie' }, delayMs: 1_000 });
    expect(nextStep(view({ outcome: { kind: 'provider_down', provider: 'omie', attempts: 3 } }), LIMITS)).toMatchObject({ kind: 'park', delayMs: 4_000 });
  });

  it('parks for as long as the customer must wait when their model-call budget is spent', () => {
    expect(nextStep(view({ outcome: { kind: 'rate_limited', waitMs: 4_321 } }), LIMITS)).toEqual({ kind: 'park', reason: { kind: 'rate_limited', waitMs: 4_321 }, delayMs: 4_321 });
  });

  it('parks a model failure, and hands off once the model has been failing for the outage limit', () => {
    const failed = (failingForMs: number) => view({ outcome: { kind: 'model_failed', message: '529 OverloadedError', latencyMs: 12, failingForMs } });
    expect(nextStep(failed(119_999), LIMITS)).toEqual({ kind: 'park', reason: { kind: 'model_failed', message: '529 OverloadedError', latencyMs: 12 }, delayMs: 1_000 });
    expect(nextStep(failed(120_000), LIMITS)).toEqual({
      kind: 'hand_off',
      reason: 'model_unavailable',
      prefix: null,
      end: { why: 'model unavailable: 529 OverloadedError', iterations: 0, result: { status: 'failed', error: '529 OverloadedError' } },
      failedCall: { message: '529 OverloadedError', latencyMs: 12 },
    });
  });

  it('hands off without ending the turn after a refusal a person must see (the loop then finds the chat held)', () => {
    expect(nextStep(view({ last: customer, outcome: { kind: 'tools_refused', reason: 'card_payment' } }), LIMITS)).toEqual({ kind: 'hand_off', reason: 'card_payment', prefix: null, end: null, failedCall: null });
  });

  it('hands off media the agent cannot read, ending the turn as done', () => {
    expect(nextStep(view({ outcome: { kind: 'media_needs_person', prefix: 'Recebi seu áudio.' } }), LIMITS)).toEqual({
      kind: 'hand_off',
      reason: 'media_needs_person',
      prefix: 'Recebi seu áudio.',
      end: { why: 'media needs a person', iterations: 0, result: { status: 'done' } },
      failedCall: null,
    });
  });

  it('a reported outcome wins over the stored history', () => {
    expect(nextStep(view({ last: answer, pending: late, outcome: { kind: 'rate_limited', waitMs: 5 } }), LIMITS).kind).toBe('park');
  });

  it('records the same park messages the error tags carried', () => {
    expect(parkMessage({ kind: 'provider_down', provider: 'trio' })).toBe('ProviderDown: trio unavailable');
    expect(parkMessage({ kind: 'rate_limited', waitMs: 10 })).toBe('RateLimited: customer rate limit: wait 10 ms');
    expect(parkMessage({ kind: 'model_failed', message: 'Error: boom', latencyMs: 1 })).toBe('Error: boom');
  });

  it('the union is closed: a switch over every kind needs no default', () => {
    const label = (step: NextStep): string => {
      switch (step.kind) {
        case 'run_tools':
        case 'absorb':
        case 'call_model':
        case 'answer':
        case 'park':
        case 'hand_off':
        case 'done':
          return step.kind;
      }
    };
    expect(label(nextStep(view({}), LIMITS))).toBe('call_model');
  });
});
