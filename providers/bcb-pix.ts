import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import type { AxiosResponse } from 'axios';
import type { Env } from '../core/config.ts';
import { ProviderError } from '../core/errors.ts';
import { centsToDecimalString, reaisToCents } from '../core/money.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { PaymentQuery, PixPayment, PixRail, RailRefund, RailRefundStatus } from './types.ts';

/**
 * The Central Bank's API Pix (PROVIDERS.md §4) as PSPs implement it (Efí,
 * Inter, Sicoob, Itaú…): `PUT /v2/pix/{e2eid}/devolucao/{id}` where `{id}` is
 * our idempotency key and `valor` a two-decimal string. A duplicate id (Efí's
 * 409, or a 400 naming the id) is settled by reading that refund back.
 * OAuth2 client credentials over mTLS: PSPs require their client certificate
 * on every call, the token request included (`httpsAgent`, see `mtlsAgent`).
 */

type Json = Record<string, unknown>;

export interface BcbPixOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** Efí: `/oauth/token` (default); Inter: `/oauth/v2/token`. */
  tokenPath?: string;
  /**
   * `json_basic` (Efí: JSON `{grant_type}` + HTTP Basic, the default) or
   * `form_scope` (Inter: form-encoded client_id, client_secret, grant_type, scope).
   */
  tokenStyle?: 'json_basic' | 'form_scope';
  /** Scopes asked in a `form_scope` token request. */
  tokenScope?: string;
  /** Prefix of the API paths: `/v2` (Efí, default) or `/pix/v2` (Inter). */
  apiPrefix?: string;
  /** Carries the PSP's client certificate (mTLS). */
  httpsAgent?: HttpsAgent;
}

/** A PEM given as a file path, as PEM text, or as base64 of the PEM. */
export function readPem(value: string): Buffer {
  const text = value.trim();
  if (text.startsWith('-----BEGIN')) return Buffer.from(text.replace(/\\n/g, '\n'));
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text) || text.includes('/')) {
    // Not base64 (or looks like a path): a file.
    try {
      return readFileSync(text);
    } catch {
      // fall through: maybe base64 with a slash
    }
  }
  const decoded = Buffer.from(text, 'base64');
  if (!decoded.toString('utf8').includes('-----BEGIN')) throw new RangeError('not a PEM file path, PEM text or base64 PEM');
  return decoded;
}

/** The https agent that presents the PSP-issued client certificate (mTLS) on every call. */
export function mtlsAgent(tls: { cert: string; key: string; ca?: string; passphrase?: string }): HttpsAgent {
  return new HttpsAgent({
    cert: readPem(tls.cert),
    key: readPem(tls.key),
    ...(tls.ca ? { ca: readPem(tls.ca) } : {}),
    ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
    keepAlive: true,
    minVersion: 'TLSv1.2',
  });
}

const STATUS: Record<string, RailRefundStatus> = { EM_PROCESSAMENTO: 'created', DEVOLVIDO: 'settled', NAO_REALIZADO: 'failed' };
const TOKEN_MARGIN_MS = 60_000;

/** The rail's options from the environment (core/config.ts): credentials, mTLS certificate, token style. */
export function bcbPixOptions(env: Env, timeoutMs: number): BcbPixOptions {
  return {
    baseUrl: env.BCB_PIX_BASE_URL as string,
    clientId: env.BCB_PIX_CLIENT_ID as string,
    clientSecret: env.BCB_PIX_CLIENT_SECRET as string,
    timeoutMs,
    tokenStyle: env.BCB_PIX_TOKEN_STYLE,
    tokenScope: env.BCB_PIX_TOKEN_SCOPE,
    apiPrefix: env.BCB_PIX_API_PREFIX,
    ...(env.BCB_PIX_TOKEN_PATH ? { tokenPath: env.BCB_PIX_TOKEN_PATH } : {}),
    httpsAgent: mtlsAgent({
      cert: env.BCB_PIX_CERT as string,
      key: env.BCB_PIX_KEY as string,
      ...(env.BCB_PIX_CA ? { ca: env.BCB_PIX_CA } : {}),
      ...(env.BCB_PIX_KEY_PASSPHRASE ? { passphrase: env.BCB_PIX_KEY_PASSPHRASE } : {}),
    }),
  };
}

/** An API Pix `Devolucao` as a RailRefund: our key is its `id`, the rail's id its `rtrId`. */
export function parseDevolucao(raw: Json): RailRefund {
  const rtrId = str(raw.rtrId);
  return {
    ...(rtrId ? { railRefundId: rtrId, endToEndId: rtrId } : {}),
    amountCents: amount(raw.valor),
    status: STATUS[String(raw.status)] ?? 'created',
    ...(str(raw.id) ? { key: str(raw.id) } : {}),
    ...(str(raw.descricao) ? { description: str(raw.descricao) } : {}),
    ...(str(raw.motivo) ? { failureReason: str(raw.motivo) } : {}),
  };
}

