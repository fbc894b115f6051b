import { handOff } from '../conversations/state.ts';
import { jobKeys, JobKinds, scheduleJob, type Job } from '../core/keys.ts';
import type { OutboxRow } from '../data/outbox.ts';
import type { Services } from '../services/context.ts';
import { caseStepOfSentMessage, customerTold, stepFailed } from './cases.ts';
import { issueCreditNote, reconcileRefund, scheduleReconcile, sendIfUnclaimed } from './refund-flow.ts';

/**
 * The money path's durable work: one handler per job kind of the refund
 * (core/keys.ts `JobKinds`), what a sent message means for its case, and the
 * sweeps and recovery that find work nobody finished. The workers
 * (server/workers.ts) keep only the clock — claim with a lease, run the
 * handler of the job's kind, back off, give up — and call these; the money
 * path is entered after the tool call only through here.
 */

/** A money-path job: the kinds below, each with the payload its kind carries. */
export type MoneyJob = Extract<Job, { kind: typeof JobKinds.reconcileRefund | typeof JobKinds.claimCheck | typeof JobKinds.creditNote }>;

/** 1 s, 2 s, 4 s … capped at 5 minutes. */
export function backoffMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempts, 16), 300_000);
}

export interface MoneyJobOptions {
  /** How long a refund's outcome may stay unknown before staff are asked to check the rail. */
  reviewUnknownAfterMs: number;
  /** The running job's own key (a reconciliation series does not count itself). */
  key: string;
}

/** Runs one money-path job; a throw means "retry later" (the workers' backoff). */
export async function runMoneyJob(services: Services, job: MoneyJob, options: MoneyJobOptions): Promise<void> {
  switch (job.kind) {
    case JobKinds.reconcileRefund: {
      const { refundId, attempt } = job.payload;
      const result = await reconcileRefund(services, refundId);
      services.logger.info({ refundId, result }, 'refund reconciled');
      if (result === 'unresolved') await awaitRail(services, refundId, attempt, options);
      // 'leased': another process owns the rail call; the lease sweep asks again once it is over.
      return;
    }
    case JobKinds.claimCheck: {
      const result = await sendIfUnclaimed(services, job.payload.refundId);
      if (result !== 'unchanged') services.logger.warn({ refundId: job.payload.refundId, result }, 'a reserved refund was never claimed: sent by its claim check');
      return;
    }
    case JobKinds.creditNote: {
      // Still with SEFAZ: come back later. Authorised, rejected or denied: this job is over
      // (a rejected or denied note is in front of staff, and the customer was told).
      const status = await issueCreditNote(services, job.payload.refundId);
      if (status === 'processing') throw new Error('credit note still processing at SEFAZ');
      return;
    }
    default: {
      const unhandled: never = job;
      throw new Error(`not a money-path job: ${(unhandled as Job).kind}`);
    }
  }
}

/**
 * The rail does not show a refund we submitted: it may still arrive (a slow
 * rail), so ask again later, never send it again. Past the review window the
 * refund is put in front of staff, and the rail is still asked now and then.
 */
async function awaitRail(services: Services, refundId: string, attempt: number, options: MoneyJobOptions): Promise<void> {
  const { store } = services;
  const now = services.now();
  const refund = await store.refunds.get(refundId);
  if (!refund || refund.status !== 'unknown') return;
  // Another series already asks about this refund (the running job itself does not count).
  if (await store.jobs.pendingWithPrefix(jobKeys.reconcileSeries(refundId), options.key) > 0) return;
  const since = Date.parse(refund.submitted_at ?? refund.created_at);
  if (now.getTime() - since >= options.reviewUnknownAfterMs && await store.tx(async () => await store.refunds.requestReview(refundId, now.toISOString()))) {
    services.logger.warn({ refundId }, 'refund outcome still unknown: staff must check the rail');
    services.publish({ type: 'refund_review', conversationId: refund.conversation_id ?? undefined, refundId });
  }
  await scheduleReconcile(services, refundId, { delayMs: backoffMs(attempt, 2_000), attempt: attempt + 1, tag: `${attempt + 1}-${now.getTime()}`, continuesSeries: true });
}

/**
 * A money-path job given up after its last attempt puts its conversation in
 * front of staff and says so in the case: the refund or its credit note is
 * theirs to finish. One transaction (the worker's, which also ends the job):
 * the failure is never recorded with nobody queued.
 */
export async function gaveUpMoneyJob(services: Services, job: MoneyJob, error: string): Promise<void> {
  if (job.kind !== JobKinds.creditNote && job.kind !== JobKinds.reconcileRefund) return;
  const { store } = services;
  await store.tx(async () => {
    const refund = await store.refunds.get(job.payload.refundId);
    if (!refund) return;
    if (refund.case_id) await stepFailed(store, refund.case_id, { stage: job.kind, refund_id: refund.id, reason: 'given up after the last attempt', error: error.slice(0, 300), source: 'worker' }, services.now().toISOString());
    // Queued for a person with its reason, and the customer is told what happens next.
    if (refund.conversation_id) await handOff(services, refund.conversation_id, 'job_failed');
  });
}

