import type { Db } from './db.ts';
import type { ApprovalRow } from './guard-log.ts';

/** Read models for the console: lists, a transcript's rows, and the numbers behind the charts. */
export function consoleQueries(db: Db) {
  return {
    conversations(limit = 200) {
      return db
        .prepare(
          `SELECT c.id, c.chat_id, c.phone, c.mode, c.customer_code, c.created_at, c.updated_at,
             (SELECT MAX(received_at) FROM inbox i WHERE i.conversation_id = c.id) AS last_in,
             (SELECT COUNT(*) FROM refunds r WHERE r.conversation_id = c.id AND r.status IN ('reserved','pending','unknown')) AS open_refunds,
             (SELECT COUNT(*) FROM approvals a WHERE a.conversation_id = c.id AND a.status = 'pending') AS pending_approvals
           FROM conversations c ORDER BY COALESCE(last_in, c.updated_at) DESC LIMIT ?`,
        )
        .all(limit) as Array<Record<string, unknown>>;
    },
    /** A conversation's approvals, oldest first (the transcript shows who decided what, and why). */
    approvalsForConversation(conversationId: string) {
      return db.prepare('SELECT * FROM approvals WHERE conversation_id = ? ORDER BY requested_at').all(conversationId) as ApprovalRow[];
    },
    /** Refunds per day (UTC date) for the last `days` days. */
    refundsPerDay(days: number, now: Date) {
      const since = new Date(now.getTime() - days * 86_400_000).toISOString();
      return db
        .prepare(
          `SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS refunds, SUM(CASE WHEN status = 'settled' THEN amount_cents ELSE 0 END) AS settled_cents
           FROM refunds WHERE created_at >= ? GROUP BY day ORDER BY day`,
        )
        .all(since) as Array<{ day: string; refunds: number; settled_cents: number }>;
    },
    /**
     * Seconds from the complaint to the refund settling, for the latest settled
     * refunds. A refund's complaint starts with the customer's first message
     * after the conversation's previous refund was made (or the first message
     * of all): a second complaint in the same chat is not timed from the first.
     */
    complaintToRefundSeconds(limit = 1000) {
      return (
        db
          .prepare(
            `SELECT (julianday(r.settled_at) - julianday((
                SELECT MIN(i.received_at) FROM inbox i
                WHERE i.conversation_id = r.conversation_id AND i.kind = 'text'
                  AND i.received_at > COALESCE((SELECT MAX(p.created_at) FROM refunds p WHERE p.conversation_id = r.conversation_id AND p.created_at < r.created_at), '')
              ))) * 86400.0 AS seconds
             FROM refunds r WHERE r.status = 'settled' AND r.settled_at IS NOT NULL ORDER BY r.settled_at DESC LIMIT ?`,
          )
          .all(limit) as Array<{ seconds: number | null }>
      )
        .map((r) => r.seconds)
        .filter((s): s is number => s !== null && s >= 0);
    },
  };
}
