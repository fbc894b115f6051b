import { z } from 'zod';

/** `POST /sandbox/faults`: the next `count` calls to an emulator fail in `mode` (CONTRACT.md). */
export const faultRequest = z
  .object({
    provider: z.enum(['omie', 'pix', 'fiscal', 'zapi', 'model']),
    mode: z.enum(['http500', 'http429', 'timeout', 'drop_response', 'slow']),
    count: z.number().int().min(1).max(10_000).default(1),
    /** For `slow`: how long the emulator holds the request before doing the work and answering. */
    delay_ms: z.number().int().min(0).max(120_000).default(8_000),
  })
  .strict();

export type FaultProvider = z.infer<typeof faultRequest>['provider'];
export type FaultMode = z.infer<typeof faultRequest>['mode'];

/**
 * Queued faults per emulator. Each emulator calls `take(provider)` once per
 * incoming request and, when a mode comes back, fails that request that way:
 * - http500 / http429: answer that status in the provider's error format, do nothing;
 * - timeout: do nothing and never answer (the client's timeout fires);
 * - drop_response: do the work, then never answer;
 * - slow: wait `delay_ms`, then do the work and answer (long after a client's
 *   timeout: the request reaches the provider late, as on a congested rail).
 */
export class FaultInjector {
  private readonly queues = new Map<FaultProvider, Array<{ mode: FaultMode; delayMs: number }>>();

  add(provider: FaultProvider, mode: FaultMode, count: number, delayMs = 8_000): void {
    const queue = this.queues.get(provider) ?? [];
    for (let i = 0; i < count; i++) queue.push({ mode, delayMs });
    this.queues.set(provider, queue);
  }

  take(provider: FaultProvider): FaultMode | null {
    return this.takeFault(provider)?.mode ?? null;
  }

  /** The next fault with its parameters. */
  takeFault(provider: FaultProvider): { mode: FaultMode; delayMs: number } | null {
    return this.queues.get(provider)?.shift() ?? null;
  }

  pending(provider: FaultProvider): number {
    return this.queues.get(provider)?.length ?? 0;
  }

  clear(): void {
    this.queues.clear();
  }
}

/**
 * For timeout and drop_response: hold the socket open without answering, and
 * destroy it after `ms` so that a client without a timeout still ends (the
 * emulator must never leak sockets across tests).
 */
export function neverAnswer(res: { socket: { destroy(): void } | null }, ms = 120_000): void {
  const timer = setTimeout(() => res.socket?.destroy(), ms);
  timer.unref();
}
