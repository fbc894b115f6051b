import type { Sql } from './sql.ts';
import { assertMove, CASE, checked, type CaseStatus } from './states.ts';

export interface CaseRow {
  id: string;
  conversation_id: string;
  order_number: string;
  status: CaseStatus;
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

export function casesRepo(sql: Sql) {
  return {
    async seal(row: CaseSealRow): Promise<boolean> {
      return (
        (await sql.run(`INSERT INTO case_seals (case_id, outcome, head_seq, head_hash, signature, key_id, sealed_at)
             VALUES (@case_id, @outcome, @head_seq, @head_hash, @signature, @key_id, @sealed_at) ON CONFLICT (case_id) DO NOTHING`, row)) === 1
      );
    },
    async sealOf(caseId: string): Promise<CaseSealRow | undefined> {
      return await sql.one('SELECT * FROM case_seals WHERE case_id = ?', caseId) as CaseSealRow | undefined;
    },
    async open(row: CaseRow): Promise<void> {
      await sql.run('INSERT INTO cases (id, conversation_id, order_number, status, created_at) VALUES (@id, @conversation_id, @order_number, @status, @created_at)', row);
    },
    async get(id: string): Promise<CaseRow | undefined> {
      return checked(CASE, await sql.one<CaseRow>('SELECT * FROM cases WHERE id = ?', id));
    },
    async ids(): Promise<string[]> {
      return (await sql.all('SELECT id FROM cases ORDER BY created_at') as Array<{ id: string }>).map((r) => r.id);
    },
    async forConversation(conversationId: string): Promise<CaseRow[]> {
      return (await sql.all<CaseRow>('SELECT * FROM cases WHERE conversation_id = ? ORDER BY created_at', conversationId)).map((r) => checked(CASE, r));
    },
    /** open → sealed | failed (compare-and-set): false when the case was no longer open. */
    async setStatus(id: string, status: CaseRow['status']): Promise<boolean> {
      assertMove(CASE, 'open', status, id);
      return (await sql.run("UPDATE cases SET status = ? WHERE id = ? AND status = 'open'", status, id)) === 1;
    },
    /** Sealed or failed cases that have no seal yet (e.g. after a crash). */
    async unsealed(): Promise<CaseRow[]> {
      return await sql.all("SELECT c.* FROM cases c LEFT JOIN case_seals s ON s.case_id = c.id WHERE s.case_id IS NULL AND c.status = 'failed'") as CaseRow[];
    },
    async head(caseId: string): Promise<CaseRecordRow | undefined> {
      return await sql.one('SELECT * FROM case_records WHERE case_id = ? ORDER BY seq DESC LIMIT 1', caseId) as CaseRecordRow | undefined;
    },
    async append(row: CaseRecordRow): Promise<void> {
      await sql.run('INSERT INTO case_records (case_id, seq, kind, body, prev_hash, hash, created_at) VALUES (@case_id, @seq, @kind, @body, @prev_hash, @hash, @created_at)', row);
    },
    async records(caseId: string): Promise<CaseRecordRow[]> {
      return await sql.all('SELECT * FROM case_records WHERE case_id = ? ORDER BY seq', caseId) as CaseRecordRow[];
    },
    /**
     * Every case with its records (in seq order) and seal, a page of cases at a
     * time (keyset on the case id, so memory stays flat on any store), for
     * verifying receipts in bulk. `shard`/`shards` split the cases between
     * parallel readers by a hash of the id.
     */
    async *receipts(part: { shard: number; shards: number } = { shard: 0, shards: 1 }, pageSize = 500): AsyncGenerator<StoredReceipt> {
      let after = '';
      for (;;) {
        const ids = (await sql.all<{ id: string }>('SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT ?', after, pageSize)).map((r) => r.id);
        if (ids.length === 0) return;
        after = ids[ids.length - 1]!;
        const mine = part.shards > 1 ? ids.filter((id) => shardOf(id, part.shards) === part.shard) : ids;
        if (mine.length === 0) continue;
        const list = mine.map(() => '?').join(', ');
        const records = await sql.all<CaseRecordRow>(`SELECT case_id, seq, kind, body, prev_hash, hash FROM case_records WHERE case_id IN (${list}) ORDER BY case_id, seq`, ...mine);
        const seals = await sql.all<CaseSealRow>(`SELECT * FROM case_seals WHERE case_id IN (${list})`, ...mine);
        const sealOf = new Map(seals.map((s) => [s.case_id, s]));
        const recordsOf = new Map<string, StoredReceipt['records']>();
        for (const r of records) {
          let list = recordsOf.get(r.case_id);
          if (!list) recordsOf.set(r.case_id, (list = []));
          list.push({ seq: r.seq, kind: r.kind, body: r.body, prev_hash: r.prev_hash, hash: r.hash });
        }
        for (const id of mine) {
          const s = sealOf.get(id);
          yield { id, records: recordsOf.get(id) ?? [], seal: s ? { outcome: s.outcome, head_seq: s.head_seq, head_hash: s.head_hash, signature: s.signature, key_id: s.key_id, sealed_at: s.sealed_at } : null };
        }
      }
    },
  };
}

/** A case's receipt as stored (see `receipts()`). */
export interface StoredReceipt {
  id: string;
  records: Array<Pick<CaseRecordRow, 'seq' | 'kind' | 'body' | 'prev_hash' | 'hash'>>;
  seal: Pick<CaseSealRow, 'outcome' | 'head_seq' | 'head_hash' | 'signature' | 'key_id' | 'sealed_at'> | null;
}

/** Which of `shards` parallel readers verifies a case (a stable hash of its id). */
export function shardOf(id: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % shards;
}
