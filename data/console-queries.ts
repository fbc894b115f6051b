import { HOLDING_SQL_LIST, refundsRepo } from './refunds.ts';
import type { Sql } from './sql.ts';
import type { ApprovalRow } from './approvals.ts';
import type { ConversationState } from './conversations.ts';
import { searchKey } from './console-work.ts';

/** Where a page of the inbox starts: the bucket (0 = waiting for a person), its sort key and the last id seen. */
export interface InboxCursor {
  b: 0 | 1;
  k: string;
  id: string;
}

export interface InboxFilter {
  /** The user asking: their unread counts and "assigned to me". */
  userId: number;
  state?: ConversationState;
  /** 'me', 'none' (unassigned) or a user id. */
  assignee?: 'me' | 'none' | number;
  /** Last activity on or after / before this ISO instant. */
  from?: string;
  to?: string;
  /** Customer name, phone suffix, order number or receipt id. */
  q?: string;
  cursor?: InboxCursor;
  limit: number;
}

export interface InboxRow {
  bucket: 0 | 1;
  sort_key: string;
  id: string;
  phone: string | null;
  state: ConversationState;
  handoff_reason: string | null;
  waiting_since: string | null;
  assignee_id: number | null;
  assignee_name: string | null;
  customer_name: string | null;
  customer_code: number | null;
  activity_at: string;
  created_at: string;
  last_in: string | null;
  last_out: string | null;
  unread: number;
  pending_approvals: number;
}

// The queue first (oldest wait first), then everything else by last activity, newest first.
const BUCKET = "(CASE WHEN c.state = 'waiting_for_staff' THEN 0 ELSE 1 END)";
const SORT_KEY = "(CASE WHEN c.state = 'waiting_for_staff' THEN COALESCE(c.waiting_since, c.activity_at) ELSE c.activity_at END)";

