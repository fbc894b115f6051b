import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The default system prompt, shipped as a file; admin edits are versions in the database. */
export const DEFAULT_SYSTEM_PROMPT = readFileSync(fileURLToPath(new URL('../prompts/system.md', import.meta.url)), 'utf8').trim();

/** The prompt the next turn uses: the newest admin version, or the shipped default. */
export async function currentSystemPrompt(store: { prompts: { current(): Promise<{ id: number; text: string } | undefined> } }): Promise<{ text: string; version: string }> {
  const row = await store.prompts.current();
  return row ? { text: row.text, version: `v${row.id}` } : { text: DEFAULT_SYSTEM_PROMPT, version: 'default' };
}
