import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { postgresDatabase, type PostgresDatabase } from '../../data/pg/database.ts';

/** The server the PostgreSQL tests use: DATABASE_URL, or the local one these machines run. */
export const PG_URL = process.env.ESTORNO_TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Whether something answers at PG_URL's host and port (a TCP connect, at most `timeoutMs`). */
export async function pgAnswers(url = PG_URL, timeoutMs = 1_000): Promise<boolean> {
  let host = '127.0.0.1';
  let port = 5432;
  try {
    const parsed = new URL(url);
    host = parsed.hostname || host;
    port = Number(parsed.port) || port;
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A schema name of its own for one test: `estorno_test_<random>`. */
export function testSchemaName(): string {
  return `estorno_test_${randomBytes(6).toString('hex')}`;
}

/** A database on a schema of its own; `dropSchema()` then `close()` it after the test. */
export function freshPgDatabase(options: { schema?: string; max?: number } = {}): PostgresDatabase {
  return postgresDatabase({ url: PG_URL, schema: options.schema ?? testSchemaName(), max: options.max ?? 4 });
}
