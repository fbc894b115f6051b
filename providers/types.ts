/**
 * What the tools need from the outside world, independent of any provider.
 * Each adapter in this folder implements one of these over one provider's real
 * wire format (PROVIDERS.md); the sandbox's emulators speak the same formats.
 * All money is integer cents; all timestamps are ISO 8601 strings (UTC).
 */

/** How the customer paid, as the ERP records it (NF-e `tPag` codes: 17 = Pix, 03 = credit card). */
export type PaymentMethod = 'pix' | 'credit_card' | 'debit_card' | 'boleto' | 'other';

/** A sales order as the ERP returns it. */
export interface ErpOrder {
  /** The human order number (Omie `numero_pedido`), what the customer types: "8421". */
  orderNumber: string;
  /** Omie's internal id (`codigo_pedido`). */
  erpId: number;
  /** Omie's client id (`codigo_cliente`). */
  customerCode: number;
  totalCents: number;
  /** When it was invoiced/placed (ISO date-time, UTC). */
  placedAt: string;
  payment: {
    method: PaymentMethod;
    /**
     * A Pix EndToEndId or txid the merchant's own integration stored in the
     * order (a configured field); Omie has no field of its own for it.
     */
    reference?: string;
  };
  items: Array<{ description: string; quantity: number; totalCents: number }>;
  cancelled: boolean;
  /** 44-digit access key of the sale's NF-e, when invoiced (for the devolução). */
  invoiceKey?: string;
  /** The sale's NF-e as the ERP has it (ConsultarNF), when invoiced. */
  invoice?: ErpInvoice;
}

/** One line of the sale's NF-e (Omie ConsultarNF `det[].prod`). */
export interface ErpInvoiceItem {
  code: string;
  description: string;
  ncm?: string;
  /** The sale's CFOP, e.g. "5102" (intrastate resale) or "6101". */
  cfop?: string;
  unit: string;
  quantity: number;
  /** Unit value as Omie sends it (reais, may have more than 2 decimals). */
  unitValue: number;
  totalCents: number;
  ean?: string;
}

export interface ErpInvoice {
  key: string;
  number?: string;
  series?: string;
  items: ErpInvoiceItem[];
}

/** A customer record of the ERP, normalised. */
export interface ErpCustomer {
  code: number;
  name: string;
  /** CPF or CNPJ, digits only. */
  taxId?: string;
  /** Normalised WhatsApp-style numbers (55 + DDD + number). */
  phones: string[];
  /** Registered address, as needed for an NF-e destinatário; fields Omie omitted are absent. */
  address?: {
    street?: string;
    number?: string;
    complement?: string;
    district?: string;
    city?: string;
    cityIbge?: string;
    uf?: string;
    cep?: string;
  };
  /** Inscrição estadual, when registered ("ISENTO" counts as none). */
  stateRegistration?: string;
  /** Omie `contribuinte` (S/N), when given. */
  icmsContributor?: boolean;
}

export interface ErpClient {
  /** The order by its human number; null when the ERP has no such order. */
  getOrder(orderNumber: string): Promise<ErpOrder | null>;
  getCustomer(code: number): Promise<ErpCustomer | null>;
  /** The customer whose registered phone matches (both 9th-digit spellings); null if none. */
  findCustomerByPhone(phone: string): Promise<ErpCustomer | null>;
  findCustomerByTaxId(taxId: string): Promise<ErpCustomer | null>;
  /** The customer's orders placed since `sinceIso`, newest first. */
  listOrders(customerCode: number, sinceIso: string): Promise<ErpOrder[]>;
  /** Drops every cached answer (the sandbox's reset: the ERP's world changed at once). */
  forget?(): void;
}

