import type { Sql } from './sql.ts';
import { assertMove, CONVERSATION, stateOf } from './states.ts';
import { newId } from '../core/ids.ts';

/** Where a conversation is in its life (agent/conversation-state.ts holds the legal moves). */
export type { ConversationState } from './states.ts';
import type { ConversationState } from './states.ts';

/** Why a conversation was handed to staff. */
export type HandoffReason =
  | 'card_payment'
  | 'outside_window'
  | 'mandate_inactive'
  | 'model_unavailable'
  | 'not_understood'
  | 'customer_asked'
  | 'media_needs_person'
  | 'job_failed'
  | 'payment_unverified';

export interface Conversation {
  id: string;
  chat_id: string;
  phone: string | null;
  /** WhatsApp Linked ID (`…@lid`) of the contact, when Z-API sent one. */
  lid?: string | null;
  customer_code: number | null;
  /** Two-valued shadow of `state`: 'staff' while waiting for or with staff. */
  mode: 'agent' | 'staff';
  state: ConversationState;
  handoff_reason: HandoffReason | null;
  waiting_since: string | null;
  created_at: string;
  updated_at: string;
}

export interface NoteRow {
  id: number;
  conversation_id: string;
  author: string;
  text: string;
  created_at: string;
}

export function conversationsRepo(sql: Sql) {
  const byChat = 'SELECT * FROM conversations WHERE chat_id = ?';
  const byId = 'SELECT * FROM conversations WHERE id = ?';
  // chat id → conversation id: rows are never deleted, so a known chat skips the upsert.
  const known = new Map<string, string>();
  const insert = 'INSERT INTO conversations (id, chat_id, phone, mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO NOTHING';
  const insertWithLid = 'INSERT INTO conversations (id, chat_id, phone, lid, mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING';
  const byLid = 'SELECT * FROM conversations WHERE lid = ? OR chat_id = ?';
  const byPhone = 'SELECT * FROM conversations WHERE chat_id = ? OR phone = ? ORDER BY created_at LIMIT 1';
  const setLid = 'UPDATE conversations SET lid = ? WHERE id = ? AND lid IS NULL';
  const setPhone = 'UPDATE conversations SET phone = ? WHERE id = ? AND phone IS NULL';
  const move = `UPDATE conversations SET state = @to, mode = @mode, handoff_reason = @reason, waiting_since = @since, updated_at = @now
     WHERE id = @id AND state = @from`;
  return {
    /** The conversation of a chat, created on first contact. */
    async ensure(chatId: string, phone: string | null, now: string): Promise<Conversation> {
      await sql.run(insert, newId('cv'), chatId, phone, 'agent', now, now);
      return await sql.one(byChat, chatId) as Conversation;
    },
    /** The id of a chat's conversation, created on first contact (the webhook's hot path). */
    async ensureId(chatId: string, phone: string | null, now: string): Promise<string> {
      const cached = known.get(chatId);
      if (cached) return cached;
      await sql.run(insert, newId('cv'), chatId, phone, 'agent', now, now);
      const id = (await sql.one(byChat, chatId) as Conversation).id;
      // Cached only once committed: a rolled-back (or retried) transaction must not leave an id
      // for a conversation that was never stored.
      sql.afterCommit(() => {
        if (known.size > 100_000) known.clear();
        known.set(chatId, id);
      });
      return id;
    },
    /**
     * One customer, one conversation, whatever mix of phone and `@lid` Z-API
     * sends (`phone` may hold either; `chatLid`/`senderLid` the lid): found by
     * either, and the one it lacked is stored beside the other.
     */
    async ensureContact(contact: { phone: string | null; lid: string | null }, now: string): Promise<string> {
      const { phone, lid } = contact;
      if (!lid) {
        const cached = phone ? known.get(phone) : undefined;
        if (cached) return cached;
        // A contact first seen by its lid and later by its phone alone is still the same customer.
        const row = phone ? (await sql.one(byPhone, phone, phone) as Conversation | undefined) : undefined;
        return row ? row.id : await this.ensureId(phone as string, phone, now);
      }
      const byItsPhone = phone ? (await sql.one(byPhone, phone, phone) as Conversation | undefined) : undefined;
      // Read once: where the lid sits (found by it, or checked against the phone's conversation).
      const holder = await sql.one(byLid, lid, lid) as Conversation | undefined;
      const found = byItsPhone ?? holder;
      if (found) {
        // The lid may already sit on another (older, lid-only) conversation: keep both as they are.
        if (!found.lid && (!holder || holder.id === found.id)) await sql.run(setLid, lid, found.id);
        if (phone && !found.phone) await sql.run(setPhone, phone, found.id);
        return found.id;
      }
      await sql.run(insertWithLid, newId('cv'), phone ?? lid, phone, lid, 'agent', now, now);
      const row = ((phone ? await sql.one(byChat, phone) : undefined) ?? await sql.one(byLid, lid, lid)) as Conversation;
      return row.id;
    },
    async get(id: string): Promise<Conversation | undefined> {
      return checkedState(await sql.one<Conversation>(byId, id));
    },
    async byChat(chatId: string): Promise<Conversation | undefined> {
      return checkedState(await sql.one<Conversation>(byChat, chatId));
    },
    async bindCustomer(id: string, customerCode: number, now: string): Promise<void> {
      await sql.run('UPDATE conversations SET customer_code = ?, updated_at = ? WHERE id = ?', customerCode, now, id);
    },
    /** Compare-and-set of the state (and its mode shadow); false when the state was not `from`. */
    async moveState(id: string, from: ConversationState, to: ConversationState, reason: HandoffReason | null, waitingSince: string | null, now: string): Promise<boolean> {
      assertMove(CONVERSATION, from, to, id);
      const mode = to === 'waiting_for_staff' || to === 'with_staff' ? 'staff' : 'agent';
      return (await sql.run(move, { id, from, to, mode, reason, since: waitingSince, now })) === 1;
    },
    /**
     * One turn at a time per customer, across processes: a lease on the
     * conversation. True when this owner holds it now (taken, or already ours).
     */
    async claimTurn(id: string, owner: string, until: string, now: string): Promise<boolean> {
      return (await sql.run('UPDATE conversations SET turn_lease_owner = ?, turn_lease_until = ? WHERE id = ? AND (turn_lease_until IS NULL OR turn_lease_until <= ? OR turn_lease_owner = ?)', owner, until, id, now, owner)) === 1;
    },
    /** Extends a lease this owner still holds; false when it lost it. */
    async renewTurn(id: string, owner: string, until: string): Promise<boolean> {
      return (await sql.run('UPDATE conversations SET turn_lease_until = ? WHERE id = ? AND turn_lease_owner = ?', until, id, owner)) === 1;
    },
    /**
     * Turns nobody is running (replicas): a lease left by a process that died
     * mid-turn, or customer text that waited since `quietSince` with no turn
     * (the process that stored it died before starting one).
     */
    async orphanedTurns(now: string, quietSince: string, options: { horizon?: string; limit?: number } = {}): Promise<string[]> {
      // Text older than the horizon is left to a restart's recovery: the sweep stays cheap, and
      // a backlog imported by hand is not answered at once by every replica.
      const horizon = options.horizon ?? new Date(Date.parse(now) - 24 * 3_600_000).toISOString();
      const rows = await sql.all<{ id: string }>(
        `SELECT id FROM conversations WHERE turn_lease_until IS NOT NULL AND turn_lease_until <= ?
         UNION
         SELECT i.conversation_id AS id FROM inbox i JOIN conversations c ON c.id = i.conversation_id
          WHERE i.kind = 'text' AND i.processed_at IS NULL AND i.received_at <= ? AND i.received_at > ? AND c.state = 'agent'
            AND (c.turn_lease_until IS NULL OR c.turn_lease_until <= ?)
         LIMIT ?`,
        now, quietSince, horizon, now, options.limit ?? 100,
      );
      return rows.map((r) => r.id);
    },
    async releaseTurn(id: string, owner: string): Promise<void> {
      await sql.run('UPDATE conversations SET turn_lease_owner = NULL, turn_lease_until = NULL WHERE id = ? AND turn_lease_owner = ?', id, owner);
    },
    async touch(id: string, now: string): Promise<void> {
      await sql.run('UPDATE conversations SET updated_at = ? WHERE id = ?', now, id);
    },
    async list(limit = 100): Promise<Conversation[]> {
      return await sql.all('SELECT * FROM conversations ORDER BY updated_at DESC LIMIT ?', limit) as Conversation[];
    },
    async addNote(conversationId: string, author: string, text: string, now: string): Promise<number> {
      return Number((await sql.one<{ id: number }>('INSERT INTO conversation_notes (conversation_id, author, text, created_at) VALUES (?, ?, ?, ?) RETURNING id', conversationId, author, text, now))!.id);
    },
    async notes(conversationId: string): Promise<NoteRow[]> {
      return await sql.all('SELECT * FROM conversation_notes WHERE conversation_id = ? ORDER BY id', conversationId) as NoteRow[];
    },
  };
}

/** A conversation read back with a state its machine does not know raises (data/states.ts). */
function checkedState(row: Conversation | undefined): Conversation | undefined {
  if (row) stateOf(CONVERSATION, row.state, row.id);
  return row;
}
