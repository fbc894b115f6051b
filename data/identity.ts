import type { Db } from './db.ts';

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

export function identityRepo(db: Db) {
  return {
    /** Counts one attempt (before any lookup or comparison) and returns the attempts of that kind since `sinceIso`. */
    countAttempt(conversationId: string, kind: 'cpf' | 'code', now: string, sinceIso: string): number {
      db.prepare('INSERT INTO chat_identity_attempts (conversation_id, kind, created_at) VALUES (?, ?, ?)').run(conversationId, kind, now);
      return (
        db.prepare('SELECT COUNT(*) AS n FROM chat_identity_attempts WHERE conversation_id = ? AND kind = ? AND created_at >= ?').get(conversationId, kind, sinceIso) as {
          n: number;
        }
      ).n;
    },
    attemptsSince(conversationId: string, kind: 'cpf' | 'code', sinceIso: string): number {
      return (
        db.prepare('SELECT COUNT(*) AS n FROM chat_identity_attempts WHERE conversation_id = ? AND kind = ? AND created_at >= ?').get(conversationId, kind, sinceIso) as {
          n: number;
        }
      ).n;
    },
    /** Opens a challenge; earlier open ones of the chat expire (only the newest code works). */
    open(row: { conversation_id: string; customer_code: number; phone_on_file: string; code_hash: string; created_at: string; expires_at: string }): number {
      db.prepare("UPDATE chat_identity_challenges SET status = 'expired' WHERE conversation_id = ? AND status = 'open'").run(row.conversation_id);
      return Number(
        db
          .prepare(
            `INSERT INTO chat_identity_challenges (conversation_id, customer_code, phone_on_file, code_hash, status, created_at, expires_at)
             VALUES (@conversation_id, @customer_code, @phone_on_file, @code_hash, 'open', @created_at, @expires_at)`,
          )
          .run(row).lastInsertRowid,
      );
    },
    openFor(conversationId: string, now: string): IdentityChallenge | undefined {
      return db
        .prepare("SELECT * FROM chat_identity_challenges WHERE conversation_id = ? AND status = 'open' AND expires_at > ? ORDER BY id DESC LIMIT 1")
        .get(conversationId, now) as IdentityChallenge | undefined;
    },
    /** A wrong code: counted on the challenge, which locks at `max`. */
    wrongCode(id: number, max: number): IdentityChallenge {
      db.prepare("UPDATE chat_identity_challenges SET attempts = attempts + 1, status = CASE WHEN attempts + 1 >= ? THEN 'locked' ELSE status END WHERE id = ?").run(max, id);
      return db.prepare('SELECT * FROM chat_identity_challenges WHERE id = ?').get(id) as IdentityChallenge;
    },
    verify(id: number, now: string): boolean {
      return db.prepare("UPDATE chat_identity_challenges SET status = 'verified', verified_at = ? WHERE id = ? AND status = 'open'").run(now, id).changes === 1;
    },
    /** The number on file a chat proved it controls (for notices about refunds asked from that chat). */
    verifiedPhone(conversationId: string): string | null {
      const row = db
        .prepare("SELECT phone_on_file FROM chat_identity_challenges WHERE conversation_id = ? AND status = 'verified' ORDER BY id DESC LIMIT 1")
        .get(conversationId) as { phone_on_file: string } | undefined;
      return row?.phone_on_file ?? null;
    },
  };
}
