import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the SQLite file in WAL mode and applies pending
 * migrations. `busy_timeout` lets several processes share the file: a writer
 * waits for the lock instead of failing (the guard's BEGIN IMMEDIATE relies on it).
 */
export function openDb(file: string, options: { busyTimeoutMs?: number } = {}): Db {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Customer messages and refunds live here: owner-only from the first byte
    // (SQLite gives the -wal and -shm files the database file's mode).
    if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // better-sqlite3 waits for a lock synchronously: the event loop stands still
  // meanwhile, so the server keeps this short and answers "busy, retry" instead.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
  migrate(db);
  return db;
}

/** Opens an existing database for reading only (bulk receipt verification in worker threads). */
export function openDbReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  return db;
}

export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    }).immediate();
  }
}

/** The database answers (for /healthz). */
export function ping(db: Db): boolean {
  return (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
}
