import type { Conversation } from '../data/conversations.ts';
import type { Transcriber } from './media.ts';

/** The customer's recent orders, verified with the ERP and the rail (null when the chat names no customer). */
export type RecentOrders = (conversation: Conversation) => Promise<Array<Record<string, unknown>> | null>;

/** How the agent runs a turn (from config), and what a turn ends as. */

export interface AgentSettings {
  model: string;
  maxTokens: number;
  maxIterations: number;
  /**
   * The customer's verified recent orders, placed in the first turn's context: a
   * port the composition root builds from refunds/ (verify-order.ts), so the agent
   * reads no money-path file. None (AGENT_PREFETCH_ORDERS=0): the model looks orders up itself.
   */
  recentOrders?: RecentOrders | null;
  /** How long a turn waits after the model failed (after the SDK's own retries). */
  retryDelayMs: number;
  /** The current system prompt (admins edit it; the next turn uses the new one). */
  systemPrompt: () => Promise<{ text: string; version: string }>;
  /** How long a turn keeps failing on the model before the conversation goes to staff (reason model_unavailable). */
  modelOutageHandoffMs?: number;
  /** Turns voice notes into text; none by default (then audio goes to staff). */
  transcriber?: Transcriber | null;
  /**
   * Replicas (PostgreSQL): called inside the transaction that stores a model
   * answer or the turn's reply; true while this process holds the conversation's
   * turn lease (or takes it back, expired and untaken). False: a stall outlived
   * the lease and another process runs the turn now, so this one stores and
   * sends nothing more. None on SQLite (one process).
   */
  turnFence?: ((conversationId: string) => Promise<boolean>) | null;
}

export type TurnResult =
  | { status: 'idle' }
  | { status: 'done'; turnId: string; modelCalls: number }
  | { status: 'parked'; turnId: string; retryInMs: number; error: string }
  | { status: 'failed'; turnId: string; error: string }
  /** The turn lease passed to another process mid-turn (settings.turnFence): it finishes the turn. */
  | { status: 'taken_elsewhere'; turnId: string };
