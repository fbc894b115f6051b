import type { Db } from './db.ts';
import { newId } from '../core/ids.ts';

export interface Conversation {
  id: string;
  chat_id: string;
  phone: string | null;
  /** WhatsApp Linked ID (`…@lid`) of the contact, when Z-API sent one. */
  lid?: string | null;
  customer_code: number | null;
  mode: 'agent' | 'staff';
  created_at: string;
  updated_at: string;
}

export function conversationsRepo(db: Db) {
  const byChat = db.prepare('SELECT * FROM conversations WHERE chat_id = ?');
  const byId = db.prepare('SELECT * FROM conversations WHERE id = ?');
  // chat id → conversation id: rows are never deleted, so a known chat skips the upsert.
  const known = new Map<string, string>();
  const insert = db.prepare(
    'INSERT INTO conversations (id, chat_id, phone, mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO NOTHING',
  );
  const insertWithLid = db.prepare(
    'INSERT INTO conversations (id, chat_id, phone, lid, mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const byLid = db.prepare('SELECT * FROM conversations WHERE lid = ? OR chat_id = ?');
  const byPhone = db.prepare('SELECT * FROM conversations WHERE chat_id = ? OR phone = ? ORDER BY created_at LIMIT 1');
  const setLid = db.prepare('UPDATE conversations SET lid = ? WHERE id = ? AND lid IS NULL');
  const setPhone = db.prepare('UPDATE conversations SET phone = ? WHERE id = ? AND phone IS NULL');
  return {
    /** The conversation of a chat, created on first contact. */
    ensure(chatId: string, phone: string | null, now: string): Conversation {
      insert.run(newId('cv'), chatId, phone, 'agent', now, now);
      return byChat.get(chatId) as Conversation;
    },
    /** The id of a chat's conversation, created on first contact (the webhook's hot path). */
    ensureId(chatId: string, phone: string | null, now: string): string {
      const cached = known.get(chatId);
      if (cached) return cached;
      insert.run(newId('cv'), chatId, phone, 'agent', now, now);
      const id = (byChat.get(chatId) as Conversation).id;
      if (known.size > 100_000) known.clear();
      known.set(chatId, id);
      return id;
    },
    /**
     * One customer, one conversation, whatever mix of phone and `@lid` Z-API
     * sends (`phone` may hold either; `chatLid`/`senderLid` the lid): found by
     * either, and the one it lacked is stored beside the other.
     */
    ensureContact(contact: { phone: string | null; lid: string | null }, now: string): string {
      const { phone, lid } = contact;
      if (!lid) {
        const cached = phone ? known.get(phone) : undefined;
        if (cached) return cached;
        // A contact first seen by its lid and later by its phone alone is still the same customer.
        const row = phone ? (byPhone.get(phone, phone) as Conversation | undefined) : undefined;
        return row ? row.id : this.ensureId(phone as string, phone, now);
      }
      const found = (phone ? (byPhone.get(phone, phone) as Conversation | undefined) : undefined) ?? (byLid.get(lid, lid) as Conversation | undefined);
      if (found) {
        // The lid may already sit on another (older, lid-only) conversation: keep both as they are.
        const holder = byLid.get(lid, lid) as Conversation | undefined;
        if (!found.lid && (!holder || holder.id === found.id)) setLid.run(lid, found.id);
        if (phone && !found.phone) setPhone.run(phone, found.id);
        return found.id;
      }
      insertWithLid.run(newId('cv'), phone ?? lid, phone, lid, 'agent', now, now);
      const row = ((phone ? byChat.get(phone) : undefined) ?? byLid.get(lid, lid)) as Conversation;
      return row.id;
    },
    get(id: string): Conversation | undefined {
      return byId.get(id) as Conversation | undefined;
    },
    byChat(chatId: string): Conversation | undefined {
      return byChat.get(chatId) as Conversation | undefined;
    },
    bindCustomer(id: string, customerCode: number, now: string): void {
      db.prepare('UPDATE conversations SET customer_code = ?, updated_at = ? WHERE id = ?').run(customerCode, now, id);
    },
    setMode(id: string, mode: 'agent' | 'staff', now: string): void {
      db.prepare('UPDATE conversations SET mode = ?, updated_at = ? WHERE id = ?').run(mode, now, id);
    },
    touch(id: string, now: string): void {
      db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(now, id);
    },
    list(limit = 100): Conversation[] {
      return db.prepare('SELECT * FROM conversations ORDER BY updated_at DESC LIMIT ?').all(limit) as Conversation[];
    },
  };
}
