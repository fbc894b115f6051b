import { formatBRL } from '../core/money.ts';

/**
 * The customer-facing messages the service sends on its own (not written by
 * the model), in Brazilian Portuguese. `notify_customer` exposes three of them
 * to the model by name (CONTRACT.md).
 */

/** The public receipt page of a case (server/receipt-page.ts serves it). */
export const receiptUrl = (publicBaseUrl: string, receiptId: string): string => `${publicBaseUrl}/r/${receiptId}`;

export const TEMPLATE_NAMES = ['refund_done', 'refund_pending', 'handoff'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export const templates = {
  /** The last message of a case: the customer's receipt link (GET /r/:id) and the credit note they can look up at SEFAZ. */
  refund_done: (p: {
    amountCents: number;
    orderNumber: string;
    receiptId: string;
    publicBaseUrl: string;
    creditNoteNumber: string | null;
    creditNoteSeries?: string | null;
    creditNoteAccessKey?: string | null;
  }) =>
    `✅ Seu estorno de ${formatBRL(p.amountCents)} referente ao pedido #${p.orderNumber} foi concluído via Pix, na mesma conta que fez o pagamento.\n` +
    (p.creditNoteNumber ? `Nota fiscal de devolução: nº ${p.creditNoteNumber}${p.creditNoteSeries ? `, série ${p.creditNoteSeries}` : ''}.\n` : '') +
    (p.creditNoteAccessKey ? `Chave de acesso: ${p.creditNoteAccessKey}\n` : '') +
    `Comprovante: ${receiptUrl(p.publicBaseUrl, p.receiptId)}`,
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
  approval_expired: (p: { amountCents: number; orderNumber: string }) =>
    `O pedido de estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber} não foi analisado pela nossa equipe a tempo.`,
  approval_failed: (p: { amountCents: number; orderNumber: string }) =>
    `Nossa equipe aprovou o estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber}, mas ele não pôde ser executado agora. Uma pessoa da equipe continua com você por aqui para resolver.`,
  ask_cpf: () =>
    'Para sua segurança, preciso confirmar que você é a pessoa titular do pedido. Por favor, informe o CPF usado na compra (somente números).',
  identity_code_sent: () =>
    'Se esse CPF tiver cadastro conosco, acabamos de enviar um código de 6 dígitos para o número de WhatsApp que consta no cadastro. Digite o código aqui para continuar.',
  identity_code: (p: { code: string }) =>
    `Seu código de verificação é ${p.code}. Ele foi pedido em outra conversa do WhatsApp para acessar seus pedidos. Se não foi você, ignore esta mensagem e não compartilhe o código com ninguém.`,
  identity_code_wrong: () => 'Esse código não confere. Confira a mensagem que enviamos e digite o código novamente.',
  identity_locked: () =>
    'Por segurança, pausamos a identificação por esta conversa depois de várias tentativas.',
  refund_requested_elsewhere: (p: { amountCents: number; orderNumber: string }) =>
    `Aviso de segurança: um estorno de ${formatBRL(p.amountCents)} do pedido #${p.orderNumber} foi solicitado por outra conversa do WhatsApp, confirmada com o código enviado a este número. Se não foi você, responda esta mensagem e nossa equipe verifica.`,
  cpf_not_found: () => 'Não encontrei um cadastro com esse CPF. Confira os números e envie novamente, por favor.',
  // Said once per turn while the model is down; it blames nothing the customer did or owns.
  unavailable: () =>
    'Nosso atendimento automático está com uma instabilidade agora. Sua mensagem está registrada e respondemos assim que ele voltar.',
  credit_note_failed: (p: { amountCents: number; orderNumber: string }) =>
    `✅ Seu estorno de ${formatBRL(p.amountCents)} referente ao pedido #${p.orderNumber} foi concluído via Pix, na mesma conta que fez o pagamento.\n` +
    'A nota fiscal de devolução não foi autorizada pela Secretaria da Fazenda. Uma pessoa da nossa equipe já está cuidando disso e vai enviar a nota para você.',
  unavailable_en: () =>
    'Our automated support is having trouble right now. Your message is saved and we will answer as soon as it is back.',
  media_received: (kind: string) => `Recebi seu ${kind}.`,
  media_received_en: (kind: string) => `I received your ${kind}.`,
} as const;
