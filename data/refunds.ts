import type { Sql } from './sql.ts';
import { assertMove, checked, HOLDING_REFUND_STATUSES, REFUND, sqlList, stateOf, type RefundStatus } from './states.ts';

export type { RefundStatus } from './states.ts';

/** The refunds reserved against verified payments (data/payments.ts), and their moves. */

/**
 * Statuses that hold money against the payment and the mandate (all but failed): the one
 * definition of an "open" refund (data/states.ts). Code asks `isHolding`; SQL uses `HOLDING_SQL_LIST`.
 */
export const HOLDING_STATUSES: readonly RefundStatus[] = HOLDING_REFUND_STATUSES;
export const isHolding = (status: RefundStatus): boolean => HOLDING_STATUSES.includes(status);
/** `'reserved', 'submitting', …` for `status IN (…)`, derived from HOLDING_STATUSES. */
export const HOLDING_SQL_LIST = sqlList(HOLDING_STATUSES).slice(1, -1);

export interface RefundRow {
  id: string;
  idempotency_key: string;
  payment_id: string;
  order_number: string;
  conversation_id: string | null;
  case_id: string | null;
  amount_cents: number;
  reason: string;
  status: RefundStatus;
  mandate_id: string;
  mandate_version: number;
  authorized_by: string;
  approval_id: string | null;
  rail: string;
  rail_refund_id: string | null;
  end_to_end_id: string | null;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
  settled_at: string | null;
  /** Committed just before the rail call: a reserved refund without it never reached the rail. */
  submitted_at: string | null;
  /** When an unknown outcome outlived reconciliation and was put in front of staff. */
  review_requested_at: string | null;
  /** While `submitting`: until when the process named by `lease_owner` owns the rail call. */
  lease_until?: string | null;
  lease_owner?: string | null;
}

