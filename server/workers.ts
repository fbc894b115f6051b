import { ProviderError } from '../core/errors.ts';
import { errorSummary } from '../core/logger.ts';
import { caseStepOfSentMessage, customerTold, stepFailed } from '../refunds/cases.ts';
import { handOff } from '../conversations/state.ts';
import type { Services } from '../services/context.ts';
import { issueCreditNote, reconcileRefund, scheduleReconcile, sendIfUnclaimed } from '../refunds/refund-flow.ts';
import { jobKeys, JobKinds, parseJob, scheduleJob, type Job } from '../core/keys.ts';
import type { JobRow } from '../data/jobs.ts';

/**
 * Background work that must survive restarts: durable jobs (reconciliation,
 * credit notes, parked turns) and the outbox of customer messages, each
 * retried with capped exponential backoff. One loop, woken on new work and
 * polling as a fallback.
 */
/** Attempts of one job before it is given up (`dead`, shown to staff): with the capped backoff, about 25 minutes. */
export const MAX_JOB_ATTEMPTS = 12;
/** How often a worker looks for rail calls whose owner died. */
const LEASE_SWEEP_MS = 5_000;
/**
 * How long a claimed job or message is this process's alone. Longer than one
 * attempt takes (provider calls time out in seconds); a replica that dies
 * holding work delays it by at most this.
 */
export const JOB_LEASE_MS = 60_000;
/** Customer text with no turn for this long, on no process, is picked up by any replica. */
const ORPHAN_TEXT_AFTER_MS = 20_000;
export const OUTBOX_LEASE_MS = 30_000;

export class Workers {
  private timer: NodeJS.Timeout | null = null;
  private readonly maxAttempts: number;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  private readonly services: Services;
  private readonly resumeTurn: (conversationId: string) => void;
  private readonly reviewUnknownAfterMs: number;
  private lastLeaseSweep = 0;

  constructor(services: Services, resumeTurn: (conversationId: string) => void, options: { maxAttempts?: number; reviewUnknownAfterMs?: number } = {}) {
    this.services = services;
    this.resumeTurn = resumeTurn;
    this.maxAttempts = options.maxAttempts ?? MAX_JOB_ATTEMPTS;
    this.reviewUnknownAfterMs = options.reviewUnknownAfterMs ?? 30 * 60_000;
  }

  start(pollMs = 500): void {
    this.timer = setInterval(() => this.wake(), pollMs);
    this.timer.unref();
    this.wake();
  }

  /**
   * Refunds the rail accepted but never confirmed (its webhook lost after the
   * rail's own retries) are reconciled with the rail once they are older than
   * `afterMs`, so no case waits forever for a settlement that already happened.
   */
  async sweepPending(afterMs: number): Promise<number> {
    const now = this.services.now();
    const before = new Date(now.getTime() - afterMs).toISOString();
    const stale = (await this.services.store.payments.openRefunds(['pending'])).filter((r) => r.updated_at < before);
    // One reconciliation per refund per sweep window: the job key carries the window.
    for (const r of stale) await scheduleReconcile(this.services, r.id, { delayMs: 0, tag: `sweep-${Math.floor(now.getTime() / afterMs)}` });
    if (stale.length) this.wake();
    return stale.length;
  }

