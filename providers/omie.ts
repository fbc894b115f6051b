import { ProviderError } from '../core/errors.ts';
import { reaisToCents } from '../core/money.ts';
import { cpfDigits, phoneFromParts, samePhone } from '../core/phone.ts';
import { createHttp } from './http.ts';
import type { ErpClient, ErpCustomer, ErpInvoice, ErpOrder, PaymentMethod } from './types.ts';

/**
 * Omie ERP (PROVIDERS.md §2): JSON-RPC-like POSTs to `/api/v1/{modulo}/{servico}/`
 * with the credentials in the body. The HTTP status is not reliable — faults
 * arrive with 200 or 500 — so the body is always read first. Omie answers a
 * repeated id within 60 s with a "redundant" fault, so lookups by id are cached.
 */

type Json = Record<string, unknown>;

export interface OmieOptions {
  baseUrl: string;
  appKey: string;
  appSecret: string;
  timeoutMs: number;
  /** How long an answer (found or not) is reused; Omie's redundancy window is 60 s. */
  cacheMs?: number;
  /**
   * Where the merchant's own integration stores the Pix EndToEndId or txid
   * in the order, as a dotted path of `pedido_venda_produto`
   * (e.g. `cabecalho.codigo_pedido_integracao`,
   * `informacoes_adicionais.numero_pedido_cliente`). Omie has no field of its own.
   */
  paymentReferenceField?: string;
  /**
   * Answers shared with other processes (replicas on one database): a lookup
   * another replica made within `cacheMs` is reused, since Omie refuses the
   * same id asked again by anyone within 60 s ("consumo redundante").
   */
  shared?: SharedCache;
}

/** A cache of JSON answers several processes share (a database table behind it). */
export interface SharedCache {
  get(key: string, newerThanMs: number): Promise<string | undefined>;
  put(key: string, json: string, atMs: number): Promise<void>;
}

/** NF-e `tPag` codes as Omie stores them in `parcela.meio_pagamento`. */
const METHODS: Record<string, PaymentMethod> = { '17': 'pix', '03': 'credit_card', '04': 'debit_card', '15': 'boleto' };

const UNAUTHORIZED = /Client-101$/;
// Client-6 "consumo redundante", Client-500 "consumo indevido", Client-1880 "previous call still running",
// MISUSE "blocked for N seconds": all mean "not now", never "no".
const RATE_LIMITED = /Client-6$|Client-500$|Client-1880$|MISUSE_API_PROCESS/;
const NOT_FOUND = ['Client-103', 'Client-105'];
const NO_RECORDS = ['Client-5113'];
const NOT_FOUND_TEXT = /n[ãa]o (est[áa] )?(cadastrad|encontrad|existe)/i;
const PHONE_INDEX_MS = 5 * 60_000;
const MAX_PAGES = 1000;

