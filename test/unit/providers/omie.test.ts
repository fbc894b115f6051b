import nock from 'nock';
import { describe, expect, it, vi } from 'vitest';
import { useNock } from '../../helpers/nock.ts';
import { ProviderError } from '../../../core/errors.ts';
import { createOmieClient, isoToOmieDate, isoToOmieTime, omieDateTimeToIso, parseOmieOrder } from '../../../providers/omie.ts';

const BASE = 'https://app.omie.com.br';
const KEY = '35261112345678000195550010000184211100084215';
const E2E = 'E18236120202611221330sbx8421pay0';
const envelope = (call: string, param: object) => ({ call, app_key: 'APPKEY', app_secret: 'APPSECRET', param: [param] });
const fault = (code: string, text: string) => ({ faultstring: text, faultcode: `SOAP-ENV:${code}` });
const notFound = fault('Client-105', 'ERROR: Pedido não cadastrado para o Código [7777] !');
const noRecords = fault('Client-5113', 'ERROR: Não existem registros para a página [1]!');

const order8421 = {
  cabecalho: { codigo_pedido: 9178008421, numero_pedido: '8421', codigo_cliente: 5366578001, etapa: '60' },
  det: [{ ide: { codigo_item: 1 }, produto: { descricao: 'Camiseta algodão azul M', quantidade: 2, valor_unitario: 93, valor_total: 186 } }],
  total_pedido: { valor_mercadorias: 186, valor_total_pedido: 186 },
  infoCadastro: { dInc: '21/11/2026', hInc: '09:00:00', dFat: '22/11/2026', hFat: '10:30:00', cancelado: 'N', faturado: 'S' },
  lista_parcelas: { parcela: [{ numero_parcela: 1, data_vencimento: '22/11/2026', valor: 186, percentual: 100, meio_pagamento: '17', nsu: E2E }] },
};
const marina = {
  codigo_cliente_omie: 5366578001,
  razao_social: 'Marina Souza',
  nome_fantasia: 'Marina',
  cnpj_cpf: '529.982.247-25',
  telefone1_ddd: '11',
  telefone1_numero: '98765-4321',
  telefone2_ddd: '(11)',
  telefone2_numero: '3333 4444',
};

