import type { Transcriber } from './media.ts';

/** How the agent runs a turn (from config), and what a turn ends as. */

export interface AgentSettings {
  model: string;
  maxTokens: number;
  maxIterations: number;
  /** Place the customer's verified recent orders in the first turn's context. */
  prefetchOrders: boolean;
  /** How long a turn waits after the model failed (after the SDK's own retries). */
  retryDelayMs: number;
  /** The current system prompt (admins edit it; the next turn uses the new one). */
  systemPrompt: () => Promise<{ text: string; version: string }>;
  /** How long a turn keeps failing on the model before the conversation goes to staff (reason model_unavailable). */
  modelOutageHandoffMs?: number;
  /** Turns voice notes into text; none by default (then audio goes to staff). */
  transcriber?: Transcriber | null;
}

export type TurnResult =
  | { status: 'idle' }
  | { status: 'done'; turnId: string; modelCalls: number }
  | { status: 'parked'; turnId: string; retryInMs: number; error: string }
  | { status: 'failed'; turnId: string; error: string };
