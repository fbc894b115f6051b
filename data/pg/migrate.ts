import type { PostgresDatabase } from './database.ts';
import { PG_MIGRATIONS } from './migrations.ts';

/** The advisory lock every replica takes to migrate: one fixed key per schema (replicas share theirs; tests each have one). */
const LOCK_KEY = "hashtextextended('estorno.migrate.' || current_schema(), 0)";

/**
 * Applies the pending PostgreSQL migrations, each in its own transaction, and
 * records them in `schema_migrations`. Replicas starting together all call it:
 * one session-level advisory lock makes them take turns, so the first applies
 * what is pending and the others find nothing left to do. Returns the versions
 * this call applied.
 */
export async function migrate(db: PostgresDatabase, migrations = PG_MIGRATIONS): Promise<number[]> {
  await db.ping(); // creates the schema of the options, if any
  const client = await db.pool.connect();
  const applied: number[] = [];
  let broken = false;
  try {
    await client.query(`SELECT pg_advisory_lock(${LOCK_KEY})`);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)',
      );
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            new Date().toISOString(),
          ]);
          await client.query('COMMIT');
          applied.push(m.version);
        } catch (error) {
          await client.query('ROLLBACK').catch(() => (broken = true));
          throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(error as Error).message}`, { cause: error });
        }
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => (broken = true));
    }
  } finally {
    client.release(broken);
  }
  return applied;
}
