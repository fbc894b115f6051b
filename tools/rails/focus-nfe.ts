import { centsToDecimalString } from '../../core/money.ts';
import { ProviderError } from '../../core/errors.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { CreditNote, CreditNoteRequest, CreditNoteStatus, FiscalClient } from './types.ts';

/**
 * Focus NFe (PROVIDERS.md §5.2): the NF-e de devolução — an entrada
 * (`tipo_documento` 0) with `finalidade_emissao` 4 and CFOP 1202, referencing
 * the sale's access key — created under our `ref` (Focus's idempotency key)
 * and polled until SEFAZ decides. HTTP Basic with the token as user name.
 */

type Json = Record<string, unknown>;

export interface FocusNfeOptions {
  baseUrl: string;
  token: string;
  /** The merchant's CNPJ, the issuer (`cnpj_emitente`). */
  cnpj: string;
  timeoutMs: number;
  pollIntervalMs?: number;
  pollAttempts?: number;
}

const STATUS: Record<string, CreditNoteStatus> = {
  processando_autorizacao: 'processing',
  autorizado: 'authorized',
  erro_autorizacao: 'rejected',
  denegado: 'denied',
  // A cancelled note is final and its ref cannot issue another: as good as denied.
  cancelado: 'denied',
};

/** The POST /v2/nfe body of the devolução. Partial refunds become one item of the refunded value. */
export function creditNoteBody(request: CreditNoteRequest, cnpjEmitente: string, now = new Date()): Json {
  const { order, customer, amountCents, reason } = request;
  const itemsSum = order.items.reduce((sum, item) => sum + item.totalCents, 0);
  const whole = amountCents === order.totalCents && itemsSum === amountCents && order.items.length > 0;
  const label = amountCents < order.totalCents ? `Devolução parcial pedido ${order.orderNumber}` : `Devolução pedido ${order.orderNumber}`;
  const items = whole ? order.items : [{ description: label, quantity: 1, totalCents: amountCents }];
  const taxId = (customer.taxId ?? '').replace(/\D/g, '');
  return {
    natureza_operacao: 'Devolução de venda',
    data_emissao: now.toISOString(),
    tipo_documento: '0',
    finalidade_emissao: '4',
    cnpj_emitente: cnpjEmitente,
    nome_destinatario: customer.name,
    ...(taxId.length === 14 ? { cnpj_destinatario: taxId } : taxId ? { cpf_destinatario: taxId } : {}),
    // Without the sale's key the devolução is invalid; Focus then refuses it (422, rejected).
    ...(order.invoiceKey ? { notas_referenciadas: [{ chave_nfe: order.invoiceKey }] } : {}),
    items: items.map((item, i) => {
      // SEFAZ checks quantity × unit price = gross value: an indivisible line goes as one unit.
      const divisible = Number.isInteger(item.quantity) && item.quantity > 0 && item.totalCents % item.quantity === 0;
      const quantity = divisible ? item.quantity : 1;
      return {
        numero_item: String(i + 1),
        codigo_produto: `PED${order.orderNumber}-${i + 1}`,
        descricao: item.description.slice(0, 120) || label,
        cfop: '1202',
        unidade_comercial: 'UN',
        quantidade_comercial: String(quantity),
        valor_unitario_comercial: centsToDecimalString(item.totalCents / quantity),
        valor_bruto: centsToDecimalString(item.totalCents),
      };
    }),
    valor_total: centsToDecimalString(amountCents),
    informacoes_adicionais_contribuinte: reason.slice(0, 2000),
  };
}

/** A Focus NF-e consulta (or creation answer) as a CreditNote. */
export function parseFocusNote(ref: string, body: Json): CreditNote {
  const key = typeof body.chave_nfe === 'string' ? body.chave_nfe.replace(/^NFe/i, '') : '';
  return {
    ref,
    status: STATUS[String(body.status)] ?? 'processing',
    ...(present(body.numero) ? { number: String(body.numero) } : {}),
    ...(present(body.serie) ? { series: String(body.serie) } : {}),
    ...(/^\d{44}$/.test(key) ? { accessKey: key } : {}),
    ...(typeof body.mensagem_sefaz === 'string' && body.mensagem_sefaz ? { message: body.mensagem_sefaz } : {}),
  };
}

export function createFocusNfeClient(options: FocusNfeOptions): FiscalClient {
  const authorization = `Basic ${Buffer.from(`${options.token}:`).toString('base64')}`;
  const http = createHttp('fiscal', { baseURL: options.baseUrl.replace(/\/+$/, ''), timeoutMs: options.timeoutMs, headers: { authorization } });
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const pollAttempts = options.pollAttempts ?? 10;

  async function getCreditNote(ref: string): Promise<CreditNote | null> {
    const res = await http.get(`/v2/nfe/${encodeURIComponent(ref)}`, { params: { completa: 0 } });
    if (res.status === 404) return null;
    if (res.status !== 200 || !isJson(res.data)) throw focusError(res.status, res.data);
    return parseFocusNote(ref, res.data);
  }

  /** Reads the note until SEFAZ has decided, at most `pollAttempts` times. */
  async function settle(ref: string, waitFirst: boolean): Promise<CreditNote> {
    for (let attempt = 0; attempt < pollAttempts; attempt++) {
      if (attempt > 0 || waitFirst) await sleep(pollIntervalMs);
      const note = await getCreditNote(ref);
      if (note && note.status !== 'processing') return note;
    }
    return { ref, status: 'processing' };
  }

  return {
    getCreditNote,

    async issueCreditNote(request) {
      const { ref } = request;
      const res = await http.post('/v2/nfe', creditNoteBody(request, options.cnpj), { params: { ref } });
      const body = isJson(res.data) ? res.data : {};
      if (res.status === 200 || res.status === 201 || res.status === 202) {
        const note = parseFocusNote(ref, body);
        // The synchronous mode answers 201 with the decision; the default mode answers 202 and must be polled.
        return note.status === 'processing' ? settle(ref, true) : note;
      }
      if (refAlreadyUsed(res.status, body)) return settle(ref, false);
      throw focusError(res.status, body);
    },
  };
}

/** Focus's answer when `ref` was used before: that note is ours, read it instead of issuing another. */
function refAlreadyUsed(status: number, body: Json): boolean {
  if (body.codigo === 'already_processed') return true;
  const message = String(body.mensagem ?? '');
  return status === 422 && /já/i.test(message) && /refer[êe]ncia|\bref\b/i.test(message);
}

function focusError(status: number, body: unknown): ProviderError {
  const b = isJson(body) ? body : {};
  const details = Array.isArray(b.erros) ? b.erros.filter(isJson).map((e) => [e.campo, e.mensagem].filter(Boolean).join(': ')).filter(Boolean) : [];
  const message = [typeof b.mensagem === 'string' ? b.mensagem : `HTTP ${status}`, ...details].join('; ');
  // A 2xx we cannot read is the provider's fault, not a refusal.
  return failureForStatus('fiscal', status < 300 ? 502 : status, message, typeof b.codigo === 'string' ? b.codigo : undefined);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const present = (value: unknown) => value !== undefined && value !== null && value !== '';

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
