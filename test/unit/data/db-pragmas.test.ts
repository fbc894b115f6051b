import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../data/db.ts';
import { onPostgres } from '../../helpers/test-store.ts';

/** Issue 15: no work at turn time that can be done once, and no checkpoint inside a commit. */
// SQLite only: the better-sqlite3 handle's statement cache and WAL checkpoints (PostgreSQL has neither to configure).
describe.skipIf(onPostgres)('the database handle', () => {
  it('compiles each SQL text once and hands back the same statement', () => {
    const db = openDb(':memory:');
    const sql = 'SELECT COUNT(*) AS n FROM cases WHERE status = ?';
    expect(db.prepare(sql)).toBe(db.prepare(sql));
    expect(db.prepare(sql).get('open')).toEqual({ n: 0 });
    db.close();
  });

  it('turns automatic checkpoints off on a file database (a timer checkpoints it), and commits stay durable', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'estorno-db-')), 'e.db');
    const db = openDb(file, { checkpointEveryMs: 10 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const insert = db.prepare("INSERT INTO cases (id, conversation_id, order_number, status, created_at) VALUES (?, 'cv', '1', 'open', '2026-11-23')");
    for (let i = 0; i < 200; i++) insert.run(`rcp_${i}`);
    db.close();
    const again = openDb(file);
    expect(again.prepare('SELECT COUNT(*) AS n FROM cases').get()).toEqual({ n: 200 });
    again.close();
  });
});
