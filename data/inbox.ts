import type { Sql } from './sql.ts';

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

export function inboxRepo(sql: Sql) {
  const insert = `INSERT INTO inbox (message_id, conversation_id, kind, ignore_reason, text, payload, received_at, media)
     VALUES (@message_id, @conversation_id, @kind, @ignore_reason, @text, @payload, @received_at, @media)
     ON CONFLICT (message_id) DO NOTHING`;
  const pending = "SELECT * FROM inbox WHERE conversation_id = ? AND kind = 'text' AND processed_at IS NULL ORDER BY id";
  return {
    /** Stores an event once; false when its messageId was already stored (a redelivery). */
    async insert(row: NewInbox): Promise<boolean> {
      return (await sql.run(insert, { media: null, ...row })) === 1;
    },
    async pending(conversationId: string): Promise<InboxRow[]> {
      return await sql.all(pending, conversationId) as InboxRow[];
    },
    /** Conversations with text waiting for a turn (picked up again after a restart). */
    async conversationsWithPending(): Promise<string[]> {
      return (
        await sql.all("SELECT DISTINCT conversation_id AS id FROM inbox WHERE kind = 'text' AND processed_at IS NULL AND conversation_id IS NOT NULL") as Array<{ id: string }>
      ).map((r) => r.id);
    },
    async markProcessed(ids: number[], turnId: string, now: string): Promise<void> {
      if (ids.length === 0) return;
      // One statement per turn, not one per message (a turn's hot path).
      await sql.run(`UPDATE inbox SET processed_at = ?, turn_id = ? WHERE id IN (${ids.map(() => '?').join(', ')}) AND processed_at IS NULL`, now, turnId, ...ids);
    },
    async byMessageId(messageId: string): Promise<InboxRow | undefined> {
      return await sql.one('SELECT * FROM inbox WHERE message_id = ?', messageId) as InboxRow | undefined;
    },
    async forConversation(conversationId: string): Promise<InboxRow[]> {
      return await sql.all('SELECT * FROM inbox WHERE conversation_id = ? ORDER BY id', conversationId) as InboxRow[];
    },
  };
}
