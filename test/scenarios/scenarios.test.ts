import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarios, runScenario, startScenarioServer, type ScenarioServer } from './runner.ts';

/** Every scenario of test/scenarios/*.json on the scripted model (`npm run eval` runs them on any model). */
describe('scenario suite (scripted model)', () => {
  const scenarios = loadScenarios();
  let server: ScenarioServer;
  beforeAll(async () => {
    server = await startScenarioServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('has at least 25 scenarios, each covering something', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(25);
  });

  for (const s of scenarios) {
    it(`${s.name}: ${s.description}`, async () => {
      const result = await runScenario(server, s);
      expect(result.failures, `customer saw:\n${result.transcript.join('\n---\n')}`).toEqual([]);
    });
  }
});
