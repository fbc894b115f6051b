import type { Sql } from './sql.ts';

/**
 * Counted events in sliding windows, shared by every process on the database:
 * the console's failed logins and the agent's model calls (issue 16). `take`
 * checks and counts at once; its callers run it in one `tx` under `store.lock`.
 */
export function ratesRepo(sql: Sql) {
  return {
    /** How many events (scope, key) has after `sinceMs` (exclusive), and the oldest of them. */
    async window(scope: string, key: string, sinceMs: number): Promise<{ count: number; oldestMs: number | null }> {
      const row = await sql.one<{ n: number; oldest: number | null }>(
        'SELECT COUNT(*) AS n, MIN(at_ms) AS oldest FROM rate_events WHERE scope = ? AND key = ? AND at_ms > ?',
        scope,
        key,
        sinceMs,
      );
      return { count: Number(row?.n ?? 0), oldestMs: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest) };
    },
    async record(scope: string, key: string, atMs: number): Promise<void> {
      await sql.run('INSERT INTO rate_events (scope, key, at_ms) VALUES (?, ?, ?)', scope, key, atMs);
    },
    async clear(scope: string, key: string): Promise<void> {
      await sql.run('DELETE FROM rate_events WHERE scope = ? AND key = ?', scope, key);
    },
    /**
     * A sliding-window budget: when every (key, max) has room in the last `windowMs`,
     * counts one event for each and answers 0; else answers how long to wait. The
     * caller runs it in one `tx` under `store.lock` of the scope, so two processes
     * never both take the last place of a window.
     */
    async take(scope: string, limits: ReadonlyArray<{ key: string; max: number }>, atMs: number, windowMs: number): Promise<number> {
      const since = atMs - windowMs;
      await this.prune(scope, since);
      for (const { key, max } of limits) {
        const w = await this.window(scope, key, since);
        if (w.count >= max) return windowMs - (atMs - (w.oldestMs ?? atMs)) + 1;
      }
      for (const { key } of limits) await this.record(scope, key, atMs);
      return 0;
    },
    /** Forgets a scope's events older than `beforeMs` (they no longer count in any window). */
    async prune(scope: string, beforeMs: number): Promise<number> {
      return sql.run('DELETE FROM rate_events WHERE scope = ? AND at_ms <= ?', scope, beforeMs);
    },
  };
}
