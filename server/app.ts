import { mkdirSync } from 'node:fs';
import express from 'express';
import helmet from 'helmet';
import type { Config } from '../core/config.ts';
import { errorSummary, type Logger } from '../core/logger.ts';
import type { Agent } from '../agent/turn.ts';
import type { TurnScheduler } from '../agent/scheduler.ts';
import type { Services } from '../services/context.ts';
import { IngestBatcher, zapiWebhook } from '../webhooks/zapi.ts';
import { pixWebhook } from '../webhooks/pix.ts';
import type { Sandbox, SandboxOptions } from '../sandbox/emulators/index.ts';
import { mountSandbox, seedSandboxMandates, startEmulators } from '../sandbox/wiring.ts';
import type { Workers } from './workers.ts';
import { LiveEvents } from './events.ts';
import { secretsFor, type Secrets } from './secrets.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { readiness } from './readyz.ts';
import { receiptPages } from './receipt-page.ts';
import { favicon } from './favicon.ts';
import * as wiring from './wiring.ts';
import * as lifecycle from './lifecycle.ts';

/**
 * The running service: one express app (webhooks, health, sandbox, console),
 * the agent with its per-customer scheduler, and the background workers.
 * Built here and started by bin/start.ts; tests start it on port 0.
 */
export interface Estorno {
  url: string;
  port: number;
  services: Services;
  agent: Agent;
  scheduler: TurnScheduler;
  workers: Workers;
  sandbox: Sandbox | null;
  webhookToken: string;
  /** Generated secrets (sandbox console passwords): DATA_DIR, or the database shared by replicas. */
  secrets: Secrets;
  events: LiveEvents;
  /** Which model answers: the sandbox's scripted policy or Claude. */
  modelKind: 'scripted' | 'claude';
  /** Resolves when no turn, due job or due message is left (tests). */
  idle(): Promise<void>;
  /** Graceful stop: no new webhooks, turns in flight finish, database closed. */
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  logger: Logger;
  /** Extra routes (the console) mounted after the core ones. */
  extend?: (app: express.Express, estorno: Estorno) => void | Promise<void>;
  /** Emulator latencies for benchmarks. */
  sandboxLatency?: SandboxOptions['latency'];
  pixWebhookDelaysMs?: { created: number; settled: number };
  now?: () => Date;
  /** Store messages but run no turns (the ingest benchmark measures the webhook alone). */
  ingestOnly?: boolean;
}

