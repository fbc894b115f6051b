import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useNock } from '../../helpers/nock.ts';
import { createBcbPixRail, mtlsAgent, readPem } from '../../../providers/bcb-pix.ts';

/**
 * PSPs require their client certificate on every API Pix call, the token
 * request included (Efí `docs/api-pix/credenciais.md`; BCB security manual),
 * and some (Inter) want a form-encoded token request with a scope.
 */
const E2E = 'E18236120202611221330sbx8421pay0';

describe('API Pix: token request styles and the received-Pix listing', () => {
  useNock();
  const BASE = 'https://cdpj.partners.bancointer.com.br';

  it('form_scope: posts client_id, client_secret, grant_type and scope form-encoded (Inter), and uses the /pix/v2 prefix', async () => {
    let form = '';
    let contentType = '';
    nock(BASE)
      .post('/oauth/v2/token', (b) => ((form = typeof b === 'string' ? b : new URLSearchParams(b).toString()), true))
      .matchHeader('content-type', (v) => ((contentType = v ?? ''), true))
      .reply(200, { access_token: 'tok', token_type: 'Bearer', expires_in: 3600 })
      .get(`/pix/v2/pix/${E2E}`)
      .reply(200, { endToEndId: E2E, valor: '186.00', horario: '2026-11-22T10:30:00-03:00' });
    const rail = createBcbPixRail({ baseUrl: BASE, clientId: 'cid', clientSecret: 'csec', timeoutMs: 500, tokenStyle: 'form_scope', tokenScope: 'pix.read pix.write', apiPrefix: '/pix/v2' });
    expect(await rail.findPayment(E2E, '2026-11-22T13:30:00Z')).toMatchObject({ amountCents: 18600, paidAt: '2026-11-22T13:30:00.000Z' });
    expect(contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(form))).toEqual({ client_id: 'cid', client_secret: 'csec', grant_type: 'client_credentials', scope: 'pix.read pix.write' });
  });

  it('lists received Pix by window and payer CPF (GET /pix?inicio&fim&cpf), every page, keeping the same amount only', async () => {
    const EFI = 'https://pix.api.efipay.com.br';
    const queries: Array<Record<string, string>> = [];
    nock(EFI)
      .post('/oauth/token').reply(200, { access_token: 'tok', expires_in: 3600 })
      .get('/v2/pix').query((q) => (queries.push(q as Record<string, string>), q['paginacao.paginaAtual'] === '0'))
      .reply(200, { parametros: { inicio: 'x', fim: 'y', paginacao: { paginaAtual: 0, itensPorPagina: 100, quantidadeDePaginas: 2, quantidadeTotalDeItens: 3 } }, pix: [{ endToEndId: E2E, valor: '186.00', horario: '2026-11-22T13:30:00Z' }, { endToEndId: 'E'.padEnd(32, '2'), valor: '10.00', horario: '2026-11-22T13:30:00Z' }] })
      .get('/v2/pix').query((q) => q['paginacao.paginaAtual'] === '1')
      .reply(200, { parametros: { paginacao: { paginaAtual: 1, itensPorPagina: 100, quantidadeDePaginas: 2 } }, pix: [{ endToEndId: 'E'.padEnd(32, '3'), valor: '186.00', horario: '2026-11-21T13:30:00Z' }] });
    const rail = createBcbPixRail({ baseUrl: EFI, clientId: 'c', clientSecret: 's', timeoutMs: 500 });
    const found = await rail.findPayments({ amountCents: 18600, payerTaxId: '52998224725', from: '2026-11-19T00:00:00Z', to: '2026-11-23T00:00:00Z' });
    expect(found.map((p) => p.endToEndId)).toEqual([E2E, 'E'.padEnd(32, '3')]);
    expect(queries[0]).toMatchObject({ inicio: '2026-11-19T00:00:00Z', fim: '2026-11-23T00:00:00Z', cpf: '52998224725' });
  });
});

