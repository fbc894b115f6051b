import { createHash } from 'node:crypto';
import type { Db } from './db.ts';

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

export function evalsRepo(db: Db) {
  return {
    record(row: Omit<EvalRunRow, 'id'>): void {
      db.prepare(
        `INSERT INTO eval_runs (prompt_sha256, prompt_label, model, k, scenarios, passed_all, pass_k, pass_1, created_at)
         VALUES (@prompt_sha256, @prompt_label, @model, @k, @scenarios, @passed_all, @pass_k, @pass_1, @created_at)`,
      ).run(row);
    },
    /** The newest eval of a prompt text (any model), if one was run. */
    latestFor(sha256: string): EvalRunRow | undefined {
      return db.prepare('SELECT * FROM eval_runs WHERE prompt_sha256 = ? ORDER BY id DESC LIMIT 1').get(sha256) as EvalRunRow | undefined;
    },
  };
}
