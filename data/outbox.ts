import type { Db } from './db.ts';

export interface OutboxRow {
  id: number;
  conversation_id: string;
  chat_id: string;
  text: string;
  source: 'agent' | 'template' | 'staff' | 'system';
  template: string | null;
  case_id: string | null;
  dedupe_key: string | null;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: string;
  sent_at: string | null;
}

export function outboxRepo(db: Db) {
  return {
    /** Queues a message; with a dedupe key, a second enqueue of the same key is a no-op (returns null). */
    enqueue(row: { conversation_id: string; chat_id: string; text: string; source: OutboxRow['source']; template?: string | null; case_id?: string | null; dedupe_key?: string | null; now: string }): number | null {
      const info = db
        .prepare(
          `INSERT INTO outbox (conversation_id, chat_id, text, source, template, case_id, dedupe_key, status, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
        )
        .run(row.conversation_id, row.chat_id, row.text, row.source, row.template ?? null, row.case_id ?? null, row.dedupe_key ?? null, row.now, row.now);
      return info.changes === 1 ? Number(info.lastInsertRowid) : null;
    },
    due(now: string, limit = 50): OutboxRow[] {
      return db
        .prepare("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?")
        .all(now, limit) as OutboxRow[];
    },
    nextDueAt(): string | null {
      const row = db.prepare("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'").get() as { at: string | null };
      return row.at;
    },
    markSent(id: number, providerMessageId: string, now: string): void {
      db.prepare("UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_message_id = ?, sent_at = ?, last_error = NULL WHERE id = ?").run(
        providerMessageId, now, id,
      );
    },
    markFailed(id: number, error: string, nextAttemptAt: string | null): void {
      db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?').run(
        error, nextAttemptAt === null ? 'dead' : 'pending', nextAttemptAt, id,
      );
    },
    get(id: number): OutboxRow | undefined {
      return db.prepare('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
    },
    forConversation(conversationId: string): OutboxRow[] {
      return db.prepare('SELECT * FROM outbox WHERE conversation_id = ? ORDER BY id').all(conversationId) as OutboxRow[];
    },
  };
}
