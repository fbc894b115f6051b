import { describe, expect, it } from 'vitest';
import { modelCallBudget } from '../../../agent/budget.ts';

describe('model-call budgets', () => {
  it('bounds calls per customer and for all customers together', () => {
    let t = 0;
    const budget = modelCallBudget(2, 60_000, () => t, 3);
    expect([budget('a'), budget('a'), budget('a')].map((w) => w > 0)).toEqual([false, false, true]);
    expect(budget('b')).toBe(0);
    // 10,000 strangers: the fourth call of the minute waits, whoever makes it.
    expect(budget('c')).toBeGreaterThan(0);
    t += 60_001;
    expect(budget('c')).toBe(0);
  });
});
