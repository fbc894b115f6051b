import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTrioBody } from '../../providers/trio.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';

/**
 * At least 5,000 random and mutated payloads to each webhook: wrong types,
 * missing fields, huge strings, broken UTF-8, deep nesting, __proto__ and
 * constructor keys, wrong content types. Never a 5xx, never a crash, and the
 * store stays consistent.
 */
const PER_WEBHOOK = 5_000;

const valid = { type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId: 'X', phone: MARINA.whatsapp, fromMe: false, isGroup: false, momment: 1, text: { message: 'oi' } };
const validPix = { ref_id: 'r', category: 'collecting_document_refund', type: 'settled', timestamp: '2026-11-23T00:00:00Z', data: { id: 'r', collecting_document_id: 'd', amount: { amount: 1, currency: 'BRL' }, end_to_end_id: 'D1' } };

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('__proto__', 'constructor', 'toString', '5511987654321@lid', '-group', '', ' ', 'x'.repeat(70_000), '\u0000', '\ud800', '<script>alert(1)</script>', '1e309', '-0'),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'message', 'type'), fc.jsonValue(), { maxKeys: 3 }),
);

/** A valid event with one field changed, removed or polluted. */
function mutate(base: Record<string, unknown>) {
  return fc.tuple(fc.constantFrom(...Object.keys(base), 'text.message', 'data.id', '__proto__', 'constructor', 'extra'), fc.constantFrom('set', 'delete', 'nest'), nasty, fc.string({ maxLength: 12 })).map(([key, op, value, id]) => {
    const copy = structuredClone(base) as Record<string, unknown>;
    if (typeof copy.messageId === 'string') copy.messageId = `F${id}`;
    const [head, tail] = key.split('.') as [string, string | undefined];
    const target = tail ? ((copy[head] ??= {}) as Record<string, unknown>) : copy;
    const k = tail ?? head;
    if (op === 'delete') delete target[k];
    else if (op === 'nest') target[k] = { [k]: { [k]: value } };
    else Object.defineProperty(target, k, { value, enumerable: true, configurable: true, writable: true });
    return JSON.stringify(copy);
  });
}

const deep = fc.integer({ min: 10, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const brokenUtf8 = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.concat([Buffer.from('{"type":"ReceivedCallback","messageId":"'), Buffer.from(bytes), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]));

function payloads(base: Record<string, unknown>) {
  return fc.oneof(
    { arbitrary: mutate(base), weight: 5 },
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: brokenUtf8, weight: 1 },
  );
}

describe('fuzzing the webhooks', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno({ MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: '10000' });
  });
  afterAll(async () => {
    await e.stop();
  });

  async function blast(url: string, bodies: Array<string | Buffer>, headersFor: (body: string | Buffer, i: number) => Record<string, string>) {
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const body = bodies[i] as string | Buffer;
          const res = await fetch(url, { method: 'POST', headers: headersFor(body, i), body });
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    return statuses;
  }

  it(`never answers 5xx to ${PER_WEBHOOK} random Z-API payloads, and the store stays consistent`, async () => {
    const bodies = fc.sample(payloads(valid), { numRuns: PER_WEBHOOK, seed: 42 });
    const contentTypes = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'];
    const statuses = await blast(`${e.url}/webhooks/zapi/${e.webhookToken}`, bodies, (_b, i) => ({ 'content-type': contentTypes[i % contentTypes.length] as string }));
    const codes = [...statuses.keys()];
    expect(codes.filter((c) => c >= 500)).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(400)).toBeGreaterThan(100);
    await e.settle();
    const sql = e.services.store.database;
    if (e.services.store.sqlite) expect(e.services.store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(await sql.one("SELECT COUNT(*) AS n FROM inbox WHERE kind = 'text' AND conversation_id IS NULL")).toEqual({ n: 0 });
    expect(await sql.one("SELECT COUNT(*) AS n FROM turns WHERE status = 'running'")).toEqual({ n: 0 });
    expect(await sql.one('SELECT COUNT(*) AS n FROM refunds')).toEqual({ n: 0 });
    expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
    // eslint-disable-next-line no-console
    console.info(`zapi fuzz: ${bodies.length} payloads, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 180_000);

  it(`never answers 5xx to ${PER_WEBHOOK} random Pix rail payloads, signed or not`, async () => {
    const bodies = fc.sample(payloads(validPix), { numRuns: PER_WEBHOOK, seed: 7 });
    const { webhookSecret, webhookSigningKey } = SANDBOX_CREDENTIALS.trio;
    const statuses = await blast(`${e.url}/webhooks/pix`, bodies, (body, i) => ({
      'content-type': i % 7 === 0 ? 'text/plain' : 'application/json',
      ...(i % 5 !== 0 ? { 'x-webhook-secret': webhookSecret } : {}),
      ...(i % 3 !== 0 ? { 'x-webhook-signature': signTrioBody(typeof body === 'string' ? Buffer.from(body) : body, webhookSigningKey) } : { 'x-webhook-signature': 'AB'.repeat(32) }),
    }));
    expect([...statuses.keys()].filter((c) => c >= 500)).toEqual([]);
    expect(statuses.get(401)).toBeGreaterThan(100);
    expect((statuses.get(400) ?? 0) + (statuses.get(422) ?? 0) + (statuses.get(200) ?? 0)).toBeGreaterThan(100);
    if (e.services.store.sqlite) expect(e.services.store.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(await e.services.store.database.one("SELECT COUNT(*) AS n FROM refunds WHERE status = 'settled'")).toEqual({ n: 0 });
    // eslint-disable-next-line no-console
    console.info(`pix fuzz: ${bodies.length} payloads, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 180_000);
});
