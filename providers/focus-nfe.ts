import type { Env } from '../core/config.ts';
import { centsToDecimalString } from '../core/money.ts';
import { ProviderError } from '../core/errors.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { CreditNote, CreditNoteRequest, CreditNoteStatus, ErpInvoiceItem, FiscalClient } from './types.ts';

/**
 * Focus NFe (PROVIDERS.md §5.2 and "Corrections"): the NF-e de devolução — an
 * entrada (`tipo_documento` 0) with `finalidade_emissao` 4 referencing the
 * sale's access key, its items copied from the sale's NF-e (NCM, CFOP mapped
 * to the return CFOP, tax situations), the destinatário with address and IE
 * indicator — created under our `ref` (Focus's idempotency key) and read back
 * with backoff until SEFAZ decides. HTTP Basic with the token as user name.
 */

type Json = Record<string, unknown>;

/** Tax situations of the return items: Omie's ConsultarNF carries none per item, so they are the merchant's (configured). */
export interface CreditNoteTaxes {
  icmsOrigin: string;
  icmsSituation: string;
  pisSituation: string;
  cofinsSituation: string;
}

/** The values of Focus's own NF-e de devolução example (`_nfe.md`): Simples Nacional, no credit. */
export const DEFAULT_TAXES: CreditNoteTaxes = { icmsOrigin: '0', icmsSituation: '103', pisSituation: '99', cofinsSituation: '99' };

export interface FocusNfeOptions {
  baseUrl: string;
  token: string;
  /** The merchant's CNPJ, the issuer (`cnpj_emitente`). */
  cnpj: string;
  /** The merchant's UF: decides intra/interstate when the sale's CFOP does not tell. */
  uf?: string;
  taxes?: Partial<CreditNoteTaxes>;
  timeoutMs: number;
  /** First wait before reading a note back; doubles each time. */
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

/**
 * The CFOP of the return of a sale (`_cfop.md`: first digit 1 = entrada in
 * the state, 2 = from another state). The family follows the sale:
 * 5101/6101 (own production) → 1201/2201; 5102/6102 (resale) → 1202/2202;
 * 5401/5402 (own production under ICMS-ST) → 1410/2410; 5403/5405 (resale
 * under ICMS-ST) → 1411/2411. Unknown families return as resale (1202/2202).
 */
export function returnCfop(saleCfop: string | undefined, interstate: boolean): string {
  const sale = (saleCfop ?? '').replace(/\D/g, '');
  const scope = /^[56]\d{3}$/.test(sale) ? (sale[0] === '6' ? '2' : '1') : interstate ? '2' : '1';
  const family = sale.slice(1);
  const ret = ['101', '103', '105', '109', '111', '113', '116', '118', '122'].includes(family)
    ? '201'
    : ['401', '402', '408'].includes(family)
      ? '410'
      : ['403', '404', '405', '409'].includes(family)
        ? '411'
        : '202';
  return scope + ret;
}

/** `amountCents` split over `weights` in proportion, summing exactly (largest remainder). */
export function splitProportionally(amountCents: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return weights.map((_, i) => (i === 0 ? amountCents : 0));
  const raw = weights.map((w) => (amountCents * w) / total);
  const out = raw.map(Math.floor);
  let left = amountCents - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => ({ i, frac: r - Math.floor(r) })).sort((a, b) => b.frac - a.frac);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i] = (out[i] as number) + 1;
    left--;
  }
  return out;
}

const decimals = (n: number, places: number) => n.toFixed(places).replace(/(\.\d*?[1-9])0+$|\.0+$/, '$1') || '0';

/**
 * The POST /v2/nfe body of the devolução. Items come from the sale's NF-e
 * (ConsultarNF); a partial refund returns each item in proportion to the
 * refunded value (exact cents), quantities scaled alike.
 */
