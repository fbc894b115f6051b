import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { dropTestSchemas, schemaFor, TEST_STORE, testStore, withTestStore } from '../helpers/test-store.ts';
import type { Store } from '../../data/store.ts';
import { healthy } from '../helpers/replicas.ts';
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
 * refund settled with its credit note and seal (or failed with the customer told),
 * and `npm run verify -- --all` accepts every receipt.
 *
 * With CRASH_REPLICAS=3 (`npm run test:crash:replicas`, PostgreSQL): three replicas
 * on one database as the README's "Replicas" section starts them (the first hosts
 * the sandbox, the others point at it with SANDBOX_HOST), webhooks round-robin over
 * the live ones as a load balancer would, and the killer SIGKILLs a random replica
 * each time (the sandbox's host too: the others then see their providers down).
 */
const CONVERSATIONS = Number(process.env.CRASH_CONVERSATIONS ?? 50);
const REPLICAS = Number(process.env.CRASH_REPLICAS ?? 1);
const MIN_KILLS = Number(process.env.CRASH_KILLS ?? 12);
const DEADLINE_MS = Number(process.env.CRASH_DEADLINE_MS ?? 240_000);
/** Replicas: the least time between two kills of the sandbox's host (see the killer). */
const HOST_KILL_GAP_MS = Number(process.env.CRASH_HOST_KILL_GAP_MS ?? 10_000);
if (!Number.isInteger(REPLICAS) || REPLICAS < 1) throw new Error(`CRASH_REPLICAS must be a positive integer, not "${process.env.CRASH_REPLICAS}"`);
if (REPLICAS > 1 && TEST_STORE !== 'postgres') throw new Error('CRASH_REPLICAS > 1 needs PostgreSQL: set ESTORNO_TEST_STORE=postgres (npm run test:crash:replicas does)');

interface Slot {
  name: string;
  dataDir: string;
  base: string;
  env: Record<string, string>;
  child: ChildProcess | null;
}
const firstPort = 3300 + Math.floor(Math.random() * 600);
const dirs = Array.from({ length: REPLICAS }, (_, i) => mkdtempSync(path.join(tmpdir(), `estorno-crash-${String.fromCharCode(97 + i)}-`)));
/** The first hosts the sandbox; its DATA_DIR names the run's store (SQLite file, or the PostgreSQL schema all replicas share). */
const dataDir = dirs[0] as string;
// The store of this run: SQLite, or PostgreSQL with ESTORNO_TEST_STORE=postgres (a schema of its own, dropped at the end).
const common = withTestStore({
  ...process.env,
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
const slots: Slot[] = dirs.map((dir, i) => {
  const port = firstPort + i;
  const env: Record<string, string> = { ...common, PORT: String(port), DATA_DIR: dir, SANDBOX_HOST: '' };
  if (i > 0) env.SANDBOX_HOST = `http://127.0.0.1:${firstPort}`;
  return { name: String.fromCharCode(65 + i), dataDir: dir, base: `http://127.0.0.1:${port}`, env, child: null };
});
/** The sandbox's host: its outbox and rail show what every replica did. */
const host = slots[0] as Slot;

let starts = 0;
let randomKills = 0;
/** Random kills that landed while the server was starting (possibly: it may have been up already). */
let startKills = 0;
let selfKills = 0;
let stopping = false;
const log = (m: string) => process.stdout.write(`[crash] ${m}\n`);

/** Each process's log (warnings and errors, JSON) and the killer's notes, beside its data: read them when a run fails. */
const logFile = (slot: Pick<Slot, 'dataDir'>) => path.join(slot.dataDir, 'crash-run.log');
const note = (slot: Slot, what: string) => appendFileSync(logFile(slot), `${JSON.stringify({ crash: what, time: new Date().toISOString() })}\n`);

function start(slot: Slot): void {
  starts++;
  note(slot, 'start');
  const out = openSync(logFile(slot), 'a');
  const c = spawn(process.execPath, ['bin/start.ts'], { env: slot.env, stdio: ['ignore', out, 'inherit'] });
  closeSync(out); // the child has its own copy
  slot.child = c;
  c.on('exit', (code, signal) => {
    if (slot.child !== c) return;
    slot.child = null;
    note(slot, `exit ${signal ?? code}${c.killedByUs ? ' (killed by the test)' : ''}`);
    if (stopping) return;
    if (signal === 'SIGKILL' && !c.killedByUs) selfKills++;
    setTimeout(() => start(slot), 50);
  });
}
declare module 'node:child_process' {
  interface ChildProcess {
    killedByUs?: boolean;
  }
}

const up = (base: string) => healthy(base, 500);

let next = 0;
/** The replicas in round-robin order from the next one (a load balancer's choice; a dead one is skipped by trying the next). */
function roundRobin(): Slot[] {
  const first = next++ % slots.length;
  return slots.map((_, i) => slots[(first + i) % slots.length] as Slot);
}

/** Delivers one WhatsApp message at least once (same messageId on every retry, like a redelivery), to any live replica. */
async function deliver(token: string, phone: string, text: string): Promise<string> {
  const messageId = `CRASH${randomBytes(8).toString('hex').toUpperCase()}`;
  const body = JSON.stringify({ type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId, phone, fromMe: false, text: { message: text } });
  for (;;) {
    for (const slot of roundRobin()) {
      try {
        const res = await fetch(`${slot.base}/webhooks/zapi/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) return messageId;
      } catch {
        // down: the next one
      }
    }
    await pause(100);
  }
}

async function outbox(phone: string): Promise<string[]> {
  for (;;) {
    try {
      const res = await fetch(`${host.base}/sandbox/zapi/outbox?phone=${phone}`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return ((await res.json()) as Array<{ message: string }>).map((m) => m.message);
    } catch {
      // down
    }
    await pause(100);
  }
}

let customers: ReturnType<typeof extraCustomer>[] = [];
/** Customers handed to a person before any refund was started (their phone numbers). */
const handedOff = new Set<string>();
/** The customer's last message about the refund: its receipt, or that it could not be done. */
const isOutcome = (m: string) => m.includes('Comprovante') || m.includes('Não conseguimos concluir');
/** The customer was told a person takes over (the hand-off message, or the agent's "handoff" template). */
const toStaff = (messages: string[]) => messages.some((m) => m.includes('pessoa da nossa equipe'));
let watcher: Store | null = null;
async function hasRefund(orderNumber: string): Promise<boolean> {
  watcher ??= await testStore(dataDir);
  return ((await watcher.database.one<{ n: number }>('SELECT COUNT(*) AS n FROM refunds WHERE order_number = ?', orderNumber))?.n ?? 0) > 0;
}

async function main(): Promise<void> {
  const started = Date.now();
  for (const slot of slots) start(slot);
  for (const slot of slots) while (!(await up(slot.base))) await pause(100);
  // Every replica accepts the same token (sandbox secrets live in the database on PostgreSQL); the host's copy names it.
  const token = readFileSync(path.join(dataDir, 'zapi-webhook-token'), 'utf8').trim();
  // 50 refunds of ~R$ 50 exceed the default R$ 2.000/24 h: raise the window cap as an admin would (re-signed).
  const admin = await testStore(dataDir);
  const raised = await changeCaps(admin, loadSigningKey(dataDir, 'mandate-ed25519'), 'cm_support', { window_cap_cents: 10_000_000 }, 'crash-test', new Date());
  await admin.close();
  if (!raised.ok) throw new Error(raised.error);
  log(`${slots.length === 1 ? 'server' : `${slots.length} replicas`} on ${slots.map((s) => s.base).join(', ')}, ${CONVERSATIONS} conversations, data in ${dirs.join(', ')}`);

  // The killer: SIGKILL at random moments (a random replica each time) while the conversations run.
  // With replicas, the sandbox's host also stands for every provider: killed as often as the others it
  // would be down most of the run, an outage of Z-API, Omie, Trio and Focus at once every few seconds
  // (each message's backoff then outlasts the run). So it is killed at most once per HOST_KILL_GAP_MS:
  // several times a run, its restarts exercised, the providers up most of the time as real ones are.
  let done = false;
  const killsOf = new Map<string, number>();
  let hostKilledAt = 0;
  //
  // A victim is killed a random while (0.3–1.2 s) after it answers again, so that work goes on between
  // kills however long a start takes on this machine (a kill on a fixed clock shorter than a start would
  // never let the server up). Now and then (never twice in a row) it is killed during its start instead.
  let killedStarting = false;
  const killer = (async () => {
    while (!done) {
      const candidates = slots.length > 1 && Date.now() - hostKilledAt < HOST_KILL_GAP_MS ? slots.slice(1) : slots;
      const victim = candidates[Math.floor(Math.random() * candidates.length)] as Slot;
      killedStarting = !killedStarting && Math.random() < 0.15;
      if (killedStarting) await pause(Math.random() * 500);
      else {
        while (!done && !(await up(victim.base))) await pause(50);
        await pause(300 + Math.random() * 900);
      }
      if (victim === host) hostKilledAt = Date.now();
      if (done || !victim.child) continue;
      victim.child.killedByUs = true;
      victim.child.kill('SIGKILL');
      randomKills++;
      if (killedStarting) startKills++;
      killsOf.set(victim.name, (killsOf.get(victim.name) ?? 0) + 1);
    }
  })();

  // Staff: a refund whose outcome stayed unknown is checked on the rail (the emulator's
  // list) and released only when the rail has no refund for that payment — what a person
  // would do in Trio's dashboard. Never a second request to the rail.
  let released = 0;
  const staff = (async () => {
    const password = readFileSync(path.join(dataDir, 'console-admin-password'), 'utf8').trim();
    while (!done) {
      await pause(2_000);
      const base = (roundRobin()[0] as Slot).base;
      try {
        const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@estorno.local', password }), signal: AbortSignal.timeout(3_000) });
        if (!login.ok) continue;
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
        const { csrf } = (await login.json()) as { csrf: string };
        const review = (await (await fetch(`${base}/api/refunds/review`, { headers: { cookie }, signal: AbortSignal.timeout(3_000) })).json()) as Array<{ id: string }>;
        if (review.length === 0) continue;
        const atRail = (await (await fetch(`${host.base}/sandbox/pix/refunds`, { signal: AbortSignal.timeout(3_000) })).json()) as Array<{ collecting_document_id: string }>;
        const db = await testStore(dataDir);
        const documents = await Promise.all(review.map(async (r) => (await db.payments.get((await db.refunds.get(r.id))?.payment_id ?? ''))?.document_id));
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
  customers = Array.from({ length: CONVERSATIONS }, (_, i) => extraCustomer(i));
  await Promise.all(
    customers.map(async ({ customer, orderNumber }, i) => {
      await pause(i * 40);
      sent.push(await deliver(token, customer.whatsapp, `o pedido ${orderNumber} veio errado, quero meu dinheiro de volta`));
      // Wait for the question, then confirm. With replicas, the ERP may be down (its host, the first
      // replica, restarting): the agent may then hand the customer to a person instead — an end too,
      // as long as the customer is told (checked in the verdict) and no refund was started.
      for (;;) {
        const messages = await outbox(customer.whatsapp);
        if (messages.some((m) => m.includes('Confirma'))) break;
        if (toStaff(messages) && !(await hasRefund(orderNumber))) return void handedOff.add(customer.whatsapp);
        if (Date.now() - started > DEADLINE_MS) throw new Error(`customer ${i} was never asked to confirm`);
        await pause(200);
      }
      sent.push(await deliver(token, customer.whatsapp, 'sim'));
      for (;;) {
        const messages = await outbox(customer.whatsapp);
        if (messages.some(isOutcome)) break;
        if (toStaff(messages) && !(await hasRefund(orderNumber))) return void handedOff.add(customer.whatsapp);
        if (Date.now() - started > DEADLINE_MS) throw new Error(`customer ${i} never got an outcome`);
        await pause(250);
      }
    }),
  );
  // Keep killing until the minimum is reached, so that recovery itself is exercised under fire.
  while (randomKills < MIN_KILLS) await pause(200);
  done = true;
  await killer;
  await staff;
  for (const slot of slots) while (!(await up(slot.base))) await pause(100);
  // Let in-flight work settle, read what WhatsApp got (the host's emulator), then stop gracefully.
  await pause(1_500);
  const sentOut = (await (await fetch(`${host.base}/sandbox/zapi/outbox`)).json()) as Array<{ phone: string; message: string }>;
  stopping = true;
  await Promise.all(
    slots.map(async (slot) => {
      const last = slot.child;
      if (!last) return;
      const exited = new Promise((r) => last.once('exit', r));
      last.kill('SIGTERM');
      await exited;
    }),
  );

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
      if (!(await store.outbox.forConversation((await store.refunds.get(r.id))!.conversation_id!)).some((m) => m.template === 'refund_failed')) failures.push(`refund ${r.id} failed and the customer was not told`);
    } else failures.push(`refund ${r.id} still ${r.status}`);
  }
  if (settled + failed + handedOff.size < CONVERSATIONS) failures.push(`${settled + failed} refunds ended and ${handedOff.size} customers went to staff, for ${CONVERSATIONS} conversations`);
  for (const phone of handedOff) {
    const conversation = await store.conversations.byChat(phone);
    if (conversation?.state !== 'waiting_for_staff') failures.push(`customer ${phone} was told a person takes over, but the conversation is ${conversation?.state ?? 'missing'}`);
  }
  if (state.focusNotes.length !== settled) failures.push(`${state.focusNotes.length} credit notes for ${settled} settled refunds`);
  // Every message once: each customer got one outcome, and no outgoing message went twice.
  if (sentOut.length === 0) failures.push('the Z-API emulator shows no message sent');
  // One outcome per customer. The same message may reach WhatsApp twice: a process killed between
  // Z-API's answer and recording it leaves a row nobody knows was sent, and it is sent again (at least
  // once, never lost; Z-API's send-text takes no idempotency key). Counted, and never two outcomes.
  let sentTwice = 0;
  for (const { customer } of customers) {
    const outcomes = sentOut.filter((m) => m.phone === customer.whatsapp && isOutcome(m.message)).map((m) => m.message);
    const distinct = new Set(outcomes).size;
    sentTwice += outcomes.length - distinct;
    if (distinct !== (handedOff.has(customer.whatsapp) ? 0 : 1)) failures.push(`customer ${customer.whatsapp} got ${distinct} different outcome messages`);
  }
  // The receipts verify, as an auditor would check them: `npm run verify -- --all`.
  const verify = spawnSync(process.execPath, ['bin/verify.ts', '--all'], { env: { ...common, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, encoding: 'utf8' });
  if (verify.status !== 0) failures.push(`npm run verify -- --all exited ${verify.status}: ${(verify.stdout + verify.stderr).trim().split('\n').slice(-5).join(' | ')}`);
  await store.close();
  await watcher?.close();
  if (failures.length === 0) await dropTestSchemas();
  else if (TEST_STORE === 'postgres') log(`the run's schema is kept for inspection: ${schemaFor(dataDir)}`);

  log(`store ${TEST_STORE}, replicas ${slots.length}, conversations ${CONVERSATIONS}, messages ${sent.length}, server starts ${starts}, random SIGKILLs ${randomKills} (${slots.length > 1 ? `${slots.map((s) => `${s.name} ${killsOf.get(s.name) ?? 0}`).join(', ')}; ` : ''}${startKills} early after a start), self-kills at crash points ${selfKills}`);
  log(`outcome messages delivered twice (a kill between Z-API's answer and recording it): ${sentTwice}`);
  log(`receipts verified: ${verify.status === 0 ? (/\d+\/\d+ valid/.exec(verify.stdout)?.[0] ?? verify.stdout.trim()) : 'NO'}`);
  log(`refunds settled ${settled}, failed ${failed}, customers handed to staff before any refund ${handedOff.size} (released by staff after an unknown outcome: ${released}), rail refunds ${[...railByDoc.values()].reduce((a, b) => a + b, 0)}, credit notes ${state.focusNotes.length}, wall ${Math.round((Date.now() - started) / 1000)} s`);
  if (failures.length) {
    for (const f of failures) log(`FAIL ${f}`);
    log(`each process's log: ${slots.map(logFile).join(', ')}`);
    log('0 passed, 1 failed');
    process.exit(1);
  }
  log('lost: nothing. 1 passed, 0 failed');
}

main().catch((error: unknown) => {
  stopping = true;
  for (const slot of slots) slot.child?.kill('SIGKILL');
  if (TEST_STORE === 'postgres') log(`the run's schema is kept for inspection: ${schemaFor(dataDir)}`);
  log(`each process's log: ${slots.map(logFile).join(', ')}`);
  process.stderr.write(`[crash] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
