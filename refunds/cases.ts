import { canonicalJson, sha256Hex } from '../core/canonical.ts';
import type { Store } from '../data/store.ts';
import { signText, type SigningKey } from '../core/signing.ts';

/**
 * A case's hash chain (DESIGN invariant 9). Each record is the canonical JSON
 * (RFC 8785) of `{case_id, seq, kind, at, prev_hash, data}`; its hash is the
 * SHA-256 of those exact bytes, and the next record holds it as `prev_hash`.
 * The first record's prev_hash is 64 zeros.
 */

export const GENESIS_HASH = '0'.repeat(64);

export type CaseRecordKind =
  | 'complaint'
  | 'verification'
  | 'guard_decision'
  | 'approval'
  | 'refund_requested'
  | 'refund_status'
  | 'credit_note'
  | 'notification'
  | 'failure';

/** Appends a record; must run inside the caller's transaction when it belongs with other writes. */
export async function appendCaseRecord(store: Store, caseId: string, kind: CaseRecordKind, data: unknown, at: string): Promise<string> {
  // The chain is appended under a lock on the case (replicas): two appends never read the same head.
  return await store.tx(async () => {
    await store.lock(`case:${caseId}`);
    return await appendAfterHead(store, caseId, kind, data, at);
  });
}

async function appendAfterHead(store: Store, caseId: string, kind: CaseRecordKind, data: unknown, at: string): Promise<string> {
  const head = await store.cases.head(caseId);
  const seq = head ? head.seq + 1 : 1;
  const prev_hash = head ? head.hash : GENESIS_HASH;
  const body = canonicalJson({ case_id: caseId, seq, kind, at, prev_hash, data });
  const hash = sha256Hex(body);
  await store.cases.append({ case_id: caseId, seq, kind, body, prev_hash, hash, created_at: at });
  return hash;
}

/**
 * Seals a case: signs `<case_id>:<head_seq>:<head_hash>` with the receipt key.
 * A settled case is sealed once its notification is recorded; a failed one
 * when it fails. A seal is written once and never changes.
 */
export async function sealCase(store: Store, key: SigningKey, caseId: string, outcome: 'settled' | 'failed', at: string): Promise<boolean> {
  const head = await store.cases.head(caseId);
  if (!head || await store.cases.sealOf(caseId)) return false;
  const signature = signText(key, sealMessage(caseId, head.seq, head.hash));
  const sealed = await store.cases.seal({ case_id: caseId, outcome, head_seq: head.seq, head_hash: head.hash, signature, key_id: key.keyId, sealed_at: at });
  if (sealed) await store.cases.setStatus(caseId, outcome === 'settled' ? 'sealed' : 'failed');
  return sealed;
}

/** The exact bytes the seal signs (UTF-8). */
export function sealMessage(caseId: string, headSeq: number, headHash: string): string {
  return `estorno-receipt-v1:${caseId}:${headSeq}:${headHash}`;
}