export function creditNoteBody(request: CreditNoteRequest, cnpjEmitente: string, now = new Date(), options: { uf?: string; taxes?: Partial<CreditNoteTaxes> } = {}): Json {
  const { order, customer, amountCents, reason } = request;
  const taxes = { ...DEFAULT_TAXES, ...(options.taxes ?? {}) };
  const source: ErpInvoiceItem[] = order.invoice?.items.length
    ? order.invoice.items
    : order.items.map((item, i) => ({ code: `PED${order.orderNumber}-${i + 1}`, description: item.description, unit: 'UN', quantity: item.quantity, unitValue: item.quantity ? item.totalCents / item.quantity / 100 : 0, totalCents: item.totalCents }));
  const saleTotal = source.reduce((sum, item) => sum + item.totalCents, 0);
  const whole = amountCents === saleTotal;
  const values = whole ? source.map((i) => i.totalCents) : splitProportionally(amountCents, source.map((i) => i.totalCents));
  const customerUf = customer.address?.uf;
  const interstate = Boolean(options.uf && customerUf && options.uf !== customerUf);
  const taxId = (customer.taxId ?? '').replace(/\D/g, '');
  // 1 = contributor with IE, 2 = contributor exempt from IE, 9 = not a contributor (a consumer).
  const ieIndicator = customer.stateRegistration ? '1' : customer.icmsContributor ? '2' : '9';
  const address = customer.address ?? {};
  const items = source
    .map((item, i) => ({ item, cents: values[i] as number }))
    .filter(({ cents }) => cents > 0)
    .map(({ item, cents }, i) => {
      const ratio = item.totalCents > 0 ? cents / item.totalCents : 1;
      const quantity = item.quantity > 0 ? item.quantity * ratio : 1;
      const unit = cents / 100 / quantity;
      const cfop = returnCfop(item.cfop, interstate);
      return {
        numero_item: String(i + 1),
        codigo_produto: item.code || `PED${order.orderNumber}-${i + 1}`,
        descricao: (item.description || `Devolução pedido ${order.orderNumber}`).slice(0, 120),
        cfop,
        ...(item.ncm ? { codigo_ncm: item.ncm } : {}),
        unidade_comercial: item.unit || 'UN',
        quantidade_comercial: decimals(quantity, 4),
        valor_unitario_comercial: decimals(unit, 10),
        unidade_tributavel: item.unit || 'UN',
        quantidade_tributavel: decimals(quantity, 4),
        valor_unitario_tributavel: decimals(unit, 10),
        valor_bruto: centsToDecimalString(cents),
        inclui_no_total: '1',
        icms_origem: taxes.icmsOrigin,
        icms_situacao_tributaria: taxes.icmsSituation,
        pis_situacao_tributaria: taxes.pisSituation,
        cofins_situacao_tributaria: taxes.cofinsSituation,
      };
    });
  const anyInterstate = items.some((i) => i.cfop.startsWith('2'));
  return {
    natureza_operacao: 'Devolução de venda',
    data_emissao: brazilIso(now),
    tipo_documento: '0',
    finalidade_emissao: '4',
    local_destino: anyInterstate ? '2' : '1',
    consumidor_final: ieIndicator === '9' ? '1' : '0',
    presenca_comprador: '9',
    cnpj_emitente: cnpjEmitente,
    nome_destinatario: customer.name,
    ...(taxId.length === 14 ? { cnpj_destinatario: taxId } : taxId ? { cpf_destinatario: taxId } : {}),
    ...(customer.stateRegistration ? { inscricao_estadual_destinatario: customer.stateRegistration } : {}),
    indicador_inscricao_estadual_destinatario: ieIndicator,
    ...(address.street ? { logradouro_destinatario: address.street } : {}),
    ...(address.number ? { numero_destinatario: address.number } : {}),
    ...(address.complement ? { complemento_destinatario: address.complement } : {}),
    ...(address.district ? { bairro_destinatario: address.district } : {}),
    ...(address.city ? { municipio_destinatario: address.city } : {}),
    ...(address.uf ? { uf_destinatario: address.uf } : {}),
    ...(address.cep ? { cep_destinatario: address.cep } : {}),
    pais_destinatario: 'Brasil',
    // Without the sale's key the devolução is invalid; Focus then refuses it (422).
    ...(order.invoiceKey ? { notas_referenciadas: [{ chave_nfe: order.invoiceKey }] } : {}),
    modalidade_frete: '9',
    valor_produtos: centsToDecimalString(amountCents),
    valor_total: centsToDecimalString(amountCents),
    items,
    informacoes_adicionais_contribuinte: `Devolução referente ao pedido ${order.orderNumber}. ${reason}`.slice(0, 2000),
  };
}

