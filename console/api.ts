import express from 'express';
import { z } from 'zod';
import { DEFAULT_SYSTEM_PROMPT } from '../agent/prompt.ts';
import { loadReceipt, verifyReceipt } from '../refunds/verify-receipt.ts';
import type { Estorno } from '../server/app.ts';
import { activeMandateFor, changeCaps, issueMandate, listMandates, setMandateStatus, SUPPORT_AGENT_ID } from '../refunds/mandate.ts';
import { promptSha256 } from '../data/evals.ts';
import { decoyHash, generatePassword, hashPassword, LoginThrottle, requireAdmin, requireCsrf, requireSession, SESSION_COOKIE, startSession, verifyPassword } from './auth.ts';
import { lineDiff } from './diff.ts';
import { CustomerNames } from './customer-names.ts';
import { parseBody } from './http.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { resolveUnknownRefund } from '../refunds/refund-flow.ts';
import { sendBodyError } from '../webhooks/zapi.ts';
import { cannedRoutes } from './routes/canned.ts';
import { conversationRoutes } from './routes/conversations.ts';

/**
 * The console's JSON API (CONTRACT.md `/api/...`): staff may read, approve and
 * take over conversations; admins may also edit prompts, mandates and users.
 * No route answers without a session; every write needs the CSRF token.
 */

const parse = parseBody;
const reasonBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(500) }).strict();
const cents = z.number().int().min(0).max(1_000_000_000);

/** What the console tells browsers over SSE: ids, kinds and codes. Anything else an event carries stays on the server. */
const LIVE_FIELDS = ['type', 'at', 'conversationId', 'refundId', 'approvalId', 'mandateId', 'decision', 'reason', 'outcome', 'name', 'status', 'mode', 'by', 'version', 'stopReason'] as const;

