import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { decideApproval, expireApprovals } from '../../refunds/approvals.ts';
import type { ErpOrder } from '../../providers/types.ts';
import { TtlCache } from '../customer-names.ts';
import { maskPhoneForStaff, parseBody } from '../http.ts';

/**
 * Approvals with their context: the order's items and payment, what was
 * refunded, the customer's refund history, the agent's stated reason and the
 * talk that led there. Approving names the amount being confirmed: a page
 * showing another amount than the one stored is refused (409), so money moves
 * only for what staff saw.
 */
export function approvalRoutes(services: Services): express.Router {
  const router = express.Router();
  const store = () => services.store;
  const orders = new TtlCache<ErpOrder | null>(5 * 60_000);

  router.get('/approvals', async (req, res) => {
    await expireApprovals(services);
    const status = z.enum(['pending', 'approved', 'rejected', 'expired', 'failed']).optional().safeParse(req.query.status);
    if (!status.success) return void res.status(400).json({ error: 'invalid_input', message: 'status: pending, approved, rejected, expired or failed' });
    const s = store();
    res.json(await Promise.all((await s.approvals.list(status.data)).map(async (a) => {
      const c = await s.conversations.get(a.conversation_id) as { customer_name?: string | null; phone: string | null } | undefined;
      return { ...a, proposal_hash: undefined, customer_name: c?.customer_name ?? null, phone: maskPhoneForStaff(c?.phone ?? null) };
    })));
  });

  router.get('/approvals/:id', async (req, res) => {
    const context = await store().consoleQueries.approvalContext(req.params.id as string);
    if (!context) return void res.status(404).json({ error: 'not_found' });
    // The items live in the ERP: asked when staff open the approval, cached for a few minutes.
    let order: ErpOrder | null = null;
    let erpError: string | null = null;
    try {
      order = await orders.get(context.approval.order_number, () => services.erp.getOrder(context.approval.order_number));
    } catch {
      erpError = 'erp_unavailable';
    }
    const { proposal_hash: _h, ...approval } = context.approval;
    res.json({
      approval, customer: { name: context.customer?.customer_name ?? null, phone: maskPhoneForStaff(context.customer?.phone ?? null) },
      order: order ? { order_number: order.orderNumber, total_cents: order.totalCents, placed_at: order.placedAt, method: order.payment.method, items: order.items } : null,
      erp_error: erpError, payment: context.payment, refund_history: context.refund_history, excerpt: context.excerpt,
    });
  });

  // The reason is internal (kept, never sent); a rejection may carry a separate message written for the customer.
  const decisionBody = z.object({
    reason: z.string().trim().min(1, 'a reason is required').max(500),
    customer_message: z.string().trim().max(1000).optional(),
    /** The amount staff confirmed on screen; when given it must be the approval's. */
    amount_cents: z.number().int().positive().optional(),
  }).strict();
  const decide = (decision: 'approve' | 'reject') => async (req: Request, res: Response) => {
    const body = parseBody(decisionBody, req, res);
    if (!body) return;
    const approval = await store().approvals.get(req.params.id as string);
    if (approval && body.amount_cents !== undefined && body.amount_cents !== approval.amount_cents) {
      return void res.status(409).json({ error: 'amount_mismatch', message: `this approval is for ${approval.amount_cents} cents, not ${body.amount_cents}` });
    }
    const result = await decideApproval(services, req.params.id as string, decision, { id: req.user!.email }, body.reason, decision === 'reject' ? (body.customer_message ?? null) : null);
    if (result.ok) return void res.json(result);
    const status = result.error === 'not_found' ? 404 : result.error === 'refused' ? 422 : 409;
    res.status(status).json(result);
  };
  router.post('/approvals/:id/approve', decide('approve'));
  router.post('/approvals/:id/reject', decide('reject'));
  return router;
}
