import type { Db } from './db.ts';

export interface PromptVersionRow {
  id: number;
  name: string;
  text: string;
  author: string;
  note: string | null;
  created_at: string;
}

/** System prompt versions; admins add them, nothing edits or deletes one. */
export function promptsRepo(db: Db) {
  return {
    current(name = 'system'): PromptVersionRow | undefined {
      return db.prepare('SELECT * FROM prompt_versions WHERE name = ? ORDER BY id DESC LIMIT 1').get(name) as PromptVersionRow | undefined;
    },
    add(text: string, author: string, note: string | null, now: string, name = 'system'): PromptVersionRow {
      const info = db.prepare('INSERT INTO prompt_versions (name, text, author, note, created_at) VALUES (?, ?, ?, ?, ?)').run(name, text, author, note, now);
      return db.prepare('SELECT * FROM prompt_versions WHERE id = ?').get(info.lastInsertRowid) as PromptVersionRow;
    },
    get(id: number): PromptVersionRow | undefined {
      return db.prepare('SELECT * FROM prompt_versions WHERE id = ?').get(id) as PromptVersionRow | undefined;
    },
    list(name = 'system'): PromptVersionRow[] {
      return db.prepare('SELECT * FROM prompt_versions WHERE name = ? ORDER BY id DESC').all(name) as PromptVersionRow[];
    },
  };
}
