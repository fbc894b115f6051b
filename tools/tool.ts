import { z } from 'zod';
import type { ToolContext } from '../services/context.ts';

/**
 * A tool is one object: name, description, zod input schema (strict: unknown
 * fields are refused) and run. The Anthropic `input_schema` is derived from the
 * schema, so the parser and what the model is told cannot drift (STYLE rule 1).
 */
export interface Tool<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  input: S;
  run(input: z.infer<S>, ctx: ToolContext): Promise<ToolOutcome>;
}

/** What a tool returns: data for the model, and how the call went for the record. */
export type ToolOutcome =
  | { outcome: 'ok'; result: Record<string, unknown> }
  | { outcome: 'refused'; reason: string; message: string; extra?: Record<string, unknown> };

export function defineTool<S extends z.ZodObject>(tool: Tool<S>): Tool<S> {
  return tool;
}

export const ok = (result: Record<string, unknown>): ToolOutcome => ({ outcome: 'ok', result });
export const refused = (reason: string, message: string, extra?: Record<string, unknown>): ToolOutcome => ({
  outcome: 'refused',
  reason,
  message,
  ...(extra ? { extra } : {}),
});

/** The JSON Schema the model sees, derived from the zod schema. */
export function inputSchemaOf(tool: Tool): { type: 'object'; [k: string]: unknown } {
  const schema = z.toJSONSchema(tool.input, { target: 'draft-2020-12' }) as Record<string, unknown>;
  delete schema.$schema;
  return { ...schema, type: 'object' };
}
