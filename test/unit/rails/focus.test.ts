import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFocusNfeClient } from '../../../tools/rails/focus-fiscal.ts';
import type { ErpCustomer, ErpOrder } from '../../../tools/rails/types.ts';

const BASE = 'https://api.focusnfe.com.br';
const KEY = '35261112345678000195550010000184211100084215';
const order: ErpOrder = {
  orderNumber: '8421', erpId: 1, customerCode: 2, totalCents: 18600, placedAt: '2026-11-22T13:30:00.000Z',
  payment: { method: 'pix', endToEndId: 'E1' }, items: [{ description: 'Camiseta', quantity: 2, totalCents: 18600 }], cancelled: false, invoiceKey: KEY,
};
const customer: ErpCustomer = { code: 2, name: 'Marina Souza', taxId: '52998224725', phones: [] };

describe('Focus NFe adapter (NF-e de devolução)', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  const client = () => createFocusNfeClient({ baseUrl: BASE, token: 'tok', cnpj: '12345678000195', timeoutMs: 300, pollIntervalMs: 1 });
  const basic = `Basic ${Buffer.from('tok:').toString('base64')}`;

  it('creates a devolução referencing the sale with ref as the key, then polls until authorized', async () => {
    let body: Record<string, unknown> = {};
    nock(BASE, { reqheaders: { authorization: basic } })
      .post('/v2/nfe', (b) => ((body = b), true)).query({ ref: 'rfabc' })
      .reply(202, { cnpj_emitente: '12345678000195', ref: 'rfabc', status: 'processando_autorizacao' })
      .get('/v2/nfe/rfabc').query({ completa: 0 }).reply(200, { ref: 'rfabc', status: 'processando_autorizacao' })
      .get('/v2/nfe/rfabc').query({ completa: 0 }).reply(200, { ref: 'rfabc', status: 'autorizado', numero: '7', serie: '1', chave_nfe: `NFe${KEY}`, mensagem_sefaz: 'Autorizado o uso da NF-e' });
    const note = await client().issueCreditNote({ ref: 'rfabc', order, customer, amountCents: 18600, reason: 'veio errado' });
    expect(note).toEqual({ ref: 'rfabc', status: 'authorized', number: '7', series: '1', accessKey: KEY, message: 'Autorizado o uso da NF-e' });
    expect(body).toMatchObject({ finalidade_emissao: '4', tipo_documento: '0', cnpj_emitente: '12345678000195', cpf_destinatario: '52998224725', notas_referenciadas: [{ chave_nfe: KEY }] });
    expect(body.items).toEqual([expect.objectContaining({ cfop: '1202', quantidade_comercial: '2', valor_unitario_comercial: '93.00', valor_bruto: '186.00' })]);
  });

  it('issues a partial refund as one item of the refunded value', async () => {
    let body: Record<string, unknown> = {};
    nock(BASE).post('/v2/nfe', (b) => ((body = b), true)).query(true).reply(201, { ref: 'p1', status: 'autorizado', numero: '8', chave_nfe: `NFe${KEY}` });
    expect(await client().issueCreditNote({ ref: 'p1', order, customer, amountCents: 5000, reason: 'x' })).toMatchObject({ status: 'authorized', number: '8' });
    expect(body.items).toEqual([expect.objectContaining({ descricao: 'Devolução parcial pedido 8421', valor_bruto: '50.00' })]);
  });

  it('a ref already used returns the existing note instead of issuing another', async () => {
    nock(BASE)
      .post('/v2/nfe').query(true).reply(422, { codigo: 'already_processed', mensagem: 'Nota fiscal já processada com esta referência' })
      .get('/v2/nfe/rfabc').query(true).reply(200, { ref: 'rfabc', status: 'autorizado', numero: '7', chave_nfe: `NFe${KEY}` });
    expect(await client().issueCreditNote({ ref: 'rfabc', order, customer, amountCents: 18600, reason: 'x' })).toMatchObject({ status: 'authorized', number: '7' });
  });

  it('maps erro_autorizacao to rejected (may be resent with the same ref) and validation errors to a refusal', async () => {
    nock(BASE).post('/v2/nfe').query(true).reply(202, { status: 'processando_autorizacao' }).get('/v2/nfe/r2').query(true).reply(200, { status: 'erro_autorizacao', mensagem_sefaz: 'Rejeição 327' });
    expect(await client().issueCreditNote({ ref: 'r2', order, customer, amountCents: 18600, reason: 'x' })).toMatchObject({ status: 'rejected', message: 'Rejeição 327' });
    nock(BASE).post('/v2/nfe').query(true).reply(422, { codigo: 'erro_validacao_schema', mensagem: 'Erro de validação', erros: [{ mensagem: 'x', campo: 'items' }] });
    await expect(client().issueCreditNote({ ref: 'r3', order, customer, amountCents: 18600, reason: 'x' })).rejects.toMatchObject({ failure: 'rejected', code: 'erro_validacao_schema' });
    nock(BASE).post('/v2/nfe').query(true).reply(500, {});
    await expect(client().issueCreditNote({ ref: 'r4', order, customer, amountCents: 18600, reason: 'x' })).rejects.toMatchObject({ failure: 'unavailable' });
  });
});