/**
 * An outgoing message reached WhatsApp: marked sent, and when it was a case's
 * last message the customer was told — recorded, and the case sealed, in the
 * same transaction. A refund that failed needs a person: one is queued (and
 * the customer told so) in that transaction too, so a customer told of the
 * failure is never left with nobody queued.
 */
export async function messageSent(services: Services, row: OutboxRow, sent: { messageId: string; zaapId?: string | null }): Promise<void> {
  const { store } = services;
  const step = caseStepOfSentMessage(row);
  await store.tx(async () => {
    const at = services.now().toISOString();
    await store.outbox.markSent(row.id, sent.messageId, at);
    if (step?.step === 'customer_told') {
      await customerTold(store, services.keys.receipt, step.caseId, { template: row.template, outbox_id: row.id, message_id: sent.messageId, zaap_id: sent.zaapId }, at);
    }
    if (step?.step === 'customer_told_of_failure') await handOff(services, row.conversation_id, 'job_failed');
  });
  services.publish({ type: 'message_out', conversationId: row.conversation_id });
}

/**
 * Refunds the rail accepted but never confirmed (its webhook lost after the
 * rail's own retries), older than `afterMs`, get a reconciliation with the
 * rail, so no case waits forever for a settlement that already happened.
 * Returns how many.
 */
export async function reconcileStalePending(services: Pick<Services, 'store' | 'now'>, afterMs: number): Promise<number> {
  const now = services.now();
  const before = new Date(now.getTime() - afterMs).toISOString();
  const stale = (await services.store.refunds.open(['pending'])).filter((r) => r.updated_at < before);
  // One reconciliation per refund per sweep window: the job key carries the window.
  for (const r of stale) await scheduleReconcile(services, r.id, { delayMs: 0, tag: `sweep-${Math.floor(now.getTime() / afterMs)}` });
  return stale.length;
}

/** Submissions whose process died (lease over) are reconciled: looked up at the rail first, never sent blind. */
export async function reconcileExpiredSubmissions(services: Pick<Services, 'store' | 'now'>): Promise<void> {
  const now = services.now();
  for (const r of await services.store.refunds.expiredSubmissions(now.toISOString())) {
    await scheduleReconcile(services, r.id, { delayMs: 0, tag: `lease-${r.lease_until ?? ''}`, continuesSeries: true });
  }
}

/**
 * At start: refunds whose outcome we never learned (a crash between reserving
 * and recording the rail's answer) are reconciled, and settled or accepted
 * refunds missing their credit note get one.
 */
export async function recoverMoneyPath(services: Pick<Services, 'store' | 'now' | 'logger'>): Promise<void> {
  const { store } = services;
  const now = services.now();
  // What this process's previous life held is free now (SQLite: one process, so every lease).
  const given = await store.leases.releaseHeldBy(store.dialect === 'sqlite' ? null : store.ownerPrefix, now.toISOString());
  if (given.jobs + given.outbox + given.turns + given.refunds > 0) services.logger.warn(given, 'leases of a previous run given back');
  const released = await store.approvals.releaseOrphans();
  if (released > 0) services.logger.warn({ released }, 'approvals claimed without a refund went back to pending');
  // Reserved refunds never claimed and unknown ones. Submissions whose lease is over (ours from
  // the previous run, just given back) are the workers' first lease sweep's to reconcile.
  for (const refund of await store.refunds.open(['reserved', 'unknown'])) {
    // Now, not when a pending job of the previous run comes due (the claim and the rail's list make a repeat harmless).
    await scheduleReconcile(services, refund.id, { delayMs: 0, tag: `start-${now.getTime()}`, continuesSeries: true });
  }
  // Settled refunds, and refunds the rail accepted (their note is issued while they settle), whose
  // note SEFAZ has not decided (a rejected or denied note is with a person: re-sending would not help).
  for (const refund of await store.refunds.awaitingCreditNote()) {
    const creditNote: Job = { kind: JobKinds.creditNote, payload: { refundId: refund.id } };
    const job = await store.jobs.byKey(jobKeys.creditNote(refund.id));
    if (!job) await scheduleJob(store, creditNote, { key: jobKeys.creditNote(refund.id), runAt: now.toISOString(), now: now.toISOString() });
    // A job that died during a long fiscal outage gets a new life at each start: every settled refund has its note (invariant 7).
    else if (job.status !== 'pending' && await store.jobs.pendingWithPrefix(jobKeys.creditNoteRestarts(refund.id)) === 0) {
      await scheduleJob(store, creditNote, { key: jobKeys.creditNoteRestart(refund.id, now.getTime()), runAt: now.toISOString(), now: now.toISOString() });
    }
  }
}
