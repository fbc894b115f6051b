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
export function openDb(file: string, options: { busyTimeoutMs?: number; checkpointEveryMs?: number } = {}): Db {
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
  cacheStatements(db);
  if (file !== ':memory:') checkpointOffTheCommitPath(db, options.checkpointEveryMs ?? 1_000);
  return db;
}

/**
 * The repositories call `db.prepare(sql)` where they use it; compiling the
 * same SQL again on every call was a good part of a turn's own time. The
 * handle keeps each compiled statement by its text (bounded: dynamic SQL such
 * as `IN (?, ?, …)` cannot grow it without end). A cached statement is shared,
 * so callers never change its mode (`raw`, `pluck`, `expand`) — except on SQL
 * text of their own (see cases.receipts).
 */
function cacheStatements(db: Db, max = 2_000): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      statement = compile(sql);
      cache.set(sql, statement);
    }
    return statement;
  }) as Db['prepare'];
}

/**
 * By default the connection that commits past 1,000 WAL pages runs the
 * checkpoint inside that commit — inside whatever turn or webhook made it.
 * Here automatic checkpoints are off and a timer runs a PASSIVE one (it never
 * waits for readers or writers), between requests. Durability is unchanged:
 * a commit is in the WAL either way; the WAL file is only folded back into
 * the database later. Closing the connection still checkpoints as SQLite does.
 */
function checkpointOffTheCommitPath(db: Db, everyMs: number): void {
  if (everyMs <= 0) return;
  db.pragma('wal_autocheckpoint = 0');
  const timer = setInterval(() => {
    try {
      if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or closing: the next tick tries again.
    }
  }, everyMs);
  timer.unref();
  const close = db.close.bind(db);
  db.close = (() => {
    clearInterval(timer);
    return close();
  }) as Db['close'];
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
    // A table rebuild runs with foreign keys off (they cannot be switched inside a
    // transaction) and is checked before it commits: nothing may point nowhere.
    if (m.foreignKeysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.foreignKeysOff && (db.pragma('foreign_key_check') as unknown[]).length > 0) throw new Error(`migration ${m.version} (${m.name}) left rows pointing nowhere`);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      }).immediate();
    } finally {
      if (m.foreignKeysOff) db.pragma('foreign_keys = ON');
    }
  }
}

/** The database answers (for /healthz). */
export function ping(db: Db): boolean {
  return (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
}
