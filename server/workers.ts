import { ProviderError } from '../core/errors.ts';
import { errorSummary } from '../core/logger.ts';
import type { Services } from '../services/context.ts';
import { backoffMs, gaveUpMoneyJob, messageSent, reconcileExpiredSubmissions, reconcileStalePending, runMoneyJob } from '../refunds/jobs.ts';
import { JobKinds, parseJob, type Job } from '../core/keys.ts';
import type { JobRow } from '../data/jobs.ts';

/**
 * The clock of the background work that must survive restarts: durable jobs
 * (the money path's, in refunds/jobs.ts, and parked turns) and the outbox of
 * customer messages — claimed with a lease, run by the handler of their kind,
 * retried with capped exponential backoff, given up after the last attempt.
 * One loop, woken on new work and polling as a fallback.
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
  /** Callers holding the workers (`whilePaused`). */
  private paused = 0;
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
    const stale = await reconcileStalePending(this.services, afterMs);
    if (stale) this.wake();
    return stale;
  }

  /** Runs a pass now (or right after the one in flight). */
  wake(): void {
    if (this.halted) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        await this.pass();
      } while (this.rerun && !this.halted);
    })()
      .catch((error) => this.services.logger.error({ err: errorSummary(error) }, 'worker pass failed'))
      .finally(() => {
        this.running = null;
      });
  }

  /** Runs `fn` with the workers held: the pass in flight finishes first, and none starts until `fn` is done. */
  async whilePaused<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    await this.running;
    try {
      return await fn();
    } finally {
      this.paused--;
      this.wake();
    }
  }

  /** Stopped for good, or held for a while (`whilePaused`): no pass starts, the one running ends at its next item. */
  private get halted(): boolean {
    return this.stopped || this.paused > 0;
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
    await reconcileExpiredSubmissions(this.services);
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
      if (this.halted) return;
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
        const nowIso = this.services.now().toISOString();
        if (job.attempts + 1 >= this.maxAttempts) {
          // Dead, and its refund in front of staff, in one transaction: a crash between them would
          // leave a dead job nobody was queued for.
          const died = await store.tx(async () => {
            const moved = await store.jobs.retry(job.id, message.slice(0, 500), null, nowIso);
            if (moved && parsed) await this.giveUp(parsed, message);
            return moved;
          });
          if (!died) continue;
          this.services.logger.error({ job: job.kind, key: job.key, attempts: job.attempts + 1 }, 'job given up after its last attempt; staff must finish it');
          this.services.publish({ type: 'job_dead', kind: job.kind, key: job.key });
        } else {
          const delay = backoffMs(job.attempts, error instanceof ProviderError && error.failure === 'rate_limited' ? 5_000 : 1_000);
          await store.jobs.retry(job.id, message.slice(0, 500), new Date(this.services.now().getTime() + delay).toISOString(), nowIso);
          this.services.logger.warn({ job: job.kind, key: job.key, attempts: job.attempts + 1, retryInMs: delay }, 'job failed; will retry');
        }
      }
    }
    await this.sendOutbox();
  }

  /** A job given up: a money-path job's refund goes to staff (refunds/jobs.ts); a parked turn has its own hand-off. */
  private async giveUp(job: Job, error: string): Promise<void> {
    if (job.kind !== JobKinds.resumeTurn) await gaveUpMoneyJob(this.services, job, error);
  }

  /** One job, by its kind; the payload is the one that kind carries (core/keys.ts). */
  private async runJob(job: Job, row: JobRow): Promise<void> {
    switch (job.kind) {
      case JobKinds.reconcileRefund:
      case JobKinds.claimCheck:
      case JobKinds.creditNote:
        return await runMoneyJob(this.services, job, { reviewUnknownAfterMs: this.reviewUnknownAfterMs, key: row.key });
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

  private async sendOutbox(): Promise<void> {
    const { store } = this.services;
    const now = this.services.now();
    for (const row of await store.outbox.claimDue(now.toISOString(), { owner: store.owner, until: new Date(now.getTime() + OUTBOX_LEASE_MS).toISOString() })) {
      if (this.halted) return;
      // Sent one at a time: each only while still ours, with a fresh lease (never sent by two processes).
      if (!await store.outbox.holdLease(row.id, store.owner, new Date(this.services.now().getTime() + OUTBOX_LEASE_MS).toISOString())) continue;
      try {
        const sent = await this.services.whatsapp.sendText(row.chat_id, row.text);
        // Marked sent; a case's last message seals its case (refunds/jobs.ts).
        await messageSent(this.services, row, sent);
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
