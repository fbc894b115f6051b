import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { boundHistory } from '../../../agent/history.ts';

describe('a model call stays bounded however long the chat grew', () => {
  it('an 11 MB history is cut to the limit, starting at a customer message, never at an orphan tool_result', () => {
    const big = 'x'.repeat(500_000);
    const messages: Anthropic.MessageParam[] = [];
    for (let i = 0; i < 11; i++) {
      messages.push({ role: 'user', content: [{ type: 'text', text: `${i} ${big}` }, { type: 'text', text: big }] });
      messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `t${i}`, name: 'ledger_lookup', input: { order_id: '8421' } }] });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: '{}' }] });
      messages.push({ role: 'assistant', content: [{ type: 'text', text: 'ok' }] });
    }
    messages.push({ role: 'user', content: [{ type: 'text', text: 'e agora?' }] });
    expect(Buffer.byteLength(JSON.stringify(messages))).toBeGreaterThan(11_000_000);
    const bounded = boundHistory(messages);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(400_000);
    expect(bounded[0]!.role).toBe('user');
    expect((bounded[0]!.content as Anthropic.ContentBlockParam[]).some((b) => b.type === 'tool_result')).toBe(false);
    expect(bounded.at(-1)).toEqual(messages.at(-1));
  });

  it('a short history passes unchanged', () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'oi' }] }];
    expect(boundHistory(messages)).toEqual(messages);
  });
});
