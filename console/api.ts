import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { maskPhone } from '../core/phone.ts';
import { DEFAULT_SYSTEM_PROMPT } from '../agent/prompt.ts';
import { loadReceipt, verifyReceipt } from '../agent/verify.ts';
import type { Estorno } from '../server/app.ts';
import { decideApproval, expireApprovals } from '../tools/approvals.ts';
import { resolveUnknownRefund } from '../tools/refund-flow.ts';
import { activeMandateFor, changeCaps, issueMandate, listMandates, setMandateStatus, SUPPORT_AGENT_ID } from '../tools/mandate.ts';
import { IllegalTransition, transition } from '../agent/conversation-state.ts';
import { mediaOf } from '../agent/media.ts';
import { absorbHandledByStaff, stopTurnsForStaff } from '../agent/turn.ts';
import type { ConversationState } from '../data/conversations.ts';
import { promptSha256 } from '../data/evals.ts';
import { decoyHash, generatePassword, hashPassword, LoginThrottle, requireAdmin, requireCsrf, requireSession, SESSION_COOKIE, startSession, verifyPassword } from './auth.ts';
import { lineDiff } from './diff.ts';
import { sendBodyError } from '../webhooks/zapi.ts';

/**
 * The console's JSON API (CONTRACT.md `/api/...`): staff may read, approve and
 * take over conversations; admins may also edit prompts, mandates and users.
 * No route answers without a session; every write needs the CSRF token.
 */

