import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { loadReceipt, verifyReceipt } from '../../refunds/verify-receipt.ts';
import { IllegalTransition, transition } from '../../conversations/state.ts';
import { mediaOf } from '../../agent/media.ts';
import { absorbHandledByStaff } from '../../agent/absorb.ts';
import { stopTurnsForStaff } from '../../agent/stop.ts';
import type { TurnScheduler } from '../../agent/scheduler.ts';
import type { ConversationState } from '../../data/conversations.ts';
import type { InboxCursor } from '../../data/console-queries.ts';
import type { Services } from '../../services/context.ts';
import type { ErpCustomer, ErpOrder } from '../../providers/types.ts';
import { CustomerNames, TtlCache } from '../customer-names.ts';
import { maskPhoneForStaff, parseBody } from '../http.ts';
import { renderCanned } from './canned.ts';

/**
 * The inbox and working a conversation: the list (queue first, filters,
 * search, cursor pages), the transcript, assignment, read marks, notes, staff
 * messages, state moves (take over, hand back, close, reopen) and the
 * customer panel. SQL lives in data/console-queries.ts and data/console-work.ts.
 */

const PAGE = 50;
const STATES = ['agent', 'waiting_for_staff', 'with_staff', 'closed'] as const;

const listQuery = z.object({
  state: z.enum(STATES).optional(),
  assignee: z.union([z.enum(['me', 'none']), z.coerce.number().int().positive()]).optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  q: z.string().trim().max(100).optional(),
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(PAGE),
});

const encodeCursor = (c: InboxCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(text: string): InboxCursor | null {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as InboxCursor;
    return (c.b === 0 || c.b === 1) && typeof c.k === 'string' && typeof c.id === 'string' ? c : null;
  } catch {
    return null;
  }
}

type Last = { text?: string | null; at?: string; source?: string; media?: string | null; sent_by?: string | null };
const json = (text: string | null) => (text ? (JSON.parse(text) as Last) : null);
/** Dates in filters are São Paulo days (UTC−3 all year since 2019): the instant a day starts there. */
const dayStart = (date: string) => new Date(`${date}T00:00:00.000-03:00`).toISOString();
const dayAfter = (date: string) => new Date(Date.parse(dayStart(date)) + 86_400_000).toISOString();

