import Anthropic from '@anthropic-ai/sdk';
import type { Config } from '../core/config.ts';

/**
 * The model client: the real SDK, pointed at Claude when ANTHROPIC_API_KEY is
 * set, or at the sandbox's scripted model (same wire format) otherwise.
 */
export function createModelClient(config: Config, sandboxBaseUrl: string, apiKey: string): Anthropic {
  const env = config.env;
  return new Anthropic({
    apiKey: env.ANTHROPIC_API_KEY ?? apiKey,
    baseURL: config.emulated.model ? sandboxBaseUrl : (env.ANTHROPIC_BASE_URL ?? null),
    timeout: env.MODEL_TIMEOUT_MS,
    maxRetries: env.MODEL_MAX_RETRIES,
  });
}

export type ModelClient = Pick<Anthropic, 'messages'>;
