import type { Services } from '../services/context.ts';

/** How long a failed or empty ERP lookup is trusted before trying again. */
const RETRY_AFTER_MS = 10 * 60_000;
const CONCURRENCY = 2;

/**
 * Customers' names for the inbox, from the ERP, without ever making the list
 * wait for it: the list shows what is cached on the conversation, and asks
 * here for the ones it lacks; a few lookups run in the background, the name is
 * stored on the conversation, and `onName` tells the browsers to refresh.
 */
export class CustomerNames {
  private readonly queued = new Set<string>();
  private readonly queue: Array<{ id: string; phone: string | null; customer_code: number | null }> = [];
  private running = 0;
  private stopped = false;

  private readonly services: Services;
  private readonly onName: (conversationId: string) => void;
  constructor(services: Services, onName: (conversationId: string) => void) {
    this.services = services;
    this.onName = onName;
  }

  /** Queues lookups for those of `ids` whose name is unknown and not looked up recently. */
  async want(ids: string[]): Promise<void> {
    if (this.stopped || ids.length === 0) return;
    const stale = new Date(this.services.now().getTime() - RETRY_AFTER_MS).toISOString();
    for (const row of await this.services.store.consoleWork.namesToLookUp(ids, stale)) {
      if (this.queued.has(row.id)) continue;
      this.queued.add(row.id);
      this.queue.push(row);
    }
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private pump(): void {
    while (!this.stopped && this.running < CONCURRENCY && this.queue.length > 0) {
      const row = this.queue.shift()!;
      this.running++;
      void this.lookup(row).finally(() => {
        this.running--;
        this.queued.delete(row.id);
        this.pump();
      });
    }
  }

  private async lookup(row: { id: string; phone: string | null; customer_code: number | null }): Promise<void> {
    const { erp } = this.services;
    let found: { name: string; code: number } | null = null;
    try {
      found = row.customer_code ? await erp.getCustomer(row.customer_code) : row.phone ? await erp.findCustomerByPhone(row.phone) : null;
    } catch {
      found = null; // the ERP is down: tried again after RETRY_AFTER_MS
    }
    if (this.stopped) return;
    try {
      await this.services.store.consoleWork.setCustomerName(row.id, found?.name ?? null, found?.code ?? null, this.services.now().toISOString());
      if (found) this.onName(row.id);
    } catch {
      // the database closed under us (shutdown or a sandbox reset): nothing to keep
    }
  }
}

/** A small time-bound cache for what staff ask the ERP on demand (panel, approvals). */
export class TtlCache<T> {
  private readonly map = new Map<string, { at: number; value: Promise<T> }>();
  private readonly ttlMs: number;
  private readonly max: number;
  constructor(ttlMs: number, max = 500) {
    this.ttlMs = ttlMs;
    this.max = max;
  }
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.map.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    // A failure is not cached: the next click asks again.
    value.catch(() => this.map.delete(key));
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, { at: Date.now(), value });
    return value;
  }
}