  /** Runs a pass now (or right after the one in flight). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        await this.pass();
      } while (this.rerun && !this.stopped);
    })()
      .catch((error) => this.services.logger.error({ err: errorSummary(error) }, 'worker pass failed'))
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Resolves when a pass is not running and nothing is due now. */
  async idle(): Promise<void> {
    for (;;) {
      await this.running;
      const now = this.services.now().toISOString();
      if ((await this.services.store.jobs.due(now, 1)).length === 0 && (await this.services.store.outbox.due(now, 1)).length === 0) return;
      this.wake();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Submissions whose process died (lease over) are reconciled: looked up at the rail first, never sent blind. */
  private async reclaimExpiredSubmissions(): Promise<void> {
    const now = this.services.now();
    if (now.getTime() - this.lastLeaseSweep < LEASE_SWEEP_MS) return;
    this.lastLeaseSweep = now.getTime();
    for (const r of await this.services.store.payments.expiredSubmissions(now.toISOString())) {
      await scheduleReconcile(this.services, r.id, { delayMs: 0, tag: `lease-${r.lease_until ?? ''}`, continuesSeries: true });
    }
    // Replicas: turns whose process died (lease over), or text no process started a turn for.
    if (this.services.store.dialect === 'postgres') {
      for (const id of await this.services.store.conversations.orphanedTurns(now.toISOString(), new Date(now.getTime() - ORPHAN_TEXT_AFTER_MS).toISOString())) this.resumeTurn(id);
    }
  }

  private async pass(): Promise<void> {
    const { store } = this.services;
    await this.reclaimExpiredSubmissions();
    const now = this.services.now();
    for (const job of await store.jobs.claimDue(now.toISOString(), { owner: store.owner, until: new Date(now.getTime() + JOB_LEASE_MS).toISOString() })) {
      if (this.stopped) return;
      // The batch runs one job at a time: each starts only while still ours, with a fresh lease.
      if (!await store.jobs.holdLease(job.id, store.owner, new Date(this.services.now().getTime() + JOB_LEASE_MS).toISOString())) continue;
      let parsed: Job | null = null;
      try {
        // An unknown kind or a payload its kind does not carry fails like any job: retried, then dead.
        parsed = parseJob(job.kind, job.payload);
        await this.runJob(parsed, job);
        await store.jobs.done(job.id, this.services.now().toISOString());
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Retried with capped backoff, but never forever: after the last attempt the job
        // is `dead` and staff see it (money may have moved: a person must finish it).
        const delay = backoffMs(job.attempts, error instanceof ProviderError && error.failure === 'rate_limited' ? 5_000 : 1_000);
        const last = job.attempts + 1 >= this.maxAttempts;
        await store.jobs.retry(job.id, message.slice(0, 500), last ? null : new Date(this.services.now().getTime() + delay).toISOString(), this.services.now().toISOString());
        if (last) {
          this.services.logger.error({ job: job.kind, key: job.key, attempts: job.attempts + 1 }, 'job given up after its last attempt; staff must finish it');
          if (parsed) await this.giveUp(parsed, message);
          this.services.publish({ type: 'job_dead', kind: job.kind, key: job.key });
        } else {
          this.services.logger.warn({ job: job.kind, key: job.key, attempts: job.attempts + 1, retryInMs: delay }, 'job failed; will retry');
        }
      }
    }
    await this.sendOutbox();
  }

  /**
   * A dead job of the money path puts its conversation in front of staff and
   * says so in the case: the refund or its credit note is theirs to finish.
   */
  private async giveUp(job: Job, error: string): Promise<void> {
    if (job.kind !== JobKinds.creditNote && job.kind !== JobKinds.reconcileRefund) return;
    const { store } = this.services;
    const refund = await store.payments.refund(job.payload.refundId);
    if (!refund) return;
    await store.tx(async () => {
      const at = this.services.now().toISOString();
      if (refund.case_id) await stepFailed(store, refund.case_id, { stage: job.kind, refund_id: refund.id, reason: 'given up after the last attempt', error: error.slice(0, 300), source: 'worker' }, at);
    });
    // Queued for a person with its reason, and the customer is told what happens next.
    if (refund.conversation_id) await handOff(this.services, refund.conversation_id, 'job_failed');
  }

  /** One job, by its kind; the payload is the one that kind carries (core/keys.ts). */
  private async runJob(job: Job, row: JobRow): Promise<void> {
    switch (job.kind) {
      case JobKinds.reconcileRefund: {
        const { refundId, attempt } = job.payload;
        const result = await reconcileRefund(this.services, refundId);
        this.services.logger.info({ refundId, result }, 'refund reconciled');
        if (result === 'unresolved') await this.awaitRail(refundId, attempt, row.key);
        // 'leased': another process owns the rail call; the lease sweep asks again once it is over.
        return;
      }
      case JobKinds.claimCheck: {
        const result = await sendIfUnclaimed(this.services, job.payload.refundId);
        if (result !== 'unchanged') this.services.logger.warn({ refundId: job.payload.refundId, result }, 'a reserved refund was never claimed: sent by its claim check');
        return;
      }
      case JobKinds.creditNote: {
        // Still with SEFAZ: come back later. Authorised, rejected or denied: this job is over
        // (a rejected or denied note is in front of staff, and the customer was told).
        const status = await issueCreditNote(this.services, job.payload.refundId);
        if (status === 'processing') throw new Error('credit note still processing at SEFAZ');
        return;
      }
      case JobKinds.resumeTurn:
        this.resumeTurn(job.payload.conversationId);
        return;
      default: {
        // Every kind is handled above: a new kind fails to compile here until it is.
        const unhandled: never = job;
        throw new Error(`unknown job kind ${(unhandled as Job).kind}`);
      }
    }
  }

  /**
   * The rail does not show a refund we submitted: it may still arrive (a slow
   * rail), so ask again later, never send it again. Past the review window the
   * refund is put in front of staff, and the rail is still asked now and then.
   */
  private async awaitRail(refundId: string, attempt: number, currentKey: string): Promise<void> {
    const { store } = this.services;
    const now = this.services.now();
    const refund = await store.payments.refund(refundId);
    if (!refund || refund.status !== 'unknown') return;
    // Another series already asks about this refund (the running job itself does not count).
    if (await store.jobs.pendingWithPrefix(jobKeys.reconcileSeries(refundId), currentKey) > 0) return;
    const since = Date.parse(refund.submitted_at ?? refund.created_at);
    if (now.getTime() - since >= this.reviewUnknownAfterMs && await store.tx(async () => await store.payments.requestReview(refundId, now.toISOString()))) {
      this.services.logger.warn({ refundId }, 'refund outcome still unknown: staff must check the rail');
      this.services.publish({ type: 'refund_review', conversationId: refund.conversation_id ?? undefined, refundId });
    }
    await scheduleReconcile(this.services, refundId, { delayMs: backoffMs(attempt, 2_000), attempt: attempt + 1, tag: `${attempt + 1}-${now.getTime()}`, continuesSeries: true });
  }

  private async sendOutbox(): Promise<void> {
    const { store } = this.services;
    const now = this.services.now();
    for (const row of await store.outbox.claimDue(now.toISOString(), { owner: store.owner, until: new Date(now.getTime() + OUTBOX_LEASE_MS).toISOString() })) {
      if (this.stopped) return;
      // Sent one at a time: each only while still ours, with a fresh lease (never sent by two processes).
      if (!await store.outbox.holdLease(row.id, store.owner, new Date(this.services.now().getTime() + OUTBOX_LEASE_MS).toISOString())) continue;
      try {
        const sent = await this.services.whatsapp.sendText(row.chat_id, row.text);
        const step = caseStepOfSentMessage(row);
        await store.tx(async () => {
          const at = this.services.now().toISOString();
          await store.outbox.markSent(row.id, sent.messageId, at);
          // The case's last message went out: the customer was told, and the case is sealed.
          if (step?.step === 'customer_told') {
            await customerTold(store, this.services.keys.receipt, step.caseId, { template: row.template, outbox_id: row.id, message_id: sent.messageId, zaap_id: sent.zaapId }, at);
          }
        });
        this.services.publish({ type: 'message_out', conversationId: row.conversation_id });
        // A refund that failed needs a person: queue one (and say so) once the customer was told.
        if (step?.step === 'customer_told_of_failure') await handOff(this.services, row.conversation_id, 'job_failed');
      } catch (error) {
        const permanent = error instanceof ProviderError && !error.retryable;
        const delay = backoffMs(row.attempts, 1_000);
        const next = permanent && row.attempts >= 5 ? null : new Date(this.services.now().getTime() + delay).toISOString();
        await store.outbox.markFailed(row.id, error instanceof Error ? error.message.slice(0, 300) : String(error), next);
        this.services.logger.warn({ outboxId: row.id, attempts: row.attempts + 1, retryInMs: next ? delay : null }, 'send failed');
      }
    }
  }
}

/** 1 s, 2 s, 4 s … capped at 5 minutes. */
export function backoffMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempts, 16), 300_000);
}

