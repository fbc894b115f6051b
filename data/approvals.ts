import type { Sql } from './sql.ts';
import { APPROVAL, assertMove, checked, type ApprovalStatus } from './states.ts';

/** The approval requests the guard opens (data/guard-decisions.ts) and staff decide. */

export interface ApprovalRow {
  id: string;
  conversation_id: string;
  order_number: string;
  amount_cents: number;
  reason: string;
  proposal_hash: string;
  guard_reason: string;
  status: ApprovalStatus;
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  refund_id: string | null;
}

export function approvalsRepo(sql: Sql) {
  return {
    /**
     * Opens the one pending approval of a proposal (unique per proposal hash, by an
     * index): returns the id of the pending one, ours or one opened concurrently.
     * A pending one past its expiry is expired first, so it never blocks a new one.
     */
    async open(row: ApprovalRow): Promise<string> {
      await sql.run("UPDATE approvals SET status = 'expired' WHERE proposal_hash = ? AND status = 'pending' AND expires_at <= ?", row.proposal_hash, row.requested_at);
      const inserted = await sql.one<{ id: string }>(`INSERT INTO approvals (id, conversation_id, order_number, amount_cents, reason, proposal_hash, guard_reason, status, requested_at, expires_at)
         VALUES (@id, @conversation_id, @order_number, @amount_cents, @reason, @proposal_hash, @guard_reason, @status, @requested_at, @expires_at)
         ON CONFLICT (proposal_hash) WHERE status = 'pending' DO NOTHING RETURNING id`, row);
      if (inserted) return inserted.id;
      return (await sql.one<{ id: string }>("SELECT id FROM approvals WHERE proposal_hash = ? AND status = 'pending'", row.proposal_hash))!.id;
    },
    /** A pending approval for exactly this proposal, so a repeated proposal does not open a second one. */
    async pendingFor(proposalHash: string, now: string): Promise<ApprovalRow | undefined> {
      return await sql.one("SELECT * FROM approvals WHERE proposal_hash = ? AND status = 'pending' AND expires_at > ?", proposalHash, now) as ApprovalRow | undefined;
    },
    async get(id: string): Promise<ApprovalRow | undefined> {
      return checked(APPROVAL, await sql.one<ApprovalRow>('SELECT * FROM approvals WHERE id = ?', id));
    },
    async list(status?: ApprovalRow['status']): Promise<ApprovalRow[]> {
      const rows = status
        ? await sql.all<ApprovalRow>('SELECT * FROM approvals WHERE status = ? ORDER BY requested_at', status)
        : await sql.all<ApprovalRow>('SELECT * FROM approvals ORDER BY requested_at DESC');
      return rows.map((r) => checked(APPROVAL, r));
    },
    /** pending → `to`, compare-and-set (the staff decision itself is refunds/approvals.ts `decideApproval`): false when it was no longer pending. */
    async transition(id: string, from: 'pending', to: ApprovalRow['status'], by: string, reason: string, now: string): Promise<boolean> {
      assertMove(APPROVAL, from, to, id);
      return (
        (await sql.run('UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND status = ?', to, by, now, reason, id, from)) === 1
      );
    },
    /** pending → approved with the refund it reserved (compare-and-set, in the guard's transaction). */
    async claim(id: string, by: string, reason: string, refundId: string, now: string): Promise<boolean> {
      return (
        (await sql.run("UPDATE approvals SET status = 'approved', decided_by = ?, decided_at = ?, decision_reason = ?, refund_id = ? WHERE id = ? AND status = 'pending'", by, now, reason, refundId, id)) === 1
      );
    },
    /** Approvals marked approved by an older version without their refund (claimed, then a crash): back to pending. */
    async releaseOrphans(): Promise<number> {
      return (await sql.run("UPDATE approvals SET status = 'pending', decided_by = NULL, decided_at = NULL, decision_reason = NULL WHERE status = 'approved' AND refund_id IS NULL AND NOT EXISTS (SELECT 1 FROM refunds WHERE refunds.approval_id = approvals.id)"));
    },
    /** Pending approvals past their expiry, moved to expired (compare-and-set); returns the ones this call moved. */
    async expireDue(now: string): Promise<ApprovalRow[]> {
      // One compare-and-set for all of them: only the rows this very statement moved come back.
      return (await sql.all<ApprovalRow>("UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= ? RETURNING *", now)).map((a) => checked(APPROVAL, a));
    },
  };
}