const parse = <T extends z.ZodType>(schema: T, req: Request, res: Response): z.infer<T> | null => {
  const r = schema.safeParse(req.body ?? {});
  if (r.success) return r.data;
  res.status(400).json({ error: 'invalid_input', message: r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
  return null;
};
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
  beforeLogin?: () => void;
}

/** The /api router; mount it at /api. */
export function consoleApi(estorno: Estorno, options: ConsoleApiOptions = {}): express.Router {
  const router = express.Router();
  const services = estorno.services;
  const store = () => services.store;
  const now = () => services.now();
  const throttle = new LoginThrottle();
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
    if (!throttle.attempt(key)) return void res.status(429).json({ error: 'too_many_attempts', message: 'too many failed logins; wait 15 minutes' });
    options.beforeLogin?.();
    const user = store().users.byEmail(body.email);
    // An unknown or disabled user costs the same scrypt run: the answer time does not tell which emails exist.
    const matches = await verifyPassword(body.password, user?.password_hash ?? decoyHash());
    if (!user || user.active !== 1 || !matches) {
      return void res.status(401).json({ error: 'bad_credentials', message: 'wrong email or password' });
    }
    throttle.clear(key);
    const { csrf } = startSession(store(), res, req, user, now());
    res.json({ id: user.id, email: user.email, name: user.name, role: user.role, csrf });
  });

  router.use(requireSession(store, now));
  router.use(requireCsrf);

  router.get('/me', (req, res) => {
    const u = req.user!;
    res.json({ id: u.id, email: u.email, name: u.name, role: u.role, csrf: u.csrf });
  });
  router.post('/logout', (req, res) => {
    store().users.deleteSession(req.user!.sessionHash);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.json({ ok: true });
  });

  // --- Conversations ---
  router.get('/conversations', (_req, res) => {
    const s = store();
    res.json(s.consoleQueries.conversations().map((c) => {
      const state = s.conversations.get(String(c.id));
      return { ...c, chat_id: undefined, phone: undefined, who: c.phone ? maskPhone(String(c.phone)) : 'WhatsApp @lid', state: state?.state, handoff_reason: state?.handoff_reason ?? null, waiting_since: state?.waiting_since ?? null };
    }));
  });
  // What staff and admins must know now: the agent holding no usable mandate stops every automatic refund.
  router.get('/alerts', (_req, res) => {
    const alerts: Array<{ kind: string; severity: 'critical' | 'warning'; message: string; [k: string]: unknown }> = [];
    if (!activeMandateFor(store(), services.keys.mandate, SUPPORT_AGENT_ID, now())) {
      alerts.push({ kind: 'agent_mandate_inactive', severity: 'critical', agent_id: SUPPORT_AGENT_ID, message: `The agent ${SUPPORT_AGENT_ID} holds no active mandate: refunds are handed to staff (reason mandate_inactive) until an admin issues or resumes one.` });
    }
    // The model failing now (its newest call, within 10 minutes, errored): turns are held and, after a while, handed to staff.
    const call = store().turns.lastModelCall();
    if (call?.error && now().getTime() - Date.parse(call.created_at) < 600_000) {
      alerts.push({ kind: 'model_degraded', severity: 'critical', since: call.created_at, message: `The model is failing (${call.error}); customers get one holding message and are handed to staff after MODEL_OUTAGE_HANDOFF_MS. See /readyz.` });
    }
    const waiting = store().consoleQueries.conversations().filter((c) => store().conversations.get(String(c.id))?.state === 'waiting_for_staff').length;
    if (waiting > 0) alerts.push({ kind: 'waiting_for_staff', severity: 'warning', count: waiting, message: `${waiting} conversation(s) waiting for a person.` });
    res.json(alerts);
  });
  router.get('/conversations/:id', (req, res) => {
    const s = store();
    const conversation = s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    const entries: Array<{ at: string; kind: string; [k: string]: unknown }> = [];
    for (const m of s.inbox.forConversation(conversation.id)) if (m.kind === 'text') entries.push({ at: m.received_at, kind: 'customer', text: m.text, message_id: m.message_id, ...(mediaOf(m) ? { media: mediaOf(m) } : {}) });
    for (const n of s.conversations.notes(conversation.id)) entries.push({ at: n.created_at, kind: 'note', text: n.text, author: n.author });
    for (const m of s.outbox.forConversation(conversation.id)) entries.push({ at: m.created_at, kind: m.source === 'staff' ? 'staff' : 'agent', text: m.text, status: m.status, template: m.template });
    for (const t of s.turns.toolCalls(conversation.id)) entries.push({ at: t.created_at, kind: 'tool', name: t.name, input: safeJson(t.input), outcome: t.outcome, reason: t.reason });
    // Pushed before the guard's rows: on a tie the staff decision comes before the guard run it caused (the sort is stable).
    for (const a of s.consoleQueries.approvalsForConversation(conversation.id)) {
      if (a.decided_at) entries.push({ at: a.decided_at, kind: 'approval', approval_id: a.id, status: a.status, decided_by: a.decided_by, decision_reason: a.decision_reason, order: a.order_number, amount_cents: a.amount_cents });
    }
    for (const d of s.guardLog.forConversation(conversation.id)) entries.push({ at: d.created_at, kind: 'guard', decision: d.decision, reason: d.reason, order: d.order_number, amount_cents: d.amount_cents, mandate: d.mandate_id, approval_id: d.approval_id, refund_id: d.refund_id });
    for (const r of s.payments.refundsForConversation(conversation.id)) entries.push({ at: r.created_at, kind: 'refund', refund_id: r.id, order: r.order_number, amount_cents: r.amount_cents, status: r.status, receipt_id: r.case_id, authorized_by: r.authorized_by, failure: r.failure_reason });
    entries.sort((a, b) => a.at.localeCompare(b.at));
    const receipts = s.cases.forConversation(conversation.id).map((c) => {
      const receipt = loadReceipt(s, c.id);
      return { id: c.id, order: c.order_number, status: c.status, verification: receipt ? verifyReceipt(receipt, services.keys.receipt.publicKey) : null };
    });
    res.json({
      id: conversation.id, who: conversation.phone ? maskPhone(conversation.phone) : 'WhatsApp @lid', mode: conversation.mode,
      state: conversation.state, handoff_reason: conversation.handoff_reason, waiting_since: conversation.waiting_since, entries, receipts,
    });
  });
  const move = (to: ConversationState) => (req: Request, res: Response) => {
    const s = store();
    const conversation = s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    try {
      transition(s, conversation.id, to, now().toISOString());
    } catch (error) {
      if (error instanceof IllegalTransition) return void res.status(409).json({ error: 'illegal_transition', message: `cannot move a conversation ${conversation.state} to ${to}` });
      throw error;
    }
    // Taking over stops the money: parked turns end and their resume jobs are cancelled (a running turn stops at its next step).
    // Closing does too: a parked turn must not wake up, reopen the conversation and pay.
    if (to === 'with_staff' || to === 'closed') stopTurnsForStaff(services, conversation.id, { includeRunning: false });
    if (to === 'closed') absorbHandledByStaff(services, conversation.id);
    const after = s.conversations.get(conversation.id)!;
    services.publish({ type: 'mode', conversationId: conversation.id, mode: after.mode, status: after.state, by: req.user!.email });
    // Handed back: what the customer wrote meanwhile is answered now.
    if (to === 'agent') estorno.scheduler.schedule(conversation.id);
    res.json({ id: conversation.id, mode: after.mode, state: after.state });
  };
  router.post('/conversations/:id/takeover', move('with_staff'));
  router.post('/conversations/:id/handback', move('agent'));
  router.post('/conversations/:id/close', move('closed'));
  router.post('/conversations/:id/notes', (req, res) => {
    const body = parse(z.object({ text: z.string().trim().min(1).max(4096) }).strict(), req, res);
    if (!body) return;
    const s = store();
    const conversation = s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    const id = s.conversations.addNote(conversation.id, req.user!.email, body.text, now().toISOString());
    services.publish({ type: 'note', conversationId: conversation.id });
    res.status(201).json({ note_id: id });
  });
  router.post('/conversations/:id/messages', (req, res) => {
    const body = parse(z.object({ text: z.string().trim().min(1).max(4096) }).strict(), req, res);
    if (!body) return;
    const s = store();
    const conversation = s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    if (conversation.mode !== 'staff') return void res.status(409).json({ error: 'not_taken_over', message: 'take the conversation over first' });
    // Answering a conversation that waits in the queue takes it.
    if (conversation.state === 'waiting_for_staff') transition(s, conversation.id, 'with_staff', now().toISOString());
    const id = s.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text: body.text, source: 'staff', now: now().toISOString() });
    services.wake();
    services.publish({ type: 'message_out', conversationId: conversation.id });
    res.status(201).json({ outbox_id: id });
  });

  // --- Approvals ---
  router.get('/approvals', (req, res) => {
    expireApprovals(services);
    const status = z.enum(['pending', 'approved', 'rejected', 'expired', 'failed']).optional().safeParse(req.query.status);
    if (!status.success) return void res.status(400).json({ error: 'invalid_input', message: 'status: pending, approved, rejected, expired or failed' });
    res.json(store().guardLog.approvals(status.data));
  });
  // The reason is internal (kept, never sent); a rejection may carry a separate message written for the customer.
  const decisionBody = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(500), customer_message: z.string().trim().max(1000).optional() }).strict();
  const decide = (decision: 'approve' | 'reject') => async (req: Request, res: Response) => {
    const body = parse(decisionBody, req, res);
    if (!body) return;
    const result = await decideApproval(services, req.params.id as string, decision, { id: req.user!.email }, body.reason, decision === 'reject' ? (body.customer_message ?? null) : null);
    if (result.ok) return void res.json(result);
    const status = result.error === 'not_found' ? 404 : result.error === 'refused' ? 422 : 409;
    res.status(status).json(result);
  };
  router.post('/approvals/:id/approve', decide('approve'));
  router.post('/approvals/:id/reject', decide('reject'));

  // --- Refunds whose outcome the rail never told (staff check the rail's dashboard, then decide) ---
  router.get('/refunds/review', (_req, res) => {
    res.json(store().payments.inReview().map((r) => ({ id: r.id, order_number: r.order_number, amount_cents: r.amount_cents, rail: r.rail, submitted_at: r.submitted_at, review_requested_at: r.review_requested_at, conversation_id: r.conversation_id, case_id: r.case_id })));
  });
  router.post('/refunds/:id/release', async (req, res) => {
    const body = parse(reasonBody, req, res);
    if (!body) return;
    const result = await resolveUnknownRefund(services, req.params.id as string, { id: req.user!.email }, body.reason);
    if (result.ok) return void res.json(result);
    const message = { not_found: 'no such refund', not_unknown: 'only a refund whose outcome stayed unknown past the review window can be released', found_at_rail: 'the rail shows this refund now: it was adopted, not released' }[result.error];
    res.status(result.error === 'not_found' ? 404 : 409).json({ ...result, message });
  });

  // --- Receipts ---
  router.get('/receipts/public-key', (_req, res) => {
    res.type('application/x-pem-file').send(services.keys.receipt.publicKeyPem);
  });
  router.get('/receipts/:id', (req, res) => {
    const receipt = loadReceipt(store(), req.params.id as string);
    if (!receipt) return void res.status(404).json({ error: 'not_found' });
    res.json({ ...receipt, key_id: services.keys.receipt.keyId, verification: verifyReceipt(receipt, services.keys.receipt.publicKey) });
  });

  // --- Mandates (admins write) ---
  router.get('/mandates', (_req, res) => {
    const since = (seconds: number) => new Date(now().getTime() - seconds * 1000).toISOString();
    res.json(
      listMandates(store(), services.keys.mandate, now()).map((m) => {
        const doc = m.document as { window_seconds?: number } | null;
        return { ...m, window_used_cents: store().payments.mandateWindowCents(m.id, since(doc?.window_seconds ?? 86_400)), events: store().mandates.events(m.id) };
      }),
    );
  });
  router.post('/mandates', requireAdmin, (req, res) => {
    const body = parse(z.object({ id: z.string().regex(/^[a-z0-9_]{1,64}$/), agent_id: z.string().min(1).max(64), per_refund_cap_cents: cents, window_cap_cents: cents, window_seconds: z.number().int().min(60).max(31_536_000).default(86_400), expires_at: z.iso.datetime().optional() }).strict(), req, res);
    if (!body) return;
    if (store().mandates.latest(body.id)) return void res.status(409).json({ error: 'exists', message: `mandate ${body.id} exists; change its caps instead` });
    const doc = issueMandate(store(), services.keys.mandate, { ...body, issued_by: req.user!.email }, now());
    services.publish({ type: 'mandate', mandateId: doc.id });
    res.status(201).json(doc);
  });
  router.post('/mandates/:id/:action', requireAdmin, (req, res) => {
    const action = req.params.action as string;
    if (action !== 'pause' && action !== 'resume' && action !== 'revoke') return void res.status(404).json({ error: 'not_found' });
    const body = parse(reasonBody, req, res);
    if (!body) return;
    const result = setMandateStatus(store(), req.params.id as string, action, req.user!.email, body.reason, now());
    if (!result.ok) return void res.status(409).json({ error: 'refused', message: result.error });
    services.publish({ type: 'mandate', mandateId: req.params.id, status: result.status });
    res.json(result);
  });
  router.put('/mandates/:id/caps', requireAdmin, (req, res) => {
    const body = parse(z.object({ per_refund_cap_cents: cents.optional(), window_cap_cents: cents.optional(), window_seconds: z.number().int().min(60).optional(), expires_at: z.iso.datetime().optional() }).strict(), req, res);
    if (!body) return;
    const caps = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    if (Object.keys(caps).length === 0) return void res.status(400).json({ error: 'invalid_input', message: 'nothing to change' });
    const result = changeCaps(store(), services.keys.mandate, req.params.id as string, caps, req.user!.email, now());
    if (!result.ok) return void res.status(409).json({ error: 'refused', message: result.error });
    services.publish({ type: 'mandate', mandateId: req.params.id });
    res.json(result.mandate);
  });

  // --- Prompt versions (admins write) ---
  router.get('/prompts', (_req, res) => {
    const versions = store().prompts.list();
    const scripted = estorno.modelKind === 'scripted';
    // The last `npm run eval` of each version's exact text, if any.
    const evalOf = (text: string) => store().evals.latestFor(promptSha256(text)) ?? null;
    res.json({
      current: versions[0] ?? { id: 0, text: DEFAULT_SYSTEM_PROMPT, author: 'shipped default', note: null, created_at: null },
      versions: versions.map((v) => ({ ...v, eval: evalOf(v.text) })),
      default_eval: evalOf(DEFAULT_SYSTEM_PROMPT),
      model: scripted ? 'scripted model' : 'claude',
      ...(scripted ? { model_note: 'The sandbox runs the scripted model, a fixed deterministic policy: prompt edits are stored and versioned but have no effect on it. Set ANTHROPIC_API_KEY to use Claude.' } : {}),
    });
  });
  router.get('/prompts/:id/diff', (req, res) => {
    const s = store();
    const version = s.prompts.get(Number(req.params.id));
    if (!version) return void res.status(404).json({ error: 'not_found' });
    const previous = s.prompts.list().find((v) => v.id < version.id);
    res.json({ id: version.id, author: version.author, created_at: version.created_at, note: version.note, diff: lineDiff(previous?.text ?? DEFAULT_SYSTEM_PROMPT, version.text) });
  });
  router.post('/prompts', requireAdmin, (req, res) => {
    const body = parse(z.object({ text: z.string().trim().min(20).max(50_000), note: z.string().max(500).optional(), confirm: z.boolean().optional() }).strict(), req, res);
    if (!body) return;
    // Publishing a text whose eval passes fewer scenarios than the current version's asks for confirmation.
    const current = store().prompts.current()?.text ?? DEFAULT_SYSTEM_PROMPT;
    const before = store().evals.latestFor(promptSha256(current));
    const after = store().evals.latestFor(promptSha256(body.text));
    if (!body.confirm && before && after && after.pass_k < before.pass_k) {
      return void res.status(409).json({
        error: 'lower_pass_rate',
        message: `this text passed pass^${after.k} = ${after.pass_k.toFixed(2)} in its last eval, below the current version's ${before.pass_k.toFixed(2)}; send confirm: true to publish it anyway`,
        current: before, candidate: after,
      });
    }
    const version = store().prompts.add(body.text, req.user!.email, body.note ?? null, now().toISOString());
    services.publish({ type: 'prompt', version: version.id });
    res.status(201).json(version);
  });
  router.post('/prompts/:id/rollback', requireAdmin, (req, res) => {
    const s = store();
    const id = Number(req.params.id);
    const text = id === 0 ? DEFAULT_SYSTEM_PROMPT : s.prompts.get(id)?.text;
    if (!text) return void res.status(404).json({ error: 'not_found' });
    const version = s.prompts.add(text, req.user!.email, `rollback to ${id === 0 ? 'the shipped default' : `v${id}`}`, now().toISOString());
    services.publish({ type: 'prompt', version: version.id });
    res.status(201).json(version);
  });

  // --- Users (admins write) ---
  router.get('/users', (_req, res) => {
    res.json(store().users.list().map(({ password_hash: _p, ...u }) => u));
  });
  router.post('/users', requireAdmin, async (req, res) => {
    const body = parse(z.object({ email: z.string().email().max(200), name: z.string().trim().min(1).max(100), role: z.enum(['staff', 'admin']), password: z.string().min(10).max(200).optional() }).strict(), req, res);
    if (!body) return;
    if (store().users.byEmail(body.email)) return void res.status(409).json({ error: 'exists', message: 'a user with that email exists' });
    // Without a password one is generated and shown once, to be handed over out of band.
    const password = body.password ?? generatePassword();
    const user = store().users.create({ email: body.email, name: body.name, role: body.role, password_hash: await hashPassword(password), now: now().toISOString() });
    const { password_hash: _p, ...safe } = user;
    res.status(201).json(body.password ? safe : { ...safe, password });
  });
  router.post('/users/:id/:action', requireAdmin, (req, res) => {
    const action = req.params.action as string;
    if (action !== 'disable' && action !== 'enable') return void res.status(404).json({ error: 'not_found' });
    const id = Number(req.params.id);
    if (id === req.user!.id) return void res.status(409).json({ error: 'refused', message: 'you cannot disable or enable yourself' });
    if (!store().users.setActive(id, action === 'enable', now().toISOString())) return void res.status(404).json({ error: 'not_found' });
    // A disabled user's open sessions end now, not in 12 hours.
    if (action === 'disable') store().users.deleteSessionsOf(id);
    res.json({ id, active: action === 'enable' });
  });

  // --- Pictures ---
  router.get('/stats', (_req, res) => {
    const s = store();
    const mandates = listMandates(s, services.keys.mandate, now()).map((m) => {
      const doc = m.document as { window_cap_cents?: number; window_seconds?: number } | null;
      const used = s.payments.mandateWindowCents(m.id, new Date(now().getTime() - (doc?.window_seconds ?? 86_400) * 1000).toISOString());
      return { id: m.id, status: m.status, window_cap_cents: doc?.window_cap_cents ?? 0, window_used_cents: used };
    });
    const seconds = s.consoleQueries.complaintToRefundSeconds();
    res.json({ refunds_per_day: lastDays(s.consoleQueries.refundsPerDay(14, now()), 14, now()), mandates, complaint_to_refund: { count: seconds.length, histogram: histogram(seconds) } });
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

/** Counts per bucket `(from, le]`; the last bucket (`le: null`) is everything over the last edge. */
export function histogram(seconds: number[]): Array<{ from: number; le: number | null; count: number }> {
  return [...EDGES, null].map((le, i) => {
    const from = i === 0 ? 0 : (EDGES[i - 1] as number);
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
