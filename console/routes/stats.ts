import express from 'express';
import type { Services } from '../../services/context.ts';
import { listMandates } from '../../refunds/mandate.ts';

/** The pictures: refunds per day, cap usage per mandate, complaint-to-refund times, reasons, waits for a person. */
export function statsRoutes(services: Pick<Services, 'store' | 'keys' | 'now'>): express.Router {
  const router = express.Router();
  router.get('/stats', async (_req, res) => {
    const s = services.store;
    const now = () => services.now();
    const mandates = await Promise.all((await listMandates(s, services.keys.mandate, now())).map(async (m) => {
      const doc = m.document as { window_cap_cents?: number; window_seconds?: number } | null;
      const used = await s.refunds.mandateWindowCents(m.id, new Date(now().getTime() - (doc?.window_seconds ?? 86_400) * 1000).toISOString());
      return { id: m.id, status: m.status, window_cap_cents: doc?.window_cap_cents ?? 0, window_used_cents: used };
    }));
    const seconds = await s.consoleQueries.complaintToRefundSeconds();
    const since30 = new Date(now().getTime() - 30 * 86_400_000).toISOString();
    const waits = await s.consoleQueries.waits(since30);
    const waited = waits.map((w) => Math.max(0, ((w.ended_at ? Date.parse(w.ended_at) : now().getTime()) - Date.parse(w.at)) / 1000));
    const handoffs = new Map<string, number>();
    for (const w of waits) handoffs.set(w.reason ?? 'unknown', (handoffs.get(w.reason ?? 'unknown') ?? 0) + 1);
    const reasons = await s.consoleQueries.refundsByReason(since30);
    // The long tail of the model's free-text reasons is one bar: the chart stays readable.
    const topReasons = [...reasons.slice(0, 6), ...(reasons.length > 6 ? [{ reason: 'other', refunds: reasons.slice(6).reduce((n, r) => n + r.refunds, 0), amount_cents: reasons.slice(6).reduce((n, r) => n + r.amount_cents, 0) }] : [])];
    res.json({
      refunds_per_day: lastDays(await s.consoleQueries.refundsPerDay(14, now()), 14, now()), mandates,
      complaint_to_refund: { count: seconds.length, histogram: histogram(seconds), p50: percentile(seconds, 50), p95: percentile(seconds, 95) },
      refunds_by_reason: topReasons,
      handoffs_by_reason: [...handoffs].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
      waiting: { count: waited.length, still_waiting: waits.filter((w) => !w.ended_at).length, p50: percentile(waited, 50), p95: percentile(waited, 95), histogram: histogram(waited, WAIT_EDGES) },
    });
  });
  return router;
}

/** Histogram edges in seconds: a refund in the sandbox takes seconds, a real one with a human approval can take hours. */
const EDGES = [5, 10, 20, 30, 60, 120, 300, 900, 3600];

/** Waiting for a person is minutes to hours. */
const WAIT_EDGES = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800];

/** Nearest-rank percentile; null with no data. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Counts per bucket `(from, le]`; the last bucket (`le: null`) is everything over the last edge. */
export function histogram(seconds: number[], edges: number[] = EDGES): Array<{ from: number; le: number | null; count: number }> {
  return [...edges, null].map((le, i) => {
    const from = i === 0 ? 0 : (edges[i - 1] as number);
    return { from, le, count: seconds.filter((x) => (i === 0 ? x >= 0 : x > from) && (le === null || x <= le)).length };
  });
}

/** One row per UTC day for the last `days` days, zeros included, so the chart's axis is time. */
export function lastDays<T extends { day: string }>(rows: T[], days: number, now: Date): Array<{ day: string; refunds: number; settled_cents: number }> {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(now.getTime() - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10);
    const row = byDay.get(day) as { refunds?: number; settled_cents?: number } | undefined;
    return { day, refunds: row?.refunds ?? 0, settled_cents: row?.settled_cents ?? 0 };
  });
}
