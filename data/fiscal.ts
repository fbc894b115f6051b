import type { Sql } from './sql.ts';

export interface CreditNoteRow {
  id: number;
  refund_id: string;
  ref: string;
  status: 'requested' | 'processing' | 'authorized' | 'rejected' | 'denied';
  number: string | null;
  series: string | null;
  access_key: string | null;
  message: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

export function creditNotesRepo(sql: Sql) {
  return {
    /** One credit note per refund (UNIQUE refund_id): a second request returns the first row. */
    async ensure(refundId: string, ref: string, now: string): Promise<CreditNoteRow> {
      await sql.run("INSERT INTO credit_notes (refund_id, ref, status, created_at, updated_at) VALUES (?, ?, 'requested', ?, ?) ON CONFLICT (refund_id) DO NOTHING", refundId, ref, now, now);
      return await sql.one('SELECT * FROM credit_notes WHERE refund_id = ?', refundId) as CreditNoteRow;
    },
    async forRefund(refundId: string): Promise<CreditNoteRow | undefined> {
      return await sql.one('SELECT * FROM credit_notes WHERE refund_id = ?', refundId) as CreditNoteRow | undefined;
    },
    async update(refundId: string, fields: { status: CreditNoteRow['status']; number?: string | null; series?: string | null; access_key?: string | null; message?: string | null }, now: string): Promise<void> {
      await sql.run(`UPDATE credit_notes SET status = ?, number = COALESCE(?, number), series = COALESCE(?, series), access_key = COALESCE(?, access_key),
           message = ?, attempts = attempts + 1, updated_at = ? WHERE refund_id = ? AND status != 'authorized'`, fields.status, fields.number ?? null, fields.series ?? null, fields.access_key ?? null, fields.message ?? null, now, refundId);
    },
  };
}
