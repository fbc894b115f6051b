import type { Sql } from './sql.ts';

/** What the guard decided, one row per decision (the approvals it opens: data/approvals.ts). */

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

export function guardDecisionsRepo(sql: Sql) {
  return {
    async record(row: Omit<GuardDecisionRow, 'id'>): Promise<number> {
      const info = await sql.one<{ id: number }>(`INSERT INTO guard_decisions (tool_use_id, conversation_id, actor, order_number, amount_cents, decision, reason, detail,
             mandate_id, mandate_version, refund_id, approval_id, created_at)
           VALUES (@tool_use_id, @conversation_id, @actor, @order_number, @amount_cents, @decision, @reason, @detail,
             @mandate_id, @mandate_version, @refund_id, @approval_id, @created_at) RETURNING id`, row);
      return Number(info!.id);
    },
    /** The refund a tool call already reserved, if any (a turn resumed after a crash must not propose it again). */
    async allowedForToolUse(conversationId: string, toolUseId: string): Promise<GuardDecisionRow | undefined> {
      return await sql.one("SELECT * FROM guard_decisions WHERE conversation_id = ? AND tool_use_id = ? AND decision = 'allowed'", conversationId, toolUseId) as GuardDecisionRow | undefined;
    },
    async forConversation(conversationId: string): Promise<GuardDecisionRow[]> {
      return await sql.all('SELECT * FROM guard_decisions WHERE conversation_id = ? ORDER BY id', conversationId) as GuardDecisionRow[];
    },
    async all(): Promise<GuardDecisionRow[]> {
      return await sql.all('SELECT * FROM guard_decisions ORDER BY id') as GuardDecisionRow[];
    },
  };
}
