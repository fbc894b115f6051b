import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { DB_FILE } from '../data/store.ts';
import { openConfiguredStore } from './cli.ts';
import { currentSystemPrompt, DEFAULT_SYSTEM_PROMPT } from '../agent/prompt.ts';
import { promptSha256 } from '../data/evals.ts';
import { loadScenarios, runScenarioFresh } from '../test/scenarios/runner.ts';

/**
 * `npm run eval [-- --k 4 --only <name part> --json --show --prompt-file draft.md]`
 * (`--show` prints what the customer saw; `--prompt-file` evaluates a draft before publishing it): runs the scenario
 * suite (test/scenarios/*.json) against the configured model — Claude when
 * ANTHROPIC_API_KEY is set, the scripted model otherwise — k times, and
 * prints pass^k: the share of scenarios that passed in all k runs (τ²-bench's
 * measure of reliability). k defaults to 4 with a real model, 1 with the
 * scripted one. The prompt evaluated is the current version in DATA_DIR's
 * database (what the next turn would use), or the shipped default.
 * Exit 0 when pass^k is 1.
 */
loadDotEnv();
const { values } = parseArgs({ options: { k: { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' }, show: { type: 'boolean' }, 'prompt-file': { type: 'string' } } });
const config = parseConfig();
const env = config.env;
const real = !config.emulated.model;
const k = values.k ? Number(values.k) : real ? 4 : 1;
if (!Number.isSafeInteger(k) || k < 1 || k > 50) {
  console.error('--k must be an integer from 1 to 50');
  process.exit(2);
}

// The prompt under evaluation: a draft file, or the newest version admins published, or the shipped default.
let prompt: { text: string; version: string } = { text: DEFAULT_SYSTEM_PROMPT, version: 'default' };
if (values['prompt-file']) prompt = { text: readFileSync(values['prompt-file'], 'utf8').trim(), version: `draft ${path.basename(values['prompt-file'])}` };
else if (config.env.DATABASE_URL || existsSync(path.join(config.dataDir, DB_FILE))) {
  const store = await openConfiguredStore(config);
  prompt = await currentSystemPrompt(store);
  await store.close();
}

const scenarios = loadScenarios().filter((s) => !values.only || s.name.includes(values.only));
const serverEnv: Record<string, string> = {
  ...(real ? { ANTHROPIC_API_KEY: env.ANTHROPIC_API_KEY as string, ANTHROPIC_MODEL: env.ANTHROPIC_MODEL, MODEL_MAX_RETRIES: String(env.MODEL_MAX_RETRIES) } : {}),
  ...(real && env.ANTHROPIC_BASE_URL ? { ANTHROPIC_BASE_URL: env.ANTHROPIC_BASE_URL } : {}),
};
const model = real ? env.ANTHROPIC_MODEL : 'scripted model';
console.log(`eval: ${scenarios.length} scenarios × k=${k} on ${model}, prompt ${prompt.version}`);

const rows: Array<{ name: string; passes: number; failures: string[] }> = [];
for (const s of scenarios) {
  let passes = 0;
  const failures: string[] = [];
  for (let run = 0; run < k; run++) {
    const result = await runScenarioFresh(s, serverEnv, {
      beforeSteps: async (e) => {
        if (prompt.version !== 'default') await e.services.store.prompts.add(prompt.text, 'eval', `evaluating ${prompt.version}`, new Date().toISOString());
      },
    }).catch((error: unknown) => ({ ok: false, failures: [`crashed: ${error instanceof Error ? error.message : String(error)}`], transcript: [] as string[] }));
    if (values.show && run === 0) console.log(`--- ${s.name} (customer's WhatsApp):\n${result.transcript.map((m) => `  < ${m.replaceAll('\n', '\n    ')}`).join('\n')}`);
    if (result.ok) passes++;
    else failures.push(...result.failures.map((f) => `run ${run + 1}: ${f}`));
  }
  rows.push({ name: s.name, passes, failures });
  if (!values.json) console.log(`${passes === k ? 'PASS' : 'FAIL'} ${String(passes).padStart(2)}/${k}  ${s.name}${failures.length ? `\n       ${failures.slice(0, 3).join('\n       ')}` : ''}`);
}

const passK = rows.filter((r) => r.passes === k).length / Math.max(1, rows.length);
const pass1 = rows.reduce((sum, r) => sum + r.passes / k, 0) / Math.max(1, rows.length);
const summary = { model, prompt_version: prompt.version, k, scenarios: rows.length, pass_k: passK, pass_1: pass1, at: new Date().toISOString(), rows };
mkdirSync(path.join(config.dataDir, 'evals'), { recursive: true });
writeFileSync(path.join(config.dataDir, 'evals', 'last.json'), JSON.stringify(summary, null, 2));
// Filed under the prompt's text, so the console shows it beside that version and warns before publishing a worse one.
const results = await openConfiguredStore(config);
await results.evals.record({
  prompt_sha256: promptSha256(prompt.text), prompt_label: prompt.version, model, k, scenarios: rows.length,
  passed_all: rows.filter((r) => r.passes === k).length, pass_k: passK, pass_1: pass1, created_at: new Date().toISOString(),
});
await results.close();
if (values.json) console.log(JSON.stringify(summary, null, 2));
else console.log(`\npass^${k} = ${passK.toFixed(3)} (${rows.filter((r) => r.passes === k).length}/${rows.length} scenarios passed all ${k} runs); pass^1 = ${pass1.toFixed(3)}`);
process.exit(passK === 1 ? 0 : 1);
