import { z } from 'zod';

/**
 * Every key the service writes by hand, and the kinds of background job with
 * their payloads (issue 13). An outbox dedupe key makes a second enqueue of
 * the same customer message a no-op; a job key makes a second schedule of the
 * same work a no-op. Each key is built here, by one function, and nowhere
 * else: two call sites that must agree (the credit note job scheduled by the
 * settlement and by the restart; the case's last message queued by the flow
 * and by `notify_customer`) agree because they call the same function.
 * test/unit/core/keys.test.ts fails if a key prefix is written elsewhere.
 */

// ---------------------------------------------------------------- outbox dedupe keys

/** Outbox dedupe keys: one customer message per key, whoever queues it. */
export const outboxKeys = {
  /**
   * The case's last message (receipt link and credit note). `notify_customer`'s
   * "refund_done" uses the same key, so the customer gets it once.
   */
  refundDone: (refundId: string): string => `refund_done:${refundId}`,
  /** `notify_customer`'s "refund_pending": once per refund. */
  refundPending: (refundId: string): string => `refund_pending:${refundId}`,
  refundFailed: (refundId: string): string => `refund_failed:${refundId}`,
  creditNoteFailed: (refundId: string): string => `credit_note_failed:${refundId}`,
  /** The notice to the number on file when a refund is asked from an `@lid` chat. */
  refundRequestedElsewhere: (refundId: string): string => `refund_requested_elsewhere:${refundId}`,
  /** The customer hears a staff decision on an approval once. */
  approvalDecision: (outcome: 'approved' | 'rejected' | 'failed', approvalId: string): string => `approval_${outcome}:${approvalId}`,
  /** One handoff message per move to `waiting_for_staff` (its time). */
  handoff: (conversationId: string, at: string): string => `handoff:${conversationId}:${at}`,
  /** The identification code sent to the number on file, once per batch of messages (the last inbox id). */
  identityCode: (conversationId: string, lastInboxId: number): string => `identity_code:${conversationId}:${lastInboxId}`,
  /** "That code does not match", once per batch of messages. */
  identityCodeWrong: (lastInboxId: number): string => `identify_code:${lastInboxId}`,
  /** "Send your CPF" / "we sent a code", once per batch of messages. */
  identityPrompt: (lastInboxId: number): string => `identify:${lastInboxId}`,
  /** Part `part` of the model's text in a turn; `responseId` for words written beside a tool call. */
  agentReply: (turnId: string, part: number, responseId?: string): string =>
    responseId === undefined ? `reply:${turnId}:${part}` : `reply:${turnId}:${responseId}:${part}`,
  /** "The automatic service is unstable", once per parked turn. */
  holding: (turnId: string): string => `holding:${turnId}`,
} as const;

/** The notify_customer templates that concern one refund, and their dedupe key. */
export function templateKey(template: 'refund_done' | 'refund_pending', refundId: string): string {
  return template === 'refund_done' ? outboxKeys.refundDone(refundId) : outboxKeys.refundPending(refundId);
}

// ---------------------------------------------------------------- jobs

/** The kinds of durable job (the `jobs.kind` column). */
export const JobKinds = {
  /** Ask the rail about a refund whose outcome is not known (a series of attempts with backoff). */
  reconcileRefund: 'reconcile_refund',
  /** The safety net scheduled with a reservation: a refund reserved and never claimed is sent. */
  claimCheck: 'refund_claim_check',
  /** Issue the credit note of a refund the rail accepted. */
  creditNote: 'credit_note',
  /** Run a parked agent turn again. */
  resumeTurn: 'resume_turn',
} as const;

const refundIdPayload = z.object({ refundId: z.string().min(1) });

/** The payload of each job kind, as stored (JSON) and as parsed back by the worker. */
const JOB_PAYLOADS = {
  [JobKinds.reconcileRefund]: refundIdPayload.extend({ attempt: z.number().int().nonnegative().default(0) }),
  [JobKinds.claimCheck]: refundIdPayload,
  [JobKinds.creditNote]: refundIdPayload,
  [JobKinds.resumeTurn]: z.object({ conversationId: z.string().min(1), turnId: z.string().min(1) }),
};

export type JobKind = (typeof JobKinds)[keyof typeof JobKinds];
export type JobPayload<K extends JobKind> = z.infer<(typeof JOB_PAYLOADS)[K]>;
/** One job: its kind and the payload that kind carries. The worker switches on `kind`. */
export type Job = { [K in JobKind]: { kind: K; payload: JobPayload<K> } }[JobKind];

/** Reads a stored job back; throws on an unknown kind or a payload that kind does not carry. */
export function parseJob(kind: string, payload: string): Job {
  if (!Object.hasOwn(JOB_PAYLOADS, kind)) throw new Error(`unknown job kind ${kind}`);
  const schema = JOB_PAYLOADS[kind as JobKind];
  const parsed = schema.safeParse(JSON.parse(payload));
  if (!parsed.success) throw new Error(`job ${kind}: bad payload (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return { kind, payload: parsed.data } as Job;
}

/** Job keys. A key already used is never scheduled again; a series shares a prefix. */
export const jobKeys = {
  /** The one credit-note job of a refund, whichever comes first (the rail's answer, the settlement). */
  creditNote: (refundId: string): string => `${JobKinds.creditNote}:${refundId}`,
  /** The restarts of a dead credit-note job share this prefix. */
  creditNoteRestarts: (refundId: string): string => `${jobKeys.creditNote(refundId)}:`,
  /** A new life for a dead credit-note job, at a restart. */
  creditNoteRestart: (refundId: string, atMs: number): string => `${jobKeys.creditNoteRestarts(refundId)}restart-${atMs}`,
  /** Every reconciliation of a refund shares this prefix (one series at a time). */
  reconcileSeries: (refundId: string): string => `${JobKinds.reconcileRefund}:${refundId}:`,
  /** One step of a reconciliation series; `tag` makes a new series (a restart, a sweep window) a new key. */
  reconcile: (refundId: string, tag: string): string => `${jobKeys.reconcileSeries(refundId)}${tag}`,
  claimCheck: (refundId: string): string => `${JobKinds.claimCheck}:${refundId}`,
  /** One retry of a parked turn. */
  resumeTurn: (turnId: string, atMs: number): string => `${JobKinds.resumeTurn}:${turnId}:${atMs}`,
} as const;

/** The part of the jobs repository scheduling needs (data/jobs.ts). */
export interface JobScheduler {
  schedule(kind: string, key: string, payload: unknown, runAt: string, now: string): Promise<boolean>;
}

/**
 * Schedules a job, typed by its kind (the payload must be the one that kind
 * carries). False when the key was already used: the work is already there.
 */
export async function scheduleJob(store: { jobs: JobScheduler }, job: Job, o: { key: string; runAt: string; now: string }): Promise<boolean> {
  return await store.jobs.schedule(job.kind, o.key, job.payload, o.runAt, o.now);
}
