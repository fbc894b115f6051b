import express, { type Request, type Response } from 'express';
import { centsToDecimalString } from '../../core/money.ts';
import { isoToOmieDate, isoToOmieTime } from '../../providers/omie.ts';
import { SANDBOX_CREDENTIALS } from '../credentials.ts';
import type { SeedCustomer, SeedOrder } from '../seed.ts';
import { emulate, type EmulatorContext } from './common.ts';
import type { World } from './state.ts';

/**
 * Omie's API as its clients see it (PROVIDERS.md §2 and "Corrections"): POST
 * `/api/v1/{modulo}/{servico}/` with `{call, app_key, app_secret, param: [{…}]}`,
 * money as JSON numbers in reais, dates in Brazil time, faults as
 * `{faultstring, faultcode}`. Like Omie it refuses a tag that is not part of
 * the call's request type (Client-5001 naming it), omits empty fields, pads
 * order numbers, and answers the same id asked again within 60 s with a
 * "redundant" fault (Client-6). Orders carry no Pix id (`nsu` is a card NSU).
 */

type Json = Record<string, unknown>;

const fault = (faultcode: string, faultstring: string) => ({ faultstring, faultcode });

/** The tags of each call's request type (omie-lib classes generated from Omie's WSDL). */
const REQUEST_TAGS: Record<string, { type: string; tags: string[] }> = {
  ConsultarPedido: { type: 'pvpConsultarRequest', tags: ['codigo_pedido', 'codigo_pedido_integracao', 'numero_pedido'] },
  ListarPedidos: {
    type: 'pvpListarRequest',
    tags: ['pagina', 'registros_por_pagina', 'apenas_importado_api', 'apenas_resumo', 'etapa', 'filtrar_por_cliente', 'filtrar_por_vendedor', 'filtrar_por_data_de', 'filtrar_por_data_ate', 'filtrar_por_hora_de', 'filtrar_por_hora_ate', 'ordenar_por', 'ordem_decrescente', 'numero_pedido_de', 'numero_pedido_ate'],
  },
  ConsultarCliente: { type: 'clientes_cadastro_chave', tags: ['codigo_cliente_omie', 'codigo_cliente_integracao'] },
  ListarClientes: { type: 'clientes_list_request', tags: ['pagina', 'registros_por_pagina', 'apenas_importado_api', 'clientesFiltro', 'clientesPorCodigo', 'exibir_caracteristicas', 'ordenar_por', 'ordem_decrescente', 'filtrar_por_data_de', 'filtrar_por_data_ate'] },
  ConsultarNF: { type: 'nfChave', tags: ['cCodNFInt', 'nCodNF', 'nNF', 'serie', 'dEmi', 'tpNF', 'cChaveNFe', 'nIdPedido', 'nIdCliente', 'cnpj_cpf', 'cDetalhesPedido', 'tpAmb'] },
};

/** Omie pads some order numbers to 15 digits ("000000000007949"). */
const padded = (orderNumber: string) => orderNumber.padStart(15, '0');
const sameNumber = (a: unknown, b: string) => /^\d+$/.test(String(a ?? '').trim()) && BigInt(String(a).trim()) === BigInt(b);
const reais = (cents: number) => Number(centsToDecimalString(cents));

export function renderOrder(o: SeedOrder, customers: SeedCustomer[]): Json {
  const refunded = o.priorRefundsCents.reduce((s, c) => s + c, 0);
  return {
    cabecalho: {
      codigo_pedido: o.erpId,
      codigo_pedido_integracao: `LOJA-${o.orderNumber}`,
      numero_pedido: padded(o.orderNumber),
      codigo_cliente: o.customerCode,
      data_previsao: isoToOmieDate(o.placedAt),
      etapa: '60',
      quantidade_itens: o.items.length,
    },
    det: o.items.map((item, i) => ({
      ide: { codigo_item: i + 1 },
      produto: {
        codigo: item.sku,
        descricao: item.description,
        quantidade: item.quantity,
        valor_unitario: reais(item.unitCents),
        valor_total: reais(item.unitCents * item.quantity),
        cfop: saleCfop(o, customers),
        ncm: item.ncm,
        unidade: 'UN',
      },
    })),
    total_pedido: { valor_mercadorias: reais(o.totalCents), valor_total_pedido: reais(o.totalCents) },
    infoCadastro: {
      dInc: isoToOmieDate(o.placedAt),
      hInc: isoToOmieTime(o.placedAt),
      dFat: isoToOmieDate(o.placedAt),
      hFat: isoToOmieTime(o.placedAt),
      faturado: 'S',
      cancelado: 'N',
      devolvido: 'N',
      devolvido_parcial: refunded > 0 ? 'S' : 'N',
    },
    lista_parcelas: {
      parcela: [
        {
          numero_parcela: 1,
          data_vencimento: isoToOmieDate(o.placedAt),
          valor: reais(o.totalCents),
          percentual: 100,
          // Optional in Omie ("used only for NF-e emission"): one seeded Pix order leaves it out.
          ...(o.method === 'credit_card' ? { meio_pagamento: '03', nsu: `${o.erpId}`.slice(-6) } : o.orderNumber === '9001' ? {} : { meio_pagamento: '17' }),
        },
      ],
    },
  };
}

