import { canMove, REFUND } from '../data/states.ts';
import { ProviderError } from '../core/errors.ts';
import { crashPoint } from '../core/crash.ts';
import { CASE_CLOSING_TEMPLATE, CASE_FAILED_TEMPLATE, caseFailed, creditNoteIssued, refundRequested, refundSettled, stepFailed } from './cases.ts';
import { jobKeys, JobKinds, outboxKeys, scheduleJob } from '../core/keys.ts';
import type { PaymentRow } from '../data/payments.ts';
import type { RefundRow } from '../data/refunds.ts';
import type { CreditNoteRow } from '../data/fiscal.ts';
import { railPaymentOf } from './verify-order.ts';
import { templates } from '../prompts/templates.ts';
import type { CreditNote, RailRefund } from '../providers/types.ts';
import type { Services } from '../services/context.ts';
import { handOff, queueForPersonInTx } from '../conversations/state.ts';

/**
 * A refund after the guard reserved it: the rail call (outside any
 * transaction), the outcome recorded in a second transaction, reconciliation
 * when the outcome is unknown, the rail's webhooks, the credit note and the
 * customer's confirmation (DESIGN invariants 3, 6, 7).
 */

export type ExecuteOutcome =
  | { status: 'pending' | 'settled'; refund: RefundRow }
  | { status: 'unknown'; refund: RefundRow; detail: string }
  | { status: 'failed'; refund: RefundRow; detail: string };

/** Calls the rail for a reserved refund; never twice for the same key (the caller reconciles `unknown`). */
export async function executeRefund(services: Services, refundId: string): Promise<ExecuteOutcome> {
  const { store } = services;
  const refund = await mustRefund(services, refundId);
  if (refund.status !== 'reserved') throw new Error(`refund ${refundId} is ${refund.status}, not reserved`);
  const payment = await store.payments.get(refund.payment_id);
  if (!payment) throw new Error(`payment ${refund.payment_id} missing`);
  crashPoint('after_reserve');
  // Invariant 6: the claim on the one rail call is committed before the call. A
  // refund that is reserved but not submitted never reached the rail (safe to
  // send); one that was submitted may have, whatever happens next.
  if (!await claimRailCall(services, refund.id)) return await outcomeOf(services, refund.id);
  await submitToRail(services, await mustRefund(services, refund.id), payment, 'rail_response');
  return await outcomeOf(services, refund.id);
}

/** reserved → submitting, committed before the call (invariant 6). False: another process has it. */
async function claimRailCall(services: Services, refundId: string): Promise<boolean> {
  const { store } = services;
  const now = services.now();
  return await store.tx(async () => await store.refunds.markSubmitted(refundId, now.toISOString(), { owner: store.owner, until: new Date(now.getTime() + services.railCallLeaseMs).toISOString() }));
}

/** The rail call of a refund this process claimed, and what its answer (or silence) means. */
async function submitToRail(services: Services, refund: RefundRow, payment: PaymentRow, source: string): Promise<void> {
  const { store } = services;
  try {
    const result = await requestRefund(services, refund, payment);
    crashPoint('after_rail_answer');
    await applyRailRefund(services, refund.id, result, source);
  } catch (error) {
    if (error instanceof ProviderError && !error.outcomeUnknown && error.failure === 'rejected') {
      await failRefund(services, refund.id, `rail refused: ${error.code ?? error.message}`, source);
    } else {
      // Timeout, dropped answer, 5xx, 429: the refund may exist. Never call the
      // rail again for it without asking first (invariant 6).
      const detail = error instanceof Error ? error.message : String(error);
      await store.tx(async () => {
        await store.refunds.transition(refund.id, 'unknown', source, { detail: { error: detail } }, services.now().toISOString());
        await scheduleReconcile(services, refund.id, { delayMs: 1_000, tag: 'unknown', continuesSeries: true });
      });
      services.wake();
    }
  }
}

