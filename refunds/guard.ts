import { canonicalJson, sha256Hex } from '../core/canonical.ts';
import { isCents } from '../core/money.ts';
import { newId, newIdempotencyKey } from '../core/ids.ts';
import { caseOpened } from './cases.ts';
import { outboxKeys } from '../core/keys.ts';
import type { Conversation } from '../data/conversations.ts';
import type { RefundRow } from '../data/refunds.ts';
import { checkMandate, mandateAgentOf } from './mandate.ts';
import { refundableCents, refundWindowEnds, verifyOrder } from './verify-order.ts';
import type { Services } from '../services/context.ts';
import { scheduleClaimCheck } from './refund-flow.ts';
import { templates } from '../prompts/templates.ts';

/**
 * The guard: runs in code before every money-moving call, whatever the model
 * says (DESIGN invariants 1–5, 8, 10). The model's proposal carries only an
 * order, an amount and a reason; where the money goes comes from the verified
 * order. The checks that depend on our own state (mandate, refundable amount,
 * caps) and the reservation happen in one BEGIN IMMEDIATE transaction; the rail
 * is called by the caller after it commits.
 */

export type RefusalReason =
  | 'invalid_input'
  | 'order_not_found'
  | 'order_cancelled'
  | 'unsupported_rail'
  | 'payment_not_confirmed'
  | 'payment_ambiguous'
  | 'outside_refund_window'
  | 'exceeds_refundable'
  | 'mandate_missing'
  | 'mandate_unreadable'
  | 'bad_signature'
  | 'mandate_inactive'
  | 'over_per_refund_cap'
  | 'over_window_cap'
  | 'approval_not_pending'
  | 'conversation_with_staff'
  | 'mandate_agent_mismatch';

export interface Proposal {
  orderNumber: string;
  amountCents: number;
  reason: string;
}

export interface Actor {
  /** Who proposes: the agent, or the staff member approving. */
  id: string;
  mandateId: string;
  conversation: Conversation;
  toolUseId: string | null;
  /** Set when an approved request is executed: the approval id. */
  approvalId?: string;
  /** Who approved it and why: the approval is claimed in the reservation's own transaction. */
  approvalDecision?: { by: string; reason: string };
}

export type GuardDecision =
  | { ok: true; refund: RefundRow; caseId: string }
  | { ok: false; reason: RefusalReason; detail: string; approvalId?: string };

const APPROVAL_TTL_MS = 24 * 3_600_000;

/** The hash an approval is bound to: the exact order, amount and reason. */
export function proposalHash(conversationId: string, p: Proposal): string {
  return sha256Hex(canonicalJson({ conversation_id: conversationId, order_number: p.orderNumber, amount_cents: p.amountCents, reason: p.reason }));
}

