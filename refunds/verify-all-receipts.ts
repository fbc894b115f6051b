import { createPublicKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { casesRepo } from '../data/cases.ts';
import { openDbReadOnly } from '../data/db.ts';
import { sqliteDatabase, type Database } from '../data/sql.ts';
import { postgresDatabase } from '../data/pg/database.ts';
import { verifyReceiptFast, type Verdict } from './verify-receipt.ts';

/**
 * Bulk verification (`npm run verify -- --all`, the bench): receipts are read
 * with one streaming query and verified with `verifyReceiptFast` (the same
 * verdicts as `verifyReceipt`), split by case between worker threads that
 * each open the database read-only (SQLite) or a small pool of their own
 * (PostgreSQL) — Ed25519 is most of the work, and it runs on every core.
 * Verdicts come back ordered by case id.
 */

/** Where the receipts are: the SQLite file, or a PostgreSQL URL and schema. */
export type ReceiptSource = { dbFile: string } | { url: string; schema: string };

export interface BulkVerdict {
  id: string;
  verdict: Verdict;
}

interface Job {
  source: ReceiptSource;
  publicKeyPem: string;
  shard: number;
  shards: number;
}

type Row = [id: string, verdict: Verdict];

async function verifyShard(job: Job, emit: (rows: Row[]) => void): Promise<void> {
  const publicKey = createPublicKey(job.publicKeyPem);
  const db: Database = 'dbFile' in job.source
    ? sqliteDatabase(openDbReadOnly(job.source.dbFile))
    : postgresDatabase({ url: job.source.url, schema: job.source.schema, max: 2 });
  try {
    let batch: Row[] = [];
    for await (const receipt of casesRepo(db).receipts({ shard: job.shard, shards: job.shards })) {
      batch.push([receipt.id, verifyReceiptFast(receipt, publicKey)]);
      if (batch.length === 512) {
        emit(batch);
        batch = [];
      }
    }
    if (batch.length) emit(batch);
  } finally {
    await db.close();
  }
}

/** Verifies every receipt in `source`; `workers` 1 runs in this thread (best for a handful of receipts). */
export async function verifyAllReceipts(source: ReceiptSource, publicKeyPem: string, options: { workers?: number } = {}): Promise<BulkVerdict[]> {
  const shards = Math.max(1, Math.floor(options.workers ?? availableParallelism()));
  const rows: Row[] = [];
  if (shards === 1) {
    await verifyShard({ source, publicKeyPem, shard: 0, shards: 1 }, (batch) => rows.push(...batch));
  } else {
    await Promise.all(
      Array.from({ length: shards }, (_, shard) => new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { source, publicKeyPem, shard, shards } satisfies Job });
        worker.on('message', (batch: Row[]) => rows.push(...batch));
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`receipt verifier ${shard} exited with ${code}`))));
      })),
    );
  }
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return rows.map(([id, verdict]) => ({ id, verdict }));
}

// Run as a worker thread: verify one shard and post the verdicts in batches.
if (!isMainThread && parentPort && (workerData as Job | undefined)?.source) {
  const port = parentPort;
  await verifyShard(workerData as Job, (batch) => port.postMessage(batch));
}
