import type { Logger } from '../core/logger.ts';
import type { SigningKey } from '../core/signing.ts';
import type { Store } from '../data/store.ts';
import type { Conversation } from '../data/conversations.ts';
import type { ErpClient, FiscalClient, PixRail, WhatsAppClient } from '../providers/types.ts';

/** What the money path needs from the running service; built once at start. */
export interface Services {
  store: Store;
  logger: Logger;
  erp: ErpClient;
  pix: PixRail;
  fiscal: FiscalClient;
  whatsapp: WhatsAppClient;
  keys: { mandate: SigningKey; receipt: SigningKey };
  /** The mandate the agent proposes under. */
  agentMandateId(): Promise<string>;
  /** The mandate approvals execute under. */
  approverMandateId: string;
  pixRefundWindowDays: number;
  /** How long a claimed rail call is this process's (longer than any provider call can take). */
  railCallLeaseMs: number;
  /** Where customers open their receipts (PUBLIC_BASE_URL or the server's own URL). */
  publicBaseUrl: string;
  now: () => Date;
  /** Wakes the background workers (jobs, outbox) after new work was stored. */
  wake: () => void;
  /** Live updates for the console (conversation id, what changed). */
  publish: (event: { type: string; conversationId?: string; [k: string]: unknown }) => void;
}

/** One tool call inside one turn of one conversation. */
export interface ToolContext {
  services: Services;
  conversation: Conversation;
  turnId: string;
  toolUseId: string;
  logger: Logger;
}
