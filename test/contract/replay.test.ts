import { createHmac } from 'node:crypto';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNock } from '../helpers/nock.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { MERCHANT_CNPJ } from '../../sandbox/seed.ts';
import { ProviderError } from '../../core/errors.ts';
import { reaisToCents } from '../../core/money.ts';
import { createBcbPixRail, parseDevolucao } from '../../providers/bcb-pix.ts';
import { createFocusNfeClient, parseFocusNote } from '../../providers/focus-nfe.ts';
import { createOmieClient, parseOmieOrder } from '../../providers/omie.ts';
import { createTrioRail, parseTrioRefund, trioWebhookEvent } from '../../providers/trio.ts';
import { createZapiClient } from '../../providers/zapi.ts';
import type { CreditNoteRequest, PixPayment } from '../../providers/types.ts';
import { byReplay, fixtures, type Fixture } from './fixtures.ts';

/**
 * Contract tests: every fixture is a sample copied from a provider's own
 * documentation (its sidecar names where from), replayed against our
 * adapters (nock) and our webhook receivers. If a provider's documented
 * shape stops working with our code, one of these fails.
 */

const all = fixtures();
const failureOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => e);
const label = (f: Fixture) => `${f.name} (${f.source.url ?? `${f.source.repository}/${f.source.path}:${f.source.lines ?? ''}`})`;

describe('the fixtures', () => {
  it('are at least 40 documented samples across the five providers, each naming its source', () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(new Set(all.map((f) => f.provider))).toEqual(new Set(['zapi', 'omie', 'trio', 'bcb', 'focus']));
    for (const f of all) {
      const named = f.source.url ? /^https:\/\//.test(f.source.url) : Boolean(f.source.repository && f.source.path && /^[0-9a-f]{40}$/.test(f.source.commit ?? ''));
      expect(named, `${f.provider}/${f.name} names its source`).toBe(true);
    }
  });
});

