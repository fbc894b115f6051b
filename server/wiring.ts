import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.ts';
import { errorSummary, type Logger } from '../core/logger.ts';
import { DB_FILE, type Store } from '../data/store.ts';
import { openDatabaseStore, recreatePostgresStore } from '../data/open.ts';
import { Agent } from '../agent/turn.ts';
import { modelCallBudget, storedModelCallBudget } from '../agent/budget.ts';
import { createModelClient } from '../agent/model.ts';
import { currentSystemPrompt } from '../agent/prompt.ts';
import { TURN_LEASE_MS, TurnScheduler, turnDebounceMs, type TurnLease } from '../agent/scheduler.ts';
import { activeMandateFor, APPROVER_MANDATE, DEFAULT_MANDATE, SUPPORT_AGENT_ID } from '../refunds/mandate.ts';
import { recentOrders } from '../refunds/verify-order.ts';
import { configureBusinessHours, handOff, parseBusinessHours } from '../conversations/state.ts';
import type { Services } from '../services/context.ts';
import { createOmieClient, type SharedCache } from '../providers/omie.ts';
import { fileSecret, type Secrets } from './secrets.ts';
import { createTrioRail } from '../providers/trio.ts';
import { bcbPixOptions, createBcbPixRail } from '../providers/bcb-pix.ts';
import { createFocusNfeClient, focusExtras } from '../providers/focus-nfe.ts';
import { createZapiClient } from '../providers/zapi.ts';
import { emulatedEndpoints } from '../sandbox/wiring.ts';
import { Workers } from './workers.ts';
import type { LiveEvents } from './events.ts';

/**
 * Production wiring: the store, the signing keys, the providers chosen from
 * config, the services bag, the agent with its scheduler, and the workers.
 * Emulated providers are reached through `emulatedEndpoints` (sandbox/wiring.ts),
 * the one sandbox function this file uses.
 */

export type EmulatedEndpoints = ReturnType<typeof emulatedEndpoints>;

/** Where the service and its emulators answer. */
export interface Addresses {
  /** The server's own URL. */
  base: string;
  /** Where the emulators are mounted: public `/sandbox` in sandbox mode, else a path nobody is told (a capability). */
  emulatorPath: string;
  publicBaseUrl: string;
  emulated: EmulatedEndpoints;
  /** The replica hosting the sandbox, when this one only uses it. */
  sandboxHost: string | undefined;
}

export function addresses(config: Config, host: string, port: number): Addresses {
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // The emulators of whatever is not real. In sandbox mode they are public under
  // /sandbox (CONTRACT); next to real providers they live under a path nobody
  // is told (a capability), with no control routes mounted at /sandbox.
  const emulatorPath = config.sandbox ? '/sandbox' : `/emulated-${fileSecret(config.dataDir, 'emulator-path-token')}`;
  // Replicas: one hosts the sandbox; the others (SANDBOX_HOST) use its emulators and run none (README "Replicas").
  const sandboxHost = config.sandbox ? config.env.SANDBOX_HOST : undefined;
  const emulatorBase = sandboxHost ? `${sandboxHost}/sandbox` : `${base}${emulatorPath}`;
  return { base, emulatorPath, publicBaseUrl: config.env.PUBLIC_BASE_URL ?? base, emulated: emulatedEndpoints(emulatorBase), sandboxHost };
}

/**
 * The one place the service opens its database (at start, and again after a
 * sandbox reset): PostgreSQL when DATABASE_URL is set, else SQLite in DATA_DIR.
 */
export async function openServiceStore(config: Config, logger?: Logger): Promise<Store> {
  return openDatabaseStore(config, logger ? { onError: (error) => logger.warn({ err: errorSummary(error) }, 'idle database connection failed') } : {});
}

/** The service's current store: replaced, never edited, by a sandbox reset. */
export class StoreHolder {
  private current: Store;
  private readonly config: Config;
  /** Set once the secrets are read from this store (sandbox on PostgreSQL keeps them there). */
  secrets: Secrets | null = null;

  constructor(store: Store, config: Config) {
    this.current = store;
    this.config = config;
  }

  get store(): Store {
    return this.current;
  }

  /**
   * Back to a clean world. SQLite: the old database is archived, never edited
   * (audit rows stay), and an empty one opened. PostgreSQL: the sandbox's schema
   * is dropped and made again (it holds nothing else).
   */
  async resetToEmpty(): Promise<void> {
    if (this.current.dialect === 'postgres') {
      this.current = await recreatePostgresStore(this.current, this.config);
      // The secrets this process uses (webhook token, keys, console passwords) are written back.
      await this.secrets?.restore(this.current);
      return;
    }
    await this.current.close();
    const file = path.join(this.config.dataDir, DB_FILE);
    const archive = path.join(this.config.dataDir, 'archive');
    mkdirSync(archive, { recursive: true });
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, path.join(archive, `${DB_FILE}.${Date.now()}${suffix}`));
    }
    this.current = await openServiceStore(this.config);
  }
}

