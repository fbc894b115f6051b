import type { Request, Response, NextFunction, RequestHandler } from 'express';
import { neverAnswer, type FaultInjector, type FaultProvider } from '../faults.ts';

/** Shared emulator plumbing: latency, injected faults, and never a 5xx from a bug on bad input. */
export interface EmulatorContext {
  faults: FaultInjector;
  latency: (provider: FaultProvider) => number;
}

/**
 * Wraps a handler: waits the provider's latency, applies a queued fault
 * (http500/http429 answer `errorBody` with that status and do nothing;
 * timeout never answers; drop_response does the work, then never answers;
 * slow waits, then does the work and answers).
 */
export function emulate(ctx: EmulatorContext, provider: FaultProvider, errorBody: (status: number) => unknown, handler: (req: Request, res: Response) => void | Promise<void>): RequestHandler {
  return async (req: Request, res: Response, _next: NextFunction) => {
    try {
      const wait = ctx.latency(provider);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const queued = ctx.faults.takeFault(provider);
      const fault = queued?.mode ?? null;
      if (fault === 'slow') await new Promise((r) => setTimeout(r, queued?.delayMs ?? 0).unref());
      if (fault === 'http500') return void res.status(provider === 'model' ? 529 : 500).json(errorBody(500));
      if (fault === 'http429') return void res.status(429).set('retry-after', '1').json(errorBody(429));
      if (fault === 'timeout') return neverAnswer(res);
      if (fault === 'drop_response') {
        const sink = dropWriter(res);
        await handler(req, sink);
        return neverAnswer(res);
      }
      await handler(req, res);
    } catch {
      // A handler that throws on odd input answers like the provider would: a 400 in its own format.
      if (!res.headersSent) res.status(400).json(errorBody(400));
    }
  };
}

/** A response whose answer is thrown away: the work happens, the client never hears of it. */
function dropWriter(res: Response): Response {
  const sink = Object.create(res) as Response;
  const chain = () => sink;
  sink.status = chain as unknown as Response['status'];
  sink.set = chain as unknown as Response['set'];
  sink.json = chain as unknown as Response['json'];
  sink.send = chain as unknown as Response['send'];
  sink.end = chain as unknown as Response['end'];
  return sink;
}
