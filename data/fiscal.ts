import type { Db } from './db.ts';

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

export function creditNotesRepo(db: Db) {
  return {
    /** One credit note per refund (UNIQUE refund_id): a second request returns the first row. */
    ensure(refundId: string, ref: string, now: string): CreditNoteRow {
      db.prepare(
        "INSERT INTO credit_notes (refund_id, ref, status, created_at, updated_at) VALUES (?, ?, 'requested', ?, ?) ON CONFLICT (refund_id) DO NOTHING",
      ).run(refundId, ref, now, now);
      return db.prepare('SELECT * FROM credit_notes WHERE refund_id = ?').get(refundId) as CreditNoteRow;
    },
    forRefund(refundId: string): CreditNoteRow | undefined {
      return db.prepare('SELECT * FROM credit_notes WHERE refund_id = ?').get(refundId) as CreditNoteRow | undefined;
    },
    update(refundId: string, fields: { status: CreditNoteRow['status']; number?: string | null; series?: string | null; access_key?: string | null; message?: string | null }, now: string): void {
      db.prepare(
        `UPDATE credit_notes SET status = ?, number = COALESCE(?, number), series = COALESCE(?, series), access_key = COALESCE(?, access_key),
           message = ?, attempts = attempts + 1, updated_at = ? WHERE refund_id = ? AND status != 'authorized'`,
      ).run(fields.status, fields.number ?? null, fields.series ?? null, fields.access_key ?? null, fields.message ?? null, now, refundId);
    },
  };
}