/** The sale's CFOP: 5102 inside the merchant's state (SP), 6102 to another. */
export function saleCfop(o: SeedOrder, customers: SeedCustomer[]): string {
  const uf = customers.find((c) => c.code === o.customerCode)?.address.uf ?? 'SP';
  return uf === 'SP' ? '5102' : '6102';
}

function renderCustomer(c: SeedCustomer): Json {
  // Empty fields are omitted, as ConsultarCliente does (no IE for a consumer).
  return {
    codigo_cliente_omie: c.code,
    codigo_cliente_integracao: c.integrationCode,
    razao_social: c.name,
    nome_fantasia: c.name,
    ...(c.cpf ? { cnpj_cpf: c.cpf } : {}),
    pessoa_fisica: 'S',
    contribuinte: 'N',
    telefone1_ddd: c.ddd,
    telefone1_numero: c.number,
    email: `${c.name.split(' ')[0]?.toLowerCase()}@example.com`,
    endereco: c.address.street,
    endereco_numero: c.address.number,
    bairro: c.address.district,
    cidade: `${c.address.city} (${c.address.uf})`,
    cidade_ibge: c.address.cityIbge,
    estado: c.address.uf,
    cep: c.address.cep,
    codigo_pais: '1058',
    inativo: 'N',
  };
}

/** ConsultarNF's answer (`NfCadastro`): ide, nfDestInt, det[].prod, total, compl. */
function renderInvoice(o: SeedOrder, c: SeedCustomer | undefined): Json {
  const cfop = saleCfop(o, c ? [c] : []);
  return {
    ide: { mod: '55', serie: '1', nNF: String(o.invoiceNumber), dEmi: isoToOmieDate(o.placedAt), hEmi: isoToOmieTime(o.placedAt), tpNF: '1', tpAmb: '1', finNFe: '1' },
    nfDestInt: { nCodCli: o.customerCode, ...(c ? { cRazao: c.name, cnpj_cpf: c.cpf } : {}) },
    det: o.items.map((item, i) => ({
      prod: {
        cProd: item.sku,
        xProd: item.description,
        NCM: item.ncm,
        CFOP: cfop,
        uCom: 'UN',
        qCom: item.quantity,
        vUnCom: reais(item.unitCents),
        vProd: reais(item.unitCents * item.quantity),
        cEAN: 'SEM GTIN',
        uTrib: 'UN',
        qTrib: item.quantity,
        vUnTrib: reais(item.unitCents),
      },
      nfProdInt: { cCodItemInt: `${o.orderNumber}-${i + 1}`, nCodItem: i + 1 },
    })),
    total: { ICMSTot: { vProd: reais(o.totalCents), vNF: reais(o.totalCents) } },
    compl: { nIdNF: 7_000_000 + o.invoiceNumber, nIdPedido: o.erpId, cChaveNFe: o.invoiceKey },
  };
}

function page<T>(rows: T[], param: Json): { items: T[]; meta: Json } | null {
  const pageNo = Math.max(1, Number(param.pagina ?? 1));
  const size = Math.min(500, Math.max(1, Number(param.registros_por_pagina ?? 50)));
  const total = Math.max(1, Math.ceil(rows.length / size));
  if (rows.length === 0 || pageNo > total) return null;
  return { items: rows.slice((pageNo - 1) * size, pageNo * size), meta: { pagina: pageNo, total_de_paginas: total, registros: Math.min(size, rows.length - (pageNo - 1) * size), total_de_registros: rows.length } };
}

