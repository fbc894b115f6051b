import { generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { DB_FILE } from '../../data/store.ts';
import { onPostgres, withTestStore } from '../helpers/test-store.ts';
import { MARINA, JOAO } from '../../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { signTrioBody } from '../../providers/trio.ts';
import { setMandateStatus } from '../../refunds/mandate.ts';
import { fault, startTestEstorno, waitFor, type TestEstorno } from '../helpers/estorno.ts';
import { login, seedUsers, STAFF } from '../helpers/console.ts';

/**
 * Issue "Money that cannot move twice": each hole found under attack, proven
 * closed from the outside (webhooks, console API, the sandbox's scripted model
 * and its fault injection), each test failing on the code before its fix.
 */

/** Every real credential but the fiscal API's: the case the attack campaign used. */
const REAL_BUT_FISCAL = {
  ANTHROPIC_API_KEY: 'sk-ant-test',
  ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
  ZAPI_BASE_URL: 'http://127.0.0.1:9',
  ZAPI_INSTANCE_ID: 'INSTANCE',
  ZAPI_INSTANCE_TOKEN: 'instance-token',
  ZAPI_CLIENT_TOKEN: 'client-token',
  ZAPI_WEBHOOK_TOKEN: 'merchant-webhook-token-0123456789',
  OMIE_BASE_URL: 'http://127.0.0.1:9',
  OMIE_APP_KEY: 'key',
  OMIE_APP_SECRET: 'secret',
  TRIO_BASE_URL: 'http://127.0.0.1:9',
  TRIO_CLIENT_ID: 'client',
  TRIO_CLIENT_SECRET: 'secret',
  TRIO_VIRTUAL_ACCOUNT_ID: 'va',
  TRIO_WEBHOOK_SECRET: 'merchant-trio-webhook-secret',
  TRIO_WEBHOOK_SIGNING_KEY: 'merchant-trio-signing-key',
  // Outside sandbox mode on PostgreSQL the keys must come from the environment (never generated per machine).
  MANDATE_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  RECEIPT_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};

/** Real money (Omie, Trio, Focus) with the WhatsApp side emulated: an allowed mix, not sandbox mode. */
const { ZAPI_INSTANCE_ID: _i, ZAPI_INSTANCE_TOKEN: _t, ZAPI_CLIENT_TOKEN: _c, ...MONEY_REAL_BUT_WHATSAPP } = { ...REAL_BUT_FISCAL, FOCUS_TOKEN: 't', MERCHANT_CNPJ: '12345678000195' };

/** A Trio refund event signed with the keys published in sandbox/credentials.ts. */
function sandboxSignedTrioEvent(type: 'settled' | 'failed'): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ id: 'evt-forged', ref_id: 'rf-forged', category: 'collecting_document_refund', type, timestamp: new Date().toISOString(), data: { id: 'rf-forged', amount: 18600, status: type } });
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-webhook-secret': SANDBOX_CREDENTIALS.trio.webhookSecret, 'x-webhook-signature': signTrioBody(body, SANDBOX_CREDENTIALS.trio.webhookSigningKey) },
  };
}

let e: TestEstorno | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const conversationOf = async (phone: string) => (await e!.services.store.conversations.byChat(phone))!;
const refundsOf = async (phone: string) => await e!.services.store.refunds.forConversation((await conversationOf(phone)).id);

