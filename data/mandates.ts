import type { Sql } from './sql.ts';

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

export function mandatesRepo(sql: Sql) {
  return {
    async insertVersion(row: MandateRow): Promise<void> {
      await sql.run('INSERT INTO mandates (id, version, agent_id, document, signature, key_id, created_at) VALUES (@id, @version, @agent_id, @document, @signature, @key_id, @created_at)', row);
    },
    /** The newest version of a mandate, read fresh (never cached: revocation must bite at once). */
    async latest(id: string): Promise<MandateRow | undefined> {
      return await sql.one('SELECT * FROM mandates WHERE id = ? ORDER BY version DESC LIMIT 1', id) as MandateRow | undefined;
    },
    async versions(id: string): Promise<MandateRow[]> {
      return await sql.all('SELECT * FROM mandates WHERE id = ? ORDER BY version', id) as MandateRow[];
    },
    async ids(): Promise<string[]> {
      return (await sql.all('SELECT DISTINCT id FROM mandates ORDER BY id') as Array<{ id: string }>).map((r) => r.id);
    },
    async addEvent(mandateId: string, status: string, actor: string, reason: string | null, now: string): Promise<void> {
      await sql.run('INSERT INTO mandate_events (mandate_id, status, actor, reason, created_at) VALUES (?, ?, ?, ?, ?)', mandateId, status, actor, reason, now);
    },
    /** The newest status event; undefined when the mandate has none (unreadable). */
    async currentStatus(mandateId: string): Promise<MandateEventRow | undefined> {
      return await sql.one('SELECT * FROM mandate_events WHERE mandate_id = ? ORDER BY id DESC LIMIT 1', mandateId) as MandateEventRow | undefined;
    },
    async events(mandateId: string): Promise<MandateEventRow[]> {
      return await sql.all('SELECT * FROM mandate_events WHERE mandate_id = ? ORDER BY id', mandateId) as MandateEventRow[];
    },
  };
}