async function outcomeOf(services: Services, refundId: string): Promise<ExecuteOutcome> {
  const after = await mustRefund(services, refundId);
  if (after.status === 'pending' || after.status === 'settled') return { status: after.status, refund: after };
  if (after.status === 'failed') return { status: 'failed', refund: after, detail: after.failure_reason ?? 'failed' };
  return { status: 'unknown', refund: after, detail: 'the rail did not answer; reconciling' };
}

export type ReconcileResult = 'settled' | 'pending' | 'failed' | 'submitted' | 'retried' | 'unresolved' | 'unchanged' | 'leased';

/**
 * Reconciliation: ask the rail what it knows under our key. Found → adopt its
 * state. A reserved refund that was never submitted is sent now (it never
 * reached the rail). Not found after a submission proves nothing — a slow rail
 * may still be processing it — so the refund stays `unknown`, holding its
 * amount, and is asked about again later ('unresolved'); only a rail that
 * enforces our idempotency key gets the same request again.
 */
export async function reconcileRefund(services: Services, refundId: string): Promise<ReconcileResult> {
  const { store } = services;
  const refund = await mustRefund(services, refundId);
  if (refund.status !== 'unknown' && refund.status !== 'reserved' && refund.status !== 'submitting' && refund.status !== 'pending') return 'unchanged';
  const payment = await store.payments.get(refund.payment_id);
  if (!payment) throw new Error(`payment ${refund.payment_id} missing`);
  if (refund.status === 'reserved') {
    // A crash between the reservation and the claim: the rail never saw it.
    if (!await claimRailCall(services, refund.id)) return 'unchanged';
    await submitToRail(services, await mustRefund(services, refund.id), payment, 'recovery');
    return 'submitted';
  }
  // Another process is calling the rail for it right now: never interfere with a live lease.
  if (refund.status === 'submitting' && refund.lease_until && Date.parse(refund.lease_until) > services.now().getTime()) return 'leased';
  const found = await services.pix.findRefund(railPaymentOf(payment), refund.idempotency_key);
  if (found) {
    await applyRailRefund(services, refund.id, found, 'reconcile');
    const status = (await mustRefund(services, refund.id)).status;
    return status === 'settled' || status === 'pending' || status === 'failed' ? status : 'unchanged';
  }
  if (refund.status === 'pending') return 'unchanged';
  if (refund.status === 'submitting') {
    // Its lease ran out and the rail does not show it: the outcome is unknown, and stays so until the rail tells.
    await store.tx(async () => await store.refunds.transition(refund.id, 'unknown', 'reconcile', { detail: { found: false, lease_expired: refund.lease_until ?? null } }, services.now().toISOString()));
  }
  if (!services.pix.enforcesIdempotencyKey) return 'unresolved';
  // The rail refuses a second refund under this key: asking again is safe.
  try {
    const result = await requestRefund(services, await mustRefund(services, refund.id), payment);
    await applyRailRefund(services, refund.id, result, 'retry');
  } catch (error) {
    if (error instanceof ProviderError && !error.outcomeUnknown && error.failure === 'rejected') {
      await failRefund(services, refund.id, `rail refused: ${error.code ?? error.message}`, 'retry');
      return 'failed';
    }
    throw error;
  }
  return 'retried';
}

/**
 * Staff decide a refund whose outcome stayed unknown past the review window,
 * after checking the rail's own dashboard: `failed` releases the amount (it
 * never reached the payer) and tells the customer. Recorded with who and why.
 */
export async function resolveUnknownRefund(services: Services, refundId: string, staff: { id: string }, reason: string): Promise<{ ok: true } | { ok: false; error: 'not_found' | 'not_unknown' | 'found_at_rail' }> {
  const refund = await services.store.refunds.get(refundId);
  if (!refund) return { ok: false, error: 'not_found' };
  // Only once the review window passed: before it, the rail may still be paying it.
  if (refund.status !== 'unknown' || refund.review_requested_at === null) return { ok: false, error: 'not_unknown' };
  // One last question to the rail: a refund it shows now is adopted, never released.
  const payment = await services.store.payments.get(refund.payment_id);
  const found = payment ? await services.pix.findRefund(railPaymentOf(payment), refund.idempotency_key) : null;
  if (found) {
    await applyRailRefund(services, refundId, found, 'reconcile');
    return { ok: false, error: 'found_at_rail' };
  }
  await failRefund(services, refundId, `released by staff ${staff.id}: ${reason}`.slice(0, 300), `staff:${staff.id}`);
  return (await mustRefund(services, refundId)).status === 'failed' ? { ok: true } : { ok: false, error: 'not_unknown' };
}