/** Live event → SSE frame, keeping only LIVE_FIELDS with scalar values (never customer text). */
export function sseFrame(event: { type: string; [k: string]: unknown }): string {
  const data: Record<string, unknown> = {};
  for (const k of LIVE_FIELDS) {
    const v = event[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') data[k] = v;
  }
  const type = /^[a-z_]{1,40}$/.test(event.type) ? event.type : 'message';
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface ConsoleApiOptions {
  /** Runs before each login (the sandbox re-creates its users after a reset). */
  beforeLogin?: () => void | Promise<void>;
}

/** The /api router; mount it at /api. */
export async function consoleApi(estorno: Estorno, options: ConsoleApiOptions = {}): Promise<express.Router> {
  const router = express.Router();
  const services = estorno.services;
  const store = () => services.store;
  const now = () => services.now();
  const throttle = new LoginThrottle(store);
  const json = express.json({ limit: '256kb' });
  // A body that is not JSON is the caller's mistake: 400, and nothing of it reaches the logs.
  router.use((req, res, next) => json(req, res, (err?: unknown) => (err ? sendBodyError(res, err, '256 KB') : next())));
  // Answers hold customer data: no browser or proxy keeps a copy.
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  router.post('/login', async (req, res) => {
    const body = parse(z.object({ email: z.string().email().max(200), password: z.string().min(1).max(200) }).strict(), req, res);
    if (!body) return;
    const key = `${body.email.toLowerCase()}|${req.ip}`;
    // Counted before the password is hashed: parallel guesses cannot all slip past the limit.
    if (!(await throttle.attempt(key))) return void res.status(429).json({ error: 'too_many_attempts', message: 'too many failed logins; wait 15 minutes' });
    await options.beforeLogin?.();
    const user = await store().users.byEmail(body.email);
    // An unknown or disabled user costs the same scrypt run: the answer time does not tell which emails exist.
    const matches = await verifyPassword(body.password, user?.password_hash ?? decoyHash());
    if (!user || user.active !== 1 || !matches) {
      return void res.status(401).json({ error: 'bad_credentials', message: 'wrong email or password' });
    }
    await throttle.clear(key);
    const { csrf } = await startSession(store(), res, req, user, now());
    res.json({ id: user.id, email: user.email, name: user.name, role: user.role, csrf });
  });

  router.use(await requireSession(store, now));
  router.use(requireCsrf);

  router.get('/me', (req, res) => {
    const u = req.user!;
    res.json({ id: u.id, email: u.email, name: u.name, role: u.role, csrf: u.csrf });
  });
  router.post('/logout', async (req, res) => {
    await store().users.deleteSession(req.user!.sessionHash);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.json({ ok: true });
  });

  // --- Conversations, canned replies, approvals (route modules) ---
  const names = new CustomerNames(services, (conversationId) => services.publish({ type: 'customer', conversationId }));
  router.use(await conversationRoutes(estorno, names));
  router.use(cannedRoutes(estorno));
  router.use(approvalRoutes(estorno));

  // --- Refunds whose outcome the rail never told (staff check the rail's dashboard, then decide) ---
  router.get('/refunds/review', async (_req, res) => {
    res.json((await store().payments.inReview()).map((r) => ({ id: r.id, order_number: r.order_number, amount_cents: r.amount_cents, rail: r.rail, submitted_at: r.submitted_at, review_requested_at: r.review_requested_at, conversation_id: r.conversation_id, case_id: r.case_id })));
  });
  router.post('/refunds/:id/release', async (req, res) => {
    const body = parse(z.object({ reason: z.string().trim().min(1, 'a reason is required').max(500) }).strict(), req, res);
    if (!body) return;
    const result = await resolveUnknownRefund(services, req.params.id as string, { id: req.user!.email }, body.reason);
    if (result.ok) return void res.json(result);
    const message = { not_found: 'no such refund', not_unknown: 'only a refund whose outcome stayed unknown past the review window can be released', found_at_rail: 'the rail shows this refund now: it was adopted, not released' }[result.error];
    res.status(result.error === 'not_found' ? 404 : 409).json({ ...result, message });
  });
  // What staff and admins must know now: the agent holding no usable mandate stops every automatic refund.
  // (The model's and providers' health is GET /readyz, which the page reads too.)
  router.get('/alerts', async (_req, res) => {
    const alerts: Array<{ kind: string; severity: 'critical' | 'warning'; message: string; [k: string]: unknown }> = [];
    if (!await activeMandateFor(store(), services.keys.mandate, SUPPORT_AGENT_ID, now())) {
      alerts.push({ kind: 'agent_mandate_inactive', severity: 'critical', agent_id: SUPPORT_AGENT_ID, message: `The agent ${SUPPORT_AGENT_ID} holds no active mandate: refunds are handed to staff (reason mandate_inactive) until an admin issues or resumes one.` });
    }
    // The model failing now (its newest call, within 10 minutes, errored): turns are held and, after a while, handed to staff.
    const call = await store().turns.lastModelCall();
    if (call?.error && now().getTime() - Date.parse(call.created_at) < 600_000) {
      alerts.push({ kind: 'model_degraded', severity: 'critical', since: call.created_at, message: `The model is failing (${call.error}); customers get one holding message and are handed to staff after MODEL_OUTAGE_HANDOFF_MS. See /readyz.` });
    }
    const waiting = await store().consoleQueries.waitingCount();
    if (waiting > 0) alerts.push({ kind: 'waiting_for_staff', severity: 'warning', count: waiting, message: `${waiting} conversation(s) waiting for a person.` });
    res.json(alerts);
  });
  // Who staff can assign a conversation to.
  router.get('/people', async (_req, res) => {
    res.json((await store().users.list()).filter((u) => u.active === 1).map((u) => ({ id: u.id, name: u.name, role: u.role })));
  });

  // --- Receipts ---
  router.get('/receipts/public-key', (_req, res) => {
    res.type('application/x-pem-file').send(services.keys.receipt.publicKeyPem);
  });
  router.get('/receipts/:id', async (req, res) => {
    const receipt = await loadReceipt(store(), req.params.id as string);
    if (!receipt) return void res.status(404).json({ error: 'not_found' });
    res.json({ ...receipt, key_id: services.keys.receipt.keyId, verification: verifyReceipt(receipt, services.keys.receipt.publicKey) });
  });

  // --- Mandates (admins write) ---
  router.get('/mandates', async (_req, res) => {
    const since = (seconds: number) => new Date(now().getTime() - seconds * 1000).toISOString();
    res.json(
      await Promise.all((await listMandates(store(), services.keys.mandate, now())).map(async (m) => {
        const doc = m.document as { window_seconds?: number } | null;
        return { ...m, window_used_cents: await store().payments.mandateWindowCents(m.id, since(doc?.window_seconds ?? 86_400)), events: await store().mandates.events(m.id) };
      })),
    );
  });
  router.post('/mandates', requireAdmin, async (req, res) => {
    const body = parse(z.object({ id: z.string().regex(/^[a-z0-9_]{1,64}$/), agent_id: z.string().min(1).max(64), per_refund_cap_cents: cents, window_cap_cents: cents, window_seconds: z.number().int().min(60).max(31_536_000).default(86_400), expires_at: z.iso.datetime().optional() }).strict(), req, res);
    if (!body) return;
    if (await store().mandates.latest(body.id)) return void res.status(409).json({ error: 'exists', message: `mandate ${body.id} exists; change its caps instead` });
    const doc = await issueMandate(store(), services.keys.mandate, { ...body, issued_by: req.user!.email }, now());
    services.publish({ type: 'mandate', mandateId: doc.id });
    res.status(201).json(doc);
  });
  router.post('/mandates/:id/:action', requireAdmin, async (req, res) => {
    const action = req.params.action as string;
    if (action !== 'pause' && action !== 'resume' && action !== 'revoke') return void res.status(404).json({ error: 'not_found' });
    const body = parse(reasonBody, req, res);
    if (!body) return;
    const result = await setMandateStatus(store(), req.params.id as string, action, req.user!.email, body.reason, now());
    if (!result.ok) return void res.status(409).json({ error: 'refused', message: result.error });
    services.publish({ type: 'mandate', mandateId: req.params.id, status: result.status });
    res.json(result);
  });
  router.put('/mandates/:id/caps', requireAdmin, async (req, res) => {
    const body = parse(z.object({ per_refund_cap_cents: cents.optional(), window_cap_cents: cents.optional(), window_seconds: z.number().int().min(60).optional(), expires_at: z.iso.datetime().optional() }).strict(), req, res);
    if (!body) return;
    const caps = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    if (Object.keys(caps).length === 0) return void res.status(400).json({ error: 'invalid_input', message: 'nothing to change' });
    const result = await changeCaps(store(), services.keys.mandate, req.params.id as string, caps, req.user!.email, now());
    if (!result.ok) return void res.status(409).json({ error: 'refused', message: result.error });
    services.publish({ type: 'mandate', mandateId: req.params.id });
    res.json(result.mandate);
  });

  // --- Prompt versions (admins write) ---
  router.get('/prompts', async (_req, res) => {
    const versions = await store().prompts.list();
    const scripted = estorno.modelKind === 'scripted';
    // The last `npm run eval` of each version's exact text, if any.
    const evalOf = async (text: string) => await store().evals.latestFor(promptSha256(text)) ?? null;
    res.json({
      current: versions[0] ?? { id: 0, text: DEFAULT_SYSTEM_PROMPT, author: 'shipped default', note: null, created_at: null },
      versions: await Promise.all(versions.map(async (v) => ({ ...v, eval: await evalOf(v.text) }))),
      default_eval: await evalOf(DEFAULT_SYSTEM_PROMPT),
      model: scripted ? 'scripted model' : 'claude',
      ...(scripted ? { model_note: 'The sandbox runs the scripted model, a fixed deterministic policy: prompt edits are stored and versioned but have no effect on it. Set ANTHROPIC_API_KEY to use Claude.' } : {}),
    });
  });
  router.get('/prompts/:id/diff', async (req, res) => {
    const s = store();
    const version = await s.prompts.get(Number(req.params.id));
    if (!version) return void res.status(404).json({ error: 'not_found' });
    const previous = (await s.prompts.list()).find((v) => v.id < version.id);
    res.json({ id: version.id, author: version.author, created_at: version.created_at, note: version.note, diff: lineDiff(previous?.text ?? DEFAULT_SYSTEM_PROMPT, version.text) });
  });
  router.post('/prompts', requireAdmin, async (req, res) => {
    const body = parse(z.object({ text: z.string().trim().min(20).max(50_000), note: z.string().max(500).optional(), confirm: z.boolean().optional() }).strict(), req, res);
    if (!body) return;
    // Publishing a text whose eval passes fewer scenarios than the current version's asks for confirmation.
    const current = (await store().prompts.current())?.text ?? DEFAULT_SYSTEM_PROMPT;
    const before = await store().evals.latestFor(promptSha256(current));
    const after = await store().evals.latestFor(promptSha256(body.text));
    if (!body.confirm && before && after && after.pass_k < before.pass_k) {
      return void res.status(409).json({
        error: 'lower_pass_rate',
        message: `this text passed pass^${after.k} = ${after.pass_k.toFixed(2)} in its last eval, below the current version's ${before.pass_k.toFixed(2)}; send confirm: true to publish it anyway`,
        current: before, candidate: after,
      });
    }
    const version = await store().prompts.add(body.text, req.user!.email, body.note ?? null, now().toISOString());
    services.publish({ type: 'prompt', version: version.id });
    res.status(201).json(version);
  });
  router.post('/prompts/:id/rollback', requireAdmin, async (req, res) => {
    const s = store();
    const id = Number(req.params.id);
    const text = id === 0 ? DEFAULT_SYSTEM_PROMPT : (await s.prompts.get(id))?.text;
    if (!text) return void res.status(404).json({ error: 'not_found' });
    const version = await s.prompts.add(text, req.user!.email, `rollback to ${id === 0 ? 'the shipped default' : `v${id}`}`, now().toISOString());
    services.publish({ type: 'prompt', version: version.id });
    res.status(201).json(version);
  });

  // --- Users (admins write) ---
  router.get('/users', async (_req, res) => {
    res.json((await store().users.list()).map(({ password_hash: _p, ...u }) => u));
  });
  router.post('/users', requireAdmin, async (req, res) => {
    const body = parse(z.object({ email: z.string().email().max(200), name: z.string().trim().min(1).max(100), role: z.enum(['staff', 'admin']), password: z.string().min(10).max(200).optional() }).strict(), req, res);
    if (!body) return;
    if (await store().users.byEmail(body.email)) return void res.status(409).json({ error: 'exists', message: 'a user with that email exists' });
    // Without a password one is generated and shown once, to be handed over out of band.
    const password = body.password ?? generatePassword();
    const user = await store().users.create({ email: body.email, name: body.name, role: body.role, password_hash: await hashPassword(password), now: now().toISOString() });
    const { password_hash: _p, ...safe } = user;
    res.status(201).json(body.password ? safe : { ...safe, password });
  });
  router.post('/users/:id/:action', requireAdmin, async (req, res) => {
    const action = req.params.action as string;
    if (action !== 'disable' && action !== 'enable') return void res.status(404).json({ error: 'not_found' });
    const id = Number(req.params.id);
    if (id === req.user!.id) return void res.status(409).json({ error: 'refused', message: 'you cannot disable or enable yourself' });
    if (!await store().users.setActive(id, action === 'enable', now().toISOString())) return void res.status(404).json({ error: 'not_found' });
    // A disabled user's open sessions end now, not in 12 hours.
    if (action === 'disable') await store().users.deleteSessionsOf(id);
    res.json({ id, active: action === 'enable' });
  });

  // --- Pictures ---
  router.get('/stats', async (_req, res) => {
    const s = store();
    const mandates = await Promise.all((await listMandates(s, services.keys.mandate, now())).map(async (m) => {
      const doc = m.document as { window_cap_cents?: number; window_seconds?: number } | null;
      const used = await s.payments.mandateWindowCents(m.id, new Date(now().getTime() - (doc?.window_seconds ?? 86_400) * 1000).toISOString());
      return { id: m.id, status: m.status, window_cap_cents: doc?.window_cap_cents ?? 0, window_used_cents: used };
    }));
    const seconds = await s.consoleQueries.complaintToRefundSeconds();
    const since30 = new Date(now().getTime() - 30 * 86_400_000).toISOString();
    const waits = await s.consoleQueries.waits(since30);
    const waited = waits.map((w) => Math.max(0, ((w.ended_at ? Date.parse(w.ended_at) : now().getTime()) - Date.parse(w.at)) / 1000));
    const handoffs = new Map<string, number>();
    for (const w of waits) handoffs.set(w.reason ?? 'unknown', (handoffs.get(w.reason ?? 'unknown') ?? 0) + 1);
    const reasons = await s.consoleQueries.refundsByReason(since30);
    // The long tail of the model's free-text reasons is one bar: the chart stays readable.
    const topReasons = [...reasons.slice(0, 6), ...(reasons.length > 6 ? [{ reason: 'other', refunds: reasons.slice(6).reduce((n, r) => n + r.refunds, 0), amount_cents: reasons.slice(6).reduce((n, r) => n + r.amount_cents, 0) }] : [])];
    res.json({
      refunds_per_day: lastDays(await s.consoleQueries.refundsPerDay(14, now()), 14, now()), mandates,
      complaint_to_refund: { count: seconds.length, histogram: histogram(seconds), p50: percentile(seconds, 50), p95: percentile(seconds, 95) },
      refunds_by_reason: topReasons,
      handoffs_by_reason: [...handoffs].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      waiting: { count: waited.length, still_waiting: waits.filter((w) => !w.ended_at).length, p50: percentile(waited, 50), p95: percentile(waited, 95), histogram: histogram(waited, WAIT_EDGES) },
    });
  });

  // --- Live updates (server-sent events): ids and kinds only, never customer content ---
  router.get('/events', (req, res) => {
    res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    const off = estorno.events.subscribe((event) => {
      res.write(sseFrame(event));
    });
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      off();
      clearInterval(beat);
    });
  });

  router.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  return router;
}

/** Histogram edges in seconds: a refund in the sandbox takes seconds, a real one with a human approval can take hours. */
const EDGES = [5, 10, 20, 30, 60, 120, 300, 900, 3600];

/** Waiting for a person is minutes to hours. */
const WAIT_EDGES = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800];

/** Nearest-rank percentile; null with no data. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Counts per bucket `(from, le]`; the last bucket (`le: null`) is everything over the last edge. */
export function histogram(seconds: number[], edges: number[] = EDGES): Array<{ from: number; le: number | null; count: number }> {
  return [...edges, null].map((le, i) => {
    const from = i === 0 ? 0 : (edges[i - 1] as number);
    return { from, le, count: seconds.filter((x) => (i === 0 ? x >= 0 : x > from) && (le === null || x <= le)).length };
  });
}

/** One row per UTC day for the last `days` days, zeros included, so the chart's axis is time. */
export function lastDays<T extends { day: string }>(rows: T[], days: number, now: Date): Array<{ day: string; refunds: number; settled_cents: number }> {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(now.getTime() - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10);
    const row = byDay.get(day) as { refunds?: number; settled_cents?: number } | undefined;
    return { day, refunds: row?.refunds ?? 0, settled_cents: row?.settled_cents ?? 0 };
  });
}
