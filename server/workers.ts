import { ProviderError } from '../core/errors.ts';
import { appendCaseRecord, sealCase } from '../agent/receipts.ts';
import { handOff } from '../agent/conversation-state.ts';
import type { Services } from '../tools/context.ts';
import { issueCreditNote, JOB_CREDIT_NOTE, JOB_RECONCILE, reconcileRefund, scheduleReconcile } from '../tools/refund-flow.ts';

/**
 * Background work that must survive restarts: durable jobs (reconciliation,
 * credit notes, parked turns) and the outbox of customer messages, each
 * retried with capped exponential backoff. One loop, woken on new work and
 * polling as a fallback.
 */
export class Workers {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;
  private readonly services: Services;
  private readonly resumeTurn: (conversationId: string) => void;

  constructor(services: Services, resumeTurn: (conversationId: string) => void) {
    this.services = services;
    this.resumeTurn = resumeTurn;
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
  sweepPending(afterMs: number): number {
    const now = this.services.now();
    const before = new Date(now.getTime() - afterMs).toISOString();
    const stale = this.services.store.payments.openRefunds(['pending']).filter((r) => r.updated_at < before);
    // One reconciliation per refund per sweep window: the job key carries the window.
    for (const r of stale) scheduleReconcile(this.services, r.id, 0, Math.floor(now.getTime() / afterMs));
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
      .catch((error) => this.services.logger.error({ err: error }, 'worker pass failed'))
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
      if (this.services.store.jobs.due(now, 1).length === 0 && this.services.store.outbox.due(now, 1).length === 0) return;
      this.wake();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async pass(): Promise<void> {
    const { store } = this.services;
    for (const job of store.jobs.due(this.services.now().toISOString())) {
      if (this.stopped) return;
      const payload = JSON.parse(job.payload) as Record<string, string>;
      try {
        await this.runJob(job.kind, payload);
        store.jobs.done(job.id, this.services.now().toISOString());
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Credit notes and reconciliation are retried until they succeed (capped backoff);
        // they are never given up, because money already moved.
        const delay = backoffMs(job.attempts, error instanceof ProviderError && error.failure === 'rate_limited' ? 5_000 : 1_000);
        store.jobs.retry(job.id, message.slice(0, 500), new Date(this.services.now().getTime() + delay).toISOString(), this.services.now().toISOString());
        this.services.logger.warn({ job: job.kind, key: job.key, attempts: job.attempts + 1, retryInMs: delay }, 'job failed; will retry');
      }
    }
    await this.sendOutbox();
  }

  private async runJob(kind: string, payload: Record<string, string>): Promise<void> {
    switch (kind) {
      case JOB_RECONCILE: {
        const result = await reconcileRefund(this.services, payload.refundId as string);
        this.services.logger.info({ refundId: payload.refundId, result }, 'refund reconciled');
        return;
      }
      case JOB_CREDIT_NOTE: {
        const status = await issueCreditNote(this.services, payload.refundId as string);
        if (status !== 'authorized') throw new Error(`credit note ${status}`);
        return;
      }
      case 'resume_turn':
        this.resumeTurn(payload.conversationId as string);
        return;
      default:
        throw new Error(`unknown job kind ${kind}`);
    }
  }

  private async sendOutbox(): Promise<void> {
    const { store } = this.services;
    for (const row of store.outbox.due(this.services.now().toISOString())) {
      if (this.stopped) return;
      try {
        const sent = await this.services.whatsapp.sendText(row.chat_id, row.text);
        store.immediate(() => {
          const at = this.services.now().toISOString();
          store.outbox.markSent(row.id, sent.messageId, at);
          if (row.template === 'refund_done' && row.case_id) {
            // The last step of a case: the customer was told. Record it and seal.
            appendCaseRecord(store, row.case_id, 'notification', { template: row.template, outbox_id: row.id, message_id: sent.messageId, zaap_id: sent.zaapId }, at);
            sealCase(store, this.services.keys.receipt, row.case_id, 'settled', at);
          }
        });
        this.services.publish({ type: 'message_out', conversationId: row.conversation_id });
        // A refund that failed needs a person: queue one (and say so) once the customer was told.
        if (row.template === 'refund_failed') handOff(this.services, row.conversation_id, 'job_failed');
      } catch (error) {
        const permanent = error instanceof ProviderError && !error.retryable;
        const delay = backoffMs(row.attempts, 1_000);
        const next = permanent && row.attempts >= 5 ? null : new Date(this.services.now().getTime() + delay).toISOString();
        store.outbox.markFailed(row.id, error instanceof Error ? error.message.slice(0, 300) : String(error), next);
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
 * and recording the rail's answer) are reconciled, and settled refunds missing
 * their credit note get one.
 */
export function recoverMoneyPath(services: Services): void {
  const { store } = services;
  const now = services.now();
  for (const refund of store.payments.openRefunds(['reserved', 'unknown'])) {
    scheduleReconcile(services, refund.id, 0, now.getTime());
  }
  for (const refund of store.payments.openRefunds(['settled'])) {
    if (store.creditNotes.forRefund(refund.id)?.status !== 'authorized') {
      store.jobs.schedule(JOB_CREDIT_NOTE, `${JOB_CREDIT_NOTE}:${refund.id}`, { refundId: refund.id }, now.toISOString(), now.toISOString());
    }
  }
}