export function createOmieClient(options: OmieOptions): ErpClient {
  const http = createHttp('omie', { baseURL: options.baseUrl.replace(/\/+$/, ''), timeoutMs: options.timeoutMs });
  const cacheMs = options.cacheMs ?? 60_000;
  const orders = ttlCache<ErpOrder>(cacheMs, sharedAs('omie:order:', cacheMs, options.shared));
  const invoices = ttlCache<ErpInvoice>(cacheMs, sharedAs('omie:nf:', cacheMs, options.shared));
  const customers = ttlCache<ErpCustomer>(cacheMs, sharedAs('omie:customer:', cacheMs, options.shared));
  const phoneIndex = ttlCache<ErpCustomer[]>(PHONE_INDEX_MS);

  /** One call; null when the fault code is one of `emptyCodes` (Omie's "not found" spellings). */
  async function call(path: string, method: string, param: Json, emptyCodes: string[] = []): Promise<Json | null> {
    const res = await http.post(`/api/v1/${path}/`, { call: method, app_key: options.appKey, app_secret: options.appSecret, param: [param] });
    const body: unknown = res.data;
    if (isJson(body) && typeof body.faultstring === 'string') {
      const code = String(body.faultcode ?? '');
      // Client-103/105 also spell "invalid value" faults: only a message saying "not registered/found" is a miss.
      if (emptyCodes.some((c) => code.endsWith(c)) && (code.endsWith('Client-5113') || NOT_FOUND_TEXT.test(body.faultstring))) return null;
      throw omieFault(res.status, code, body.faultstring);
    }
    if (res.status === 429 || res.status === 425) throw new ProviderError('omie', 'rate_limited', `HTTP ${res.status}`, { status: res.status });
    if (res.status !== 200 || !isJson(body)) throw new ProviderError('omie', 'unavailable', `HTTP ${res.status} without a usable body`, { status: res.status });
    return body;
  }

  /** Every page of a listing (`pagina` 1..`total_de_paginas`); Client-5113 ends it. */
  async function allPages(path: string, method: string, param: Json, rowsKey: string): Promise<Json[]> {
    const rows: Json[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body = await call(path, method, { pagina: page, ...param }, NO_RECORDS);
      if (!body) return rows;
      const pageRows = body[rowsKey];
      if (Array.isArray(pageRows)) rows.push(...pageRows.filter(isJson));
      if (page >= Number(body.total_de_paginas ?? 1)) return rows;
    }
    throw new ProviderError('omie', 'unavailable', `${method} has more than ${MAX_PAGES} pages`);
  }

  /**
   * The sale's NF-e by the order's internal id (`nIdPedido`, NfChave). Only
   * Omie's "not found" spellings mean "not invoiced"; any other fault (an
   * unknown tag, a bad key) is a fault and surfaces as one.
   */
  function invoiceOf(erpId: number): Promise<ErpInvoice | null> {
    return invoices(String(erpId), async () => {
      const nf = await call('produtos/nfconsultar', 'ConsultarNF', { nIdPedido: erpId }, [...NOT_FOUND, ...NO_RECORDS]);
      return nf ? parseOmieInvoice(nf) : null;
    });
  }

  return {
    forget() {
      for (const cache of [orders, invoices, customers, phoneIndex]) cache.clear();
    },
    async getOrder(orderNumber) {
      const wanted = normalizeOrderNumber(orderNumber);
      if (!wanted) return null;
      const order = await orders(wanted, async () => {
        const body = await call('produtos/pedido', 'ConsultarPedido', { numero_pedido: wanted }, NOT_FOUND);
        if (!isJson(body?.pedido_venda_produto)) return null;
        const parsed = parseOmieOrder(body.pedido_venda_produto, options.paymentReferenceField);
        // Omie pads numbers ("000000000008421"): compare them as numbers, never as strings.
        return normalizeOrderNumber(parsed.orderNumber) === wanted ? { ...parsed, orderNumber: wanted } : null;
      });
      if (!order) return null;
      const invoice = await invoiceOf(order.erpId);
      return invoice ? { ...order, invoiceKey: invoice.key, invoice } : order;
    },

    getCustomer(code) {
      return customers(String(code), async () => {
        const body = await call('geral/clientes', 'ConsultarCliente', { codigo_cliente_omie: code }, NOT_FOUND);
        return body ? parseOmieCustomer(body) : null;
      });
    },

    async findCustomerByPhone(phone) {
      // ListarClientes has no phone filter: scan every page once and match locally.
      const all = await phoneIndex('all', async () =>
        (await allPages('geral/clientes', 'ListarClientes', { registros_por_pagina: 500 }, 'clientes_cadastro')).map(parseOmieCustomer),
      );
      const found = all?.find((c) => c.phones.some((p) => samePhone(p, phone))) ?? null;
      // The scan holds the full record: spare the ConsultarCliente that usually follows.
      if (found) customers.put(String(found.code), found);
      return found;
    },

    async findCustomerByTaxId(taxId) {
      const body = await call('geral/clientes', 'ListarClientes', { pagina: 1, registros_por_pagina: 50, clientesFiltro: { cnpj_cpf: taxId } }, NO_RECORDS);
      const rows = Array.isArray(body?.clientes_cadastro) ? body.clientes_cadastro.filter(isJson) : [];
      // Omie may store the CPF formatted; compare digits, and never trust the filter blindly.
      return rows.map(parseOmieCustomer).find((c) => c.taxId === cpfDigits(taxId)) ?? null;
    },

    async listOrders(customerCode, sinceIso) {
      const rows = await allPages(
        'produtos/pedido',
        'ListarPedidos',
        { registros_por_pagina: 50, filtrar_por_cliente: customerCode, filtrar_por_data_de: isoToOmieDate(sinceIso) },
        'pedido_venda_produto',
      );
      return rows
        .map((r) => parseOmieOrder(r, options.paymentReferenceField))
        .map((o) => ({ ...o, orderNumber: normalizeOrderNumber(o.orderNumber) || o.orderNumber }))
        .filter((o) => o.customerCode === customerCode)
        .sort((a, b) => b.placedAt.localeCompare(a.placedAt));
    },
  };
}

/** A fault as the failure it means. */
function omieFault(status: number, code: string, message: string): ProviderError {
  const details = { status, code };
  if (UNAUTHORIZED.test(code)) return new ProviderError('omie', 'unauthorized', message, details);
  if (RATE_LIMITED.test(code) || status === 429 || status === 425) return new ProviderError('omie', 'rate_limited', message, details);
  // Omie's own failures ("SOAP-ENV:Server", "Erro interno") are transient, not refusals of the request.
  if (/SOAP-ENV:Server/.test(code)) return new ProviderError('omie', 'unavailable', message, details);
  return new ProviderError('omie', 'rejected', message, details);
}

