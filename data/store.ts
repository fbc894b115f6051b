import path from 'node:path';
import { openDb, type Db } from './db.ts';
import { conversationsRepo } from './conversations.ts';
import { inboxRepo } from './inbox.ts';
import { turnsRepo } from './turns.ts';
import { outboxRepo } from './outbox.ts';
import { paymentsRepo } from './payments.ts';
import { guardLogRepo } from './guard-log.ts';
import { mandatesRepo } from './mandates.ts';
import { creditNotesRepo } from './fiscal.ts';
import { casesRepo } from './cases.ts';
import { jobsRepo, webhookEventsRepo } from './jobs.ts';
import { promptsRepo } from './prompts.ts';
import { usersRepo } from './users.ts';
import { consoleQueries } from './console-queries.ts';
import { identityRepo } from './identity.ts';
import { consoleWorkRepo } from './console-work.ts';
import { evalsRepo } from './evals.ts';

/** Every aggregate's repository over one database handle: the only place SQL lives. */
export function createStore(db: Db) {
  // One transaction wrapper, built once: better-sqlite3 compiles BEGIN/COMMIT per wrapper.
  const tx = db.transaction((fn: () => unknown) => fn());
  return {
    db,
    conversations: conversationsRepo(db),
    inbox: inboxRepo(db),
    turns: turnsRepo(db),
    outbox: outboxRepo(db),
    payments: paymentsRepo(db),
    guardLog: guardLogRepo(db),
    mandates: mandatesRepo(db),
    creditNotes: creditNotesRepo(db),
    cases: casesRepo(db),
    jobs: jobsRepo(db),
    webhookEvents: webhookEventsRepo(db),
    prompts: promptsRepo(db),
    users: usersRepo(db),
    consoleQueries: consoleQueries(db),
    identity: identityRepo(db),
    consoleWork: consoleWorkRepo(db),
    evals: evalsRepo(db),
    /** Runs `fn` in a BEGIN IMMEDIATE transaction (the write lock is taken up front). */
    immediate<T>(fn: () => T): T {
      return tx.immediate(fn) as T;
    },
    close(): void {
      if (db.open) db.close();
    },
  };
}

export type Store = ReturnType<typeof createStore>;

export const DB_FILE = 'estorno.db';

export function openStore(dataDir: string, options: { busyTimeoutMs?: number } = {}): Store {
  return createStore(openDb(path.join(dataDir, DB_FILE), options));
}
