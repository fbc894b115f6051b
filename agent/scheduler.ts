import type { Logger } from '../core/logger.ts';

/** In production a burst waits for 1.5 s of quiet and gets one answer; elsewhere (tests, demos) turns start at once unless configured. */
export const PRODUCTION_DEBOUNCE_MS = 1_500;

export function turnDebounceMs(env: { NODE_ENV: string; TURN_DEBOUNCE_MS?: number | undefined }): number {
  return env.TURN_DEBOUNCE_MS ?? (env.NODE_ENV === 'production' ? PRODUCTION_DEBOUNCE_MS : 0);
}

/**
 * One turn at a time per customer (a queue keyed by conversation), a bounded
 * number of turns at once overall, and a short debounce so that messages sent
 * in a burst are answered as one turn.
 */
export class TurnScheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  private stopped = false;
  private readonly run: (conversationId: string) => Promise<unknown>;
  private readonly options: { debounceMs: number; concurrency: number; logger: Logger };

  constructor(run: (conversationId: string) => Promise<unknown>, options: { debounceMs: number; concurrency: number; logger: Logger }) {
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
      try {
        do {
          this.again.delete(conversationId);
          if (this.stopped) break;
          await this.run(conversationId);
        } while (this.again.has(conversationId));
      } catch (error) {
        this.options.logger.error({ err: error, conversationId }, 'turn crashed');
      } finally {
        this.release();
        this.running.delete(conversationId);
      }
    })();
    this.running.set(conversationId, task);
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
