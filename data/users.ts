import type { Db } from './db.ts';

/** A console user (the hash is `scrypt$N$r$p$salt$key`). */
export interface UserRow {
  id: number;
  email: string;
  name: string;
  role: 'staff' | 'admin';
  password_hash: string;
  active: number;
  created_at: string;
  updated_at: string;
}

/** A console session: the SHA-256 of the cookie value, never the value. */
export interface SessionRow {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

/** Console users and their sessions (only a hash of each session cookie is stored). */
export function usersRepo(db: Db) {
  return {
    create(row: { email: string; name: string; role: 'staff' | 'admin'; password_hash: string; now: string }): UserRow {
      const info = db
        .prepare('INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.email, row.name, row.role, row.password_hash, row.now, row.now);
      return db.prepare('SELECT * FROM users WHERE id = ?').get(info.lastInsertRowid) as UserRow;
    },
    byEmail(email: string): UserRow | undefined {
      return db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
    },
    byId(id: number): UserRow | undefined {
      return db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    },
    list(): UserRow[] {
      return db.prepare('SELECT * FROM users ORDER BY id').all() as UserRow[];
    },
    count(): number {
      return (db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
    },
    setActive(id: number, active: boolean, now: string): boolean {
      return db.prepare('UPDATE users SET active = ?, updated_at = ? WHERE id = ?').run(active ? 1 : 0, now, id).changes === 1;
    },
    setPassword(id: number, hash: string, now: string): void {
      db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?').run(hash, now, id);
    },
    createSession(row: SessionRow): void {
      db.prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (@id_hash, @user_id, @csrf_token, @created_at, @expires_at)').run(row);
    },
    /** The session and its user, when the session is current and the user active. */
    session(idHash: string, now: string): { session: SessionRow; user: UserRow } | undefined {
      const session = db.prepare('SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?').get(idHash, now) as SessionRow | undefined;
      if (!session) return undefined;
      const user = db.prepare('SELECT * FROM users WHERE id = ? AND active = 1').get(session.user_id) as UserRow | undefined;
      return user ? { session, user } : undefined;
    },
    deleteSession(idHash: string): void {
      db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
    },
    deleteExpiredSessions(now: string): number {
      return db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
    },
    deleteSessionsOf(userId: number): void {
      db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId);
    },
  };
}
