import type { Db } from './db.ts';

export interface CaseRow {
  id: string;
  conversation_id: string;
  order_number: string;
  status: 'open' | 'sealed' | 'failed';
  created_at: string;
}

export interface CaseRecordRow {
  case_id: string;
  seq: number;
  kind: string;
  body: string;
  prev_hash: string;
  hash: string;
  created_at: string;
}

export interface CaseSealRow {
  case_id: string;
  outcome: 'settled' | 'failed';
  head_seq: number;
  head_hash: string;
  signature: string;
  key_id: string;
  sealed_at: string;
}

export function casesRepo(db: Db) {
  return {
    seal(row: CaseSealRow): boolean {
      return (
        db
          .prepare(
            `INSERT INTO case_seals (case_id, outcome, head_seq, head_hash, signature, key_id, sealed_at)
             VALUES (@case_id, @outcome, @head_seq, @head_hash, @signature, @key_id, @sealed_at) ON CONFLICT (case_id) DO NOTHING`,
          )
          .run(row).changes === 1
      );
    },
    sealOf(caseId: string): CaseSealRow | undefined {
      return db.prepare('SELECT * FROM case_seals WHERE case_id = ?').get(caseId) as CaseSealRow | undefined;
    },
    open(row: CaseRow): void {
      db.prepare('INSERT INTO cases (id, conversation_id, order_number, status, created_at) VALUES (@id, @conversation_id, @order_number, @status, @created_at)').run(row);
    },
    get(id: string): CaseRow | undefined {
      return db.prepare('SELECT * FROM cases WHERE id = ?').get(id) as CaseRow | undefined;
    },
    ids(): string[] {
      return (db.prepare('SELECT id FROM cases ORDER BY created_at').all() as Array<{ id: string }>).map((r) => r.id);
    },
    forConversation(conversationId: string): CaseRow[] {
      return db.prepare('SELECT * FROM cases WHERE conversation_id = ? ORDER BY created_at').all(conversationId) as CaseRow[];
    },
    setStatus(id: string, status: CaseRow['status']): void {
      db.prepare("UPDATE cases SET status = ? WHERE id = ? AND status = 'open'").run(status, id);
    },
    /** Sealed or failed cases that have no seal yet (e.g. after a crash). */
    unsealed(): CaseRow[] {
      return db
        .prepare("SELECT c.* FROM cases c LEFT JOIN case_seals s ON s.case_id = c.id WHERE s.case_id IS NULL AND c.status = 'failed'")
        .all() as CaseRow[];
    },
    head(caseId: string): CaseRecordRow | undefined {
      return db.prepare('SELECT * FROM case_records WHERE case_id = ? ORDER BY seq DESC LIMIT 1').get(caseId) as CaseRecordRow | undefined;
    },
    append(row: CaseRecordRow): void {
      db.prepare(
        'INSERT INTO case_records (case_id, seq, kind, body, prev_hash, hash, created_at) VALUES (@case_id, @seq, @kind, @body, @prev_hash, @hash, @created_at)',
      ).run(row);
    },
    records(caseId: string): CaseRecordRow[] {
      return db.prepare('SELECT * FROM case_records WHERE case_id = ? ORDER BY seq').all(caseId) as CaseRecordRow[];
    },
    /**
     * Every case with its records (in seq order) and seal, in one streaming
     * query (no sort: the case scan follows the rowid, the records their
     * primary key), for verifying receipts in bulk. `shard`/`shards` split the
     * cases between parallel readers by rowid.
     */
    *receipts(part: { shard: number; shards: number } = { shard: 0, shards: 1 }): Generator<StoredReceipt> {
      const rows = db
        .prepare(
          `SELECT c.rowid, c.id, r.seq, r.kind, r.body, r.prev_hash, r.hash, s.outcome, s.head_seq, s.head_hash, s.signature, s.key_id, s.sealed_at
           FROM cases c LEFT JOIN case_records r ON r.case_id = c.id LEFT JOIN case_seals s ON s.case_id = c.id
           WHERE (c.rowid % ?) = ? ORDER BY c.rowid, r.seq`,
        )
        .raw(true)
        .iterate(part.shards, part.shard) as IterableIterator<unknown[]>;
      let current = null as StoredReceipt | null;
      for (const row of rows) {
        const [rowid, id, seq, kind, body, prev_hash, hash, outcome, head_seq, head_hash, signature, key_id, sealed_at] = row as [number, string, number | null, string, string, string, string, CaseSealRow['outcome'] | null, number, string, string, string, string];
        if (current?.id !== id) {
          if (current) yield current;
          current = { rowid, id, records: [], seal: outcome === null ? null : { outcome, head_seq, head_hash, signature, key_id, sealed_at } };
        }
        if (seq !== null) current.records.push({ seq, kind, body, prev_hash, hash });
      }
      if (current) yield current;
    },
  };
}

/** A case's receipt as stored (see `receipts()`); `rowid` orders cases as they were opened. */
export interface StoredReceipt {
  rowid: number;
  id: string;
  records: Array<Pick<CaseRecordRow, 'seq' | 'kind' | 'body' | 'prev_hash' | 'hash'>>;
  seal: Pick<CaseSealRow, 'outcome' | 'head_seq' | 'head_hash' | 'signature' | 'key_id' | 'sealed_at'> | null;
}
