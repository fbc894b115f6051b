import { createHmac } from 'node:crypto';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { useNock } from '../../helpers/nock.ts';
import { ProviderError } from '../../../core/errors.ts';
import {
  createTrioRail,
  keyFromDescription,
  refundDescription,
  signTrioBody,
  trioWebhookEvent,
  verifyTrioSignature,
} from '../../../providers/trio.ts';
import type { PixPayment } from '../../../providers/types.ts';

const BASE = 'https://api.trio.com.br';
const VA = '018f9cb0-0000-7000-8000-00000000e570';
const DOC = '018f9cb0-8d11-72dd-bb14-f82554e80999';
const E2E = 'E18236120202611221330sbx8421pay0';
const basic = `Basic ${Buffer.from('cid:csecret').toString('base64')}`;
const payment: PixPayment = { documentId: DOC, endToEndId: E2E, amountCents: 18600, paidAt: '2026-11-22T13:30:00.000Z', refunds: [] };
const notFound = { error: { error_code: 'NOT_FOUND_RESOURCE', error_message: 'Documento de cobrança não foi encontrado. Referência: x' } };

describe('Trio adapter', () => {
  useNock();
  const rail = () => createTrioRail({ baseUrl: BASE, clientId: 'cid', clientSecret: 'csecret', virtualAccountId: VA, timeoutMs: 200 });
  const refund = (amountCents = 18600, key = 'ESabc123') => rail().refund({ payment, amountCents, key, description: 'Estorno pedido 8421' });
  const failureOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => e);

  describe('findPayment / findPayments', () => {
    const doc = (over: Record<string, unknown> = {}) => ({
      id: DOC,
      amount: { amount: 15000, currency: 'BRL' },
      counterparty_id: 'cp-marina',
      end_to_end_id: E2E,
      transaction_date: '2026-11-18T13:30:00Z',
      type: 'pix',
      virtual_account_id: VA,
      refunds: [
        { amount: { amount: 5000, currency: 'BRL' }, description: 'Estorno manual', end_to_end_id: 'D18236120202611190000manual00001' },
        { id: 'rf-2', amount: { amount: 1000, currency: 'BRL' }, description: 'Estorno [ref ESkey2]', status: 'failed', stages: [{ status: 'failed', error_message: 'Conta encerrada' }] },
      ],
      ...over,
    });

    it('lists the documented GET /banking/cashin/documents (virtual account + window) a day either side, with Basic auth, and maps amounts and refunds', async () => {
      let query: Record<string, unknown> = {};
      nock(BASE, { reqheaders: { authorization: basic } })
        .get('/banking/cashin/documents')
        .query((q) => ((query = q), true))
        .reply(200, { data: [doc({ id: 'other', end_to_end_id: 'E'.padEnd(32, '1') }), doc()] })
        .get('/banking/counterparties/cp-marina')
        .reply(200, { data: { id: 'cp-marina', name: 'Marina Souza', tax_number: '52998224725' } });

      const found = await rail().findPayment(E2E, '2026-11-18T13:30:00.000Z');

      expect(query).toEqual({ virtual_account_id: VA, from_datetime: '2026-11-17T13:30:00.000Z', to_datetime: '2026-11-19T13:30:00.000Z' });
      expect(found).toEqual({
        documentId: DOC,
        endToEndId: E2E,
        amountCents: 15000,
        paidAt: '2026-11-18T13:30:00.000Z',
        payerTaxId: '52998224725',
        refunds: [
          { amountCents: 5000, status: 'settled', description: 'Estorno manual', endToEndId: 'D18236120202611190000manual00001' },
          { railRefundId: 'rf-2', amountCents: 1000, status: 'failed', description: 'Estorno [ref ESkey2]', key: 'ESkey2', failureReason: 'Conta encerrada' },
        ],
      });
    });

    it('never calls the undocumented /banking/cashin/documents/search', async () => {
      const search = nock(BASE).get('/banking/cashin/documents/search').query(true).reply(200, { data: doc() });
      nock(BASE).get('/banking/cashin/documents').query(true).reply(200, { data: [] });
      expect(await rail().findPayment(E2E, payment.paidAt)).toBeNull();
      expect(search.isDone()).toBe(false);
    });

    it('finds candidates by amount and payer CPF in the window, following the cursor; another payer or amount is no candidate', async () => {
      nock(BASE)
        .get('/banking/cashin/documents').query((q) => !q.after).reply(200, { data: [doc({ id: 'a', amount: { amount: 18600 } }), doc({ id: 'b', amount: { amount: 999 } })], metadata: { after: 'Mg==' } })
        .get('/banking/cashin/documents').query((q) => q.after === 'Mg==').reply(200, { data: [doc({ id: 'c', amount: { amount: 18600 }, counterparty_id: 'cp-joao' }), doc({ id: 'd', amount: { amount: 18600 }, counterparty: { tax_number: '529.982.247-25' } })] })
        .get('/banking/counterparties/cp-marina').reply(200, { data: { tax_number: '52998224725' } })
        .get('/banking/counterparties/cp-joao').reply(200, { data: { tax_number: '11144477735' } });
      const found = await rail().findPayments({ amountCents: 18600, payerTaxId: '52998224725', from: '2026-11-19T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z' });
      expect(found.map((p) => p.documentId)).toEqual(['a', 'd']);
    });

    it('answers a refused credential as unauthorized, never as "not confirmed"', async () => {
      nock(BASE).get('/banking/cashin/documents').query(true).reply(401, { error: { error_code: 'UNAUTHORIZED', error_message: 'Credenciais inválidas' } });
      expect(await failureOf(rail().findPayment(E2E, payment.paidAt))).toMatchObject({ failure: 'unauthorized', code: 'UNAUTHORIZED' });
      nock(BASE).get('/banking/cashin/documents').query(true).reply(404, { error: { error_code: 'NOT_FOUND', error_message: 'no route' } });
      expect(await failureOf(rail().findPayments({ amountCents: 1, from: payment.paidAt, to: payment.paidAt }))).toMatchObject({ failure: 'rejected', status: 404 });
    });
  });

  describe('refund', () => {
    it('posts exactly {amount, description} with our key in the description and reads the current answer shape', async () => {
      let sent: unknown;
      nock(BASE, { reqheaders: { authorization: basic, 'content-type': /application\/json/ } })
        .post(`/banking/cashin/documents/${DOC}/refund`, (b) => ((sent = b), true))
        .reply(200, {
          data: {
            id: 'rf-9',
            amount: { amount: 18600, currency: 'BRL' },
            description: 'Estorno pedido 8421 [ref ESabc123]',
            end_to_end_id: null,
            status: 'created',
            timestamp: '2026-11-23T12:00:00Z',
          },
        });
      expect(await refund()).toEqual({
        railRefundId: 'rf-9',
        amountCents: 18600,
        status: 'created',
        description: 'Estorno pedido 8421 [ref ESabc123]',
        key: 'ESabc123',
      });
      expect(sent).toEqual({ amount: 18600, description: 'Estorno pedido 8421 [ref ESabc123]' });
    });

    it('reads the settled status and the D… EndToEndId when Trio answers with them', async () => {
      nock(BASE)
        .post(`/banking/cashin/documents/${DOC}/refund`)
        .reply(200, { data: { id: 'rf-1', amount: { amount: 100, currency: 'BRL' }, description: 'x [ref K1]', end_to_end_id: 'D49931906202502031257bAqO8f0YhUH', status: 'settled' } });
      expect(await refund(100, 'K1')).toMatchObject({ status: 'settled', endToEndId: 'D49931906202502031257bAqO8f0YhUH', key: 'K1' });
    });

    it('reads the older answer shape {refund_document_id, scheduled_at} as created', async () => {
      nock(BASE).post(`/banking/cashin/documents/${DOC}/refund`).reply(200, { refund_document_id: 'rf-old', scheduled_at: '2026-11-23T00:00:00Z' });
      expect(await refund(100, 'K1')).toEqual({
        railRefundId: 'rf-old',
        amountCents: 100,
        status: 'created',
        description: 'Estorno pedido 8421 [ref K1]',
        key: 'K1',
      });
    });

    it('treats a 200 without any refund id as an unknown outcome', async () => {
      nock(BASE).post(`/banking/cashin/documents/${DOC}/refund`).reply(200, { ok: true });
      expect(await failureOf(refund())).toMatchObject({ failure: 'unavailable', outcomeUnknown: true });
    });

    it('maps business errors to rejected with Trio\'s error_code, and says the refund was not made', async () => {
      nock(BASE).post(`/banking/cashin/documents/${DOC}/refund`).reply(400, notFound);
      expect(await failureOf(refund())).toMatchObject({ failure: 'rejected', code: 'NOT_FOUND_RESOURCE', status: 400, outcomeUnknown: false });
      nock(BASE)
        .post(`/banking/cashin/documents/${DOC}/refund`)
        .reply(422, { error: { error_code: 'REFUND_AMOUNT_EXCEEDED', error_message: 'O valor total dos estornos não pode exceder o valor do documento' } });
      const over = await failureOf(refund(99_999));
      expect(over).toMatchObject({ failure: 'rejected', code: 'REFUND_AMOUNT_EXCEEDED', status: 422 });
      expect((over as Error).message).toContain('não pode exceder');
    });

    it('maps 429 to rate_limited and 5xx to unavailable with the outcome unknown', async () => {
      nock(BASE).post(`/banking/cashin/documents/${DOC}/refund`).reply(429, { error: 'Rate limit exceeded', message: 'Too many requests' });
      expect(await failureOf(refund())).toMatchObject({ failure: 'rate_limited', status: 429, outcomeUnknown: false });
      nock(BASE).post(`/banking/cashin/documents/${DOC}/refund`).reply(503, 'Service Unavailable');
      expect(await failureOf(refund())).toMatchObject({ failure: 'unavailable', status: 503, outcomeUnknown: true });
    });

    it('times out with the outcome unknown', async () => {
      nock(BASE).post(`/banking/cashin/documents/${DOC}/refund`).delay(1_000).reply(200, { data: { id: 'late' } });
      const error = await failureOf(refund());
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ provider: 'trio', failure: 'timeout', outcomeUnknown: true });
    });
  });

  describe('findRefund', () => {
    it('follows the after cursor until it finds our key on this payment\'s document', async () => {
      const queries: Array<Record<string, unknown>> = [];
      nock(BASE, { reqheaders: { authorization: basic } })
        .get('/banking/cashin/refunds')
        .query((q) => (queries.push(q), !q.after))
        .reply(200, {
          data: [
            { id: 'a', collecting_document_id: DOC, amount: { amount: 1, currency: 'BRL' }, description: 'x [ref OTHER]', status: 'settled' },
            // Same key on another payment's document is not ours.
            { id: 'b', collecting_document_id: 'another-doc', amount: { amount: 18600, currency: 'BRL' }, description: 'x [ref MINE]', status: 'settled' },
          ],
          metadata: { after: 'Mg==' },
        })
        .get('/banking/cashin/refunds')
        .query((q) => (queries.push(q), q.after === 'Mg=='))
        .reply(200, {
          data: [{ id: 'c', collecting_document_id: DOC, amount: 18600, description: 'Estorno pedido 8421 [ref MINE]', status: 'settled', end_to_end_id: 'D9'.padEnd(32, '0') }],
          metadata: {},
        });

      const before = Date.now();
      expect(await rail().findRefund(payment, 'MINE')).toEqual({
        railRefundId: 'c',
        amountCents: 18600,
        status: 'settled',
        endToEndId: 'D9'.padEnd(32, '0'),
        description: 'Estorno pedido 8421 [ref MINE]',
        key: 'MINE',
      });
      expect(queries[0]).toMatchObject({ virtual_account_id: VA, from_datetime: payment.paidAt });
      const to = Date.parse(String(queries[0]?.to_datetime));
      expect(to).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(to).toBeLessThan(Date.now() + 3_600_000 + 1_000);
    });

    it('answers null when no page holds our key', async () => {
      nock(BASE).get('/banking/cashin/refunds').query(true).reply(200, { data: [], metadata: {} });
      expect(await rail().findRefund(payment, 'MISSING')).toBeNull();
    });

    it('falls back to the collecting document\'s refunds[] when the list answers 404', async () => {
      nock(BASE)
        .get('/banking/cashin/refunds').query(true).reply(404, { error: { error_code: 'NOT_FOUND', error_message: 'not here' } })
        .get('/banking/cashin/documents').query((q) => q.virtual_account_id === VA)
        .reply(200, { data: [{ id: DOC, amount: { amount: 18600 }, end_to_end_id: E2E, refunds: [{ id: 'rf', amount: { amount: 700 }, description: 'Estorno [ref MINE]', status: 'created' }] }] });
      expect(await rail().findRefund(payment, 'MINE')).toMatchObject({ railRefundId: 'rf', amountCents: 700, status: 'created', key: 'MINE' });
    });

    it('fails rather than answering "not there" when a page cannot be read', async () => {
      nock(BASE)
        .get('/banking/cashin/refunds').query((q) => !q.after).reply(200, { data: [], metadata: { after: 'MQ==' } })
        .get('/banking/cashin/refunds').query((q) => q.after === 'MQ==').reply(500, 'oops');
      expect(await failureOf(rail().findRefund(payment, 'MINE'))).toMatchObject({ failure: 'unavailable' });
    });
  });

  describe('descriptions', () => {
    it('ends with our key, stays within 140 characters, and gives the key back', () => {
      const long = refundDescription('Estorno '.repeat(40), 'ES0123456789abcdefghijklmnopqrstuvw');
      expect(long.length).toBeLessThanOrEqual(140);
      expect(long.endsWith(' [ref ES0123456789abcdefghijklmnopqrstuvw]')).toBe(true);
      expect(keyFromDescription(long)).toBe('ES0123456789abcdefghijklmnopqrstuvw');
      expect(refundDescription('Estorno pedido 8421', 'K1')).toBe('Estorno pedido 8421 [ref K1]');
      expect(refundDescription('😀'.repeat(100), 'K1').length).toBeLessThanOrEqual(140);
      expect(keyFromDescription('Estorno sem chave')).toBeNull();
      expect(keyFromDescription('[ref A] no fim não')).toBeNull();
      expect(() => refundDescription('x', 'not-a-key!')).toThrow(RangeError);
    });
  });

  describe('webhooks', () => {
    const body = Buffer.from('{"ref_id":"rf-9","category":"collecting_document_refund","type":"settled","timestamp":"2026-11-23T12:00:05Z","data":{"id":"rf-9"}}');

    it('signs with the uppercase hex HMAC-SHA256 of the raw body', () => {
      const expected = createHmac('sha256', 'signing-key').update(body).digest('hex').toUpperCase();
      expect(signTrioBody(body, 'signing-key')).toBe(expected);
      expect(signTrioBody(body.toString('utf8'), 'signing-key')).toBe(expected);
    });

    it('accepts only the exact uppercase signature of these bytes with this key', () => {
      const good = signTrioBody(body, 'signing-key');
      expect(verifyTrioSignature(body, good, 'signing-key')).toBe(true);
      expect(verifyTrioSignature(body, good.toLowerCase(), 'signing-key')).toBe(false);
      expect(verifyTrioSignature(body, good.slice(1), 'signing-key')).toBe(false);
      expect(verifyTrioSignature(body, `${good}00`, 'signing-key')).toBe(false);
      expect(verifyTrioSignature(body, `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`, 'signing-key')).toBe(false);
      expect(verifyTrioSignature(body, good, 'another-key')).toBe(false);
      expect(verifyTrioSignature(Buffer.from(body.toString().replace('settled', 'failed')), good, 'signing-key')).toBe(false);
      expect(verifyTrioSignature(body, undefined, 'signing-key')).toBe(false);
      expect(verifyTrioSignature(body, 'é'.repeat(32), 'signing-key')).toBe(false);
    });

    it('also accepts Trio\'s documented recipe, HMAC of JSON.stringify(req.body), when the bytes were spaced differently', () => {
      const spaced = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
      const documented = createHmac('sha256', 'signing-key').update(JSON.stringify(JSON.parse(spaced.toString()))).digest('hex').toUpperCase();
      expect(verifyTrioSignature(spaced, documented, 'signing-key')).toBe(true);
      expect(verifyTrioSignature(spaced, documented, 'another-key')).toBe(false);
      expect(verifyTrioSignature(Buffer.from('not json'), signTrioBody('not json', 'signing-key'), 'signing-key')).toBe(true);
    });

    it('parses the refund event envelope, keeping unknown data fields', () => {
      const event = trioWebhookEvent.parse({
        ref_id: 'rf-9',
        category: 'collecting_document_refund',
        type: 'settled',
        timestamp: '2026-11-23T12:00:05Z',
        context_id: 'ctx',
        context_type: 'internet_banking',
        data: {
          id: 'rf-9',
          collecting_document_id: DOC,
          amount: { amount: 18600, currency: 'BRL' },
          description: 'Estorno pedido 8421 [ref ESabc123]',
          end_to_end_id: 'D49931906202502031257bAqO8f0YhUH',
          status: 'settled',
          transaction_date: null,
          rule: 'manual',
        },
      });
      expect(event.data).toMatchObject({ collecting_document_id: DOC, rule: 'manual', transaction_date: null });
      expect(trioWebhookEvent.safeParse({ ref_id: 'x', category: 'collecting_document', type: 'failed', timestamp: 't', data: { id: 'd', error_code: 'BE17' } }).success).toBe(true);
      expect(trioWebhookEvent.safeParse({ category: 'collecting_document_refund', type: 'settled', timestamp: 't', data: { id: 'x' } }).success).toBe(false);
      expect(trioWebhookEvent.safeParse({ ref_id: 'x', category: 'c', type: 't', timestamp: 't', data: { id: 'x', amount: -1 } }).success).toBe(false);
      expect(trioWebhookEvent.safeParse({ ref_id: 'x', category: 'c', type: 't', timestamp: 't', data: 'nope' }).success).toBe(false);
    });
  });
});