/** The one way a refund reaches the rail: to the original payment, under the key stored before the call. */
function requestRefund(services: Services, refund: RefundRow, payment: PaymentRow): Promise<RailRefund> {
  return services.pix.refund({ payment: railPaymentOf(payment), amountCents: refund.amount_cents, key: refund.idempotency_key, description: `Estorno pedido ${refund.order_number}` });
}

/** Applies what the rail says about one of our refunds (answer, reconciliation or webhook). */
export async function applyRailRefund(services: Services, refundId: string, rail: RailRefund, source: string): Promise<void> {
  const { store } = services;
  const nowIso = services.now().toISOString();
  let wakeWorkers = false;
  let paidAfterFailure = false;
  let concluded = null as { status: FinalNoteStatus } | null;
  await store.tx(async () => {
    // Replicas: the settlement and the note's decision may commit at once on two processes; one
    // waits for the other, so the second sees the first and concludes (PostgreSQL reads committed rows).
    await store.lock(`refund:${refundId}`);
    const refund = await mustRefund(services, refundId);
    if (rail.railRefundId) await store.refunds.setRailRefundId(refund.id, rail.railRefundId, nowIso);
    if (refund.status === 'failed' && rail.status !== 'failed') {
      // The rail paid a refund we had given up on (released by staff, a slow rail): the money
      // left, so the payment counts it at once and a person sorts the case out.
      paidAfterFailure = await store.refunds.notePaidAfterFailure(refund.id, source, rail, nowIso);
      return;
    }
    if (rail.status === 'failed') {
      await failRefundInTx(services, refund, rail.failureReason ?? 'failed on the rail', source);
      return;
    }
    const to = rail.status === 'settled' ? 'settled' : 'pending';
    // A stale event (the rail's "created" after its "settled"): what we know is newer.
    if (refund.status === to || !canMove(REFUND, refund.status, to)) return;
    if (!await store.refunds.transition(refund.id, to, source, { rail_refund_id: rail.railRefundId ?? null, end_to_end_id: rail.endToEndId ?? null, detail: rail }, nowIso)) return;
    if (refund.case_id) {
      const record = { refund_id: refund.id, rail: refund.rail, rail_refund_id: rail.railRefundId ?? refund.rail_refund_id, end_to_end_id: rail.endToEndId ?? null, amount_cents: refund.amount_cents, source };
      if (to === 'settled') await refundSettled(store, refund.case_id, { ...record, status: to }, nowIso);
      else await refundRequested(store, refund.case_id, { ...record, status: to }, nowIso);
    }
    // Invariant 7: every settled refund gets its credit note, in the same flow. It is
    // issued as soon as the rail accepted the refund (pending), not after the
    // settlement: see issueCreditNote. One job per refund (its key), whichever comes first.
    if (await scheduleJob(store, { kind: JobKinds.creditNote, payload: { refundId: refund.id } }, { key: jobKeys.creditNote(refund.id), runAt: nowIso, now: nowIso })) wakeWorkers = true;
    if (to === 'settled') {
      wakeWorkers = true;
      // SEFAZ already decided the note while the refund was pending: it reaches the case and the customer now.
      const note = await store.creditNotes.forRefund(refund.id);
      if (note && isFinal(note.status)) concluded = { status: note.status as FinalNoteStatus };
      if (concluded) await concludeCreditNoteInTx(services, await mustRefund(services, refund.id), note!, nowIso);
    }
  });
  services.publish({ type: 'refund', conversationId: (await mustRefund(services, refundId)).conversation_id ?? undefined, refundId });
  if (concluded) afterConclusion(services, await mustRefund(services, refundId), concluded.status);
  if (wakeWorkers) services.wake();
  if (paidAfterFailure) {
    const refund = await mustRefund(services, refundId);
    services.logger.error({ refundId }, 'the rail paid a refund recorded as failed: counted as refunded, staff must check');
    services.publish({ type: 'refund_paid_after_failure', conversationId: refund.conversation_id ?? undefined, refundId });
    if (refund.conversation_id) await handOff(services, refund.conversation_id, 'job_failed');
  }
}

