import { centsToDecimalString } from '../../core/money.ts';
import { createHttp, failureForStatus } from './http.ts';
import type { CreditNote, CreditNoteStatus, FiscalClient } from './types.ts';

/**
 * Focus NFe (PROVIDERS.md §5.2): the NF-e de devolução (finalidade 4, CFOP
 * 1202, referencing the sale's access key), created with our `ref` as the
 * idempotency key and polled until SEFAZ decides. Basic auth, token as user.
 */

type Json = Record<string, unknown>;

const STATUS: Record<string, CreditNoteStatus> = {
  processando_autorizacao: 'processing',
  autorizado: 'authorized',
  erro_autorizacao: 'rejected',
  denegado: 'denied',
  cancelado: 'denied',
};

function toNote(ref: string, body: Json): CreditNote {
  const key = typeof body.chave_nfe === 'string' ? body.chave_nfe.replace(/^NFe/, '') : undefined;
  return {
    ref,
    status: STATUS[String(body.status)] ?? 'processing',
    ...(body.numero !== undefined && body.numero !== null ? { number: String(body.numero) } : {}),
    ...(body.serie !== undefined && body.serie !== null ? { series: String(body.serie) } : {}),
    ...(key && /^\d{44}$/.test(key) ? { accessKey: key } : {}),
    ...(typeof body.mensagem_sefaz === 'string' ? { message: body.mensagem_sefaz } : {}),
  };
}

export function createFocusNfeClient(options: { baseUrl: string; token: string; cnpj: string; timeoutMs: number; pollIntervalMs?: number; pollAttempts?: number }): FiscalClient {
  const auth = `Basic ${Buffer.from(`${options.token}:`).toString('base64')}`;
  const http = createHttp('fiscal', { baseURL: options.baseUrl.replace(/\/$/, ''), timeoutMs: options.timeoutMs, headers: { authorization: auth } });
  const pollInterval = options.pollIntervalMs ?? 500;
  const pollAttempts = options.pollAttempts ?? 10;

  async function get(ref: string): Promise<CreditNote | null> {
    const res = await http.get(`/v2/nfe/${encodeURIComponent(ref)}`, { params: { completa: 0 } });
    if (res.status === 404) return null;
    if (res.status !== 200) throw failureForStatus('fiscal', res.status, String((res.data as Json)?.mensagem ?? `HTTP ${res.status}`), (res.data as Json)?.codigo as string);
    return toNote(ref, res.data as Json);
  }

  return {
    getCreditNote: get,
    async issueCreditNote({ ref, order, customer, amountCents, reason }) {
      const partial = amountCents < order.totalCents;
      const items = partial
        ? [{ description: `Devolução parcial pedido ${order.orderNumber}`, quantity: 1, totalCents: amountCents }]
        : order.items;
      const taxId = customer.taxId ?? '';
      const body = {
        natureza_operacao: 'Devolução de venda',
        data_emissao: new Date().toISOString(),
        tipo_documento: '0',
        finalidade_emissao: '4',
        cnpj_emitente: options.cnpj,
        nome_destinatario: customer.name,
        ...(taxId.length === 14 ? { cnpj_destinatario: taxId } : { cpf_destinatario: taxId }),
        notas_referenciadas: [{ chave_nfe: order.invoiceKey }],
        informacoes_adicionais_contribuinte: reason.slice(0, 500),
        items: items.map((item, i) => {
          const unit = Math.floor(item.totalCents / Math.max(1, item.quantity));
          return {
            numero_item: String(i + 1),
            codigo_produto: `PED${order.orderNumber}-${i + 1}`,
            descricao: item.description.slice(0, 120),
            cfop: '1202',
            unidade_comercial: 'UN',
            quantidade_comercial: String(item.quantity),
            valor_unitario_comercial: centsToDecimalString(item.quantity > 0 && unit * item.quantity === item.totalCents ? unit : item.totalCents),
            valor_bruto: centsToDecimalString(item.totalCents),
          };
        }),
      };
      const res = await http.post('/v2/nfe', body, { params: { ref } });
      const data = (res.data ?? {}) as Json;
      const exists = res.status === 422 && (data.codigo === 'already_processed' || /j[áa].*refer[êe]ncia/i.test(String(data.mensagem ?? '')));
      if (!exists && res.status !== 201 && res.status !== 202) throw failureForStatus('fiscal', res.status, String(data.mensagem ?? `HTTP ${res.status}`), data.codigo as string);
      let note: CreditNote | null = res.status === 201 ? toNote(ref, data) : null;
      for (let i = 0; i < pollAttempts && (!note || note.status === 'processing'); i++) {
        if (i > 0 || !exists) await new Promise((r) => setTimeout(r, pollInterval));
        note = await get(ref);
      }
      return note ?? { ref, status: 'processing' };
    },
  };
}
