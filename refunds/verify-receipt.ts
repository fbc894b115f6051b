import { createPublicKey, type KeyObject } from 'node:crypto';
import { canonicalJson, isCanonicalText, sha256Hex } from '../core/canonical.ts';
import { verifyText } from '../core/signing.ts';
import type { CaseRecordRow, CaseSealRow } from '../data/cases.ts';
import type { Store } from '../data/store.ts';
import { GENESIS_HASH, sealMessage } from './cases.ts';

/**
 * Verifies a receipt: every record's bytes are the canonical JSON of what it
 * claims, each hash is the SHA-256 of its bytes, each record holds the previous
 * hash, the sequence has no gap, and the seal's signature covers the head.
 * Names the first step that breaks.
 */

export interface Receipt {
  id: string;
  records: Array<Pick<CaseRecordRow, 'seq' | 'kind' | 'body' | 'prev_hash' | 'hash'>>;
  seal: Pick<CaseSealRow, 'outcome' | 'head_seq' | 'head_hash' | 'signature' | 'key_id' | 'sealed_at'> | null;
}

export type Verdict =
  | { valid: true; sealed: boolean; outcome: 'settled' | 'failed' | null; records: number }
  | { valid: false; step: string; reason: string };

export async function loadReceipt(store: Store, id: string): Promise<Receipt | null> {
  const found = await store.cases.get(id);
  if (!found) return null;
  const seal = await store.cases.sealOf(id) ?? null;
  return {
    id,
    records: (await store.cases.records(id)).map(({ seq, kind, body, prev_hash, hash }) => ({ seq, kind, body, prev_hash, hash })),
    seal: seal ? { outcome: seal.outcome, head_seq: seal.head_seq, head_hash: seal.head_hash, signature: seal.signature, key_id: seal.key_id, sealed_at: seal.sealed_at } : null,
  };
}

/** The reference verification of one receipt (the bulk path in verify-all-receipts.ts must give the same verdicts). */
export function verifyReceipt(receipt: Receipt, publicKey: KeyObject, options: { requireSeal?: boolean } = {}): Verdict {
  return verifyWith(receipt, publicKey, options, (parsed, body) => canonicalJson(parsed) === body);
}

/**
 * The same checks, steps and reasons, with the canonical-form check done by
 * `isCanonicalText` (same answer as re-serialising, mostly in native code):
 * what bulk verification runs.
 */
export function verifyReceiptFast(receipt: Receipt, publicKey: KeyObject, options: { requireSeal?: boolean } = {}): Verdict {
  return verifyWith(receipt, publicKey, options, isCanonicalText);
}

function verifyWith(receipt: Receipt, publicKey: KeyObject, options: { requireSeal?: boolean }, isCanonical: (parsed: unknown, body: string) => boolean): Verdict {
  let prev = GENESIS_HASH;
  for (let i = 0; i < receipt.records.length; i++) {
    const record = receipt.records[i] as Receipt['records'][number];
    const step = `record ${i + 1} (${record.kind})`;
    if (record.seq !== i + 1) return { valid: false, step, reason: `sequence ${record.seq} where ${i + 1} was expected (a record was inserted, deleted or moved)` };
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(record.body) as Record<string, unknown>;
    } catch {
      return { valid: false, step, reason: 'body is not JSON' };
    }
    if (!isCanonical(parsed, record.body)) return { valid: false, step, reason: 'body is not in canonical form' };
    if (parsed.case_id !== receipt.id || parsed.seq !== record.seq || parsed.kind !== record.kind || parsed.prev_hash !== record.prev_hash) {
      return { valid: false, step, reason: 'body does not match the record it is stored as (case, seq, kind or prev_hash)' };
    }
    if (record.prev_hash !== prev) return { valid: false, step, reason: 'prev_hash does not match the hash of the previous record' };
    if (sha256Hex(record.body) !== record.hash) return { valid: false, step, reason: 'hash does not match the body (the record was edited)' };
    prev = record.hash;
  }
  if (!receipt.seal) {
    return options.requireSeal ? { valid: false, step: 'seal', reason: 'the receipt is not sealed' } : { valid: true, sealed: false, outcome: null, records: receipt.records.length };
  }
  const { seal } = receipt;
  if (seal.head_seq !== receipt.records.length || seal.head_hash !== prev) {
    return { valid: false, step: 'seal', reason: `the seal covers record ${seal.head_seq}, the chain ends at ${receipt.records.length}` };
  }
  if (!verifyText(publicKey, sealMessage(receipt.id, seal.head_seq, seal.head_hash), seal.signature)) {
    return { valid: false, step: 'seal', reason: 'the signature does not verify with the receipt public key' };
  }
  return { valid: true, sealed: true, outcome: seal.outcome, records: receipt.records.length };
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}
