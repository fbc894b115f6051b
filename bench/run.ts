import { sqliteDatabase } from '../data/sql.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pino from 'pino';
import { parseConfig } from '../core/config.ts';
import { loadSigningKey } from '../core/signing.ts';
import { createStore } from '../data/store.ts';
import { openDatabaseStore } from '../data/open.ts';
import { openDb } from '../data/db.ts';
import { appendCaseRecord, sealCase } from '../refunds/cases.ts';
import { loadReceipt, verifyReceipt } from '../refunds/verify-receipt.ts';
import { verifyAllReceipts } from '../refunds/verify-all-receipts.ts';
import { costUsd, FIN_PER_OUTCOME_USD, MODEL_PRICES, PRICES_AS_OF, type TokenUse } from './prices.ts';
import { startEstorno, type Estorno } from '../server/app.ts';
import { changeCaps } from '../refunds/mandate.ts';
import { SANDBOX_CREDENTIALS } from '../sandbox/credentials.ts';
import { extraCustomer } from '../sandbox/seed.ts';
import { PG_URL, testSchemaName } from '../test/helpers/pg.ts';
import { dropTestSchemas } from '../test/helpers/test-store.ts';
import { replaceSection } from './results-file.ts';

/**
 * `npm run bench`: the benchmarks of issue "Benchmarks", written to
 * bench/RESULTS.md with the machine, the Node version, the date and the
 * command behind each figure. A progress line goes to stderr as each runs.
 */
const quick = process.argv.includes('--quick');
/**
 * `--store=postgres`: the ingest, agent overhead and 500-conversation sections
 * on PostgreSQL (DATABASE_URL, else 127.0.0.1:5432 database test), each server
 * on a fresh schema, dropped after; the figures go to RESULTS.md's PostgreSQL part.
 */
const onPostgres = process.argv.includes('--store=postgres');
const schemas: string[] = [];
function storeEnv(): Record<string, string> {
  if (!onPostgres) return {};
  const schema = testSchemaName();
  schemas.push(schema);
  return { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema };
}
const storeName = onPostgres ? 'PostgreSQL' : 'SQLite';
const out: string[] = [];
const progress = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), `estorno-bench-${p}-`));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

function spawnServer(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const ready = buffer.split('\n').find((l) => l.startsWith('ready') || l.includes('is listening on'));
      if (ready) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, line: ready });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  child.kill('SIGKILL');
}

/** One stable Linked ID per phone: conversations are keyed by the lid, so a shared one would merge every customer into one chat. */
const lidFor = (phone: string) => `8${phone.replace(/\D/g, '').slice(-13)}@lid`;
const receivedCallback = (messageId: string, phone: string) =>
  JSON.stringify({
    type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId, phone, chatLid: lidFor(phone), connectedPhone: '5511999999999',
    fromMe: false, isGroup: false, isNewsletter: false, momment: Date.now(), status: 'RECEIVED', chatName: 'Cliente', senderName: 'Cliente', senderPhoto: null,
    participantPhone: null, broadcast: false, text: { message: 'Oi, o pedido 8421 veio com o tamanho errado, quero meu dinheiro de volta por favor' },
  });

async function load(url: string, headers: Record<string, string>) {
  let n = 0;
  const prefix = randomBytes(4).toString('hex');
  return autocannon({
    url,
    method: 'POST',
    connections: 50,
    duration: quick ? 5 : 15,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: receivedCallback(`B${prefix}${n++}`, `55119${String(80_000_000 + (n % 5_000))}`) }) }],
  });
}

