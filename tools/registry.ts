import type { Tool } from './tool.ts';
import { ledgerLookup } from './ledger_lookup.ts';
import { payRefund } from './pay_refund.ts';
import { invoiceCreditNote } from './invoice_credit_note.ts';
import { notifyCustomer } from './notify_customer.ts';

/** The model's tools (CONTRACT.md): these four, nothing else. Order is fixed so the prompt prefix stays byte-identical. */
export const TOOLS: readonly Tool[] = [ledgerLookup, payRefund, invoiceCreditNote, notifyCustomer] as unknown as readonly Tool[];

export function findTool(name: string): Tool | undefined {
  return TOOLS.find((t) => t.name === name);
}
