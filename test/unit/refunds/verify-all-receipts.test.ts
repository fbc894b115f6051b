import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, isCanonicalText } from '../../../core/canonical.ts';
import { loadSigningKey } from '../../../core/signing.ts';
import { DB_FILE, type Store } from '../../../data/store.ts';
import { PG_URL } from '../../helpers/pg.ts';
import { onPostgres, schemaFor, testStore } from '../../helpers/test-store.ts';
import { appendCaseRecord, sealCase } from '../../../refunds/cases.ts';
import { loadReceipt, verifyReceipt, verifyReceiptFast, type Receipt } from '../../../refunds/verify-receipt.ts';
import { verifyAllReceipts } from '../../../refunds/verify-all-receipts.ts';

/** Issue 15: bulk verification (streaming query, fast canonical check, worker threads) gives the reference verdicts. */

async function buildCase(store: Store, key: Awaited<ReturnType<typeof loadSigningKey>>, i: number, seal = true): Promise<string> {
  const id = `rcp_bulk${String(i).padStart(16, '0')}`;
  const at = `2026-11-23T00:00:${String(i % 60).padStart(2, '0')}.000Z`;
  await store.cases.open({ id, conversation_id: 'cv_1', order_number: String(8000 + i), status: 'open', created_at: at });
  await appendCaseRecord(store, id, 'complaint', { message_ids: ['A1'], text_sha256: 'ab'.repeat(32), 'é': 'ção "aspas"\n', '10': 1, '9': 2 }, at);
  await appendCaseRecord(store, id, 'verification', { order: { orderNumber: String(8000 + i), totalCents: 18600 + i, items: [{ description: 'Kit', quantity: 1 }] }, payment: { amountCents: 18600 + i, ratio: 0.1 } }, at);
  await appendCaseRecord(store, id, 'guard_decision', { decision: 'allowed', amount_cents: 18600 + i }, at);
  await appendCaseRecord(store, id, 'refund_status', { status: 'settled', end_to_end_id: 'D18236120202611220100sbx8421ret0' }, at);
  if (seal) await sealCase(store, key, id, 'settled', at);
  return id;
}

/** The ways a stored receipt can be tampered with, applied to a copy. */
const TAMPERINGS: Array<[string, (r: Receipt) => void]> = [
  ['edited field', (r) => { r.records[1]!.body = r.records[1]!.body.replace('Kit', 'Kat'); }],
  ['edited field, hash recomputed', (r) => { const x = r.records[2]!; x.body = x.body.replace('allowed', 'refused'); x.hash = createHash('sha256').update(x.body).digest('hex'); }],
  ['whitespace added', (r) => { r.records[0]!.body = r.records[0]!.body.replace(',', ', '); }],
  ['keys reordered', (r) => { const x = r.records[3]!; x.body = JSON.stringify(JSON.parse(x.body)); const o = JSON.parse(x.body) as Record<string, unknown>; x.body = JSON.stringify(Object.fromEntries(Object.entries(o).reverse())); }],
  ['integer keys in JavaScript order', (r) => { r.records[0]!.body = JSON.stringify(JSON.parse(r.records[0]!.body)); }],
  ['escaped differently', (r) => { r.records[0]!.body = r.records[0]!.body.replace('ção', '\\u00e7ão'); }],
  ['not JSON', (r) => { r.records[1]!.body = r.records[1]!.body.slice(1); }],
  ['records swapped', (r) => { [r.records[1], r.records[2]] = [r.records[2]!, r.records[1]!]; }],
  ['record deleted', (r) => { r.records.splice(1, 1); }],
  ['last record deleted', (r) => { r.records.pop(); }],
  ['signature swapped', (r) => { r.seal!.signature = Buffer.alloc(64, 7).toString('base64'); }],
  ['signature malformed', (r) => { r.seal!.signature = 'x'; }],
  ['seal head moved', (r) => { r.seal!.head_seq = 3; }],
];

