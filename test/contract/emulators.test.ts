import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { MARINA, MERCHANT_CNPJ, TRIO_VIRTUAL_ACCOUNT_ID } from '../../sandbox/seed.ts';
import { jobKeys } from '../../core/keys.ts';

/** The emulators reject what the providers reject, and keep the providers' timing (issue 12 §8). */
describe('the rebuilt emulators', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno();
  });
  afterAll(async () => {
    await e.stop();
  });
  const omie = (service: string, call: string, param: object) =>
    fetch(`${e.url}/sandbox/omie/api/v1/${service}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call, app_key: SANDBOX_CREDENTIALS.omie.appKey, app_secret: SANDBOX_CREDENTIALS.omie.appSecret, param: [param] }) });
  const trioAuth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.trio.clientId}:${SANDBOX_CREDENTIALS.trio.clientSecret}`).toString('base64')}`;
  const focusAuth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.focus.token}:`).toString('base64')}`;

  it('Omie refuses an unknown tag with Client-5001 naming it (ConsultarNF has no nCodPed)', async () => {
    const res = await omie('produtos/nfconsultar', 'ConsultarNF', { nCodPed: 9178008421 });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ faultcode: 'SOAP-ENV:Client-5001', faultstring: 'ERROR: Tag [NCODPED] não faz parte da estrutura do tipo complexo [nfChave]!' });
    const byPedido = await omie('produtos/nfconsultar', 'ConsultarNF', { nIdPedido: 9178008422 });
    expect(await byPedido.json()).toMatchObject({ compl: { nIdPedido: 9178008422, cChaveNFe: expect.stringMatching(/^\d{44}$/) }, det: [{ prod: { NCM: '94013000', CFOP: '5102' } }] });
  });

  it('Omie pads order numbers, leaves the Pix id out of the order (no nsu), and answers the same id within 60 s as redundant', async () => {
    const first = await omie('produtos/pedido', 'ConsultarPedido', { numero_pedido: '9001' });
    const order = ((await first.json()) as { pedido_venda_produto: { cabecalho: { numero_pedido: string }; lista_parcelas: { parcela: Array<Record<string, unknown>> } } }).pedido_venda_produto;
    expect(order.cabecalho.numero_pedido).toBe('000000000009001');
    expect(order.lista_parcelas.parcela[0]).not.toHaveProperty('nsu');
    expect(order.lista_parcelas.parcela[0]).not.toHaveProperty('meio_pagamento');
    const again = await omie('produtos/pedido', 'ConsultarPedido', { numero_pedido: '9001' });
    expect(again.status).toBe(500);
    expect(await again.json()).toMatchObject({ faultcode: 'SOAP-ENV:Client-6' });
  });

  it('Trio answers 404 on the undocumented /banking/cashin/documents/search and 400 without the required window', async () => {
    const search = await fetch(`${e.url}/sandbox/trio/banking/cashin/documents/search?end_to_end_id=E1`, { headers: { authorization: trioAuth } });
    expect(search.status).toBe(404);
    const noWindow = await fetch(`${e.url}/sandbox/trio/banking/cashin/documents?virtual_account_id=${TRIO_VIRTUAL_ACCOUNT_ID}`, { headers: { authorization: trioAuth } });
    expect(noWindow.status).toBe(400);
    expect(await noWindow.json()).toMatchObject({ error: { error_code: 'INVALID_PARAMETERS', error_message: expect.stringContaining('from_datetime') } });
  });

  it('Focus answers 422 erro_validacao_schema, with the missing fields, to an incomplete NF-e', async () => {
    const res = await fetch(`${e.url}/sandbox/focus/v2/nfe?ref=incomplete1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: focusAuth },
      body: JSON.stringify({ natureza_operacao: 'Devolução de venda', data_emissao: '2026-11-23', tipo_documento: '0', finalidade_emissao: '4', cnpj_emitente: MERCHANT_CNPJ, nome_destinatario: 'Marina', cpf_destinatario: '52998224725', items: [{ numero_item: '1', cfop: '1202', valor_bruto: '186.00' }], valor_total: '186.00' }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { codigo: string; erros: Array<{ campo: string }> };
    expect(body.codigo).toBe('erro_validacao_schema');
    expect(body.erros.map((x) => x.campo)).toEqual(expect.arrayContaining(['logradouro_destinatario', 'cep_destinatario', 'items.0.codigo_ncm', 'items.0.icms_situacao_tributaria']));
  });
});

describe('a slow SEFAZ (authorisation after several seconds)', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno({}, { sandboxLatency: { sefaz: 4_000 } });
  });
  afterAll(async () => {
    await e.stop();
  });

  it('the credit-note job comes back, re-POSTs its ref (read back, never a second note), and the customer gets the final message', async () => {
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
    const done = await waitFor('the final message', async () => (await e.outbox(MARINA.whatsapp)).find((m) => m.message.includes('Nota fiscal de devolução')), 30_000);
    expect(done.message).toContain('R$ 186,00');
    const refund = (await e.services.store.refunds.forConversation((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id))[0]!;
    expect(await e.services.store.jobs.byKey(jobKeys.creditNote(refund.id))).toMatchObject({ status: 'done', attempts: expect.any(Number) });
    expect((await e.services.store.jobs.byKey(jobKeys.creditNote(refund.id)))!.attempts).toBeGreaterThan(1);
    expect(await e.fiscalNotes()).toHaveLength(1);
    // Sealed once the sent message is recorded, a moment after the emulator shows it.
    await waitFor('the sealed receipt', async () => (await e.services.store.cases.get(refund.case_id!))?.status === 'sealed' || undefined, 10_000);
  });
});
