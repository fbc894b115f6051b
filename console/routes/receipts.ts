import express from 'express';
import type { Services } from '../../services/context.ts';
import { loadReceipt, verifyReceipt } from '../../refunds/verify-receipt.ts';

/** Sealed receipts as staff see them, with their verification, and the key that verifies them. */
export function receiptRoutes(services: Pick<Services, 'store' | 'keys'>): express.Router {
  const router = express.Router();
  router.get('/receipts/public-key', (_req, res) => {
    res.type('application/x-pem-file').send(services.keys.receipt.publicKeyPem);
  });
  router.get('/receipts/:id', async (req, res) => {
    const receipt = await loadReceipt(services.store, req.params.id as string);
    if (!receipt) return void res.status(404).json({ error: 'not_found' });
    res.json({ ...receipt, key_id: services.keys.receipt.keyId, verification: verifyReceipt(receipt, services.keys.receipt.publicKey) });
  });
  return router;
}
