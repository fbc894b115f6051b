import type { Sql } from './sql.ts';

/**
 * Provider answers shared by the replicas (Omie refuses an id asked again by
 * anyone within 60 s): JSON by key, with when it was fetched.
 */
export function providerCacheRepo(sql: Sql) {
  let puts = 0;
  return {
    async get(key: string, newerThanMs: number): Promise<string | undefined> {
      return (await sql.one<{ value: string }>('SELECT value FROM provider_cache WHERE key = ? AND fetched_at_ms > ?', key, newerThanMs))?.value;
    },
    async put(key: string, value: string, atMs: number, forgetBeforeMs: number): Promise<void> {
      await sql.run(
        'INSERT INTO provider_cache (key, value, fetched_at_ms) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, fetched_at_ms = excluded.fetched_at_ms',
        key,
        value,
        atMs,
      );
      // Now and then, the stale answers go.
      if (++puts % 100 === 0) await sql.run('DELETE FROM provider_cache WHERE fetched_at_ms < ?', forgetBeforeMs);
    },
  };
}