describe('bulk receipt verification', () => {
  it('isCanonicalText answers exactly as re-serialising does, for any JSON text', () => {
    const json = fc.jsonValue();
    fc.assert(fc.property(json, fc.boolean(), (value, sorted) => {
      const text = sorted ? canonicalJson(value) : JSON.stringify(value);
      const parsed = JSON.parse(text) as unknown;
      expect(isCanonicalText(parsed, text)).toBe(canonicalJson(parsed) === text);
    }), { numRuns: 2000 });
  });

  it('verifyReceiptFast gives verifyReceipt\'s verdict on valid and tampered receipts', async () => {
    const store = await testStore();
    const key = loadSigningKey(mkdtempSync(path.join(tmpdir(), 'estorno-keys-')), 'receipt-ed25519');
    const receipt = await loadReceipt(store, await buildCase(store, key, 1)) as Receipt;
    const open = await loadReceipt(store, await buildCase(store, key, 2, false)) as Receipt;
    expect(verifyReceiptFast(receipt, key.publicKey)).toEqual({ valid: true, sealed: true, outcome: 'settled', records: 4 });
    expect(verifyReceiptFast(open, key.publicKey, { requireSeal: true })).toEqual(verifyReceipt(open, key.publicKey, { requireSeal: true }));
    for (const [name, tamper] of TAMPERINGS) {
      const copy = structuredClone(receipt);
      tamper(copy);
      const reference = verifyReceipt(copy, key.publicKey);
      expect(reference.valid, name).toBe(false);
      expect(verifyReceiptFast(copy, key.publicKey), name).toEqual(reference);
    }
    await store.close();
  });

  it('verifies a whole database, in this thread and on worker threads, with the reference verdicts in case-id order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-bulk-'));
    const store = await testStore(dir);
    const key = loadSigningKey(dir, 'receipt-ed25519');
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await buildCase(store, key, i, i % 5 !== 0));
    await store.cases.open({ id: 'rcp_bulkempty', conversation_id: 'cv_1', order_number: '1', status: 'open', created_at: '2026-11-23T00:01:00.000Z' });
    ids.push('rcp_bulkempty');
    // Tamper with the stored rows (the triggers forbid it: an attacker with the file, or the database owner, removes them first).
    if (store.sqlite) store.sqlite.exec('DROP TRIGGER case_records_no_update; DROP TRIGGER case_records_no_delete; DROP TRIGGER case_seals_no_update');
    else await store.database.run('ALTER TABLE case_records DISABLE TRIGGER USER; ALTER TABLE case_seals DISABLE TRIGGER USER');
    await store.database.run("UPDATE case_records SET body = replace(body, '18603', '18604') WHERE case_id = ? AND seq = 2", ids[3]!);
    await store.database.run('DELETE FROM case_records WHERE case_id = ? AND seq = 3', ids[7]!);
    await store.database.run("UPDATE case_seals SET signature = ? WHERE case_id = ?", Buffer.alloc(64, 1).toString('base64'), ids[11]!);
    await store.database.run("UPDATE case_records SET body = replace(body, '\"ab', ' \"ab') WHERE case_id = ? AND seq = 1", ids[13]!);
    const reference = [];
    for (const id of [...ids].sort()) reference.push({ id, verdict: verifyReceipt((await loadReceipt(store, id))!, key.publicKey) });
    expect(reference.filter((r) => !r.verdict.valid).map((r) => r.id)).toEqual([ids[3], ids[7], ids[11], ids[13]].sort());
    await store.close();
    // PostgreSQL: each worker thread opens a pool of its own on the schema.
    const source = onPostgres ? { url: PG_URL, schema: schemaFor(dir) } : { dbFile: path.join(dir, DB_FILE) };
    expect(await verifyAllReceipts(source, key.publicKeyPem, { workers: 1 })).toEqual(reference);
    expect(await verifyAllReceipts(source, key.publicKeyPem, { workers: 2 })).toEqual(reference);
    expect(await verifyAllReceipts(source, key.publicKeyPem, { workers: 3 })).toEqual(reference);
  });
});
