// `node bench/trace-refund.ts [runs]`: the critical path of benchmark 3 — when each model and provider call of a complaint-to-refund run starts and ends (same emulated latencies).
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { parseConfig } from '../core/config.ts';
import { startEstorno } from '../server/app.ts';
import { extraCustomer } from '../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../sandbox/credentials.ts';

const t0 = performance.now();
const T = () => ((performance.now() - t0) / 1000).toFixed(2);
const config = parseConfig({ PORT: '0', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'trace-')), LOG_LEVEL: 'silent', SANDBOX_EXTRA_CUSTOMERS: '3' });
const logger = pino({ level: process.env.TRACE_LOG ?? 'silent' });
const e = await startEstorno({ config, logger, sandboxLatency: { model: 1500, omie: 300, pix: 500, fiscal: 800, zapi: 0 }, pixWebhookDelaysMs: { created: 100, settled: 2000 } });
const s = e.services as any;
let start = 0;
const rel = () => ((performance.now() - start) / 1000).toFixed(2);
for (const [name, obj, methods] of [['erp', s.erp, ['getOrder', 'getCustomer', 'findCustomerByPhone', 'findCustomerByTaxId', 'listOrders']], ['pix', s.pix, ['findPayment', 'refund', 'findRefund']], ['fiscal', s.fiscal, ['issueCreditNote', 'getCreditNote']], ['model', (e.agent as any).model.messages, ['create']], ['zapi', s.whatsapp, ['sendText']]] as const) {
  for (const m of methods) {
    const orig = (obj as any)[m].bind(obj);
    (obj as any)[m] = async (...a: unknown[]) => { const b = rel(); try { return await orig(...a); } finally { process.stderr.write(`  ${name}.${m} ${b} → ${rel()}\n`); } };
  }
}
const cb = (phone: string, text: string) => JSON.stringify({ type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId: `M${randomBytes(8).toString('hex')}`, phone, chatLid: `8${phone.slice(-13)}@lid`, connectedPhone: '5511999999999', fromMe: false, isGroup: false, isNewsletter: false, momment: Date.now(), status: 'RECEIVED', chatName: 'C', senderName: 'C', senderPhoto: null, participantPhone: null, broadcast: false, text: { message: text } });
const say = async (phone: string, text: string) => { const r = await fetch(`${e.url}/webhooks/zapi/${e.webhookToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: cb(phone, text) }); if (r.status !== 200) throw new Error(String(r.status)); };
for (let i = 0; i < Number(process.argv[2] ?? 2); i++) {
  const { customer, orderNumber } = extraCustomer(i);
  start = performance.now();
  process.stderr.write(`run ${i}\n`);
  await say(customer.whatsapp, `o pedido ${orderNumber} veio errado, quero meu dinheiro de volta`);
  const conv = async () => await e.services.store.conversations.byChat(customer.whatsapp);
  const deadline = Date.now() + 30_000;
  while (!(await e.services.store.outbox.forConversation((await conv())?.id ?? '')).some((m) => m.status === 'sent' && m.text.includes('Confirma'))) { if (Date.now() > deadline) { console.error('no Confirma', await conv(), await e.services.store.database.all('select conversation_id, status, text from outbox')); process.exit(1); } await new Promise((r) => setTimeout(r, 10)); }
  process.stderr.write(`  confirma seen ${rel()}\n`);
  await say(customer.whatsapp, 'sim');
  for (;;) {
    const c = (await conv())!;
    if ((await e.services.store.cases.forConversation(c.id)).some((x) => x.status === 'sealed')) break;
    if (Date.now() > deadline) { console.error('not sealed', (await e.services.store.outbox.forConversation(c.id)).map((m) => [m.status, m.text.slice(0, 60)]), await e.services.store.database.all('select kind,key,attempts,error,status from jobs')); process.exit(1); }
    await new Promise((r) => setTimeout(r, 10));
  }
  process.stderr.write(`  sealed ${rel()}\n`);
}
await e.close();
process.exit(0);