export async function proposeRefund(services: Services, actor: Actor, proposal: Proposal): Promise<GuardDecision> {
  const { store } = services;
  const refuse = async (reason: RefusalReason, detail: string, extra: { mandateId?: string; mandateVersion?: number; approvalId?: string } = {}): Promise<GuardDecision> => {
    await store.guardDecisions.record({
      tool_use_id: actor.toolUseId,
      conversation_id: actor.conversation.id,
      actor: actor.id,
      order_number: typeof proposal.orderNumber === 'string' ? proposal.orderNumber.slice(0, 64) : null,
      amount_cents: isCents(proposal.amountCents) ? proposal.amountCents : null,
      decision: extra.approvalId ? 'approval_required' : 'refused',
      reason,
      detail: JSON.stringify({ detail }),
      mandate_id: extra.mandateId ?? null,
      mandate_version: extra.mandateVersion ?? null,
      refund_id: null,
      approval_id: extra.approvalId ?? null,
      created_at: services.now().toISOString(),
    });
    // After the commit (the console never hears of a decision that rolled back, nor twice of a retried one).
    store.database.afterCommit(() => services.publish({ type: 'guard_decision', conversationId: actor.conversation.id, decision: 'refused', reason }));
    return { ok: false, reason, detail, ...(extra.approvalId ? { approvalId: extra.approvalId } : {}) };
  };

  // A person holds the conversation: the agent moves no money behind their back (staff executing an approval may).
  const heldRefusal = async (): Promise<GuardDecision | null> => {
    if (actor.approvalId) return null;
    const state = (await store.conversations.get(actor.conversation.id))?.state;
    return state === 'agent' ? null : await refuse('conversation_with_staff', `conversation is ${state ?? 'unknown'}; the agent may not refund`);
  };
  const held = await heldRefusal();
  if (held) return held;
  if (!actor.approvalId) {
    const holder = await mandateAgentOf(store, actor.mandateId);
    if (holder !== null && holder !== actor.id) return await refuse('mandate_agent_mismatch', `mandate ${actor.mandateId} belongs to ${holder}, not ${actor.id}`, { mandateId: actor.mandateId });
  }

  // Invariant 8 and 10: the amount is a positive integer of cents, or nothing happens.
  if (!isCents(proposal.amountCents) || proposal.amountCents <= 0) return await refuse('invalid_input', 'amount_cents must be a positive integer');
  if (typeof proposal.orderNumber !== 'string' || !/^\d{1,20}$/.test(proposal.orderNumber)) return await refuse('invalid_input', 'order_id must be digits');

  // Invariants 1 and 2: the order, its owner and its payment come from the ERP and the rail.
  const verification = await verifyOrder(services, actor.conversation, proposal.orderNumber);
  if (!verification.found) return await refuse('order_not_found', `order ${proposal.orderNumber} not found for this customer`);
  const { order } = verification;
  if (order.cancelled) return await refuse('order_cancelled', `order ${order.orderNumber} is cancelled`);
  if (order.payment.method !== 'pix') return await refuse('unsupported_rail', `order ${order.orderNumber} was paid by ${order.payment.method}; only Pix refunds are automated`);
  const payment = verification.payment;
  if (!payment) return await refuse(verification.issue?.reason ?? 'payment_not_confirmed', verification.issue?.detail ?? `the Pix payment of order ${order.orderNumber} was not found on the rail`);
  const now = services.now();
  if (now.getTime() > refundWindowEnds(services, payment.paid_at).getTime()) {
    return await refuse('outside_refund_window', `Pix refunds are possible for ${services.pixRefundWindowDays} days after payment (paid ${payment.paid_at})`);
  }

  // Invariants 3 and 4: check and reserve in one BEGIN IMMEDIATE transaction.
  return await store.tx(async (): Promise<GuardDecision> => {
    // Replicas (PostgreSQL): everything read below is read under locks, taken first and
    // always in this order (payment, approval, agent), so two proposals on two processes
    // cannot both fit what is left and never wait on each other in a cycle. SQLite's
    // BEGIN IMMEDIATE already serialises every writer.
    await store.lock(`payment:${payment.id}`);
    if (actor.approvalId) await store.lock(`approval:${actor.approvalId}`);
    const at = services.now();
    const nowIso = at.toISOString();
    // Again inside the transaction: a takeover that committed while the order was being verified wins.
    const heldNow = await heldRefusal();
    if (heldNow) return heldNow;
    // An approval is executed once: read here, claimed below with the reservation, in one transaction.
    if (actor.approvalId && (await store.approvals.get(actor.approvalId))?.status !== 'pending') {
      return await refuse('approval_not_pending', `approval ${actor.approvalId} is no longer pending`);
    }
    const mandate = await checkMandate(store, services.keys.mandate, actor.mandateId, at);
    if (!mandate.ok) return await refuse(mandate.reason, mandate.detail, { mandateId: actor.mandateId });
    const m = mandate.mandate;
    const mandateRef = { mandateId: m.id, mandateVersion: m.version };

    await store.lock(`mandate-agent:${m.agent_id}`);
    // The payment as it is now, under its lock (what was refunded outside us may have grown since verification).
    const refundable = await refundableCents(services, (await store.payments.get(payment.id)) ?? payment);
    if (proposal.amountCents > refundable) {
      return await refuse('exceeds_refundable', `asked ${proposal.amountCents} cents; ${refundable} cents left to refund on order ${order.orderNumber}`, mandateRef);
    }
    const windowSince = new Date(at.getTime() - m.window_seconds * 1000).toISOString();
    const windowUsed = await store.refunds.mandateWindowCents(m.id, windowSince);
    let capReason: RefusalReason | null = null;
    let capDetail = '';
    // The per-refund cap bounds what one order, and one customer (all their chats), get
    // without approval within the window: five refunds of R$ 480 are not five small refunds.
    const orderUsed = actor.approvalId ? 0 : await store.refunds.mandateCentsFor(m.id, { orderNumber: order.orderNumber }, windowSince);
    const customerUsed = actor.approvalId ? 0 : await store.refunds.mandateCentsFor(m.id, { customerCode: payment.customer_code }, windowSince);
    if (proposal.amountCents > m.per_refund_cap_cents) {
      capReason = 'over_per_refund_cap';
      capDetail = `asked ${proposal.amountCents} cents; mandate ${m.id} allows ${m.per_refund_cap_cents} cents per refund`;
    } else if (orderUsed + proposal.amountCents > m.per_refund_cap_cents) {
      capReason = 'over_per_refund_cap';
      capDetail = `asked ${proposal.amountCents} cents; ${orderUsed} cents already refunded on order ${order.orderNumber} in the last ${m.window_seconds} s; mandate ${m.id} allows ${m.per_refund_cap_cents} cents per order without approval`;
    } else if (customerUsed + proposal.amountCents > m.per_refund_cap_cents) {
      capReason = 'over_per_refund_cap';
      capDetail = `asked ${proposal.amountCents} cents; ${customerUsed} cents already refunded to this customer in the last ${m.window_seconds} s; mandate ${m.id} allows ${m.per_refund_cap_cents} cents per customer without approval`;
    } else if (windowUsed + proposal.amountCents > m.window_cap_cents) {
      capReason = 'over_window_cap';
      capDetail = `${windowUsed} cents used in the last ${m.window_seconds} s; mandate ${m.id} allows ${m.window_cap_cents} cents`;
    }
    if (capReason) {
      // Over a cap: staff get an approval request bound to this exact proposal
      // (unless the proposer is already executing an approval: then it is a refusal).
      if (actor.approvalId) return await refuse(capReason, capDetail, mandateRef);
      const hash = proposalHash(actor.conversation.id, proposal);
      const existing = await store.approvals.pendingFor(hash, nowIso);
      let approvalId = existing?.id ?? newId('apr');
      if (!existing) {
        approvalId = await store.approvals.open({
          id: approvalId,
          conversation_id: actor.conversation.id,
          order_number: order.orderNumber,
          amount_cents: proposal.amountCents,
          reason: proposal.reason,
          proposal_hash: hash,
          guard_reason: capReason,
          status: 'pending',
          requested_at: nowIso,
          expires_at: new Date(at.getTime() + APPROVAL_TTL_MS).toISOString(),
          decided_by: null,
          decided_at: null,
          decision_reason: null,
          refund_id: null,
        });
        store.database.afterCommit(() => services.publish({ type: 'approval_requested', conversationId: actor.conversation.id, approvalId }));
      }
      return await refuse(capReason, capDetail, { ...mandateRef, approvalId });
    }

    const refundId = newId('rf');
    const caseId = newId('rcp');
    const refund: RefundRow = {
      id: refundId,
      idempotency_key: newIdempotencyKey(),
      payment_id: payment.id,
      order_number: order.orderNumber,
      conversation_id: actor.conversation.id,
      case_id: caseId,
      amount_cents: proposal.amountCents,
      reason: proposal.reason.slice(0, 500),
      status: 'reserved',
      mandate_id: m.id,
      mandate_version: m.version,
      authorized_by: actor.id,
      approval_id: actor.approvalId ?? null,
      rail: payment.rail,
      rail_refund_id: null,
      end_to_end_id: null,
      failure_reason: null,
      created_at: nowIso,
      updated_at: nowIso,
      settled_at: null,
      submitted_at: null,
      review_requested_at: null,
    };
    await store.refunds.insert(refund);
    // A safety net in the same transaction: if whatever reserved this refund never claims it
    // (an error between here and the rail call), reconciliation does, instead of a restart days later.
    await scheduleClaimCheck(services, refundId, nowIso);
    if (actor.approvalId) {
      // Claim and reservation are one step: a crash leaves either both or neither.
      const decision = actor.approvalDecision ?? { by: actor.id, reason: 'approved' };
      if (!await store.approvals.claim(actor.approvalId, decision.by, decision.reason, refundId, nowIso)) throw new Error(`approval ${actor.approvalId} changed inside the transaction`);
    }
    await store.guardDecisions.record({
      tool_use_id: actor.toolUseId,
      conversation_id: actor.conversation.id,
      actor: actor.id,
      order_number: order.orderNumber,
      amount_cents: proposal.amountCents,
      decision: 'allowed',
      reason: null,
      detail: JSON.stringify({ refundable_before: refundable, window_used_before: windowUsed }),
      mandate_id: m.id,
      mandate_version: m.version,
      refund_id: refundId,
      approval_id: actor.approvalId ?? null,
      created_at: nowIso,
    });
    await caseOpened(store, { caseId, conversationId: actor.conversation.id, verification, decision: {
      mandate_id: m.id,
      mandate_version: m.version,
      mandate_signature: mandate.signature,
      mandate_key_id: mandate.keyId,
      per_refund_cap_cents: m.per_refund_cap_cents,
      window_cap_cents: m.window_cap_cents,
      window_seconds: m.window_seconds,
      window_used_cents: windowUsed,
      order_used_cents: orderUsed,
      customer_used_cents: customerUsed,
      refundable_cents: refundable,
      amount_cents: proposal.amountCents,
      reason: proposal.reason,
      decided_by: actor.id,
      approval_id: actor.approvalId ?? null,
      refund_id: refundId,
      idempotency_key: refund.idempotency_key,
    } }, nowIso);
    await noticeToNumberOnFile(services, actor.conversation, refund, nowIso);
    store.database.afterCommit(() => services.publish({ type: 'guard_decision', conversationId: actor.conversation.id, decision: 'allowed', refundId }));
    return { ok: true, refund, caseId };
  });
}

/**
 * A refund asked from an `@lid` chat (no number of its own) is announced to the
 * customer's WhatsApp number on file, in the same transaction as the
 * reservation: if someone else got hold of the code, the owner hears of it.
 */
async function noticeToNumberOnFile(services: Services, conversation: Conversation, refund: RefundRow, nowIso: string): Promise<void> {
  if (conversation.phone !== null) return;
  const { store } = services;
  const phone = await store.identity.verifiedPhone(conversation.id);
  if (!phone) return;
  const onFile = await store.conversations.ensure(phone, phone, nowIso);
  await store.outbox.enqueue({
    conversation_id: onFile.id,
    chat_id: onFile.chat_id,
    text: templates.refund_requested_elsewhere({ amountCents: refund.amount_cents, orderNumber: refund.order_number }),
    source: 'system',
    dedupe_key: outboxKeys.refundRequestedElsewhere(refund.id),
    now: nowIso,
  });
}
