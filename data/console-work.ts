import type { Sql } from './sql.ts';

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

export function consoleWorkRepo(sql: Sql) {
  return {
    /** Sets (or clears, with null) who holds a conversation; false when there is no such conversation. */
    async assign(conversationId: string, userId: number | null, now: string): Promise<boolean> {
      return (await sql.run('UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ?', userId, now, conversationId)) === 1;
    },
    /** Assigns only when nobody holds it yet (taking a conversation over claims it). */
    async assignIfFree(conversationId: string, userId: number, now: string): Promise<void> {
      await sql.run('UPDATE conversations SET assignee_id = ?, updated_at = ? WHERE id = ? AND assignee_id IS NULL', userId, now, conversationId);
    },
    /** Marks everything the customer wrote so far as read by this user. */
    async markRead(conversationId: string, userId: number, now: string): Promise<void> {
      await sql.run(`INSERT INTO conversation_reads (conversation_id, user_id, last_inbox_id, read_at)
         VALUES (?, ?, COALESCE((SELECT MAX(id) FROM inbox WHERE conversation_id = ? AND kind = 'text'), 0), ?)
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET last_inbox_id = excluded.last_inbox_id, read_at = excluded.read_at`, conversationId, userId, conversationId, now);
    },
    /** Conversations whose customer's name is unknown and was not looked up since `staleBefore`, among `ids`. */
    async namesToLookUp(ids: string[], staleBefore: string): Promise<Array<{ id: string; phone: string | null; customer_code: number | null }>> {
      if (ids.length === 0) return [];
      return await sql.all(`SELECT id, phone, customer_code FROM conversations WHERE id IN (${ids.map(() => '?').join(', ')})
           AND customer_name IS NULL AND (customer_name_checked_at IS NULL OR customer_name_checked_at < ?)`, ...ids, staleBefore) as Array<{ id: string; phone: string | null; customer_code: number | null }>;
    },
    /** Caches the ERP's name for the customer (and binds the customer code when the conversation had none). */
    async setCustomerName(conversationId: string, name: string | null, customerCode: number | null, now: string): Promise<void> {
      await sql.run(`UPDATE conversations SET customer_name = COALESCE(?, customer_name), customer_name_key = COALESCE(?, customer_name_key),
           customer_code = COALESCE(customer_code, ?), customer_name_checked_at = ? WHERE id = ?`, name, name === null ? null : searchKey(name), customerCode, now, conversationId);
    },
    /** Records who sent a staff message (the outbox row exists already). */
    async signMessage(outboxId: number, sentBy: string): Promise<void> {
      await sql.run("UPDATE outbox SET sent_by = ? WHERE id = ? AND source = 'staff'", sentBy, outboxId);
    },
    async cannedReplies(includeArchived = false): Promise<CannedReplyRow[]> {
      return await sql.all(`SELECT * FROM canned_replies ${includeArchived ? '' : 'WHERE archived = 0'} ORDER BY lower(title), id`) as CannedReplyRow[];
    },
    async cannedReply(id: number): Promise<CannedReplyRow | undefined> {
      return await sql.one('SELECT * FROM canned_replies WHERE id = ?', id) as CannedReplyRow | undefined;
    },
    async addCannedReply(title: string, body: string, by: string, now: string): Promise<CannedReplyRow> {
      const row = await sql.one<{ id: number }>('INSERT INTO canned_replies (title, body, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id', title, body, by, now, now);
      return (await this.cannedReply(row!.id))!;
    },
    async updateCannedReply(id: number, fields: { title?: string; body?: string; archived?: boolean }, now: string): Promise<CannedReplyRow | undefined> {
      await sql.run('UPDATE canned_replies SET title = COALESCE(?, title), body = COALESCE(?, body), archived = COALESCE(?, archived), updated_at = ? WHERE id = ?', fields.title ?? null, fields.body ?? null, fields.archived === undefined ? null : Number(fields.archived), now, id);
      return await this.cannedReply(id);
    },
  };
}
