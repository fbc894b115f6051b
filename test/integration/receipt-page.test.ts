import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendCaseRecord, sealCase } from '../../refunds/cases.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { receiptPages, verifyPublicReceipt, type PublicReceipt } from '../../server/receipt-page.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';
import { testServices } from '../helpers/services.ts';

const PUBLIC = 'https://loja.example/suporte';
const cpfDigits = (cpf: string) => cpf.replace(/\D/g, '');

describe('the public receipt page a refunded customer receives', () => {
  let e: TestEstorno;
  let confirmation: string;
  let receiptId: string;
  beforeAll(async () => {
    e = await startTestEstorno({ PUBLIC_BASE_URL: PUBLIC });
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
    confirmation = (await e.outbox(MARINA.whatsapp)).map((m) => m.message).find((m) => m.startsWith('✅')) ?? '';
    receiptId = /\/r\/(rcp_[a-z0-9]+)/.exec(confirmation)?.[1] ?? '';
  });
  afterAll(async () => {
    await e.stop();
  });

  it('the WhatsApp confirmation links the receipt page under PUBLIC_BASE_URL and gives the credit note number and access key', async () => {
    const notes = await e.fiscalNotes();
    expect(notes).toHaveLength(1);
    expect(confirmation).toContain(`Comprovante: ${PUBLIC}/r/${receiptId}`);
    expect(confirmation).toMatch(/Nota fiscal de devolução: nº 1, série 1\./);
    expect(confirmation).toMatch(/Chave de acesso: \d{44}\n/);
    expect(confirmation).not.toMatch(/Comprovante: rcp_/);
  });

  it('shows amount, order, date, credit note and access key, the steps and a verified seal, in Portuguese', async () => {
    const res = await fetch(`${e.url}/r/${receiptId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('x-robots-tag')).toBe('noindex');
    const html = await res.text();
    const accessKey = /Chave de acesso: (\d{44})/.exec(confirmation)?.[1] as string;
    expect(html).toContain('lang="pt-BR"');
    expect(html).toContain('R$ 186,00');
    expect(html).toContain('#8421');
    expect(html).toMatch(/<dt>Data<\/dt><dd>\d{2}\/\d{2}\/\d{4} às \d{2}:\d{2} \(horário de Brasília\)<\/dd>/);
    expect(html).toContain('nº 1, série 1');
    expect(html).toContain(accessKey.replace(/(\d{4})(?=\d)/g, '$1 '));
    expect(html).toContain('Comprovante autêntico');
    expect(html).toContain('o selo digital (assinatura Ed25519) confere');
    for (const step of ['Reclamação recebida', 'Estorno solicitado via Pix', 'Estorno concluído via Pix', 'Nota fiscal de devolução emitida', 'Confirmação enviada pelo WhatsApp']) expect(html).toContain(step);
    expect(html).toContain(`href="/r/${receiptId}.json"`);
    expect(html).toContain('href="/r/public-key.pem"');
  });

  it('carries no personal data, in the page or the JSON', async () => {
    const page = await (await fetch(`${e.url}/r/${receiptId}`)).text();
    const json = await (await fetch(`${e.url}/r/${receiptId}.json`)).text();
    for (const text of [page, json]) {
      expect(text).not.toContain(MARINA.whatsapp);
      expect(text).not.toContain(MARINA.whatsapp.slice(2)); // without the country code
      expect(text).not.toContain(MARINA.name);
      expect(text).not.toContain('Marina');
      expect(text).not.toContain(cpfDigits(MARINA.cpf));
      expect(text).not.toContain(MARINA.cpf);
      expect(text).not.toContain('veio errado'); // the customer's words
      expect(text).not.toContain('Camiseta'); // what she bought
    }
  });

  it('the JSON verifies with only the public key; records that could hold personal data keep just their hashes', async () => {
    const pub = (await (await fetch(`${e.url}/r/${receiptId}.json`)).json()) as PublicReceipt;
    const pemRes = await fetch(`${e.url}/r/public-key.pem`);
    expect(pemRes.headers.get('content-disposition')).toContain('attachment');
    const pem = await pemRes.text();
    expect(pem).toBe(e.services.keys.receipt.publicKeyPem);
    expect(pub.public_key_url).toBe(`${PUBLIC}/r/public-key.pem`);
    expect(pub.summary).toMatchObject({ order_number: '8421', amount_cents: 18600, status: 'sealed', credit_note: { number: '1', series: '1' } });
    expect(verifyPublicReceipt(pub, pem)).toEqual({ valid: true, sealed: true, outcome: 'settled', records: pub.records.length });
    const withBody = Object.fromEntries(pub.records.map((r) => [r.kind, r.body !== undefined]));
    expect(withBody).toMatchObject({ complaint: false, verification: false, guard_decision: false, refund_status: true, credit_note: true, notification: true });
    expect(pub.verification).toMatchObject({ valid: true, sealed: true });

    // Tampering is caught: a published body, a withheld record's hash, the seal.
    const tampered = structuredClone(pub);
    const status = tampered.records.find((r) => r.kind === 'refund_status')!;
    status.body = status.body!.replace('"amount_cents":18600', '"amount_cents":1860000');
    expect(verifyPublicReceipt(tampered, pem)).toMatchObject({ valid: false, step: expect.stringContaining('refund_status') });
    const relinked = structuredClone(pub);
    relinked.records[1]!.hash = 'f'.repeat(64);
    expect(verifyPublicReceipt(relinked, pem)).toMatchObject({ valid: false, step: 'record 3 (guard_decision)' });
    const forged = structuredClone(pub);
    forged.seal!.signature = Buffer.alloc(64).toString('base64');
    expect(verifyPublicReceipt(forged, pem)).toMatchObject({ valid: false, step: 'seal' });
  });

  it('an unknown or malformed receipt id is a 404, as a page or as JSON', async () => {
    const page = await fetch(`${e.url}/r/rcp_doesnotexist0000000`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Comprovante não encontrado');
    expect((await fetch(`${e.url}/r/rcp_doesnotexist0000000.json`)).status).toBe(404);
    expect((await fetch(`${e.url}/r/${receiptId.toUpperCase()}.json`)).status).toBe(404);
    expect((await fetch(`${e.url}/r/%27%3Cscript%3E`)).status).toBe(404);
  });
});

describe('receipt records that hold personal data', () => {
  it('are published as hashes only, and a disclosable kind with an unexpected field is withheld too', async () => {
    const { services, store } = await testServices();
    const at = '2026-11-20T12:00:00.000Z';
    const caseId = 'rcp_pii00000000000000001';
    const conversationId = await store.conversations.ensureId('5511987654321', '5511987654321', at);
    await store.cases.open({ id: caseId, conversation_id: conversationId, order_number: '8421', status: 'open', created_at: at });
    const pii = { phone: '5511987654321', cpf: '52998224725', name: 'Marina Souza', pix_key: 'marina@example.com' };
    await appendCaseRecord(store, caseId, 'complaint', { conversation_id: conversationId, phone: pii.phone, text: 'sou a Marina Souza' }, at);
    await appendCaseRecord(store, caseId, 'verification', { order: { customer: { name: pii.name, cpf: pii.cpf } }, payment: { payer: { name: pii.name, tax_number: pii.cpf, pix_key: pii.pix_key } } }, at);
    await appendCaseRecord(store, caseId, 'refund_status', { refund_id: 'rf_1', status: 'settled', rail: 'trio', rail_refund_id: 'x', end_to_end_id: 'D1', amount_cents: 5000, source: 'webhook', payer_name: pii.name }, at);
    await appendCaseRecord(store, caseId, 'credit_note', { refund_id: 'rf_1', ref: 'rf1', number: '7', series: '1', access_key: '3'.repeat(44) }, at);
    await sealCase(store, services.keys.receipt, caseId, 'settled', at);

    const app = express();
    app.use(receiptPages({ store: () => store, key: services.keys.receipt, publicBaseUrl: 'https://loja.example' }));
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const page = await (await fetch(`${base}/r/${caseId}`)).text();
      const json = await (await fetch(`${base}/r/${caseId}.json`)).text();
      for (const text of [page, json]) for (const value of [...Object.values(pii), '98765-4321', 'Marina']) expect(text).not.toContain(value);
      expect(page).toContain('R$ 50,00');
      expect(page).toContain('nº 7, série 1');
      const pub = JSON.parse(json) as PublicReceipt;
      expect(pub.records.map((r) => r.body !== undefined)).toEqual([false, false, false, true]);
      expect(verifyPublicReceipt(pub, services.keys.receipt.publicKeyPem)).toMatchObject({ valid: true, sealed: true });
    } finally {
      server.close();
      await store.close();
    }
  });
});
