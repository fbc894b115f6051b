import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../core/errors.ts';

/**
 * One server process per DATA_DIR. Jobs, the outbox and crash recovery assume
 * they are alone on the SQLite file: a second process would claim the same
 * work and could pay a refund twice. The lock is an exclusive SQLite lock on a
 * file of its own, held for the life of the process; the operating system
 * drops it when the process dies, even by SIGKILL, so a crash never leaves a
 * stale lock behind. The command-line tools (mandate, user, verify) do not
 * take it: they share the database, never the background work.
 */
export interface DataDirLock {
  release(): void;
}

export const LOCK_FILE = 'estorno.lock';

export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, LOCK_FILE);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (error instanceof Error && /SQLITE_BUSY|database is locked/i.test(`${(error as { code?: string }).code ?? ''} ${error.message}`)) {
      const holder = readPid(dataDir);
      throw new ConfigError(
        `another Estorno server${holder ? ` (pid ${holder})` : ''} is already running on DATA_DIR ${dataDir}; ` +
          'stop it first, or give this one its own DATA_DIR (several servers on one database need PostgreSQL)',
      );
    }
    throw error;
  }
  writeFileSync(path.join(dataDir, 'estorno.pid'), String(process.pid), { mode: 0o600 });
  return {
    release() {
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function readPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'estorno.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