export async function conversationRoutes(services: Services, scheduler: Pick<TurnScheduler, 'schedule'>, names: CustomerNames): Promise<express.Router> {
  const router = express.Router();
  const store = () => services.store;
  const now = () => services.now();
  const erpCustomers = new TtlCache<{ customer: ErpCustomer | null; orders: ErpOrder[] }>(5 * 60_000);
  const userNames = async () => new Map((await store().users.list()).map((u) => [u.email, u.name]));

  router.get('/conversations', async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return void res.status(400).json({ error: 'invalid_input', message: q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const cursor = q.data.cursor ? decodeCursor(q.data.cursor) : undefined;
    if (cursor === null) return void res.status(400).json({ error: 'invalid_input', message: 'cursor: not one this API gave' });
    const page = await store().consoleQueries.inboxPage({
      userId: req.user!.id, limit: q.data.limit,
      ...(q.data.state ? { state: q.data.state } : {}),
      ...(q.data.assignee !== undefined ? { assignee: q.data.assignee } : {}),
      ...(q.data.from ? { from: dayStart(q.data.from) } : {}),
      ...(q.data.to ? { to: dayAfter(q.data.to) } : {}),
      ...(q.data.q ? { q: q.data.q } : {}),
      ...(cursor ? { cursor } : {}),
    });
    // Names the ERP has not given yet are asked for in the background; this answer never waits for them.
    await names.want(page.rows.filter((r) => r.customer_name === null).map((r) => r.id));
    const at = now().getTime();
    // The body stays a plain list (older callers read it so); the next page's cursor travels in a header.
    if (page.next) {
      const next = encodeCursor(page.next);
      res.set('x-next-cursor', next);
      const params = new URLSearchParams(req.query as Record<string, string>);
      params.set('cursor', next);
      res.set('link', `</api/conversations?${params.toString()}>; rel="next"`);
    }
    res.json(
      page.rows.map((r) => {
        const lastIn = json(r.last_in);
        const lastOut = json(r.last_out);
        const last: (Last & { from?: string }) | null = lastOut && (!lastIn || String(lastOut.at) >= String(lastIn.at)) ? { ...lastOut, from: lastOut.source } : lastIn ? { ...lastIn, from: 'customer' } : null;
        return {
          id: r.id, name: r.customer_name, phone: maskPhoneForStaff(r.phone), state: r.state, handoff_reason: r.handoff_reason, waiting_since: r.waiting_since,
          waiting_seconds: r.state === 'waiting_for_staff' && r.waiting_since ? Math.max(0, Math.round((at - Date.parse(r.waiting_since)) / 1000)) : null,
          assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name } : null,
          last_message: last ? { text: last.text ?? null, at: last.at, from: last.from, media: last.media ?? null } : null,
          activity_at: r.activity_at, unread: r.unread, pending_approvals: r.pending_approvals,
        };
      }),
    );
  });

  router.get('/conversations/:id', async (req, res) => {
    const s = store();
    const conversation = await s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    const people = await userNames();
    const entries: Array<{ at: string; kind: string; [k: string]: unknown }> = [];
    for (const m of await s.inbox.forConversation(conversation.id)) if (m.kind === 'text') entries.push({ at: m.received_at, kind: 'customer', text: m.text, message_id: m.message_id, ...(mediaOf(m) ? { media: mediaOf(m) } : {}) });
    for (const n of await s.conversations.notes(conversation.id)) entries.push({ at: n.created_at, kind: 'note', text: n.text, author: n.author, author_name: people.get(n.author) ?? n.author });
    for (const m of await s.outbox.forConversation(conversation.id) as Array<{ created_at: string; source: string; text: string; status: string; template: string | null; sent_by?: string | null }>) {
      entries.push({ at: m.created_at, kind: m.source === 'staff' ? 'staff' : 'agent', text: m.text, status: m.status, template: m.template, ...(m.source === 'staff' ? { sent_by: m.sent_by ?? null, sent_by_name: m.sent_by ? (people.get(m.sent_by) ?? m.sent_by) : null } : {}) });
    }
    for (const t of await s.turns.toolCalls(conversation.id)) entries.push({ at: t.created_at, kind: 'tool', name: t.name, input: safeJson(t.input), outcome: t.outcome, reason: t.reason });
    // Pushed before the guard's rows: on a tie the staff decision comes before the guard run it caused (the sort is stable).
    for (const a of await s.consoleQueries.approvalsForConversation(conversation.id)) {
      if (a.decided_at) entries.push({ at: a.decided_at, kind: 'approval', approval_id: a.id, status: a.status, decided_by: a.decided_by, decision_reason: a.decision_reason, order: a.order_number, amount_cents: a.amount_cents });
    }
    for (const d of await s.guardDecisions.forConversation(conversation.id)) entries.push({ at: d.created_at, kind: 'guard', decision: d.decision, reason: d.reason, order: d.order_number, amount_cents: d.amount_cents, mandate: d.mandate_id, approval_id: d.approval_id, refund_id: d.refund_id });
    for (const r of await s.refunds.forConversation(conversation.id)) entries.push({ at: r.created_at, kind: 'refund', refund_id: r.id, order: r.order_number, amount_cents: r.amount_cents, status: r.status, receipt_id: r.case_id, authorized_by: r.authorized_by, failure: r.failure_reason });
    entries.sort((a, b) => a.at.localeCompare(b.at));
    const receipts = await Promise.all((await s.cases.forConversation(conversation.id)).map(async (c) => {
      const receipt = await loadReceipt(s, c.id);
      return { id: c.id, order: c.order_number, status: c.status, verification: receipt ? verifyReceipt(receipt, services.keys.receipt.publicKey) : null };
    }));
    const extra = conversation as typeof conversation & { customer_name?: string | null; assignee_id?: number | null };
    const assignee = extra.assignee_id ? await s.users.byId(extra.assignee_id) : undefined;
    if (extra.customer_name == null) await names.want([conversation.id]);
    res.json({
      id: conversation.id, name: extra.customer_name ?? null, who: extra.customer_name ?? maskPhoneForStaff(conversation.phone), phone: maskPhoneForStaff(conversation.phone), mode: conversation.mode,
      state: conversation.state, handoff_reason: conversation.handoff_reason, waiting_since: conversation.waiting_since,
      assignee: assignee ? { id: assignee.id, name: assignee.name } : null, order: await s.consoleQueries.lastOrderNumber(conversation.id),
      entries, receipts,
    });
  });

  const move = (to: ConversationState) => async (req: Request, res: Response) => {
    const s = store();
    const conversation = await s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    try {
      await transition(s, conversation.id, to, now().toISOString());
    } catch (error) {
      if (error instanceof IllegalTransition) return void res.status(409).json({ error: 'illegal_transition', message: `cannot move a conversation ${conversation.state} to ${to}` });
      throw error;
    }
    // Taking over stops the money: parked turns end and their resume jobs are cancelled (a running turn stops at its next step).
    // Closing does too: a parked turn must not wake up, reopen the conversation and pay.
    if (to === 'closed') await stopTurnsForStaff(services, conversation.id, { includeRunning: false });
    if (to === 'with_staff') {
      await stopTurnsForStaff(services, conversation.id, { includeRunning: false });
      await s.consoleWork.assignIfFree(conversation.id, req.user!.id, now().toISOString());
    }
    // Closed after staff answered: what the customer wrote meanwhile was handled, not owed an answer by the agent.
    if (to === 'closed') await absorbHandledByStaff(services, conversation.id);
    const after = (await s.conversations.get(conversation.id))!;
    services.publish({ type: 'mode', conversationId: conversation.id, mode: after.mode, status: after.state, by: req.user!.email });
    // Handed back: what the customer wrote meanwhile is answered now.
    if (to === 'agent') scheduler.schedule(conversation.id);
    res.json({ id: conversation.id, mode: after.mode, state: after.state });
  };
  router.post('/conversations/:id/takeover', await move('with_staff'));
  router.post('/conversations/:id/handback', await move('agent'));
  router.post('/conversations/:id/close', await move('closed'));
  // Reopened by a person, for a person: it comes back held by staff, not answered by the agent.
  router.post('/conversations/:id/reopen', async (req, res) => {
    const c = await store().conversations.get(req.params.id as string);
    if (c && c.state !== 'closed') return void res.status(409).json({ error: 'illegal_transition', message: 'only a closed conversation can be reopened' });
    return (await move('with_staff'))(req, res);
  });

  router.post('/conversations/:id/assign', async (req, res) => {
    const body = parseBody(z.object({ user_id: z.number().int().positive().nullable() }).strict(), req, res);
    if (!body) return;
    const s = store();
    if (body.user_id !== null) {
      const user = await s.users.byId(body.user_id);
      if (!user || user.active !== 1) return void res.status(422).json({ error: 'unknown_user', message: 'no active console user with that id' });
    }
    if (!await s.consoleWork.assign(req.params.id as string, body.user_id, now().toISOString())) return void res.status(404).json({ error: 'not_found' });
    services.publish({ type: 'assign', conversationId: req.params.id as string, by: req.user!.email });
    res.json({ id: req.params.id, assignee_id: body.user_id });
  });

  router.post('/conversations/:id/read', async (req, res) => {
    const s = store();
    if (!await s.conversations.get(req.params.id as string)) return void res.status(404).json({ error: 'not_found' });
    await s.consoleWork.markRead(req.params.id as string, req.user!.id, now().toISOString());
    res.json({ ok: true });
  });

  router.post('/conversations/:id/notes', async (req, res) => {
    const body = parseBody(z.object({ text: z.string().trim().min(1).max(4096) }).strict(), req, res);
    if (!body) return;
    const s = store();
    const conversation = await s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    const id = await s.conversations.addNote(conversation.id, req.user!.email, body.text, now().toISOString());
    services.publish({ type: 'note', conversationId: conversation.id });
    res.status(201).json({ note_id: id });
  });

  router.post('/conversations/:id/messages', async (req, res) => {
    const body = parseBody(z.object({ text: z.string().trim().min(1).max(4096) }).strict(), req, res);
    if (!body) return;
    const s = store();
    const conversation = await s.conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    if (conversation.mode !== 'staff') return void res.status(409).json({ error: 'not_taken_over', message: 'take the conversation over first' });
    // Answering a conversation that waits in the queue takes it.
    if (conversation.state === 'waiting_for_staff') await transition(s, conversation.id, 'with_staff', now().toISOString());
    const id = await s.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text: body.text, source: 'staff', now: now().toISOString() });
    if (id !== null) await s.consoleWork.signMessage(id, req.user!.email);
    await s.consoleWork.assignIfFree(conversation.id, req.user!.id, now().toISOString());
    services.wake();
    services.publish({ type: 'message_out', conversationId: conversation.id });
    res.status(201).json({ outbox_id: id });
  });

  // Canned replies with this conversation's values filled in (the first name, the order, the staff member).
  router.get('/conversations/:id/canned-replies', async (req, res) => {
    const s = store();
    const conversation = await s.conversations.get(req.params.id as string) as (Awaited<ReturnType<typeof s.conversations.get>> & { customer_name?: string | null }) | undefined;
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    const values = { nome: conversation.customer_name ?? null, pedido: await s.consoleQueries.lastOrderNumber(conversation.id) ?? orderInText((await s.inbox.forConversation(conversation.id)).map((m) => m.text)), atendente: req.user!.name };
    res.json((await s.consoleWork.cannedReplies()).map((c) => ({ id: c.id, title: c.title, ...renderCanned(c.body, values) })));
  });

  router.get('/conversations/:id/customer', async (req, res) => {
    const panel = await store().consoleQueries.customerPanel(req.params.id as string);
    if (!panel) return void res.status(404).json({ error: 'not_found' });
    res.json(panel);
  });
  // The ERP, only when staff ask for it, and cached for a few minutes.
  router.get('/conversations/:id/customer/erp', async (req, res) => {
    const conversation = await store().conversations.get(req.params.id as string);
    if (!conversation) return void res.status(404).json({ error: 'not_found' });
    const key = conversation.customer_code ? `code:${conversation.customer_code}` : `phone:${conversation.phone ?? ''}`;
    try {
      const found = await erpCustomers.get(key, async () => {
        const customer = conversation.customer_code ? await services.erp.getCustomer(conversation.customer_code) : conversation.phone ? await services.erp.findCustomerByPhone(conversation.phone) : null;
        const orders = customer ? await services.erp.listOrders(customer.code, new Date(now().getTime() - 365 * 86_400_000).toISOString()) : [];
        return { customer, orders };
      });
      res.json({
        customer: found.customer ? { code: found.customer.code, name: found.customer.name } : null,
        orders: found.orders.slice(0, 20).map((o) => ({ order_number: o.orderNumber, total_cents: o.totalCents, placed_at: o.placedAt, method: o.payment.method, cancelled: o.cancelled, items: o.items })),
      });
    } catch {
      res.status(502).json({ error: 'erp_unavailable', message: 'the ERP did not answer; try again in a moment' });
    }
  });
  return router;
}

/** The newest order-looking number (4 to 8 digits) the customer wrote, when no tool named one. */
function orderInText(texts: Array<string | null>): string | null {
  for (const t of [...texts].reverse()) {
    const m = t?.match(/(?<![\d.,])\d{4,8}(?![\d.,])/g);
    if (m) return m.at(-1)!;
  }
  return null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