type FinalNoteStatus = 'authorized' | 'rejected' | 'denied';
/** SEFAZ decided the note (authorised, rejected or denied): nothing more to ask Focus. */
const isFinal = (status: CreditNoteRow['status'] | undefined): boolean => status === 'authorized' || status === 'rejected' || status === 'denied';

async function failRefund(services: Services, refundId: string, reason: string, source: string): Promise<void> {
  await services.store.tx(async () => await failRefundInTx(services, await mustRefund(services, refundId), reason, source));
  services.publish({ type: 'refund', conversationId: (await mustRefund(services, refundId)).conversation_id ?? undefined, refundId });
  services.wake();
}

/** A failed refund releases its reservation (it no longer holds), the case fails, the customer is told. */
async function failRefundInTx(services: Services, refund: RefundRow, reason: string, source: string): Promise<void> {
  const { store } = services;
  const nowIso = services.now().toISOString();
  if (refund.status === 'settled') {
    // The rail contradicts itself (failed after settled): nothing is released; a person looks.
    services.logger.error({ refundId: refund.id, source }, 'a failure arrived for a settled refund; ignored, staff must check the rail');
    return;
  }
  if (!canMove(REFUND, refund.status, 'failed')) return;
  if (!await store.refunds.transition(refund.id, 'failed', source, { failure_reason: reason.slice(0, 300) }, nowIso)) return;
  // The rail failed a refund it had accepted, after its credit note was asked for (rare): the
  // note must be cancelled at SEFAZ (within 24 h of its authorisation) by staff, who get the conversation.
  const note = await store.creditNotes.forRefund(refund.id);
  if (note) services.logger.error({ refundId: refund.id, ref: note.ref, status: note.status }, 'refund failed after its credit note was requested; staff must cancel the note');
  if (refund.case_id) {
    await caseFailed(store, services.keys.receipt, refund.case_id, { refund_id: refund.id, reason: reason.slice(0, 300), source, ...(note ? { credit_note_to_cancel: { ref: note.ref, status: note.status, number: note.number } } : {}) }, nowIso);
  }
  const conversation = refund.conversation_id ? await store.conversations.get(refund.conversation_id) : undefined;
  if (conversation) {
    await store.outbox.enqueue({
      conversation_id: conversation.id,
      chat_id: conversation.chat_id,
      text: templates.refund_failed({ amountCents: refund.amount_cents, orderNumber: refund.order_number }),
      source: 'system',
      template: CASE_FAILED_TEMPLATE,
      case_id: refund.case_id,
      dedupe_key: outboxKeys.refundFailed(refund.id),
      now: nowIso,
    });
  }
}

/**
 * Queues a reconciliation. `attempt` paces the next one (backoff); `tag` makes
 * the job key unique for a new series (a restart, a sweep window), since a key
 * already used is not scheduled again. A new series is not started beside a
 * pending one unless `continuesSeries` (the next step of one, or "now" at start).
 */
export async function scheduleReconcile(
  services: Pick<Services, 'store' | 'now'>,
  refundId: string,
  o: { delayMs: number; attempt?: number; tag: string; continuesSeries?: boolean },
): Promise<void> {
  const now = services.now();
  if (!o.continuesSeries && await services.store.jobs.pendingWithPrefix(jobKeys.reconcileSeries(refundId)) > 0) return;
  await scheduleJob(services.store, { kind: JobKinds.reconcileRefund, payload: { refundId, attempt: o.attempt ?? 0 } }, { key: jobKeys.reconcile(refundId, o.tag), runAt: new Date(now.getTime() + o.delayMs).toISOString(), now: now.toISOString() });
}

