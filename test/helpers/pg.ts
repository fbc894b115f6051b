import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { postgresDatabase, type PostgresDatabase } from '../../data/pg/database.ts';

/**
 * The server the PostgreSQL tests and benchmarks use: ESTORNO_TEST_DATABASE_URL
 * (test/run-both.ts passes it; not DATABASE_URL, which a SQLite pass's children
 * would inherit), else DATABASE_URL, else the local one these machines run.
 */
export const PG_URL = process.env.ESTORNO_TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** `url` without its credentials, for messages. */
export function pgWhere(url = PG_URL): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the database URL (not a URL)';
  }
}

/** Why PostgreSQL does not answer a query at `url` within `timeoutMs`, or null when it does. */
export async function pgProblem(url = PG_URL, timeoutMs = 3_000): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether PostgreSQL answers a query at `url` (see pgProblem). */
export async function pgAnswers(url = PG_URL, timeoutMs = 3_000): Promise<boolean> {
  return (await pgProblem(url, timeoutMs)) === null;
}

// One prefix per run (test/run-both.ts imports this file, so both its passes share it and it
// can sweep what the run leaves), else per process. Children (spawned servers, CLIs, worker
// processes) inherit it and name a DATA_DIR's schema the same way.
const RUN = /^[a-z0-9]{1,12}$/.test(process.env.ESTORNO_TEST_RUN ?? '') ? process.env.ESTORNO_TEST_RUN! : randomBytes(4).toString('hex');
process.env.ESTORNO_TEST_RUN = RUN;
/** Every schema a test or benchmark names starts with it: `estorno_t_<run>_`. */
export const TEST_SCHEMA_PREFIX = `estorno_t_${RUN}_`;

/** The schemas this process named; dropTestSchemas() (test/helpers/test-store.ts) drops them after each test file. */
export const namedSchemas = new Set<string>();

/** `TEST_SCHEMA_PREFIX` + `suffix`, remembered for dropTestSchemas(). */
export function namedSchema(suffix: string): string {
  const name = `${TEST_SCHEMA_PREFIX}${suffix}`;
  namedSchemas.add(name);
  return name;
}

/** A schema name of its own for one test, dropped after its file (and swept by test/run-both.ts). */
export function testSchemaName(): string {
  return namedSchema(randomBytes(6).toString('hex'));
}

/** A database on a schema of its own; `close()` it after the test (the schema is dropped after the file). */
export function freshPgDatabase(options: { schema?: string; max?: number } = {}): PostgresDatabase {
  return postgresDatabase({ url: PG_URL, schema: options.schema ?? testSchemaName(), max: options.max ?? 4 });
}
