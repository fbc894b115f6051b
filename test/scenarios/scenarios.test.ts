import { describe, expect, it } from 'vitest';
import { loadScenarios, runScenarioFresh } from './runner.ts';

/** Every scenario of test/scenarios/*.json on the scripted model, each on a fresh server (`npm run eval` runs them on any model). */
describe('scenario suite (scripted model)', () => {
  const scenarios = loadScenarios();

  it('has at least 25 scenarios, each covering something', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(25);
    for (const s of scenarios) expect(s.covers.length, s.name).toBeGreaterThan(0);
  });

  for (const s of scenarios) {
    it(`${s.name}: ${s.description}`, async () => {
      const result = await runScenarioFresh(s);
      expect(result.failures, `customer saw:\n${result.transcript.join('\n---\n')}`).toEqual([]);
    });
  }
});