/** The signing keys: from the environment, else generated once (DATA_DIR, or the database shared by replicas). */
export async function signingKeys(config: Config, secrets: Secrets): Promise<Services['keys']> {
  return {
    mandate: await secrets.signingKey('mandate-ed25519', config.env.MANDATE_SIGNING_KEY),
    receipt: await secrets.signingKey('receipt-ed25519', config.env.RECEIPT_SIGNING_KEY),
  };
}

/** The token Z-API webhooks must carry: configured, or generated once (every replica the same). */
export async function webhookToken(config: Config, secrets: Secrets): Promise<string> {
  return config.env.ZAPI_WEBHOOK_TOKEN ?? (await secrets.get('zapi-webhook-token'));
}

/**
 * Rail webhooks are received only for the configured rail, with its own
 * secrets; the published sandbox secrets open only the emulated rail's receiver.
 */
export function pixReceiver(config: Config, at: Pick<Addresses, 'emulatorPath' | 'emulated'>): { path: string; secret: string; signingKey: string } | null {
  const env = config.env;
  if (config.emulated.pix) return { path: config.sandbox ? '/webhooks/pix' : `${at.emulatorPath}/webhooks/pix`, ...at.emulated.pixWebhook };
  if (env.PIX_RAIL === 'trio') return { path: '/webhooks/pix', secret: env.TRIO_WEBHOOK_SECRET as string, signingKey: env.TRIO_WEBHOOK_SIGNING_KEY as string };
  return null;
}

/** The provider clients: each real one from its settings, or its emulator. */
export function providers(config: Config, emulated: EmulatedEndpoints, store: () => Store): Pick<Services, 'erp' | 'pix' | 'fiscal' | 'whatsapp'> {
  const env = config.env;
  const timeoutMs = env.PROVIDER_TIMEOUT_MS;
  // Replicas on PostgreSQL share Omie's answers: Omie refuses an id any of them asked within 60 s.
  const omieShared: SharedCache | undefined = store().dialect === 'postgres'
    ? { get: (key, newerThanMs) => store().providerCache.get(key, newerThanMs), put: (key, json, atMs) => store().providerCache.put(key, json, atMs, atMs - 10 * 60_000) }
    : undefined;
  return {
    erp: config.emulated.omie
      ? createOmieClient({ ...emulated.omie, timeoutMs, ...(omieShared ? { shared: omieShared } : {}) })
      : createOmieClient({ baseUrl: env.OMIE_BASE_URL, appKey: env.OMIE_APP_KEY as string, appSecret: env.OMIE_APP_SECRET as string, timeoutMs, ...(env.OMIE_PIX_ID_FIELD ? { paymentReferenceField: env.OMIE_PIX_ID_FIELD } : {}), ...(omieShared ? { shared: omieShared } : {}) }),
    pix: config.emulated.pix
      ? createTrioRail({ ...emulated.trio, timeoutMs })
      : env.PIX_RAIL === 'bcb'
        ? createBcbPixRail(bcbPixOptions(env, timeoutMs))
        : createTrioRail({ baseUrl: env.TRIO_BASE_URL, clientId: env.TRIO_CLIENT_ID as string, clientSecret: env.TRIO_CLIENT_SECRET as string, virtualAccountId: env.TRIO_VIRTUAL_ACCOUNT_ID as string, timeoutMs }),
    fiscal: config.emulated.fiscal
      ? createFocusNfeClient({ ...emulated.focus, timeoutMs })
      : createFocusNfeClient({ baseUrl: env.FOCUS_BASE_URL, token: env.FOCUS_TOKEN as string, cnpj: env.MERCHANT_CNPJ as string, timeoutMs, ...focusExtras(env) }),
    whatsapp: config.emulated.zapi
      ? createZapiClient({ ...emulated.zapi, timeoutMs })
      : createZapiClient({ baseUrl: env.ZAPI_BASE_URL, instanceId: env.ZAPI_INSTANCE_ID as string, instanceToken: env.ZAPI_INSTANCE_TOKEN as string, clientToken: env.ZAPI_CLIENT_TOKEN as string, timeoutMs }),
  };
}

