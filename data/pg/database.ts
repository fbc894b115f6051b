import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { Database, Param, Params, Sql } from '../sql.ts';

/**
 * PostgreSQL behind the same `Database` contract as `sqliteDatabase` (data/sql.ts):
 *
 * - SQL is written with SQLite's placeholders, `?` or `@name`; they are
 *   rewritten once per SQL text to `$1…$n` (see `rewriteParams`).
 * - Values come back as the SQLite side gives them: int8 and numeric (COUNT,
 *   SUM, AVG) as JavaScript numbers, booleans as 0/1, `timestamptz` as ISO-8601
 *   text with milliseconds and `Z`, json/jsonb as text.
 * - `tx(fn)` holds one pooled connection for `fn`; every call made while `fn`
 *   runs — through `t` or through this object — goes to that connection
 *   (AsyncLocalStorage). A `tx` inside a `tx` joins the outer one. A
 *   serialization failure or deadlock retries the whole outer transaction.
 *
 * One difference SQLite does not have: inside a transaction, a statement that
 * fails (a unique violation, say) aborts the whole transaction; catching the
 * error and going on does not work. Write `ON CONFLICT … DO NOTHING` instead.
 */
export interface PostgresDatabase extends Database {
  readonly dialect: 'postgres';
  readonly pool: pg.Pool;
  /** The schema given in the options (every connection's search_path), if any. */
  readonly schema: string | undefined;
  /** Drops the schema given in the options with everything in it (test clean-up). */
  dropSchema(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  /** A schema of its own (created if missing): every pooled connection gets `search_path` to it. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Errors of idle pooled connections (the server went away); they are otherwise swallowed. */
  onError?: (error: Error) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_ATTEMPTS = 5;

// ---------------------------------------------------------------------------
// Placeholders

export interface Rewritten {
  /** The SQL with `$1…$n`. */
  text: string;
  /** Named parameters in `$n` order (`@a … @a` reuses one number), or null for positional `?`. */
  names: string[] | null;
  /** How many `?` there were (positional only). */
  count: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/**
 * `?` → `$1, $2…` in order; `@name` → `$n`, one number per distinct name.
 * Text inside '…' literals (and E'…' with backslash escapes), "…" identifiers,
 * $tag$…$tag$ bodies, `--` line and `/* *\/` block comments is left alone.
 * One statement uses one style: mixing `?` and `@name` throws. PostgreSQL's
 * jsonb `?` operators cannot be written in this SQL (use `jsonb_exists`).
 */
export function rewriteParams(sql: string): Rewritten {
  let out = '';
  let positional = 0;
  const named = new Map<string, number>();
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'") {
      // E'…' strings take backslash escapes; standard ones only ''.
      const escaped = i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !IDENT_PART.test(sql[i - 2]!));
      let j = i + 1;
      while (j < n) {
        if (escaped && sql[j] === '\\') j += 2;
        else if (sql[j] === "'") {
          if (sql[j + 1] === "'") j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const j = end === -1 ? n : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const j = end === -1 ? n : end + 2;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '$' && (next === '$' || (next !== undefined && IDENT_START.test(next))) && (i === 0 || !IDENT_PART.test(sql[i - 1]!))) {
      // A dollar-quoted body ($$…$$ or $tag$…$tag$); `$1` is not one (a digit follows).
      const close = sql.indexOf('$', i + 1);
      const tag = close === -1 ? '' : sql.slice(i, close + 1);
      if (close !== -1 && /^\$[A-Za-z_0-9]*\$$/.test(tag)) {
        const end = sql.indexOf(tag, close + 1);
        const j = end === -1 ? n : end + tag.length;
        out += sql.slice(i, j);
        i = j;
      } else {
        out += c;
        i++;
      }
    } else if (c === '?') {
      if (named.size > 0) throw new TypeError(`SQL mixes ? and @name placeholders: ${sql}`);
      positional++;
      out += `$${positional}`;
      i++;
    } else if (c === '@' && next !== undefined && IDENT_START.test(next)) {
      if (positional > 0) throw new TypeError(`SQL mixes ? and @name placeholders: ${sql}`);
      let j = i + 1;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      const name = sql.slice(i + 1, j);
      let number = named.get(name);
      if (number === undefined) {
        number = named.size + 1;
        named.set(name, number);
      }
      out += `$${number}`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, names: named.size > 0 ? [...named.keys()] : null, count: positional };
}

function toValue(p: Param | undefined): unknown {
  if (typeof p === 'boolean') return p ? 1 : 0; // flags are integer columns, as on SQLite
  if (typeof p === 'bigint') return p.toString();
  // PostgreSQL text cannot hold U+0000 (22021; SQLite can): a NUL from outside (a fuzzed webhook) is
  // stored as U+FFFD, the replacement character, instead of failing the statement.
  if (typeof p === 'string' && p.includes('\u0000')) return p.replaceAll('\u0000', '\uFFFD');
  return p;
}

/** The values in `$n` order for a rewritten statement. */
export function bindValues(rewritten: Rewritten, params: Params, sql: string): unknown[] {
  if (rewritten.names) {
    const bag = params[0];
    if (params.length !== 1 || bag === null || typeof bag !== 'object' || Buffer.isBuffer(bag)) {
      throw new TypeError(`SQL with @name placeholders takes one object of values: ${sql}`);
    }
    const record = bag as Record<string, Param>;
    return rewritten.names.map((name) => {
      if (!(name in record)) throw new RangeError(`Missing named parameter "${name}"`);
      return toValue(record[name]);
    });
  }
  if (params.length !== rewritten.count) {
    throw new RangeError(`SQL takes ${rewritten.count} parameter(s), got ${params.length}: ${sql}`);
  }
  return (params as Param[]).map(toValue);
}

// ---------------------------------------------------------------------------
// Types

const OID = { bool: 16, int8: 20, numeric: 1700, date: 1082, timestamp: 1114, timestamptz: 1184, json: 114, jsonb: 3802 } as const;

function isoFromTimestamptz(value: string): string | number {
  if (value === 'infinity' || value === '-infinity') return value;
  const date = pg.types.getTypeParser(OID.timestamptz)(value) as Date;
  return date.toISOString();
}

/** Type parsers of this pool only (the `pg` module's global ones stay untouched). */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    switch (oid) {
      case OID.int8:
      case OID.numeric:
        return (v: string) => Number(v);
      case OID.bool:
        return (v: string) => (v === 't' ? 1 : 0);
      case OID.timestamptz:
        return isoFromTimestamptz;
      case OID.timestamp:
        // A timestamp without zone is read as UTC (the app never stores local times).
        return (v: string) => (v.includes('infinity') ? v : new Date(`${v.replace(' ', 'T')}Z`).toISOString());
      case OID.date:
      case OID.json:
      case OID.jsonb:
        return (v: string) => v;
      default:
        return pg.types.getTypeParser(oid, 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

// ---------------------------------------------------------------------------
// The database

function jitter(attempt: number): Promise<void> {
  const ms = Math.random() * 20 * 2 ** attempt; // up to 40, 80, 160, 320 ms
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export function postgresDatabase(options: PostgresOptions): PostgresDatabase {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new TypeError(`Schema name must match ${SCHEMA_NAME}: ${schema}`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    types: typeParsers,
    // Set at connection start-up, before any statement can run on the connection. UTC: a
    // timestamptz turned into text in SQL (::text, json) reads as the ISO text the app writes.
    options: `-c TimeZone=UTC${schema ? ` -c search_path=${schema}` : ''}`,
  });
  pool.on('error', (error) => options.onError?.(error));

  const cache = new Map<string, Rewritten>();
  function prepare(text: string): Rewritten {
    let rewritten = cache.get(text);
    if (!rewritten) {
      if (cache.size >= 2_000) cache.delete(cache.keys().next().value as string);
      rewritten = rewriteParams(text);
      cache.set(text, rewritten);
    }
    return rewritten;
  }

  let ready: Promise<void> | null = null;
  function whenReady(): Promise<void> {
    if (!schema) return Promise.resolve();
    ready ??= pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).then(
      () => undefined,
      (error: unknown) => {
        // Two pools creating the same schema at once: the loser sees a duplicate.
        if (codeOf(error) === '23505' || codeOf(error) === '42P06') return;
        ready = null;
        throw error;
      },
    );
    return ready;
  }

  // The transaction's connection, for everything `fn` awaits. A timer or an unawaited promise started
  // inside `fn` inherits this context and may run after the transaction ended: `open` is then false
  // and it goes to the pool like any other call (never to a connection handed to someone else).
  const current = new AsyncLocalStorage<{ client: pg.PoolClient; open: boolean; committed: Array<() => void> }>();
  const inTx = () => {
    const held = current.getStore();
    return held?.open ? held.client : undefined;
  };

  async function query<T>(text: string, params: Params): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    const rewritten = prepare(text);
    const values = bindValues(rewritten, params, text);
    const client = inTx();
    if (client) return client.query<T & pg.QueryResultRow>(rewritten.text, values);
    await whenReady();
    return pool.query<T & pg.QueryResultRow>(rewritten.text, values);
  }

  async function attempt<T>(fn: (t: Sql) => Promise<T>): Promise<T> {
    await whenReady();
    const client = await pool.connect();
    const held = { client, open: true, committed: [] as Array<() => void> };
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await current.run(held, () => fn(self));
        held.open = false;
        await client.query('COMMIT');
        for (const done of held.committed) done();
        return result;
      } catch (error) {
        held.open = false;
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone: do not hand it out again
        }
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  const self: PostgresDatabase = {
    dialect: 'postgres',
    pool,
    schema,
    async one<T>(text: string, ...params: Params) {
      return (await query<T>(text, params)).rows[0] as T | undefined;
    },
    async all<T>(text: string, ...params: Params) {
      return (await query<T>(text, params)).rows as T[];
    },
    async run(text, ...params) {
      return (await query(text, params)).rowCount ?? 0;
    },
    afterCommit(fn) {
      const held = current.getStore();
      if (held?.open) held.committed.push(fn);
      else fn();
    },
    async tx<T>(fn: (t: Sql) => Promise<T>): Promise<T> {
      if (inTx()) return fn(self);
      for (let n = 1; ; n++) {
        try {
          return await attempt(fn);
        } catch (error) {
          const code = codeOf(error);
          if (n >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error;
          await jitter(n);
        }
      }
    },
    async lock(key) {
      const client = inTx();
      if (!client) throw new Error('lock() must be called inside tx(): the lock lasts until the transaction ends');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
    },
    async ping() {
      try {
        const row = await self.one<{ ok: number }>('SELECT 1 AS ok');
        return row?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (!pool.ended && !pool.ending) await pool.end();
    },
    async dropSchema() {
      if (!schema) throw new Error('dropSchema() needs the schema option');
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
  return self;
}
