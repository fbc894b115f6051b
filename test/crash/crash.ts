import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropTestSchemas, TEST_STORE, testStore, withTestStore } from '../helpers/test-store.ts';
import { loadSigningKey } from '../../core/signing.ts';
import { changeCaps } from '../../refunds/mandate.ts';
import { extraCustomer } from '../../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';

/**
 * Crash safety (`npm run test:crash`, also run by .ci/run): the real server
 * as a child process, CONVERSATIONS customers each complaining and confirming
 * a refund, the server killed with SIGKILL at random moments and at the
 * money path's worst points (between reserving a refund and calling the rail,
 * and between the rail's answer and recording it), restarted each time. At the
 * end: every inbound message processed exactly once, no refund twice, every
 * refund settled with its credit note and seal (or failed with the customer told).
 */
const CONVERSATIONS = Number(process.env.CRASH_CONVERSATIONS ?? 50);
const MIN_KILLS = Number(process.env.CRASH_KILLS ?? 12);
const DEADLINE_MS = Number(process.env.CRASH_DEADLINE_MS ?? 240_000);
const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-crash-'));
const port = 3300 + Math.floor(Math.random() * 600);
const base = `http://127.0.0.1:${port}`;
// The store of this run: SQLite, or PostgreSQL with ESTORNO_TEST_STORE=postgres (a schema of its own, dropped at the end).
const env = withTestStore({
  ...process.env,
  PORT: String(port),
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  SANDBOX_EXTRA_CUSTOMERS: String(CONVERSATIONS),
  TURN_RETRY_DELAY_MS: '200',
  PROVIDER_TIMEOUT_MS: '1500',
  MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: '1000',
  ESTORNO_CRASH_POINTS: 'after_reserve:0.06,after_rail_answer:0.06,after_tool_use_stored:0.02',
  // A kill between claiming a refund's rail call and the rail storing it leaves an outcome
  // nobody knows: after this long staff are asked (the "staff" loop below answers).
  UNKNOWN_REFUND_REVIEW_AFTER_MS: '8000',
});

let child: ChildProcess | null = null;
let starts = 0;
let randomKills = 0;
let selfKills = 0;
let stopping = false;
const log = (m: string) => process.stdout.write(`[crash] ${m}\n`);

