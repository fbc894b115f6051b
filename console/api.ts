import express from 'express';
import type { Estorno } from '../server/app.ts';
import { requireCsrf, requireSession } from './auth.ts';
import { CustomerNames } from './customer-names.ts';
import { sendBodyError } from '../webhooks/zapi.ts';
import { loginRoutes, sessionRoutes, type LoginOptions } from './routes/auth.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { cannedRoutes } from './routes/canned.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { refundReviewRoutes } from './routes/refunds.ts';
import { alertRoutes } from './routes/alerts.ts';
import { receiptRoutes } from './routes/receipts.ts';
import { mandateRoutes } from './routes/mandates.ts';
import { promptRoutes } from './routes/prompts.ts';
import { userRoutes } from './routes/users.ts';
import { statsRoutes } from './routes/stats.ts';
import { eventRoutes } from './routes/events.ts';

/**
 * The console's JSON API (CONTRACT.md `/api/...`): staff may read, approve and
 * take over conversations; admins may also edit prompts, mandates and users.
 * No route answers without a session (but `/login`); every write needs the
 * CSRF token. This file only composes the route modules of console/routes/.
 */

export { sseFrame } from './routes/events.ts';
export { histogram, lastDays, percentile } from './routes/stats.ts';

export type ConsoleApiOptions = LoginOptions;

/** The /api router; mount it at /api. */
export async function consoleApi(estorno: Estorno, options: ConsoleApiOptions = {}): Promise<express.Router> {
  const router = express.Router();
  const services = estorno.services;
  const json = express.json({ limit: '256kb' });
  // A body that is not JSON is the caller's mistake: 400, and nothing of it reaches the logs.
  router.use((req, res, next) => json(req, res, (err?: unknown) => (err ? sendBodyError(res, err, '256 KB') : next())));
  // Answers hold customer data: no browser or proxy keeps a copy.
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });

  router.use(loginRoutes(services, options));
  // Everything below needs a session, and every write the CSRF token.
  router.use(await requireSession(() => services.store, () => services.now()));
  router.use(requireCsrf);
  router.use(sessionRoutes(services));

  const names = new CustomerNames(services, (conversationId) => services.publish({ type: 'customer', conversationId }));
  router.use(await conversationRoutes(services, estorno.scheduler, names));
  router.use(cannedRoutes(services));
  router.use(approvalRoutes(services));
  router.use(refundReviewRoutes(services));
  router.use(alertRoutes(services));
  router.use(userRoutes(services));
  router.use(receiptRoutes(services));
  router.use(mandateRoutes(services));
  router.use(promptRoutes(services, estorno.modelKind));
  router.use(statsRoutes(services));
  router.use(eventRoutes(estorno.events));

  router.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  return router;
}