describe('H1: a slow rail never pays the same refund twice', () => {
  it('a refund POST that reaches Trio after our timeout is found later, never sent again', async () => {
    e = await startTestEstorno({ PROVIDER_TIMEOUT_MS: '300' });
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    // The rail takes the request 1.5 s late: our call times out, reconciliation at ~1.3 s finds nothing yet.
    await fetch(`${e.url}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'pix', mode: 'slow', count: 1, delay_ms: 1_500 }) });
    await e.say(MARINA.whatsapp, 'sim');
    await waitFor('the refund to settle', async () => (await refundsOf(MARINA.whatsapp))[0]?.status === 'settled', 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await e.settle();
    const atRail = await e.pixRefunds();
    expect(atRail).toHaveLength(1);
    expect(atRail[0]).toMatchObject({ amount_cents: 18600, status: 'settled' });
    const moves = await e.services.store.database.all('SELECT to_status, source FROM refund_events WHERE refund_id = ? ORDER BY id', (await refundsOf(MARINA.whatsapp))[0]!.id) as Array<{ to_status: string; source: string }>;
    expect(moves.map((m) => m.to_status)).toContain('unknown');
    expect(moves.map((m) => m.source)).not.toContain('retry');
  });

  it('a refund whose request never arrived stays unknown (holding its amount), goes to staff, and only staff release it', async () => {
    e = await startTestEstorno({ PROVIDER_TIMEOUT_MS: '300', UNKNOWN_REFUND_REVIEW_AFTER_MS: '1000' });
    await seedUsers(e);
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado');
    await e.settle();
    await fault(e, 'pix', 'timeout', 1);
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
    const refund = await waitFor('review requested', async () => {
      const r = (await refundsOf(MARINA.whatsapp))[0];
      return r?.review_requested_at ? r : null;
    }, 20_000);
    expect(refund.status).toBe('unknown');
    expect(await e.pixRefunds()).toEqual([]); // never sent a second time
    const payment = (await e.services.store.payments.get(refund.payment_id))!;
    expect(await e.services.store.refunds.heldCents(payment.id)).toBe(18600); // still blocks what is left to refund

    const staff = await login(e, STAFF);
    const review = await staff.call('GET', '/api/refunds/review');
    expect(review.body).toEqual([expect.objectContaining({ id: refund.id, amount_cents: 18600 })]);
    const released = await staff.call('POST', `/api/refunds/${refund.id}/release`, { reason: 'Trio dashboard shows no refund for this payment' });
    expect(released.status).toBe(200);
    expect(await e.services.store.refunds.get(refund.id)).toMatchObject({ status: 'failed' });
    expect(await e.services.store.refunds.heldCents(payment.id)).toBe(0);
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).map((m) => m.message)).toEqual(expect.arrayContaining([expect.stringContaining('Não conseguimos concluir o estorno')]));
  });
});

describe('H2, H3: sandbox routes, users and secrets only in sandbox mode', () => {
  it('everything real but the fiscal API does not start: customers would be told of notes nobody issued', () => {
    expect(() => parseConfig(REAL_BUT_FISCAL)).toThrow(/Z-API \(ZAPI_\*\) is real but the fiscal API/);
    expect(() => parseConfig({ ...MONEY_REAL_BUT_WHATSAPP, FOCUS_TOKEN: '', MERCHANT_CNPJ: '' })).toThrow(/the Pix rail is real but the fiscal API/);
  });

  it('with some providers real, /sandbox is 404, nobody can reset the database, no sandbox user exists', async () => {
    e = await startTestEstorno(MONEY_REAL_BUT_WHATSAPP);
    expect(await e.services.store.users.byEmail('admin@estorno.local')).toBeUndefined();
    await e.services.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date().toISOString());
    for (const [method, route] of [['POST', '/sandbox/reset'], ['GET', '/sandbox/zapi/outbox'], ['POST', '/sandbox/faults'], ['GET', '/sandbox/pix/refunds']] as const) {
      expect((await fetch(`${e.url}${route}`, { method })).status, route).toBe(404);
    }
    expect(await conversationOf(MARINA.whatsapp)).toBeDefined(); // the database was not swapped
  });

  it('with a real Trio rail, events signed with the published sandbox keys are refused', async () => {
    e = await startTestEstorno(MONEY_REAL_BUT_WHATSAPP);
    for (const type of ['failed', 'settled'] as const) {
      const forged = sandboxSignedTrioEvent(type);
      expect((await fetch(`${e.url}/webhooks/pix`, { method: 'POST', headers: forged.headers, body: forged.body })).status).toBe(401);
    }
  });

  it('with the BCB rail, no Trio receiver is mounted at all', async () => {
    const { TRIO_CLIENT_ID, TRIO_CLIENT_SECRET, TRIO_VIRTUAL_ACCOUNT_ID, TRIO_WEBHOOK_SECRET, TRIO_WEBHOOK_SIGNING_KEY, ...rest } = REAL_BUT_FISCAL;
    e = await startTestEstorno({ ...rest, PIX_RAIL: 'bcb', BCB_PIX_BASE_URL: 'https://127.0.0.1:9', BCB_PIX_CLIENT_ID: 'c', BCB_PIX_CLIENT_SECRET: 's', BCB_PIX_CERT: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', BCB_PIX_KEY: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n', FOCUS_TOKEN: 't', MERCHANT_CNPJ: '12345678000195' });
    const forged = sandboxSignedTrioEvent('failed');
    expect((await fetch(`${e.url}/webhooks/pix`, { method: 'POST', headers: forged.headers, body: forged.body })).status).toBe(404);
  });

  it('SANDBOX=1 refuses to start next to a real credential, SANDBOX=0 next to an emulator', () => {
    expect(() => parseConfig({ SANDBOX: '1', OMIE_APP_KEY: 'k', OMIE_APP_SECRET: 's' })).toThrow(/SANDBOX.*omie/);
    expect(() => parseConfig({ SANDBOX: '0' })).toThrow(/SANDBOX.*emulated/);
    expect(parseConfig({ SANDBOX: '1' }).sandbox).toBe(true);
    expect(parseConfig(MONEY_REAL_BUT_WHATSAPP).sandbox).toBe(false);
  });
});

describe('H4: a CPF is not a login', () => {
  /** Valid CPFs nobody in the seed has. */
  const strangers = Array.from({ length: 20 }, (_, i) => {
    const base = String(100_000_000 + i * 7_919).padStart(9, '0');
    const digit = (d: string) => {
      let sum = 0;
      for (let k = 0; k < d.length; k++) sum += Number(d[k]) * (d.length + 1 - k);
      const r = sum % 11;
      return r < 2 ? 0 : 11 - r;
    };
    const d1 = digit(base);
    return `${base}${d1}${digit(`${base}${d1}`)}`;
  });

  it('20 CPFs from one @lid chat cost at most 5 ERP lookups, then the chat is locked', async () => {
    e = await startTestEstorno();
    const lookups: string[] = [];
    const original = e.services.erp.findCustomerByTaxId.bind(e.services.erp);
    e.services.erp.findCustomerByTaxId = async (taxId) => {
      lookups.push(taxId);
      return original(taxId);
    };
    const lid = '70000000000001@lid';
    for (const cpf of strangers) {
      await e.say(lid, cpf);
      await e.settle();
    }
    expect(lookups.length).toBeLessThanOrEqual(5);
    expect((await e.outbox(lid)).at(-1)?.message).toContain('pausamos a identificação');
    expect((await conversationOf(lid)).customer_code).toBeNull();
  });

  it("typing Marina's CPF shows nothing; a refund from her verified @lid chat is announced on her own number", async () => {
    e = await startTestEstorno();
    const lid = '70000000000002@lid';
    await e.say(lid, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
    await e.settle();
    await e.say(lid, MARINA.cpf);
    await e.settle();
    const lidMessages = (await e.outbox(lid)).map((m) => m.message).join('\n');
    expect(lidMessages).not.toContain('186,00');
    expect((await conversationOf(lid)).customer_code).toBeNull();
    const code = (await e.outbox(MARINA.whatsapp)).at(-1)!.message.match(/\d{6}/)![0];
    await e.say(lid, code);
    await e.settle();
    await e.say(lid, 'sim');
    await e.settle();
    expect(await e.pixRefunds()).toHaveLength(1);
    expect((await e.outbox(MARINA.whatsapp)).map((m) => m.message)).toEqual(expect.arrayContaining([expect.stringContaining('Aviso de segurança: um estorno de R$ 186,00 do pedido #8421')]));
  });
});

describe('H5: one server per data directory', () => {
  it('a second `npm start` on the same DATA_DIR stops with a readable message while the first runs', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-lock-'));
    const env = withTestStore({ ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });
    const first = spawn(process.execPath, ['bin/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      first.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the first server', () => out.includes('listening on'), 30_000);
      const second = spawn(process.execPath, ['bin/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      second.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
      expect(code).not.toBe(0);
      expect(err).toMatch(/already running (on|with) DATA_DIR/);
      expect(err).not.toMatch(/\n\s+at /); // one readable line, not a stack trace
    } finally {
      first.kill('SIGTERM');
      await new Promise((r) => first.on('exit', r));
    }
  }, 60_000);
});

describe('M6: splitting never beats the per-refund cap', () => {
  it('one answer with five pay_refund {8422, 48000} pays one; a sixth in a later answer needs approval', async () => {
    e = await startTestEstorno();
    const block = (i: number) => ({ type: 'tool_use', id: `toolu_split_${i}`, name: 'pay_refund', input: { order_id: '8422', amount_cents: 48000, reason: 'veio errado' } });
    await e.script([
      { content: [1, 2, 3, 4, 5].map(block), stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Feito.' }], stop_reason: 'end_turn' },
      { content: [block(6)], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Ok.' }], stop_reason: 'end_turn' },
    ]);
    await e.say(MARINA.whatsapp, 'quero o estorno do 8422');
    await e.settle();
    await e.say(MARINA.whatsapp, 'e mais uma parte');
    await e.settle();
    expect((await e.pixRefunds()).map((r) => r.amount_cents)).toEqual([48000]);
    const calls = await e.services.store.turns.toolCalls((await conversationOf(MARINA.whatsapp)).id);
    expect(calls.filter((c) => c.reason === 'one_refund_per_answer')).toHaveLength(4);
    expect(calls.at(-1)).toMatchObject({ tool_use_id: 'toolu_split_6', reason: 'over_per_refund_cap' });
    expect(await e.services.store.approvals.list('pending')).toEqual([expect.objectContaining({ order_number: '8422', amount_cents: 48000 })]);
  });
});

describe('M7: tool-use ids belong to their conversation', () => {
  it("a tool_use id reused in João's chat runs there, and never returns Marina's result", async () => {
    e = await startTestEstorno({ AGENT_PREFETCH_ORDERS: 'false' });
    const lookup = { type: 'tool_use', id: 'toolu_shared', name: 'ledger_lookup', input: { order_id: '8421' } };
    await e.script([
      { content: [lookup], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Achei.' }], stop_reason: 'end_turn' },
    ]);
    await e.say(MARINA.whatsapp, 'pedido 8421');
    await e.settle();
    await e.script([
      { content: [lookup], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Ok.' }], stop_reason: 'end_turn' },
    ]);
    await e.say(JOAO.whatsapp, 'pedido 8421');
    await e.settle();
    const joao = (await e.services.store.turns.toolCall((await conversationOf(JOAO.whatsapp)).id, 'toolu_shared'))!;
    expect(joao.result).not.toContain('18600');
    expect(joao.result).not.toContain('Marina');
    expect((await e.services.store.turns.toolCall((await conversationOf(MARINA.whatsapp)).id, 'toolu_shared'))!.result).toContain('18600');
  });
});

describe('M9 and failed approvals: an approval is claimed with its refund, and the customer always hears the outcome', () => {
  const askFor8422 = async () => {
    await e!.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 veio errado, quero meu dinheiro de volta');
    return (await e!.services.store.approvals.list('pending'))[0]!;
  };

  it('an approval left "approved" without its refund (a crash) is pending again after a restart, and approving it pays once', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-apr-'));
    e = await startTestEstorno({}, { dataDir });
    const approval = await askFor8422();
    // What a SIGKILL between the old claim and the reservation left behind.
    await e.services.store.database.run("UPDATE approvals SET status = 'approved', decided_by = 'staff' WHERE id = ?", approval.id);
    await e.stop();
    e = await startTestEstorno({}, { dataDir });
    expect((await e.services.store.approvals.get(approval.id))?.status).toBe('pending');
    await seedUsers(e);
    const staff = await login(e, STAFF);
    const [a, b] = await Promise.all([
      staff.call('POST', `/api/approvals/${approval.id}/approve`, { reason: 'ok' }),
      staff.call('POST', `/api/approvals/${approval.id}/approve`, { reason: 'ok' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    await e.settle();
    expect(await e.pixRefunds()).toEqual([expect.objectContaining({ amount_cents: 240000 })]);
    expect(await e.services.store.approvals.get(approval.id)).toMatchObject({ status: 'approved', refund_id: expect.any(String) });
  });

  it('an approval the guard refuses at execution is failed and the customer is told', async () => {
    e = await startTestEstorno();
    await seedUsers(e);
    const approval = await askFor8422();
    await setMandateStatus(e.services.store, e.services.approverMandateId, 'pause', 'audit', 'admin', new Date());
    const staff = await login(e, STAFF);
    const res = await staff.call('POST', `/api/approvals/${approval.id}/approve`, { reason: 'cliente antigo' });
    expect(res.status).toBe(422);
    await e.settle();
    expect((await e.services.store.approvals.get(approval.id))?.status).toBe('failed');
    expect(await e.pixRefunds()).toEqual([]);
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toContain('não pôde ser executado');
  });
});

describe('M10: the login throttle counts before hashing', () => {
  it('60 parallel wrong passwords: at most 10 are checked, the rest are turned away', async () => {
    e = await startTestEstorno();
    await seedUsers(e);
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => fetch(`${e!.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: STAFF.email, password: 'wrong-password' }) }).then((r) => r.status)),
    );
    expect(answers.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(answers.filter((s) => s === 429).length).toBeGreaterThanOrEqual(50);
  });
});