export function refundsRepo(sql: Sql) {
  const refundRow = (row: RefundRow | undefined) => checked(REFUND, row);
  const refundRows = (rows: RefundRow[]) => rows.map((r) => checked(REFUND, r));
  return {
    /** Cents reserved or settled by Estorno against a payment. */
    async heldCents(paymentId: string): Promise<number> {
      const row = await sql.one(`SELECT COALESCE(SUM(amount_cents), 0) AS total FROM refunds WHERE payment_id = ? AND status IN (${HOLDING_SQL_LIST})`, paymentId) as { total: number };
      return row.total;
    },
    /**
     * Cents held since `sinceIso` under every mandate (any id, any version) issued
     * to the same agent as `mandateId`: revoking a mandate and issuing a new one
     * does not start the caps over.
     */
    async mandateWindowCents(mandateId: string, sinceIso: string): Promise<number> {
      const row = await sql.one(`SELECT COALESCE(SUM(amount_cents), 0) AS total FROM refunds
           WHERE mandate_id IN (SELECT id FROM mandates WHERE agent_id = (SELECT agent_id FROM mandates WHERE id = ? LIMIT 1))
             AND created_at >= ? AND status IN (${HOLDING_SQL_LIST})`, mandateId, sinceIso) as { total: number };
      return row.total;
    },
    /**
     * Cents the agent's mandates (not a staff approval) hold for one order, or
     * one customer (all their chats), since `sinceIso`: the per-refund cap bounds
     * these totals, so splitting a refund never gets more without approval.
     */
    async mandateCentsFor(mandateId: string, scope: { orderNumber: string } | { customerCode: number }, sinceIso: string): Promise<number> {
      const [where, value] = 'orderNumber' in scope
        ? ['r.order_number = ?', scope.orderNumber]
        : ['r.payment_id IN (SELECT id FROM payments WHERE customer_code = ?)', scope.customerCode];
      const row = await sql.one(`SELECT COALESCE(SUM(r.amount_cents), 0) AS total FROM refunds r
           WHERE r.mandate_id IN (SELECT id FROM mandates WHERE agent_id = (SELECT agent_id FROM mandates WHERE id = ? LIMIT 1))
             AND ${where} AND r.approval_id IS NULL AND r.created_at >= ? AND r.status IN (${HOLDING_SQL_LIST})`, mandateId, value, sinceIso) as { total: number };
      return row.total;
    },
    async insert(row: Omit<RefundRow, 'rail_refund_id' | 'end_to_end_id' | 'failure_reason' | 'settled_at' | 'submitted_at' | 'review_requested_at'>): Promise<void> {
      await sql.run(`INSERT INTO refunds (id, idempotency_key, payment_id, order_number, conversation_id, case_id, amount_cents, reason, status,
           mandate_id, mandate_version, authorized_by, approval_id, rail, created_at, updated_at)
         VALUES (@id, @idempotency_key, @payment_id, @order_number, @conversation_id, @case_id, @amount_cents, @reason, @status,
           @mandate_id, @mandate_version, @authorized_by, @approval_id, @rail, @created_at, @updated_at)`, row);
      await sql.run('INSERT INTO refund_events (refund_id, from_status, to_status, source, detail, created_at) VALUES (?, NULL, ?, ?, NULL, ?)', row.id, row.status, 'guard', row.created_at);
    },
    async get(id: string): Promise<RefundRow | undefined> {
      return refundRow((await sql.one('SELECT * FROM refunds WHERE id = ?', id)) as RefundRow | undefined);
    },
    async byRailId(railRefundId: string): Promise<RefundRow | undefined> {
      return refundRow((await sql.one('SELECT * FROM refunds WHERE rail_refund_id = ?', railRefundId)) as RefundRow | undefined);
    },
    async byKey(key: string): Promise<RefundRow | undefined> {
      return refundRow((await sql.one('SELECT * FROM refunds WHERE idempotency_key = ?', key)) as RefundRow | undefined);
    },
    async forConversation(conversationId: string): Promise<RefundRow[]> {
      return refundRows((await sql.all('SELECT * FROM refunds WHERE conversation_id = ? ORDER BY created_at', conversationId)) as RefundRow[]);
    },
    async forPayment(paymentId: string): Promise<RefundRow[]> {
      return refundRows((await sql.all('SELECT * FROM refunds WHERE payment_id = ? ORDER BY created_at', paymentId)) as RefundRow[]);
    },
    /**
     * Refunds the rail accepted or settled whose credit note SEFAZ has not decided yet
     * (none asked, or still requested/processing): what a restart must finish.
     */
    async awaitingCreditNote(): Promise<RefundRow[]> {
      return refundRows(await sql.all<RefundRow>(`SELECT r.* FROM refunds r LEFT JOIN credit_notes n ON n.refund_id = r.id
           WHERE r.status IN ('pending', 'settled') AND (n.status IS NULL OR n.status NOT IN ('authorized', 'rejected', 'denied'))
           ORDER BY r.created_at`));
    },
    /** Refunds whose outcome we do not know yet (after a crash or a timeout). */
    async open(statuses: readonly RefundStatus[] = ['reserved', 'unknown']): Promise<RefundRow[]> {
      return refundRows(await sql.all<RefundRow>(`SELECT * FROM refunds WHERE status IN ${sqlList(statuses)} ORDER BY created_at`));
    },
    /** Refunds in `submitting` whose lease ran out: the process calling the rail died (or is very late). */
    async expiredSubmissions(now: string): Promise<RefundRow[]> {
      return refundRows(await sql.all<RefundRow>("SELECT * FROM refunds WHERE status = 'submitting' AND lease_until <= ? ORDER BY created_at", now));
    },
    /**
     * Moves a refund along its machine (data/states.ts), compare-and-set on the
     * status read: true when this very move happened. False when the refund is
     * already in `to` (a replay) or another process moved it first (a lost race;
     * the caller reads the refund again). A move the machine forbids throws
     * IllegalTransition: callers that apply outside events check `canMove` first
     * and say what a stale or contradicting event means.
     */
    async transition(
      id: string,
      to: RefundStatus,
      source: string,
      fields: { rail_refund_id?: string | null; end_to_end_id?: string | null; failure_reason?: string | null; detail?: unknown },
      now: string,
    ): Promise<boolean> {
      const row = await sql.one<{ status: string }>('SELECT status FROM refunds WHERE id = ?', id);
      if (!row) return false;
      const from = stateOf(REFUND, row.status, id);
      if (from === to) return false;
      assertMove(REFUND, from, to, id);
      // Compare-and-set: the event is written only when this very move happened.
      const changed = (await sql.run(`UPDATE refunds SET status = ?, updated_at = ?,
           rail_refund_id = COALESCE(?, rail_refund_id), end_to_end_id = COALESCE(?, end_to_end_id),
           failure_reason = COALESCE(?, failure_reason), settled_at = CASE WHEN ? = 'settled' THEN ? ELSE settled_at END
         , lease_until = NULL, lease_owner = NULL
         WHERE id = ? AND status = ?`, to, now, fields.rail_refund_id ?? null, fields.end_to_end_id ?? null, fields.failure_reason ?? null, to, now, id, from));
      if (changed !== 1) return false;
      await sql.run('INSERT INTO refund_events (refund_id, from_status, to_status, source, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)', id, from, to, source, fields.detail === undefined ? null : JSON.stringify(fields.detail), now);
      return true;
    },
    /**
     * Claims a reserved refund for its one rail call: reserved → submitting,
     * compare-and-set, committed before the call, with a lease naming the
     * process and how long it may take. False when it was already claimed, so
     * nobody sends it twice; recovery touches a submission only once its lease
     * ran out, and then asks the rail first.
     */
    async markSubmitted(id: string, now: string, lease: { owner: string; until: string }): Promise<boolean> {
      const changed = await sql.run(
        "UPDATE refunds SET status = 'submitting', submitted_at = ?, lease_until = ?, lease_owner = ?, updated_at = ? WHERE id = ? AND status = 'reserved'",
        now, lease.until, lease.owner, now, id,
      );
      if (changed === 1) {
        await sql.run("INSERT INTO refund_events (refund_id, from_status, to_status, source, detail, created_at) VALUES (?, 'reserved', 'submitting', 'submit', ?, ?)", id, JSON.stringify({ lease_owner: lease.owner, lease_until: lease.until }), now);
      }
      return changed === 1;
    },
    /**
     * The rail shows as made a refund we recorded as failed: recorded once, and its
     * amount counts as refunded outside our holds from now on. False when already noted.
     */
    async notePaidAfterFailure(id: string, source: string, detail: unknown, now: string): Promise<boolean> {
      const seen = await sql.one("SELECT 1 FROM refund_events WHERE refund_id = ? AND source = 'paid_after_failure'", id);
      if (seen) return false;
      const refund = await sql.one('SELECT payment_id, amount_cents FROM refunds WHERE id = ?', id) as { payment_id: string; amount_cents: number } | undefined;
      if (!refund) return false;
      await sql.run('UPDATE payments SET external_refunded_cents = external_refunded_cents + ? WHERE id = ?', refund.amount_cents, refund.payment_id);
      await sql.run("INSERT INTO refund_events (refund_id, from_status, to_status, source, detail, created_at) VALUES (?, 'failed', 'failed', 'paid_after_failure', ?, ?)", id, JSON.stringify({ via: source, rail: detail }), now);
      return true;
    },
    /** Puts an unknown refund in front of staff (once). */
    async requestReview(id: string, now: string): Promise<boolean> {
      return (await sql.run("UPDATE refunds SET review_requested_at = ? WHERE id = ? AND status = 'unknown' AND review_requested_at IS NULL", now, id)) === 1;
    },
    /** Unknown refunds waiting for a staff decision. */
    async inReview(): Promise<RefundRow[]> {
      return refundRows((await sql.all("SELECT * FROM refunds WHERE status = 'unknown' AND review_requested_at IS NOT NULL ORDER BY review_requested_at")) as RefundRow[]);
    },
    async setRailRefundId(id: string, railRefundId: string, now: string): Promise<void> {
      await sql.run('UPDATE refunds SET rail_refund_id = ?, updated_at = ? WHERE id = ? AND rail_refund_id IS NULL', railRefundId, now, id);
    },
  };
}
