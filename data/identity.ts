import type { Sql } from './sql.ts';

/** Proof that an `@lid` chat belongs to an ERP customer: codes sent to the number on file, and every attempt. */

export interface IdentityChallenge {
  id: number;
  conversation_id: string;
  customer_code: number;
  phone_on_file: string;
  code_hash: string;
  attempts: number;
  status: 'open' | 'verified' | 'expired' | 'locked';
  created_at: string;
  expires_at: string;
  verified_at: string | null;
}

export function identityRepo(sql: Sql) {
  return {
    /** Counts one attempt (before any lookup or comparison) and returns the attempts of that kind since `sinceIso`. */
    async countAttempt(conversationId: string, kind: 'cpf' | 'code', now: string, sinceIso: string): Promise<number> {
      await sql.run('INSERT INTO chat_identity_attempts (conversation_id, kind, created_at) VALUES (?, ?, ?)', conversationId, kind, now);
      return (
        await sql.one('SELECT COUNT(*) AS n FROM chat_identity_attempts WHERE conversation_id = ? AND kind = ? AND created_at >= ?', conversationId, kind, sinceIso) as {
          n: number;
        }
      ).n;
    },
    /** Opens a challenge; earlier open ones of the chat expire (only the newest code works). */
    async open(row: { conversation_id: string; customer_code: number; phone_on_file: string; code_hash: string; created_at: string; expires_at: string }): Promise<number> {
      await sql.run("UPDATE chat_identity_challenges SET status = 'expired' WHERE conversation_id = ? AND status = 'open'", row.conversation_id);
      return Number(
        (await sql.one<{ id: number }>(`INSERT INTO chat_identity_challenges (conversation_id, customer_code, phone_on_file, code_hash, status, created_at, expires_at)
             VALUES (@conversation_id, @customer_code, @phone_on_file, @code_hash, 'open', @created_at, @expires_at) RETURNING id`, row))!.id,
      );
    },
    async openFor(conversationId: string, now: string): Promise<IdentityChallenge | undefined> {
      return await sql.one("SELECT * FROM chat_identity_challenges WHERE conversation_id = ? AND status = 'open' AND expires_at > ? ORDER BY id DESC LIMIT 1", conversationId, now) as IdentityChallenge | undefined;
    },
    /** A wrong code: counted on the challenge, which locks at `max`. */
    async wrongCode(id: number, max: number): Promise<IdentityChallenge> {
      await sql.run("UPDATE chat_identity_challenges SET attempts = attempts + 1, status = CASE WHEN attempts + 1 >= ? THEN 'locked' ELSE status END WHERE id = ?", max, id);
      return await sql.one('SELECT * FROM chat_identity_challenges WHERE id = ?', id) as IdentityChallenge;
    },
    async verify(id: number, now: string): Promise<boolean> {
      return (await sql.run("UPDATE chat_identity_challenges SET status = 'verified', verified_at = ? WHERE id = ? AND status = 'open'", now, id)) === 1;
    },
    /** The number on file a chat proved it controls (for notices about refunds asked from that chat). */
    async verifiedPhone(conversationId: string): Promise<string | null> {
      const row = await sql.one("SELECT phone_on_file FROM chat_identity_challenges WHERE conversation_id = ? AND status = 'verified' ORDER BY id DESC LIMIT 1", conversationId) as { phone_on_file: string } | undefined;
      return row?.phone_on_file ?? null;
    },
  };
}
