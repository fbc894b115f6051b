import express from 'express';
import type { LiveEvents } from '../../server/events.ts';

/** Live updates (server-sent events): ids and kinds only, never customer content. */

/** What the console tells browsers over SSE: ids, kinds and codes. Anything else an event carries stays on the server. */
const LIVE_FIELDS = ['type', 'at', 'conversationId', 'refundId', 'approvalId', 'mandateId', 'decision', 'reason', 'outcome', 'name', 'status', 'mode', 'by', 'version', 'stopReason'] as const;

/** Live event → SSE frame, keeping only LIVE_FIELDS with scalar values (never customer text). */
export function sseFrame(event: { type: string; [k: string]: unknown }): string {
  const data: Record<string, unknown> = {};
  for (const k of LIVE_FIELDS) {
    const v = event[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') data[k] = v;
  }
  const type = /^[a-z_]{1,40}$/.test(event.type) ? event.type : 'message';
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function eventRoutes(events: Pick<LiveEvents, 'subscribe'>): express.Router {
  const router = express.Router();
  router.get('/events', (req, res) => {
    res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    const off = events.subscribe((event) => {
      res.write(sseFrame(event));
    });
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      off();
      clearInterval(beat);
    });
  });
  return router;
}
