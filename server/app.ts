import { existsSync, mkdirSync, renameSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import type { Config } from '../core/config.ts';
import { errorSummary, type Logger } from '../core/logger.ts';
import { DB_FILE, type Store } from '../data/store.ts';
import { openDatabaseStore, recreatePostgresStore } from '../data/open.ts';
import { Agent } from '../agent/turn.ts';
import { storedModelCallBudget } from '../agent/budget.ts';
import { createModelClient } from '../agent/model.ts';
import { currentSystemPrompt } from '../agent/prompt.ts';
import { TURN_LEASE_MS, TurnScheduler, turnDebounceMs, type TurnLease } from '../agent/scheduler.ts';
import { activeMandateFor, APPROVER_MANDATE, DEFAULT_MANDATE, issueMandate, SUPPORT_AGENT_ID } from '../refunds/mandate.ts';
import { configureBusinessHours, parseBusinessHours } from '../conversations/state.ts';
import { readiness } from './readyz.ts';
import type { Services } from '../services/context.ts';
import { createOmieClient, type SharedCache } from '../providers/omie.ts';
import { createTrioRail } from '../providers/trio.ts';
import { bcbPixOptions, createBcbPixRail } from '../providers/bcb-pix.ts';
import { createFocusNfeClient, focusExtras } from '../providers/focus-nfe.ts';
import { createZapiClient } from '../providers/zapi.ts';
import { IngestBatcher, zapiWebhook } from '../webhooks/zapi.ts';
import { pixWebhook } from '../webhooks/pix.ts';
import { createSandbox, type Sandbox } from '../sandbox/emulators/index.ts';
import { SANDBOX_CREDENTIALS } from '../sandbox/credentials.ts';
import { buildSeed, MERCHANT_CNPJ, TRIO_VIRTUAL_ACCOUNT_ID } from '../sandbox/seed.ts';
import { recoverMoneyPath, Workers } from './workers.ts';
import { expireApprovals } from '../refunds/approvals.ts';
import { LiveEvents } from './events.ts';
import { fileSecret, secretsFor, type Secrets } from './secrets.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { receiptPages } from './receipt-page.ts';
import { favicon } from './favicon.ts';
import { sandboxIndex } from '../sandbox/index-page.ts';

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
  sandboxLatency?: Parameters<typeof createSandbox>[0]['latency'];
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
  // SQLite: one server per DATA_DIR. PostgreSQL: replicas share the database (each with a DATA_DIR of its own).
  const dataDirLock = env.DATABASE_URL ? { release() {} } : lockDataDir(config.dataDir);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Security headers for what browsers load (console, API); webhooks answer machines and skip them.
  const securityHeaders = helmet({ contentSecurityPolicy: { useDefaults: true, directives: { 'script-src': ["'self'"], 'connect-src': ["'self'"] } } });
  app.use((req, res, next) => (req.path.startsWith('/webhooks/') ? next() : securityHeaders(req, res, next)));
  // Slow or idle clients cannot hold the service: a request must arrive whole in
  // HTTP_REQUEST_TIMEOUT_MS, and no more than HTTP_MAX_CONNECTIONS sockets are
  // open at once (the README puts a reverse proxy in front for the rest).
  const server = http.createServer({ requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS, headersTimeout: Math.min(env.HTTP_REQUEST_TIMEOUT_MS, 10_000), keepAliveTimeout: 5_000, connectionsCheckingInterval: Math.min(1_000, env.HTTP_REQUEST_TIMEOUT_MS) }, app);
  server.maxConnections = env.HTTP_MAX_CONNECTIONS;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(env.PORT, env.HOST, () => resolve());
    });
  } catch (error) {
    dataDirLock.release();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const base = `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}`;
  // The emulators of whatever is not real. In sandbox mode they are public under
  // /sandbox (CONTRACT); next to real providers they live under a path nobody
  // is told (a capability), with no control routes mounted at /sandbox.
  const anyEmulated = Object.values(config.emulated).some(Boolean);
  const emulatorPath = config.sandbox ? '/sandbox' : `/emulated-${fileSecret(config.dataDir, 'emulator-path-token')}`;
  // Replicas: one hosts the sandbox; the others (SANDBOX_HOST) use its emulators and run none (README "Replicas").
  const sandboxHost = config.sandbox ? env.SANDBOX_HOST : undefined;
  const sandboxBase = sandboxHost ? `${sandboxHost}/sandbox` : `${base}${emulatorPath}`;
  const publicBaseUrl = env.PUBLIC_BASE_URL ?? base;
  const timeoutMs = env.PROVIDER_TIMEOUT_MS;

  let store: Store = await openDatabaseStore(config, { onError: (error) => logger.warn({ err: errorSummary(error) }, 'idle database connection failed') });
  // Generated secrets: DATA_DIR files, or the database in sandbox mode on PostgreSQL (every replica the same).
  const secrets = secretsFor(config, () => store);
  const keys = {
    mandate: await secrets.signingKey('mandate-ed25519', env.MANDATE_SIGNING_KEY),
    receipt: await secrets.signingKey('receipt-ed25519', env.RECEIPT_SIGNING_KEY),
  };
  const webhookToken = env.ZAPI_WEBHOOK_TOKEN ?? (await secrets.get('zapi-webhook-token'));
  const creds = SANDBOX_CREDENTIALS;
  // Rail webhooks are received only for the configured rail, with its own
  // secrets; the published sandbox secrets open only the emulated rail's receiver.
  const pixReceiver: { path: string; secret: string; signingKey: string } | null = config.emulated.pix
    ? { path: config.sandbox ? '/webhooks/pix' : `${emulatorPath}/webhooks/pix`, secret: creds.trio.webhookSecret, signingKey: creds.trio.webhookSigningKey }
    : env.PIX_RAIL === 'trio'
      ? { path: '/webhooks/pix', secret: env.TRIO_WEBHOOK_SECRET as string, signingKey: env.TRIO_WEBHOOK_SIGNING_KEY as string }
      : null;

  // Replicas on PostgreSQL share Omie's answers: Omie refuses an id any of them asked within 60 s.
  const omieShared: SharedCache | undefined = store.dialect === 'postgres'
    ? { get: (key, newerThanMs) => store.providerCache.get(key, newerThanMs), put: (key, json, atMs) => store.providerCache.put(key, json, atMs, atMs - 10 * 60_000) }
    : undefined;
  const events = new LiveEvents();
  // PostgreSQL: every replica's console sees every replica's events (NOTIFY/LISTEN).
  if (store.dialect === 'postgres' && env.DATABASE_URL) await events.listenAcross({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, logger });
  let workers: Workers | null = null;
  const services: Services = {
    get store() {
      return store;
    },
    logger,
    erp: config.emulated.omie
      ? createOmieClient({ baseUrl: `${sandboxBase}/omie`, appKey: creds.omie.appKey, appSecret: creds.omie.appSecret, timeoutMs, ...(omieShared ? { shared: omieShared } : {}) })
      : createOmieClient({ baseUrl: env.OMIE_BASE_URL, appKey: env.OMIE_APP_KEY as string, appSecret: env.OMIE_APP_SECRET as string, timeoutMs, ...(env.OMIE_PIX_ID_FIELD ? { paymentReferenceField: env.OMIE_PIX_ID_FIELD } : {}), ...(omieShared ? { shared: omieShared } : {}) }),
    pix: config.emulated.pix
      ? createTrioRail({ baseUrl: `${sandboxBase}/trio`, clientId: creds.trio.clientId, clientSecret: creds.trio.clientSecret, virtualAccountId: TRIO_VIRTUAL_ACCOUNT_ID, timeoutMs })
      : env.PIX_RAIL === 'bcb'
        ? createBcbPixRail(bcbPixOptions(env, timeoutMs))
        : createTrioRail({ baseUrl: env.TRIO_BASE_URL, clientId: env.TRIO_CLIENT_ID as string, clientSecret: env.TRIO_CLIENT_SECRET as string, virtualAccountId: env.TRIO_VIRTUAL_ACCOUNT_ID as string, timeoutMs }),
    fiscal: config.emulated.fiscal
      ? createFocusNfeClient({ baseUrl: `${sandboxBase}/focus`, token: creds.focus.token, cnpj: MERCHANT_CNPJ, timeoutMs, pollIntervalMs: 50 })
      : createFocusNfeClient({ baseUrl: env.FOCUS_BASE_URL, token: env.FOCUS_TOKEN as string, cnpj: env.MERCHANT_CNPJ as string, timeoutMs, ...focusExtras(env) }),
    whatsapp: config.emulated.zapi
      ? createZapiClient({ baseUrl: `${sandboxBase}/zapi`, instanceId: creds.zapi.instanceId, instanceToken: creds.zapi.instanceToken, clientToken: creds.zapi.clientToken, timeoutMs })
      : createZapiClient({ baseUrl: env.ZAPI_BASE_URL, instanceId: env.ZAPI_INSTANCE_ID as string, instanceToken: env.ZAPI_INSTANCE_TOKEN as string, clientToken: env.ZAPI_CLIENT_TOKEN as string, timeoutMs }),
    keys,
    // The newest active mandate issued to the agent's id, read at each proposal (revoke + issue restores refunds).
    async agentMandateId() {
      return await activeMandateFor(store, keys.mandate, SUPPORT_AGENT_ID, now()) ?? DEFAULT_MANDATE.id;
    },
    approverMandateId: APPROVER_MANDATE.id,
    pixRefundWindowDays: env.PIX_REFUND_WINDOW_DAYS,
    publicBaseUrl,
    now,
    wake: () => workers?.wake(),
    publish: (event) => events.publish(event),
  };

  const seedMandates = async () => {
    if (!config.sandbox) return;
    // Replicas starting together: one issues them, the others (waiting on the lock) find them.
    await store.tx(async () => {
      await store.lock('sandbox-seed-mandates');
      for (const m of [DEFAULT_MANDATE, APPROVER_MANDATE]) {
        if (!await store.mandates.latest(m.id)) await issueMandate(store, keys.mandate, m, now());
      }
    });
  };
  await seedMandates();

  const model = createModelClient(config, `${sandboxBase}/anthropic`, creds.anthropic.apiKey);
  const agent = new Agent(services, model, {
    model: env.ANTHROPIC_MODEL,
    maxTokens: env.AGENT_MAX_TOKENS,
    maxIterations: env.AGENT_MAX_ITERATIONS,
    retryDelayMs: env.TURN_RETRY_DELAY_MS,
    prefetchOrders: env.AGENT_PREFETCH_ORDERS,
    systemPrompt: () => currentSystemPrompt(store),
    modelOutageHandoffMs: env.MODEL_OUTAGE_HANDOFF_MS,
  });
  configureBusinessHours(parseBusinessHours(env.BUSINESS_HOURS));
  // Counted in the database: every replica's calls share one budget.
  agent.rateLimiter = storedModelCallBudget(() => store, env.MODEL_CALLS_PER_CUSTOMER_PER_MINUTE, 60_000, Date.now, env.MODEL_CALLS_PER_MINUTE);
  // On PostgreSQL several replicas share the conversations: a turn runs where its lease is held.
  const turnLease: TurnLease | undefined = store.dialect === 'postgres'
    ? {
        leaseMs: TURN_LEASE_MS,
        retryMs: 1_000,
        claim: (id) => store.conversations.claimTurn(id, store.owner, new Date(now().getTime() + TURN_LEASE_MS).toISOString(), now().toISOString()),
        renew: (id) => store.conversations.renewTurn(id, store.owner, new Date(now().getTime() + TURN_LEASE_MS).toISOString()),
        release: (id) => store.conversations.releaseTurn(id, store.owner),
      }
    : undefined;
  const scheduler = new TurnScheduler((id) => agent.runTurn(id), { debounceMs: turnDebounceMs(env), concurrency: env.TURN_CONCURRENCY, logger, ...(turnLease ? { lease: turnLease } : {}) });
  workers = new Workers(services, (id) => scheduler.schedule(id), { reviewUnknownAfterMs: env.UNKNOWN_REFUND_REVIEW_AFTER_MS });

  let accepting = true;
  app.use((req, res, next) => {
    if (!accepting && req.path.startsWith('/webhooks/')) {
      res.status(503).set('retry-after', '5').json({ error: 'shutting_down', message: 'the service is restarting; retry shortly' });
      return;
    }
    next();
  });
  app.get('/healthz', async (_req, res) => {
    try {
      res.status((await store.ping()) ? 200 : 503).json({ ok: true });
    } catch {
      res.status(503).json({ ok: false });
    }
  });
  app.use(readiness(services, () => store));
  app.use(zapiWebhook({ store: () => store, batcher: new IngestBatcher(() => store), logger, webhookToken, ...(env.ZAPI_INSTANCE_ID ? { instanceId: env.ZAPI_INSTANCE_ID } : {}), now, onMessage: (id) => {
    // The console shows customer messages live even while staff hold the conversation (no turn runs then).
    events.publish({ type: 'message_in', conversationId: id });
    if (!options.ingestOnly) scheduler.schedule(id);
  } }));
  if (pixReceiver) app.use(pixWebhook({ services, logger, path: pixReceiver.path, secret: pixReceiver.secret, signingKey: pixReceiver.signingKey }));

  let sandbox: Sandbox | null = null;
  if (anyEmulated && !sandboxHost) {
    sandbox = createSandbox({
      seed: buildSeed(now(), env.SANDBOX_EXTRA_CUSTOMERS),
      extraCustomers: env.SANDBOX_EXTRA_CUSTOMERS,
      stateFile: path.join(config.dataDir, 'sandbox-state.json'),
      pixWebhookUrl: () => `${base}${pixReceiver?.path ?? '/webhooks/pix'}`,
      ...(options.sandboxLatency ? { latency: options.sandboxLatency } : {}),
      ...(options.pixWebhookDelaysMs ? { pixWebhookDelaysMs: options.pixWebhookDelaysMs } : {}),
      logger,
    });
  }
  if (sandbox && config.sandbox) {
    app.post('/sandbox/reset', async (_req, res) => {
      await scheduler.idle();
      sandbox?.reset();
      services.erp.forget?.();
      if (store.dialect === 'postgres') {
        // PostgreSQL: the schema is dropped and made again (a sandbox's schema holds nothing else).
        store = await recreatePostgresStore(store, config);
        await secrets.restore(store);
        await seedMandates();
        res.json({ ok: true });
        return;
      }
      // Back to a clean world: the old database is archived, never edited (audit rows stay).
      await store.close();
      const file = path.join(config.dataDir, DB_FILE);
      const archive = path.join(config.dataDir, 'archive');
      mkdirSync(archive, { recursive: true });
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(file + suffix)) renameSync(file + suffix, path.join(archive, `${DB_FILE}.${Date.now()}${suffix}`));
      }
      store = await openDatabaseStore(config);
      await seedMandates();
      res.json({ ok: true });
    });
    app.get('/sandbox', sandboxIndex());
  }
  if (sandbox) app.use(emulatorPath, sandbox.router);
  app.use('/sandbox', (_req, res) => {
    res.status(404).json({ error: 'not_found', message: sandboxHost ? `this replica uses the sandbox at ${sandboxHost}/sandbox` : 'sandbox mode is off' });
  });

  const estorno: Estorno = {
    url: base,
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
    async idle() {
      for (let i = 0; i < 200; i++) {
        await scheduler.idle();
        await sandbox?.idle();
        await workers?.idle();
        if (scheduler.size === 0 && (await store.jobs.due(now().toISOString(), 1)).length === 0 && (await store.outbox.due(now().toISOString(), 1)).length === 0) return;
      }
    },
    async close() {
      accepting = false;
      clearInterval(sweeper);
      await scheduler.stop();
      await workers?.stop();
      sandbox?.close();
      await events.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await store.close();
      dataDirLock.release();
    },
  };
  app.use(receiptPages({ store: () => store, key: keys.receipt, publicBaseUrl }));
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

  // Pick up what a previous run left: unprocessed messages, unfinished turns, open refunds.
  await recoverMoneyPath(services);
  for (const id of new Set([...await store.inbox.conversationsWithPending(), ...await store.turns.conversationsWithUnfinishedTurns()])) scheduler.schedule(id);
  workers.start();
  const sweeper = setInterval(() => {
    void (async () => {
      await workers?.sweepPending(env.RECONCILE_PENDING_AFTER_MS);
      await expireApprovals(services);
    })().catch((error: unknown) => logger.warn({ err: errorSummary(error) }, 'sweep failed; the next one tries again'));
  }, Math.min(env.RECONCILE_PENDING_AFTER_MS, 60_000));
  sweeper.unref();
  return estorno;
}

function isDatabaseBusy(err: unknown): boolean {
  return typeof err === 'object' && err !== null && /^SQLITE_BUSY/.test(String((err as { code?: unknown }).code ?? ''));
}
