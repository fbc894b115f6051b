import type Anthropic from '@anthropic-ai/sdk';
import type { ModelClient } from '../../agent/model.ts';

/**
 * An in-process model for loop unit tests: each `messages.create` takes the
 * next canned response from a list — no HTTP, no policy. Beside it, the HTTP
 * emulator (sandbox/scripted-model) speaks the wire format for integration
 * tests. A call past the end of the script fails the turn loudly (the test
 * sees a parked turn and `script.exhausted`).
 */

/** What one model call does: answer with these blocks, throw, or run something first (then answer). */
export type ScriptedResponse =
  | { content: Anthropic.ContentBlock[] }
  | { error: unknown }
  | { before: (request: Anthropic.MessageCreateParamsNonStreaming) => void | Promise<void>; content: Anthropic.ContentBlock[] };

/** The model answers with text only (stop_reason end_turn). */
export function say(text: string): ScriptedResponse {
  return { content: [text_(text)] };
}

/** The model calls one tool, optionally with words beside it (stop_reason tool_use). */
export function callTool(name: string, input: Record<string, unknown>, options: { id?: string; text?: string } = {}): ScriptedResponse {
  return { content: [...(options.text ? [text_(options.text)] : []), toolUse(name, input, options.id)] };
}

/** The model call fails (after the SDK's own retries). */
export function fail(error: unknown = new Error('model overloaded')): ScriptedResponse {
  return { error };
}

let toolIds = 0;

export function toolUse(name: string, input: Record<string, unknown>, id = `toolu_scripted_${++toolIds}`): Anthropic.ToolUseBlock {
  return { type: 'tool_use', id, name, input } as Anthropic.ToolUseBlock;
}

function text_(text: string): Anthropic.TextBlock {
  return { type: 'text', text, citations: null } as Anthropic.TextBlock;
}

interface ScriptedModel extends ModelClient {
  /** Every request the loop sent, in order. */
  readonly requests: Anthropic.MessageCreateParamsNonStreaming[];
  /** Responses not used yet. */
  readonly remaining: number;
  /** A call came after the last scripted response. */
  readonly exhausted: boolean;
  /** Adds responses at the end of the script. */
  push(...responses: ScriptedResponse[]): void;
}

export function scriptedModel(responses: ScriptedResponse[] = []): ScriptedModel {
  const script = [...responses];
  const requests: Anthropic.MessageCreateParamsNonStreaming[] = [];
  let exhausted = false;
  let n = 0;
  const create = async (request: Anthropic.MessageCreateParamsNonStreaming): Promise<Anthropic.Message> => {
    requests.push(structuredClone(request));
    const next = script.shift();
    if (!next) {
      exhausted = true;
      throw new Error('scripted model: no response left in the script');
    }
    if ('error' in next) throw next.error;
    if ('before' in next) await next.before(request);
    const usesTool = next.content.some((b) => b.type === 'tool_use');
    return {
      id: `msg_scripted_${++n}`,
      type: 'message',
      role: 'assistant',
      model: String(request.model),
      content: next.content,
      stop_reason: usesTool ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    } as unknown as Anthropic.Message;
  };
  return {
    messages: { create } as unknown as ModelClient['messages'],
    requests,
    get remaining() {
      return script.length;
    },
    get exhausted() {
      return exhausted;
    },
    push(...more) {
      script.push(...more);
    },
  };
}
