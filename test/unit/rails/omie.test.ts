import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.ts';
import { brDateTimeToIso, createOmieClient } from '../../../tools/rails/omie-erp.ts';

const BASE = 'https://app.omie.com.br';
const creds = { appKey: '123', appSecret: 's3cret' };

const order8421 = {
  cabecalho: { codigo_pedido: 9178008421, numero_pedido: '8421', codigo_cliente: 5366578001, etapa: '60' },
  det: [{ produto: { descricao: 'Camiseta algodão azul M', quantidade: 2, valor_unitario: 93, valor_total: 186 } }],
  total_pedido: { valor_total_pedido: 186 },
  infoCadastro: { dFat: '22/11/2026', hFat: '10:30:00', cancelado: 'N', faturado: 'S' },
  lista_parcelas: { parcela: [{ numero_parcela: 1, valor: 186, percentual: 100, meio_pagamento: '17', nsu: 'E18236120202611221330sbx8421pay0' }] },
};

describe('Omie adapter (ConsultarPedido, ConsultarCliente, ListarClientes, ListarPedidos)', () => {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  const client = () => createOmieClient({ baseUrl: BASE, ...creds, timeoutMs: 300 });

  it('sends the JSON-RPC envelope with credentials in the body and parses the order in cents', async () => {
    let body: Record<string, unknown> = {};
    nock(BASE)
      .post('/api/v1/produtos/pedido/', (b) => ((body = b), true))
      .reply(200, { pedido_venda_produto: order8421 })
      .post('/api/v1/produtos/nfconsultar/', { call: 'ConsultarNF', app_key: '123', app_secret: 's3cret', param: [{ nCodPed: 9178008421 }] })
      .reply(200, { compl: { cChaveNFe: '35261112345678000195550010000184211100084215' }, ide: { nNF: 18421, serie: '1' } });
    const order = await client().getOrder('8421');
    expect(body).toEqual({ call: 'ConsultarPedido', app_key: '123', app_secret: 's3cret', param: [{ numero_pedido: '8421' }] });
    expect(order).toEqual({
      orderNumber: '8421',
      erpId: 9178008421,
      customerCode: 5366578001,
      totalCents: 18600,
      placedAt: '2026-11-22T13:30:00.000Z',
      payment: { method: 'pix', endToEndId: 'E18236120202611221330sbx8421pay0' },
      items: [{ description: 'Camiseta algodão azul M', quantity: 2, totalCents: 18600 }],
      cancelled: false,
      invoiceKey: '35261112345678000195550010000184211100084215',
    });
  });

  it('reads a fault on HTTP 500 (Client-105) as "no such order"', async () => {
    nock(BASE).post('/api/v1/produtos/pedido/').reply(500, { faultstring: 'ERROR: Pedido não cadastrado para o Código [7777] !', faultcode: 'SOAP-ENV:Client-105' });
    expect(await client().getOrder('7777')).toBeNull();
  });

  it('reads a fault on HTTP 200 as an error (200 is not success at Omie)', async () => {
    nock(BASE).post('/api/v1/produtos/pedido/').reply(200, { faultstring: 'ERROR: A chave de acesso não está preenchida ou não é válida!', faultcode: 'SOAP-ENV:Client-101' });
    await expect(client().getOrder('8421')).rejects.toMatchObject({ provider: 'omie', failure: 'unauthorized', code: 'SOAP-ENV:Client-101' });
  });

  it('maps rate limiting and misuse to rate_limited, and server faults to unavailable', async () => {
    nock(BASE).post('/api/v1/produtos/pedido/').reply(500, { faultstring: 'API bloqueada por consumo indevido. Tente novamente em 30 segundos.', faultcode: 'MISUSE_API_PROCESS' });
    await expect(client().getOrder('1')).rejects.toMatchObject({ failure: 'rate_limited' });
    nock(BASE).post('/api/v1/produtos/pedido/').reply(429, 'Too Many');
    await expect(client().getOrder('2')).rejects.toMatchObject({ failure: 'rate_limited' });
    nock(BASE).post('/api/v1/produtos/pedido/').reply(502, '<html>bad gateway</html>');
    await expect(client().getOrder('3')).rejects.toMatchObject({ failure: 'unavailable', outcomeUnknown: true });
  });

  it('times out instead of waiting forever', async () => {
    nock(BASE).post('/api/v1/produtos/pedido/').delay(1_000).reply(200, {});
    const error = await client().getOrder('8421').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ failure: 'timeout', outcomeUnknown: true });
  });

  it('caches an order for 60 s: Omie refuses the same id twice a minute', async () => {
    const scope = nock(BASE)
      .post('/api/v1/produtos/pedido/').once().reply(200, { pedido_venda_produto: order8421 })
      .post('/api/v1/produtos/nfconsultar/').once().reply(500, { faultstring: 'ERROR: not found', faultcode: 'SOAP-ENV:Client-103' });
    const c = client();
    await c.getOrder('8421');
    const again = await c.getOrder('8421');
    expect(again?.totalCents).toBe(18600);
    expect(again?.invoiceKey).toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('finds a customer by phone by scanning ListarClientes pages, matching the ninth digit either way', async () => {
    const page = (n: number, rows: unknown[]) => ({ pagina: n, total_de_paginas: 2, registros: rows.length, total_de_registros: 2, clientes_cadastro: rows });
    nock(BASE)
      .post('/api/v1/geral/clientes/', (b) => b.call === 'ListarClientes' && b.param[0].pagina === 1)
      .reply(200, page(1, [{ codigo_cliente_omie: 1, razao_social: 'Outra', telefone1_ddd: '21', telefone1_numero: '3333-4444' }]))
      .post('/api/v1/geral/clientes/', (b) => b.call === 'ListarClientes' && b.param[0].pagina === 2)
      .reply(200, page(2, [{ codigo_cliente_omie: 5366578001, razao_social: 'Marina Souza', cnpj_cpf: '529.982.247-25', telefone1_ddd: '11', telefone1_numero: '8765-4321' }]));
    const customer = await client().findCustomerByPhone('5511987654321');
    expect(customer).toEqual({ code: 5366578001, name: 'Marina Souza', taxId: '52998224725', phones: ['551187654321'] });
  });

  it('filters ListarClientes by CPF and treats Client-5113 as "none"', async () => {
    nock(BASE)
      .post('/api/v1/geral/clientes/', { call: 'ListarClientes', app_key: '123', app_secret: 's3cret', param: [{ pagina: 1, registros_por_pagina: 50, clientesFiltro: { cnpj_cpf: '11144477735' } }] })
      .reply(500, { faultstring: 'ERROR: Não existem registros para a página [1]!', faultcode: 'SOAP-ENV:Client-5113' });
    expect(await client().findCustomerByTaxId('11144477735')).toBeNull();
  });

  it('lists a customer\'s orders since a date, newest first', async () => {
    const older = { ...order8421, cabecalho: { ...order8421.cabecalho, numero_pedido: '8000' }, infoCadastro: { dFat: '01/11/2026', hFat: '09:00:00' } };
    nock(BASE)
      .post('/api/v1/produtos/pedido/', (b) => b.call === 'ListarPedidos' && b.param[0].filtrar_por_cliente === 5366578001 && b.param[0].filtrar_por_data_de === '24/10/2026')
      .reply(200, { pagina: 1, total_de_paginas: 1, registros: 2, total_de_registros: 2, pedido_venda_produto: [older, order8421] });
    const orders = await client().listOrders(5366578001, '2026-10-24T12:00:00.000Z');
    expect(orders.map((o) => o.orderNumber)).toEqual(['8421', '8000']);
  });

  it('reads Brazil dates and times as UTC−03:00', () => {
    expect(brDateTimeToIso('22/11/2026', '23:15:00')).toBe('2026-11-23T02:15:00.000Z');
  });
});