/**
 * At start: refunds whose outcome we never learned (a crash between reserving
 * and recording the rail's answer) are reconciled, and settled or accepted
 * refunds missing their credit note get one.
 */
export async function recoverMoneyPath(services: Services): Promise<void> {
  const { store } = services;
  const now = services.now();
  // What this process's previous life held is free now (SQLite: one process, so every lease).
  const given = await store.leases.releaseHeldBy(store.dialect === 'sqlite' ? null : store.ownerPrefix, now.toISOString());
  if (given.jobs + given.outbox + given.turns + given.refunds > 0) services.logger.warn(given, 'leases of a previous run given back');
  const released = await store.guardLog.releaseOrphanApprovals();
  if (released > 0) services.logger.warn({ released }, 'approvals claimed without a refund went back to pending');
  // Reserved refunds never claimed and unknown ones. Submissions whose lease is over (ours from
  // the previous run, just given back) are the workers' first lease sweep's to reconcile.
  for (const refund of await store.payments.openRefunds(['reserved', 'unknown'])) {
    // Now, not when a pending job of the previous run comes due (the claim and the rail's list make a repeat harmless).
    await scheduleReconcile(services, refund.id, { delayMs: 0, tag: `start-${now.getTime()}`, continuesSeries: true });
  }
  // Settled refunds, and refunds the rail accepted (their note is issued while they settle), whose
  // note SEFAZ has not decided (a rejected or denied note is with a person: re-sending would not help).
  for (const refund of await store.payments.refundsAwaitingCreditNote()) {
    const creditNote: Job = { kind: JobKinds.creditNote, payload: { refundId: refund.id } };
    const job = await store.jobs.byKey(jobKeys.creditNote(refund.id));
    if (!job) await scheduleJob(store, creditNote, { key: jobKeys.creditNote(refund.id), runAt: now.toISOString(), now: now.toISOString() });
    // A job that died during a long fiscal outage gets a new life at each start: every settled refund has its note (invariant 7).
    else if (job.status !== 'pending' && await store.jobs.pendingWithPrefix(jobKeys.creditNoteRestarts(refund.id)) === 0) {
      await scheduleJob(store, creditNote, { key: jobKeys.creditNoteRestart(refund.id, now.getTime()), runAt: now.toISOString(), now: now.toISOString() });
    }
  }
}
