import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './db.ts';

/**
 * The one way repositories reach a database, whichever it is.
 *
 * SQL is written once, in the subset both SQLite and PostgreSQL speak:
 * positional `?` or named `@name` parameters (the PostgreSQL executor rewrites
 * them to `$n`), `ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING`, `COALESCE`,
 * `CASE`. Where the dialects differ a repository asks `sql.dialect`.
 *
 * Timestamps are ISO-8601 strings in and out on both (PostgreSQL stores
 * `timestamptz` and the executor reads it back as ISO text); integers come
 * back as JavaScript numbers (cents fit: 2^53 is far away).
 */
export type Param = string | number | bigint | boolean | null | Buffer;
/** Positional values, or one object whose keys name the `@name` parameters. */
export type Params = Param[] | [object];

export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  /** The first row, or undefined. */
  one<T>(text: string, ...params: Params): Promise<T | undefined>;
  all<T>(text: string, ...params: Params): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(text: string, ...params: Params): Promise<number>;
  /**
   * Runs `fn` once what was written so far is committed: after the open
   * transaction commits (never if it rolls back or is retried), or at once
   * outside one. For in-process caches of rows that must exist.
   */
  afterCommit(fn: () => void): void;
}

/** A database with transactions: what a store is built on. */
export interface Database extends Sql {
  /**
   * Runs `fn` as one transaction (SQLite: BEGIN IMMEDIATE, so the write lock is
   * taken up front; PostgreSQL: one pooled connection, READ COMMITTED, with row
   * locks where a repository asks for them). `fn` may await only this database,
   * never a provider. Everything the repositories do while `fn` runs — through
   * `t` or through the store itself — belongs to the transaction. A `tx` inside
   * a `tx` joins the outer one.
   */
  tx<T>(fn: (t: Sql) => Promise<T>): Promise<T>;
  /** Takes a transaction-scoped lock on `key` (PostgreSQL: pg_advisory_xact_lock; SQLite: the write lock already serialises). */
  lock(key: string): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * SQLite through better-sqlite3: one connection, synchronous underneath.
 * A transaction stays open across awaits, so while one is open every other
 * caller waits its turn (a FIFO) instead of running inside it; calls made
 * from within the transaction (found through AsyncLocalStorage) run in it.
 */
export function sqliteDatabase(db: Db): Database & { readonly db: Db } {
  // The open transaction the current async context belongs to. A timer started
  // inside a transaction keeps the context after the commit: `open` tells.
  const inTx = new AsyncLocalStorage<{ open: boolean; committed: Array<() => void> }>();
  // The turn to use the connection: one holder at a time, the others queued in order.
  let held = false;
  const queue: Array<() => void> = [];

  async function waitTurn(): Promise<() => void> {
    if (held) await new Promise<void>((resolve) => queue.push(resolve));
    held = true;
    return () => {
      const next = queue.shift();
      if (next) next(); // handed straight to the next in line: `held` stays true
      else held = false;
    };
  }

  function bind(params: Params): unknown[] {
    return (params as unknown[]).map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  }

  const exec = {
    one<T>(text: string, params: Params): T | undefined {
      return db.prepare(text).get(...bind(params)) as T | undefined;
    },
    all<T>(text: string, params: Params): T[] {
      return db.prepare(text).all(...bind(params)) as T[];
    },
    run(text: string, params: Params): number {
      return db.prepare(text).run(...bind(params)).changes;
    },
  };

  /** Runs `work` now when inside the open transaction or when none is open; otherwise after it. */
  async function outside<T>(work: () => T): Promise<T> {
    if (inTx.getStore()?.open || !held) return work();
    const release = await waitTurn();
    try {
      return work();
    } finally {
      release();
    }
  }

  const self: Database & { readonly db: Db } = {
    dialect: 'sqlite',
    db,
    one: (text, ...params) => outside(() => exec.one(text, params)),
    all: (text, ...params) => outside(() => exec.all(text, params)),
    run: (text, ...params) => outside(() => exec.run(text, params)),
    afterCommit(fn) {
      const scope = inTx.getStore();
      if (scope?.open) scope.committed.push(fn);
      else fn();
    },
    async tx(fn) {
      if (inTx.getStore()?.open) return fn(self);
      const release = await waitTurn();
      const scope = { open: true, committed: [] as Array<() => void> };
      try {
        db.prepare('BEGIN IMMEDIATE').run();
        let result: Awaited<ReturnType<typeof fn>>;
        try {
          result = await inTx.run(scope, () => fn(self));
        } catch (error) {
          if (db.inTransaction) db.prepare('ROLLBACK').run();
          throw error;
        }
        // COMMIT runs in this same tick: nothing else can slip into the transaction first.
        scope.open = false;
        db.prepare('COMMIT').run();
        for (const done of scope.committed) done();
        return result;
      } finally {
        scope.open = false;
        release();
      }
    },
    async lock() {
      // BEGIN IMMEDIATE already holds the only write lock there is.
    },
    async ping() {
      return (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
    },
    async close() {
      if (db.open) db.close();
    },
  };
  return self;
}
