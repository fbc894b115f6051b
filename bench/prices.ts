/**
 * List prices of the models Estorno is configured with, in USD per million
 * tokens — the one place the bench (and anything else that prices model use)
 * reads them from.
 *
 * Source: Anthropic, "Claude Sonnet 5.5" model overview,
 * https://platform.claude.com/docs/en/models/sonnet-5-5/overview (Pricing:
 * input $2, output $10, 5-minute cache write $2.50, 1-hour cache write $4,
 * cache read $0.20 per MTok), read on 2026-11-23. Standard (global) inference;
 * `inference_geo: "us"` costs 1.1× and the Batch API half — neither is used.
 */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** 5-minute cache writes (the `ephemeral` cache_control Estorno sends). */
  cacheWritePerMTok: number;
  cacheReadPerMTok: number;
}

export const PRICES_AS_OF = '2026-11-23';

export const MODEL_PRICES: Record<string, ModelPrice> = {
  'claude-sonnet-5-5': { inputPerMTok: 2, outputPerMTok: 10, cacheWritePerMTok: 2.5, cacheReadPerMTok: 0.2 },
};

/** Intercom Fin's published price per resolution ("outcome"), the comparison the issue asks for. */
export const FIN_PER_OUTCOME_USD = 0.99;

export interface TokenUse {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export function costUsd(price: ModelPrice, use: TokenUse): number {
  return (use.input * price.inputPerMTok + use.output * price.outputPerMTok + use.cacheRead * price.cacheReadPerMTok + use.cacheWrite * price.cacheWritePerMTok) / 1_000_000;
}
