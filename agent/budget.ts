import type { Store } from '../data/store.ts';

/**
 * Model-call budgets: how many calls one customer (and everybody together)
 * may cause per window. The loop parks a turn while its customer waits.
 */

/**
 * A per-customer budget of model calls (a sliding window): one customer's
 * flood cannot make the service call the model more than `max` times per
 * `windowMs`. Returns how long to wait, 0 when a call is allowed now (and counts it).
 */
export function modelCallBudget(max: number, windowMs: number, now: () => number = Date.now, globalMax = Number.POSITIVE_INFINITY): (conversationId: string) => number {
  const calls = new Map<string, number[]>();
  // All conversations together: 10,000 strangers writing at once cannot mean 10,000 model calls.
  let all: number[] = [];
  return (conversationId) => {
    const t = now();
    const recent = (calls.get(conversationId) ?? []).filter((at) => t - at < windowMs);
    calls.set(conversationId, recent);
    if (recent.length >= max) return windowMs - (t - (recent[0] as number)) + 1;
    all = all.filter((at) => t - at < windowMs);
    if (all.length >= globalMax) return windowMs - (t - (all[0] as number)) + 1;
    recent.push(t);
    all.push(t);
    if (calls.size > 50_000) for (const [k, v] of calls) if (v.every((at) => t - at >= windowMs)) calls.delete(k);
    return 0;
  };
}

const SCOPE = 'model';
/** The global count's key in rate_events (conversation ids never take this form). */
const ALL = '*';

/**
 * The model-call budget of `modelCallBudget` (above), counted in the database
 * so every replica shares it (PostgreSQL replicas; one SQLite process keeps the in-memory one): at most `max` calls per conversation
 * and `globalMax` for all conversations together per sliding `windowMs`.
 * Resolves to how long to wait, 0 when a call is allowed now (and counts it).
 * One short transaction under one lock per check: two replicas never both take
 * the last call of a window.
 */
export function storedModelCallBudget(
  store: () => Store,
  max: number,
  windowMs: number,
  now: () => number = Date.now,
  globalMax = Number.POSITIVE_INFINITY,
): (conversationId: string) => Promise<number> {
  return async (conversationId) => {
    const s = store();
    return s.tx(async (t) => {
      await s.lock('rate:model-calls');
      return t.rates.take(SCOPE, [{ key: conversationId, max }, ...(Number.isFinite(globalMax) ? [{ key: ALL, max: globalMax }] : [])], now(), windowMs);
    });
  };
}
