import { ProviderError } from '../../core/errors.ts';
import { reaisToCents } from '../../core/money.ts';
import { cpfDigits, phoneFromParts, samePhone } from '../../core/phone.ts';
import { createHttp } from './http.ts';
import type { ErpClient, ErpCustomer, ErpOrder, PaymentMethod } from './types.ts';

/**
 * Omie ERP (PROVIDERS.md §2): JSON-RPC-like POSTs to
 * `/api/v1/{modulo}/{servico}/` with credentials in the body. HTTP status is
 * not reliable — faults come with 200 or 500 — so the body is read first.
 * Lookups by id are cached for 60 s (Omie refuses the same id twice a minute).
 */

interface OmieFault {
  faultstring?: string;
  faultcode?: string;
}

type Json = Record<string, unknown>;

/** NF-e `tPag` codes as Omie stores them in `meio_pagamento`. */
const METHODS: Record<string, PaymentMethod> = { '17': 'pix', '03': 'credit_card', '04': 'debit_card', '15': 'boleto' };

const NOT_FOUND = /Client-(105|103)$/;
const EMPTY = /Client-5113$/;
const RATE = /Client-6$|Client-500$|Client-1880$|MISUSE_API_PROCESS/;

export function createOmieClient(options: { baseUrl: string; appKey: string; appSecret: string; timeoutMs: number; cacheMs?: number }): ErpClient {
  const http = createHttp('omie', { baseURL: options.baseUrl.replace(/\/$/, ''), timeoutMs: options.timeoutMs });
  const cacheMs = options.cacheMs ?? 60_000;
  const cache = new Map<string, { at: number; value: unknown }>();
  let phoneIndex: { at: number; customers: ErpCustomer[] } | null = null;

  /** One call; null when Omie says "not found" or "no records". */
  async function call(path: string, method: string, param: Json): Promise<Json | null> {
    const res = await http.post(`/api/v1/${path}/`, { call: method, app_key: options.appKey, app_secret: options.appSecret, param: [param] });
    const body = res.data as (Json & OmieFault) | string | undefined;
    if (body && typeof body === 'object' && typeof body.faultstring === 'string') {
      const code = String(body.faultcode ?? '');
      if (NOT_FOUND.test(code) || EMPTY.test(code)) return null;
      if (/Client-101$/.test(code)) throw new ProviderError('omie', 'unauthorized', body.faultstring, { status: res.status, code });
      if (RATE.test(code) || res.status === 429 || res.status === 425) throw new ProviderError('omie', 'rate_limited', body.faultstring, { status: res.status, code });
      if (/SOAP-ENV:Server/.test(code) || res.status >= 500) throw new ProviderError('omie', 'unavailable', body.faultstring, { status: res.status, code });
      throw new ProviderError('omie', 'rejected', body.faultstring, { status: res.status, code });
    }
    if (res.status === 429 || res.status === 425) throw new ProviderError('omie', 'rate_limited', `HTTP ${res.status}`, { status: res.status });
    if (res.status !== 200 || !body || typeof body !== 'object') throw new ProviderError('omie', 'unavailable', `HTTP ${res.status} without a usable body`, { status: res.status });
    return body;
  }

  async function cached<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < cacheMs) return hit.value as T;
    const value = await load();
    if (value !== null) cache.set(key, { at: Date.now(), value });
    return value;
  }

  async function allCustomers(filter: Json = {}, pageSize = 500): Promise<Json[]> {
    const out: Json[] = [];
    for (let page = 1; ; page++) {
      const body = await call('geral/clientes', 'ListarClientes', { pagina: page, registros_por_pagina: pageSize, ...filter });
      if (!body) break;
      out.push(...((body.clientes_cadastro as Json[] | undefined) ?? []));
      if (page >= Number(body.total_de_paginas ?? 1)) break;
    }
    return out;
  }

  return {
    getOrder(orderNumber) {
      return cached(`order:${orderNumber}`, async () => {
        const body = await call('produtos/pedido', 'ConsultarPedido', { numero_pedido: orderNumber });
        const raw = body?.pedido_venda_produto as Json | undefined;
        if (!raw) return null;
        const order = parseOmieOrder(raw);
        if (order.orderNumber !== orderNumber) return null;
        const nf = await call('produtos/nfconsultar', 'ConsultarNF', { nCodPed: order.erpId });
        const key = (nf?.compl as Json | undefined)?.cChaveNFe;
        return typeof key === 'string' && /^\d{44}$/.test(key) ? { ...order, invoiceKey: key } : order;
      });
    },
    getCustomer(code) {
      return cached(`customer:${code}`, async () => {
        const body = await call('geral/clientes', 'ConsultarCliente', { codigo_cliente_omie: code });
        return body ? parseOmieCustomer(body) : null;
      });
    },
    async findCustomerByPhone(phone) {
      // No phone filter exists in ListarClientes: scan and match locally, cached for 5 minutes.
      if (!phoneIndex || Date.now() - phoneIndex.at > 300_000) phoneIndex = { at: Date.now(), customers: (await allCustomers()).map(parseOmieCustomer) };
      const found = phoneIndex.customers.find((c) => c.phones.some((p) => samePhone(p, phone))) ?? null;
      // The scan already holds the full record: later ConsultarCliente calls for it are not needed.
      if (found) cache.set(`customer:${found.code}`, { at: Date.now(), value: found });
      return found;
    },
    async findCustomerByTaxId(taxId) {
      const rows = await allCustomers({ clientesFiltro: { cnpj_cpf: taxId } }, 50);
      const match = rows.map(parseOmieCustomer).find((c) => c.taxId === cpfDigits(taxId));
      return match ?? null;
    },
    async listOrders(customerCode, sinceIso) {
      const orders: ErpOrder[] = [];
      for (let page = 1; ; page++) {
        const body = await call('produtos/pedido', 'ListarPedidos', {
          pagina: page,
          registros_por_pagina: 50,
          filtrar_por_cliente: customerCode,
          filtrar_por_data_de: brDate(sinceIso),
        });
        if (!body) break;
        orders.push(...((body.pedido_venda_produto as Json[] | undefined) ?? []).map(parseOmieOrder));
        if (page >= Number(body.total_de_paginas ?? 1)) break;
      }
      return orders.filter((o) => o.customerCode === customerCode).sort((a, b) => b.placedAt.localeCompare(a.placedAt));
    },
  };
}

