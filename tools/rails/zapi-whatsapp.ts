import { ProviderError } from '../../core/errors.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { SentMessage, WhatsAppClient } from './types.ts';

/**
 * Z-API send-text (PROVIDERS.md §1.2): POST
 * `/instances/{id}/token/{token}/send-text` with the account's `Client-Token`
 * header. The instance token is a path segment, so the URL is never logged.
 */
export const WHATSAPP_MAX_CHARS = 4096;

export function createZapiClient(options: { baseUrl: string; instanceId: string; instanceToken: string; clientToken: string; timeoutMs: number }): WhatsAppClient {
  const http = createHttp('zapi', { baseURL: options.baseUrl.replace(/\/$/, ''), timeoutMs: options.timeoutMs, headers: { 'client-token': options.clientToken } });
  const path = `/instances/${encodeURIComponent(options.instanceId)}/token/${encodeURIComponent(options.instanceToken)}/send-text`;
  return {
    async sendText(phone: string, message: string): Promise<SentMessage> {
      if (message.length > WHATSAPP_MAX_CHARS) throw new RangeError(`message of ${message.length} characters: split it first (max ${WHATSAPP_MAX_CHARS})`);
      const res = await http.post(path, { phone, message });
      const body = (res.data ?? {}) as { zaapId?: string; messageId?: string; id?: string; error?: string };
      if (res.status === 200 && typeof body.messageId === 'string') {
        return { messageId: body.messageId, zaapId: typeof body.zaapId === 'string' ? body.zaapId : body.messageId };
      }
      const error = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
      if (res.status === 400 && /client-token/i.test(error)) throw new ProviderError('zapi', 'unauthorized', error, { status: 400 });
      if (res.status === 200) throw new ProviderError('zapi', 'unavailable', 'send-text answered without a messageId', { status: 200 });
      throw failureForStatus('zapi', res.status, error);
    },
  };
}

/**
 * Splits a long reply into WhatsApp-sized parts, preferring paragraph, then
 * line, then word boundaries; never returns an empty part.
 */
export function splitMessage(text: string, max = WHATSAPP_MAX_CHARS): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max);
    const cut = [window.lastIndexOf('\n\n'), window.lastIndexOf('\n'), window.lastIndexOf(' ')].find((i) => i > max / 2) ?? max;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) parts.push(rest);
  return parts;
}