export async function startEstorno(options: StartOptions): Promise<Estorno> {
  const { config, logger } = options;
  const env = config.env;
  const now = options.now ?? (() => new Date());
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const dataDirLock = lockDataDir(config.dataDir);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // The port is taken first and the routes mounted after: until the last one is, every request is
  // told to come back (503, retry-after), never answered 404 by a route not mounted yet — a replica
  // calling this one's sandbox would take "404" for the provider refusing it.
  let routesReady = false;
  app.use((_req, res, next) => {
    if (routesReady) return next();
    res.status(503).set('retry-after', '1').json({ error: 'starting', message: 'the server is starting; retry shortly' });
  });
  // Security headers for what browsers load (console, API); webhooks answer machines and skip them.
  const securityHeaders = helmet({ contentSecurityPolicy: { useDefaults: true, directives: { 'script-src': ["'self'"], 'connect-src': ["'self'"] } } });
  app.use((req, res, next) => (req.path.startsWith('/webhooks/') ? next() : securityHeaders(req, res, next)));
  let listening: Awaited<ReturnType<typeof lifecycle.listen>>;
  try {
    listening = await lifecycle.listen(app, env);
  } catch (error) {
    dataDirLock.release();
    throw error;
  }
  const { server, port } = listening;

  // Production wiring (server/wiring.ts): store, keys, providers, services, agent, workers.
  const at = wiring.addresses(config, env.HOST, port);
  const holder = new wiring.StoreHolder(await wiring.openServiceStore(config, logger), config);
  // Generated secrets: DATA_DIR files, or the database in sandbox mode on PostgreSQL (every replica the same).
  const secrets = secretsFor(config, () => holder.store);
  holder.secrets = secrets;
  const keys = await wiring.signingKeys(config, secrets);
  const webhookToken = await wiring.webhookToken(config, secrets);
  const pixReceiver = wiring.pixReceiver(config, at);
  const events = new LiveEvents();
  // PostgreSQL: every replica's console sees every replica's events (NOTIFY/LISTEN).
  if (holder.store.dialect === 'postgres' && env.DATABASE_URL) await events.listenAcross({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, logger });
  let workers: Workers | null = null;
  const services = wiring.services({ config, logger, now, holder, keys, providers: wiring.providers(config, at.emulated, () => holder.store), publicBaseUrl: at.publicBaseUrl, events, wake: () => workers?.wake() });
  const seedMandates = () => seedSandboxMandates(config, holder.store, keys.mandate, now());
  await seedMandates();
  const built = wiring.agentAndWorkers(config, services, at.emulated);
  const { agent, scheduler } = built;
  workers = built.workers;

  // Routes: the shutdown gate, health, webhooks.
  const gate = new lifecycle.Gate();
  app.use(gate.middleware());
  app.get('/healthz', async (_req, res) => {
    try {
      res.status((await holder.store.ping()) ? 200 : 503).json({ ok: true });
    } catch {
      res.status(503).json({ ok: false });
    }
  });
  app.use(readiness(services, () => holder.store));
  app.use(zapiWebhook({ store: () => holder.store, batcher: new IngestBatcher(() => holder.store), logger, webhookToken, ...(env.ZAPI_INSTANCE_ID ? { instanceId: env.ZAPI_INSTANCE_ID } : {}), now, onMessage: (id) => {
    // The console shows customer messages live even while staff hold the conversation (no turn runs then).
    events.publish({ type: 'message_in', conversationId: id });
    if (!options.ingestOnly) scheduler.schedule(id);
  } }));
  if (pixReceiver) app.use(pixWebhook({ services, logger, path: pixReceiver.path, secret: pixReceiver.secret, signingKey: pixReceiver.signingKey }));

  // Sandbox wiring (sandbox/wiring.ts): emulators, /sandbox/reset, the sandbox index.
  const sandbox = startEmulators(config, {
    now: now(),
    pixWebhookUrl: () => `${at.base}${pixReceiver?.path ?? '/webhooks/pix'}`,
    logger,
    ...(options.sandboxLatency ? { latency: options.sandboxLatency } : {}),
    ...(options.pixWebhookDelaysMs ? { pixWebhookDelaysMs: options.pixWebhookDelaysMs } : {}),
  });
  mountSandbox(app, config, sandbox, at.emulatorPath, {
    exclusive: (fn) => workers.whilePaused(async () => {
      await scheduler.idle();
      return await fn();
    }),
    forgetErp: () => services.erp.forget?.(),
    resetStore: () => holder.resetToEmpty(),
    seedMandates,
  });

  let sweeper: NodeJS.Timeout | null = null;
  const running = { gate, sweeper: () => sweeper, scheduler, workers, sandbox, server, store: () => holder.store, dataDirLock };
  const estorno: Estorno = {
    url: at.base,
    port,
    services,
    agent,
    scheduler,
    workers,
    sandbox,
    webhookToken,
    secrets,
    events,
    modelKind: config.emulated.model ? 'scripted' : 'claude',
    idle: () => lifecycle.idle({ scheduler, workers: running.workers, sandbox, store: () => holder.store, now }),
    close: async () => {
      await lifecycle.close(running);
      await events.close();
    },
  };
  app.use(receiptPages({ store: () => holder.store, key: keys.receipt, publicBaseUrl: at.publicBaseUrl }));
  app.get('/favicon.ico', favicon());
  await options.extend?.(app, estorno);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (isDatabaseBusy(err)) {
      // Another process holds the SQLite write lock (an admin CLI, a backup): nothing was stored; the caller retries.
      logger.warn('database busy; answered 503');
      if (!res.headersSent) res.status(503).set('retry-after', '1').json({ error: 'busy', message: 'the database is busy; retry shortly' });
      return;
    }
    logger.error({ err: errorSummary(err) }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal_error' });
  });
  routesReady = true;

  await lifecycle.recoverAtStart(services, scheduler, workers);
  sweeper = lifecycle.startSweeper(services, workers, env, logger);
  return estorno;
}

function isDatabaseBusy(err: unknown): boolean {
  return typeof err === 'object' && err !== null && /^SQLITE_BUSY/.test(String((err as { code?: unknown }).code ?? ''));
}
