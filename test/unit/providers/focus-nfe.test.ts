import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useNock } from '../../helpers/nock.ts';
import { ProviderError } from '../../../core/errors.ts';
import { createFocusNfeClient, creditNoteBody, returnCfop, splitProportionally } from '../../../providers/focus-nfe.ts';
import type { CreditNoteRequest, ErpCustomer, ErpOrder } from '../../../providers/types.ts';

const BASE = 'https://api.focusnfe.com.br';
const CNPJ = '12345678000195';
const SALE_KEY = '35261112345678000195550010000184211100084215';
const NOTE_KEY = '35261112345678000195550010000000071100000072';
const basic = `Basic ${Buffer.from('focus-token:').toString('base64')}`;
const order: ErpOrder = {
  orderNumber: '8421',
  erpId: 9178008421,
  customerCode: 5366578001,
  totalCents: 18600,
  placedAt: '2026-11-22T13:30:00.000Z',
  payment: { method: 'pix' },
  items: [{ description: 'Camiseta algodão azul M', quantity: 2, totalCents: 18600 }],
  cancelled: false,
  invoiceKey: SALE_KEY,
  // The sale's NF-e as Omie's ConsultarNF gives it (det[].prod): the source of the return's items.
  invoice: {
    key: SALE_KEY,
    number: '18421',
    series: '1',
    items: [{ code: 'CAM-AZ-M', description: 'Camiseta algodão azul M', ncm: '61091000', cfop: '5102', unit: 'UN', quantity: 2, unitValue: 93, totalCents: 18600 }],
  },
};
const customer: ErpCustomer = {
  code: 5366578001,
  name: 'Marina Souza',
  taxId: '52998224725',
  phones: ['5511987654321'],
  address: { street: 'Rua das Acácias', number: '120', district: 'Vila Mariana', city: 'São Paulo', uf: 'SP', cep: '04101000' },
  icmsContributor: false,
};
const request = (over: Partial<CreditNoteRequest> = {}): CreditNoteRequest => ({ ref: 'rf8421a', order, customer, amountCents: 18600, reason: 'Produto com defeito', ...over });
const authorized = { cnpj_emitente: CNPJ, ref: 'rf8421a', status: 'autorizado', status_sefaz: '100', mensagem_sefaz: 'Autorizado o uso da NF-e', chave_nfe: `NFe${NOTE_KEY}`, numero: '7', serie: '1' };

