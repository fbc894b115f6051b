import type { Sql } from './sql.ts';

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
    async nextDueAt(): Promise<string | null> {
      const row = await sql.one("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'") as { at: string | null };
      return row.at;
    },
    async markSent(id: number, providerMessageId: string, now: string): Promise<void> {
      await sql.run("UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_message_id = ?, sent_at = ?, last_error = NULL WHERE id = ?", providerMessageId, now, id);
    },
    async markFailed(id: number, error: string, nextAttemptAt: string | null): Promise<void> {
      await sql.run('UPDATE outbox SET attempts = attempts + 1, last_error = ?, status = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?', error, nextAttemptAt === null ? 'dead' : 'pending', nextAttemptAt, id);
    },
    async get(id: number): Promise<OutboxRow | undefined> {
      return await sql.one('SELECT * FROM outbox WHERE id = ?', id) as OutboxRow | undefined;
    },
    async forConversation(conversationId: string): Promise<OutboxRow[]> {
      return await sql.all('SELECT * FROM outbox WHERE conversation_id = ? ORDER BY id', conversationId) as OutboxRow[];
    },
  };
}
