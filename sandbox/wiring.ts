import path from 'node:path';
import type express from 'express';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { SigningKey } from '../core/signing.ts';
import type { Store } from '../data/store.ts';
import { APPROVER_MANDATE, DEFAULT_MANDATE, issueMandate } from '../refunds/mandate.ts';
import { createSandbox, type Sandbox, type SandboxOptions } from './emulators/index.ts';
import { SANDBOX_CREDENTIALS } from './credentials.ts';
import { buildSeed, MERCHANT_CNPJ, TRIO_VIRTUAL_ACCOUNT_ID } from './seed.ts';
import { sandboxIndex } from './index-page.ts';

/**
 * The sandbox side of the composition root: what the emulated providers are
 * reached with, the emulators themselves, `/sandbox/reset`, the sandbox
 * mandates. Production wiring (server/wiring.ts) uses one function of this
 * file, `emulatedEndpoints`; the rest is mounted by server/app.ts.
 */

/** Where each emulated provider answers and the (public, sandbox-only) credentials it expects. */
export function emulatedEndpoints(sandboxBase: string) {
  const creds = SANDBOX_CREDENTIALS;
  return {
    omie: { baseUrl: `${sandboxBase}/omie`, appKey: creds.omie.appKey, appSecret: creds.omie.appSecret },
    trio: { baseUrl: `${sandboxBase}/trio`, clientId: creds.trio.clientId, clientSecret: creds.trio.clientSecret, virtualAccountId: TRIO_VIRTUAL_ACCOUNT_ID },
    /** The published sandbox secrets open only the emulated rail's webhook receiver. */
    pixWebhook: { secret: creds.trio.webhookSecret, signingKey: creds.trio.webhookSigningKey },
    focus: { baseUrl: `${sandboxBase}/focus`, token: creds.focus.token, cnpj: MERCHANT_CNPJ, pollIntervalMs: 50 },
    zapi: { baseUrl: `${sandboxBase}/zapi`, instanceId: creds.zapi.instanceId, instanceToken: creds.zapi.instanceToken, clientToken: creds.zapi.clientToken },
    anthropic: { baseUrl: `${sandboxBase}/anthropic`, apiKey: creds.anthropic.apiKey },
  };
}

/** In sandbox mode the agent and the approver have mandates from the first start (and after each reset). */
export async function seedSandboxMandates(config: Pick<Config, 'sandbox'>, store: Store, key: SigningKey, now: Date): Promise<void> {
  if (!config.sandbox) return;
  // Replicas starting together: one issues them, the others (waiting on the lock) find them.
  await store.tx(async () => {
    await store.lock('sandbox-seed-mandates');
    for (const m of [DEFAULT_MANDATE, APPROVER_MANDATE]) {
      if (!await store.mandates.latest(m.id)) await issueMandate(store, key, m, now);
    }
  });
}

/** The emulators of whatever provider is not real (null when all are real). */
export function startEmulators(
  config: Config,
  options: { now: Date; pixWebhookUrl: () => string; logger: Logger; latency?: SandboxOptions['latency']; pixWebhookDelaysMs?: SandboxOptions['pixWebhookDelaysMs'] },
): Sandbox | null {
  // A replica pointed at another's sandbox (SANDBOX_HOST) runs no emulators of its own.
  if (!Object.values(config.emulated).some(Boolean) || (config.sandbox && config.env.SANDBOX_HOST)) return null;
  return createSandbox({
    seed: buildSeed(options.now, config.env.SANDBOX_EXTRA_CUSTOMERS),
    extraCustomers: config.env.SANDBOX_EXTRA_CUSTOMERS,
    stateFile: path.join(config.dataDir, 'sandbox-state.json'),
    pixWebhookUrl: options.pixWebhookUrl,
    ...(options.latency ? { latency: options.latency } : {}),
    ...(options.pixWebhookDelaysMs ? { pixWebhookDelaysMs: options.pixWebhookDelaysMs } : {}),
    logger: options.logger,
  });
}

export interface SandboxRouteDeps {
  /**
   * Runs `fn` once no turn runs, with the background workers held until it is done:
   * a reset never cuts a turn, a job or a message send in half, nor races one on the old database.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Forgets what the ERP client cached. */
  forgetErp(): void;
  /** Replaces the service's database with an empty one (the old one archived). */
  resetStore(): Promise<void>;
  /** Issues the sandbox mandates into the new database. */
  seedMandates(): Promise<void>;
}

/**
 * Mounts the emulators at `emulatorPath` and, in sandbox mode, `/sandbox/reset`
 * and the `/sandbox` index; any other `/sandbox` path answers 404 when sandbox mode is off.
 */
export function mountSandbox(app: express.Express, config: Pick<Config, 'sandbox'> & { env: Pick<Config['env'], 'SANDBOX_HOST'> }, sandbox: Sandbox | null, emulatorPath: string, deps: SandboxRouteDeps): void {
  const sandboxHost = config.sandbox ? config.env.SANDBOX_HOST : undefined;
  if (sandbox && config.sandbox) {
    app.post('/sandbox/reset', async (_req, res) => {
      await deps.exclusive(async () => {
        sandbox.reset();
        deps.forgetErp();
        // Back to a clean world: the old database is archived, never edited (audit rows stay).
        await deps.resetStore();
        await deps.seedMandates();
      });
      res.json({ ok: true });
    });
    app.get('/sandbox', sandboxIndex());
  }
  if (sandbox) app.use(emulatorPath, sandbox.router);
  app.use('/sandbox', (_req, res) => {
    res.status(404).json({ error: 'not_found', message: sandboxHost ? `this replica uses the sandbox at ${sandboxHost}/sandbox` : 'sandbox mode is off' });
  });
}
