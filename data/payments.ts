import type { Sql } from './sql.ts';

/** Original payments as verified (the refunds reserved against them: data/refunds.ts). */

export interface PaymentRow {
  id: string;
  rail: string;
  document_id: string;
  end_to_end_id: string;
  order_number: string;
  customer_code: number;
  amount_cents: number;
  external_refunded_cents: number;
  paid_at: string;
  verified_at: string;
}

export function paymentsRepo(sql: Sql) {
  return {
    /**
     * Records a verified payment. The amount, e2e and owner never change once
     * seen; refunds made outside Estorno only ever raise `external_refunded_cents`.
     */
    async upsert(row: PaymentRow): Promise<PaymentRow> {
      // CASE, not SQLite's scalar MAX nor PostgreSQL's GREATEST: both dialects speak it.
      return (await sql.one<PaymentRow>(`INSERT INTO payments (id, rail, document_id, end_to_end_id, order_number, customer_code, amount_cents, external_refunded_cents, paid_at, verified_at)
         VALUES (@id, @rail, @document_id, @end_to_end_id, @order_number, @customer_code, @amount_cents, @external_refunded_cents, @paid_at, @verified_at)
         ON CONFLICT (id) DO UPDATE SET
           external_refunded_cents = CASE WHEN excluded.external_refunded_cents > payments.external_refunded_cents
                                          THEN excluded.external_refunded_cents ELSE payments.external_refunded_cents END,
           verified_at = excluded.verified_at
         RETURNING *`, row))!;
    },
    async get(id: string): Promise<PaymentRow | undefined> {
      return await sql.one('SELECT * FROM payments WHERE id = ?', id) as PaymentRow | undefined;
    },
    /** The payment of an EndToEndId if it was verified with the rail since `sinceIso`. */
    async verifiedSince(endToEndId: string, sinceIso: string): Promise<PaymentRow | undefined> {
      return await sql.one('SELECT * FROM payments WHERE end_to_end_id = ? AND verified_at >= ?', endToEndId, sinceIso) as PaymentRow | undefined;
    },
    /** The pay-in last matched to an order of this customer, if any. */
    async forOrder(orderNumber: string, customerCode: number): Promise<PaymentRow | undefined> {
      return await sql.one('SELECT * FROM payments WHERE order_number = ? AND customer_code = ? ORDER BY verified_at DESC LIMIT 1', orderNumber, customerCode) as PaymentRow | undefined;
    },
  };
}