/** "2026-11-23T10:20:00-03:00" (Brazil time, as Focus's examples). */
function brazilIso(at: Date): string {
  return `${new Date(at.getTime() - 3 * 3_600_000).toISOString().slice(0, 19)}-03:00`;
}

/** The merchant's UF and tax situations from the environment (core/config.ts). */
export function focusExtras(env: Env): Pick<FocusNfeOptions, 'uf' | 'taxes'> {
  return {
    ...(env.MERCHANT_UF ? { uf: env.MERCHANT_UF } : {}),
    taxes: { icmsOrigin: env.FOCUS_ICMS_ORIGEM, icmsSituation: env.FOCUS_ICMS_SITUACAO, pisSituation: env.FOCUS_PIS_SITUACAO, cofinsSituation: env.FOCUS_COFINS_SITUACAO },
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
  const pollAttempts = options.pollAttempts ?? 6;

  async function getCreditNote(ref: string): Promise<CreditNote | null> {
    const res = await http.get(`/v2/nfe/${encodeURIComponent(ref)}`, { params: { completa: 0 } });
    if (res.status === 404) return null;
    if (res.status !== 200 || !isJson(res.data)) throw focusError(res.status, res.data);
    return parseFocusNote(ref, res.data);
  }

  /**
   * Reads the note until SEFAZ has decided, at most `pollAttempts` times with
   * doubling waits; still processing after that is an answer too (the job
   * comes back later, with its own backoff).
   */
  async function settle(ref: string, waitFirst: boolean): Promise<CreditNote> {
    let wait = pollIntervalMs;
    for (let attempt = 0; attempt < pollAttempts; attempt++) {
      if (attempt > 0 || waitFirst) {
        await sleep(wait);
        wait *= 2;
      }
      const note = await getCreditNote(ref);
      if (note && note.status !== 'processing') return note;
    }
    return { ref, status: 'processing' };
  }

  return {
    getCreditNote,

    async issueCreditNote(request) {
      const { ref } = request;
      const res = await http.post('/v2/nfe', creditNoteBody(request, options.cnpj, new Date(), { ...(options.uf ? { uf: options.uf } : {}), ...(options.taxes ? { taxes: options.taxes } : {}) }), { params: { ref } });
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

/**
 * Focus's answer when `ref` was used before (index.html.md "Erros"): 422
 * `nfe_autorizada` (already authorised), `em_processamento` (still
 * processing), or `already_processed` (cancelled). That note is ours: read
 * it back instead of issuing another.
 */
function refAlreadyUsed(status: number, body: Json): boolean {
  return status === 422 && (body.codigo === 'nfe_autorizada' || body.codigo === 'em_processamento' || body.codigo === 'already_processed');
}

function focusError(status: number, body: unknown): ProviderError {
  const b = isJson(body) ? body : {};
  const details = Array.isArray(b.erros) ? b.erros.filter(isJson).map((e) => [e.campo, e.mensagem].filter(Boolean).join(': ')).filter(Boolean) : [];
  const message = [typeof b.mensagem === 'string' ? b.mensagem : `HTTP ${status}`, ...details].join('; ');
  // A 2xx we cannot read is the provider's fault, not a refusal.
  if (status < 300) return failureForStatus('fiscal', 502, message);
  // Focus refuses a note with its own body (`codigo`, "Erros" in the API's docs). A 4xx without one
  // (404 "Cannot POST" from a proxy, a wrong FOCUS_BASE_URL, a server still starting) says nothing
  // about the note: retried (the ref makes a repeat harmless), never recorded as a rejected note.
  if (typeof b.codigo !== 'string' && status >= 400 && status < 500 && ![401, 403, 429].includes(status)) {
    return new ProviderError('fiscal', 'unavailable', `${message} (not an answer of Focus: no codigo)`, { status });
  }
  return failureForStatus('fiscal', status, message, typeof b.codigo === 'string' ? b.codigo : undefined);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const present = (value: unknown) => value !== undefined && value !== null && value !== '';

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
