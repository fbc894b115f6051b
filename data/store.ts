import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { openDb, type Db } from './db.ts';
import { sqliteDatabase, type Database, type Sql } from './sql.ts';
import { conversationsRepo } from './conversations.ts';
import { inboxRepo } from './inbox.ts';
import { turnsRepo } from './turns.ts';
import { outboxRepo } from './outbox.ts';
import { paymentsRepo } from './payments.ts';
import { refundsRepo } from './refunds.ts';
import { guardDecisionsRepo } from './guard-decisions.ts';
import { approvalsRepo } from './approvals.ts';
import { mandatesRepo } from './mandates.ts';
import { creditNotesRepo } from './fiscal.ts';
import { casesRepo } from './cases.ts';
import { jobsRepo } from './jobs.ts';
import { webhookEventsRepo } from './webhook-events.ts';
import { promptsRepo } from './prompts.ts';
import { usersRepo } from './users.ts';
import { consoleQueries } from './console-queries.ts';
import { identityRepo } from './identity.ts';
import { consoleWorkRepo } from './console-work.ts';
import { evalsRepo } from './evals.ts';
import { leasesRepo } from './leases.ts';
import { ratesRepo } from './rates.ts';
import { sandboxSecretsRepo } from './sandbox-secrets.ts';
import { providerCacheRepo } from './provider-cache.ts';

/** Every aggregate's repository over one database: the only place SQL lives. */
export function repositories(sql: Sql) {
  return {
    conversations: conversationsRepo(sql),
    inbox: inboxRepo(sql),
    turns: turnsRepo(sql),
    outbox: outboxRepo(sql),
    payments: paymentsRepo(sql),
    refunds: refundsRepo(sql),
    guardDecisions: guardDecisionsRepo(sql),
    approvals: approvalsRepo(sql),
    mandates: mandatesRepo(sql),
    creditNotes: creditNotesRepo(sql),
    cases: casesRepo(sql),
    jobs: jobsRepo(sql),
    webhookEvents: webhookEventsRepo(sql),
    prompts: promptsRepo(sql),
    users: usersRepo(sql),
    consoleQueries: consoleQueries(sql),
    identity: identityRepo(sql),
    consoleWork: consoleWorkRepo(sql),
    evals: evalsRepo(sql),
    leases: leasesRepo(sql),
    rates: ratesRepo(sql),
    sandboxSecrets: sandboxSecretsRepo(sql),
    providerCache: providerCacheRepo(sql),
  };
}

export type Repositories = Awaited<ReturnType<typeof repositories>>;

/**
 * The store: the repositories over a database, plus its unit of work. Inside
 * `tx`, the store's own repositories join the transaction (see data/sql.ts),
 * so code written against `store` needs no second set of names.
 */
export interface Store extends Repositories {
  readonly database: Database;
  /** This process's name in leases (a refund's rail call, a job, a message, a turn). */
  readonly owner: string;
  /** The stable part of `owner` (machine + DATA_DIR for a server): what a restart gives back. */
  readonly ownerPrefix: string;
  readonly dialect: Database['dialect'];
  /** The better-sqlite3 handle on SQLite (pragmas, file-level checks); null on PostgreSQL. */
  readonly sqlite: Db | null;
  /** One transaction; `fn` may await only the database. */
  tx<T>(fn: (t: Repositories) => Promise<T>): Promise<T>;
  /** A transaction-scoped lock on `key` (serialises e.g. one mandate's window cap on PostgreSQL). */
  lock(key: string): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * `owner` names this process in leases: a stable prefix (a server passes its machine
 * and DATA_DIR, `ownerFor`, so that after a crash it recognises what its previous life
 * held) and a per-process nonce (two hosts with the same name and path never share one).
 */
export function createStore(database: Database, options: { ownerPrefix?: string } = {}): Store {
  const ownerPrefix = options.ownerPrefix ?? `${hostname()}:${process.pid}`;
  const repos = repositories(database);
  return {
    ...repos,
    database,
    owner: `${ownerPrefix}:${randomBytes(4).toString('hex')}`,
    ownerPrefix,
    dialect: database.dialect,
    sqlite: 'db' in database ? (database as { db: Db }).db : null,
    tx: (fn) => database.tx(() => fn(repos)),
    lock: (key) => database.lock(key),
    ping: () => database.ping(),
    close: () => database.close(),
  };
}

export const DB_FILE = 'estorno.db';

export function openStore(dataDir: string, options: { busyTimeoutMs?: number } = {}): Store {
  return createStore(sqliteDatabase(openDb(path.join(dataDir, DB_FILE), options)), { ownerPrefix: ownerFor(dataDir) });
}

/** The stable part of a server's lease owner: this machine and its DATA_DIR (one process per DATA_DIR, by the data-dir lock). */
export function ownerFor(dataDir: string): string {
  return `${hostname()}:${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
}
