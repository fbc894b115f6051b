import express from 'express';
import type { Services } from '../../services/context.ts';
import { activeMandateFor, SUPPORT_AGENT_ID } from '../../refunds/mandate.ts';

/**
 * What staff and admins must know now: the agent holding no usable mandate
 * stops every automatic refund. (The model's and providers' health is
 * GET /readyz, which the page reads too.)
 */
export function alertRoutes(services: Pick<Services, 'store' | 'keys' | 'now'>): express.Router {
  const router = express.Router();
  router.get('/alerts', async (_req, res) => {
    const store = services.store;
    const now = services.now();
    const alerts: Array<{ kind: string; severity: 'critical' | 'warning'; message: string; [k: string]: unknown }> = [];
    if (!await activeMandateFor(store, services.keys.mandate, SUPPORT_AGENT_ID, now)) {
      alerts.push({ kind: 'agent_mandate_inactive', severity: 'critical', agent_id: SUPPORT_AGENT_ID, message: `The agent ${SUPPORT_AGENT_ID} holds no active mandate: refunds are handed to staff (reason mandate_inactive) until an admin issues or resumes one.` });
    }
    // The model failing now (its newest call, within 10 minutes, errored): turns are held and, after a while, handed to staff.
    const call = await store.turns.lastModelCall();
    if (call?.error && services.now().getTime() - Date.parse(call.created_at) < 600_000) {
      alerts.push({ kind: 'model_degraded', severity: 'critical', since: call.created_at, message: `The model is failing (${call.error}); customers get one holding message and are handed to staff after MODEL_OUTAGE_HANDOFF_MS. See /readyz.` });
    }
    const waiting = await store.consoleQueries.waitingCount();
    if (waiting > 0) alerts.push({ kind: 'waiting_for_staff', severity: 'warning', count: waiting, message: `${waiting} conversation(s) waiting for a person.` });
    res.json(alerts);
  });
  return router;
}
