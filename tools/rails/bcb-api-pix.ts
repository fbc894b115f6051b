import type { Agent as HttpsAgent } from 'node:https';
import { ProviderError } from '../../core/errors.ts';
import { centsToDecimalString, reaisToCents } from '../../core/money.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { PixRail, RailRefund, RailRefundStatus } from './types.ts';

/**
 * The Central Bank's API Pix (PROVIDERS.md §4), as PSPs (Efí, Inter, Sicoob,
 * Itaú…) implement it: `PUT /v2/pix/{e2eid}/devolucao/{id}` with a
 * client-generated `{id}` (our idempotency key) and `valor` as a two-decimal
 * string. A duplicate id (Efí 409, or a 400 naming the id) is resolved by a
 * GET of that refund. OAuth2 client credentials; mTLS through `httpsAgent`.
 */

type Json = Record<string, unknown>;

const STATUS: Record<string, RailRefundStatus> = { EM_PROCESSAMENTO: 'created', DEVOLVIDO: 'settled', NAO_REALIZADO: 'failed' };

function toRefund(raw: Json): RailRefund {
  return {
    ...(typeof raw.rtrId === 'string' ? { railRefundId: raw.rtrId, endToEndId: raw.rtrId } : {}),
    amountCents: reaisToCents(String(raw.valor ?? '')),
    status: STATUS[String(raw.status)] ?? 'created',
    ...(typeof raw.id === 'string' ? { key: raw.id } : {}),
    ...(typeof raw.descricao === 'string' ? { description: raw.descricao } : {}),
    ...(typeof raw.motivo === 'string' ? { failureReason: raw.motivo } : {}),
  };
}

function problem(status: number, body: unknown): ProviderError {
  const b = (body ?? {}) as Json;
  const code = typeof b.type === 'string' ? b.type.split('/').at(-1) : typeof b.nome === 'string' ? b.nome : undefined;
  const detail = String(b.detail ?? b.mensagem ?? b.title ?? `HTTP ${status}`);
  return failureForStatus('bcb', status, detail, code);
}

function isDuplicateId(status: number, body: unknown): boolean {
  const b = (body ?? {}) as Json;
  if (status === 409) return true;
  if (status !== 400) return false;
  const violations = Array.isArray(b.violacoes) ? (b.violacoes as Json[]) : [];
  return violations.some((v) => v.propriedade === 'id' || /\bid\b.*(utilizado|usado|duplicad)/i.test(String(v.razao ?? '')));
}

export function createBcbPixRail(options: { baseUrl: string; clientId: string; clientSecret: string; timeoutMs: number; tokenPath?: string; httpsAgent?: HttpsAgent }): PixRail {
  const http = createHttp('bcb', { baseURL: options.baseUrl.replace(/\/$/, ''), timeoutMs: options.timeoutMs, ...(options.httpsAgent ? { httpsAgent: options.httpsAgent } : {}) });
  const basic = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
  let token: { value: string; until: number } | null = null;

  async function bearer(fresh = false): Promise<string> {
    if (!fresh && token && Date.now() < token.until) return token.value;
    const res = await http.post(options.tokenPath ?? '/oauth/token', { grant_type: 'client_credentials' }, { headers: { authorization: basic } });
    const body = (res.data ?? {}) as Json;
    if (res.status !== 200 || typeof body.access_token !== 'string') throw failureForStatus('bcb', res.status === 200 ? 502 : res.status, 'token request failed');
    token = { value: body.access_token, until: Date.now() + (Number(body.expires_in ?? 3600) - 60) * 1000 };
    return token.value;
  }

  async function request(method: 'get' | 'put', url: string, data?: unknown) {
    for (let attempt = 0; ; attempt++) {
      const res = await http.request({ method, url, data, headers: { authorization: `Bearer ${await bearer(attempt > 0)}` } });
      if (res.status === 401 && attempt === 0) continue;
      return res;
    }
  }

  async function getRefund(e2e: string, key: string): Promise<RailRefund | null> {
    const res = await request('get', `/v2/pix/${encodeURIComponent(e2e)}/devolucao/${encodeURIComponent(key)}`);
    if (res.status === 404) return null;
    if (res.status !== 200) throw problem(res.status, res.data);
    return toRefund(res.data as Json);
  }

  return {
    name: 'bcb',
    async findPayment(endToEndId) {
      const res = await request('get', `/v2/pix/${encodeURIComponent(endToEndId)}`);
      if (res.status === 404) return null;
      if (res.status !== 200) throw problem(res.status, res.data);
      const pix = res.data as Json;
      const horario = pix.horario;
      return {
        documentId: endToEndId,
        endToEndId,
        amountCents: reaisToCents(String(pix.valor ?? '')),
        paidAt: typeof horario === 'string' ? new Date(horario).toISOString() : new Date().toISOString(),
        refunds: ((pix.devolucoes ?? []) as Json[]).map(toRefund),
      };
    },
    async refund({ payment, amountCents, key, description }) {
      const url = `/v2/pix/${encodeURIComponent(payment.endToEndId)}/devolucao/${encodeURIComponent(key)}`;
      const res = await request('put', url, { valor: centsToDecimalString(amountCents), natureza: 'ORIGINAL', descricao: description.slice(0, 140) });
      if (res.status === 201 || res.status === 200) return toRefund(res.data as Json);
      if (isDuplicateId(res.status, res.data)) {
        // The id was used: learn what the rail holds under it instead of guessing.
        const existing = await getRefund(payment.endToEndId, key);
        if (existing && existing.amountCents === amountCents) return existing;
        throw new ProviderError('bcb', 'rejected', `refund id ${key} already used with another amount`, { status: res.status, code: 'duplicate_key_mismatch' });
      }
      throw problem(res.status, res.data);
    },
    findRefund(payment, key) {
      return getRefund(payment.endToEndId, key);
    },
  };
}