describe('Z-API: every documented callback is answered 2xx by POST /webhooks/zapi', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno({ AGENT_PREFETCH_ORDERS: 'false' });
  });
  afterAll(async () => {
    await e.stop();
  });
  const post = (body: unknown) => fetch(`${e.url}/webhooks/zapi/${e.webhookToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const callbacks = byReplay(fixtures('zapi'), 'zapi.webhook');
  it.each(callbacks.map((f) => [label(f), f] as const))('%s', async (_name, f) => {
    const res = await post(f.payload);
    expect(res.status, JSON.stringify(await res.clone().json())).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
  });

  it('stores a documented status reply with text as the customer\'s message, and a profile-name notification as nothing', async () => {
    const reply = callbacks.find((f) => f.payload.isStatusReply === true && f.payload.text?.message)!;
    const fresh = { ...reply.payload, messageId: 'STATUSREPLY0001', phone: '5544988887777', senderLid: '70000000000001@lid' };
    expect((await post(fresh)).status).toBe(200);
    await e.settle();
    const row = await e.services.store.database.one('SELECT kind, text FROM inbox WHERE message_id = ?', 'STATUSREPLY0001') as { kind: string; text: string };
    expect(row).toEqual({ kind: 'text', text: reply.payload.text.message });
    const profile = callbacks.find((f) => f.payload.notification === 'PROFILE_NAME_UPDATED')!;
    const before = (await e.services.store.database.one('SELECT COUNT(*) AS n FROM inbox') as { n: number }).n;
    const res = await post(profile.payload);
    expect(await res.json()).toMatchObject({ ignored: 'not_a_message' });
    expect((await e.services.store.database.one('SELECT COUNT(*) AS n FROM inbox') as { n: number }).n).toBe(before);
  });

  it('send-text: the documented answer gives the adapter its messageId and zaapId', async () => {
    const f = byReplay(fixtures('zapi'), 'zapi.send_text')[0]!;
    nock('https://api.z-api.io').post('/instances/I/token/T/send-text').reply(200, f.payload);
    const client = createZapiClient({ baseUrl: 'https://api.z-api.io', instanceId: 'I', instanceToken: 'T', clientToken: 'C', timeoutMs: 500 });
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    expect(await client.sendText('5544999999999', 'oi')).toMatchObject({ messageId: f.payload.messageId, zaapId: f.payload.zaapId });
    nock.cleanAll();
    nock.enableNetConnect();
  });
});

describe('Trio', () => {
  describe('webhooks at POST /webhooks/pix, signed with Trio\'s documented recipe (HMAC of JSON.stringify(req.body))', () => {
    let e: TestEstorno;
    beforeAll(async () => {
      e = await startTestEstorno();
    });
    afterAll(async () => {
      await e.stop();
    });
    const { webhookSecret, webhookSigningKey } = SANDBOX_CREDENTIALS.trio;
    const send = (payload: unknown) => {
      // Spaced like a pretty-printing sender: only the documented recipe matches, not the raw bytes.
      const body = JSON.stringify(payload, null, 2);
      const signature = createHmac('sha256', webhookSigningKey).update(JSON.stringify(JSON.parse(body))).digest('hex').toUpperCase();
      return fetch(`${e.url}/webhooks/pix`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-secret': webhookSecret, 'x-webhook-signature': signature }, body });
    };

    it.each(byReplay(fixtures('trio'), 'trio.webhook_refund').map((f) => [label(f), f] as const))('%s: accepted (2xx), parsed, recorded', async (_n, f) => {
      expect(trioWebhookEvent.safeParse(f.payload).success).toBe(true);
      const res = await send(f.payload);
      expect(res.status).toBe(200);
      expect(parseTrioRefund(f.payload.data)).toMatchObject({ railRefundId: f.payload.data.id, amountCents: f.payload.data.amount.amount });
    });

    it.each(byReplay(fixtures('trio'), 'trio.webhook_other').map((f) => [label(f), f] as const))('%s: a category we do not handle is recorded and refused (fail closed)', async (_n, f) => {
      const res = await send(f.payload);
      expect(res.status).toBe(422);
      const row = await e.services.store.database.one('SELECT outcome FROM webhook_events WHERE event_key LIKE ?', `trio:${f.payload.category}:%`) as { outcome: string };
      expect(row.outcome).toBe('unhandled');
    });
  });

  describe('the adapter', () => {
    useNock();
    const BASE = 'https://api.sandbox.trio.com.br';
    const rail = () => createTrioRail({ baseUrl: BASE, clientId: 'c', clientSecret: 's', virtualAccountId: '018f9cb0-8d11-72dd-bb14-f82554e80999', timeoutMs: 500 });
    const payment: PixPayment = { documentId: '018f9cb0-8d11-72dd-bb14-f82554e80999', endToEndId: 'E44444444202405211946Dwg1pjxgehP', amountCents: 100, paidAt: '2024-05-21T19:46:07.249436Z', refunds: [] };

    it.each(byReplay(fixtures('trio'), 'trio.refund_answer').map((f) => [label(f), f] as const))('refund answer %s gives the refund id', async (_n, f) => {
      nock(BASE).post(`/banking/cashin/documents/${payment.documentId}/refund`).reply(200, f.payload);
      const refund = await rail().refund({ payment, amountCents: 10, key: 'K1', description: 'Refund description' });
      expect(refund.railRefundId).toBe(f.payload.data?.id ?? f.payload.refund_document_id);
    });

    it('refund error NOT_FOUND_RESOURCE is a refusal with that code', async () => {
      const f = byReplay(fixtures('trio'), 'trio.refund_error')[0]!;
      nock(BASE).post(`/banking/cashin/documents/${payment.documentId}/refund`).reply(f.payload.status, f.payload.body);
      expect(await failureOf(rail().refund({ payment, amountCents: 10, key: 'K1', description: 'x' }))).toMatchObject({ failure: 'rejected', code: 'NOT_FOUND_RESOURCE' });
    });

    it('the documented documents listing + counterparty find the pay-in by amount and payer tax number', async () => {
      const list = byReplay(fixtures('trio'), 'trio.documents_list')[0]!;
      const cp = byReplay(fixtures('trio'), 'trio.counterparty')[0]!;
      nock(BASE).get('/banking/cashin/documents').query(true).reply(200, list.payload).get(`/banking/counterparties/${cp.payload.data.id}`).reply(200, cp.payload);
      const found = await rail().findPayments({ amountCents: 100, payerTaxId: cp.payload.data.tax_number, from: '2024-05-20T00:00:00Z', to: '2024-05-22T00:00:00Z' });
      expect(found).toEqual([expect.objectContaining({ documentId: list.payload.data[0].id, endToEndId: list.payload.data[0].end_to_end_id, amountCents: 100, payerTaxId: '12345678910' })]);
      expect(found[0]!.refunds).toEqual([{ amountCents: 10, status: 'settled', description: 'Refund description', endToEndId: 'E44444444202405211946Dwg1pjxgehP' }]);
    });

    it('the documented refunds listing is read (status, stages) and a refund without our key is not ours', async () => {
      const f = byReplay(fixtures('trio'), 'trio.refunds_list')[0]!;
      expect(parseTrioRefund(f.payload.data[0])).toMatchObject({ railRefundId: f.payload.data[0].id, amountCents: 100, status: 'created' });
      nock(BASE).get('/banking/cashin/refunds').query(true).reply(200, f.payload);
      expect(await rail().findRefund(payment, 'K1')).toBeNull();
    });

    it('429 "Rate limit exceeded" is rate limiting', async () => {
      const f = byReplay(fixtures('trio'), 'trio.rate_limited')[0]!;
      nock(BASE).get('/banking/cashin/documents').query(true).reply(f.payload.status, f.payload.body);
      expect(await failureOf(rail().findPayment(payment.endToEndId, payment.paidAt))).toMatchObject({ failure: 'rate_limited' });
    });
  });
});

describe('BCB API Pix (openapi.yaml examples)', () => {
  useNock();
  const BASE = 'https://pix.example.com/api';
  const rail = () => createBcbPixRail({ baseUrl: BASE, clientId: 'c', clientSecret: 's', timeoutMs: 500 });
  const token = () => nock(BASE).post('/oauth/token').reply(200, { access_token: 't', expires_in: 3600 });
  const cents = (valor: string) => reaisToCents(valor);

  it.each(byReplay(fixtures('bcb'), 'bcb.get_pix').map((f) => [label(f), f] as const))('GET /pix/{e2eid} %s', async (_n, f) => {
    token();
    nock(BASE).get(`/v2/pix/${f.payload.endToEndId}`).reply(200, f.payload);
    const found = await rail().findPayment(f.payload.endToEndId, f.payload.horario);
    expect(found).toMatchObject({ endToEndId: f.payload.endToEndId, amountCents: cents(f.payload.valor) });
    expect(found!.refunds).toHaveLength(f.payload.devolucoes?.length ?? 0);
  });

  it('GET /pix (received Pix) finds the listed Pix by amount', async () => {
    const f = byReplay(fixtures('bcb'), 'bcb.list_pix')[0]!;
    const first = f.payload.pix[0];
    token();
    nock(BASE).get('/v2/pix').query(true).reply(200, f.payload);
    const found = await rail().findPayments({ amountCents: cents(first.valor), from: f.payload.parametros.inicio, to: f.payload.parametros.fim });
    expect(found.map((p) => p.endToEndId)).toContain(first.endToEndId);
  });

  it.each(byReplay(fixtures('bcb'), 'bcb.devolucao').map((f) => [label(f), f] as const))('PUT /pix/{e2eid}/devolucao/{id} answer %s', async (_n, f) => {
    token();
    const e2e = 'E12345678202009091221abcdef12345';
    nock(BASE).put(`/v2/pix/${e2e}/devolucao/${f.payload.id}`).reply(201, f.payload);
    const refund = await rail().refund({ payment: { documentId: e2e, endToEndId: e2e, amountCents: 100_000, paidAt: '2020-09-09T12:00:00Z', refunds: [] }, amountCents: cents(f.payload.valor), key: f.payload.id, description: 'x' });
    expect(refund).toMatchObject({ key: f.payload.id, amountCents: cents(f.payload.valor), railRefundId: f.payload.rtrId, status: { EM_PROCESSAMENTO: 'created', DEVOLVIDO: 'settled', NAO_REALIZADO: 'failed' }[f.payload.status as string] });
  });

  it('our devolução request has the documented DevolucaoSolicitada shape', async () => {
    const f = byReplay(fixtures('bcb'), 'bcb.devolucao_request')[0]!;
    let sent: Record<string, unknown> = {};
    token();
    const e2e = 'E12345678202009091221abcdef12345';
    nock(BASE).put(`/v2/pix/${e2e}/devolucao/K1`, (b) => ((sent = b), true)).reply(201, { id: 'K1', rtrId: 'D'.padEnd(32, '1'), valor: '7.89', horario: { solicitacao: '2020-09-11T15:25:59.411Z' }, status: 'EM_PROCESSAMENTO' });
    await rail().refund({ payment: { documentId: e2e, endToEndId: e2e, amountCents: 1000, paidAt: '2020-09-09T12:00:00Z', refunds: [] }, amountCents: 789, key: 'K1', description: 'Devolução' });
    // DevolucaoSolicitada: valor (required), natureza and descricao (optional); nothing else.
    expect(Object.keys(f.payload)).toEqual(['valor']);
    for (const k of Object.keys(sent)) expect(['valor', 'natureza', 'descricao']).toContain(k);
    expect(typeof sent.valor).toBe(typeof f.payload.valor);
    expect(String(sent.valor)).toMatch(/^\d{1,10}\.\d{2}$/);
  });

  it.each(byReplay(fixtures('bcb'), 'bcb.webhook_body').map((f) => [label(f), f] as const))('Pix example %s (as a PSP sends it): the Pix and its devoluções are readable', async (_n, f) => {
    token();
    nock(BASE).get(`/v2/pix/${f.payload.endToEndId}`).reply(200, f.payload);
    const found = await rail().findPayment(f.payload.endToEndId, f.payload.horario);
    const devolucoes = Array.isArray(f.payload.devolucoes) ? f.payload.devolucoes : f.payload.devolucoes ? [f.payload.devolucoes] : [];
    expect(found?.refunds.map((r) => r.amountCents)).toEqual(devolucoes.map((d: { valor: string }) => parseDevolucao(d as never).amountCents));
    expect(found?.amountCents).toBe(cents(f.payload.valor));
  });

  it.each(byReplay(fixtures('bcb'), 'bcb.problem').map((f) => [label(f), f] as const))('problem %s maps to the failure its status means, named by its type', async (_n, f) => {
    token();
    nock(BASE).get('/v2/pix/E12345678202009091221abcdef12345').times(2).reply(f.payload.status, f.payload);
    const error = await failureOf(rail().findPayment('E12345678202009091221abcdef12345', '2020-09-09T12:00:00Z'));
    if (f.payload.status === 404) return void expect(error).toBe('resolved');
    expect(error).toBeInstanceOf(ProviderError);
    const failure = { 400: 'rejected', 403: 'unauthorized', 503: 'unavailable' }[f.payload.status as 400 | 403 | 503];
    expect(error).toMatchObject({ failure, code: String(f.payload.type).split('/').at(-1) });
  });
});

describe('Focus NFe', () => {
  describe('the adapter', () => {
    useNock();
    const BASE = 'https://homologacao.focusnfe.com.br';
    const client = () => createFocusNfeClient({ baseUrl: BASE, token: 't', cnpj: MERCHANT_CNPJ, timeoutMs: 500, pollIntervalMs: 1, pollAttempts: 2 });
    const request: CreditNoteRequest = {
      ref: 'ref1',
      order: { orderNumber: '1', erpId: 1, customerCode: 1, totalCents: 100, placedAt: '2026-11-01T00:00:00Z', payment: { method: 'pix' }, items: [{ description: 'x', quantity: 1, totalCents: 100 }], cancelled: false },
      customer: { code: 1, name: 'x', taxId: '52998224725', phones: [] },
      amountCents: 100,
      reason: 'x',
    };

    it.each(byReplay(fixtures('focus'), 'focus.response').map((f) => [label(f), f] as const))('consulta %s maps to our note status', async (_n, f) => {
      const expected = { autorizado: 'authorized', processando_autorizacao: 'processing', erro_autorizacao: 'rejected', cancelado: 'denied', denegado: 'denied', erro_validacao_schema: null }[f.source.heading as string];
      if (expected === null) {
        nock(BASE).post('/v2/nfe').query(true).reply(422, f.payload);
        return void expect(await failureOf(client().issueCreditNote(request))).toMatchObject({ failure: 'rejected', code: 'erro_validacao_schema', status: 422 });
      }
      nock(BASE).get(`/v2/nfe/${f.payload.ref}`).query(true).reply(200, f.payload);
      const note = await client().getCreditNote(f.payload.ref);
      expect(note).toEqual(parseFocusNote(f.payload.ref, f.payload));
      expect(note?.status).toBe(expected);
      if (expected === 'authorized') expect(note?.accessKey).toMatch(/^\d{44}$/);
    });

    it('404 nao_encontrado reads as "no such note"', async () => {
      const f = byReplay(fixtures('focus'), 'focus.get_404')[0]!;
      nock(BASE).get('/v2/nfe/nope').query(true).reply(404, f.payload);
      expect(await client().getCreditNote('nope')).toBeNull();
    });

    it.each(byReplay(fixtures('focus'), 'focus.post_error').map((f) => [label(f), f] as const))('POST answered with %s', async (_n, f) => {
      nock(BASE).post('/v2/nfe').query(true).reply(f.payload.status, f.payload.body);
      const { codigo } = f.payload.body;
      if (codigo === 'nfe_autorizada' || codigo === 'em_processamento') {
        nock(BASE).get('/v2/nfe/ref1').query(true).reply(200, { ref: 'ref1', status: 'autorizado', numero: '9', serie: '1', chave_nfe: `NFe${'3'.repeat(44)}` });
        return void expect(await client().issueCreditNote(request)).toMatchObject({ status: 'authorized', number: '9' });
      }
      expect(await failureOf(client().issueCreditNote(request))).toMatchObject({ code: codigo, failure: f.payload.status === 403 ? 'unauthorized' : 'rejected' });
    });
  });

  describe('the emulator takes Focus\'s own examples', () => {
    let e: TestEstorno;
    beforeAll(async () => {
      e = await startTestEstorno();
    });
    afterAll(async () => {
      await e.stop();
    });
    const auth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.focus.token}:`).toString('base64')}`;
    it.each(byReplay(fixtures('focus'), 'focus.emulator_accepts').map((f) => [label(f), f] as const))('%s passes schema validation (202), with our sandbox merchant as issuer', async (_n, f) => {
      const res = await fetch(`${e.url}/sandbox/focus/v2/nfe?ref=doc${f.name.replace(/\W/g, '')}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify({ ...f.payload, cnpj_emitente: MERCHANT_CNPJ }) });
      expect(res.status, JSON.stringify(await res.clone().json())).toBe(202);
    });
  });
});

