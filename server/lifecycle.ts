import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { Config } from '../core/config.ts';
import { errorSummary, type Logger } from '../core/logger.ts';
import type { Services } from '../services/context.ts';
import type { TurnScheduler } from '../agent/scheduler.ts';
import { expireApprovals } from '../refunds/approvals.ts';
import type { Workers } from './workers.ts';
import { recoverMoneyPath } from '../refunds/jobs.ts';

/**
 * The process lifecycle: listening, refusing webhooks while stopping, the
 * graceful close, the periodic sweeper, and the recovery of what a previous
 * run left at start.
 */

/**
 * Listens on PORT/HOST. Slow or idle clients cannot hold the service: a
 * request must arrive whole in HTTP_REQUEST_TIMEOUT_MS, and no more than
 * HTTP_MAX_CONNECTIONS sockets are open at once (the README puts a reverse
 * proxy in front for the rest).
 */
export async function listen(app: express.Express, env: Config['env']): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer({ requestTimeout: env.HTTP_REQUEST_TIMEOUT_MS, headersTimeout: Math.min(env.HTTP_REQUEST_TIMEOUT_MS, 10_000), keepAliveTimeout: 5_000, connectionsCheckingInterval: Math.min(1_000, env.HTTP_REQUEST_TIMEOUT_MS) }, app);
  server.maxConnections = env.HTTP_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** While stopping, webhooks answer 503 with retry-after (the sender retries; nothing is half stored). */
export class Gate {
  accepting = true;

  middleware(): express.RequestHandler {
    return (req, res, next) => {
      if (!this.accepting && req.path.startsWith('/webhooks/')) {
        res.status(503).set('retry-after', '5').json({ error: 'shutting_down', message: 'the service is restarting; retry shortly' });
        return;
      }
      next();
    };
  }
}

/** Pick up what a previous run left: unprocessed messages, unfinished turns, open refunds; then the workers start. */
export async function recoverAtStart(services: Services, scheduler: Pick<TurnScheduler, 'schedule'>, workers: Pick<Workers, 'start'>): Promise<void> {
  const { store } = services;
  await recoverMoneyPath(services);
  for (const id of new Set([...await store.inbox.conversationsWithPending(), ...await store.turns.conversationsWithUnfinishedTurns()])) scheduler.schedule(id);
  workers.start();
}

/** Every so often: refunds left pending are reconciled and expired approvals closed. Returns the timer (cleared on close). */
export function startSweeper(services: Services, workers: Pick<Workers, 'sweepPending'>, env: Pick<Config['env'], 'RECONCILE_PENDING_AFTER_MS'>, logger: Logger): NodeJS.Timeout {
  const sweeper = setInterval(() => {
    void (async () => {
      await workers.sweepPending(env.RECONCILE_PENDING_AFTER_MS);
      await expireApprovals(services);
    })().catch((error: unknown) => logger.warn({ err: errorSummary(error) }, 'sweep failed; the next one tries again'));
  }, Math.min(env.RECONCILE_PENDING_AFTER_MS, 60_000));
  sweeper.unref();
  return sweeper;
}

/** What a graceful close stops, in order. */
export interface Running {
  gate: Gate;
  sweeper: () => NodeJS.Timeout | null;
  scheduler: Pick<TurnScheduler, 'stop'>;
  workers: Pick<Workers, 'stop'>;
  sandbox: { close(): void } | null;
  server: http.Server;
  store: () => { close(): Promise<void> };
  dataDirLock: { release(): void };
}

/** Graceful stop: no new webhooks, turns in flight finish (their state is committed step by step), database closed. */
export async function close(running: Running): Promise<void> {
  running.gate.accepting = false;
  const sweeper = running.sweeper();
  if (sweeper) clearInterval(sweeper);
  await running.scheduler.stop();
  await running.workers.stop();
  running.sandbox?.close();
  await new Promise<void>((resolve) => running.server.close(() => resolve()));
  running.server.closeAllConnections();
  await running.store().close();
  running.dataDirLock.release();
}

/** Resolves when no turn, due job or due message is left (tests). */
export async function idle(parts: { scheduler: Pick<TurnScheduler, 'idle' | 'size'>; workers: Pick<Workers, 'idle'>; sandbox: { idle(): Promise<void> } | null; store: () => Services['store']; now: () => Date }): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await parts.scheduler.idle();
    await parts.sandbox?.idle();
    await parts.workers.idle();
    const now = parts.now().toISOString();
    if (parts.scheduler.size === 0 && (await parts.store().jobs.due(now, 1)).length === 0 && (await parts.store().outbox.due(now, 1)).length === 0) return;
  }
}