describe('API Pix: a charge found by its txid', () => {
  useNock();
  it('asks GET /pix?txid= within the window and keeps only Pix of that txid', async () => {
    const EFI = 'https://pix.api.efipay.com.br';
    let query: Record<string, string> = {};
    nock(EFI)
      .post('/oauth/token').reply(200, { access_token: 'tok', expires_in: 3600 })
      .get('/v2/pix').query((q) => ((query = q as Record<string, string>), true))
      .reply(200, { parametros: { paginacao: { paginaAtual: 0, quantidadeDePaginas: 1 } }, pix: [{ endToEndId: E2E, txid: 'tx8421abcdefghijklmnopqrstu', valor: '186.00', horario: '2026-11-22T13:30:00Z' }] });
    const rail = createBcbPixRail({ baseUrl: EFI, clientId: 'c', clientSecret: 's', timeoutMs: 500 });
    const found = await rail.findPaymentByTxid!('tx8421abcdefghijklmnopqrstu', '2026-11-19T00:00:00Z', '2026-11-23T00:00:00Z');
    expect(found.map((p) => p.endToEndId)).toEqual([E2E]);
    expect(query).toMatchObject({ txid: 'tx8421abcdefghijklmnopqrstu', inicio: '2026-11-19T00:00:00Z', fim: '2026-11-23T00:00:00Z' });
  });
});

describe('API Pix: the client certificate (mTLS) travels on the token request too', () => {
  let dir = '';
  let server: https.Server;
  let url = '';
  const seen: Array<{ path: string; clientCert: string | null }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'estorno-mtls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test PSP CA');
    for (const name of ['server', 'client']) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'estorno-merchant'}`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2');
    }
    server = https.createServer(
      { key: readFileSync(path.join(dir, 'server.key')), cert: readFileSync(path.join(dir, 'server.pem')), ca: readFileSync(path.join(dir, 'ca.pem')), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        seen.push({ path: req.url ?? '', clientCert: peer && peer.subject ? String(peer.subject.CN) : null });
        res.setHeader('content-type', 'application/json');
        if (req.url === '/oauth/token') return void res.end(JSON.stringify({ access_token: 'tok', expires_in: 3600 }));
        res.end(JSON.stringify({ endToEndId: E2E, valor: '186.00', horario: '2026-11-22T13:30:00Z' }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('presents the certificate (given as file paths, or base64) on the token request and on the API call; without it the PSP refuses the handshake', async () => {
    const agent = mtlsAgent({ cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key'), ca: Buffer.from(readFileSync(path.join(dir, 'ca.pem'))).toString('base64') });
    // localhost resolves to loopback; the server certificate names localhost.
    const rail = createBcbPixRail({ baseUrl: url, clientId: 'c', clientSecret: 's', timeoutMs: 3_000, httpsAgent: agent });
    expect(await rail.findPayment(E2E, '2026-11-22T13:30:00Z')).toMatchObject({ amountCents: 18600 });
    expect(seen.map((s) => [s.path, s.clientCert])).toEqual([['/oauth/token', 'estorno-merchant'], [`/v2/pix/${E2E}`, 'estorno-merchant']]);

    const noCert = createBcbPixRail({ baseUrl: url, clientId: 'c', clientSecret: 's', timeoutMs: 3_000, httpsAgent: new https.Agent({ ca: readPem(path.join(dir, 'ca.pem')) }) });
    await expect(noCert.findPayment(E2E, '2026-11-22T13:30:00Z')).rejects.toMatchObject({ provider: 'bcb', failure: 'network' });
  });

  it('reads a PEM from a path, PEM text with \\n escapes, or base64', () => {
    const pem = readFileSync(path.join(dir, 'client.pem'), 'utf8');
    expect(readPem(path.join(dir, 'client.pem')).toString()).toBe(pem);
    expect(readPem(pem.replace(/\n/g, '\\n')).toString().trim()).toBe(pem.trim());
    expect(readPem(Buffer.from(pem).toString('base64')).toString()).toBe(pem);
    expect(() => readPem('definitely not a pem')).toThrow(/PEM/);
  });
});
