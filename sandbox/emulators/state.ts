import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Seed, SeedCustomer, SeedOrder } from '../seed.ts';

/**
 * The emulated outside world as plain JSON, saved atomically (temp file +
 * rename) after every change and before the emulator answers, so that it
 * survives the service being killed and restarted — like a real provider would.
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

export class World {
  state: WorldState;
  private readonly file: string;

  constructor(file: string, seed: Seed) {
    this.file = file;
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WorldState) : null;
    // A state saved by an older emulator (other shapes) starts again from the seed.
    this.state = saved?.version === 2 ? saved : stateFromSeed(seed);
    this.save();
  }

  save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.file);
  }

  /** Bumped on every reset: per-world memories elsewhere (Omie's redundancy rule) start over with it. */
  generation = 0;

  reset(seed: Seed): void {
    this.generation++;
    this.state = stateFromSeed(seed);
    this.save();
  }
}