/** "000000000008421", 8421, " 8421" → "8421"; "" when it is not an order number. */
export function normalizeOrderNumber(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,30}$/.test(text)) return '';
  return text.replace(/^0+(?=\d)/, '');
}

const E2E = /\b([ED][0-9A-Za-z]{31})\b/;
const TXID = /^[A-Za-z0-9]{26,35}$/;

/**
 * The Pix id a merchant's integration stored in `field` (a dotted path):
 * an EndToEndId anywhere in the text, or the whole value when it is shaped
 * like a txid (26–35 alphanumerics). Anything else is not a Pix id.
 */
export function paymentReferenceOf(raw: Json, field: string | undefined): string | undefined {
  if (!field) return undefined;
  let value: unknown = raw;
  for (const part of field.split('.')) value = isJson(value) ? value[part] : undefined;
  if (typeof value !== 'string') return undefined;
  const e2e = E2E.exec(value)?.[1];
  if (e2e) return e2e;
  return TXID.test(value.trim()) ? value.trim() : undefined;
}

/**
 * An Omie `pedido_venda_produto` as an ErpOrder. Every field may be missing
 * (ConsultarPedido omits empty ones). There is no Pix id in an Omie order:
 * `parcela.nsu` is a card NSU / e-commerce TID and is never read as one.
 */
export function parseOmieOrder(raw: Json, paymentReferenceField?: string): ErpOrder {
  const head = obj(raw.cabecalho);
  const info = obj(raw.infoCadastro);
  const parcels = arr(obj(raw.lista_parcelas).parcela);
  const first = parcels[0] ?? {};
  // meio_pagamento (tPag) is optional and "used only for NF-e emission"; absent → other.
  const method = METHODS[String(first.meio_pagamento ?? '').padStart(2, '0')] ?? 'other';
  const reference = paymentReferenceOf(raw, paymentReferenceField);
  const [date, time] = info.dFat ? [info.dFat, info.hFat] : info.dInc ? [info.dInc, info.hInc] : [head.data_previsao, undefined];
  try {
    if (typeof date !== 'string') throw new RangeError('order without a date');
    return {
      orderNumber: String(head.numero_pedido ?? ''),
      erpId: Number(head.codigo_pedido ?? 0),
      customerCode: Number(head.codigo_cliente ?? 0),
      totalCents: reais(obj(raw.total_pedido).valor_total_pedido),
      placedAt: omieDateTimeToIso(date, typeof time === 'string' ? time : undefined),
      payment: { method, ...(reference ? { reference } : {}) },
      items: arr(raw.det).map((d) => {
        const p = obj(d.produto);
        return { description: String(p.descricao ?? ''), quantity: Number(p.quantidade ?? 0), totalCents: reais(p.valor_total) };
      }),
      cancelled: info.cancelado === 'S',
    };
  } catch (error) {
    throw new ProviderError('omie', 'unavailable', `unreadable order ${String(head.numero_pedido ?? '?')}: ${(error as Error).message}`, { cause: error });
  }
}

/** An Omie ConsultarNF answer (`NfCadastro`) as the sale's invoice; null without a 44-digit key. */
export function parseOmieInvoice(raw: Json): ErpInvoice | null {
  const key = str(obj(raw.compl).cChaveNFe)?.replace(/^NFe/i, '').trim();
  if (!key || !/^\d{44}$/.test(key)) return null;
  const ide = obj(raw.ide);
  const items = arr(raw.det).map((d) => {
    const p = obj(d.prod);
    const ncm = str(p.NCM)?.replace(/\D/g, '');
    const cfop = str(p.CFOP)?.replace(/\D/g, '');
    const ean = str(p.cEAN);
    return {
      code: str(p.cProd) ?? '',
      description: str(p.xProd) ?? '',
      ...(ncm ? { ncm } : {}),
      ...(cfop ? { cfop } : {}),
      unit: str(p.uCom) ?? 'UN',
      quantity: Number(p.qCom ?? 0),
      unitValue: Number(p.vUnCom ?? 0),
      totalCents: reais(p.vProd),
      ...(ean && ean !== 'SEM GTIN' ? { ean } : {}),
    };
  });
  return { key, ...(str(ide.nNF) ? { number: str(ide.nNF) } : {}), ...(str(ide.serie) ? { series: str(ide.serie) } : {}), items };
}