/** The services bag every part of the money path receives. */
export function services(options: {
  config: Config;
  logger: Logger;
  now: () => Date;
  holder: StoreHolder;
  keys: Services['keys'];
  providers: Pick<Services, 'erp' | 'pix' | 'fiscal' | 'whatsapp'>;
  publicBaseUrl: string;
  events: LiveEvents;
  wake: () => void;
}): Services {
  const { holder, keys, now, events } = options;
  return {
    get store() {
      return holder.store;
    },
    logger: options.logger,
    ...options.providers,
    keys,
    // The newest active mandate issued to the agent's id, read at each proposal (revoke + issue restores refunds).
    async agentMandateId() {
      return await activeMandateFor(holder.store, keys.mandate, SUPPORT_AGENT_ID, now()) ?? DEFAULT_MANDATE.id;
    },
    approverMandateId: APPROVER_MANDATE.id,
    pixRefundWindowDays: options.config.env.PIX_REFUND_WINDOW_DAYS,
    // A rail call may chain a token request, the call and one retry, each up to PROVIDER_TIMEOUT_MS.
    railCallLeaseMs: Math.max(45_000, 4 * options.config.env.PROVIDER_TIMEOUT_MS + 5_000),
    publicBaseUrl: options.publicBaseUrl,
    now,
    wake: options.wake,
    publish: (event) => events.publish(event),
  };
}

/** The agent (Claude or the sandbox's scripted model), its per-customer scheduler, and the background workers. */
export function agentAndWorkers(config: Config, services: Services, emulated: EmulatedEndpoints): { agent: Agent; scheduler: TurnScheduler; workers: Workers } {
  const env = config.env;
  const model = createModelClient(config, emulated.anthropic.baseUrl, emulated.anthropic.apiKey);
  const lease = turnLease(services);
  const agent = new Agent(services, model, {
    model: env.ANTHROPIC_MODEL,
    maxTokens: env.AGENT_MAX_TOKENS,
    maxIterations: env.AGENT_MAX_ITERATIONS,
    retryDelayMs: env.TURN_RETRY_DELAY_MS,
    recentOrders: env.AGENT_PREFETCH_ORDERS ? (conversation) => recentOrders(services, conversation) : null,
    systemPrompt: () => currentSystemPrompt(services.store),
    modelOutageHandoffMs: env.MODEL_OUTAGE_HANDOFF_MS,
    // Replicas: a step is stored only while this process holds the turn's lease, claimed again in the
    // step's own transaction (the row stays locked until it commits); a process that stalled past it stops.
    turnFence: lease ? (id) => lease.claim(id) : null,
  });
  configureBusinessHours(parseBusinessHours(env.BUSINESS_HOURS));
  // PostgreSQL: counted in the database, so every replica shares one budget. SQLite has one
  // process (the data-dir lock): counting in memory spares every model call a write transaction.
  agent.rateLimiter = services.store.dialect === 'postgres'
    ? storedModelCallBudget(() => services.store, env.MODEL_CALLS_PER_CUSTOMER_PER_MINUTE, 60_000, Date.now, env.MODEL_CALLS_PER_MINUTE)
    : modelCallBudget(env.MODEL_CALLS_PER_CUSTOMER_PER_MINUTE, 60_000, Date.now, env.MODEL_CALLS_PER_MINUTE);
  const scheduler = new TurnScheduler((id) => agent.runTurn(id), {
    debounceMs: turnDebounceMs(env),
    concurrency: env.TURN_CONCURRENCY,
    logger: services.logger,
    ...(lease ? { lease } : {}),
    // A turn that keeps crashing never leaves the customer in silence: a person is queued and the customer told.
    onRepeatedCrash: (id) => handOff(services, id, 'job_failed'),
  });
  const workers = new Workers(services, (id) => scheduler.schedule(id), { reviewUnknownAfterMs: env.UNKNOWN_REFUND_REVIEW_AFTER_MS });
  return { agent, scheduler, workers };
}

/**
 * On PostgreSQL several replicas share the conversations: a turn runs only where
 * the conversation's lease is held (agent/scheduler.ts). One process on SQLite
 * needs none (the data-dir lock keeps it alone).
 */
function turnLease(services: Services): TurnLease | null {
  const store = () => services.store;
  if (store().dialect !== 'postgres') return null;
  const until = () => new Date(services.now().getTime() + TURN_LEASE_MS).toISOString();
  return {
    leaseMs: TURN_LEASE_MS,
    retryMs: 1_000,
    claim: (id) => store().conversations.claimTurn(id, store().owner, until(), services.now().toISOString()),
    renew: (id) => store().conversations.renewTurn(id, store().owner, until()),
    release: (id) => store().conversations.releaseTurn(id, store().owner),
  };
}
