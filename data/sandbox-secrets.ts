import type { Sql } from './sql.ts';

/** Secrets the sandbox generates once and every replica reads (PostgreSQL sandbox mode). */
export function sandboxSecretsRepo(sql: Sql) {
  return {
    async get(name: string): Promise<string | undefined> {
      return (await sql.one<{ value: string }>('SELECT value FROM sandbox_secrets WHERE name = ?', name))?.value;
    },
    /** Stores `value` unless `name` already has one; resolves to the value that is stored. */
    async putIfAbsent(name: string, value: string, now: string): Promise<string> {
      await sql.run('INSERT INTO sandbox_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', name, value, now);
      return (await this.get(name)) as string;
    },
  };
}
