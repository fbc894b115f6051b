import { errorSummary, type Logger } from '../core/logger.ts';
import type { Conversation } from '../data/conversations.ts';
import type { Services } from '../services/context.ts';
import type { RecentOrders } from './settings.ts';

/** Marks the first turn's context as ours, not the customer's words. */
export const CONTEXT_PREAMBLE =
  'System context, not written by the customer: the recent orders of the customer in this chat, already verified with the ERP and the payment rail (the same fields ledger_lookup returns).';

/** A first turn, or a new turn after refunds were made since the last context: the orders are (re)read. */
export async function needsContext(store: Services['store'], conversation: Pick<Conversation, 'id'>): Promise<boolean> {
  const history = await store.turns.history(conversation.id);
  if (history.length === 0) return true;
  const lastContext = [...history].reverse().find((h) => h.role === 'user' && h.content.includes('<customer_context>'));
  if (!lastContext) return false;
  return (await store.refunds.forConversation(conversation.id)).some((r) => r.created_at >= lastContext.created_at);
}

/**
 * The customer's recent orders, verified, placed before their first message
 * so that the model needs no lookup round trip (it still cannot move money
 * without pay_refund, which verifies everything again). Best effort: when a
 * provider is down the model simply looks orders up itself.
 */
export async function customerContext(recentOrders: RecentOrders, conversation: Conversation, log: Logger): Promise<string | null> {
  try {
    const orders = await recentOrders(conversation);
    if (!orders) return null;
    return `${CONTEXT_PREAMBLE}\n<customer_context>${JSON.stringify({ recent_orders: orders })}</customer_context>`;
  } catch (error) {
    log.warn({ err: errorSummary(error) }, 'recent orders unavailable; the model will look them up');
    return null;
  }
}
