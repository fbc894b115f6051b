import type { Store } from '../data/store.ts';

const SCOPE = 'model';
/** The global count's key in rate_events (conversation ids never take this form). */
const ALL = '*';

/**
 * The model-call budget of `modelCallBudget` (agent/turn.ts), counted in the
 * database so every replica shares it: at most `max` calls per conversation
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
      const at = now();
      const since = at - windowMs;
      await t.rates.prune(SCOPE, since);
      const mine = await t.rates.window(SCOPE, conversationId, since);
      if (mine.count >= max) return windowMs - (at - (mine.oldestMs ?? at)) + 1;
      if (Number.isFinite(globalMax)) {
        const all = await t.rates.window(SCOPE, ALL, since);
        if (all.count >= globalMax) return windowMs - (at - (all.oldestMs ?? at)) + 1;
        await t.rates.record(SCOPE, ALL, at);
      }
      await t.rates.record(SCOPE, conversationId, at);
      return 0;
    });
  };
}
