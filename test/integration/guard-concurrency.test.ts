import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HOLDING_STATUSES } from '../../data/refunds.ts';
import { DEFAULT_MANDATE, APPROVER_MANDATE, issueMandate } from '../../refunds/mandate.ts';
import { testServices } from '../helpers/services.ts';

const run = promisify(execFile);
const worker = fileURLToPath(new URL('../helpers/propose-worker.ts', import.meta.url));

describe('the guard under concurrency from several processes on one database file', () => {
  it('never exceeds a cap or a payment, whatever the interleaving', async () => {
    const { dataDir, store, services } = await testServices({ seedMandates: false });
    // Per order and per conversation the agent gets at most the per-refund cap without approval;
    // the two conversations together (up to 12,000 + 7,550) are more than the window cap allows.
    const mandate = { ...DEFAULT_MANDATE, per_refund_cap_cents: 12_000, window_cap_cents: 15_000 };
    await issueMandate(store, services.keys.mandate, mandate, new Date());
    await issueMandate(store, services.keys.mandate, APPROVER_MANDATE, new Date());
    const PROCESSES = 4;
    const PER_PROCESS = 160;
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) => run(process.execPath, [worker, dataDir, String(PER_PROCESS), mandate.id, String(i + 1)], { timeout: 120_000 })),
    );
    const summary = results.map((r) => JSON.parse(r.stdout) as { allowed: number; refused: number });
    const allowed = summary.reduce((s, r) => s + r.allowed, 0);
    expect(summary.reduce((s, r) => s + r.allowed + r.refused, 0)).toBe(PROCESSES * PER_PROCESS);
    expect(allowed).toBeGreaterThan(5);

    const holding = HOLDING_STATUSES.map((s) => `'${s}'`).join(',');
    const perPayment = await store.database.all(`SELECT p.id, p.amount_cents - p.external_refunded_cents AS limit_cents, COALESCE(SUM(r.amount_cents), 0) AS held FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id AND r.status IN (${holding}) GROUP BY p.id`) as Array<{ id: string; limit_cents: number; held: number }>;
    expect(perPayment.length).toBe(3);
    for (const p of perPayment) expect(p.held, p.id).toBeLessThanOrEqual(p.limit_cents);
    const total = (await store.database.one(`SELECT COALESCE(SUM(amount_cents), 0) AS t FROM refunds WHERE mandate_id = ? AND status IN (${holding})`, mandate.id) as { t: number }).t;
    expect(total).toBeLessThanOrEqual(mandate.window_cap_cents);
    // The window cap is what stopped them: the processes really raced for it (a proposal is at most 3,000).
    expect(total).toBeGreaterThan(mandate.window_cap_cents - 3_000);
    // Splitting never beats the per-refund cap: per conversation and per order, the agent's total stays within it.
    for (const scope of ['conversation_id', 'order_number']) {
      const totals = await store.database.all(`SELECT ${scope} AS k, SUM(amount_cents) AS t FROM refunds WHERE mandate_id = ? AND status IN (${holding}) GROUP BY ${scope}`, mandate.id) as Array<{ k: string; t: number }>;
      for (const row of totals) expect(row.t, `${scope} ${row.k}`).toBeLessThanOrEqual(mandate.per_refund_cap_cents);
    }
    const refusals = (await store.guardDecisions.all()).filter((d) => d.decision !== 'allowed').length;
    expect(refusals + allowed).toBe(PROCESSES * PER_PROCESS);
    await store.close();
  }, 180_000);
});
