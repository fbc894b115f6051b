import type { Sql } from './sql.ts';

/** Webhooks received, one row per event: what tells a replay from news. */
export function webhookEventsRepo(sql: Sql) {
  return {
    /** Whether an event was recorded already (a replay). */
    async seen(eventKey: string): Promise<boolean> {
      return (await sql.one('SELECT 1 AS x FROM webhook_events WHERE event_key = ?', eventKey)) !== undefined;
    },
    /** Records a webhook once; false when the same event was seen before (a replay). */
    async record(source: string, eventKey: string, payload: string, outcome: string, now: string): Promise<boolean> {
      return (
        (await sql.run('INSERT INTO webhook_events (source, event_key, payload, outcome, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING', source, eventKey, payload, outcome, now)) === 1
      );
    },
  };
}
