import nock from 'nock';
import { describe, expect, it, vi } from 'vitest';
import { useNock } from '../../helpers/nock.ts';
import { ProviderError } from '../../../core/errors.ts';
import { createBcbPixRail } from '../../../providers/bcb-pix.ts';
import type { PixPayment } from '../../../providers/types.ts';

const BASE = 'https://pix.api.efipay.com.br';
const E2E = 'E18236120202611221330sbx8421pay0';
const RTR = 'D18236120202611231200abcdefghijk';
const payment: PixPayment = { documentId: E2E, endToEndId: E2E, amountCents: 18600, paidAt: '2026-11-22T13:30:00.000Z', refunds: [] };
const basic = `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`;
const devolucao = (over: object = {}) => ({
  id: 'ESkey1',
  rtrId: RTR,
  valor: '186.00',
  natureza: 'ORIGINAL',
  descricao: 'Estorno pedido 8421',
  horario: { solicitacao: '2026-11-23T12:00:00.000Z' },
  status: 'EM_PROCESSAMENTO',
  ...over,
});
const invalid = (razao: string, propriedade: string, detail?: string) => ({
  type: 'https://pix.bcb.gov.br/api/v2/error/PixDevolucaoInvalida',
  title: 'Devolução inválida.',
  status: 400,
  ...(detail ? { detail } : {}),
  violacoes: [{ razao, propriedade }],
});

