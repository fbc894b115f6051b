import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBcbPixRail } from '../../../tools/rails/bcb-api-pix.ts';
import type { PixPayment } from '../../../tools/rails/types.ts';

const BASE = 'https://pix.example-psp.com.br';
const E2E = 'E18236120202611221330sbx8421pay0';
const payment: PixPayment = { documentId: E2E, endToEndId: E2E, amountCents: 18600, paidAt: '2026-11-22T13:30:00.000Z', refunds: [] };

describe('Central Bank API Pix adapter (devolução)', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  const rail = () => createBcbPixRail({ baseUrl: BASE, clientId: 'id', clientSecret: 'sec', timeoutMs: 300 });
  const token = (value = 'tok-1') =>
    nock(BASE, { reqheaders: { authorization: `Basic ${Buffer.from('id:sec').toString('base64')}` } })
      .post('/oauth/token', { grant_type: 'client_credentials' })
      .reply(200, { access_token: value, token_type: 'Bearer', expires_in: 3600, scope: 'pix.write pix.read' });

  it('PUTs the refund with valor as a two-decimal string and our id in the path, and reuses the token', async () => {
    token();
    let body: unknown;
    nock(BASE, { reqheaders: { authorization: 'Bearer tok-1' } })
      .put(`/v2/pix/${E2E}/devolucao/ESkey1`, (b) => ((body = b), true))
      .reply(201, { id: 'ESkey1', rtrId: 'D18236120202611230000abcdefghijk', valor: '186.00', horario: { solicitacao: '2026-11-23T00:00:00Z' }, status: 'EM_PROCESSAMENTO' })
      .get(`/v2/pix/${E2E}/devolucao/ESkey1`)
      .reply(200, { id: 'ESkey1', rtrId: 'D18236120202611230000abcdefghijk', valor: '186.00', status: 'DEVOLVIDO' });
    const r = rail();
    const refund = await r.refund({ payment, amountCents: 18600, key: 'ESkey1', description: 'Estorno pedido 8421' });
    expect(body).toEqual({ valor: '186.00', natureza: 'ORIGINAL', descricao: 'Estorno pedido 8421' });
    expect(refund).toMatchObject({ status: 'created', amountCents: 18600, key: 'ESkey1', endToEndId: 'D18236120202611230000abcdefghijk' });
    expect(await r.findRefund(payment, 'ESkey1')).toMatchObject({ status: 'settled' });
  });

  it('on 409 (id already used) reads the existing refund instead of creating another', async () => {
    token();
    nock(BASE)
      .put(`/v2/pix/${E2E}/devolucao/ESdup`).reply(409, { nome: 'devolucao_id_duplicado', mensagem: 'O id informado já foi utilizado em outra devolução' })
      .get(`/v2/pix/${E2E}/devolucao/ESdup`).reply(200, { id: 'ESdup', rtrId: 'D1'.padEnd(32, '0'), valor: '50.00', status: 'DEVOLVIDO' });
    expect(await rail().refund({ payment, amountCents: 5000, key: 'ESdup', description: 'x' })).toMatchObject({ status: 'settled', amountCents: 5000 });
  });

  it('refuses a duplicate id that holds another amount', async () => {
    token();
    nock(BASE)
      .put(`/v2/pix/${E2E}/devolucao/ESdup`).reply(400, { type: 'https://pix.bcb.gov.br/api/v2/error/PixDevolucaoInvalida', title: 'Devolução inválida.', status: 400, violacoes: [{ razao: 'O id já foi utilizado por outra devolução', propriedade: 'id' }] })
      .get(`/v2/pix/${E2E}/devolucao/ESdup`).reply(200, { id: 'ESdup', rtrId: 'D2'.padEnd(32, '0'), valor: '10.00', status: 'DEVOLVIDO' });
    await expect(rail().refund({ payment, amountCents: 5000, key: 'ESdup', description: 'x' })).rejects.toMatchObject({ failure: 'rejected', code: 'duplicate_key_mismatch' });
  });

  it('maps RFC 7807 problems to rejected with the type as code', async () => {
    token();
    nock(BASE).put(`/v2/pix/${E2E}/devolucao/ESbig`).reply(400, { type: 'https://pix.bcb.gov.br/api/v2/error/PixDevolucaoInvalida', title: 'Devolução inválida.', status: 400, detail: 'valor excede o Pix original', violacoes: [{ razao: 'excede', propriedade: 'valor' }] });
    await expect(rail().refund({ payment, amountCents: 99999, key: 'ESbig', description: 'x' })).rejects.toMatchObject({ failure: 'rejected', code: 'PixDevolucaoInvalida' });
  });

  it('refreshes the token once after a 401', async () => {
    token('old');
    token('new');
    nock(BASE).get(`/v2/pix/${E2E}`).matchHeader('authorization', 'Bearer old').reply(401, {});
    nock(BASE).get(`/v2/pix/${E2E}`).matchHeader('authorization', 'Bearer new').reply(200, { endToEndId: E2E, valor: '186.00', horario: '2026-11-22T13:30:00Z', devolucoes: [] });
    expect(await rail().findPayment(E2E, payment.paidAt)).toMatchObject({ amountCents: 18600, documentId: E2E });
  });

  it('answers null for a refund the PSP never got', async () => {
    token();
    nock(BASE).get(`/v2/pix/${E2E}/devolucao/ESnone`).reply(404, { type: 'https://pix.bcb.gov.br/api/v2/error/PixDevolucaoNaoEncontrada', status: 404 });
    expect(await rail().findRefund(payment, 'ESnone')).toBeNull();
  });
});
