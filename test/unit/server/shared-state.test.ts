import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { storedModelCallBudget } from '../../../agent/budget.ts';
import { LoginThrottle } from '../../../console/auth.ts';
import { parseConfig } from '../../../core/config.ts';
import { createLogger } from '../../../core/logger.ts';
import { migrate } from '../../../data/pg/migrate.ts';
import { createStore, openStore, type Store } from '../../../data/store.ts';
import { LiveEvents, type LiveEvent } from '../../../server/events.ts';
import { secretsFor } from '../../../server/secrets.ts';
import { waitFor } from '../../helpers/estorno.ts';
import { freshPgDatabase, PG_URL, testSchemaName } from '../../helpers/pg.ts';
import { pgSuite } from '../../helpers/test-store.ts';

/**
 * Issue 16: what replicas share through the database — live events
 * (NOTIFY/LISTEN), the login throttle and the model-call budget (rate_events)
 * and the sandbox's generated secrets. "Two replicas" here are two stores
 * (two pools) on one PostgreSQL schema; the counters also run on SQLite.
 */
const available = await pgSuite('shared-state.test, PostgreSQL parts');

const logger = createLogger({ level: 'silent', format: 'json' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two stores on one new schema, as two replicas would have. */
async function pgReplicas(n = 2): Promise<{ schema: string; stores: Store[] }> {
  const schema = testSchemaName();
  const dbs = Array.from({ length: n }, () => freshPgDatabase({ schema }));
  await migrate(dbs[0]!);
  cleanups.push(async () => {
    for (const db of dbs) await db.close();
  });
  return { schema, stores: dbs.map((db) => createStore(db)) };
}

function sqliteStore(): Store {
  const dir = mkdtempSync(path.join(tmpdir(), 'estorno-shared-'));
  const store = openStore(dir);
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

describe.skipIf(!available)('live console events across replicas (PostgreSQL NOTIFY/LISTEN)', () => {
  function events(_schema: string): LiveEvents {
    const e = new LiveEvents();
    cleanups.push(() => e.close());
    return e;
  }

  it("delivers one replica's event to another replica's subscriber, once to its own, and never to another schema", async () => {
    const schema = testSchemaName();
    const other = testSchemaName();
    const [a, b, c] = [events(schema), events(schema), events(other)];
    await a.listenAcross({ url: PG_URL, schema, logger });
    await b.listenAcross({ url: PG_URL, schema, logger });
    await c.listenAcross({ url: PG_URL, schema: other, logger });
    const got: Record<string, LiveEvent[]> = { a: [], b: [], c: [] };
    a.subscribe((e) => got.a!.push(e));
    b.subscribe((e) => got.b!.push(e));
    c.subscribe((e) => got.c!.push(e));
    a.publish({ type: 'message_in', conversationId: 'cv_1' });
    await waitFor("b to get a's event", () => got.b!.length === 1, 5_000, 20);
    await sleep(300);
    expect(got.b![0]).toMatchObject({ type: 'message_in', conversationId: 'cv_1' });
    expect(typeof got.b![0]!.at).toBe('string');
    expect(got.a!.map((e) => e.type)).toEqual(['message_in']);
    expect(got.c).toEqual([]);
    b.publish({ type: 'refund', conversationId: 'cv_1', refundId: 'rf_1' });
    await waitFor("a to get b's event", () => got.a!.length === 2, 5_000, 20);
    expect(got.a![1]).toMatchObject({ type: 'refund', refundId: 'rf_1' });
  });

  it('listens again after its connection drops, and tells its subscribers to reload', async () => {
    const schema = testSchemaName();
    const [a, b] = [events(schema), events(schema)];
    await a.listenAcross({ url: PG_URL, schema, logger });
    await b.listenAcross({ url: PG_URL, schema, logger });
    const got: LiveEvent[] = [];
    b.subscribe((e) => got.push(e));
    b.dropListener();
    await waitFor('the resync', () => got.some((e) => e.type === 'resync'), 5_000, 20);
    a.publish({ type: 'handoff', conversationId: 'cv_2' });
    await waitFor('the handoff after listening again', () => got.some((e) => e.type === 'handoff'), 5_000, 20);
  });
});

describe.each([
  ['SQLite', async () => { const s = sqliteStore(); return [s, s]; }],
  ['PostgreSQL (two replicas)', async () => (await pgReplicas(2)).stores],
] as const)('counters every replica shares, on %s', (name, make) => {
  const skip = name.startsWith('PostgreSQL') && !available;

  it.skipIf(skip)('the login throttle counts before hashing: of 40 parallel attempts over two replicas, 10 pass; a success clears it', async () => {
    const [s1, s2] = await make();
    const t1 = new LoginThrottle(() => s1!);
    const t2 = new LoginThrottle(() => s2!);
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? t1 : t2).attempt('ana@x|1.2.3.4', now)));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(await t1.attempt('bia@x|1.2.3.4', now)).toBe(true);
    // 15 minutes later the window is empty again.
    expect(await t2.attempt('ana@x|1.2.3.4', now + 15 * 60_000 + 1)).toBe(true);
    await t1.clear('ana@x|1.2.3.4');
    expect(await t2.attempt('ana@x|1.2.3.4', now)).toBe(true);
  });

  it.skipIf(skip)('the model-call budget: per customer and for everyone, over both replicas, with the wait until a call frees', async () => {
    const [s1, s2] = await make();
    let t = 1_000_000;
    const b1 = storedModelCallBudget(() => s1!, 2, 60_000, () => t, 5);
    const b2 = storedModelCallBudget(() => s2!, 2, 60_000, () => t, 5);
    const waits = await Promise.all([b1('a'), b2('a'), b1('a'), b2('a')]);
    expect(waits.filter((w) => w === 0)).toHaveLength(2);
    expect(Math.min(...waits.filter((w) => w > 0))).toBe(60_001);
    // Two calls made, three left for everyone: one of four other customers waits, whichever loses the race.
    const others = await Promise.all([b1('b'), b2('c'), b1('d'), b2('e')]);
    expect(others.filter((w) => w === 0)).toHaveLength(3);
    expect(others.filter((w) => w === 60_001)).toHaveLength(1);
    t += 30_000;
    expect(await b2('f')).toBe(30_001);
    t += 30_001;
    expect(await b1('a')).toBe(0);
  });
});