describe('Omie adapter', () => {
  useNock();
  const client = () => createOmieClient({ baseUrl: `${BASE}/`, appKey: 'APPKEY', appSecret: 'APPSECRET', timeoutMs: 200 });

  describe('getOrder', () => {
    it('posts ConsultarPedido and ConsultarNF envelopes and maps the order to cents, UTC and the NF-e key', async () => {
      const bodies: unknown[] = [];
      nock(BASE, { reqheaders: { 'content-type': /application\/json/ } })
        .post('/api/v1/produtos/pedido/', (b) => (bodies.push(b), true))
        .reply(200, { pedido_venda_produto: order8421 })
        .post('/api/v1/produtos/nfconsultar/', (b) => (bodies.push(b), true))
        .reply(200, { compl: { cChaveNFe: KEY }, ide: { nNF: 18421, serie: '1' } });

      const order = await client().getOrder('8421');

      // ConsultarNF is keyed by nIdPedido (omie-lib Nfconsultar/NfChave.php); there is no nCodPed.
      expect(bodies).toEqual([envelope('ConsultarPedido', { numero_pedido: '8421' }), envelope('ConsultarNF', { nIdPedido: 9178008421 })]);
      expect(order).toEqual({
        orderNumber: '8421',
        erpId: 9178008421,
        customerCode: 5366578001,
        totalCents: 18600,
        placedAt: '2026-11-22T13:30:00.000Z',
        // parcela.nsu is a card NSU / e-commerce TID (omie-lib Pedido/Parcela.php): never read as a Pix id.
        payment: { method: 'pix' },
        items: [{ description: 'Camiseta algodão azul M', quantity: 2, totalCents: 18600 }],
        cancelled: false,
        invoiceKey: KEY,
        invoice: { key: KEY, number: '18421', series: '1', items: [] },
      });
    });

    it('answers null for Client-105, whether Omie sends it with HTTP 500 or 200, and keeps the miss for 60 s (asking again would be redundant)', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-23T12:00:00Z'));
      const scope = nock(BASE).post('/api/v1/produtos/pedido/').reply(500, notFound).post('/api/v1/produtos/pedido/').reply(200, notFound);
      const c = client();
      expect(await c.getOrder('7777')).toBeNull();
      expect(await c.getOrder('7777')).toBeNull();
      expect(scope.pendingMocks()).toHaveLength(1);
      now.mockReturnValue(Date.parse('2026-11-23T12:01:01Z'));
      expect(await c.getOrder('7777')).toBeNull();
      expect(scope.isDone()).toBe(true);
    });

    it('surfaces a ConsultarNF fault that is not "not found" (an unknown tag) as a fault, never as "not invoiced"', async () => {
      nock(BASE)
        .post('/api/v1/produtos/pedido/').reply(200, { pedido_venda_produto: order8421 })
        .post('/api/v1/produtos/nfconsultar/').reply(500, fault('Client-5001', 'ERROR: Tag [NCODPED] não faz parte da estrutura do tipo complexo [nfChave]!'));
      await expect(client().getOrder('8421')).rejects.toMatchObject({ provider: 'omie', failure: 'rejected', code: 'SOAP-ENV:Client-5001' });
    });

    it('compares order numbers numerically: Omie\'s zero-padded "000000000008421" is order 8421', async () => {
      const bodies: unknown[] = [];
      nock(BASE)
        .post('/api/v1/produtos/pedido/', (b) => (bodies.push(b), true))
        .reply(200, { pedido_venda_produto: { ...order8421, cabecalho: { ...order8421.cabecalho, numero_pedido: '000000000008421' } } })
        .post('/api/v1/produtos/nfconsultar/').reply(200, { compl: { cChaveNFe: KEY } });
      const order = await client().getOrder('008421');
      expect(order?.orderNumber).toBe('8421');
      expect(bodies[0]).toEqual(envelope('ConsultarPedido', { numero_pedido: '8421' }));
    });

    it('reads Client-105 as "not found" only when it says so; an invalid-value 105 is a fault', async () => {
      nock(BASE).post('/api/v1/produtos/pedido/').reply(500, fault('Client-105', 'ERROR: Valor inválido para a tag [numero_pedido]. Valores permitidos: números'));
      await expect(client().getOrder('8421')).rejects.toMatchObject({ failure: 'rejected', code: 'SOAP-ENV:Client-105' });
    });

    it('treats Client-500 ("consumo indevido") as rate limiting', async () => {
      nock(BASE).post('/api/v1/produtos/pedido/').reply(500, fault('Client-500', 'ERROR: Consumo indevido da API. Aguarde 60 segundos.'));
      await expect(client().getOrder('8421')).rejects.toMatchObject({ failure: 'rate_limited', code: 'SOAP-ENV:Client-500' });
    });

    it('reads a Pix id only from the configured field, and every field may be absent', async () => {
      const withRef = { ...order8421, cabecalho: { ...order8421.cabecalho, codigo_pedido_integracao: `LOJA-8421 pix ${E2E}` } };
      const parsed = parseOmieOrder(withRef, 'cabecalho.codigo_pedido_integracao');
      expect(parsed.payment).toEqual({ method: 'pix', reference: E2E });
      expect(parseOmieOrder(withRef).payment).toEqual({ method: 'pix' });
      const bare = parseOmieOrder({ cabecalho: { numero_pedido: '1' }, infoCadastro: { dInc: '01/11/2026' } });
      expect(bare).toMatchObject({ orderNumber: '1', totalCents: 0, items: [], payment: { method: 'other' }, cancelled: false });
    });

    it('leaves invoiceKey out when ConsultarNF faults with "not found"', async () => {
      nock(BASE)
        .post('/api/v1/produtos/pedido/').reply(200, { pedido_venda_produto: order8421 })
        .post('/api/v1/produtos/nfconsultar/').reply(500, fault('Client-103', 'ERROR: Nota fiscal não encontrada!'));
      const order = await client().getOrder('8421');
      expect(order?.totalCents).toBe(18600);
      expect(order).not.toHaveProperty('invoiceKey');
    });

    it('fails when ConsultarNF is rate limited, and the retry asks only for the NF (the order is cached)', async () => {
      const scope = nock(BASE)
        .post('/api/v1/produtos/pedido/').once().reply(200, { pedido_venda_produto: order8421 })
        .post('/api/v1/produtos/nfconsultar/').reply(200, fault('Client-6', 'ERROR: Consumo redundante detectado. Aguarde 60 segundos.'))
        .post('/api/v1/produtos/nfconsultar/').reply(200, { compl: { cChaveNFe: KEY } });
      const c = client();
      await expect(c.getOrder('8421')).rejects.toMatchObject({ provider: 'omie', failure: 'rate_limited', code: 'SOAP-ENV:Client-6' });
      expect((await c.getOrder('8421'))?.invoiceKey).toBe(KEY);
      expect(scope.isDone()).toBe(true);
    });

    it('serves a repeated order from cache for 60 s (Omie refuses the same id twice a minute), then asks again', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-23T12:00:00Z'));
      const first = nock(BASE)
        .post('/api/v1/produtos/pedido/').once().reply(200, { pedido_venda_produto: order8421 })
        .post('/api/v1/produtos/nfconsultar/').once().reply(200, { compl: { cChaveNFe: KEY } });
      const c = client();
      const [a, b] = await Promise.all([c.getOrder('8421'), c.getOrder('8421')]);
      now.mockReturnValue(Date.parse('2026-11-23T12:00:59Z'));
      const cached = await c.getOrder('8421');
      expect(first.isDone()).toBe(true);
      expect([a, b, cached].map((o) => o?.invoiceKey)).toEqual([KEY, KEY, KEY]);

      now.mockReturnValue(Date.parse('2026-11-23T12:01:01Z'));
      const second = nock(BASE)
        .post('/api/v1/produtos/pedido/').reply(200, { pedido_venda_produto: { ...order8421, infoCadastro: { ...order8421.infoCadastro, cancelado: 'S' } } })
        .post('/api/v1/produtos/nfconsultar/').reply(200, { compl: { cChaveNFe: KEY } });
      expect((await c.getOrder('8421'))?.cancelled).toBe(true);
      expect(second.isDone()).toBe(true);
    });
  });

  describe('faults and transport', () => {
    const orderFails = async (status: number, body: unknown) => {
      nock(BASE).post('/api/v1/produtos/pedido/').reply(status, body as object);
      return client().getOrder('8421').catch((e: unknown) => e);
    };

    it('maps Client-101 (bad app key or secret) to unauthorized on HTTP 200 and on 500', async () => {
      const invalidKey = fault('Client-101', 'ERROR: A chave de acesso não está preenchida ou não é válida!');
      expect(await orderFails(200, invalidKey)).toMatchObject({ failure: 'unauthorized', code: 'SOAP-ENV:Client-101', status: 200 });
      expect(await orderFails(500, invalidKey)).toMatchObject({ failure: 'unauthorized', code: 'SOAP-ENV:Client-101', status: 500 });
    });

    it('maps 429, 425, MISUSE_API_PROCESS, Client-6 and Client-1880 to rate_limited', async () => {
      expect(await orderFails(429, 'Too Many Requests')).toMatchObject({ failure: 'rate_limited', status: 429 });
      expect(await orderFails(425, { faultstring: 'Too early', faultcode: 'SOAP-ENV:Client-8020' })).toMatchObject({ failure: 'rate_limited' });
      expect(await orderFails(500, { faultstring: 'API bloqueada por consumo indevido. Tente novamente em 30 segundos.', faultcode: 'MISUSE_API_PROCESS' })).toMatchObject({
        failure: 'rate_limited',
        code: 'MISUSE_API_PROCESS',
      });
      expect(await orderFails(200, fault('Client-6', 'ERROR: Consumo redundante'))).toMatchObject({ failure: 'rate_limited' });
      expect(await orderFails(500, fault('Client-1880', 'ERROR: Já existe uma requisição desse método sendo executada'))).toMatchObject({ failure: 'rate_limited' });
    });

    it('maps other client faults to rejected (not retryable), and Omie server faults to unavailable', async () => {
      const rejected = await orderFails(500, fault('Client-5001', 'ERROR: Tag [NUMERO_PEDIDO] não faz parte da estrutura'));
      expect(rejected).toMatchObject({ failure: 'rejected', code: 'SOAP-ENV:Client-5001', retryable: false, outcomeUnknown: false });
      expect(await orderFails(500, fault('Server', 'ERROR: Erro interno'))).toMatchObject({ failure: 'unavailable', retryable: true });
    });

    it('maps a non-JSON answer or a 5xx without a fault to unavailable', async () => {
      expect(await orderFails(502, '<html>Bad Gateway</html>')).toMatchObject({ failure: 'unavailable', status: 502, outcomeUnknown: true });
      expect(await orderFails(200, '<html>maintenance</html>')).toMatchObject({ failure: 'unavailable', status: 200 });
      expect(await orderFails(503, { message: 'down' })).toMatchObject({ failure: 'unavailable', status: 503 });
    });

    it('times out instead of waiting forever', async () => {
      nock(BASE).post('/api/v1/produtos/pedido/').delay(1_000).reply(200, { pedido_venda_produto: order8421 });
      const error = await client().getOrder('8421').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: 'omie', failure: 'timeout', outcomeUnknown: true });
    });

    it('never puts app_secret in an error', async () => {
      const errors = [
        await orderFails(500, fault('Client-5001', 'ERROR: bad tag')),
        await orderFails(502, 'bad gateway'),
      ];
      for (const e of errors) expect(JSON.stringify({ message: (e as Error).message, ...(e as object) })).not.toContain('APPSECRET');
    });
  });

  describe('customers', () => {
    it('reads ConsultarCliente with digits-only tax id and both phones normalised', async () => {
      let sent: unknown;
      nock(BASE).post('/api/v1/geral/clientes/', (b) => ((sent = b), true)).reply(200, marina);
      expect(await client().getCustomer(5366578001)).toEqual({
        code: 5366578001,
        name: 'Marina Souza',
        taxId: '52998224725',
        phones: ['5511987654321', '551133334444'],
      });
      expect(sent).toEqual(envelope('ConsultarCliente', { codigo_cliente_omie: 5366578001 }));
    });

    it('answers null for an unknown customer', async () => {
      nock(BASE).post('/api/v1/geral/clientes/').reply(500, fault('Client-103', 'ERROR: Cliente não cadastrado para o Código [1] !'));
      expect(await client().getCustomer(1)).toBeNull();
    });

    it('finds a customer by CPF with the clientesFiltro of ListarClientes', async () => {
      let sent: unknown;
      nock(BASE)
        .post('/api/v1/geral/clientes/', (b) => ((sent = b), true))
        .reply(200, { pagina: 1, total_de_paginas: 1, registros: 1, total_de_registros: 1, clientes_cadastro: [marina] });
      expect(await client().findCustomerByTaxId('52998224725')).toMatchObject({ code: 5366578001, taxId: '52998224725' });
      expect(sent).toEqual(envelope('ListarClientes', { pagina: 1, registros_por_pagina: 50, clientesFiltro: { cnpj_cpf: '52998224725' } }));
    });

    it('answers null when ListarClientes has no records (Client-5113)', async () => {
      nock(BASE).post('/api/v1/geral/clientes/').reply(500, noRecords);
      expect(await client().findCustomerByTaxId('11144477735')).toBeNull();
    });

    it('finds a customer by phone by scanning every ListarClientes page, matching with or without the ninth digit', async () => {
      const pages: unknown[] = [];
      const page = (n: number, rows: object[]) => ({ pagina: n, total_de_paginas: 2, registros: rows.length, total_de_registros: 3, clientes_cadastro: rows });
      const scope = nock(BASE)
        .post('/api/v1/geral/clientes/', (b) => b.param[0].pagina === 1 && (pages.push(b), true))
        .reply(200, page(1, [{ codigo_cliente_omie: 1, razao_social: 'Outra Pessoa', telefone1_ddd: '21', telefone1_numero: '3333-4444' }]))
        .post('/api/v1/geral/clientes/', (b) => b.param[0].pagina === 2 && (pages.push(b), true))
        .reply(200, page(2, [{ ...marina, telefone1_numero: '8765-4321', telefone2_ddd: '', telefone2_numero: '' }, { codigo_cliente_omie: 3, razao_social: 'João', telefone1_ddd: '21', telefone1_numero: '912345678' }]));
      const c = client();

      // Omie holds Marina's number without the ninth digit; WhatsApp gives it with.
      expect(await c.findCustomerByPhone('5511987654321')).toEqual({ code: 5366578001, name: 'Marina Souza', taxId: '52998224725', phones: ['551187654321'] });
      // …and the other way round, from the cached index (no second scan).
      expect(await c.findCustomerByPhone('5521912345678')).toMatchObject({ code: 3 });
      expect(await c.findCustomerByPhone('5599999999999')).toBeNull();
      // The match spares the ConsultarCliente that usually follows.
      expect(await c.getCustomer(5366578001)).toMatchObject({ name: 'Marina Souza' });

      expect(scope.isDone()).toBe(true);
      expect(pages).toEqual([
        envelope('ListarClientes', { pagina: 1, registros_por_pagina: 500 }),
        envelope('ListarClientes', { pagina: 2, registros_por_pagina: 500 }),
      ]);
    });

    it('ends the phone scan at Client-5113 and rebuilds the index after 5 minutes', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-23T12:00:00Z'));
      nock(BASE)
        .post('/api/v1/geral/clientes/', (b) => b.param[0].pagina === 1)
        .reply(200, { pagina: 1, total_de_paginas: 5, registros: 1, total_de_registros: 1, clientes_cadastro: [{ codigo_cliente_omie: 1, razao_social: 'A', telefone1_ddd: '21', telefone1_numero: '33334444' }] })
        .post('/api/v1/geral/clientes/', (b) => b.param[0].pagina === 2)
        .reply(500, fault('Client-5113', 'ERROR: Não existem registros para a página [2]!'));
      const c = client();
      expect(await c.findCustomerByPhone('5511987654321')).toBeNull();

      now.mockReturnValue(Date.parse('2026-11-23T12:05:01Z'));
      const rescan = nock(BASE).post('/api/v1/geral/clientes/').reply(200, { pagina: 1, total_de_paginas: 1, registros: 1, total_de_registros: 1, clientes_cadastro: [marina] });
      expect(await c.findCustomerByPhone('5511987654321')).toMatchObject({ code: 5366578001 });
      expect(rescan.isDone()).toBe(true);
    });
  });

  describe('listOrders', () => {
    it('asks ListarPedidos for the customer since a Brazil date, reads every page, newest first', async () => {
      const bodies: Array<{ param: Array<Record<string, unknown>> }> = [];
      const older = { ...order8421, cabecalho: { ...order8421.cabecalho, numero_pedido: '8000', codigo_pedido: 1 }, infoCadastro: { dFat: '01/11/2026', hFat: '09:00:00' } };
      const newer = { ...order8421, cabecalho: { ...order8421.cabecalho, numero_pedido: '8500', codigo_pedido: 2 }, infoCadastro: { dInc: '23/11/2026', hInc: '08:00:00' } };
      nock(BASE)
        .post('/api/v1/produtos/pedido/', (b) => (bodies.push(b), b.param[0].pagina === 1))
        .reply(200, { pagina: 1, total_de_paginas: 2, registros: 2, total_de_registros: 3, pedido_venda_produto: [older, order8421] })
        .post('/api/v1/produtos/pedido/', (b) => (bodies.push(b), b.param[0].pagina === 2))
        .reply(200, { pagina: 2, total_de_paginas: 2, registros: 1, total_de_registros: 3, pedido_venda_produto: [newer] });

      const orders = await client().listOrders(5366578001, '2026-10-25T02:00:00.000Z');

      expect(orders.map((o) => [o.orderNumber, o.placedAt])).toEqual([
        ['8500', '2026-11-23T11:00:00.000Z'],
        ['8421', '2026-11-22T13:30:00.000Z'],
        ['8000', '2026-11-01T12:00:00.000Z'],
      ]);
      expect(bodies[0]).toEqual(
        envelope('ListarPedidos', { pagina: 1, registros_por_pagina: 50, filtrar_por_cliente: 5366578001, filtrar_por_data_de: '24/10/2026' }),
      );
      expect(bodies.at(-1)?.param[0]?.pagina).toBe(2);
    });

    it('answers [] when the customer has no orders (Client-5113)', async () => {
      nock(BASE).post('/api/v1/produtos/pedido/').reply(500, noRecords);
      expect(await client().listOrders(42, '2026-10-01T00:00:00Z')).toEqual([]);
    });
  });

  describe('parsing', () => {
    it('reads Brazil dates and times as UTC−03:00, both ways', () => {
      expect(omieDateTimeToIso('22/11/2026', '23:15:00')).toBe('2026-11-23T02:15:00.000Z');
      expect(omieDateTimeToIso('22/11/2026')).toBe('2026-11-22T03:00:00.000Z');
      expect(isoToOmieDate('2026-11-23T02:15:00.000Z')).toBe('22/11/2026');
      expect(isoToOmieTime('2026-11-23T02:15:00.000Z')).toBe('23:15:00');
      expect(() => omieDateTimeToIso('2026-11-22')).toThrow(RangeError);
    });

    it('reads a sparse order (ConsultarPedido omits empty fields): card payment, not invoiced, no total', () => {
      const order = parseOmieOrder({
        cabecalho: { codigo_pedido: 5, numero_pedido: '8423', codigo_cliente: 9 },
        infoCadastro: { dInc: '20/11/2026', hInc: '18:00:00', cancelado: 'S' },
        lista_parcelas: { parcela: [{ meio_pagamento: '03', valor: 320.5, nsu: '123456' }] },
      });
      expect(order).toEqual({
        orderNumber: '8423',
        erpId: 5,
        customerCode: 9,
        totalCents: 0,
        placedAt: '2026-11-20T21:00:00.000Z',
        payment: { method: 'credit_card' },
        items: [],
        cancelled: true,
      });
    });

    it('refuses an amount with more than two decimals instead of rounding it', () => {
      expect(() => parseOmieOrder({ ...order8421, total_pedido: { valor_total_pedido: 186.005 } })).toThrow(expect.objectContaining({ failure: 'unavailable' }));
    });
  });
});
