import type { Sql } from './sql.ts';
import { checked, JOB, type JobStatus } from './states.ts';

export interface JobRow {
  id: number;
  kind: string;
  key: string;
  payload: string;
  status: JobStatus;
  attempts: number;
  run_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** Durable background work. A job's key is unique: scheduling the same work twice is a no-op. */
export function jobsRepo(sql: Sql) {
  return {
    async schedule(kind: string, key: string, payload: unknown, runAt: string, now: string): Promise<boolean> {
      return (
        (await sql.run("INSERT INTO jobs (kind, key, payload, status, run_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (key) DO NOTHING", kind, key, JSON.stringify(payload), runAt, now, now)) === 1
      );
    },
    async due(now: string, limit = 20): Promise<JobRow[]> {
      return await sql.all("SELECT * FROM jobs WHERE status = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?", now, limit) as JobRow[];
    },
    /**
     * Claims due jobs for this process with a lease: nothing is done twice while
     * its owner lives, and nothing waits on a dead process longer than its lease.
     * PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas never wait on each other.
     */
    async claimDue(now: string, lease: { owner: string; until: string }, limit = 20): Promise<JobRow[]> {
      const rows = await sql.all<JobRow>(
        `UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id IN (
           SELECT id FROM jobs WHERE status = 'pending' AND run_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
           ORDER BY run_at, id LIMIT ?${sql.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''})
         RETURNING *`,
        lease.owner, lease.until, now, now, limit,
      );
      return rows.map((r) => checked(JOB, r)).sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : a.id - b.id));
    },
    /**
     * Keeps a claimed job this process's before starting it (a batch is run one by one and may
     * outlast its lease): false when another process took it meanwhile, so it is skipped here.
     */
    async holdLease(id: number, owner: string, until: string): Promise<boolean> {
      return (await sql.run("UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'pending' AND lease_owner = ?", until, id, owner)) === 1;
    },
    /** pending → done; false when the job was not pending any more (finished elsewhere after our lease ran out). */
    async done(id: number, now: string): Promise<boolean> {
      return (await sql.run("UPDATE jobs SET status = 'done', attempts = attempts + 1, last_error = NULL, lease_until = NULL, lease_owner = NULL, updated_at = ? WHERE id = ? AND status = 'pending'", now, id)) === 1;
    },
    /** pending → pending (again at `runAt`) or dead (`runAt` null: no attempt left). */
    async retry(id: number, error: string, runAt: string | null, now: string): Promise<boolean> {
      return (await sql.run("UPDATE jobs SET status = ?, attempts = attempts + 1, last_error = ?, run_at = COALESCE(?, run_at), lease_until = NULL, lease_owner = NULL, updated_at = ? WHERE id = ? AND status = 'pending'",
        runAt === null ? 'dead' : 'pending', error, runAt, now, id)) === 1;
    },
    /** Jobs given up after their last attempt, newest first: staff must look at each. */
    async dead(limit = 100): Promise<JobRow[]> {
      return await sql.all("SELECT * FROM jobs WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT ?", limit) as JobRow[];
    },
    async byKey(key: string): Promise<JobRow | undefined> {
      return await sql.one('SELECT * FROM jobs WHERE key = ?', key) as JobRow | undefined;
    },
    /** Pending jobs whose key starts with `prefix` (one series of work per subject, not one per restart). */
    async pendingWithPrefix(prefix: string, exceptKey = ''): Promise<number> {
      // A range on the key (its unique index), not substr() over every job ever scheduled
      // (byte order: SQLite's BINARY, and the C collation README "Replicas" creates PostgreSQL with).
      const after = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      return (await sql.one("SELECT COUNT(*) AS n FROM jobs WHERE key >= ? AND key < ? AND status = 'pending' AND key != ?", prefix, after, exceptKey) as { n: number }).n;
    },
  };
}