describe('API Pix adapter (BCB devolução)', () => {
  useNock();
  const rail = (tokenPath?: string) =>
    createBcbPixRail({ baseUrl: BASE, clientId: 'client-id', clientSecret: 'client-secret', timeoutMs: 200, ...(tokenPath ? { tokenPath } : {}) });
  const token = (value: string, expiresIn = 3600, path = '/oauth/token') =>
    nock(BASE, { reqheaders: { authorization: basic } })
      .post(path, { grant_type: 'client_credentials' })
      .reply(200, { access_token: value, token_type: 'Bearer', expires_in: expiresIn, scope: 'pix.read pix.write' });
  const refund = (r = rail(), amountCents = 18600, key = 'ESkey1') => r.refund({ payment, amountCents, key, description: 'Estorno pedido 8421' });
  const failureOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => e);

  it('PUTs the devolução with valor "186.00", natureza ORIGINAL and our key as the path id', async () => {
    token('tok-1');
    let sent: unknown;
    nock(BASE, { reqheaders: { authorization: 'Bearer tok-1', 'content-type': /application\/json/ } })
      .put(`/v2/pix/${E2E}/devolucao/ESkey1`, (b) => ((sent = b), true))
      .reply(201, devolucao());
    expect(await refund()).toEqual({
      railRefundId: RTR,
      endToEndId: RTR,
      amountCents: 18600,
      status: 'created',
      key: 'ESkey1',
      description: 'Estorno pedido 8421',
    });
    expect(sent).toEqual({ valor: '186.00', natureza: 'ORIGINAL', descricao: 'Estorno pedido 8421' });
  });

  it('cuts descricao to 140 characters and writes cents as a two-decimal string', async () => {
    token('tok-1');
    let sent: { valor?: string; descricao?: string } = {};
    nock(BASE).put(`/v2/pix/${E2E}/devolucao/ESk`, (b) => ((sent = b), true)).reply(201, devolucao({ id: 'ESk', valor: '0.07' }));
    await rail().refund({ payment, amountCents: 7, key: 'ESk', description: 'x'.repeat(300) });
    expect(sent.valor).toBe('0.07');
    expect(sent.descricao).toHaveLength(140);
  });

  it('reuses the token until 60 s before it expires, then asks for a new one', async () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-11-23T12:00:00Z'));
    const first = token('tok-1', 3600);
    nock(BASE).matchHeader('authorization', 'Bearer tok-1').get(`/v2/pix/${E2E}/devolucao/ESkey1`).times(2).reply(200, devolucao());
    const r = rail();
    await Promise.all([r.findRefund(payment, 'ESkey1'), r.findRefund(payment, 'ESkey1')]);
    expect(first.isDone()).toBe(true);

    now.mockReturnValue(Date.parse('2026-11-23T12:59:01Z'));
    const second = token('tok-2', 3600);
    nock(BASE).matchHeader('authorization', 'Bearer tok-2').get(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(200, devolucao({ status: 'DEVOLVIDO' }));
    expect(await r.findRefund(payment, 'ESkey1')).toMatchObject({ status: 'settled' });
    expect(second.isDone()).toBe(true);
  });

  it('retries once with a fresh token after a 401, and only once', async () => {
    token('old');
    token('new');
    nock(BASE)
      .get(`/v2/pix/${E2E}`).matchHeader('authorization', 'Bearer old').reply(401, {})
      .get(`/v2/pix/${E2E}`).matchHeader('authorization', 'Bearer new')
      .reply(200, { endToEndId: E2E, txid: 'tx1', valor: '150.00', horario: '2026-11-18T10:30:00-03:00', devolucoes: [devolucao({ id: 'ESprev', valor: '50.00', status: 'DEVOLVIDO' })] });
    expect(await rail().findPayment(E2E, payment.paidAt)).toEqual({
      documentId: E2E,
      endToEndId: E2E,
      amountCents: 15000,
      paidAt: '2026-11-18T13:30:00.000Z',
      refunds: [{ railRefundId: RTR, endToEndId: RTR, amountCents: 5000, status: 'settled', key: 'ESprev', description: 'Estorno pedido 8421' }],
    });

    token('a');
    token('b');
    nock(BASE).get(`/v2/pix/${E2E}`).times(2).reply(401, {});
    expect(await failureOf(rail().findPayment(E2E, payment.paidAt))).toMatchObject({ failure: 'unauthorized', status: 401 });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('maps a refused token request to unauthorized and uses a custom token path', async () => {
    nock(BASE).post('/oauth/v2/token').reply(401, { error: 'invalid_client' });
    expect(await failureOf(rail('/oauth/v2/token').findPayment(E2E, payment.paidAt))).toMatchObject({ failure: 'unauthorized', code: 'invalid_client' });
  });

  it('answers null for an unknown Pix or refund (404)', async () => {
    token('tok');
    nock(BASE)
      .get(`/v2/pix/${E2E}`).reply(404, { type: 'https://pix.bcb.gov.br/api/v2/error/PixNaoEncontrado', title: 'Pix não encontrado', status: 404 })
      .get(`/v2/pix/${E2E}/devolucao/ESnone`).reply(404, { type: 'https://pix.bcb.gov.br/api/v2/error/PixDevolucaoNaoEncontrada', status: 404 });
    const r = rail();
    expect(await r.findPayment(E2E, payment.paidAt)).toBeNull();
    expect(await r.findRefund(payment, 'ESnone')).toBeNull();
  });

  it('on Efí\'s 409 devolucao_id_duplicado reads the refund under our key and returns it when valor matches', async () => {
    token('tok');
    const reads = nock(BASE)
      .put(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(409, { nome: 'devolucao_id_duplicado', mensagem: 'O id informado já foi utilizado em outra devolução' })
      .get(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(200, devolucao({ status: 'DEVOLVIDO', horario: { solicitacao: '2026-11-23T12:00:00Z', liquidacao: '2026-11-23T12:00:02Z' } }));
    expect(await refund()).toMatchObject({ status: 'settled', amountCents: 18600, key: 'ESkey1', endToEndId: RTR });
    expect(reads.isDone()).toBe(true);
  });

  it('reads a 400 PixDevolucaoInvalida whose violation says the id is used as a duplicate too', async () => {
    token('tok');
    nock(BASE)
      .put(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(400, invalid('O id da devolução já foi utilizado para este e2eid', 'id'))
      .get(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(200, devolucao());
    expect(await refund()).toMatchObject({ status: 'created', amountCents: 18600 });
  });

  it('refuses a duplicate key that holds another amount (duplicate_key_mismatch)', async () => {
    token('tok');
    nock(BASE)
      .put(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(409, { nome: 'devolucao_id_duplicado', mensagem: 'O id informado já foi utilizado em outra devolução' })
      .get(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(200, devolucao({ valor: '10.00' }));
    expect(await failureOf(refund())).toMatchObject({ failure: 'rejected', code: 'duplicate_key_mismatch', outcomeUnknown: false });
  });

  it('maps other problem+json answers to rejected with the type\'s last segment as code and the detail as message', async () => {
    token('tok');
    nock(BASE)
      .put(`/v2/pix/${E2E}/devolucao/ESkey1`)
      .reply(400, invalid('O valor da devolução excede o valor do Pix original', 'valor', 'A devolução excede o valor disponível'), { 'content-type': 'application/problem+json' });
    const error = await failureOf(refund());
    expect(error).toMatchObject({ provider: 'bcb', failure: 'rejected', code: 'PixDevolucaoInvalida', status: 400 });
    expect((error as Error).message).toContain('A devolução excede o valor disponível');
  });

  it('maps 403, 429 and 5xx, and a timeout leaves the outcome unknown', async () => {
    token('tok');
    const r = rail();
    nock(BASE).put(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(403, { type: 'https://pix.bcb.gov.br/api/v2/error/AcessoNegado', title: 'Acesso Negado', status: 403 });
    expect(await failureOf(refund(r))).toMatchObject({ failure: 'unauthorized', code: 'AcessoNegado' });
    nock(BASE).put(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(429, {});
    expect(await failureOf(refund(r))).toMatchObject({ failure: 'rate_limited' });
    nock(BASE).put(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(503, { type: 'https://pix.bcb.gov.br/api/v2/error/ServicoIndisponivel', status: 503 });
    expect(await failureOf(refund(r))).toMatchObject({ failure: 'unavailable', code: 'ServicoIndisponivel', outcomeUnknown: true });
    nock(BASE).put(`/v2/pix/${E2E}/devolucao/ESkey1`).delay(1_000).reply(201, devolucao());
    const late = await failureOf(refund(r));
    expect(late).toBeInstanceOf(ProviderError);
    expect(late).toMatchObject({ failure: 'timeout', outcomeUnknown: true });
  });

  it('maps NAO_REALIZADO to failed with its motivo', async () => {
    token('tok');
    nock(BASE).get(`/v2/pix/${E2E}/devolucao/ESkey1`).reply(200, devolucao({ status: 'NAO_REALIZADO', motivo: 'Saldo insuficiente para realizar a devolução.' }));
    expect(await rail().findRefund(payment, 'ESkey1')).toMatchObject({ status: 'failed', failureReason: 'Saldo insuficiente para realizar a devolução.' });
  });
});
