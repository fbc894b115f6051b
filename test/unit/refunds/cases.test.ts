import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../data/store.ts';
import { testStore } from '../../helpers/test-store.ts';
import { loadSigningKey, type SigningKey } from '../../../core/signing.ts';
import { appendCaseRecord, sealCase } from '../../../refunds/cases.ts';
import { loadReceipt, verifyReceipt, type Receipt } from '../../../refunds/verify-receipt.ts';

async function buildCase(store: Store, key: SigningKey): Promise<string> {
  const id = 'rcp_test0000000000000001';
  await store.cases.open({ id, conversation_id: 'cv_1', order_number: '8421', status: 'open', created_at: '2026-11-23T00:00:00.000Z' });
  const at = '2026-11-23T00:00:01.000Z';
  await appendCaseRecord(store, id, 'complaint', { message_ids: ['A1'], text_sha256: 'ab'.repeat(32) }, at);
  await appendCaseRecord(store, id, 'verification', { order: { orderNumber: '8421', totalCents: 18600 }, payment: { amountCents: 18600 } }, at);
  await appendCaseRecord(store, id, 'guard_decision', { decision: 'allowed', amount_cents: 18600, mandate_id: 'cm_support', mandate_version: 1 }, at);
  await appendCaseRecord(store, id, 'refund_status', { status: 'settled', end_to_end_id: 'D18236120202611220100sbx8421ret0' }, at);
  await appendCaseRecord(store, id, 'credit_note', { number: '1', access_key: '3'.repeat(44) }, at);
  await appendCaseRecord(store, id, 'notification', { message_id: 'M1' }, at);
  await sealCase(store, key, id, 'settled', at);
  return id;
}

describe('sealed receipts', () => {
  let store: Store;
  let key: SigningKey;
  let receipt: Receipt;
  beforeEach(async () => {
    store = await testStore();
    key = loadSigningKey(mkdtempSync(path.join(tmpdir(), 'estorno-keys-')), 'receipt-ed25519');
    receipt = await loadReceipt(store, await buildCase(store, key)) as Receipt;
  });
  afterEach(async () => {
    await store.close();
  });

  const clone = (): Receipt => structuredClone(receipt);

  it('verifies an untouched sealed receipt', async () => {
    expect(verifyReceipt(receipt, key.publicKey)).toEqual({ valid: true, sealed: true, outcome: 'settled', records: 6 });
    expect((await store.cases.get(receipt.id))?.status).toBe('sealed');
  });

  it('detects an edited field in any record and names the step', () => {
    for (let i = 0; i < receipt.records.length; i++) {
      const r = clone();
      const record = r.records[i]!;
      record.body = record.body.replace(/"at":"2026/, '"at":"2027');
      const verdict = verifyReceipt(r, key.publicKey);
      expect(verdict).toMatchObject({ valid: false, step: `record ${i + 1} (${record.kind})` });
    }
  });

  it('detects an edit that recomputes the record hash (the next link breaks)', () => {
    const r = clone();
    const record = r.records[2]!;
    record.body = record.body.replace('18600', '99900');
    record.hash = createHash('sha256').update(record.body).digest('hex');
    expect(verifyReceipt(r, key.publicKey)).toMatchObject({ valid: false, step: 'record 4 (refund_status)' });
  });

  it('detects reordered, deleted and inserted records', () => {
    const reordered = clone();
    [reordered.records[1], reordered.records[2]] = [reordered.records[2]!, reordered.records[1]!];
    expect(verifyReceipt(reordered, key.publicKey)).toMatchObject({ valid: false, step: 'record 2 (guard_decision)' });

    const deleted = clone();
    deleted.records.splice(3, 1);
    expect(verifyReceipt(deleted, key.publicKey)).toMatchObject({ valid: false, step: 'record 4 (credit_note)' });

    const inserted = clone();
    inserted.records.splice(2, 0, { ...inserted.records[1]! });
    expect(verifyReceipt(inserted, key.publicKey)).toMatchObject({ valid: false, step: 'record 3 (verification)' });
  });

  it('detects a swapped or foreign signature and a seal over another head', () => {
    const other = generateKeyPairSync('ed25519');
    const swapped = clone();
    swapped.seal!.signature = Buffer.alloc(64, 7).toString('base64');
    expect(verifyReceipt(swapped, key.publicKey)).toMatchObject({ valid: false, step: 'seal' });
    expect(verifyReceipt(receipt, other.publicKey)).toMatchObject({ valid: false, step: 'seal' });
    const truncated = clone();
    truncated.records.pop();
    expect(verifyReceipt(truncated, key.publicKey)).toMatchObject({ valid: false, step: 'seal' });
  });

  it('forbids UPDATE and DELETE on audit rows in the database itself', async () => {
    await expect(store.database.run("UPDATE case_records SET body = 'x' WHERE case_id = ?", receipt.id)).rejects.toThrow(/append-only/);
    await expect(store.database.run('DELETE FROM case_records WHERE case_id = ?', receipt.id)).rejects.toThrow(/append-only/);
    await expect(store.database.run("UPDATE case_seals SET signature = 'x'")).rejects.toThrow(/append-only/);
    await expect(store.database.run('DELETE FROM case_seals')).rejects.toThrow(/append-only/);
  });

  it('verifies with the README recipe alone (plain node:crypto, nothing imported from the sealer)', () => {
    const pem = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(readmeRecipe(receipt, pem)).toBe(true);
    const tampered = clone();
    tampered.records[0]!.body = tampered.records[0]!.body.replace('A1', 'B2');
    expect(readmeRecipe(tampered, pem)).toBe(false);
  });
});

/** The README's "Verify a receipt without our code" recipe, written from the text. */
function readmeRecipe(receipt: Receipt, publicKeyPem: string): boolean {
  const canonical = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  };
  let prev = '0'.repeat(64);
  let seq = 0;
  for (const r of receipt.records) {
    seq++;
    const body = JSON.parse(r.body) as Record<string, unknown>;
    if (canonical(body) !== r.body || body.seq !== seq || body.prev_hash !== prev || body.case_id !== receipt.id) return false;
    const hash = createHash('sha256').update(r.body, 'utf8').digest('hex');
    if (hash !== r.hash) return false;
    prev = hash;
  }
  const seal = receipt.seal!;
  if (seal.head_seq !== seq || seal.head_hash !== prev) return false;
  const message = `estorno-receipt-v1:${receipt.id}:${seq}:${prev}`;
  return verify(null, Buffer.from(message, 'utf8'), createPublicKey(publicKeyPem), Buffer.from(seal.signature, 'base64'));
}
