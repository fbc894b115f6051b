import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Seed, SeedCustomer, SeedOrder } from '../seed.ts';

/**
 * The emulated outside world as plain JSON, made durable after every change
 * and before the emulator answers, so that it survives the service being
 * killed and restarted — like a real provider would (see World).
 */

export interface TrioRefund {
  id: string;
  collecting_document_id: string;
  amount_cents: number;
  description: string;
  status: 'created' | 'settled' | 'failed';
  end_to_end_id: string | null;
  created_at: string;
  transaction_date: string | null;
  /** Made before the sandbox started (outside Estorno): not listed in /sandbox/pix/refunds. */
  seeded: boolean;
  /** Webhook types delivered so far. */
  delivered: string[];
}

export interface FocusNote {
  ref: string;
  status: 'processando_autorizacao' | 'autorizado' | 'erro_autorizacao';
  number: number;
  series: string;
  key: string;
  referenced_key: string;
  amount_cents: number;
  created_at: string;
  /** How long SEFAZ takes to decide this note. */
  sefaz_ms?: number;
  /** What SEFAZ will answer when it decides, if it rejects the note. */
  rejection?: { code: string; message: string };
}

export interface OutboxEntry {
  phone: string;
  message: string;
  messageId: string;
  zaapId: string;
  at: string;
}

export interface WorldState {
  version: 2;
  customers: SeedCustomer[];
  orders: SeedOrder[];
  trioRefunds: TrioRefund[];
  focusNotes: FocusNote[];
  outbox: OutboxEntry[];
}

export function stateFromSeed(seed: Seed): WorldState {
  const trioRefunds: TrioRefund[] = [];
  for (const o of seed.orders) {
    o.priorRefundsCents.forEach((amount, i) => {
      trioRefunds.push({
        id: `018f9cb0-prior-${o.orderNumber}-${i}`,
        collecting_document_id: o.documentId as string,
        amount_cents: amount,
        description: 'Estorno manual pelo console',
        status: 'settled',
        end_to_end_id: `D18236120${o.placedAt.replace(/\D/g, '').slice(0, 12)}prior${o.orderNumber}${i}`.padEnd(32, '0').slice(0, 32),
        created_at: o.placedAt,
        transaction_date: o.placedAt,
        seeded: true,
        delivered: ['created', 'settled'],
      });
    });
  }
  return { version: 2, customers: structuredClone(seed.customers), orders: structuredClone(seed.orders), trioRefunds, focusNotes: [], outbox: [] };
}

type Keyed = 'trioRefunds' | 'focusNotes';
type JournalLine =
  | { n: number; put: Keyed; v: TrioRefund | FocusNote }
  | { n: number; del: 'focusNotes'; k: string }
  | { n: number; add: 'outbox'; v: OutboxEntry };

const keyOf = (table: Keyed, v: TrioRefund | FocusNote) => (table === 'trioRefunds' ? (v as TrioRefund).id : (v as FocusNote).ref);

/**
 * The world is a snapshot (`file`, written atomically: temp file + rename)
 * plus a journal (`file.log`): each change appends one JSON line — the changed
 * refund or note, or the new outbox message — before the emulator answers, so
 * a change costs its own few hundred bytes instead of rewriting the whole
 * world (which grew with every message and every seeded customer). On start
 * the journal is replayed over the snapshot; a torn last line (a kill in the
 * middle of an append) is ignored, like a temp file that was never renamed.
 * The journal is folded into a new snapshot when it grows long, on reset and
 * on close; each line carries a number and the snapshot the last number it
 * holds, so a crash between the snapshot and the journal's truncation
 * replays nothing twice.
 */
export class World {
  state: WorldState;
  private readonly file: string;
  private readonly journal: string;
  /** The number of the last journal line written (and of the last one the snapshot holds, `snapshotSeq`). */
  private seq = 0;
  private snapshotSeq = 0;
  /** Journal lines after which it is folded into the snapshot. */
  private readonly compactEvery: number;

  constructor(file: string, seed: Seed, options: { compactEvery?: number } = {}) {
    this.file = file;
    this.journal = `${file}.log`;
    this.compactEvery = options.compactEvery ?? 5_000;
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WorldState & { journalSeq?: number }) : null;
    // A state saved by an older emulator (other shapes) starts again from the seed.
    if (saved?.version === 2) {
      const { journalSeq, ...state } = saved;
      this.state = state;
      this.seq = this.snapshotSeq = journalSeq ?? 0;
      this.replay();
    } else {
      this.state = stateFromSeed(seed);
    }
    this.compact();
  }

  /** A refund or note was created or changed: journal it (call after changing it in `state`). */
  put(table: Keyed, value: TrioRefund | FocusNote): void {
    this.append({ n: ++this.seq, put: table, v: value });
  }

  /** A note was removed from `state.focusNotes` (Focus accepts a rejected ref again). */
  removeNote(ref: string): void {
    this.append({ n: ++this.seq, del: 'focusNotes', k: ref });
  }

  /** A message was pushed to `state.outbox`. */
  sent(entry: OutboxEntry): void {
    this.append({ n: ++this.seq, add: 'outbox', v: entry });
  }

  /** Writes the whole world as the snapshot and empties the journal (start, reset, close, a long journal). */
  compact(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ ...this.state, journalSeq: this.seq }));
    renameSync(tmp, this.file);
    this.snapshotSeq = this.seq;
    writeFileSync(this.journal, '');
  }

  /** Bumped on every reset: per-world memories elsewhere (Omie's redundancy rule) start over with it. */
  generation = 0;

  reset(seed: Seed): void {
    this.generation++;
    this.state = stateFromSeed(seed);
    this.compact();
  }

  private append(line: JournalLine): void {
    appendFileSync(this.journal, `${JSON.stringify(line)}\n`);
    if (this.seq - this.snapshotSeq >= this.compactEvery) this.compact();
  }

  private replay(): void {
    if (!existsSync(this.journal)) return;
    const lines = readFileSync(this.journal, 'utf8').split('\n');
    const index = { trioRefunds: new Map<string, number>(), focusNotes: new Map<string, number>() };
    const reindex = (table: Keyed) => {
      index[table].clear();
      this.state[table].forEach((v, i) => index[table].set(keyOf(table, v), i));
    };
    reindex('trioRefunds');
    reindex('focusNotes');
    for (const text of lines) {
      if (!text) continue;
      let line: JournalLine;
      try {
        line = JSON.parse(text) as JournalLine;
      } catch {
        break; // torn by a kill mid-append: nothing after it was acknowledged
      }
      if (line.n <= this.snapshotSeq) continue;
      this.seq = Math.max(this.seq, line.n);
      if ('put' in line) {
        const list = this.state[line.put] as Array<TrioRefund | FocusNote>;
        const at = index[line.put].get(keyOf(line.put, line.v));
        if (at === undefined) {
          index[line.put].set(keyOf(line.put, line.v), list.length);
          list.push(line.v);
        } else list[at] = line.v;
      } else if ('del' in line) {
        this.state.focusNotes = this.state.focusNotes.filter((n) => n.ref !== line.k);
        reindex('focusNotes');
      } else {
        this.state.outbox.push(line.v);
      }
    }
  }
}
