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
  // No promise here: the handoff that follows (reason job_failed) says who continues, and when.
  refund_failed: (p: { amountCents: number; orderNumber: string }) =>
    `Não conseguimos concluir o estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber}.`,
  approval_approved: (p: { amountCents: number; orderNumber: string }) =>
    `Boa notícia: nossa equipe aprovou o estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber}. Ele já está sendo processado via Pix.`,
  // The staff's internal reason never reaches the customer: only a message staff wrote for them, if any.
  approval_rejected: (p: { amountCents: number; orderNumber: string; customerMessage?: string | null }) =>
    `Nossa equipe analisou o pedido de estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber} e não pôde aprová-lo.` +
    (p.customerMessage ? `\n${p.customerMessage}` : '\nSe tiver alguma dúvida, é só responder por aqui.'),
  ask_cpf: () =>
    'Para sua segurança, não consegui identificar seu número. Por favor, informe o CPF usado na compra (somente números).',
  cpf_not_found: () => 'Não encontrei um cadastro com esse CPF. Confira os números e envie novamente, por favor.',
  // Said once per turn while the model is down; it blames nothing the customer did or owns.
  unavailable: () =>
    'Nosso atendimento automático está com uma instabilidade agora. Sua mensagem está registrada e respondemos assim que ele voltar.',
  unavailable_en: () =>
    'Our automated support is having trouble right now. Your message is saved and we will answer as soon as it is back.',
  media_received: (kind: string) => `Recebi seu ${kind}.`,
  media_received_en: (kind: string) => `I received your ${kind}.`,
} as const;
