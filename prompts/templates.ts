import { formatBRL } from '../core/money.ts';

/**
 * The customer-facing messages the service sends on its own (not written by
 * the model), in Brazilian Portuguese. `notify_customer` exposes three of them
 * to the model by name (CONTRACT.md).
 */

export const TEMPLATE_NAMES = ['refund_done', 'refund_pending', 'handoff'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export const templates = {
  refund_done: (p: { amountCents: number; orderNumber: string; receiptId: string; creditNoteNumber: string | null }) =>
    `✅ Seu estorno de ${formatBRL(p.amountCents)} referente ao pedido #${p.orderNumber} foi concluído via Pix, na mesma conta que fez o pagamento.\n` +
    (p.creditNoteNumber ? `Nota fiscal de devolução: nº ${p.creditNoteNumber}.\n` : '') +
    `Comprovante: ${p.receiptId}`,
  refund_pending: (p: { amountCents: number; orderNumber: string }) =>
    `⏳ Seu estorno de ${formatBRL(p.amountCents)} referente ao pedido #${p.orderNumber} está em processamento. Avisaremos assim que for concluído.`,
  handoff: () => 'Vou transferir seu atendimento para uma pessoa da nossa equipe. Em breve alguém continua por aqui. 🙋',
  refund_failed: (p: { amountCents: number; orderNumber: string }) =>
    `Não conseguimos concluir o estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber}. Uma pessoa da nossa equipe vai falar com você em breve.`,
  approval_approved: (p: { amountCents: number; orderNumber: string }) =>
    `Boa notícia: nossa equipe aprovou o estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber}. Ele já está sendo processado via Pix.`,
  approval_rejected: (p: { amountCents: number; orderNumber: string; reason: string }) =>
    `Nossa equipe analisou o pedido de estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber} e não pôde aprová-lo: ${p.reason}`,
  ask_cpf: () =>
    'Para sua segurança, não consegui identificar seu número. Por favor, informe o CPF usado na compra (somente números).',
  cpf_not_found: () => 'Não encontrei um cadastro com esse CPF. Confira os números e envie novamente, por favor.',
  unavailable: () =>
    'Estamos com uma instabilidade para consultar seu pedido agora. Já registramos sua mensagem e voltamos a falar com você em instantes.',
  credit_note_failed: (p: { amountCents: number; orderNumber: string }) =>
    `✅ Seu estorno de ${formatBRL(p.amountCents)} referente ao pedido #${p.orderNumber} foi concluído via Pix, na mesma conta que fez o pagamento.\n` +
    'A nota fiscal de devolução não foi autorizada pela Secretaria da Fazenda. Uma pessoa da nossa equipe já está cuidando disso e vai enviar a nota para você.',
} as const;
