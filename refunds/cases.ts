import { createHash } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../core/canonical.ts';
import type { Store } from '../data/store.ts';
import { signText, type SigningKey } from '../core/signing.ts';
import type { Verification } from './verify-order.ts';
import type { templates } from '../prompts/templates.ts';

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

/**
 * Appends a record; must run inside the caller's transaction when it belongs with other writes.
 * The money path calls the steps below, never this directly with a kind of its own.
 */
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

/*
 * The case ("receipt") lifecycle, one step per function, in the order a refund
 * walks them:
 *
 *   opened → refund requested → settled (refund status) → credit note issued
 *          → customer told → sealed (settled)
 *   any step → failed → sealed (failed)
 *
 * A step that fails without ending the case (a credit note SEFAZ refused, a job
 * given up) records a `failure` and leaves the case open for staff
 * (`stepFailed`). Each step writes exactly the record kind and body it always
 * did: receipts sealed before keep verifying. Every step runs inside the
 * caller's transaction, beside the state change it documents.
 */

/** Opened: the case row and its first records — the complaint, the verification, the guard's decision. */
export async function caseOpened(
  store: Store,
  c: { caseId: string; conversationId: string; verification: Verification & { found: true }; decision: Record<string, unknown> },
  at: string,
): Promise<void> {
  const { caseId, conversationId, verification } = c;
  await store.cases.open({ id: caseId, conversation_id: conversationId, order_number: verification.order.orderNumber, status: 'open', created_at: at });
  const complaint = (await store.inbox.forConversation(conversationId)).filter((r) => r.kind === 'text');
  await appendCaseRecord(store, caseId, 'complaint', {
    conversation_id: conversationId,
    message_ids: complaint.map((r) => r.message_id),
    text_sha256: createHash('sha256').update(complaint.map((r) => r.text ?? '').join('\n')).digest('hex'),
  }, at);
  await appendCaseRecord(store, caseId, 'verification', {
    order: verification.order,
    payment: verification.railPayment,
    match: verification.match ?? null,
  }, at);
  await appendCaseRecord(store, caseId, 'guard_decision', { decision: 'allowed', ...c.decision }, at);
}

/** What the rail said about the refund, as the case records it. */
export interface RailStatusRecord {
  refund_id: string;
  status: 'pending' | 'settled';
  rail: string;
  rail_refund_id: string | null;
  end_to_end_id: string | null;
  amount_cents: number;
  source: string;
}

/** Refund requested: the rail accepted the refund (pending). */
export async function refundRequested(store: Store, caseId: string, data: RailStatusRecord & { status: 'pending' }, at: string): Promise<void> {
  await appendCaseRecord(store, caseId, 'refund_requested', data, at);
}

/** Settled: the rail's refund status says the money reached the payer (a `refund_status` record). */
export async function refundSettled(store: Store, caseId: string, data: RailStatusRecord & { status: 'settled' }, at: string): Promise<void> {
  await appendCaseRecord(store, caseId, 'refund_status', data, at);
}

/** Credit note issued: SEFAZ authorised the NF-e de devolução of a settled refund. */
export async function creditNoteIssued(
  store: Store,
  caseId: string,
  data: { refund_id: string; ref: string; number: string | null; series: string | null; access_key: string | null },
  at: string,
): Promise<void> {
  await appendCaseRecord(store, caseId, 'credit_note', data, at);
}

/**
 * Customer told: the case's last message reached WhatsApp. Recorded, then the
 * case is sealed as settled — the last step of a case that went well.
 */
export async function customerTold(
  store: Store,
  key: SigningKey,
  caseId: string,
  data: { template: string | null; outbox_id: number; message_id: string; zaap_id?: string | null },
  at: string,
): Promise<void> {
  await appendCaseRecord(store, caseId, 'notification', data, at);
  await sealCase(store, key, caseId, 'settled', at);
}

/** A step failed but the case goes on with staff (a credit note refused, a job given up): recorded, not sealed. */
export async function stepFailed(store: Store, caseId: string, data: Record<string, unknown> & { refund_id: string; source: string }, at: string): Promise<void> {
  await appendCaseRecord(store, caseId, 'failure', data, at);
}

/** Failed: the refund failed (released); the failure is recorded and the case sealed as failed. */
export async function caseFailed(store: Store, key: SigningKey, caseId: string, data: Record<string, unknown> & { refund_id: string; reason: string; source: string }, at: string): Promise<void> {
  await appendCaseRecord(store, caseId, 'failure', data, at);
  await sealCase(store, key, caseId, 'failed', at);
}

/** The template of the message that closes a case (prompts/templates.ts `refund_done`). */
export const CASE_CLOSING_TEMPLATE = 'refund_done' satisfies keyof typeof templates;
/** The template of the message telling the customer their refund failed (the case is sealed as failed already). */
export const CASE_FAILED_TEMPLATE = 'refund_failed' satisfies keyof typeof templates;

/**
 * What a sent outbox message means for the case it names, if anything. The
 * row names its case (`case_id`) and what it is (`template`):
 * - `customer_told`: the case's last message (queued by the flow, or by
 *   notify_customer under the same dedupe key) went out — call `customerTold`;
 * - `customer_told_of_failure`: the customer heard their refund failed — a
 *   person takes the conversation over.
 * The outbox sender asks this; it knows no template names.
 */
export function caseStepOfSentMessage(row: { case_id: string | null; template: string | null }):
  | { step: 'customer_told'; caseId: string }
  | { step: 'customer_told_of_failure' }
  | null {
  if (row.template === CASE_CLOSING_TEMPLATE && row.case_id !== null) return { step: 'customer_told', caseId: row.case_id };
  if (row.template === CASE_FAILED_TEMPLATE) return { step: 'customer_told_of_failure' };
  return null;
}