/** An Omie `pedido_venda_produto` as an ErpOrder; every field may be missing (ConsultarPedido omits empty ones). */
export function parseOmieOrder(raw: Json): ErpOrder {
  const head = (raw.cabecalho ?? {}) as Json;
  const info = (raw.infoCadastro ?? {}) as Json;
  const total = (raw.total_pedido ?? {}) as Json;
  const parcels = (((raw.lista_parcelas ?? {}) as Json).parcela ?? []) as Json[];
  const first = parcels[0] ?? {};
  const method = METHODS[String(first.meio_pagamento ?? '')] ?? 'other';
  const date = (info.dFat ?? info.dInc ?? head.data_previsao) as string | undefined;
  const time = (info.hFat ?? info.hInc ?? '00:00:00') as string;
  return {
    orderNumber: String(head.numero_pedido ?? ''),
    erpId: Number(head.codigo_pedido ?? 0),
    customerCode: Number(head.codigo_cliente ?? 0),
    totalCents: reaisToCents((total.valor_total_pedido ?? 0) as number),
    placedAt: date ? brDateTimeToIso(date, time) : new Date(0).toISOString(),
    payment: { method, ...(method === 'pix' && typeof first.nsu === 'string' && first.nsu ? { endToEndId: first.nsu } : {}) },
    items: ((raw.det ?? []) as Json[]).map((d) => {
      const p = (d.produto ?? {}) as Json;
      return { description: String(p.descricao ?? ''), quantity: Number(p.quantidade ?? 0), totalCents: reaisToCents((p.valor_total ?? 0) as number) };
    }),
    cancelled: info.cancelado === 'S',
  };
}

export function parseOmieCustomer(raw: Json): ErpCustomer {
  const phones = [phoneFromParts(raw.telefone1_ddd as string, raw.telefone1_numero as string), phoneFromParts(raw.telefone2_ddd as string, raw.telefone2_numero as string)].filter(
    (p): p is string => p !== null,
  );
  const taxId = typeof raw.cnpj_cpf === 'string' ? cpfDigits(raw.cnpj_cpf) : undefined;
  return { code: Number(raw.codigo_cliente_omie ?? 0), name: String(raw.razao_social ?? raw.nome_fantasia ?? ''), ...(taxId ? { taxId } : {}), phones };
}

/** "22/11/2026" + "22:00:00" in Brazil time (UTC−03:00, no DST since 2019) → ISO UTC. */
export function brDateTimeToIso(date: string, time = '00:00:00'): string {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(date.trim());
  if (!m) throw new ProviderError('omie', 'unavailable', `unreadable date ${JSON.stringify(date)}`);
  const t = /^\d{2}:\d{2}(:\d{2})?$/.test(time.trim()) ? time.trim().padEnd(8, ':00').slice(0, 8) : '00:00:00';
  return new Date(`${m[3]}-${m[2]}-${m[1]}T${t}-03:00`).toISOString();
}

/** ISO → "dd/mm/aaaa" in Brazil time. */
export function brDate(iso: string): string {
  const d = new Date(Date.parse(iso) - 3 * 3_600_000);
  return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()}`;
}

export function brTime(iso: string): string {
  const d = new Date(Date.parse(iso) - 3 * 3_600_000);
  return d.toISOString().slice(11, 19);
}
