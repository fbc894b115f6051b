import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabaseStore } from '../../data/open.ts';
import type { Store } from '../../data/store.ts';

/**
 * Which store the suite runs on: `ESTORNO_TEST_STORE=postgres` (set by
 * test/run-both.ts for its second pass) or SQLite. On PostgreSQL every
 * DATA_DIR a test uses gets a schema of its own, named from the directory, so
 * a server restarted on the same DATA_DIR — in this process or a child — finds
 * its data again, exactly as with the SQLite file in it.
 */
export const TEST_STORE: 'sqlite' | 'postgres' = process.env.ESTORNO_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = TEST_STORE === 'postgres';

/** The server of the PostgreSQL pass (test/run-both.ts passes it; not DATABASE_URL, which a SQLite pass's children would inherit). */
export const TEST_PG_URL = process.env.ESTORNO_TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

// One prefix per run (test/run-both.ts sets it, so it can drop what the run leaves), else per process.
const RUN = /^[a-z0-9]{1,12}$/.test(process.env.ESTORNO_TEST_RUN ?? '') ? process.env.ESTORNO_TEST_RUN! : randomBytes(4).toString('hex');
// Children (spawned servers, CLIs, worker processes) name a DATA_DIR's schema the same way.
process.env.ESTORNO_TEST_RUN = RUN;
export const TEST_SCHEMA_PREFIX = `estorno_t_${RUN}_`;

const made = new Set<string>();

/** The schema of a DATA_DIR on the PostgreSQL pass (the same name in every process of the run). */
export function schemaFor(dataDir: string): string {
  const name = `${TEST_SCHEMA_PREFIX}${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}`;
  made.add(name);
  return name;
}

/**
 * The variables that point a server or a CLI on `dataDir` at the store of this
 * pass: PostgreSQL's URL and the directory's schema, or (SQLite) DATABASE_URL
 * emptied so a DATABASE_URL in the test runner's own environment is not inherited.
 */
export function testStoreEnv(dataDir: string): Record<string, string> {
  return onPostgres ? { DATABASE_URL: TEST_PG_URL, DATABASE_SCHEMA: schemaFor(dataDir) } : { DATABASE_URL: '', DATABASE_SCHEMA: '' };
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
 * Drops the schemas this process named (PostgreSQL pass; test/helpers/pg-setup.ts
 * calls it after each test file). A schema still in use waits at most 5 s and
 * is then left to test/run-both.ts's sweep at the end of the run.
 */
export async function dropTestSchemas(names: Iterable<string> = made): Promise<void> {
  const list = [...names];
  if (!onPostgres || list.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query("SET lock_timeout = '5s'");
    for (const name of list) {
      await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).catch(() => undefined);
      made.delete(name);
    }
  } finally {
    await client.end();
  }
}
