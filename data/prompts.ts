import type { Sql } from './sql.ts';

export interface PromptVersionRow {
  id: number;
  name: string;
  text: string;
  author: string;
  note: string | null;
  created_at: string;
}

/** System prompt versions; admins add them, nothing edits or deletes one. */
export function promptsRepo(sql: Sql) {
  return {
    async current(name = 'system'): Promise<PromptVersionRow | undefined> {
      return await sql.one('SELECT * FROM prompt_versions WHERE name = ? ORDER BY id DESC LIMIT 1', name) as PromptVersionRow | undefined;
    },
    async add(text: string, author: string, note: string | null, now: string, name = 'system'): Promise<PromptVersionRow> {
      return (await sql.one<PromptVersionRow>('INSERT INTO prompt_versions (name, text, author, note, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *', name, text, author, note, now))!;
    },
    async get(id: number): Promise<PromptVersionRow | undefined> {
      return await sql.one('SELECT * FROM prompt_versions WHERE id = ?', id) as PromptVersionRow | undefined;
    },
    async list(name = 'system'): Promise<PromptVersionRow[]> {
      return await sql.all('SELECT * FROM prompt_versions WHERE name = ? ORDER BY id DESC', name) as PromptVersionRow[];
    },
  };
}
