import express from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { resolveUnknownRefund } from '../../refunds/refund-flow.ts';
import { parseBody } from '../http.ts';

/** Refunds whose outcome the rail never told: staff check the rail's dashboard, then decide. */
export function refundReviewRoutes(services: Services): express.Router {
  const router = express.Router();
  router.get('/refunds/review', async (_req, res) => {
    res.json((await services.store.refunds.inReview()).map((r) => ({ id: r.id, order_number: r.order_number, amount_cents: r.amount_cents, rail: r.rail, submitted_at: r.submitted_at, review_requested_at: r.review_requested_at, conversation_id: r.conversation_id, case_id: r.case_id })));
  });
  router.post('/refunds/:id/release', async (req, res) => {
    const body = parseBody(z.object({ reason: z.string().trim().min(1, 'a reason is required').max(500) }).strict(), req, res);
    if (!body) return;
    const result = await resolveUnknownRefund(services, req.params.id as string, { id: req.user!.email }, body.reason);
    if (result.ok) return void res.json(result);
    const message = { not_found: 'no such refund', not_unknown: 'only a refund whose outcome stayed unknown past the review window can be released', found_at_rail: 'the rail shows this refund now: it was adopted, not released' }[result.error];
    res.status(result.error === 'not_found' ? 404 : 409).json({ ...result, message });
  });
  return router;
}