/** The WHERE clause of a search: what the text looks like decides where to look. */
function searchClause(q: string, params: Record<string, unknown>, dialect: Sql['dialect']): string | null {
  const text = q.trim();
  if (!text) return null;
  if (/^rcp_[a-z0-9_]+$/i.test(text)) {
    params.receipt = text;
    return 'c.id IN (SELECT conversation_id FROM cases WHERE id = @receipt)';
  }
  if (/^[\d\s()+#.-]+$/.test(text)) {
    const digits = text.replace(/\D/g, '').slice(0, 20);
    if (!digits) return null;
    params.digits = digits;
    // Full-text search has no common form: FTS5 on SQLite, the GIN index on search_vector(text) on PostgreSQL.
    params.fts = dialect === 'postgres' ? digits : `"${digits}"`;
    const clauses = [
      `c.id IN (SELECT conversation_id FROM refunds WHERE order_number = @digits
        UNION SELECT conversation_id FROM approvals WHERE order_number = @digits
        UNION SELECT conversation_id FROM cases WHERE order_number = @digits
        UNION SELECT conversation_id FROM tool_calls WHERE CAST(input ->> 'order_id' AS TEXT) = @digits
        UNION ${textMatches(dialect, '@fts')})`,
    ];
    // A phone is searched by its end, as staff read it off a masked number.
    if (digits.length >= 4) clauses.push("c.phone LIKE '%' || @digits");
    return `(${clauses.join(' OR ')})`;
  }
  const words = searchKey(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 6);
  if (words.length === 0) return null;
  params.name = `%${words.join('%')}%`;
  // Prefix queries; words are letters and digits only (searchKey + split), safe in both query languages.
  params.words = dialect === 'postgres' ? words.map((w) => `${w}:*`).join(' & ') : words.map((w) => `"${w}"*`).join(' ');
  return `(c.customer_name_key LIKE @name OR c.id IN (${textMatches(dialect, '@words')}))`;
}

/** The conversations whose customer messages match a full-text query (`param` holds it in the dialect's query language). */
function textMatches(dialect: Sql['dialect'], param: string): string {
  return dialect === 'postgres'
    ? `SELECT i.conversation_id FROM inbox i WHERE i.kind = 'text' AND search_vector(i.text) @@ to_tsquery('simple', ${param})`
    : `SELECT i.conversation_id FROM inbox_text_fts f JOIN inbox i ON i.id = f.rowid WHERE inbox_text_fts MATCH ${param}`;
}

type FlatInboxRow = Omit<InboxRow, 'last_in' | 'last_out'> & {
  last_in_text: string | null;
  last_in_at: string | null;
  last_in_media: string | null;
  last_out_text: string | null;
  last_out_at: string | null;
  last_out_source: string | null;
  last_out_sent_by: string | null;
};

/** Read models for the console: lists, a transcript's rows, and the numbers behind the charts. */
export function consoleQueries(sql: Sql) {
  return {
    /**
     * One page of the inbox in one SQL statement: the page's ids are picked on
     * the indexed columns first, and only those rows get their last messages,
     * unread count and pending approvals. Asks for `limit + 1` rows to know
     * whether another page follows.
     */
    async inboxPage(filter: InboxFilter): Promise<{ rows: InboxRow[]; next: InboxCursor | null }> {
      const params: Record<string, unknown> = { me: filter.userId, limit: filter.limit + 1 };
      const where: string[] = [];
      if (filter.state) {
        params.state = filter.state;
        where.push('c.state = @state');
      }
      if (filter.assignee === 'none') where.push('c.assignee_id IS NULL');
      else if (filter.assignee !== undefined) {
        params.assignee = filter.assignee === 'me' ? filter.userId : filter.assignee;
        where.push('c.assignee_id = @assignee');
      }
      if (filter.from) {
        params.from = filter.from;
        where.push('c.activity_at >= @from');
      }
      if (filter.to) {
        params.to = filter.to;
        where.push('c.activity_at < @to');
      }
      const search = filter.q ? searchClause(filter.q, params, sql.dialect) : null;
      if (search) where.push(search);
      if (filter.cursor) {
        params.ck = filter.cursor.k;
        params.cid = filter.cursor.id;
        where.push(
          filter.cursor.b === 0
            ? `((${BUCKET} = 0 AND (${SORT_KEY} > @ck OR (${SORT_KEY} = @ck AND c.id > @cid))) OR ${BUCKET} = 1)`
            : `(${BUCKET} = 1 AND (${SORT_KEY} < @ck OR (${SORT_KEY} = @ck AND c.id < @cid)))`,
        );
      }
      const flat = await sql.all(`WITH page AS (
             SELECT c.id, ${BUCKET} AS bucket, ${SORT_KEY} AS sort_key FROM conversations c
             ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
             ORDER BY bucket, CASE WHEN ${BUCKET} = 0 THEN ${SORT_KEY} END, CASE WHEN ${BUCKET} = 0 THEN c.id END, sort_key DESC, c.id DESC
             LIMIT @limit)
           SELECT p.bucket, p.sort_key, c.id, c.phone, c.state, c.handoff_reason, c.waiting_since, c.assignee_id, u.name AS assignee_name,
             c.customer_name, c.customer_code, c.activity_at, c.created_at,
             li.text AS last_in_text, li.received_at AS last_in_at, li.media ->> 'kind' AS last_in_media,
             lo.text AS last_out_text, lo.created_at AS last_out_at, lo.source AS last_out_source, lo.sent_by AS last_out_sent_by,
             (SELECT COUNT(*) FROM inbox i WHERE i.conversation_id = c.id AND i.kind = 'text'
                AND i.id > COALESCE((SELECT r.last_inbox_id FROM conversation_reads r WHERE r.conversation_id = c.id AND r.user_id = @me), 0)) AS unread,
             (SELECT COUNT(*) FROM approvals a WHERE a.conversation_id = c.id AND a.status = 'pending') AS pending_approvals
           FROM page p JOIN conversations c ON c.id = p.id LEFT JOIN users u ON u.id = c.assignee_id
             LEFT JOIN inbox li ON li.id = (SELECT MAX(i.id) FROM inbox i WHERE i.conversation_id = c.id AND i.kind = 'text')
             LEFT JOIN outbox lo ON lo.id = (SELECT MAX(o.id) FROM outbox o WHERE o.conversation_id = c.id)
           ORDER BY p.bucket, CASE WHEN p.bucket = 0 THEN p.sort_key END, CASE WHEN p.bucket = 0 THEN p.id END, p.sort_key DESC, p.id DESC`, params) as FlatInboxRow[];
      // The last messages are built here, not with JSON functions in SQL (they differ between the dialects).
      const rows: InboxRow[] = flat.map(({ last_in_text, last_in_at, last_in_media, last_out_text, last_out_at, last_out_source, last_out_sent_by, ...row }) => ({
        ...row,
        last_in: last_in_at === null ? null : JSON.stringify({ text: last_in_text, at: last_in_at, media: last_in_media }),
        last_out: last_out_at === null ? null : JSON.stringify({ text: last_out_text, at: last_out_at, source: last_out_source, sent_by: last_out_sent_by }),
      }));
      const more = rows.length > filter.limit;
      const page = more ? rows.slice(0, filter.limit) : rows;
      const last = page.at(-1);
      return { rows: page, next: more && last ? { b: last.bucket, k: last.sort_key, id: last.id } : null };
    },
    /** Conversations waiting for a person (the alert's count). */
    async waitingCount(): Promise<number> {
      return (await sql.one("SELECT COUNT(*) AS n FROM conversations WHERE state = 'waiting_for_staff'") as { n: number }).n;
    },
    /** The order a conversation is about: the newest one named in a refund, an approval or a tool call. */
    async lastOrderNumber(conversationId: string): Promise<string | null> {
      const row = await sql.one(`SELECT o FROM (
             SELECT order_number AS o, created_at AS at FROM refunds WHERE conversation_id = @id
             UNION ALL SELECT order_number, requested_at FROM approvals WHERE conversation_id = @id
             UNION ALL SELECT CAST(input ->> 'order_id' AS TEXT), created_at FROM tool_calls WHERE conversation_id = @id AND input ->> 'order_id' IS NOT NULL
           ) AS x ORDER BY at DESC LIMIT 1`, { id: conversationId }) as { o: string } | undefined;
      return row?.o ?? null;
    },
    /** The customer panel, from our own database: payments seen, refunds, receipts and the customer's other conversations. */
    async customerPanel(conversationId: string) {
      const c = await sql.one('SELECT id, phone, customer_code FROM conversations WHERE id = ?', conversationId) as { id: string; phone: string | null; customer_code: number | null } | undefined;
      if (!c) return undefined;
      const params = { id: c.id, code: c.customer_code, phone: c.phone };
      // The customer's conversations: this one, and any other chat bound to the same ERP customer or number.
      const mine = `(SELECT id FROM conversations WHERE id = @id OR (CAST(@code AS BIGINT) IS NOT NULL AND customer_code = @code) OR (CAST(@phone AS TEXT) IS NOT NULL AND phone = @phone))`;
      const payments = await sql.all(`SELECT id, rail, order_number, amount_cents, external_refunded_cents, paid_at, verified_at FROM payments
           WHERE (CAST(@code AS BIGINT) IS NOT NULL AND customer_code = @code) OR id IN (SELECT payment_id FROM refunds WHERE conversation_id IN ${mine})
           ORDER BY paid_at DESC LIMIT 50`, params) as Array<{ id: string; rail: string; order_number: string; amount_cents: number; external_refunded_cents: number; paid_at: string; verified_at: string }>;
      const refunds = await sql.all(`SELECT id, order_number, amount_cents, status, reason, authorized_by, case_id, created_at, settled_at, conversation_id FROM refunds
           WHERE conversation_id IN ${mine} OR payment_id IN (SELECT id FROM payments WHERE CAST(@code AS BIGINT) IS NOT NULL AND customer_code = @code)
           ORDER BY created_at DESC LIMIT 50`, params) as Array<Record<string, unknown>>;
      const receipts = await sql.all(`SELECT id, order_number, status, created_at, conversation_id FROM cases WHERE conversation_id IN ${mine} ORDER BY created_at DESC LIMIT 50`, params) as Array<Record<string, unknown>>;
      const conversations = await sql.all(`SELECT id, state, activity_at, created_at FROM conversations WHERE id IN ${mine} AND id != @id ORDER BY activity_at DESC LIMIT 20`, params) as Array<Record<string, unknown>>;
      // This chat's earlier cycles: each close is the end of one.
      const cycles = await sql.all("SELECT at, from_state FROM conversation_state_events WHERE conversation_id = @id AND to_state = 'closed' ORDER BY id DESC LIMIT 20", params) as Array<{ at: string; from_state: string }>;
      const orders = [...new Set([...payments.map((p) => p.order_number), ...refunds.map((r) => String(r.order_number)), ...receipts.map((r) => String(r.order_number))])];
      return { customer_code: c.customer_code, orders, payments, refunds, receipts, conversations, closed_cycles: cycles };
    },
    /** What staff need to decide an approval: the payment, what was refunded of it, the customer's refund history and the talk that led to it. */
    async approvalContext(approvalId: string) {
      const a = await sql.one('SELECT * FROM approvals WHERE id = ?', approvalId) as ApprovalRow | undefined;
      if (!a) return undefined;
      const payment = await sql.one('SELECT * FROM payments WHERE order_number = ? ORDER BY verified_at DESC LIMIT 1', a.order_number) as
        | { id: string; rail: string; order_number: string; customer_code: number; amount_cents: number; external_refunded_cents: number; paid_at: string }
        | undefined;
      const history = await sql.all(`SELECT r.id, r.order_number, r.amount_cents, r.status, r.reason, r.authorized_by, r.created_at FROM refunds r
           WHERE r.conversation_id = @conversation OR r.payment_id IN (SELECT id FROM payments WHERE customer_code = @code)
           ORDER BY r.created_at DESC LIMIT 20`, { conversation: a.conversation_id, code: payment?.customer_code ?? null }) as Array<{ id: string; order_number: string; amount_cents: number; status: string; reason: string; authorized_by: string; created_at: string }>;
      const held = payment ? await refundsRepo(sql).heldCents(payment.id) : 0;
      // The last messages before the request, both ways, oldest first.
      const excerpt = (
        await sql.all(`SELECT * FROM (
               SELECT 'customer' AS who, text, received_at AS at, NULL AS sent_by FROM inbox WHERE conversation_id = @c AND kind = 'text' AND received_at <= @until
               UNION ALL SELECT source, text, created_at, sent_by FROM outbox WHERE conversation_id = @c AND created_at <= @until
             ) AS x ORDER BY at DESC LIMIT 8`, { c: a.conversation_id, until: a.requested_at }) as Array<{ who: string; text: string | null; at: string; sent_by: string | null }>
      ).reverse();
      const customer = await sql.one('SELECT customer_name, phone FROM conversations WHERE id = ?', a.conversation_id) as { customer_name: string | null; phone: string | null } | undefined;
      return { approval: a, payment: payment ? { ...payment, refunded_cents: held + payment.external_refunded_cents } : null, refund_history: history, excerpt, customer };
    },
    /** Handoffs that started since `sinceIso`, with when each wait ended (null: still waiting). */
    async waits(sinceIso: string) {
      return await sql.all(`SELECT e.reason, e.at, (SELECT MIN(x.at) FROM conversation_state_events x WHERE x.conversation_id = e.conversation_id AND x.id > e.id) AS ended_at
           FROM conversation_state_events e WHERE e.to_state = 'waiting_for_staff' AND e.at >= ? ORDER BY e.id`, sinceIso) as Array<{ reason: string | null; at: string; ended_at: string | null }>;
    },
    /** Refunds since `sinceIso` grouped by the stated reason (trimmed, lowercase), largest first. */
    async refundsByReason(sinceIso: string) {
      return await sql.all(`SELECT lower(trim(reason)) AS reason, COUNT(*) AS refunds, SUM(amount_cents) AS amount_cents FROM refunds
           WHERE created_at >= ? AND status IN (${HOLDING_SQL_LIST}) GROUP BY lower(trim(reason)) ORDER BY refunds DESC, amount_cents DESC`, sinceIso) as Array<{ reason: string; refunds: number; amount_cents: number }>;
    },
    /** A conversation's approvals, oldest first (the transcript shows who decided what, and why). */
    async approvalsForConversation(conversationId: string) {
      return await sql.all('SELECT * FROM approvals WHERE conversation_id = ? ORDER BY requested_at', conversationId) as ApprovalRow[];
    },
    /** Refunds per day (UTC date) for the last `days` days. */
    async refundsPerDay(days: number, now: Date) {
      const since = new Date(now.getTime() - days * 86_400_000).toISOString();
      return await sql.all(`SELECT substr(CAST(created_at AS TEXT), 1, 10) AS day, COUNT(*) AS refunds, SUM(CASE WHEN status = 'settled' THEN amount_cents ELSE 0 END) AS settled_cents
           FROM refunds WHERE created_at >= ? GROUP BY day ORDER BY day`, since) as Array<{ day: string; refunds: number; settled_cents: number }>;
    },
    /**
     * Seconds from the complaint to the refund settling, for the latest settled
     * refunds. A refund's complaint starts with the customer's first message
     * after the conversation's previous refund was made (or the first message
     * of all): a second complaint in the same chat is not timed from the first.
     */
    async complaintToRefundSeconds(limit = 1000) {
      // The first message after the previous refund: none made since it. The subtraction is done here (no julianday on PostgreSQL).
      const rows = await sql.all<{ settled_at: string; started_at: string | null }>(`SELECT r.settled_at, (
                SELECT MIN(i.received_at) FROM inbox i
                WHERE i.conversation_id = r.conversation_id AND i.kind = 'text'
                  AND NOT EXISTS (SELECT 1 FROM refunds p WHERE p.conversation_id = r.conversation_id
                                    AND p.created_at < r.created_at AND p.created_at >= i.received_at)
              ) AS started_at
             FROM refunds r WHERE r.status = 'settled' AND r.settled_at IS NOT NULL ORDER BY r.settled_at DESC LIMIT ?`, limit);
      return rows
        .map((r) => (r.started_at === null ? null : (Date.parse(r.settled_at) - Date.parse(r.started_at)) / 1000))
        .filter((s): s is number => s !== null && s >= 0);
    },
  };
}
