import { ProviderError } from '../core/errors.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { SentMessage, WhatsAppClient } from './types.ts';

/**
 * Z-API send-text (PROVIDERS.md §1.2): POST
 * `/instances/{id}/token/{token}/send-text` with the account's `Client-Token`
 * header. The instance token is a path segment, so the URL is a secret: it is
 * never logged nor put into an error message.
 */

export interface ZapiOptions {
  /** Default `https://api.z-api.io`. */
  baseUrl?: string;
  instanceId: string;
  instanceToken: string;
  clientToken: string;
  timeoutMs: number;
}

/** The longest text sent as one message (WhatsApp Cloud API's cap; Z-API documents none). */
export const WHATSAPP_MAX_CHARS = 4096;

export function createZapiClient(options: ZapiOptions): WhatsAppClient {
  const http = createHttp('zapi', {
    baseURL: (options.baseUrl ?? 'https://api.z-api.io').replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs,
    headers: { 'client-token': options.clientToken },
  });
  const path = `/instances/${encodeURIComponent(options.instanceId)}/token/${encodeURIComponent(options.instanceToken)}/send-text`;

  return {
    async sendText(phone, message) {
      if (message.length === 0) throw new RangeError('empty message');
      if (message.length > WHATSAPP_MAX_CHARS) throw new RangeError(`message of ${message.length} characters; split it first (max ${WHATSAPP_MAX_CHARS})`);
      const res = await http.post(path, { phone, message });
      const body = typeof res.data === 'object' && res.data !== null ? (res.data as Record<string, unknown>) : {};
      const messageId = typeof body.messageId === 'string' && body.messageId ? body.messageId : typeof body.id === 'string' && body.id ? body.id : undefined;
      if (res.status === 200 && messageId) return { messageId, zaapId: typeof body.zaapId === 'string' ? body.zaapId : messageId } satisfies SentMessage;
      if (res.status === 200) throw new ProviderError('zapi', 'unavailable', 'send-text answered without a messageId', { status: 200 });
      const error = typeof body.error === 'string' ? body.error.slice(0, 200) : `HTTP ${res.status}`;
      // Z-API answers a missing or wrong account token with 400 "your client-token is not configured".
      if (res.status === 400 && /client-token/i.test(error)) throw new ProviderError('zapi', 'unauthorized', error, { status: 400 });
      throw failureForStatus('zapi', res.status, error);
    },
  };
}

/**
 * Splits a reply into parts of at most `max` characters, cutting at a
 * paragraph break, else a line break, else a space; mid-word only for a word
 * longer than `max`. Separators at a cut are dropped; no part is empty.
 */
export function splitMessage(text: string, max = WHATSAPP_MAX_CHARS): string[] {
  if (!Number.isInteger(max) || max < 2) throw new RangeError(`max must be an integer ≥ 2, got ${max}`);
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const cut = cutPoint(rest, max);
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}

/** Where to cut `text` (longer than `max`, no leading whitespace) so the first part is ≤ max. */
function cutPoint(text: string, max: number): number {
  const at = (separator: string) => text.lastIndexOf(separator, max);
  const paragraph = at('\n\n');
  const line = at('\n');
  const space = Math.max(at(' '), at('\t'));
  // In the second half, the strongest kind of break wins; earlier, the latest break; any break beats cutting a word.
  const best = [paragraph, line, space].find((i) => i >= max / 2) ?? Math.max(paragraph, line, space);
  if (best > 0) return best;
  // One word longer than max: cut it, but not between the halves of a surrogate pair.
  return /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
}
