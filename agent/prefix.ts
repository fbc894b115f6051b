import type Anthropic from '@anthropic-ai/sdk';
import { createHash } from 'node:crypto';
import { TOOLS } from '../tools/registry.ts';
import { inputSchemaOf } from '../tools/tool.ts';

export type Prefix = { tools: Anthropic.Tool[]; system: Anthropic.TextBlockParam[]; hash: string };

/** Builds the stable prefix (tools + system) once per prompt version: byte-identical across calls so caching applies. */
export function buildPrefix(systemText: string): Prefix {
  const tools: Anthropic.Tool[] = TOOLS.map((t, i) => ({
    name: t.name,
    description: t.description,
    input_schema: inputSchemaOf(t) as Anthropic.Tool.InputSchema,
    ...(i === TOOLS.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
  }));
  const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: systemText, cache_control: { type: 'ephemeral' } }];
  const hash = createHash('sha256').update(JSON.stringify({ tools, system })).digest('hex');
  return { tools, system, hash };
}

/** Keeps the prefix of the current prompt version (admins edit the prompt; the next turn uses the new one). */
export class PrefixCache {
  private cached: { version: string; prefix: Prefix } | null = null;

  get(prompt: { text: string; version: string }): Prefix {
    if (this.cached?.version !== prompt.version) this.cached = { version: prompt.version, prefix: buildPrefix(prompt.text) };
    return this.cached.prefix;
  }
}
