import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteDatabase } from '../../../data/sql.ts';
import { createStore, type Store } from '../../../data/store.ts';
import { openDb } from '../../../data/db.ts';
import { loadSigningKey } from '../../../core/signing.ts';
import {
  appendCaseRecord, caseFailed, caseOpened, caseStepOfSentMessage, creditNoteIssued, customerTold, refundRequested, refundSettled, sealCase, stepFailed,
} from '../../../refunds/cases.ts';
import { loadReceipt, verifyReceipt } from '../../../refunds/verify-receipt.ts';
import type { Verification } from '../../../refunds/verify-order.ts';

/**
 * The case lifecycle as explicit steps (issue 13): each step writes the record
 * kind and body the money path always wrote, byte for byte — a receipt built
 * step by step is the receipt built record by record — and seals where it must.
 */
const key = loadSigningKey(mkdtempSync(path.join(tmpdir(), 'estorno-keys-')), 'receipt-ed25519');
const at = '2026-11-23T00:00:01.000Z';
const caseId = 'rcp_steps000000000000001';
const memoryStore = (): Store => createStore(sqliteDatabase(openDb(':memory:')));
const verification = {
  found: true,
  order: { orderNumber: '8421', totalCents: 18600 },
  payment: null,
  railPayment: { documentId: 'doc_1', amountCents: 18600 },
} as unknown as Verification & { found: true };
const decision = { mandate_id: 'cm_support', mandate_version: 1, amount_cents: 18600, refund_id: 'rf_1' };
const rail = { refund_id: 'rf_1', rail: 'trio', rail_refund_id: 'rr_1', end_to_end_id: 'D1', amount_cents: 18600, source: 'webhook' };
const note = { refund_id: 'rf_1', ref: 'rf1', number: '7', series: '1', access_key: '3'.repeat(44) };
const told = { template: 'refund_done', outbox_id: 9, message_id: 'M1', zaap_id: 'Z1' };

async function bodies(store: Store): Promise<Array<{ kind: string; body: string; hash: string }>> {
  return (await store.cases.records(caseId)).map((r) => ({ kind: r.kind, body: r.body, hash: r.hash }));
}

describe('case lifecycle steps', () => {
  it('writes, step by step, the records written before by hand, and seals a settled case when the customer is told', async () => {
    const steps = memoryStore();
    await caseOpened(steps, { caseId, conversationId: 'cv_1', verification, decision }, at);
    await refundRequested(steps, caseId, { ...rail, status: 'pending' }, at);
    await refundSettled(steps, caseId, { ...rail, status: 'settled' }, at);
    await creditNoteIssued(steps, caseId, note, at);
    expect((await steps.cases.get(caseId))?.status).toBe('open');
    await customerTold(steps, key, caseId, told, at);

    // The same case, as guard.ts, refund-flow.ts and the outbox sender wrote it before the steps.
    const byHand = memoryStore();
    await byHand.cases.open({ id: caseId, conversation_id: 'cv_1', order_number: '8421', status: 'open', created_at: at });
    await appendCaseRecord(byHand, caseId, 'complaint', { conversation_id: 'cv_1', message_ids: [], text_sha256: createHash('sha256').update('').digest('hex') }, at);
    await appendCaseRecord(byHand, caseId, 'verification', { order: verification.order, payment: verification.railPayment, match: null }, at);
    await appendCaseRecord(byHand, caseId, 'guard_decision', { decision: 'allowed', ...decision }, at);
    await appendCaseRecord(byHand, caseId, 'refund_requested', { ...rail, status: 'pending' }, at);
    await appendCaseRecord(byHand, caseId, 'refund_status', { ...rail, status: 'settled' }, at);
    await appendCaseRecord(byHand, caseId, 'credit_note', note, at);
    await appendCaseRecord(byHand, caseId, 'notification', told, at);
    await sealCase(byHand, key, caseId, 'settled', at);

    expect((await bodies(steps)).map((r) => r.kind)).toEqual(['complaint', 'verification', 'guard_decision', 'refund_requested', 'refund_status', 'credit_note', 'notification']);
    expect(await bodies(steps)).toEqual(await bodies(byHand));
    expect((await steps.cases.sealOf(caseId))?.signature).toBe((await byHand.cases.sealOf(caseId))?.signature);
    expect((await steps.cases.get(caseId))?.status).toBe('sealed');
    expect(verifyReceipt((await loadReceipt(steps, caseId))!, key.publicKey)).toEqual({ valid: true, sealed: true, outcome: 'settled', records: 7 });
  });

  it('a failed step leaves the case open for staff; a failed refund seals it as failed', async () => {
    const store = memoryStore();
    await caseOpened(store, { caseId, conversationId: 'cv_1', verification, decision }, at);
    await stepFailed(store, caseId, { stage: 'credit_note', refund_id: 'rf_1', reason: 'given up after the last attempt', source: 'worker' }, at);
    expect((await store.cases.get(caseId))?.status).toBe('open');
    expect(await store.cases.sealOf(caseId)).toBeUndefined();
    await caseFailed(store, key, caseId, { refund_id: 'rf_1', reason: 'rail refused: x', source: 'rail_response' }, at);
    expect((await bodies(store)).map((r) => r.kind).slice(-2)).toEqual(['failure', 'failure']);
    expect((await store.cases.get(caseId))?.status).toBe('failed');
    expect(verifyReceipt((await loadReceipt(store, caseId))!, key.publicKey)).toMatchObject({ valid: true, sealed: true, outcome: 'failed' });
  });

  it('tells the outbox sender what a sent message means for its case', () => {
    expect(caseStepOfSentMessage({ case_id: 'rcp_1', template: 'refund_done' })).toEqual({ step: 'customer_told', caseId: 'rcp_1' });
    expect(caseStepOfSentMessage({ case_id: null, template: 'refund_done' })).toBeNull();
    expect(caseStepOfSentMessage({ case_id: 'rcp_1', template: 'refund_failed' })).toEqual({ step: 'customer_told_of_failure' });
    expect(caseStepOfSentMessage({ case_id: 'rcp_1', template: 'refund_pending' })).toBeNull();
    expect(caseStepOfSentMessage({ case_id: 'rcp_1', template: 'credit_note_failed' })).toBeNull();
    expect(caseStepOfSentMessage({ case_id: null, template: null })).toBeNull();
  });
});
