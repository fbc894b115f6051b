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
