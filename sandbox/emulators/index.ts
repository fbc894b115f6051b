import express from 'express';
import type { Logger } from '../../core/logger.ts';
import { FaultInjector, faultRequest, type FaultProvider } from '../faults.ts';
import { buildSeed, type Seed } from '../seed.ts';
import { createModelEmulator } from '../scripted-model/index.ts';
import type { EmulatorContext } from './common.ts';
import { focusRouter, listNotes } from './focus.ts';
import { omieRouter } from './omie.ts';
import { World } from './state.ts';
import { TrioEmulator } from './trio.ts';
import { zapiRouter } from './zapi.ts';
import { mediaRouter } from './media.ts';

/**
 * The sandbox: every provider emulated over its real wire format, mounted at
 * `/sandbox` on the service's own server, plus the control routes of
 * CONTRACT.md (outbox, refunds, notes, script, faults). `/reset` is mounted by
 * the service, which also resets its own database.
 */
export interface SandboxOptions {
  seed: Seed;
  /** Extra customers of the seed (see buildSeed), kept across a reset. */
  extraCustomers?: number;
  stateFile: string;
  pixWebhookUrl: () => string;
  /** Emulated latencies per provider, plus `sefaz`: how long the emulated SEFAZ takes to authorise a note. */
  latency?: Partial<Record<FaultProvider | 'sefaz', number>>;
  /** Omie's redundancy window (the same id asked again within it gets Client-6); 60 s like Omie. */
  omieRedundancyMs?: number;
  pixWebhookDelaysMs?: { created: number; settled: number };
  logger?: Logger;
}

export interface Sandbox {
  router: express.Router;
  faults: FaultInjector;
  model: Awaited<ReturnType<typeof createModelEmulator>>;
  reset(): void;
  close(): void;
  /** Resolves when no rail webhook is waiting to be delivered. */
  idle(): Promise<void>;
}

export function createSandbox(options: SandboxOptions): Sandbox {
  const faults = new FaultInjector();
  const ctx: EmulatorContext = { faults, latency: (p) => options.latency?.[p] ?? 0 };
  const world = new World(options.stateFile, options.seed);
  const trioOptions = { webhookUrl: options.pixWebhookUrl, delaysMs: options.pixWebhookDelaysMs ?? { created: 20, settled: 150 }, ...(options.logger ? { logger: options.logger } : {}) };
  let trio = new TrioEmulator(ctx, world, trioOptions);
  const model = createModelEmulator({ faults, latencyMs: () => options.latency?.model ?? 0 });

  const router = express.Router();
  router.use('/omie', omieRouter(ctx, world, options.omieRedundancyMs ?? 60_000));
  router.use('/trio', (req, res, next) => trio.router(req, res, next));
  router.use('/focus', focusRouter(ctx, world, { sefazMs: () => options.latency?.sefaz ?? 0 }));
  router.use('/zapi', zapiRouter(ctx, world));
  router.use('/media', mediaRouter());
  router.use(model.router);
  router.get('/zapi/outbox', (req, res) => {
    const phone = typeof req.query.phone === 'string' ? req.query.phone : null;
    res.json(world.state.outbox.filter((m) => phone === null || m.phone === phone).map(({ phone: p, message, messageId, at }) => ({ phone: p, message, messageId, at })));
  });
  router.get('/pix/refunds', (_req, res) => {
    res.json(trio.list());
  });
  router.get('/fiscal/notes', (_req, res) => {
    res.json(listNotes(world));
  });
  router.post('/faults', express.json({ limit: '16kb' }), (req, res) => {
    const parsed = faultRequest.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: 'invalid_fault', message: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
    faults.add(parsed.data.provider, parsed.data.mode, parsed.data.count, parsed.data.delay_ms);
    res.json({ ok: true, pending: faults.pending(parsed.data.provider) });
  });

  return {
    router,
    faults,
    model,
    reset() {
      trio.cancel();
      faults.clear();
      model.reset();
      world.reset(buildSeed(new Date(), options.extraCustomers ?? 0));
      trio = new TrioEmulator(ctx, world, trioOptions);
    },
    close() {
      trio.cancel();
      // A clean stop leaves the whole world in the snapshot file.
      world.compact();
    },
    idle: () => trio.idle(),
  };
}
