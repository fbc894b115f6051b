import type { Db } from './db.ts';

/** The guard's decisions and the approval requests it opens. */

export interface GuardDecisionRow {
  id: number;
  tool_use_id: string | null;
  conversation_id: string | null;
  actor: string;
  order_number: string | null;
  amount_cents: number | null;
  decision: 'allowed' | 'refused' | 'approval_required';
  reason: string | null;
  detail: string;
  mandate_id: string | null;
  mandate_version: number | null;
  refund_id: string | null;
  approval_id: string | null;
  created_at: string;
}

export interface ApprovalRow {
  id: string;
  conversation_id: string;
  order_number: string;
  amount_cents: number;
  reason: string;
  proposal_hash: string;
  guard_reason: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired' | 'failed';
  requested_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  refund_id: string | null;
}

export function guardLogRepo(db: Db) {
  return {
    record(row: Omit<GuardDecisionRow, 'id'>): number {
      const info = db
        .prepare(
          `INSERT INTO guard_decisions (tool_use_id, conversation_id, actor, order_number, amount_cents, decision, reason, detail,
             mandate_id, mandate_version, refund_id, approval_id, created_at)
           VALUES (@tool_use_id, @conversation_id, @actor, @order_number, @amount_cents, @decision, @reason, @detail,
             @mandate_id, @mandate_version, @refund_id, @approval_id, @created_at)`,
        )
        .run(row);
      return Number(info.lastInsertRowid);
    },
    /** The refund a tool call already reserved, if any (a turn resumed after a crash must not propose it again). */
    allowedForToolUse(conversationId: string, toolUseId: string): GuardDecisionRow | undefined {
      return db
        .prepare("SELECT * FROM guard_decisions WHERE conversation_id = ? AND tool_use_id = ? AND decision = 'allowed'")
        .get(conversationId, toolUseId) as GuardDecisionRow | undefined;
    },
    forConversation(conversationId: string): GuardDecisionRow[] {
      return db.prepare('SELECT * FROM guard_decisions WHERE conversation_id = ? ORDER BY id').all(conversationId) as GuardDecisionRow[];
    },
    all(): GuardDecisionRow[] {
      return db.prepare('SELECT * FROM guard_decisions ORDER BY id').all() as GuardDecisionRow[];
    },
    openApproval(row: ApprovalRow): void {
      db.prepare(
        `INSERT INTO approvals (id, conversation_id, order_number, amount_cents, reason, proposal_hash, guard_reason, status, requested_at, expires_at)
         VALUES (@id, @conversation_id, @order_number, @amount_cents, @reason, @proposal_hash, @guard_reason, @status, @requested_at, @expires_at)`,
      ).run(row);
    },
    /** A pending approval for exactly this proposal, so a repeated proposal does not open a second one. */
    pendingApprovalFor(proposalHash: string, now: string): ApprovalRow | undefined {
      return db
        .prepare("SELECT * FROM approvals WHERE proposal_hash = ? AND status = 'pending' AND expires_at > ?")
        .get(proposalHash, now) as ApprovalRow | undefined;
    },
    approval(id: string): ApprovalRow | undefined {
      return db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow | undefined;
    },
    approvals(status?: ApprovalRow['status']): ApprovalRow[] {
      return (
        status
          ? db.prepare('SELECT * FROM approvals WHERE status = ? ORDER BY requested_at').all(status)
          : db.prepare('SELECT * FROM approvals ORDER BY requested_at DESC').all()
      ) as ApprovalRow[];
    },
    decideApproval(id: string, from: 'pending', to: ApprovalRow['status'], by: string, reason: string, now: string): boolean {
      return (
        db
          .prepare('UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? WHERE id = ? AND status = ?')
          .run(to, by, now, reason, id, from).changes === 1
      );
    },
    /** pending → approved with the refund it reserved (compare-and-set, in the guard's transaction). */
    claimApproval(id: string, by: string, reason: string, refundId: string, now: string): boolean {
      return (
        db
          .prepare("UPDATE approvals SET status = 'approved', decided_by = ?, decided_at = ?, decision_reason = ?, refund_id = ? WHERE id = ? AND status = 'pending'")
          .run(by, now, reason, refundId, id).changes === 1
      );
    },
    /** Approvals marked approved by an older version without their refund (claimed, then a crash): back to pending. */
    releaseOrphanApprovals(): number {
      return db
        .prepare("UPDATE approvals SET status = 'pending', decided_by = NULL, decided_at = NULL, decision_reason = NULL WHERE status = 'approved' AND refund_id IS NULL AND NOT EXISTS (SELECT 1 FROM refunds WHERE refunds.approval_id = approvals.id)")
        .run().changes;
    },
    setApprovalOutcome(id: string, status: 'approved' | 'failed', refundId: string | null): void {
      db.prepare('UPDATE approvals SET status = ?, refund_id = COALESCE(?, refund_id) WHERE id = ?').run(status, refundId, id);
    },
    /** Pending approvals past their expiry, moved to expired (compare-and-set); returns the ones this call moved. */
    expireDue(now: string): ApprovalRow[] {
      const due = db.prepare("SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ?").all(now) as ApprovalRow[];
      const move = db.prepare("UPDATE approvals SET status = 'expired' WHERE id = ? AND status = 'pending'");
      return due.filter((a) => move.run(a.id).changes === 1);
    },
    expireApprovals(now: string): number {
      return db.prepare("UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?").run(now).changes;
    },
  };
}
