import type Anthropic from '@anthropic-ai/sdk';
import type { HistoryRow } from '../data/turns.ts';

/**
 * The stored history as the model sees it: rows become Messages API messages,
 * and one call is bounded however long the chat grew. Nothing here reads or
 * writes storage.
 */

type MessageParam = Anthropic.MessageParam;
type ContentBlock = Anthropic.ContentBlockParam;

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

/** The tool calls an assistant row asks for (none: it is an answer). */
export function toolUsesOf(blocks: Anthropic.ContentBlock[]): Anthropic.ToolUseBlock[] {
  return blocks.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
}

/** The text an assistant row says, joined and trimmed. */
export function textOf(blocks: ReadonlyArray<Anthropic.ContentBlock | Anthropic.ContentBlockParam>): string {
  return blocks
    .filter((b): b is Anthropic.TextBlock => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}