export function omieRouter(ctx: EmulatorContext, world: World, redundancyMs = 60_000): express.Router {
  const router = express.Router();
  // "Consultar*" of the same id within 60 s: only the first call answers with data.
  const served = new Map<string, number>();
  const serverFault = (status: number) => (status === 429 ? fault('MISUSE_API_PROCESS', 'API bloqueada por consumo indevido. Tente novamente em 1 segundos.') : fault('SOAP-ENV:Server', 'ERROR: Erro interno'));
  const handle = (service: string, calls: Record<string, (param: Json) => [number, unknown]>) =>
    emulate(ctx, 'omie', serverFault, (req: Request, res: Response) => {
      const body = (req.body ?? {}) as Json;
      if (body.app_key !== SANDBOX_CREDENTIALS.omie.appKey || body.app_secret !== SANDBOX_CREDENTIALS.omie.appSecret) {
        return void res.status(500).json(fault('SOAP-ENV:Client-101', 'ERROR: A chave de acesso não está preenchida ou não é válida!'));
      }
      const fn = calls[String(body.call)];
      if (!fn) return void res.status(500).json(fault('SOAP-ENV:Client-5001', `ERROR: O método [${String(body.call).slice(0, 50)}] não existe no serviço [${service}]`));
      const param = Array.isArray(body.param) && typeof body.param[0] === 'object' && body.param[0] !== null ? (body.param[0] as Json) : null;
      if (!param) return void res.status(500).json(fault('SOAP-ENV:Client-8', 'ERROR: A tag [param] deve ser uma lista com um objeto'));
      const shape = REQUEST_TAGS[String(body.call)];
      const unknown = shape ? Object.keys(param).find((tag) => !shape.tags.includes(tag)) : undefined;
      if (shape && unknown !== undefined) {
        return void res.status(500).json(fault('SOAP-ENV:Client-5001', `ERROR: Tag [${unknown.toUpperCase().slice(0, 60)}] não faz parte da estrutura do tipo complexo [${shape.type}]!`));
      }
      const redundancyKey = String(body.call).startsWith('Consultar') ? `${world.generation}:${String(body.call)}:${JSON.stringify(param)}` : null;
      const now = Date.now();
      if (redundancyKey && redundancyMs > 0 && now - (served.get(redundancyKey) ?? -Infinity) < redundancyMs) {
        return void res.status(500).json(fault('SOAP-ENV:Client-6', `ERROR: Consumo redundante detectado. Essa requisição já foi realizada há menos de ${Math.ceil(redundancyMs / 1000)} segundos. Aguarde e tente novamente.`));
      }
      const [status, answer] = fn(param);
      if (redundancyKey && status === 200) served.set(redundancyKey, now);
      if (served.size > 50_000) for (const [k, at] of served) if (now - at >= redundancyMs) served.delete(k);
      res.status(status).json(answer);
    });
  const parser = express.json({ limit: '1mb' });

  router.post('/api/v1/produtos/pedido/', parser, handle('produtos/pedido', {
    ConsultarPedido(param) {
      const o = world.state.orders.find((x) => (param.numero_pedido !== undefined && sameNumber(param.numero_pedido, x.orderNumber)) || (param.codigo_pedido !== undefined && x.erpId === Number(param.codigo_pedido)));
      if (!o) return [500, fault('SOAP-ENV:Client-105', `ERROR: Pedido não cadastrado para o Código [${String(param.numero_pedido ?? param.codigo_pedido).slice(0, 30)}] !`)];
      return [200, { pedido_venda_produto: renderOrder(o, world.state.customers) }];
    },
    ListarPedidos(param) {
      const since = typeof param.filtrar_por_data_de === 'string' ? param.filtrar_por_data_de.split('/').reverse().join('-') : '0000';
      const rows = world.state.orders
        .filter((o) => param.filtrar_por_cliente === undefined || o.customerCode === Number(param.filtrar_por_cliente))
        .filter((o) => new Date(Date.parse(o.placedAt) - 3 * 3_600_000).toISOString().slice(0, 10) >= since)
        .map((o) => renderOrder(o, world.state.customers));
      const p = page(rows, param);
      if (!p) return [500, fault('SOAP-ENV:Client-5113', `ERROR: Não existem registros para a página [${String(param.pagina ?? 1)}]!`)];
      return [200, { ...p.meta, pedido_venda_produto: p.items }];
    },
  }));
  router.post('/api/v1/geral/clientes/', parser, handle('geral/clientes', {
    ConsultarCliente(param) {
      const c = world.state.customers.find((x) => x.code === Number(param.codigo_cliente_omie));
      if (!c) return [500, fault('SOAP-ENV:Client-103', 'ERROR: Cliente não cadastrado para o Código informado!')];
      return [200, renderCustomer(c)];
    },
    ListarClientes(param) {
      const filter = (param.clientesFiltro ?? {}) as Json;
      const tax = typeof filter.cnpj_cpf === 'string' ? filter.cnpj_cpf.replace(/\D/g, '') : null;
      const rows = world.state.customers.filter((c) => tax === null || c.cpf.replace(/\D/g, '') === tax).map(renderCustomer);
      const p = page(rows, param);
      if (!p) return [500, fault('SOAP-ENV:Client-5113', `ERROR: Não existem registros para a página [${String(param.pagina ?? 1)}]!`)];
      return [200, { ...p.meta, clientes_cadastro: p.items }];
    },
  }));
  router.post('/api/v1/produtos/nfconsultar/', parser, handle('produtos/nfconsultar', {
    ConsultarNF(param) {
      const o = world.state.orders.find(
        (x) =>
          (param.nIdPedido !== undefined && x.erpId === Number(param.nIdPedido)) ||
          (param.cChaveNFe !== undefined && x.invoiceKey === String(param.cChaveNFe)) ||
          (param.nCodNF !== undefined && 7_000_000 + x.invoiceNumber === Number(param.nCodNF)) ||
          (param.nNF !== undefined && sameNumber(param.nNF, String(x.invoiceNumber))),
      );
      if (!o) return [500, fault('SOAP-ENV:Client-103', 'ERROR: Nota fiscal não encontrada!')];
      return [200, renderInvoice(o, world.state.customers.find((c) => c.code === o.customerCode))];
    },
  }));
  return router;
}