describe.skipIf(!available)('sandbox secrets on PostgreSQL', () => {
  it('two replicas starting at once generate one webhook token, one password and one key pair, and read the same', async () => {
    const { schema, stores } = await pgReplicas(3);
    const dirs = stores.map(() => mkdtempSync(path.join(tmpdir(), 'estorno-secrets-')));
    cleanups.push(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const all = await Promise.all(
      stores.map(async (store, i) => {
        const config = parseConfig({ DATA_DIR: dirs[i]!, DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema });
        expect(config.sandbox).toBe(true);
        const secrets = secretsFor(config, () => store);
        expect(secrets.where).toBe('database');
        const [token, password, mandate, receipt] = await Promise.all([
          secrets.get('zapi-webhook-token'),
          secrets.get('console-admin-password'),
          secrets.signingKey('mandate-ed25519', undefined),
          secrets.signingKey('receipt-ed25519', undefined),
        ]);
        return { token, password, mandate: mandate.keyId, receipt: receipt.keyId };
      }),
    );
    expect(new Set(all.map((s) => JSON.stringify(s))).size).toBe(1);
    expect(all[0]!.mandate).not.toBe(all[0]!.receipt);
    // Each replica's DATA_DIR holds a copy (0600) of what the database holds, for the local tools.
    const { readFileSync, statSync } = await import('node:fs');
    for (const d of dirs) {
      expect(readFileSync(path.join(d, 'zapi-webhook-token'), 'utf8')).toBe(all[0]!.token);
      expect(statSync(path.join(d, 'keys', 'receipt-ed25519.pem')).mode & 0o777).toBe(0o600);
    }
  });

  it('on SQLite the secrets stay files under DATA_DIR', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-secrets-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = sqliteStore();
    expect(secretsFor(parseConfig({ DATA_DIR: dir }), () => store).where).toBe('data_dir');
  });
});