// 1. Webhook ingest vs a bare express + SQLite baseline, same run, same machine.
async function ingest(): Promise<void> {
  progress('1/6 webhook ingest (autocannon, 50 connections) — baseline first');
  const basePort = 4700 + Math.floor(Math.random() * 100);
  const baseline = await spawnServer(['bench/baseline-server.ts', String(basePort), path.join(tmp('baseline'), 'b.db')], {});
  const b = await load(`http://127.0.0.1:${basePort}/webhooks/zapi`, {});
  await stop(baseline.child);
  progress('1/6 webhook ingest — Estorno');
  const port = basePort + 200;
  const ours = await spawnServer(['bench/ingest-server.ts'], { PORT: String(port), DATA_DIR: tmp('ingest'), LOG_LEVEL: 'info', ...storeEnv() });
  const token = ours.line.split(' ')[1] as string;
  const e = await load(`http://127.0.0.1:${port}/webhooks/zapi`, { 'x-webhook-token': token });
  await stop(ours.child);
  const ratio = e.requests.average / b.requests.average;
  out.push(
    `## 1. Webhook ingest (${storeName})`,
    '',
    'Command: `npm run bench` (autocannon, 50 connections, ' + (quick ? 5 : 15) + ' s each, a unique ~600-byte ReceivedCallback per request; both servers are child processes; Estorno runs with turn processing off and logs at info).',
    '',
    '| server | req/s | p50 | p99 | non-2xx |',
    '|---|---|---|---|---|',
    `| baseline: express.json() + one SQLite insert | ${b.requests.average.toFixed(0)} | ${b.latency.p50} ms | ${b.latency.p99} ms | ${b.non2xx} |`,
    `| Estorno POST /webhooks/zapi on ${storeName} (auth, zod, dedupe, conversation + inbox insert) | ${e.requests.average.toFixed(0)} | ${e.latency.p50} ms | ${e.latency.p99} ms | ${e.non2xx} |`,
    '',
    `ingest ratio (Estorno / baseline): ${ratio.toFixed(2)} (goal ≥ 0.70)`,
    '',
  );
}

/** Wall time during which at least one external call (model or provider) was in flight. */
function externalClock() {
  let active = 0;
  let since = 0;
  let total = 0;
  return {
    reset: () => { total = 0; },
    total: () => total + (active > 0 ? performance.now() - since : 0),
    wrap<T extends object>(obj: T, methods: string[]): void {
      for (const m of methods) {
        const original = (obj as Record<string, (...a: unknown[]) => Promise<unknown>>)[m]!.bind(obj);
        (obj as Record<string, unknown>)[m] = async (...args: unknown[]) => {
          if (active++ === 0) since = performance.now();
          try {
            return await original(...args);
          } finally {
            if (--active === 0) total += performance.now() - since;
          }
        };
      }
    },
  };
}

async function inProcess(env: Record<string, string>, options: { latency?: Record<string, number>; hooks?: { created: number; settled: number } } = {}): Promise<Estorno> {
  const config = parseConfig({ PORT: '0', DATA_DIR: tmp('proc'), LOG_LEVEL: 'silent', ...storeEnv(), ...env });
  return startEstorno({ config, logger: pino({ level: 'silent' }), ...(options.latency ? { sandboxLatency: options.latency } : {}), ...(options.hooks ? { pixWebhookDelaysMs: options.hooks } : {}) });
}

async function say(e: Estorno, phone: string, text: string): Promise<void> {
  const res = await fetch(`${e.url}/webhooks/zapi/${e.webhookToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: receivedCallback(`M${randomBytes(8).toString('hex')}`, phone).replace(/"message":"[^"]*"/, `"message":${JSON.stringify(text)}`) });
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
}

const prefixHashes = new Set<string>();
let prefixBytes = 0;
function notePrefixes(e: Estorno): void {
  for (const r of e.sandbox!.model.requests() as Array<{ tools: unknown; system: unknown }>) {
    const bytes = JSON.stringify({ tools: r.tools, system: r.system });
    prefixBytes = Buffer.byteLength(bytes);
    prefixHashes.add(createHash('sha256').update(bytes).digest('hex'));
  }
}

// 2. Agent overhead per turn, model and provider time excluded (zero-latency emulators).
async function overhead(): Promise<void> {
  const customers = quick ? 60 : 200;
  const warmup = 20;
  progress(`2/6 agent overhead per turn (${warmup} warm-up + ${customers} customers, 2 turns each)`);
  const e = await inProcess({ SANDBOX_EXTRA_CUSTOMERS: String(customers + warmup), MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: '1000' });
  await changeCaps(e.services.store, e.services.keys.mandate, 'cm_support', { window_cap_cents: 100_000_000 }, 'bench', new Date());
  const clock = externalClock();
  const s = e.services;
  clock.wrap(s.erp, ['getOrder', 'getCustomer', 'findCustomerByPhone', 'findCustomerByTaxId', 'listOrders']);
  clock.wrap(s.pix, ['findPayment', 'refund', 'findRefund']);
  clock.wrap(s.fiscal, ['issueCreditNote', 'getCreditNote']);
  clock.wrap((e.agent as unknown as { model: { messages: object } }).model.messages, ['create']);
  const overheads: number[] = [];
  const agent = e.agent as unknown as { runTurn: (id: string) => Promise<unknown> };
  const run = agent.runTurn.bind(agent);
  agent.runTurn = async (id: string) => {
    clock.reset();
    const t = performance.now();
    try {
      return await run(id);
    } finally {
      overheads.push(performance.now() - t - clock.total());
    }
  };
  for (let i = 0; i < customers + warmup; i++) {
    // The first customers only warm the JIT and the caches: steady state is what is measured.
    if (i === warmup) overheads.length = 0;
    const { customer, orderNumber } = extraCustomer(i);
    await say(e, customer.whatsapp, `o pedido ${orderNumber} veio errado`);
    await e.idle();
    await say(e, customer.whatsapp, 'sim');
    await e.idle();
  }
  notePrefixes(e);
  await e.close();
  const turns = overheads.filter((x) => x > 0);
  out.push(
    `## 2. Agent overhead per turn (${storeName})`,
    '',
    `Command: \`npm run bench\` — ${turns.length} turns after ${warmup} warm-up conversations (a complaint turn with the recent-orders context, then a confirmation turn with the guard, the reservation and the rail call), in process, emulators at zero latency. Overhead = the turn's wall time minus the time during which a model or provider call was in flight (so it includes the database, the guard, zod, JSON and our own code).`,
    '',
    `agent overhead per turn: p50 ${ms(pct(turns, 50))}, p99 ${ms(pct(turns, 99))} (goal p99 < 5 ms)`,
    '',
  );
}

