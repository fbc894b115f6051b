import { createHash } from 'node:crypto';
import type { Sql } from './sql.ts';

/** One `npm run eval`: a prompt text, a model, k runs of the scenario suite. */
export interface EvalRunRow {
  id: number;
  prompt_sha256: string;
  prompt_label: string;
  model: string;
  k: number;
  scenarios: number;
  passed_all: number;
  pass_k: number;
  pass_1: number;
  created_at: string;
}

/** The key eval results are filed under: the prompt's exact text. */
export function promptSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function evalsRepo(sql: Sql) {
  return {
    async record(row: Omit<EvalRunRow, 'id'>): Promise<void> {
      await sql.run(`INSERT INTO eval_runs (prompt_sha256, prompt_label, model, k, scenarios, passed_all, pass_k, pass_1, created_at)
         VALUES (@prompt_sha256, @prompt_label, @model, @k, @scenarios, @passed_all, @pass_k, @pass_1, @created_at)`, row);
    },
    /** The newest eval of a prompt text (any model), if one was run. */
    async latestFor(sha256: string): Promise<EvalRunRow | undefined> {
      return await sql.one('SELECT * FROM eval_runs WHERE prompt_sha256 = ? ORDER BY id DESC LIMIT 1', sha256) as EvalRunRow | undefined;
    },
  };
}