describe('M11: slow and idle clients cannot hold the service', () => {
  const connect = (port: number) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
      s.resume(); // read what the server says, so that its close is seen
    });
  const closed = (s: net.Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.on('close', () => resolve())));

  it('a body that trickles in is cut off after HTTP_REQUEST_TIMEOUT_MS', async () => {
    e = await startTestEstorno({ HTTP_REQUEST_TIMEOUT_MS: '1000' });
    const s = await connect(e.port);
    s.on('error', () => {});
    s.write(`POST /webhooks/zapi/${e.webhookToken} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    await Promise.race([closed(s), new Promise((_, reject) => setTimeout(() => reject(new Error('the slow request was held open')), 10_000))]);
  });

  it('sockets beyond HTTP_MAX_CONNECTIONS are closed at once', async () => {
    e = await startTestEstorno({ HTTP_MAX_CONNECTIONS: '5' });
    const sockets = await Promise.all(Array.from({ length: 8 }, () => connect(e!.port)));
    for (const s of sockets) s.on('error', () => {});
    await waitFor('the extra sockets to be closed', () => sockets.filter((s) => s.destroyed || s.readableEnded).length >= 3, 5_000).catch(async () => {
      await new Promise((r) => setTimeout(r, 200));
    });
    const open = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    expect(open).toBeLessThanOrEqual(5);
    for (const s of sockets) s.destroy();
  });
});

describe('Low: errors, logs and files', () => {
  it('a broken JSON body on /api answers 400 and no part of it reaches the logs', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
    e = await startTestEstorno({ LOG_LEVEL: 'trace' }, { logTo: sink });
    const res = await fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"ana@loja.test","password":"hunter2-secret' });
    expect(res.status).toBe(400);
    expect(lines.join('')).not.toContain('hunter2');
  });

  it('a provider-chosen event type is logged as a token, never as free text', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
    e = await startTestEstorno({ LOG_LEVEL: 'trace' }, { logTo: sink });
    await fetch(`${e.url}/webhooks/zapi/${e.webhookToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'Marina Souza 529.982.247-25' }) });
    expect(lines.join('')).not.toContain('529.982.247-25');
    expect(lines.join('')).not.toContain('Marina');
  });

  it('the model-chosen name of an unknown tool never goes out on the live stream', async () => {
    e = await startTestEstorno();
    const names: unknown[] = [];
    e.events.subscribe((event) => event.type === 'tool_call' && names.push(event.name));
    await e.script([
      { content: [{ type: 'tool_use', id: 'toolu_evil', name: '<img src=x onerror=alert(1)>', input: {} }], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Ok.' }], stop_reason: 'end_turn' },
    ]);
    await e.say(MARINA.whatsapp, 'oi');
    await e.settle();
    expect(names).toEqual(['unknown_tool']);
  });

  it('text the model writes beside a tool call reaches the customer', async () => {
    e = await startTestEstorno({ AGENT_PREFETCH_ORDERS: 'false' });
    await e.script([
      { content: [{ type: 'text', text: 'Um instante, vou consultar o pedido. Confirma que é o #8421?' }, { type: 'tool_use', id: 'toolu_look', name: 'ledger_lookup', input: { order_id: '8421' } }], stop_reason: 'tool_use' },
      { content: [{ type: 'text', text: 'Encontrei.' }], stop_reason: 'end_turn' },
    ]);
    await e.say(MARINA.whatsapp, 'pedido 8421');
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).map((m) => m.message)).toEqual(['Um instante, vou consultar o pedido. Confirma que é o #8421?', 'Encontrei.']);
  });

  // SQLite only: PostgreSQL has no database-wide write lock for another process to hold (row locks wait without freezing the event loop).
  it.skipIf(onPostgres)('another process holding the SQLite lock: the webhook answers 503 at once instead of freezing', async () => {
    e = await startTestEstorno();
    // The server waits for a lock at most briefly (better-sqlite3 waits synchronously, freezing the event loop).
    expect(e.services.store.sqlite!.pragma('busy_timeout', { simple: true })).toBeLessThanOrEqual(250);
    const other = new Database(path.join(e.dataDir, DB_FILE));
    other.exec('BEGIN IMMEDIATE');
    try {
      expect((await e.say(MARINA.whatsapp, 'oi')).status).toBe(503);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await e.say(MARINA.whatsapp, 'oi')).status).toBe(200);
  });

  // SQLite only: on PostgreSQL the data is the server's, not a file in DATA_DIR.
  it.skipIf(onPostgres)('the database file is readable by its owner only', async () => {
    e = await startTestEstorno();
    expect(statSync(path.join(e.dataDir, DB_FILE)).mode & 0o777).toBe(0o600);
  });
});
