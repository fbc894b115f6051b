import type { Db } from './db.ts';

export interface JobRow {
  id: number;
  kind: string;
  key: string;
  payload: string;
  status: 'pending' | 'done' | 'dead';
  attempts: number;
  run_at: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** Durable background work. A job's key is unique: scheduling the same work twice is a no-op. */
export function jobsRepo(db: Db) {
  return {
    schedule(kind: string, key: string, payload: unknown, runAt: string, now: string): boolean {
      return (
        db
          .prepare(
            "INSERT INTO jobs (kind, key, payload, status, run_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (key) DO NOTHING",
          )
          .run(kind, key, JSON.stringify(payload), runAt, now, now).changes === 1
      );
    },
    due(now: string, limit = 20): JobRow[] {
      return db.prepare("SELECT * FROM jobs WHERE status = 'pending' AND run_at <= ? ORDER BY run_at, id LIMIT ?").all(now, limit) as JobRow[];
    },
    nextRunAt(): string | null {
      return (db.prepare("SELECT MIN(run_at) AS at FROM jobs WHERE status = 'pending'").get() as { at: string | null }).at;
    },
    done(id: number, now: string): void {
      db.prepare("UPDATE jobs SET status = 'done', attempts = attempts + 1, last_error = NULL, updated_at = ? WHERE id = ?").run(now, id);
    },
    retry(id: number, error: string, runAt: string | null, now: string): void {
      db.prepare('UPDATE jobs SET status = ?, attempts = attempts + 1, last_error = ?, run_at = COALESCE(?, run_at), updated_at = ? WHERE id = ?').run(
        runAt === null ? 'dead' : 'pending', error, runAt, now, id,
      );
    },
    /** Jobs given up after their last attempt, newest first: staff must look at each. */
    dead(limit = 100): JobRow[] {
      return db.prepare("SELECT * FROM jobs WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT ?").all(limit) as JobRow[];
    },
    byKey(key: string): JobRow | undefined {
      return db.prepare('SELECT * FROM jobs WHERE key = ?').get(key) as JobRow | undefined;
    },
    /** Pending jobs whose key starts with `prefix` (one series of work per subject, not one per restart). */
    pendingWithPrefix(prefix: string, exceptKey = ''): number {
      return (db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE status = 'pending' AND substr(key, 1, ?) = ? AND key != ?").get(prefix.length, prefix, exceptKey) as { n: number }).n;
    },
    pendingCount(): number {
      return (db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE status = 'pending'").get() as { n: number }).n;
    },
  };
}

export function webhookEventsRepo(db: Db) {
  return {
    /** Records a webhook once; false when the same event was seen before (a replay). */
    record(source: string, eventKey: string, payload: string, outcome: string, now: string): boolean {
      return (
        db
          .prepare('INSERT INTO webhook_events (source, event_key, payload, outcome, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING')
          .run(source, eventKey, payload, outcome, now).changes === 1
      );
    },
  };
}
