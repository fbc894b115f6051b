import type { Db } from './db.ts';

export interface MandateRow {
  id: string;
  version: number;
  agent_id: string;
  document: string;
  signature: string;
  key_id: string;
  created_at: string;
}

export interface MandateEventRow {
  id: number;
  mandate_id: string;
  status: string;
  actor: string;
  reason: string | null;
  created_at: string;
}

export function mandatesRepo(db: Db) {
  return {
    insertVersion(row: MandateRow): void {
      db.prepare(
        'INSERT INTO mandates (id, version, agent_id, document, signature, key_id, created_at) VALUES (@id, @version, @agent_id, @document, @signature, @key_id, @created_at)',
      ).run(row);
    },
    /** The newest version of a mandate, read fresh (never cached: revocation must bite at once). */
    latest(id: string): MandateRow | undefined {
      return db.prepare('SELECT * FROM mandates WHERE id = ? ORDER BY version DESC LIMIT 1').get(id) as MandateRow | undefined;
    },
    /** The newest version of the newest mandate held by an agent. */
    latestForAgent(agentId: string): MandateRow | undefined {
      return db
        .prepare('SELECT * FROM mandates WHERE agent_id = ? ORDER BY created_at DESC, version DESC LIMIT 1')
        .get(agentId) as MandateRow | undefined;
    },
    versions(id: string): MandateRow[] {
      return db.prepare('SELECT * FROM mandates WHERE id = ? ORDER BY version').all(id) as MandateRow[];
    },
    ids(): string[] {
      return (db.prepare('SELECT DISTINCT id FROM mandates ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
    },
    addEvent(mandateId: string, status: string, actor: string, reason: string | null, now: string): void {
      db.prepare('INSERT INTO mandate_events (mandate_id, status, actor, reason, created_at) VALUES (?, ?, ?, ?, ?)').run(
        mandateId, status, actor, reason, now,
      );
    },
    /** The newest status event; undefined when the mandate has none (unreadable). */
    currentStatus(mandateId: string): MandateEventRow | undefined {
      return db.prepare('SELECT * FROM mandate_events WHERE mandate_id = ? ORDER BY id DESC LIMIT 1').get(mandateId) as MandateEventRow | undefined;
    },
    events(mandateId: string): MandateEventRow[] {
      return db.prepare('SELECT * FROM mandate_events WHERE mandate_id = ? ORDER BY id').all(mandateId) as MandateEventRow[];
    },
  };
}
