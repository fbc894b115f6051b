import type { Db } from './db.ts';

export interface InboxRow {
  id: number;
  message_id: string;
  conversation_id: string | null;
  kind: 'text' | 'ignored';
  ignore_reason: string | null;
  text: string | null;
  payload: string;
  received_at: string;
  processed_at: string | null;
  turn_id: string | null;
  /** JSON of a media message's descriptor (webhooks/media.ts), null for plain text. */
  media?: string | null;
}

export type NewInbox = Omit<InboxRow, 'id' | 'processed_at' | 'turn_id' | 'media'> & { media?: string | null };

export function inboxRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO inbox (message_id, conversation_id, kind, ignore_reason, text, payload, received_at, media)
     VALUES (@message_id, @conversation_id, @kind, @ignore_reason, @text, @payload, @received_at, @media)
     ON CONFLICT (message_id) DO NOTHING`,
  );
  const pending = db.prepare(
    "SELECT * FROM inbox WHERE conversation_id = ? AND kind = 'text' AND processed_at IS NULL ORDER BY id",
  );
  return {
    /** Stores an event once; false when its messageId was already stored (a redelivery). */
    insert(row: NewInbox): boolean {
      return insert.run({ media: null, ...row }).changes === 1;
    },
    pending(conversationId: string): InboxRow[] {
      return pending.all(conversationId) as InboxRow[];
    },
    /** Conversations with text waiting for a turn (picked up again after a restart). */
    conversationsWithPending(): string[] {
      return (
        db
          .prepare("SELECT DISTINCT conversation_id AS id FROM inbox WHERE kind = 'text' AND processed_at IS NULL AND conversation_id IS NOT NULL")
          .all() as Array<{ id: string }>
      ).map((r) => r.id);
    },
    markProcessed(ids: number[], turnId: string, now: string): void {
      const stmt = db.prepare('UPDATE inbox SET processed_at = ?, turn_id = ? WHERE id = ? AND processed_at IS NULL');
      for (const id of ids) stmt.run(now, turnId, id);
    },
    byMessageId(messageId: string): InboxRow | undefined {
      return db.prepare('SELECT * FROM inbox WHERE message_id = ?').get(messageId) as InboxRow | undefined;
    },
    forConversation(conversationId: string): InboxRow[] {
      return db.prepare('SELECT * FROM inbox WHERE conversation_id = ? ORDER BY id').all(conversationId) as InboxRow[];
    },
  };
}
