import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTrioRail, keyFromDescription, refundDescription, signTrioBody, verifyTrioSignature } from '../../../tools/rails/trio-pix.ts';
import type { PixPayment } from '../../../tools/rails/types.ts';

const BASE = 'https://api.trio.com.br';
const VA = '018f9cb0-0000-7000-8000-00000000e570';
const basic = `Basic ${Buffer.from('cid:csecret').toString('base64')}`;
const payment: PixPayment = { documentId: 'doc-1', endToEndId: 'E18236120202611221330sbx8421pay0', amountCents: 18600, paidAt: '2026-11-22T13:30:00.000Z', refunds: [] };

describe('Trio adapter (collecting documents, refunds, webhooks)', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  const rail = () => createTrioRail({ baseUrl: BASE, clientId: 'cid', clientSecret: 'csecret', virtualAccountId: VA, timeoutMs: 300 });

  it('finds the original Pix by its EndToEndId with Basic auth, amounts in cents', async () => {
    nock(BASE, { reqheaders: { authorization: basic } })
      .get('/banking/cashin/documents/search')
      .query((q) => q.end_to_end_id === payment.endToEndId && q.from_datetime === '2026-11-21T13:30:00.000Z' && q.to_datetime === '2026-11-23T13:30:00.000Z')
      .reply(200, {
        data: {
          id: 'doc-1', amount: { amount: 18600, currency: 'BRL' }, end_to_end_id: payment.endToEndId, transaction_date: payment.paidAt, type: 'pix',
          refunds: [{ id: 'r0', amount: { amount: 5000, currency: 'BRL' }, description: 'manual', end_to_end_id: 'D1' }],
        },
      });
    expect(await rail().findPayment(payment.endToEndId, payment.paidAt)).toEqual({
      ...payment,
      refunds: [{ railRefundId: 'r0', amountCents: 5000, status: 'settled', description: 'manual', endToEndId: 'D1' }],
    });
  });

  it('answers null for NOT_FOUND_RESOURCE', async () => {
    nock(BASE).get('/banking/cashin/documents/search').query(true).reply(400, { error: { error_code: 'NOT_FOUND_RESOURCE', error_message: 'Documento de cobrança não foi encontrado. Referência: x' } });
    expect(await rail().findPayment('E0', payment.paidAt)).toBeNull();
  });

  it('posts exactly {amount, description} with our key in the description, and reads the current answer', async () => {
    let sent: unknown;
    nock(BASE)
      .post('/banking/cashin/documents/doc-1/refund', (b) => ((sent = b), true))
      .reply(200, { data: { id: 'rf-9', amount: { amount: 18600, currency: 'BRL' }, description: 'x', end_to_end_id: null, status: 'created' } });
    const refund = await rail().refund({ payment, amountCents: 18600, key: 'ESabc123', description: 'Estorno pedido 8421' });
    expect(sent).toEqual({ amount: 18600, description: 'Estorno pedido 8421 [ref ESabc123]' });
    expect(refund).toMatchObject({ railRefundId: 'rf-9', amountCents: 18600, status: 'created', key: 'ESabc123' });
  });

  it('reads the older answer shape {refund_document_id, scheduled_at}', async () => {
    nock(BASE).post('/banking/cashin/documents/doc-1/refund').reply(200, { refund_document_id: 'rf-old', scheduled_at: '2026-11-23T00:00:00Z' });
    expect(await rail().refund({ payment, amountCents: 100, key: 'K1', description: 'x' })).toMatchObject({ railRefundId: 'rf-old', status: 'created', amountCents: 100 });
  });

  it('maps Trio errors: business refusals are rejected, 5xx and timeouts leave the outcome unknown', async () => {
    nock(BASE).post('/banking/cashin/documents/doc-1/refund').reply(400, { error: { error_code: 'REFUND_AMOUNT_EXCEEDED', error_message: 'excede' } });
    await expect(rail().refund({ payment, amountCents: 1, key: 'K', description: 'x' })).rejects.toMatchObject({ failure: 'rejected', code: 'REFUND_AMOUNT_EXCEEDED', outcomeUnknown: false });
    nock(BASE).post('/banking/cashin/documents/doc-1/refund').reply(429, { error: 'Rate limit exceeded', message: 'slow down' });
    await expect(rail().refund({ payment, amountCents: 1, key: 'K', description: 'x' })).rejects.toMatchObject({ failure: 'rate_limited' });
    nock(BASE).post('/banking/cashin/documents/doc-1/refund').reply(503, 'busy');
    await expect(rail().refund({ payment, amountCents: 1, key: 'K', description: 'x' })).rejects.toMatchObject({ failure: 'unavailable', outcomeUnknown: true });
    nock(BASE).post('/banking/cashin/documents/doc-1/refund').delay(1_000).reply(200, {});
    await expect(rail().refund({ payment, amountCents: 1, key: 'K', description: 'x' })).rejects.toMatchObject({ failure: 'timeout', outcomeUnknown: true });
  });

  it('reconciles by key across pages of the refunds list', async () => {
    nock(BASE)
      .get('/banking/cashin/refunds').query((q) => q.virtual_account_id === VA && !q.after)
      .reply(200, { data: [{ id: 'a', collecting_document_id: 'doc-1', amount: { amount: 1 }, description: 'x [ref OTHER]', status: 'settled' }], metadata: { after: 'Mg==' } })
      .get('/banking/cashin/refunds').query((q) => q.after === 'Mg==')
      .reply(200, { data: [{ id: 'b', collecting_document_id: 'doc-1', amount: { amount: 18600, currency: 'BRL' }, description: 'Estorno [ref MINE]', status: 'settled', end_to_end_id: 'D9' }], metadata: {} });
    expect(await rail().findRefund(payment, 'MINE')).toMatchObject({ railRefundId: 'b', amountCents: 18600, status: 'settled', endToEndId: 'D9', key: 'MINE' });
  });

  it('answers null when the rail never got our refund', async () => {
    nock(BASE).get('/banking/cashin/refunds').query(true).reply(200, { data: [], metadata: {} });
    expect(await rail().findRefund(payment, 'MISSING')).toBeNull();
  });

  it('verifies webhook signatures: uppercase hex HMAC-SHA256 of the raw body, constant time', () => {
    const body = Buffer.from('{"ref_id":"x","category":"collecting_document_refund","type":"settled","data":{}}');
    const signature = signTrioBody(body, 'key');
    expect(signature).toMatch(/^[0-9A-F]{64}$/);
    expect(verifyTrioSignature(body, signature, 'key')).toBe(true);
    expect(verifyTrioSignature(body, signature.toLowerCase(), 'key')).toBe(false);
    expect(verifyTrioSignature(body, signature.slice(2), 'key')).toBe(false);
    expect(verifyTrioSignature(Buffer.concat([body, Buffer.from(' ')]), signature, 'key')).toBe(false);
    expect(verifyTrioSignature(body, undefined, 'key')).toBe(false);
  });

  it('keeps descriptions within 140 characters with the key recoverable', () => {
    const d = refundDescription('x'.repeat(300), 'ES0123456789abcdefghijklmnopqrstu');
    expect(d.length).toBeLessThanOrEqual(140);
    expect(keyFromDescription(d)).toBe('ES0123456789abcdefghijklmnopqrstu');
    expect(keyFromDescription('no key here')).toBeNull();
  });
});
