import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { postgresDatabase, type PostgresDatabase } from './pg/database.ts';
import { migrate } from './pg/migrate.ts';
import { createStore, openStore, ownerFor, type Store } from './store.ts';

/** What chooses the store: `DATABASE_URL` (PostgreSQL) or else SQLite in `DATA_DIR`. */
export type StoreConfig = Pick<Config, 'dataDir'> & { env: Pick<Config['env'], 'DATABASE_URL' | 'DATABASE_SCHEMA'> & Partial<Pick<Config['env'], 'SQLITE_BUSY_TIMEOUT_MS'>> };

export interface OpenOptions {
  /** SQLite: how long a query waits for another process's lock. */
  busyTimeoutMs?: number;
  /** PostgreSQL: pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: errors of idle pooled connections (the server went away). */
  onError?: (error: Error) => void;
}

/**
 * The store the configuration names: PostgreSQL when `DATABASE_URL` is set
 * (a pool on `DATABASE_SCHEMA`, migrated under the advisory lock, so replicas
 * starting together migrate once), else the SQLite file `DATA_DIR/estorno.db`.
 */
export async function openDatabaseStore(config: StoreConfig, options: OpenOptions = {}): Promise<Store> {
  const url = config.env.DATABASE_URL;
  if (!url) return openStore(config.dataDir, { busyTimeoutMs: options.busyTimeoutMs ?? config.env.SQLITE_BUSY_TIMEOUT_MS });
  const db = postgresDatabase({
    url,
    schema: config.env.DATABASE_SCHEMA,
    max: options.poolSize ?? 10,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new ConfigError(`cannot open the PostgreSQL database at ${describeDatabase(config)}: ${(error as Error).message}`);
  }
  // Leases name this process by its machine and DATA_DIR: after a crash it gives back what it held.
  return createStore(db, { ownerPrefix: ownerFor(config.dataDir) });
}

/**
 * Sandbox reset on PostgreSQL: drops the schema with everything in it and
 * opens a fresh, migrated one (the old store is closed). SQLite archives its
 * file instead (server/app.ts).
 */
export async function recreatePostgresStore(old: Store, config: StoreConfig, options: OpenOptions = {}): Promise<Store> {
  await (old.database as PostgresDatabase).dropSchema();
  await old.close();
  return openDatabaseStore(config, options);
}

/** Where the data lives, for logs and errors: never the password. */
export function describeDatabase(config: StoreConfig): string {
  const url = config.env.DATABASE_URL;
  if (!url) return `SQLite ${config.dataDir}/estorno.db`;
  try {
    const u = new URL(url);
    return `postgresql://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname} (schema ${config.env.DATABASE_SCHEMA})`;
  } catch {
    return `PostgreSQL (schema ${config.env.DATABASE_SCHEMA})`;
  }
}