/** A safety net, scheduled in the reservation's own transaction: whatever reserved a refund and never claimed it. */
const CLAIM_GRACE_MS = 60_000;

export async function scheduleClaimCheck(services: Services, refundId: string, nowIso: string): Promise<void> {
  await scheduleJob(services.store, { kind: JobKinds.claimCheck, payload: { refundId } }, { key: jobKeys.claimCheck(refundId), runAt: new Date(Date.parse(nowIso) + CLAIM_GRACE_MS).toISOString(), now: nowIso });
}

/** Sends a refund still reserved and never claimed (an error between the guard and the rail call); anything else is left alone — no rail call. */
export async function sendIfUnclaimed(services: Services, refundId: string): Promise<ReconcileResult> {
  const refund = await mustRefund(services, refundId);
  if (refund.status !== 'reserved') return 'unchanged';
  return reconcileRefund(services, refundId);
}

/**
 * Issues the credit note of a refund the rail accepted (Focus `ref` = the
 * refund id, so a retry can never issue a second note). Throws to be retried
 * while the fiscal API is down; answers `processing` while SEFAZ has not
 * decided (the job comes back with backoff).
 *
 * Why before the settlement: the NF-e de devolução (finalidade 4) documents
 * the goods coming back and the sale being undone — a fiscal event about the
 * merchandise, referencing the sale's NF-e — not the payment; nothing in it
 * refers to the Pix. Once the rail has accepted the refund under our key
 * (pending), the return is agreed and the note may be issued; if the rail
 * still fails it, the note is cancelled within SEFAZ's 24 h window (staff,
 * from the case's failure record). What the customer and the receipt see
 * does not move earlier: the note joins the case (and the customer is told)
 * only once the refund settled — here when the settlement came first, else
 * in the settlement's own transaction (applyRailRefund).
 *
 * A note SEFAZ rejected or denied — or that Focus refuses as invalid — ends
 * the same way: the case goes to staff and the customer is told the truth
 * (the money did move; the note is what is missing).
 */
export async function issueCreditNote(services: Services, refundId: string): Promise<'authorized' | 'processing' | 'rejected' | 'denied' | 'not_needed'> {
  const { store } = services;
  const refund = await mustRefund(services, refundId);
  // Failed before the note was asked for: there is nothing to document.
  if (refund.status === 'failed') return 'not_needed';
  if (refund.status !== 'settled' && refund.status !== 'pending') throw new Error(`refund ${refundId} is ${refund.status}; a credit note needs a refund the rail accepted`);
  const nowIso = services.now().toISOString();
  const row = await store.creditNotes.ensure(refund.id, refund.id.replace(/[^A-Za-z0-9]/g, ''), nowIso);
  if (isFinal(row.status)) return row.status as FinalNoteStatus;
  const order = await services.erp.getOrder(refund.order_number);
  if (!order) throw new Error(`order ${refund.order_number} vanished from the ERP`);
  const customer = await services.erp.getCustomer(order.customerCode);
  if (!customer) throw new Error(`customer ${order.customerCode} vanished from the ERP`);
  let note: CreditNote;
  try {
    note = await services.fiscal.issueCreditNote({ ref: row.ref, order, customer, amountCents: refund.amount_cents, reason: refund.reason });
  } catch (error) {
    // Focus refused the note itself (422 erro_validacao_schema…): sending it again changes nothing.
    if (!(error instanceof ProviderError) || error.failure !== 'rejected' || error.outcomeUnknown) throw error;
    note = { ref: row.ref, status: 'rejected', message: `${error.code ?? 'rejected'}: ${error.message}`.slice(0, 500) };
  }
  const status = note.status;
  const outcome = await store.tx(async () => {
    await store.lock(`refund:${refund.id}`); // see applyRailRefund
    const at = services.now().toISOString();
    await store.creditNotes.update(refund.id, { status, number: note.number ?? null, series: note.series ?? null, access_key: note.accessKey ?? null, message: note.message ?? null }, at);
    if (status === 'processing') return 'waiting';
    // Re-read inside the transaction: the settlement may have come while Focus answered.
    const current = await mustRefund(services, refund.id);
    if (current.status === 'settled') {
      await concludeCreditNoteInTx(services, current, (await store.creditNotes.forRefund(refund.id))!, at);
      return 'concluded';
    }
    if (current.status === 'failed' && status === 'authorized') {
      // The refund failed while the note was with SEFAZ: the note must be cancelled (see failRefundInTx).
      if (current.conversation_id) await queueForPersonInTx(store, current.conversation_id, 'job_failed', at);
      return 'orphan';
    }
    return 'waiting'; // still pending: the settlement concludes it
  });
  if (outcome === 'concluded') afterConclusion(services, refund, status as FinalNoteStatus);
  if (outcome === 'orphan') {
    services.logger.error({ refundId, ref: row.ref }, 'credit note authorised for a refund the rail failed; staff must cancel it');
    services.publish({ type: 'handoff', conversationId: refund.conversation_id ?? undefined });
  }
  return status;
}

