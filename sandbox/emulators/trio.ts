import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../../core/logger.ts';
import { signTrioBody } from '../../providers/trio.ts';
import { SANDBOX_CREDENTIALS } from '../credentials.ts';
import { endToEndId, TRIO_VIRTUAL_ACCOUNT_ID, type SeedOrder } from '../seed.ts';
import { emulate, type EmulatorContext } from './common.ts';
import type { TrioRefund, World } from './state.ts';

/**
 * Trio's banking API (PROVIDERS.md §3): collecting documents (the original
 * Pix pay-ins), refunds in cents, and `collecting_document_refund` webhooks
 * (`created`, then `settled`) signed with an uppercase-hex HMAC-SHA256.
 */

type Json = Record<string, unknown>;

const error = (error_code: string, error_message: string) => ({ error: { error_code, error_message } });
const money = (cents: number) => ({ amount: cents, currency: 'BRL' });

export interface TrioOptions {
  webhookUrl: () => string;
  delaysMs: { created: number; settled: number };
  logger?: Logger;
}

export class TrioEmulator {
  readonly router = express.Router();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly world: World;
  private readonly options: TrioOptions;

  constructor(ctx: EmulatorContext, world: World, options: TrioOptions) {
    this.world = world;
    this.options = options;
    const auth = `Basic ${Buffer.from(`${SANDBOX_CREDENTIALS.trio.clientId}:${SANDBOX_CREDENTIALS.trio.clientSecret}`).toString('base64')}`;
    const errorBody = (status: number) => (status === 429 ? { error: 'Rate limit exceeded', message: 'Too many requests' } : error('INTERNAL_ERROR', 'Erro interno'));
    const guarded = (handler: (req: Request, res: Response) => void) =>
      emulate(ctx, 'pix', errorBody, (req, res) => {
        if (req.get('authorization') !== auth) return void res.status(401).json(error('UNAUTHORIZED', 'Credenciais inválidas'));
        handler(req, res);
      });

    // Only the documented listing: virtual account and date range required, cursor pagination.
    // (`/banking/cashin/documents/search` is not in Trio's reference: 404 here, like any undocumented route.)
    this.router.get('/banking/cashin/documents', guarded((req, res) => {
      const missing = ['virtual_account_id', 'from_datetime', 'to_datetime'].filter((k) => typeof req.query[k] !== 'string' || req.query[k] === '');
      if (missing.length) return void res.status(400).json(error('INVALID_PARAMETERS', `Parâmetros obrigatórios ausentes: ${missing.join(', ')}`));
      if (req.query.virtual_account_id !== TRIO_VIRTUAL_ACCOUNT_ID) return void res.status(400).json(error('INVALID_PARAMETERS', 'virtual_account_id inválido'));
      const from = Date.parse(String(req.query.from_datetime));
      const to = Date.parse(String(req.query.to_datetime));
      if (Number.isNaN(from) || Number.isNaN(to)) return void res.status(400).json(error('INVALID_PARAMETERS', 'from_datetime/to_datetime devem ser date-time'));
      const all = this.world.state.orders.filter((o) => o.documentId && Date.parse(o.placedAt) >= from && Date.parse(o.placedAt) <= to);
      const start = req.query.after ? Number(Buffer.from(String(req.query.after), 'base64').toString('utf8')) || 0 : 0;
      const next = start + 100 < all.length ? Buffer.from(String(start + 100)).toString('base64') : undefined;
      // Only the page is rendered (with 500 seeded customers, every page used to render them all).
      res.json({ data: all.slice(start, start + 100).map((o) => this.renderDocument(o)), ...(next ? { metadata: { after: next } } : {}) });
    }));
    this.router.get('/banking/counterparties/:id', guarded((req, res) => {
      const o = this.world.state.orders.find((x) => x.counterpartyId === req.params.id);
      const c = o ? this.world.state.customers.find((x) => x.code === o.customerCode) : undefined;
      if (!o || !c) return void res.status(404).json(error('NOT_FOUND_RESOURCE', 'Contraparte não encontrada'));
      res.json({ data: { id: o.counterpartyId, inserted_at: o.placedAt.replace('T', ' '), name: c.name, tax_number: c.cpf.replace(/\D/g, ''), updated_at: o.placedAt.replace('T', ' ') } });
    }));
    const refundBody = z.object({ amount: z.number().int().positive(), description: z.string().min(1).max(140) }).strict();
    this.router.post('/banking/cashin/documents/:id/refund', express.json({ limit: '64kb' }), guarded((req, res) => {
      const o = this.world.state.orders.find((x) => x.documentId === req.params.id);
      if (!o) return void res.status(400).json(error('NOT_FOUND_RESOURCE', `Documento de cobrança não foi encontrado. Referência: ${String(req.params.id).slice(0, 40)}`));
      const parsed = refundBody.safeParse(req.body);
      if (!parsed.success) return void res.status(400).json(error('INVALID_PARAMETERS', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')));
      const used = this.refundsOf(o).filter((r) => r.status !== 'failed').reduce((s, r) => s + r.amount_cents, 0);
      if (used + parsed.data.amount > o.totalCents) {
        return void res.status(400).json(error('REFUND_AMOUNT_EXCEEDED', `O valor total dos estornos não pode exceder o valor do documento (restante: ${o.totalCents - used} centavos)`));
      }
      const refund: TrioRefund = {
        id: randomUUID(),
        collecting_document_id: o.documentId as string,
        amount_cents: parsed.data.amount,
        description: parsed.data.description,
        status: 'created',
        end_to_end_id: null,
        created_at: new Date().toISOString(),
        transaction_date: null,
        seeded: false,
        delivered: [],
      };
      this.world.state.trioRefunds.push(refund);
      this.world.put('trioRefunds', refund);
      this.schedule(refund);
      res.json({ data: this.renderRefund(refund) });
    }));
    this.router.get('/banking/cashin/refunds', guarded((req, res) => {
      if (req.query.virtual_account_id !== TRIO_VIRTUAL_ACCOUNT_ID) return void res.status(400).json(error('INVALID_PARAMETERS', 'virtual_account_id é obrigatório'));
      const from = String(req.query.from_datetime ?? '');
      const to = String(req.query.to_datetime ?? '9999');
      const all = this.world.state.trioRefunds.filter((r) => r.created_at >= from && r.created_at <= to);
      const start = req.query.after ? Number(Buffer.from(String(req.query.after), 'base64').toString('utf8')) || 0 : 0;
      const pageRows = all.slice(start, start + 50);
      const next = start + 50 < all.length ? Buffer.from(String(start + 50)).toString('base64') : undefined;
      res.json({ data: pageRows.map((r) => ({ ...this.renderRefund(r), collecting_document_id: r.collecting_document_id, virtual_account_id: TRIO_VIRTUAL_ACCOUNT_ID, stages: [] })), metadata: next ? { after: next } : {} });
    }));

    // After a restart: refunds still waiting for their webhooks get them.
    for (const r of this.world.state.trioRefunds) if (!r.seeded && !r.delivered.includes('settled')) this.schedule(r);
  }

  /** Refunds received through the API (CONTRACT.md /sandbox/pix/refunds). */
  list(): Array<{ refund_document_id: string; collecting_document_id: string; amount_cents: number; status: string }> {
    return this.world.state.trioRefunds
      .filter((r) => !r.seeded)
      .map((r) => ({ refund_document_id: r.id, collecting_document_id: r.collecting_document_id, amount_cents: r.amount_cents, status: r.status }));
  }

  cancel(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.inflight.size > 0) {
      await Promise.all([...this.inflight]);
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 5));
    }
  }

  private refundsOf(o: SeedOrder): TrioRefund[] {
    return this.world.state.trioRefunds.filter((r) => r.collecting_document_id === o.documentId);
  }

  private renderDocument(o: SeedOrder): Json {
    return {
      id: o.documentId,
      amount: money(o.totalCents),
      counterparty_bank_account_id: `${String(o.counterpartyId).slice(0, 24)}bank00000000`.slice(0, 36),
      counterparty_id: o.counterpartyId,
      end_to_end_id: o.endToEndId,
      // A QR code paid by the customer: no order number of ours on it.
      external_id: null,
      description: null,
      initiation: null,
      origin_id: o.documentId,
      reconciliation_id: o.documentId,
      ref_id: o.documentId,
      transaction_date: o.placedAt,
      type: 'pix',
      ref_type: 'pix_qrcode',
      origin_type: 'none',
      virtual_account_id: TRIO_VIRTUAL_ACCOUNT_ID,
      receipt_url: `https://receipts.trio.com.br/document_receipts/${o.documentId}`,
      refunds: this.refundsOf(o).map((r) => this.renderRefund(r)),
    };
  }

  private renderRefund(r: TrioRefund): Json {
    return {
      id: r.id,
      amount: money(r.amount_cents),
      description: r.description,
      end_to_end_id: r.end_to_end_id,
      receipt_url: `https://receipts.trio.com.br/refund/${r.id}`,
      reconciliation_id: `rec-${r.id.slice(0, 8)}`,
      status: r.status,
      timestamp: r.created_at,
      transaction_date: r.transaction_date,
    };
  }

  private schedule(refund: TrioRefund): void {
    const steps: Array<{ type: 'created' | 'settled'; delay: number }> = [];
    if (!refund.delivered.includes('created')) steps.push({ type: 'created', delay: this.options.delaysMs.created });
    steps.push({ type: 'settled', delay: this.options.delaysMs.settled });
    for (const step of steps) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const p = this.deliver(refund.id, step.type).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }, step.delay);
      this.timers.add(timer);
    }
  }

  private async deliver(refundId: string, type: 'created' | 'settled'): Promise<void> {
    const refund = this.world.state.trioRefunds.find((r) => r.id === refundId);
    if (!refund) return;
    if (type === 'settled' && refund.status === 'created') {
      const at = new Date();
      refund.status = 'settled';
      refund.transaction_date = at.toISOString();
      refund.end_to_end_id = endToEndId('D', '18236120', at, refund.id.replace(/-/g, ''));
      this.world.put('trioRefunds', refund);
    }
    const body = JSON.stringify({
      ref_id: refund.id,
      category: 'collecting_document_refund',
      type,
      timestamp: new Date().toISOString(),
      context_id: randomUUID(),
      context_type: 'internet_banking',
      data: { ...this.renderRefund(refund), collecting_document_id: refund.collecting_document_id, external_id: null, rule: 'manual', virtual_account_id: TRIO_VIRTUAL_ACCOUNT_ID },
    });
    for (let attempt = 0, wait = 200; attempt < 5; attempt++, wait *= 2) {
      try {
        const res = await fetch(this.options.webhookUrl(), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-webhook-secret': SANDBOX_CREDENTIALS.trio.webhookSecret,
            'x-webhook-signature': signTrioBody(body, SANDBOX_CREDENTIALS.trio.webhookSigningKey),
          },
          body,
          signal: AbortSignal.timeout(3_000),
        });
        if (res.ok) {
          refund.delivered.push(type);
          this.world.put('trioRefunds', refund);
          return;
        }
        this.options.logger?.debug({ status: res.status, type }, 'trio emulator: webhook refused, retrying');
      } catch {
        // The service may be restarting: retry like Trio does (shorter waits here).
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