function start(): void {
  starts++;
  const c = spawn(process.execPath, ['bin/start.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  child = c;
  c.on('exit', (_code, signal) => {
    if (child !== c) return;
    child = null;
    if (stopping) return;
    if (signal === 'SIGKILL' && !c.killedByUs) selfKills++;
    setTimeout(start, 50);
  });
}
declare module 'node:child_process' {
  interface ChildProcess {
    killedByUs?: boolean;
  }
}

async function up(): Promise<boolean> {
  try {
    return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

/** Delivers one WhatsApp message at least once (same messageId on every retry, like a redelivery). */
async function deliver(token: string, phone: string, text: string): Promise<string> {
  const messageId = `CRASH${randomBytes(8).toString('hex').toUpperCase()}`;
  const body = JSON.stringify({ type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId, phone, fromMe: false, text: { message: text } });
  for (;;) {
    try {
      const res = await fetch(`${base}/webhooks/zapi/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return messageId;
    } catch {
      // down: try again
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function outbox(phone: string): Promise<string[]> {
  for (;;) {
    try {
      const res = await fetch(`${base}/sandbox/zapi/outbox?phone=${phone}`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return ((await res.json()) as Array<{ message: string }>).map((m) => m.message);
    } catch {
      // down
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  start();
  while (!(await up())) await new Promise((r) => setTimeout(r, 100));
  const token = readFileSync(path.join(dataDir, 'zapi-webhook-token'), 'utf8').trim();
  // 50 refunds of ~R$ 50 exceed the default R$ 2.000/24 h: raise the window cap as an admin would (re-signed).
  const admin = await testStore(dataDir);
  const raised = await changeCaps(admin, loadSigningKey(dataDir, 'mandate-ed25519'), 'cm_support', { window_cap_cents: 10_000_000 }, 'crash-test', new Date());
  await admin.close();
  if (!raised.ok) throw new Error(raised.error);
  log(`server on ${base}, ${CONVERSATIONS} conversations, data in ${dataDir}`);

  // The killer: SIGKILL at random moments while the conversations run.
  let done = false;
  const killer = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
      if (done || !child) continue;
      child.killedByUs = true;
      child.kill('SIGKILL');
      randomKills++;
    }
  })();

  // Staff: a refund whose outcome stayed unknown is checked on the rail (the emulator's
  // list) and released only when the rail has no refund for that payment — what a person
  // would do in Trio's dashboard. Never a second request to the rail.
  let released = 0;
  const staff = (async () => {
    const password = readFileSync(path.join(dataDir, 'console-admin-password'), 'utf8').trim();
    while (!done) {
      await new Promise((r) => setTimeout(r, 2_000));
      try {
        const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@estorno.local', password }), signal: AbortSignal.timeout(3_000) });
        if (!login.ok) continue;
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
        const { csrf } = (await login.json()) as { csrf: string };
        const review = (await (await fetch(`${base}/api/refunds/review`, { headers: { cookie }, signal: AbortSignal.timeout(3_000) })).json()) as Array<{ id: string }>;
        if (review.length === 0) continue;
        const atRail = (await (await fetch(`${base}/sandbox/pix/refunds`, { signal: AbortSignal.timeout(3_000) })).json()) as Array<{ collecting_document_id: string }>;
        const db = await testStore(dataDir);
        const documents = await Promise.all(review.map(async (r) => (await db.payments.get((await db.payments.refund(r.id))?.payment_id ?? ''))?.document_id));
        await db.close();
        for (const [i, r] of review.entries()) {
          if (atRail.some((x) => x.collecting_document_id === documents[i])) continue;
          const res = await fetch(`${base}/api/refunds/${r.id}/release`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'not on the rail' }), signal: AbortSignal.timeout(3_000) });
          if (res.ok) released++;
        }
      } catch {
        // the server is down right now: try again later
      }
    }
  })();

  const sent: string[] = [];
  const customers = Array.from({ length: CONVERSATIONS }, (_, i) => extraCustomer(i));
  await Promise.all(
    customers.map(async ({ customer, orderNumber }, i) => {
      await new Promise((r) => setTimeout(r, i * 40));
      sent.push(await deliver(token, customer.whatsapp, `o pedido ${orderNumber} veio errado, quero meu dinheiro de volta`));
      // Wait for the question, then confirm.
      while (!(await outbox(customer.whatsapp)).some((m) => m.includes('Confirma'))) await new Promise((r) => setTimeout(r, 200));
      sent.push(await deliver(token, customer.whatsapp, 'sim'));
      while (!(await outbox(customer.whatsapp)).some((m) => m.includes('Comprovante') || m.includes('Não conseguimos concluir'))) {
        if (Date.now() - started > DEADLINE_MS) throw new Error(`customer ${i} never got an outcome`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }),
  );
  // Keep killing until the minimum is reached, so that recovery itself is exercised under fire.
  while (randomKills < MIN_KILLS) await new Promise((r) => setTimeout(r, 200));
  done = true;
  await killer;
  await staff;
  while (!(await up())) await new Promise((r) => setTimeout(r, 100));
  // Let in-flight work settle, then stop gracefully.
  await new Promise((r) => setTimeout(r, 1_500));
  stopping = true;
  const last = child as ChildProcess | null;
  if (last) {
    const exited = new Promise((r) => last.once('exit', r));
    last.kill('SIGTERM');
    await exited;
  }

  // --- Verdict, from the database and the emulated rail ---
  const store = await testStore(dataDir);
  const failures: string[] = [];
  const inbox = await store.database.all("SELECT message_id, processed_at, turn_id FROM inbox WHERE kind = 'text'") as Array<{ message_id: string; processed_at: string | null; turn_id: string | null }>;
  if (inbox.length !== sent.length) failures.push(`inbox holds ${inbox.length} messages, ${sent.length} were sent`);
  const unprocessed = inbox.filter((m) => !m.processed_at || !m.turn_id);
  if (unprocessed.length) failures.push(`${unprocessed.length} messages never processed`);
  const userRows = await store.database.one("SELECT COUNT(*) AS n FROM history WHERE role = 'user' AND content LIKE '[{\"type\":\"text\"%'") as { n: number };
  if (userRows.n > sent.length) failures.push(`${userRows.n} customer messages in the model history for ${sent.length} sent (a message processed twice)`);
  const state = JSON.parse(readFileSync(path.join(dataDir, 'sandbox-state.json'), 'utf8')) as { trioRefunds: Array<{ collecting_document_id: string; amount_cents: number; status: string; seeded: boolean }>; focusNotes: Array<{ ref: string }> };
  const railByDoc = new Map<string, number>();
  for (const r of state.trioRefunds.filter((x) => !x.seeded && x.status !== 'failed')) railByDoc.set(r.collecting_document_id, (railByDoc.get(r.collecting_document_id) ?? 0) + 1);
  const doubles = [...railByDoc.values()].filter((n) => n > 1).length;
  if (doubles) failures.push(`${doubles} payments refunded twice on the rail`);
  const refunds = await store.database.all('SELECT id, status, case_id, order_number FROM refunds') as Array<{ id: string; status: string; case_id: string; order_number: string }>;
  const perOrder = new Map<string, number>();
  for (const r of refunds.filter((x) => x.status !== 'failed')) perOrder.set(r.order_number, (perOrder.get(r.order_number) ?? 0) + 1);
  if ([...perOrder.values()].some((n) => n > 1)) failures.push('an order has two live refunds in the database');
  let settled = 0;
  let failed = 0;
  for (const r of refunds) {
    if (r.status === 'settled') {
      settled++;
      if ((await store.creditNotes.forRefund(r.id))?.status !== 'authorized') failures.push(`refund ${r.id} settled without an authorized credit note`);
      if (!await store.cases.sealOf(r.case_id)) failures.push(`refund ${r.id} settled but its case is not sealed`);
    } else if (r.status === 'failed') {
      failed++;
      if (!(await store.outbox.forConversation((await store.payments.refund(r.id))!.conversation_id!)).some((m) => m.template === 'refund_failed')) failures.push(`refund ${r.id} failed and the customer was not told`);
    } else failures.push(`refund ${r.id} still ${r.status}`);
  }
  if (settled + failed < CONVERSATIONS) failures.push(`${settled + failed} refunds ended for ${CONVERSATIONS} conversations`);
  if (state.focusNotes.length !== settled) failures.push(`${state.focusNotes.length} credit notes for ${settled} settled refunds`);
  await store.close();
  await dropTestSchemas();

  log(`store ${TEST_STORE}, conversations ${CONVERSATIONS}, messages ${sent.length}, server starts ${starts}, random SIGKILLs ${randomKills}, self-kills at crash points ${selfKills}`);
  log(`refunds settled ${settled}, failed ${failed} (released by staff after an unknown outcome: ${released}), rail refunds ${[...railByDoc.values()].reduce((a, b) => a + b, 0)}, credit notes ${state.focusNotes.length}, wall ${Math.round((Date.now() - started) / 1000)} s`);
  if (failures.length) {
    for (const f of failures) log(`FAIL ${f}`);
    log('0 passed, 1 failed');
    process.exit(1);
  }
  log('lost: nothing. 1 passed, 0 failed');
}

main().catch((error: unknown) => {
  stopping = true;
  child?.kill('SIGKILL');
  process.stderr.write(`[crash] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