export function createBcbPixRail(options: BcbPixOptions): PixRail {
  const http = createHttp('bcb', {
    baseURL: options.baseUrl.replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs,
    ...(options.httpsAgent ? { httpsAgent: options.httpsAgent } : {}),
  });
  const basic = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
  let token: { value: Promise<string>; until: number } | null = null;

  /** The cached access token, or a fresh one; concurrent callers share one token request. */
  function bearer(fresh: boolean): Promise<string> {
    if (!fresh && token && Date.now() < token.until) return token.value;
    const entry = { value: requestToken(), until: Number.POSITIVE_INFINITY };
    token = entry;
    entry.value.then(
      () => undefined,
      () => {
        if (token === entry) token = null;
      },
    );
    return entry.value;

    async function requestToken(): Promise<string> {
      const res =
        options.tokenStyle === 'form_scope'
          ? await http.post(
              options.tokenPath ?? '/oauth/v2/token',
              new URLSearchParams({ client_id: options.clientId, client_secret: options.clientSecret, grant_type: 'client_credentials', ...(options.tokenScope ? { scope: options.tokenScope } : {}) }).toString(),
              { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
            )
          : await http.post(options.tokenPath ?? '/oauth/token', { grant_type: 'client_credentials' }, { headers: { authorization: basic } });
      const body = isJson(res.data) ? res.data : {};
      if (res.status !== 200 && res.status !== 201) throw failureForStatus('bcb', res.status, `token request refused (HTTP ${res.status})`, str(body.error));
      if (typeof body.access_token !== 'string') throw new ProviderError('bcb', 'unavailable', 'token answer without access_token', { status: res.status });
      const expiresMs = (Number(body.expires_in) > 0 ? Number(body.expires_in) : 3600) * 1000;
      entry.until = Date.now() + expiresMs - TOKEN_MARGIN_MS;
      return body.access_token;
    }
  }

  /** One API call with the Bearer token; a 401 gets one retry with a fresh token. */
  async function api(method: 'get' | 'put', url: string, data?: unknown, params?: Record<string, string | number>): Promise<AxiosResponse> {
    let res = await http.request({ method, url, data, params, headers: { authorization: `Bearer ${await bearer(false)}` } });
    if (res.status === 401) res = await http.request({ method, url, data, params, headers: { authorization: `Bearer ${await bearer(true)}` } });
    return res;
  }

  const prefix = (options.apiPrefix ?? '/v2').replace(/\/+$/, '');
  const refundUrl = (e2e: string, key: string) => `${prefix}/pix/${encodeURIComponent(e2e)}/devolucao/${encodeURIComponent(key)}`;

  const toPayment = (pix: Json, fallbackE2e: string): PixPayment => {
    const paidAt = Date.parse(String(pix.horario));
    if (Number.isNaN(paidAt)) throw new ProviderError('bcb', 'unavailable', 'Pix without a readable horario');
    const e2e = str(pix.endToEndId) ?? fallbackE2e;
    const payer = isJson(pix.pagador) ? (str(pix.pagador.cpf) ?? str(pix.pagador.cnpj)) : undefined;
    return {
      documentId: e2e,
      endToEndId: e2e,
      amountCents: amount(pix.valor),
      paidAt: new Date(paidAt).toISOString(),
      // The spec types devolucoes as a list; one of its own examples sends a single object.
      refunds: (Array.isArray(pix.devolucoes) ? pix.devolucoes.filter(isJson) : isJson(pix.devolucoes) ? [pix.devolucoes] : []).map(parseDevolucao),
      ...(payer ? { payerTaxId: payer } : {}),
    };
  };

  async function getRefund(e2e: string, key: string): Promise<RailRefund | null> {
    const res = await api('get', refundUrl(e2e, key));
    if (res.status === 404) return null;
    if (res.status !== 200 || !isJson(res.data)) throw problem(res.status, res.data);
    return parseDevolucao(res.data);
  }

  return {
    name: 'bcb',
    enforcesIdempotencyKey: true,

    async findPayment(endToEndId) {
      const res = await api('get', `${prefix}/pix/${encodeURIComponent(endToEndId)}`);
      if (res.status === 404) return null;
      if (res.status !== 200 || !isJson(res.data)) throw problem(res.status, res.data);
      return toPayment(res.data, endToEndId);
    },

    async findPaymentByTxid(txid, from, to) {
      const res = await api('get', `${prefix}/pix`, undefined, { inicio: from, fim: to, txid });
      if (res.status !== 200 || !isJson(res.data)) throw problem(res.status, res.data);
      const rows = Array.isArray(res.data.pix) ? res.data.pix.filter(isJson) : [];
      return rows.filter((p) => p.txid === txid && str(p.endToEndId)).map((p) => toPayment(p, ''));
    },

    /** `GET /pix?inicio&fim&cpf|cnpj` (received Pix, filtered by payer), every page, same amount only. */
    async findPayments(query: PaymentQuery) {
      const taxFilter: Record<string, string> = query.payerTaxId ? { [query.payerTaxId.length === 11 ? 'cpf' : 'cnpj']: query.payerTaxId } : {};
      const out: PixPayment[] = [];
      for (let page = 0; page < 100; page++) {
        const res = await api('get', `${prefix}/pix`, undefined, { inicio: query.from, fim: query.to, ...taxFilter, 'paginacao.paginaAtual': page, 'paginacao.itensPorPagina': 100 });
        if (res.status !== 200 || !isJson(res.data)) throw problem(res.status, res.data);
        const rows = Array.isArray(res.data.pix) ? res.data.pix.filter(isJson) : [];
        for (const pix of rows) {
          if (!str(pix.endToEndId)) continue;
          const payment = toPayment(pix, '');
          if (payment.amountCents !== query.amountCents) continue;
          // The filter did the payer check on the PSP's side; keep what we asked for.
          out.push(query.payerTaxId ? { ...payment, payerTaxId: query.payerTaxId } : payment);
        }
        const params = isJson(res.data.parametros) && isJson(res.data.parametros.paginacao) ? res.data.parametros.paginacao : {};
        const pages = Number(params.quantidadeDePaginas ?? 1);
        if (!(page + 1 < pages)) return out;
      }
      throw new ProviderError('bcb', 'unavailable', 'received Pix list longer than 100 pages');
    },

    async refund({ payment, amountCents, key, description }) {
      const body = { valor: centsToDecimalString(amountCents), natureza: 'ORIGINAL', descricao: clip(description, 140) };
      const res = await api('put', refundUrl(payment.endToEndId, key), body);
      if ((res.status === 201 || res.status === 200) && isJson(res.data)) return parseDevolucao(res.data);
      if (!isDuplicateId(res.status, res.data)) throw problem(res.status, res.data);
      // The id is taken: what the PSP holds under it decides, never a second refund.
      const existing = await getRefund(payment.endToEndId, key);
      if (!existing) throw new ProviderError('bcb', 'unavailable', `refund id ${key} reported as used but not found`, { status: res.status });
      if (existing.amountCents !== amountCents) {
        throw new ProviderError('bcb', 'rejected', `refund id ${key} already holds another amount`, { status: res.status, code: 'duplicate_key_mismatch' });
      }
      return existing;
    },

    findRefund(payment, key) {
      return getRefund(payment.endToEndId, key);
    },
  };
}

/** RFC 7807 problem (`type` ends in e.g. PixDevolucaoInvalida) or Efí's `{nome, mensagem}`. */
function problem(status: number, body: unknown): ProviderError {
  const b = isJson(body) ? body : {};
  const code = str(b.type)?.split('/').filter(Boolean).at(-1) ?? str(b.nome);
  const message = str(b.detail) ?? str(b.mensagem) ?? str(b.title) ?? `HTTP ${status}`;
  // A 200 we cannot read is the PSP's fault, not a refusal.
  return failureForStatus('bcb', status < 300 ? 502 : status, message, code);
}

/** Efí's 409 `devolucao_id_duplicado`, or the spec's 400 whose violation says the id is already used. */
function isDuplicateId(status: number, body: unknown): boolean {
  const b = isJson(body) ? body : {};
  if (status === 409 || b.nome === 'devolucao_id_duplicado') return true;
  if (status !== 400 || !Array.isArray(b.violacoes)) return false;
  return b.violacoes.filter(isJson).some((v) => {
    const reason = String(v.razao ?? '');
    return (v.propriedade === 'id' || /\bid\b/i.test(reason)) && /utilizad|usad|duplicad|existe/i.test(reason);
  });
}

/** API Pix `valor`: "186.00". */
function amount(value: unknown): number {
  try {
    return reaisToCents(String(value));
  } catch {
    throw new ProviderError('bcb', 'unavailable', `unreadable valor ${JSON.stringify(value)}`);
  }
}

/** At most `max` UTF-16 units, never half of a surrogate pair. */
function clip(text: string, max: number): string {
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
