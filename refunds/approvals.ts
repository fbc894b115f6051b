import { templates } from '../prompts/templates.ts';
import { handOff, queueForPersonInTx } from '../conversations/state.ts';
import type { Services } from '../services/context.ts';
import { proposeRefund, type RefusalReason } from './guard.ts';
import { executeRefund } from './refund-flow.ts';
import { outboxKeys } from '../core/keys.ts';

/**
 * Staff decisions on refunds the guard sent for approval (DESIGN invariant 5).
 * Approving executes the exact stored proposal (order, amount, reason) through
 * the same guard, under the approver's own mandate; a different amount needs a
 * new proposal and a new approval. The customer is told either way.
 */

export type ApprovalResult =
  | { ok: true; status: 'approved'; refundId: string; refundStatus: string }
  | { ok: true; status: 'rejected' }
  | { ok: false; error: 'not_found' | 'not_pending' | 'expired' | 'reason_required' }
  | { ok: false; error: 'refused'; reason: RefusalReason; detail: string };

export async function decideApproval(
  services: Services,
  approvalId: string,
  decision: 'approve' | 'reject',
  staff: { id: string },
  reason: string,
  /** Reject only: a message staff wrote for the customer; the internal reason never leaves the console. */
  customerMessage: string | null = null,
): Promise<ApprovalResult> {
  const { store } = services;
  if (!reason.trim()) return { ok: false, error: 'reason_required' };
  const nowIso = services.now().toISOString();
  await expireApprovals(services);
  const approval = await store.approvals.get(approvalId);
  if (!approval) return { ok: false, error: 'not_found' };
  if (approval.status === 'expired') return { ok: false, error: 'expired' };
  if (approval.status !== 'pending') return { ok: false, error: 'not_pending' };
  const conversation = await store.conversations.get(approval.conversation_id);
  if (!conversation) return { ok: false, error: 'not_found' };
  // The customer's message about the decision; inside a transaction, the sender is woken once it committed.
  const tell = async (text: string, outcome: 'approved' | 'rejected' | 'failed') => {
    await store.outbox.enqueue({ conversation_id: conversation.id, chat_id: conversation.chat_id, text, source: 'system', dedupe_key: outboxKeys.approvalDecision(outcome, approvalId), now: services.now().toISOString() });
    store.database.afterCommit(() => services.wake());
  };
  if (decision === 'reject') {
    // Decided and told in one transaction (never a rejection the customer does not hear of); the
    // compare-and-set claims it: two staff clicking at once cannot both decide it.
    const rejected = await store.tx(async () => {
      if (!await store.approvals.transition(approvalId, 'pending', 'rejected', staff.id, reason.slice(0, 500), nowIso)) return false;
      await tell(templates.approval_rejected({ amountCents: approval.amount_cents, orderNumber: approval.order_number, customerMessage: customerMessage?.trim().slice(0, 1000) || null }), 'rejected');
      return true;
    });
    if (!rejected) return { ok: false, error: 'not_pending' };
    services.publish({ type: 'approval_decided', conversationId: conversation.id, approvalId, decision });
    return { ok: true, status: 'rejected' };
  }
  // Approving claims the approval inside the guard's reservation transaction: a
  // crash leaves it either pending (approve again) or approved with its refund.
  const decisionResult = await proposeRefund(
    services,
    { id: `staff:${staff.id}`, mandateId: services.approverMandateId, conversation, toolUseId: null, approvalId, approvalDecision: { by: staff.id, reason: reason.slice(0, 500) } },
    { orderNumber: approval.order_number, amountCents: approval.amount_cents, reason: approval.reason },
  );
  if (!decisionResult.ok) {
    // Decided meanwhile by someone else (two staff approving at once): theirs stands.
    if (decisionResult.reason === 'approval_not_pending' || (await store.approvals.get(approvalId))?.status !== 'pending') return { ok: false, error: 'not_pending' };
    // The guard refused the approved proposal: the approval fails, and the customer hears it from us, not silence.
    const failedAt = services.now().toISOString();
    // Failed, told, and queued for the person the message promises (unless one already holds the
    // conversation), in one transaction: the promise is never left without a queue.
    await store.tx(async () => {
      if (!await store.approvals.transition(approvalId, 'pending', 'failed', staff.id, `${reason.slice(0, 300)} | refused: ${decisionResult.reason}`, failedAt)) return;
      await tell(templates.approval_failed({ amountCents: approval.amount_cents, orderNumber: approval.order_number }), 'failed');
      await queueForPersonInTx(store, conversation.id, 'job_failed', failedAt);
    });
    services.publish({ type: 'approval_decided', conversationId: conversation.id, approvalId, decision: 'failed' });
    return { ok: false, error: 'refused', reason: decisionResult.reason, detail: decisionResult.detail };
  }
  services.publish({ type: 'approval_decided', conversationId: conversation.id, approvalId, decision });
  await tell(templates.approval_approved({ amountCents: approval.amount_cents, orderNumber: approval.order_number }), 'approved');
  // A failure before the rail call leaves the refund reserved: its reconcile job sends it shortly.
  const refundStatus = await executeRefund(services, decisionResult.refund.id).then((o) => o.status, () => 'processing');
  return { ok: true, status: 'approved', refundId: decisionResult.refund.id, refundStatus };
}

/**
 * Approvals nobody decided within their time expire, and the customer — told
 * "avisaremos você" — hears it from us: the conversation is queued for a person.
 */
export async function expireApprovals(services: Pick<Services, 'store' | 'now' | 'publish' | 'wake' | 'logger'>): Promise<number> {
  const { store } = services;
  // Expired and queued for a person in one transaction: a crash never leaves a customer waiting on a decision nobody makes.
  const expired = await store.tx(async () => {
    const due = await store.approvals.expireDue(services.now().toISOString());
    for (const a of due) await handOff(services, a.conversation_id, 'job_failed', templates.approval_expired({ amountCents: a.amount_cents, orderNumber: a.order_number }));
    return due;
  });
  for (const a of expired) services.publish({ type: 'approval_decided', conversationId: a.conversation_id, approvalId: a.id, decision: 'expired' });
  return expired.length;
}