/** An Omie `clientes_cadastro` as an ErpCustomer: tax id as digits, phones as 55 + DDD + number. */
export function parseOmieCustomer(raw: Json): ErpCustomer {
  const phones = [phoneFromParts(str(raw.telefone1_ddd), str(raw.telefone1_numero)), phoneFromParts(str(raw.telefone2_ddd), str(raw.telefone2_numero))];
  const taxId = typeof raw.cnpj_cpf === 'string' ? cpfDigits(raw.cnpj_cpf) : '';
  const address = Object.fromEntries(
    Object.entries({
      street: str(raw.endereco),
      number: str(raw.endereco_numero),
      complement: str(raw.complemento),
      district: str(raw.bairro),
      city: str(raw.cidade)?.replace(/\s*\([A-Z]{2}\)\s*$/, ''),
      cityIbge: str(raw.cidade_ibge),
      uf: str(raw.estado)?.toUpperCase(),
      cep: str(raw.cep)?.replace(/\D/g, ''),
    }).filter(([, v]) => v !== undefined && v !== ''),
  );
  const ie = str(raw.inscricao_estadual)?.trim();
  return {
    code: Number(raw.codigo_cliente_omie ?? 0),
    name: String(raw.razao_social || raw.nome_fantasia || ''),
    ...(taxId ? { taxId } : {}),
    phones: [...new Set(phones.filter((p): p is string => p !== null))],
    ...(Object.keys(address).length ? { address } : {}),
    ...(ie && !/^isento$/i.test(ie) ? { stateRegistration: ie.replace(/\W/g, '') } : {}),
    ...(raw.contribuinte === 'S' || raw.contribuinte === 'N' ? { icmsContributor: raw.contribuinte === 'S' } : {}),
  };
}

/** "22/11/2026" + "10:30:00" in Brazil time (UTC−03:00, no DST since 2019) → ISO 8601 UTC. */
export function omieDateTimeToIso(date: string, time = '00:00:00'): string {
  const d = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(date.trim());
  if (!d) throw new RangeError(`not a dd/mm/aaaa date: ${JSON.stringify(date)}`);
  const t = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(time.trim());
  const clock = t ? `${t[1]}:${t[2]}:${t[3] ?? '00'}` : '00:00:00';
  const ms = Date.parse(`${d[3]}-${d[2]}-${d[1]}T${clock}-03:00`);
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${JSON.stringify(date)} ${JSON.stringify(time)}`);
  return new Date(ms).toISOString();
}

/** ISO instant → "dd/mm/aaaa" in Brazil time. */
export function isoToOmieDate(iso: string): string {
  const d = brazilTime(iso);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

/** ISO instant → "hh:mm:ss" in Brazil time. */
export function isoToOmieTime(iso: string): string {
  return brazilTime(iso).toISOString().slice(11, 19);
}

function brazilTime(iso: string): Date {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO date: ${JSON.stringify(iso)}`);
  return new Date(ms - 3 * 3_600_000);
}

/**
 * Per-id memo of answers. The promise itself is stored, so concurrent lookups
 * of one id make one request. Omie answers the same id asked again within
 * 60 s with a "redundant" fault, so a "not found" is kept too (asking again
 * would not tell us more); only a failure is forgotten at once.
 */
function ttlCache<T>(ttlMs: number, shared?: (key: string, load: () => Promise<T | null>) => Promise<T | null>) {
  const entries = new Map<string, { at: number; value: Promise<T | null> }>();
  const get = (key: string, load: () => Promise<T | null>): Promise<T | null> => {
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    for (const [k, e] of entries) if (now - e.at >= ttlMs) entries.delete(k);
    const entry = { at: now, value: shared ? shared(key, load) : load() };
    entries.set(key, entry);
    const forget = () => {
      if (entries.get(key) === entry) entries.delete(key);
    };
    entry.value.then(() => undefined, forget);
    return entry.value;
  };
  get.put = (key: string, value: T) => void entries.set(key, { at: Date.now(), value: Promise.resolve(value) });
  get.clear = () => entries.clear();
  return get;
}

/**
 * The second level of `ttlCache`: another process's answer from the shared
 * cache when it is fresh, else `load` and share what it gave. The shared
 * cache failing never fails a lookup (it only costs a call to Omie).
 */
function sharedAs<T>(prefix: string, ttlMs: number, shared: SharedCache | undefined): ((key: string, load: () => Promise<T | null>) => Promise<T | null>) | undefined {
  if (!shared) return undefined;
  return async (key, load) => {
    const stored = await shared.get(prefix + key, Date.now() - ttlMs).catch(() => undefined);
    if (stored !== undefined) return JSON.parse(stored) as T | null;
    const value = await load();
    await shared.put(prefix + key, JSON.stringify(value), Date.now()).catch(() => undefined);
    return value;
  };
}

function reais(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value !== 'number' && typeof value !== 'string') throw new RangeError(`not an amount: ${JSON.stringify(value)}`);
  return reaisToCents(value);
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const obj = (value: unknown): Json => (isJson(value) ? value : {});
const arr = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isJson) : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);
const pad = (n: number) => String(n).padStart(2, '0');
