import express, { type Request, type Response } from 'express';
import { centsToDecimalString } from '../../core/money.ts';
import { isoToOmieDate, isoToOmieTime } from '../../tools/rails/omie.ts';
import { SANDBOX_CREDENTIALS } from '../credentials.ts';
import type { SeedCustomer, SeedOrder } from '../seed.ts';
import { emulate, type EmulatorContext } from './common.ts';
import type { World } from './state.ts';

/**
 * Omie's API as its clients see it (PROVIDERS.md §2): POST
 * `/api/v1/{modulo}/{servico}/` with `{call, app_key, app_secret, param: [{…}]}`,
 * money as JSON numbers in reais, dates in Brazil time, faults as
 * `{faultstring, faultcode}`.
 */

type Json = Record<string, unknown>;

const fault = (faultcode: string, faultstring: string) => ({ faultstring, faultcode });
const reais = (cents: number) => Number(centsToDecimalString(cents));

export function renderOrder(o: SeedOrder): Json {
  const refunded = o.priorRefundsCents.reduce((s, c) => s + c, 0);
  return {
    cabecalho: {
      codigo_pedido: o.erpId,
      codigo_pedido_integracao: `LOJA-${o.orderNumber}`,
      numero_pedido: o.orderNumber,
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
        cfop: '5102',
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
          meio_pagamento: o.method === 'pix' ? '17' : '03',
          ...(o.endToEndId ? { nsu: o.endToEndId } : {}),
        },
      ],
    },
  };
}

function renderCustomer(c: SeedCustomer): Json {
  return {
    codigo_cliente_omie: c.code,
    codigo_cliente_integracao: c.integrationCode,
    razao_social: c.name,
    nome_fantasia: c.name,
    cnpj_cpf: c.cpf,
    pessoa_fisica: 'S',
    telefone1_ddd: c.ddd,
    telefone1_numero: c.number,
    email: `${c.name.split(' ')[0]?.toLowerCase()}@example.com`,
    inativo: 'N',
  };
}

function page<T>(rows: T[], param: Json): { items: T[]; meta: Json } | null {
  const pageNo = Math.max(1, Number(param.pagina ?? 1));
  const size = Math.min(500, Math.max(1, Number(param.registros_por_pagina ?? 50)));
  const total = Math.max(1, Math.ceil(rows.length / size));
  if (rows.length === 0 || pageNo > total) return null;
  return { items: rows.slice((pageNo - 1) * size, pageNo * size), meta: { pagina: pageNo, total_de_paginas: total, registros: Math.min(size, rows.length - (pageNo - 1) * size), total_de_registros: rows.length } };
}

export function omieRouter(ctx: EmulatorContext, world: World): express.Router {
  const router = express.Router();
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
      const [status, answer] = fn(param);
      res.status(status).json(answer);
    });
  const parser = express.json({ limit: '1mb' });

  router.post('/api/v1/produtos/pedido/', parser, handle('produtos/pedido', {
    ConsultarPedido(param) {
      const o = world.state.orders.find((x) => (param.numero_pedido !== undefined && x.orderNumber === String(param.numero_pedido)) || (param.codigo_pedido !== undefined && x.erpId === Number(param.codigo_pedido)));
      if (!o) return [500, fault('SOAP-ENV:Client-105', `ERROR: Pedido não cadastrado para o Código [${String(param.numero_pedido ?? param.codigo_pedido).slice(0, 30)}] !`)];
      return [200, { pedido_venda_produto: renderOrder(o) }];
    },
    ListarPedidos(param) {
      const since = typeof param.filtrar_por_data_de === 'string' ? param.filtrar_por_data_de.split('/').reverse().join('-') : '0000';
      const rows = world.state.orders
        .filter((o) => param.filtrar_por_cliente === undefined || o.customerCode === Number(param.filtrar_por_cliente))
        .filter((o) => new Date(Date.parse(o.placedAt) - 3 * 3_600_000).toISOString().slice(0, 10) >= since)
        .map(renderOrder);
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
      const o = world.state.orders.find((x) => x.erpId === Number(param.nCodPed));
      if (!o) return [500, fault('SOAP-ENV:Client-103', 'ERROR: Nota fiscal não encontrada!')];
      return [200, { compl: { cChaveNFe: o.invoiceKey }, ide: { nNF: o.invoiceNumber, serie: '1', dEmi: isoToOmieDate(o.placedAt) } }];
    },
  }));
  return router;
}