describe('Focus NFe adapter (NF-e de devolução)', () => {
  useNock();
  const client = (pollAttempts = 5) => createFocusNfeClient({ baseUrl: BASE, token: 'focus-token', cnpj: CNPJ, timeoutMs: 200, pollIntervalMs: 1, pollAttempts });
  const failureOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => e);

  it('posts the devolução under ?ref=, then polls on 202 until autorizado, stripping "NFe" from the key', async () => {
    let sent: Record<string, unknown> = {};
    const scope = nock(BASE, { reqheaders: { authorization: basic } })
      .post('/v2/nfe', (b) => ((sent = b), true)).query({ ref: 'rf8421a' })
      .reply(202, { cnpj_emitente: CNPJ, ref: 'rf8421a', status: 'processando_autorizacao' })
      .get('/v2/nfe/rf8421a').query({ completa: '0' }).reply(200, { cnpj_emitente: CNPJ, ref: 'rf8421a', status: 'processando_autorizacao' })
      .get('/v2/nfe/rf8421a').query({ completa: '0' }).reply(200, authorized);

    const note = await client().issueCreditNote(request());

    expect(note).toEqual({ ref: 'rf8421a', status: 'authorized', number: '7', series: '1', accessKey: NOTE_KEY, message: 'Autorizado o uso da NF-e' });
    expect(scope.isDone()).toBe(true);
    // Every field Focus's "campos obrigatórios" and its devolução example carry (FocusNFe/api-doc _nfe.md).
    expect(sent).toEqual({
      natureza_operacao: 'Devolução de venda',
      data_emissao: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/),
      tipo_documento: '0',
      finalidade_emissao: '4',
      local_destino: '1',
      consumidor_final: '1',
      presenca_comprador: '9',
      cnpj_emitente: CNPJ,
      nome_destinatario: 'Marina Souza',
      cpf_destinatario: '52998224725',
      indicador_inscricao_estadual_destinatario: '9',
      logradouro_destinatario: 'Rua das Acácias',
      numero_destinatario: '120',
      bairro_destinatario: 'Vila Mariana',
      municipio_destinatario: 'São Paulo',
      uf_destinatario: 'SP',
      cep_destinatario: '04101000',
      pais_destinatario: 'Brasil',
      notas_referenciadas: [{ chave_nfe: SALE_KEY }],
      modalidade_frete: '9',
      valor_produtos: '186.00',
      valor_total: '186.00',
      items: [
        {
          numero_item: '1',
          codigo_produto: 'CAM-AZ-M',
          descricao: 'Camiseta algodão azul M',
          cfop: '1202',
          codigo_ncm: '61091000',
          unidade_comercial: 'UN',
          quantidade_comercial: '2',
          valor_unitario_comercial: '93',
          unidade_tributavel: 'UN',
          quantidade_tributavel: '2',
          valor_unitario_tributavel: '93',
          valor_bruto: '186.00',
          inclui_no_total: '1',
          icms_origem: '0',
          icms_situacao_tributaria: '103',
          pis_situacao_tributaria: '99',
          cofins_situacao_tributaria: '99',
        },
      ],
      informacoes_adicionais_contribuinte: 'Devolução referente ao pedido 8421. Produto com defeito',
    });
  });

  it('returns at once when the synchronous mode answers 201 autorizado', async () => {
    const scope = nock(BASE).post('/v2/nfe').query({ ref: 'rf8421a' }).reply(201, authorized);
    expect(await client().issueCreditNote(request())).toMatchObject({ status: 'authorized', accessKey: NOTE_KEY });
    expect(scope.isDone()).toBe(true);
  });

  it('returns a partial refund item by item in proportion (exact cents), and a company buyer with IE by CNPJ', () => {
    const two = {
      ...order,
      totalCents: 30000,
      invoice: { key: SALE_KEY, items: [
        { code: 'A', description: 'A', ncm: '61091000', cfop: '5102', unit: 'UN', quantity: 2, unitValue: 100, totalCents: 20000 },
        { code: 'B', description: 'B', ncm: '61091000', cfop: '5102', unit: 'UN', quantity: 1, unitValue: 100, totalCents: 10000 },
      ] },
    };
    const company = { ...customer, taxId: '11222333000181', stateRegistration: '110042490114', icmsContributor: true };
    const body = creditNoteBody(request({ order: two, amountCents: 10000, customer: company }), CNPJ);
    expect(body).toMatchObject({ cnpj_destinatario: '11222333000181', inscricao_estadual_destinatario: '110042490114', indicador_inscricao_estadual_destinatario: '1', consumidor_final: '0', valor_produtos: '100.00', valor_total: '100.00' });
    expect(body).not.toHaveProperty('cpf_destinatario');
    const items = body.items as Array<Record<string, string>>;
    expect(items.map((i) => [i.codigo_produto, i.quantidade_comercial, i.valor_bruto])).toEqual([['A', '0.6667', '66.67'], ['B', '0.3333', '33.33']]);
    expect(splitProportionally(101, [1, 1, 1])).toEqual([34, 34, 33]);
  });

  it('maps the sale CFOP to the return CFOP: 1202/2202 intra/interstate, 1411/2411 for resale under ICMS-ST, 1201 for own production', () => {
    expect(returnCfop('5102', false)).toBe('1202');
    expect(returnCfop('6102', false)).toBe('2202');
    expect(returnCfop('5405', false)).toBe('1411');
    expect(returnCfop('6403', false)).toBe('2411');
    expect(returnCfop('5101', false)).toBe('1201');
    expect(returnCfop(undefined, true)).toBe('2202');
    const rio = { ...customer, address: { ...customer.address, uf: 'RJ' } };
    const interstate = { ...order, invoice: { ...order.invoice!, items: order.invoice!.items.map((i) => ({ ...i, cfop: '6102' })) } };
    expect(creditNoteBody(request({ order: interstate, customer: rio }), CNPJ, new Date(), { uf: 'SP' })).toMatchObject({ local_destino: '2', items: [expect.objectContaining({ cfop: '2202' })] });
  });

  it('keeps quantity × unit price = value for an item whose total does not divide by its quantity', () => {
    const odd = { ...order, totalCents: 1000, invoice: undefined, items: [{ description: 'Kit', quantity: 3, totalCents: 1000 }] };
    const [item] = creditNoteBody(request({ order: odd, amountCents: 1000 }), CNPJ).items as Array<Record<string, string>>;
    expect(item).toMatchObject({ quantidade_comercial: '3', valor_bruto: '10.00' });
    expect(Math.abs(Number(item!.quantidade_comercial) * Number(item!.valor_unitario_comercial) - 10)).toBeLessThan(0.005);
  });

  it('maps erro_autorizacao to rejected with SEFAZ\'s message, and denegado to denied', async () => {
    nock(BASE)
      .post('/v2/nfe').query(true).reply(202, { status: 'processando_autorizacao' })
      .get('/v2/nfe/rf8421a').query(true).reply(200, { ref: 'rf8421a', status: 'erro_autorizacao', status_sefaz: '327', mensagem_sefaz: 'Rejeição: CFOP de devolução de mercadoria para NF-e que não tem finalidade de devolução' });
    expect(await client().issueCreditNote(request())).toEqual({
      ref: 'rf8421a',
      status: 'rejected',
      message: 'Rejeição: CFOP de devolução de mercadoria para NF-e que não tem finalidade de devolução',
    });
    nock(BASE).get('/v2/nfe/r2').query(true).reply(200, { ref: 'r2', status: 'denegado', mensagem_sefaz: 'Uso Denegado' });
    expect(await client().getCreditNote('r2')).toMatchObject({ status: 'denied' });
  });

  it('stops polling after pollAttempts and reports processing', async () => {
    const scope = nock(BASE)
      .post('/v2/nfe').query(true).reply(202, { status: 'processando_autorizacao' })
      .get('/v2/nfe/rf8421a').query(true).times(3).reply(200, { status: 'processando_autorizacao' });
    expect(await client(3).issueCreditNote(request())).toEqual({ ref: 'rf8421a', status: 'processing' });
    expect(scope.isDone()).toBe(true);
  });

  it('reads the note back when a re-POSTed ref answers 422 nfe_autorizada or em_processamento, instead of issuing another', async () => {
    nock(BASE)
      .post('/v2/nfe').query(true).reply(422, { codigo: 'nfe_autorizada', mensagem: 'Nota fiscal já autorizada' })
      .get('/v2/nfe/rf8421a').query(true).reply(200, authorized);
    expect(await client().issueCreditNote(request())).toMatchObject({ status: 'authorized', number: '7' });

    nock(BASE)
      .post('/v2/nfe').query(true).reply(422, { codigo: 'em_processamento', mensagem: 'Nota fiscal em processamento' })
      .get('/v2/nfe/rf8421a').query(true).reply(200, { ref: 'rf8421a', status: 'processando_autorizacao' })
      .get('/v2/nfe/rf8421a').query(true).reply(200, authorized);
    expect(await client().issueCreditNote(request())).toMatchObject({ status: 'authorized' });

    // already_processed: the ref's note was cancelled; it cannot issue another.
    nock(BASE)
      .post('/v2/nfe').query(true).reply(422, { codigo: 'already_processed', mensagem: 'Nota fiscal já processada' })
      .get('/v2/nfe/rf8421a').query(true).reply(200, { ref: 'rf8421a', status: 'cancelado' });
    expect(await client().issueCreditNote(request())).toMatchObject({ status: 'denied' });
  });

  it('maps Focus error bodies: 422/400 rejected with codigo, 403 unauthorized, 429 rate limited, 5xx unavailable', async () => {
    const post = (status: number, body: object | string) => {
      nock(BASE).post('/v2/nfe').query(true).reply(status, body);
      return failureOf(client().issueCreditNote(request()));
    };
    const schema = await post(422, { codigo: 'erro_validacao_schema', mensagem: 'Erro na validação do Schema XML', erros: [{ mensagem: 'valor_bruto inválido', campo: 'items[0].valor_bruto' }] });
    expect(schema).toMatchObject({ provider: 'fiscal', failure: 'rejected', code: 'erro_validacao_schema', status: 422 });
    expect((schema as Error).message).toContain('items[0].valor_bruto: valor_bruto inválido');
    expect(await post(400, { codigo: 'certificado_vencido', mensagem: 'O certificado digital está vencido' })).toMatchObject({ failure: 'rejected', code: 'certificado_vencido' });
    expect(await post(403, { codigo: 'permissao_negada', mensagem: 'Token sem permissão' })).toMatchObject({ failure: 'unauthorized' });
    expect(await post(429, { codigo: 'limite_excedido', mensagem: 'Limite de requisições excedido' })).toMatchObject({ failure: 'rate_limited' });
    expect(await post(500, 'Internal Server Error')).toMatchObject({ failure: 'unavailable', outcomeUnknown: true });
    // A 404 with no Focus body (a proxy, a wrong base URL, a server still starting) is not Focus refusing the note: retried.
    const notFocus = await post(404, '<!DOCTYPE html><pre>Cannot POST /v2/nfe</pre>');
    expect(notFocus).toMatchObject({ failure: 'unavailable', status: 404 });
    expect((notFocus as ProviderError).retryable).toBe(true);
  });

  it('answers null for an unknown ref and times out instead of waiting forever', async () => {
    nock(BASE).get('/v2/nfe/nope').query({ completa: '0' }).reply(404, { codigo: 'nao_encontrado', mensagem: 'Nota fiscal não encontrada' });
    expect(await client().getCreditNote('nope')).toBeNull();
    nock(BASE).post('/v2/nfe').query(true).delay(1_000).reply(202, { status: 'processando_autorizacao' });
    const error = await failureOf(client().issueCreditNote(request()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ failure: 'timeout', outcomeUnknown: true });
  });
});
