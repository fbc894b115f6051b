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
    async setPassword(id: number, hash: string, now: string): Promise<void> {
      await sql.run('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?', hash, now, id);
    },
    async createSession(row: SessionRow): Promise<void> {
      await sql.run('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (@id_hash, @user_id, @csrf_token, @created_at, @expires_at)', row);
    },
    /** The session and its user, when the session is current and the user active. */
    async session(idHash: string, now: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
      const session = await sql.one('SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?', idHash, now) as SessionRow | undefined;
      if (!session) return undefined;
      const user = await sql.one('SELECT * FROM users WHERE id = ? AND active = 1', session.user_id) as UserRow | undefined;
      return user ? { session, user } : undefined;
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
