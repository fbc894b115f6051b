import type { Db } from './db.ts';

/** What staff do to a conversation in the console: assign it, read it, name its customer, sign their messages; and the canned replies. */

export interface CannedReplyRow {
  id: number;
  title: string;
  body: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  archived: number;
}

/** Lowercase without accents: how names are stored for search ("João" is found by "joao"). */
export function searchKey(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
}

export function consoleWorkRepo(db: Db) {
  return {
    /** Sets (or clears, with null) who holds a conversation; false when there is no such conversation. */
    assign(conversationId: string, userId: number | null, now: string): boolean {
      return db.prepare('UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ?').run(userId, now, conversationId).changes === 1;
    },
    /** Assigns only when nobody holds it yet (taking a conversation over claims it). */
    assignIfFree(conversationId: string, userId: number, now: string): void {
      db.prepare('UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ? AND assignee_id IS NULL').run(userId, now, conversationId);
    },
    /** Marks everything the customer wrote so far as read by this user. */
    markRead(conversationId: string, userId: number, now: string): void {
      db.prepare(
        `INSERT INTO conversation_reads (conversation_id, user_id, last_inbox_id, read_at)
         VALUES (?, ?, COALESCE((SELECT MAX(id) FROM inbox WHERE conversation_id = ? AND kind = 'text'), 0), ?)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_inbox_id = excluded.last_inbox_id, read_at = excluded.read_at`,
      ).run(conversationId, userId, conversationId, now);
    },
    /** Conversations whose customer's name is unknown and was not looked up since `staleBefore`, among `ids`. */
    namesToLookUp(ids: string[], staleBefore: string): Array<{ id: string; phone: string | null; customer_code: number | null }> {
      if (ids.length === 0) return [];
      return db
        .prepare(
          `SELECT id, phone, customer_code FROM conversations WHERE id IN (SELECT value FROM json_each(?))
           AND customer_name IS NULL AND (customer_name_checked_at IS NULL OR customer_name_checked_at < ?)`,
        )
        .all(JSON.stringify(ids), staleBefore) as Array<{ id: string; phone: string | null; customer_code: number | null }>;
    },
    /** Caches the ERP's name for the customer (and binds the customer code when the conversation had none). */
    setCustomerName(conversationId: string, name: string | null, customerCode: number | null, now: string): void {
      db.prepare(
        `UPDATE conversations SET customer_name = COALESCE(?, customer_name), customer_name_key = COALESCE(?, customer_name_key),
           customer_code = COALESCE(customer_code, ?), customer_name_checked_at = ? WHERE id = ?`,
      ).run(name, name === null ? null : searchKey(name), customerCode, now, conversationId);
    },
    /** Records who sent a staff message (the outbox row exists already). */
    signMessage(outboxId: number, sentBy: string): void {
      db.prepare("UPDATE outbox SET sent_by = ? WHERE id = ? AND source = 'staff'").run(sentBy, outboxId);
    },
    cannedReplies(includeArchived = false): CannedReplyRow[] {
      return db.prepare(`SELECT * FROM canned_replies ${includeArchived ? '' : 'WHERE archived = 0'} ORDER BY title COLLATE NOCASE, id`).all() as CannedReplyRow[];
    },
    cannedReply(id: number): CannedReplyRow | undefined {
      return db.prepare('SELECT * FROM canned_replies WHERE id = ?').get(id) as CannedReplyRow | undefined;
    },
    addCannedReply(title: string, body: string, by: string, now: string): CannedReplyRow {
      const info = db.prepare('INSERT INTO canned_replies (title, body, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(title, body, by, now, now);
      return this.cannedReply(Number(info.lastInsertRowid))!;
    },
    updateCannedReply(id: number, fields: { title?: string; body?: string; archived?: boolean }, now: string): CannedReplyRow | undefined {
      db.prepare('UPDATE canned_replies SET title = COALESCE(?, title), body = COALESCE(?, body), archived = COALESCE(?, archived), updated_at = ? WHERE id = ?').run(
        fields.title ?? null, fields.body ?? null, fields.archived === undefined ? null : Number(fields.archived), now, id,
      );
      return this.cannedReply(id);
    },
  };
}
