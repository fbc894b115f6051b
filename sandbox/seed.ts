import { nfeAccessKey } from './nfe-key.ts';

/**
 * The sandbox's world (CONTRACT.md "Seed data"), built relative to `now` so that
 * "yesterday" stays yesterday. Amounts are cents; each emulator renders them in
 * its provider's own format (Omie: reais as JSON numbers; Trio: cents).
 */

export const MERCHANT_CNPJ = '12345678000195';
export const TRIO_VIRTUAL_ACCOUNT_ID = '018f9cb0-0000-7000-8000-00000000e570';
export const DAY_MS = 86_400_000;

export interface SeedCustomer {
  code: number;
  integrationCode: string;
  name: string;
  cpf: string; // formatted, as Omie often returns it
  /** Registered address (Omie `endereco`, `cidade`, `estado`, `cep`…), needed on an NF-e. */
  address: { street: string; number: string; district: string; city: string; cityIbge: string; uf: string; cep: string };
  ddd: string;
  number: string; // with a dash, as Omie often stores it
  whatsapp: string; // what Z-API sends
}

export interface SeedOrder {
  orderNumber: string;
  erpId: number;
  customerCode: number;
  totalCents: number;
  placedAt: string;
  method: 'pix' | 'credit_card';
  /**
   * The pay-in on the rail (Trio collecting document), for Pix orders. The
   * Omie order itself carries no Pix id, as on a real Omie account: the
   * adapters find the pay-in by amount, payer CPF and time.
   */
  endToEndId?: string;
  documentId?: string;
  /** Trio counterparty id of the payer (its `tax_number` is the buyer's CPF). */
  counterpartyId?: string;
  /** Refunds made before the sandbox starts (outside Estorno). */
  priorRefundsCents: number[];
  items: Array<{ sku: string; description: string; quantity: number; unitCents: number; ncm: string }>;
  invoiceNumber: number;
  invoiceKey: string;
  note: string;
}

export interface Seed {
  customers: SeedCustomer[];
  orders: SeedOrder[];
}

export const MARINA: SeedCustomer = {
  code: 5366578001,
  integrationCode: 'CLI-0001',
  name: 'Marina Souza',
  cpf: '529.982.247-25',
  ddd: '11',
  number: '98765-4321',
  whatsapp: '5511987654321',
  address: { street: 'Rua das Acácias', number: '120', district: 'Vila Mariana', city: 'São Paulo', cityIbge: '3550308', uf: 'SP', cep: '04101-000' },
};

export const JOAO: SeedCustomer = {
  code: 5366578002,
  integrationCode: 'CLI-0002',
  name: 'João Pereira',
  cpf: '111.444.777-35',
  ddd: '21',
  number: '91234-5678',
  whatsapp: '5521912345678',
  address: { street: 'Rua Voluntários da Pátria', number: '45', district: 'Botafogo', city: 'Rio de Janeiro', cityIbge: '3304557', uf: 'RJ', cep: '22270-000' },
};

/** A valid CPF (check digits per the Receita algorithm) from a 9-digit base. */
export function cpfFromBase(base9: string): string {
  const d = base9.padStart(9, '0').slice(-9).split('').map(Number);
  const dv = (digits: number[]) => {
    const sum = digits.reduce((s, n, i) => s + n * (digits.length + 1 - i), 0);
    const r = sum % 11;
    return r < 2 ? 0 : 11 - r;
  };
  d.push(dv(d));
  d.push(dv(d));
  const t = d.join('');
  return `${t.slice(0, 3)}.${t.slice(3, 6)}.${t.slice(6, 9)}-${t.slice(9)}`;
}

/** A deterministic Pix EndToEndId: E + ISPB(8) + yyyyMMddHHmm (UTC) + 11 alphanumerics. */
export function endToEndId(prefix: 'E' | 'D', ispb: string, at: Date, suffix: string): string {
  const stamp = at.toISOString().replace(/[-T:]/g, '').slice(0, 12);
  return `${prefix}${ispb}${stamp}${suffix.padEnd(11, '0').slice(0, 11)}`;
}

/**
 * `extra` more customers, each with one Pix order paid yesterday — for the
 * crash test and the benchmarks, which drive many conversations at once.
 * Customer i: WhatsApp 55119700000NN…, order 7NNNN, R$ 50,00 + i cents.
 */
