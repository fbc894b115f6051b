import type { Sql } from './sql.ts';

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
export function usersRepo(sql: Sql) {
  return {
    async create(row: { email: string; name: string; role: 'staff' | 'admin'; password_hash: string; now: string }): Promise<UserRow> {
      return (await sql.one<UserRow>('INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *', row.email, row.name, row.role, row.password_hash, row.now, row.now))!;
    },
    async byEmail(email: string): Promise<UserRow | undefined> {
      return await sql.one('SELECT * FROM users WHERE lower(email) = lower(?)', email) as UserRow | undefined;
    },
    async byId(id: number): Promise<UserRow | undefined> {
      return await sql.one('SELECT * FROM users WHERE id = ?', id) as UserRow | undefined;
    },
    async list(): Promise<UserRow[]> {
      return await sql.all('SELECT * FROM users ORDER BY id') as UserRow[];
    },
    async count(): Promise<number> {
      return (await sql.one('SELECT COUNT(*) AS n FROM users') as { n: number }).n;
    },
    async setActive(id: number, active: boolean, now: string): Promise<boolean> {
      return (await sql.run('UPDATE users SET active = ?, updated_at = ? WHERE id = ?', active ? 1 : 0, now, id)) === 1;
    },
    async createSession(row: SessionRow): Promise<void> {
      await sql.run('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (@id_hash, @user_id, @csrf_token, @created_at, @expires_at)', row);
    },
    /** The session and its user, when the session is current and the user active. */
    async session(idHash: string, now: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
      // Every console request asks: one round trip for the session and its (active) user.
      const row = await sql.one<Omit<SessionRow, 'created_at' | 'expires_at'> & UserRow & { s_created_at: string; s_expires_at: string }>(
        `SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at AS s_created_at, s.expires_at AS s_expires_at, u.*
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ? AND u.active = 1`,
        idHash, now,
      );
      if (!row) return undefined;
      const { id_hash, user_id, csrf_token, s_created_at, s_expires_at, ...user } = row;
      return { session: { id_hash, user_id, csrf_token, created_at: s_created_at, expires_at: s_expires_at }, user };
    },
    async deleteSession(idHash: string): Promise<void> {
      await sql.run('DELETE FROM sessions WHERE id_hash = ?', idHash);
    },
    async deleteExpiredSessions(now: string): Promise<number> {
      return (await sql.run('DELETE FROM sessions WHERE expires_at <= ?', now));
    },
    async deleteSessionsOf(userId: number): Promise<void> {
      await sql.run('DELETE FROM sessions WHERE user_id = ?', userId);
    },
  };
}
