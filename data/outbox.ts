import type { Sql } from './sql.ts';
import { checked, OUTBOX, type OutboxStatus } from './states.ts';

export interface OutboxRow {
  id: number;
  conversation_id: string;
  chat_id: string;
  text: string;
  source: 'agent' | 'template' | 'staff' | 'system';
  template: string | null;
  case_id: string | null;
  dedupe_key: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: string;
  sent_at: string | null;
}

export function outboxRepo(sql: Sql) {
  return {
    /** Queues a message; with a dedupe key, a second enqueue of the same key is a no-op (returns null). */
    async enqueue(row: { conversation_id: string; chat_id: string; text: string; source: OutboxRow['source']; template?: string | null; case_id?: string | null; dedupe_key?: string | null; now: string }): Promise<number | null> {
      const info = await sql.one<{ id: number }>(`INSERT INTO outbox (conversation_id, chat_id, text, source, template, case_id, dedupe_key, status, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`, row.conversation_id, row.chat_id, row.text, row.source, row.template ?? null, row.case_id ?? null, row.dedupe_key ?? null, row.now, row.now);
      return info ? Number(info.id) : null;
    },
    async due(now: string, limit = 50): Promise<OutboxRow[]> {
      return await sql.all("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?", now, limit) as OutboxRow[];
    },
    /**
     * Claims due messages for this process (a lease: another process takes them
     * only once it ran out), skipping any conversation with a message another
     * process is sending now, so a chat's messages keep their order. PostgreSQL:
     * `FOR UPDATE SKIP LOCKED`, so replicas claiming at once never wait on each other.
     */
    async claimDue(now: string, lease: { owner: string; until: string }, limit = 50): Promise<OutboxRow[]> {
      const rows = await sql.all<OutboxRow>(
        `UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id IN (
           SELECT o.id FROM outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until <= ?)
             AND NOT EXISTS (SELECT 1 FROM outbox b WHERE b.conversation_id = o.conversation_id AND b.status = 'pending' AND b.lease_until > ? AND b.lease_owner <> ?)${
               // PostgreSQL: a claim running at the same moment on another replica holds the chat's
               // lock, so its messages are never split between two senders (the NOT EXISTS above
               // only sees claims already committed).
               sql.dialect === 'postgres' ? " AND pg_try_advisory_xact_lock(hashtextextended('outbox-chat:' || o.conversation_id, 0))" : ''}
           ORDER BY o.id LIMIT ?${sql.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''})
         RETURNING *`,
        lease.owner, lease.until, now, now, now, lease.owner, limit,
      );
      return rows.map((r) => checked(OUTBOX, r)).sort((a, b) => a.id - b.id);
    },
    /** Keeps a claimed message this process's before sending it; false when another process took it meanwhile. */
    async holdLease(id: number, owner: string, until: string): Promise<boolean> {
      return (await sql.run("UPDATE outbox SET lease_until = ? WHERE id = ? AND status = 'pending' AND lease_owner = ?", until, id, owner)) === 1;
    },
    /** pending → sent. False when the row was no longer ours to send (already sent by another process). */
    async markSent(id: number, providerMessageId: string, now: string): Promise<boolean> {
      return (await sql.run("UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_message_id = ?, sent_at = ?, last_error = NULL, lease_until = NULL, lease_owner = NULL WHERE id = ? AND status = 'pending'", providerMessageId, now, id)) === 1;
    },
    /** pending → pending (retry later) or dead (no retry left). */
    async markFailed(id: number, error: string, nextAttemptAt: string | null): Promise<boolean> {
      return (await sql.run("UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ?, next_attempt_at = COALESCE(?, next_attempt_at), lease_until = NULL, lease_owner = NULL WHERE id = ? AND status = 'pending'", error, nextAttemptAt === null ? 'dead' : 'pending', nextAttemptAt, id)) === 1;
    },
    async get(id: number): Promise<OutboxRow | undefined> {
      return await sql.one('SELECT * FROM outbox WHERE id = ?', id) as OutboxRow | undefined;
    },
    async forConversation(conversationId: string): Promise<OutboxRow[]> {
      return await sql.all('SELECT * FROM outbox WHERE conversation_id = ? ORDER BY id', conversationId) as OutboxRow[];
    },
  };
}