export function extraCustomer(i: number): { customer: SeedCustomer; orderNumber: string; totalCents: number } {
  const number = String(70_000_000 + i).padStart(8, '0');
  return {
    customer: {
      code: 6000000000 + i,
      integrationCode: `CLI-X${i}`,
      name: `Cliente ${i}`,
      cpf: cpfFromBase(String(300_000_000 + i)),
      ddd: '11',
      number: `9${number.slice(0, 4)}-${number.slice(4)}`,
      whatsapp: `55119${number}`,
      address: MARINA.address,
    },
    orderNumber: String(70_000 + i),
    totalCents: 5_000 + i,
  };
}

export function buildSeed(now: Date = new Date(), extra = 0): Seed {
  const daysAgo = (n: number) => new Date(now.getTime() - n * DAY_MS);
  const order = (
    orderNumber: string,
    customer: SeedCustomer,
    totalCents: number,
    paid: Date,
    method: 'pix' | 'credit_card',
    items: SeedOrder['items'],
    note: string,
    priorRefundsCents: number[] = [],
  ): SeedOrder => {
    const n = Number(orderNumber);
    const yymm = paid.toISOString().slice(2, 4) + paid.toISOString().slice(5, 7);
    return {
      orderNumber,
      erpId: 9178000000 + n,
      customerCode: customer.code,
      totalCents,
      placedAt: paid.toISOString(),
      method,
      ...(method === 'pix'
        ? {
            endToEndId: endToEndId('E', '18236120', paid, `sbx${orderNumber}pay`),
            documentId: `018f9cb0-8d11-72dd-bb14-00000000${orderNumber}`,
            counterpartyId: `018f9cb0-8d11-7c91-c62b-${String(customer.code).padStart(12, '0').slice(-12)}`,
          }
        : {}),
      priorRefundsCents,
      items,
      invoiceNumber: 10000 + n,
      invoiceKey: nfeAccessKey({ uf: '35', yymm, cnpj: MERCHANT_CNPJ, series: 1, number: 10000 + n, code: 10000000 + n }),
      note,
    };
  };
  const extras = Array.from({ length: Math.max(0, Math.min(extra, 20_000)) }, (_, i) => extraCustomer(i));
  return {
    customers: [MARINA, JOAO, ...extras.map((x) => x.customer)],
    orders: [
      ...extras.map((x) => order(x.orderNumber, x.customer, x.totalCents, daysAgo(1), 'pix', [{ sku: 'KIT', description: 'Kit presente', quantity: 1, unitCents: x.totalCents, ncm: '95030099' }], 'extra customer')),
      order('8421', MARINA, 18600, daysAgo(1), 'pix',
        [{ sku: 'CAM-AZ-M', description: 'Camiseta algodão azul M', quantity: 2, unitCents: 9300, ncm: '61091000' }], 'the happy path'),
      order('8422', MARINA, 240000, daysAgo(3), 'pix',
        [{ sku: 'CAD-ERG', description: 'Cadeira ergonômica', quantity: 1, unitCents: 240000, ncm: '94013000' }], 'above the per-refund cap'),
      order('8423', MARINA, 32000, daysAgo(4), 'credit_card',
        [{ sku: 'TEN-CORR-38', description: 'Tênis de corrida 38', quantity: 1, unitCents: 32000, ncm: '64041100' }], 'no card rail'),
      order('8424', MARINA, 15000, daysAgo(5), 'pix',
        [{ sku: 'KIT-TOA', description: 'Kit de toalhas', quantity: 3, unitCents: 5000, ncm: '63026000' }], 'R$ 50,00 already refunded', [5000]),
      order('8425', MARINA, 9000, daysAgo(120), 'pix',
        [{ sku: 'CAN-TER', description: 'Caneca térmica', quantity: 1, unitCents: 9000, ncm: '96170010' }], 'outside the Pix refund window'),
      order('9001', JOAO, 7550, daysAgo(2), 'pix',
        [{ sku: 'LIV-RCT', description: 'Livro de receitas', quantity: 1, unitCents: 7550, ncm: '49019900' }], "another customer's order"),
    ],
  };
}