// 3. Complaint to sealed refund with realistic latencies.
let receiptBytes = 0;
async function complaintToRefund(): Promise<void> {
  const runs = 3;
  progress('3/6 complaint to sealed refund, realistic latencies (model 1.5 s, ERP 300 ms, Pix 500 ms + settled 2 s, fiscal 800 ms)');
  const e = await inProcess({ SANDBOX_EXTRA_CUSTOMERS: String(runs) }, { latency: { model: 1500, omie: 300, pix: 500, fiscal: 800, zapi: 0 }, hooks: { created: 100, settled: 2000 } });
  const walls: number[] = [];
  const calls: number[] = [];
  const tokenUses: TokenUse[] = [];
  let modelName = 'unknown';
  for (let i = 0; i < runs; i++) {
    const { customer, orderNumber } = extraCustomer(i);
    const started = performance.now();
    await say(e, customer.whatsapp, `o pedido ${orderNumber} veio errado, quero meu dinheiro de volta`);
    const conversation = async () => await e.services.store.conversations.byChat(customer.whatsapp);
    while (!(await e.services.store.outbox.forConversation((await conversation())?.id ?? '')).some((m) => m.status === 'sent' && m.text.includes('Confirma'))) await new Promise((r) => setTimeout(r, 10));
    await say(e, customer.whatsapp, 'sim');
    for (;;) {
      const c = (await conversation())!;
      const sealed = (await e.services.store.cases.forConversation(c.id)).find((x) => x.status === 'sealed');
      if (sealed) {
        walls.push(performance.now() - started);
        const modelCalls = await e.services.store.turns.modelCalls(c.id);
        calls.push(modelCalls.length);
        modelName = modelCalls[0]?.model ?? modelName;
        tokenUses.push(modelCalls.reduce((u, m) => ({ input: u.input + (m.input_tokens ?? 0), output: u.output + (m.output_tokens ?? 0), cacheRead: u.cacheRead + (m.cache_read_tokens ?? 0), cacheWrite: u.cacheWrite + (m.cache_creation_tokens ?? 0) }), { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }));
        receiptBytes = Buffer.byteLength(JSON.stringify(await loadReceipt(e.services.store, sealed.id)));
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    progress(`   run ${i + 1}: ${(walls.at(-1)! / 1000).toFixed(2)} s, ${calls.at(-1)} model calls`);
  }
  notePrefixes(e);
  await e.close();
  out.push(
    '## 3. Complaint to sealed refund',
    '',
    'Command: `npm run bench` — in process, emulated latencies: model 1.5 s per call, ERP 300 ms and Pix 500 ms per request, the rail\'s settled webhook 2 s after the refund, fiscal 800 ms per request, the customer confirming at once. From the complaint reaching the webhook to the receipt sealed (refund settled, credit note authorized, customer told).',
    '',
    `complaint to sealed refund: ${walls.map((w) => `${(w / 1000).toFixed(2)} s`).join(', ')} (median ${(pct(walls, 50) / 1000).toFixed(2)} s; goal < 6 s, CodeSpar's reference 12 s)`,
    '',
    `model calls per refund: ${Math.max(...calls)}; the credit note is issued as soon as the rail accepts the refund (pending), so it is authorised before the settlement arrives`,
    '',
  );
  costInputs = { model: modelName, uses: tokenUses };
}

let costInputs: { model: string; uses: TokenUse[] } | null = null;
function cost(): void {
  if (costInputs) modelCost(costInputs.model, costInputs.uses);
}

// 7. Model cost per refunded complaint, from the runs of benchmark 3.
function modelCost(model: string, uses: TokenUse[]): void {
  const price = MODEL_PRICES[model];
  const median = (k: keyof TokenUse) => pct(uses.map((u) => u[k]), 50);
  const use: TokenUse = { input: median('input'), output: median('output'), cacheRead: median('cacheRead'), cacheWrite: median('cacheWrite') };
  // Every refund after the first finds the prefix in the cache (5 minutes, refreshed on each read): the steady state.
  const warm = price ? costUsd(price, use) : NaN;
  const cold = price ? costUsd(price, { ...use, cacheRead: 0, cacheWrite: use.cacheRead + use.cacheWrite }) : NaN;
  out.push(
    '## 7. Model cost per refund',
    '',
    `Command: \`npm run bench\` — the model calls of each refunded complaint of benchmark 3 (${uses.length} runs; medians), as recorded in \`model_calls\`. **Estimated token counts**: the scripted model reports usage as the characters of what it was sent or wrote divided by 4 (\`messages\` → uncached input; \`tools\` + \`system\`, marked with cache_control → cache write the first time the service sends that prefix, cache read after; the answer's content blocks → output). With \`ANTHROPIC_API_KEY\` set, \`model_calls\` holds Claude's own usage instead (and \`npm run eval\` reports it). Adaptive thinking, which a real Claude Sonnet 5.5 may spend output tokens on, is not modelled.`,
    '',
    `per refund (${model}, estimated): uncached input ${use.input} tokens, cached prefix read ${use.cacheRead} tokens, prefix written to the cache ${use.cacheWrite} tokens, output ${use.output} tokens`,
    '',
    price
      ? `cost at list price (${model}: $${price.inputPerMTok} input, $${price.outputPerMTok} output, $${price.cacheWritePerMTok} cache write, $${price.cacheReadPerMTok} cache read per MTok, as of ${PRICES_AS_OF}; bench/prices.ts): **$${warm.toFixed(4)} per refund** with the prefix in the cache, $${cold.toFixed(4)} if every prefix had to be written again — ${(FIN_PER_OUTCOME_USD / warm).toFixed(0)}× below Intercom Fin's $${FIN_PER_OUTCOME_USD.toFixed(2)} per outcome (model tokens only: Estorno's hosting, WhatsApp and fiscal fees are not in it)`
      : `no list price on file for ${model} (bench/prices.ts)`,
    '',
  );
}

// 4. 500 conversations at once, model 1 s per call.
async function concurrency(): Promise<void> {
  const n = quick ? 100 : 500;
  progress(`4/6 ${n} conversations at once, model 1 s per call`);
  const dataDir = tmp('conc');
  const port = 5100 + Math.floor(Math.random() * 300);
  // Exactly what `npm start` runs: its node flags (a 4 MB young generation, see RESULTS.md) come from package.json.
  const startScript = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/).slice(1);
  // The mandate key is given (not generated) so that this process can sign the raised cap on either store.
  const mandatePem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const serverEnv = { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', SANDBOX_EXTRA_CUSTOMERS: String(n), SANDBOX_LATENCY: 'model=1000', MODEL_CALLS_PER_MINUTE: '100000', MANDATE_SIGNING_KEY: mandatePem, ...storeEnv() };
  const server = await spawnServer(startScript, serverEnv);
  const admin = await openDatabaseStore(parseConfig(serverEnv));
  await changeCaps(admin, loadSigningKey(dataDir, 'mandate-ed25519', mandatePem), 'cm_support', { window_cap_cents: 100_000_000 }, 'bench', new Date());
  const token = (JSON.parse(readFileSync(path.join(dataDir, 'server.json'), 'utf8')) as { webhook_token: string }).webhook_token;
  const base = `http://127.0.0.1:${port}`;
  const post = (phone: string, text: string) =>
    fetch(`${base}/webhooks/zapi/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: receivedCallback(`C${randomBytes(8).toString('hex')}`, phone).replace(/"message":"[^"]*"/, `"message":${JSON.stringify(text)}`) });
  const started = performance.now();
  const customers = Array.from({ length: n }, (_, i) => extraCustomer(i));
  await Promise.all(customers.map((c) => post(c.customer.whatsapp, `o pedido ${c.orderNumber} veio errado`)));
  const confirmed = new Set<string>();
  const done = new Set<string>();
  const deadline = Date.now() + 300_000;
  while (done.size < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    const outbox = (await (await fetch(`${base}/sandbox/zapi/outbox`)).json()) as Array<{ phone: string; message: string }>;
    const toConfirm: string[] = [];
    for (const m of outbox) {
      if (m.message.includes('Confirma') && !confirmed.has(m.phone)) { confirmed.add(m.phone); toConfirm.push(m.phone); }
      if (m.message.includes('Comprovante')) done.add(m.phone);
    }
    await Promise.all(toConfirm.map((p) => post(p, 'sim')));
  }
  const wall = (performance.now() - started) / 1000;
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  const sealed = (await admin.database.one("SELECT COUNT(*) AS n FROM cases WHERE status = 'sealed'") as { n: number }).n;
  const inbox = await admin.database.one("SELECT COUNT(*) AS total, SUM(CASE WHEN processed_at IS NOT NULL THEN 1 ELSE 0 END) AS processed FROM inbox WHERE kind = 'text'") as { total: number; processed: number };
  await admin.close();
  await stop(server.child);
  out.push(
    `## 4. ${n} conversations at once (${storeName})`,
    '',
    `Command: \`npm run bench\` — the server as a child process (\`npm start\`, i.e. \`node ${startScript.join(' ')}\`, with SANDBOX_LATENCY=model=1000, ${n} extra seeded customers, default TURN_CONCURRENCY, and MODEL_CALLS_PER_MINUTE=100000 so that the service's own global model budget — 600 calls a minute by default — does not pace the run), every customer complaining at the same moment and confirming as soon as asked. Peak RSS is the server's VmHWM.`,
    '',
    `completed: ${done.size}/${n} refunds told to the customer, ${sealed} receipts sealed, ${inbox.processed}/${inbox.total} inbound messages processed (lost: ${n - done.size})`,
    `wall ${wall.toFixed(1)} s, throughput ${(done.size / wall).toFixed(1)} refunds/s, peak RSS ${peakRss.toFixed(0)} MB (goal < 400 MB)`,
    '',
  );
}

// 5. Receipt verifications per second.
async function receipts(): Promise<void> {
  const n = 10_000;
  progress(`5/6 verifying ${n} receipts`);
  const dir = tmp('rcpt');
  const store = createStore(sqliteDatabase(openDb(path.join(dir, 'r.db'))));
  const key = loadSigningKey(dir, 'receipt-ed25519');
  const at = new Date().toISOString();
  await store.tx(async () => {
    for (let i = 0; i < n; i++) {
      const id = `rcp_bench${String(i).padStart(12, '0')}`;
      await store.cases.open({ id, conversation_id: 'cv_bench', order_number: String(70_000 + i), status: 'open', created_at: at });
      await appendCaseRecord(store, id, 'complaint', { conversation_id: 'cv_bench', message_ids: ['A', 'B'], text_sha256: 'ab'.repeat(32) }, at);
      await appendCaseRecord(store, id, 'verification', { order: { orderNumber: String(70_000 + i), totalCents: 5000, items: [{ description: 'Kit presente', quantity: 1, totalCents: 5000 }], payment: { method: 'pix', endToEndId: 'E'.padEnd(32, '1') } }, payment: { documentId: 'doc', amountCents: 5000 } }, at);
      await appendCaseRecord(store, id, 'guard_decision', { decision: 'allowed', mandate_id: 'cm_support', mandate_version: 1, mandate_signature: 'x'.repeat(88), per_refund_cap_cents: 50000, window_cap_cents: 200000, window_used_cents: 0, amount_cents: 5000 }, at);
      await appendCaseRecord(store, id, 'refund_requested', { refund_id: 'rf', status: 'pending', rail: 'trio' }, at);
      await appendCaseRecord(store, id, 'refund_status', { refund_id: 'rf', status: 'settled', end_to_end_id: 'D'.padEnd(32, '2') }, at);
      await appendCaseRecord(store, id, 'credit_note', { number: String(i), access_key: '3'.repeat(44) }, at);
      await appendCaseRecord(store, id, 'notification', { message_id: 'M' }, at);
      await sealCase(store, key, id, 'settled', at);
    }
  });
  const ids = await store.cases.ids();
  // Before: the reference path, one receipt at a time (three queries + verifyReceipt each).
  let t = performance.now();
  let validReference = 0;
  for (const id of ids) if (verifyReceipt((await loadReceipt(store, id))!, key.publicKey).valid) validReference++;
  const referenceSeconds = (performance.now() - t) / 1000;
  await store.close();
  const dbFile = path.join(dir, 'r.db');
  const pem = key.publicKeyPem;
  // After: one streaming query + verifyReceiptFast, in this thread, then on every core (worker start-up included).
  t = performance.now();
  const single = (await verifyAllReceipts({ dbFile }, pem, { workers: 1 })).filter((v) => v.verdict.valid).length;
  const singleSeconds = (performance.now() - t) / 1000;
  const workers = availableParallelism();
  t = performance.now();
  const parallel = (await verifyAllReceipts({ dbFile }, pem, { workers })).filter((v) => v.verdict.valid).length;
  const parallelSeconds = (performance.now() - t) / 1000;
  out.push(
    '## 5. Receipts',
    '',
    `Command: \`npm run bench\` — ${n} sealed 7-record receipts read from SQLite and verified (canonical form, hash chain, Ed25519 seal). The bulk path is the one \`npm run verify -- --all\` runs (refunds/verify-all-receipts.ts).`,
    '',
    `reference (loadReceipt + verifyReceipt, one at a time): ${validReference}/${n} valid in ${referenceSeconds.toFixed(2)} s: ${(n / referenceSeconds).toFixed(0)} verifications/s`,
    `bulk, one thread (streaming query + verifyReceiptFast): ${single}/${n} valid in ${singleSeconds.toFixed(2)} s: ${(n / singleSeconds).toFixed(0)} verifications/s`,
    `bulk, ${workers} worker threads (start-up included): ${parallel}/${n} valid in ${parallelSeconds.toFixed(2)} s: **${(n / parallelSeconds).toFixed(0)} verifications/s** (goal ≥ 10,000/s)`,
    '',
    `a real receipt (records + seal, as JSON) is ${receiptBytes} bytes`,
    '',
  );
}

function prefix(): void {
  progress('6/6 prompt prefix');
  out.push(
    '## 6. Prompt prefix',
    '',
    'Command: `npm run bench` — every request the scripted model received during benchmarks 2 and 3, hashing the bytes of `tools` + `system` as sent.',
    '',
    `distinct tools+system prefixes across all model calls: ${prefixHashes.size} (${prefixBytes} bytes each); cache_control marks the last tool and the system block, so every call after the first reads the prefix from the cache`,
    '',
  );
}

const started = Date.now();
// `--only=overhead,receipts` runs some sections (development); the file is still written.
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? (onPostgres ? ['ingest', 'overhead', 'concurrency'] : null);
const sections: Array<[string, () => unknown]> = [['ingest', ingest], ['overhead', overhead], ['refund', complaintToRefund], ['concurrency', concurrency], ['receipts', receipts], ['prefix', prefix], ['cost', cost]];
for (const [name, run] of sections) if (!only || only.includes(name)) await run();
const header = [
  '# Benchmark results',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · ${quick ? 'quick run' : 'full run'} in ${Math.round((Date.now() - started) / 1000)} s`,
  '',
  'Reproduce with `npm run bench` (add `-- --quick` for a shorter run). Each section names what it measures.',
  '',
];
// Each run writes its own part of RESULTS.md; the other parts (SQLite, PostgreSQL, replicas) are kept.
const results = path.resolve('bench/RESULTS.md');
if (onPostgres) {
  replaceSection(results, '<!-- postgres: npm run bench -- --store=postgres -->', '<!-- /postgres -->', `# On PostgreSQL\n\n${header.slice(2).join('\n')}\n${out.join('\n')}`);
  await dropTestSchemas(schemas);
} else {
  replaceSection(results, '<!-- sqlite: npm run bench -->', '<!-- /sqlite -->', [...header, ...out].join('\n'));
}
progress('wrote bench/RESULTS.md');
process.stdout.write([...header, ...out].join('\n'));
process.exit(0);