/**
 * A settled refund and its decided note: the case records the note (or the
 * failure to get one) and the customer's last message is queued. Runs once,
 * in the transaction of whichever came second — SEFAZ's decision or the
 * settlement — since each of those happens once (refund transitions and
 * credit-note updates are guarded).
 */
async function concludeCreditNoteInTx(services: Services, refund: RefundRow, note: CreditNoteRow, at: string): Promise<void> {
  const { store } = services;
  const conversation = refund.conversation_id ? await store.conversations.get(refund.conversation_id) : undefined;
  if (note.status === 'rejected' || note.status === 'denied') {
    if (refund.case_id) await stepFailed(store, refund.case_id, { stage: 'credit_note', refund_id: refund.id, ref: note.ref, status: note.status, message: note.message ?? null, source: 'fiscal' }, at);
    if (conversation) {
      // The message below says a person is on it: the conversation waits for one.
      await queueForPersonInTx(store, conversation.id, 'job_failed', at);
      await store.outbox.enqueue({
        conversation_id: conversation.id,
        chat_id: conversation.chat_id,
        text: templates.credit_note_failed({ amountCents: refund.amount_cents, orderNumber: refund.order_number }),
        source: 'system',
        template: 'credit_note_failed',
        case_id: refund.case_id,
        dedupe_key: outboxKeys.creditNoteFailed(refund.id),
        now: at,
      });
    }
    return;
  }
  if (!refund.case_id) return;
  await creditNoteIssued(store, refund.case_id, {
    refund_id: refund.id,
    ref: note.ref,
    number: note.number ?? null,
    series: note.series ?? null,
    access_key: note.access_key ?? null,
  }, at);
  if (conversation) {
    await store.outbox.enqueue({
      conversation_id: conversation.id,
      chat_id: conversation.chat_id,
      text: templates.refund_done({ amountCents: refund.amount_cents, orderNumber: refund.order_number, receiptId: refund.case_id, publicBaseUrl: services.publicBaseUrl, creditNoteNumber: note.number ?? null, creditNoteSeries: note.series ?? null, creditNoteAccessKey: note.access_key ?? null }),
      source: 'template',
      // The case's last message: its delivery is the "customer told" step that seals the case.
      template: CASE_CLOSING_TEMPLATE,
      case_id: refund.case_id,
      dedupe_key: outboxKeys.refundDone(refund.id),
      now: at,
    });
  }
}

function afterConclusion(services: Services, refund: RefundRow, status: FinalNoteStatus): void {
  services.wake();
  services.publish({ type: 'credit_note', conversationId: refund.conversation_id ?? undefined, refundId: refund.id });
  if (status === 'rejected' || status === 'denied') {
    services.logger.error({ refundId: refund.id, status }, 'credit note not authorised; the case is with staff');
    services.publish({ type: 'handoff', conversationId: refund.conversation_id ?? undefined });
  }
}

async function mustRefund(services: Services, id: string): Promise<RefundRow> {
  const refund = await services.store.refunds.get(id);
  if (!refund) throw new Error(`refund ${id} not found`);
  return refund;
}
