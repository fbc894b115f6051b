import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabaseStore } from '../../data/open.ts';
import type { Store } from '../../data/store.ts';
import { namedSchema, namedSchemas, PG_URL, pgProblem, pgWhere } from './pg.ts';

/**
 * Which store the suite runs on: `ESTORNO_TEST_STORE=postgres` (set by
 * test/run-both.ts for its second pass) or SQLite. On PostgreSQL every
 * DATA_DIR a test uses gets a schema of its own, named from the directory, so
 * a server restarted on the same DATA_DIR — in this process or a child — finds
 * its data again, exactly as with the SQLite file in it.
 */
export const TEST_STORE: 'sqlite' | 'postgres' = process.env.ESTORNO_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = TEST_STORE === 'postgres';

/** The schema of a DATA_DIR on the PostgreSQL pass (the same name in every process of the run). */
export function schemaFor(dataDir: string): string {
  return namedSchema(createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16));
}

/**
 * Whether a PostgreSQL-only suite runs here: in the PostgreSQL pass, and in
 * the SQLite pass only when no PostgreSQL pass follows in this `npm test`
 * (test/run-both.ts sets ESTORNO_TEST_PG_PASS=1 when one does), so it runs
 * once; either way only when PostgreSQL answers. Says why when it does not run.
 */
export async function pgSuite(file: string): Promise<boolean> {
  if (!onPostgres && process.env.ESTORNO_TEST_PG_PASS === '1') {
    console.warn(`[${file}] skipped in the SQLite pass: it needs PostgreSQL and runs in the PostgreSQL pass`);
    return false;
  }
  const why = await pgProblem();
  if (why) console.warn(`[${file}] skipped: no PostgreSQL answers at ${pgWhere()} (${why}); set DATABASE_URL, or run one at 127.0.0.1:5432`);
  return why === null;
}

/**
 * The variables that point a server or a CLI on `dataDir` at the store of this
 * pass: PostgreSQL's URL and the directory's schema, or (SQLite) DATABASE_URL
 * emptied so a DATABASE_URL in the test runner's own environment is not inherited.
 */
export function testStoreEnv(dataDir: string): Record<string, string> {
  return onPostgres ? { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schemaFor(dataDir) } : { DATABASE_URL: '', DATABASE_SCHEMA: '' };
}

/** `env` for a child process (spawned server or CLI) with the store of this pass for its DATA_DIR (default var/). */
export function withTestStore<T extends Record<string, string | undefined>>(env: T): T & Record<string, string> {
  return { ...env, ...testStoreEnv(env.DATA_DIR ?? 'var') } as T & Record<string, string>;
}

/** The store of this pass for `dataDir` (a fresh temporary directory when none is given). */
export async function testStore(dataDir: string = mkdtempSync(path.join(tmpdir(), 'estorno-store-'))): Promise<Store> {
  const env = testStoreEnv(dataDir);
  return openDatabaseStore({ dataDir, env: { DATABASE_URL: env.DATABASE_URL || undefined, DATABASE_SCHEMA: env.DATABASE_SCHEMA || 'public' } }, { poolSize: 4 });
}

/**
 * Drops the schemas this process named (schemaFor, testSchemaName; test/helpers/pg-setup.ts
 * calls it after each test file, a no-op when none were named). A schema still in use waits at most 5 s and
 * is then left to test/run-both.ts's sweep at the end of the run.
 */
export async function dropTestSchemas(names: Iterable<string> = namedSchemas): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query("SET lock_timeout = '5s'");
    for (const name of list) {
      await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
      namedSchemas.delete(name);
    }
  } finally {
    await client.end();
  }
}
