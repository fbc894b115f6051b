import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadSigningKey } from '../../core/signing.ts';
import { testStore } from './test-store.ts';
import { buildSeed } from '../../sandbox/seed.ts';
import { APPROVER_MANDATE, DEFAULT_MANDATE, issueMandate } from '../../refunds/mandate.ts';
import type { Services } from '../../services/context.ts';
import { memoryRails } from './memory-rails.ts';

/** The money path's services over the store of this pass (a SQLite file, or a PostgreSQL schema), with in-process providers. */
export async function testServices(options: { dataDir?: string; seedMandates?: boolean; now?: () => Date } = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'estorno-svc-'));
  const store = await testStore(dataDir);
  const rails = memoryRails(buildSeed());
  const keys = { mandate: loadSigningKey(dataDir, 'mandate-ed25519'), receipt: loadSigningKey(dataDir, 'receipt-ed25519') };
  const now = options.now ?? (() => new Date());
  if (options.seedMandates !== false) {
    for (const m of [DEFAULT_MANDATE, APPROVER_MANDATE]) if (!await store.mandates.latest(m.id)) await issueMandate(store, keys.mandate, m, now());
  }
  const services: Services = {
    store,
    logger: pino({ level: 'silent' }),
    erp: rails.erp,
    pix: rails.pix,
    fiscal: rails.fiscal,
    whatsapp: rails.whatsapp,
    keys,
    agentMandateId: async () => DEFAULT_MANDATE.id,
    approverMandateId: APPROVER_MANDATE.id,
    pixRefundWindowDays: 90,
    railCallLeaseMs: 45_000,
    publicBaseUrl: 'http://127.0.0.1:3000',
    now,
    wake: () => {},
    publish: () => {},
  };
  return { services, rails, dataDir, store };
}