describe('Omie', () => {
  useNock();
  const BASE = 'https://app.omie.com.br';
  const client = () => createOmieClient({ baseUrl: BASE, appKey: 'k', appSecret: 's', timeoutMs: 500 });
  const notFound = { faultstring: 'ERROR: Nota fiscal não encontrada!', faultcode: 'SOAP-ENV:Client-103' };

  it('the documented pedido_venda_produto reads with its optional fields absent, and yields no Pix id', async () => {
    const f = byReplay(fixtures('omie'), 'omie.order')[0]!;
    nock(BASE).post('/api/v1/produtos/pedido/').reply(200, f.payload).post('/api/v1/produtos/nfconsultar/').reply(500, notFound);
    const order = await client().getOrder(f.payload.pedido_venda_produto.cabecalho.numero_pedido);
    expect(order).toMatchObject({ orderNumber: '29996', erpId: 0, customerCode: 5366578425, payment: { method: 'other' } });
    expect(order?.payment).not.toHaveProperty('reference');
  });

  it('ConsultarNF and ConsultarCliente send only tags of their documented request types', async () => {
    const nf = byReplay(fixtures('omie'), 'omie.request_tags')[0]!;
    const cli = byReplay(fixtures('omie'), 'omie.request_tags_cliente')[0]!;
    const params: Record<string, unknown[]> = {};
    const capture = (b: { call: string; param: unknown[] }) => ((params[b.call] = Object.keys(b.param[0] as object)), true);
    const order = byReplay(fixtures('omie'), 'omie.order')[0]!.payload;
    nock(BASE)
      .post('/api/v1/produtos/pedido/').reply(200, { pedido_venda_produto: { ...order.pedido_venda_produto, cabecalho: { ...order.pedido_venda_produto.cabecalho, codigo_pedido: 123 } } })
      .post('/api/v1/produtos/nfconsultar/', capture).reply(500, notFound)
      .post('/api/v1/geral/clientes/', capture).reply(200, { codigo_cliente_omie: 5366578425 });
    const c = client();
    await c.getOrder('29996');
    await c.getCustomer(5366578425);
    expect(nf.payload.tags).toEqual(expect.arrayContaining(params.ConsultarNF!));
    expect(cli.payload.tags).toEqual(expect.arrayContaining(params.ConsultarCliente!));
  });

  it('parcela: nsu is documented as a card NSU / TID, so it is never read as a Pix id', () => {
    const f = byReplay(fixtures('omie'), 'omie.parcela_tags')[0]!;
    expect(f.payload.tags).toEqual(expect.arrayContaining(['nsu', 'meio_pagamento']));
    const order = parseOmieOrder({ cabecalho: { numero_pedido: '1' }, infoCadastro: { dInc: '01/11/2026' }, lista_parcelas: { parcela: [{ meio_pagamento: '17', nsu: 'E18236120202611221330sbx8421pay0' }] } });
    expect(order.payment).toEqual({ method: 'pix' });
  });

  it.each([['omie.http_500', 'unavailable'], ['omie.http_429', 'rate_limited']] as const)('%s without a body is %s, never "not found"', async (replay, failure) => {
    const f = byReplay(fixtures('omie'), replay)[0]!;
    nock(BASE).post('/api/v1/produtos/pedido/').reply(f.payload.status, '');
    expect(await failureOf(client().getOrder('8421'))).toMatchObject({ provider: 'omie', failure });
  });
});