/** The original Pix pay-in as the payment rail records it. */
export interface PixPayment {
  /** Rail's document id (Trio collecting document id; the e2eid for API Pix). */
  documentId: string;
  endToEndId: string;
  amountCents: number;
  paidAt: string;
  /** Refunds the rail already knows about, ours included. */
  refunds: RailRefund[];
  /** The payer's CPF/CNPJ (digits), when the rail tells it. */
  payerTaxId?: string;
}

/** What we know of a pay-in before we know its id: amount, payer and a time window. */
export interface PaymentQuery {
  amountCents: number;
  /** CPF/CNPJ digits of the customer (from the ERP); candidates with another payer are dropped. */
  payerTaxId?: string;
  from: string;
  to: string;
}

export type RailRefundStatus = 'created' | 'settled' | 'failed';

export interface RailRefund {
  /** Rail's refund id, when it gave one. */
  railRefundId?: string;
  amountCents: number;
  status: RailRefundStatus;
  /** The refund's own EndToEndId (`D…`), once the rail has one. */
  endToEndId?: string;
  /** Free text; we put our idempotency key in it where the rail has no key field. */
  description?: string;
  /** Our idempotency key, when the rail stores one (API Pix `{id}`) or it was found in the description. */
  key?: string;
  failureReason?: string;
}

export interface RefundRequest {
  payment: PixPayment;
  amountCents: number;
  /** Idempotency key, `[A-Za-z0-9]{1,35}`, written to our database before the call. */
  key: string;
  /** Shown to the payer; ≤ 140 characters. */
  description: string;
}

export interface PixRail {
  readonly name: 'trio' | 'bcb';
  /**
   * True when the rail itself refuses a second refund under the same key (BCB's
   * `PUT …/devolucao/{id}`): only then may a refund whose outcome is unknown be
   * sent again. Trio documents no such key, so absence from its list proves nothing.
   */
  readonly enforcesIdempotencyKey: boolean;
  /** The original payment by its EndToEndId; null when the rail does not know it. */
  findPayment(endToEndId: string, paidAt: string): Promise<PixPayment | null>;
  /**
   * Pay-ins received in the window with exactly this amount, and (when the
   * rail tells the payer) paid by this CPF/CNPJ. The caller decides what one,
   * none or several candidates mean.
   */
  findPayments(query: PaymentQuery): Promise<PixPayment[]>;
  /** The pay-in of a charge by its txid, where the rail can search by it (API Pix `GET /pix?txid=`). */
  findPaymentByTxid?(txid: string, from: string, to: string): Promise<PixPayment[]>;
  /**
   * Asks for a refund to the original payer. Throws ProviderError; when
   * `outcomeUnknown` is true the refund may exist: reconcile with `findRefund`.
   */
  refund(request: RefundRequest): Promise<RailRefund>;
  /** Our refund as the rail knows it (by key), or null when it never arrived. */
  findRefund(payment: PixPayment, key: string): Promise<RailRefund | null>;
}

export type CreditNoteStatus = 'processing' | 'authorized' | 'rejected' | 'denied';

export interface CreditNote {
  /** Our reference (Focus `ref`), the idempotency key: one per refund. */
  ref: string;
  status: CreditNoteStatus;
  number?: string;
  series?: string;
  /** 44-digit access key of the NF-e de devolução, when authorized. */
  accessKey?: string;
  message?: string;
}

export interface CreditNoteRequest {
  ref: string;
  order: ErpOrder;
  customer: ErpCustomer;
  amountCents: number;
  reason: string;
}

export interface FiscalClient {
  /** Issues (or, for a ref already used, returns) the NF-e de devolução. Safe to call again with the same ref. */
  issueCreditNote(request: CreditNoteRequest): Promise<CreditNote>;
  getCreditNote(ref: string): Promise<CreditNote | null>;
}

export interface SentMessage {
  messageId: string;
  zaapId: string;
}

export interface WhatsAppClient {
  /** Queues one text (≤ 4096 characters) with Z-API send-text. */
  sendText(phone: string, message: string): Promise<SentMessage>;
}
