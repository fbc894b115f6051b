import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The default system prompt, shipped as a file; admin edits are versions in the database. */
export const DEFAULT_SYSTEM_PROMPT = readFileSync(fileURLToPath(new URL('../prompts/system.md', import.meta.url)), 'utf8').trim();
