import { errorSummary, type Logger } from '../core/logger.ts';

/** In production a burst waits for 1.5 s of quiet and gets one answer; elsewhere (tests, demos) turns start at once unless configured. */
export const PRODUCTION_DEBOUNCE_MS = 1_500;

/** A turn's lease (replicas): renewed every 10 s while it runs; a dead process's turn is free after 30 s. */
export const TURN_LEASE_MS = 30_000;

export function turnDebounceMs(env: { NODE_ENV: string; TURN_DEBOUNCE_MS?: number | undefined }): number {
  return env.TURN_DEBOUNCE_MS ?? (env.NODE_ENV === 'production' ? PRODUCTION_DEBOUNCE_MS : 0);
}

/**
 * One turn at a time per customer (a queue keyed by conversation), a bounded
 * number of turns at once overall, and a short debounce so that messages sent
 * in a burst are answered as one turn.
 */
/**
 * The conversation's turn lease in the database (PostgreSQL replicas): a turn
 * runs only where the lease is held; elsewhere it is asked for again shortly.
 */
export interface TurnLease {
  claim(conversationId: string): Promise<boolean>;
  renew(conversationId: string): Promise<boolean>;
  release(conversationId: string): Promise<void>;
  /** How long a claim lasts; renewed at a third of it while the turn runs. */
  leaseMs: number;
  /** When another process holds it: ask again after this. */
  retryMs: number;
}

export interface SchedulerOptions {
  debounceMs: number;
  concurrency: number;
  logger: Logger;
  lease?: TurnLease;
  /**
   * A turn that crashed twice in a row (a bug, not a provider: those park the turn):
   * the conversation must not end in silence, so a person is queued here.
   */
  onRepeatedCrash?: (conversationId: string) => Promise<unknown>;
}

/** A crashed turn is tried once more after this; a second crash queues a person. */
const CRASH_RETRY_MS = 2_000;

export class TurnScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  private stopped = false;
  private readonly run: (conversationId: string) => Promise<unknown>;
  private readonly options: SchedulerOptions;
  /** Turns that crashed in a row, per conversation (reset when one runs through). */
  private readonly crashes = new Map<string, number>();

  constructor(run: (conversationId: string) => Promise<unknown>, options: SchedulerOptions) {
    this.run = run;
    this.options = options;
  }

  /** Asks for a turn of this conversation soon; coalesces with one already queued or running. */
  schedule(conversationId: string): void {
    if (this.stopped) return;
    if (this.running.has(conversationId)) {
      this.again.add(conversationId);
      return;
    }
    const existing = this.timers.get(conversationId);
    if (existing) clearTimeout(existing);
    if (this.options.debounceMs === 0) {
      this.start(conversationId);
      return;
    }
    this.timers.set(conversationId, setTimeout(() => {
      this.timers.delete(conversationId);
      this.start(conversationId);
    }, this.options.debounceMs));
  }

  private start(conversationId: string): void {
    const task = (async () => {
      await this.slot();
      const lease = this.options.lease;
      let held = false;
      let renewal: NodeJS.Timeout | null = null;
      try {
        if (lease) {
          held = await lease.claim(conversationId);
          if (!held) {
            // Another process is running this customer's turn: it answers what is stored;
            // ask again after a moment for anything that arrives after its last look.
            this.retryLater(conversationId, lease.retryMs);
            return;
          }
          renewal = setInterval(() => void lease.renew(conversationId).catch(() => undefined), Math.max(1_000, Math.floor(lease.leaseMs / 3)));
          renewal.unref();
        }
        do {
          this.again.delete(conversationId);
          if (this.stopped) break;
          await this.run(conversationId);
        } while (this.again.has(conversationId));
        this.crashes.delete(conversationId);
      } catch (error) {
        const crashes = (this.crashes.get(conversationId) ?? 0) + 1;
        this.crashes.set(conversationId, crashes);
        this.options.logger.error({ err: errorSummary(error), conversationId, crashes }, 'turn crashed');
        if (crashes === 1) this.retryLater(conversationId, CRASH_RETRY_MS);
        else {
          this.crashes.delete(conversationId);
          await this.options.onRepeatedCrash?.(conversationId).catch((e: unknown) => this.options.logger.error({ err: errorSummary(e), conversationId }, 'could not queue a person after a crashed turn'));
        }
      } finally {
        if (renewal) clearInterval(renewal);
        if (held && lease) await lease.release(conversationId).catch((error: unknown) => this.options.logger.warn({ err: errorSummary(error), conversationId }, 'turn lease not released; it expires'));
        this.release();
        this.running.delete(conversationId);
        // A message that arrived while the lease was being given back found the turn still
        // "running" and only marked it: its turn starts now.
        if (this.again.delete(conversationId) && !this.stopped) this.schedule(conversationId);
      }
    })();
    this.running.set(conversationId, task);
  }

  private retryLater(conversationId: string, delayMs: number): void {
    if (this.stopped || this.timers.has(conversationId)) return;
    this.timers.set(conversationId, setTimeout(() => {
      this.timers.delete(conversationId);
      this.schedule(conversationId);
    }, delayMs));
  }

  private async slot(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  /** Resolves when no turn is queued or running. */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.timers.size > 0) {
      await Promise.all([...this.running.values()]);
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops taking turns; waits for those in flight (their state is committed step by step). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.running.values()]);
  }

  get size(): number {
    return this.running.size;
  }
}
