import { phoneFromParts, samePhone } from '../../core/phone.ts';
import type { ErpClient, ErpCustomer, ErpOrder, FiscalClient, PixPayment, PixRail, RailRefund, WhatsAppClient } from '../../providers/types.ts';
import type { Seed } from '../../sandbox/seed.ts';

/**
 * In-process stand-ins for the providers, built from the seed, for tests that
 * drive the guard thousands of times (the HTTP adapters have their own tests
 * against the wire formats). The Pix rail counts every refund call it gets.
 */
export function memoryRails(seed: Seed) {
  const customers: ErpCustomer[] = seed.customers.map((c) => ({
    code: c.code,
    name: c.name,
    taxId: c.cpf.replace(/\D/g, ''),
    phones: [phoneFromParts(c.ddd, c.number) as string],
  }));
  const orders: ErpOrder[] = seed.orders.map((o) => ({
    orderNumber: o.orderNumber,
    erpId: o.erpId,
    customerCode: o.customerCode,
    totalCents: o.totalCents,
    placedAt: o.placedAt,
    // Like Omie: no Pix id in the order; the pay-in is found on the rail.
    payment: { method: o.method },
    items: o.items.map((i) => ({ description: i.description, quantity: i.quantity, totalCents: i.unitCents * i.quantity })),
    cancelled: false,
    invoiceKey: o.invoiceKey,
  }));
  const payments = new Map<string, PixPayment>();
  for (const o of seed.orders) {
    if (!o.endToEndId || !o.documentId) continue;
    payments.set(o.endToEndId, {
      documentId: o.documentId,
      endToEndId: o.endToEndId,
      amountCents: o.totalCents,
      paidAt: o.placedAt,
      payerTaxId: (seed.customers.find((c) => c.code === o.customerCode)?.cpf ?? '').replace(/\D/g, '') || undefined,
      refunds: o.priorRefundsCents.map((amountCents, i) => ({ railRefundId: `prior-${o.orderNumber}-${i}`, amountCents, status: 'settled' as const })),
    });
  }
  const refundCalls: Array<{ documentId: string; amountCents: number; key: string }> = [];
  const erp: ErpClient = {
    async getOrder(n) {
      return orders.find((o) => o.orderNumber === n) ?? null;
    },
    async getCustomer(code) {
      return customers.find((c) => c.code === code) ?? null;
    },
    async findCustomerByPhone(phone) {
      return customers.find((c) => c.phones.some((p) => samePhone(p, phone))) ?? null;
    },
    async findCustomerByTaxId(taxId) {
      return customers.find((c) => c.taxId === taxId) ?? null;
    },
    async listOrders(code) {
      return orders.filter((o) => o.customerCode === code);
    },
  };
  const pix: PixRail = {
    name: 'trio',
    enforcesIdempotencyKey: false,
    async findPayment(e2e) {
      const p = payments.get(e2e);
      return p ? structuredClone(p) : null;
    },
    async findPayments(q) {
      return [...payments.values()]
        .filter((p) => p.amountCents === q.amountCents && p.paidAt >= q.from && p.paidAt <= q.to && (!q.payerTaxId || p.payerTaxId === q.payerTaxId))
        .map((p) => structuredClone(p));
    },
    async refund(request) {
      refundCalls.push({ documentId: request.payment.documentId, amountCents: request.amountCents, key: request.key });
      const p = [...payments.values()].find((x) => x.documentId === request.payment.documentId);
      if (!p) throw new Error('unknown document');
      const refund: RailRefund = { railRefundId: `mem-${refundCalls.length}`, amountCents: request.amountCents, status: 'created', key: request.key };
      p.refunds.push(refund);
      return refund;
    },
    async findRefund(payment, key) {
      return [...payments.values()].find((x) => x.documentId === payment.documentId)?.refunds.find((r) => r.key === key) ?? null;
    },
  };
  const fiscal: FiscalClient = {
    async issueCreditNote(r) {
      return { ref: r.ref, status: 'authorized', number: '1', accessKey: '3'.repeat(44) };
    },
    async getCreditNote() {
      return null;
    },
  };
  const whatsapp: WhatsAppClient = {
    async sendText() {
      return { messageId: 'M', zaapId: 'Z' };
    },
  };
  return { erp, pix, fiscal, whatsapp, refundCalls, payments };
}
