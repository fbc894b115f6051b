import { formatBRL } from '../../core/money.ts';

/**
 * The scripted model's policy: a small deterministic support agent that
 * decides from the request's messages alone (stateless, like the real API).
 * It understands Portuguese and English, and writes to customers in pt-BR.
 *
 * | last message                          | answer                                              |
 * |---------------------------------------|-----------------------------------------------------|
 * | customer text naming an order         | tool_use ledger_lookup {order_id}                   |
 * | customer confirms (sim / yes …)       | tool_use pay_refund with the last eligible lookup   |
 * | customer declines (não / no …)        | text: nothing will be refunded                       |
 * | greeting / complaint without a number | text: asks for the order number                     |
 * | thanks                                | text: you're welcome                                |
 * | "não sei o número do pedido"          | text: lists the recent orders from the context      |
 * | a CPF (not an order number)           | text: no CPF needed, asks for the order number      |
 * | asks for a person                     | tool_use notify_customer {template: "handoff"}      |
 * | a photo without words                 | text: thanks, asks which order it is about          |
 * | anything else (a question)            | tool_use notify_customer {template: "handoff"}      |
 *
 * Text after a tool_result in the last message (a customer writing after a
 * turn that ended at a template or a handoff) is read as the customer's new
 * words; staff messages and notes (labelled blocks) are never read as the
 * customer's. Customers writing English are answered in English.
 * | ledger_lookup result                  | text: summary + confirmation question, or why not   |
 * | pay_refund result                     | text: requested / pending approval / refused reason |
 * | notify_customer result                | end_turn with no text (the template spoke)          |
 */

export interface Block {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}
export interface Message {
  role: 'user' | 'assistant';
  content: string | Block[];
}
export interface PolicyRequest {
  messages: Message[];
  tools?: Array<{ name: string }>;
}
export interface PolicyResponse {
  content: Block[];
  stop_reason: 'end_turn' | 'tool_use';
}

type Json = Record<string, unknown>;

const blocks = (m: Message): Block[] => (typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content);
const norm = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
const text = (t: string): PolicyResponse => ({ content: [{ type: 'text', text: t }], stop_reason: 'end_turn' });

const NOT_KNOW = /(nao sei|nao lembro|esqueci|nao tenho) (o )?(numero|n[oº°])?|dont know|don't know|do not know|forgot the (order )?number/;
const THANKS = /^(obrigad[oa]|valeu|brigad[oa]|muito obrigad[oa]|thanks|thank you|thx)\b/;
const ASKS_PERSON = /\b(atendente|humano|falar com (alguem|uma pessoa)|pessoa de verdade|human|real person|talk to (someone|a person|an agent))\b/;
const CPF = /\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b/g;
const LABELLED = /^<(staff_message|staff_note|sent_to_customer)\b|^System context, not written by the customer|^\[no text reply/;

/** English when the customer's words are plainly English. */
function english(t: string): boolean {
  const n = norm(t);
  const en = (n.match(/\b(the|my|i|you|please|order|refund|money|back|hello|hi|thanks|thank|want|wrong|broken|came|yes|need|know|dont)\b/g) ?? []).length;
  const pt = (n.match(/\b(o|a|meu|minha|pedido|estorno|quero|obrigad[oa]|oi|ola|voce|nao|sim|veio|por|favor|de|um|uma|sei)\b/g) ?? []).length;
  return en > pt && en >= 1;
}

const YES = /^(sim|s|confirmo|confirmado|pode|pode sim|pode fazer|ok|okay|quero|isso|claro|yes|y|yep|confirm|go ahead|please do|do it)\b/;
const NO = /^(nao|n|cancela|cancelar|deixa|deixa pra la|no|nope|cancel|never ?mind|dont)\b/;

function resultJson(block: Block): Json {
  const raw = typeof block.content === 'string' ? block.content : Array.isArray(block.content) ? (block.content as Block[]).map((b) => b.text ?? '').join('') : '';
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return {};
  }
}

/** Pairs every tool_result with the tool_use it answers. */
function toolHistory(messages: Message[]): Array<{ name: string; input: Json; result: Json; isError: boolean }> {
  const uses = new Map<string, Block>();
  const out: Array<{ name: string; input: Json; result: Json; isError: boolean }> = [];
  for (const m of messages) {
    for (const b of blocks(m)) {
      if (b.type === 'tool_use' && b.id) uses.set(b.id, b);
      if (b.type === 'tool_result' && b.tool_use_id) {
        const use = uses.get(b.tool_use_id);
        out.push({ name: use?.name ?? '?', input: (use?.input ?? {}) as Json, result: resultJson(b), isError: b.is_error === true });
      }
    }
  }
  return out;
}

function orderNumberIn(t: string): string | null {
  const n = norm(t);
  const m = /(?:pedido|order|compra|#)\s*(?:n[o°º.]*\s*)?#?\s*(\d{3,10})/.exec(n) ?? /\b(\d{3,10})\b/.exec(n);
  return m?.[1] ?? null;
}

const dateBR = (iso: string) => new Intl.DateTimeFormat('pt-BR', { timeZone: 'America/Sao_Paulo' }).format(new Date(iso));

export function respond(request: PolicyRequest): PolicyResponse {
  const has = (name: string) => (request.tools ?? []).some((t) => t.name === name);
  const use = (name: string, input: Json): PolicyResponse =>
    has(name) ? { content: [{ type: 'tool_use', id: '', name, input }], stop_reason: 'tool_use' } : text('Vou pedir para uma pessoa da nossa equipe continuar o atendimento.');
  const last = request.messages.at(-1);
  if (!last || last.role !== 'user') return text('Olá! Como posso ajudar?');
  const lastBlocks = blocks(last);
  const lastResult = lastBlocks.map((b) => b.type).lastIndexOf('tool_result');
  // Words the customer wrote after the last tool_result (or the whole message when there is none).
  const newWords = lastBlocks.slice(lastResult + 1).filter((b) => b.type === 'text' && !isContext(b.text) && !LABELLED.test(b.text ?? ''));
  const history = toolHistory(request.messages);

  if (lastResult >= 0 && newWords.length === 0) {
    const done = history.at(-1);
    if (!done) return text('Certo.');
    return afterTool(done, use, lang(request.messages));
  }

  // A photo with no words of the customer's: thank them and ask for the order it is about.
  const photo = lastBlocks.slice(lastResult + 1).some((b) => b.type === 'image');
  const said = newWords.map((b) => b.text ?? '').filter((t) => !/^\[imagem enviada pelo cliente/.test(t)).join('\n');
  if (photo && !said.trim()) {
    return text(lang(request.messages) === 'en' ? 'Thanks for the photo! Which order is it about? Please send the order number.' : 'Agradeço pela foto! De qual pedido se trata? Me envie o número do pedido, por favor.');
  }
  const en = english(said);
  const t = (pt: string, eng: string) => text(en ? eng : pt);
  const n = norm(said);
  const known = contextOrders(request.messages);
  // A CPF is not an order number.
  const withoutCpf = said.replace(CPF, ' ');
  const cpfGiven = withoutCpf !== said;
  const order = orderNumberIn(withoutCpf);
  const refunded = refundedOrders(history);
  if (order) {
    if (refunded.has(order)) return alreadyRefunded(order, refunded.get(order) as number, en);
    // Already verified in the context: no lookup round trip needed.
    const described = known.get(order);
    if (described) return afterTool({ name: 'ledger_lookup', input: { order_id: order }, result: described, isError: false }, use, en ? 'en' : 'pt');
    return use('ledger_lookup', { order_id: order });
  }
  if (cpfGiven) return t('Agradeço! Não preciso do seu CPF: este número de WhatsApp já identifica você. Qual é o número do pedido?', "Thanks! I don't need your CPF: this WhatsApp number already identifies you. What is the order number?");
  if (NOT_KNOW.test(n)) return recentOrdersAnswer(known, refunded, en);
  if (ASKS_PERSON.test(n)) return use('notify_customer', { template: 'handoff' });
  if (YES.test(n)) {
    const lookups = verifiedOrders(known, history);
    // The order the assistant last offered to refund ("… #8421 … Confirma?").
    const offered = lastOffer(request.messages);
    if (offered && refunded.has(offered)) return alreadyRefunded(offered, refunded.get(offered) as number, en);
    const eligible = offered ? lookups.get(offered) : undefined;
    if (eligible && eligible.ineligible_reason === 'fully_refunded') return alreadyRefunded(String(eligible.order_id), null, en);
    if (!eligible || eligible.refund_eligible !== true) return t('Claro! Para eu verificar, qual é o número do seu pedido?', 'Sure! To check it, what is your order number?');
    const payment = (eligible.payment ?? {}) as Json;
    return use('pay_refund', { order_id: String(eligible.order_id), amount_cents: Number(payment.refundable_cents), reason: `Cliente relatou: ${complaintAbout(request.messages, String(eligible.order_id))}`.slice(0, 200) });
  }
  if (THANKS.test(n)) return t('Por nada! Se precisar de mais alguma coisa, é só chamar. 😊', "You're welcome! If you need anything else, just write here.");
  if (NO.test(n)) return t('Tudo bem, não vou fazer nenhum estorno. Se precisar de algo mais, é só chamar!', "All right, I won't refund anything. If you need anything else, just write here!");
  if (/(estorno|reembolso|devolu|dinheiro de volta|refund|money back|errado|quebrad|defeito|wrong|broken)/.test(n)) {
    // More words about the order already on the table (the customer wrote "o pedido 8421", then
    // "veio errado" while the offer was being written): a model keeps to that order, it does not ask again.
    const offered = lastOffer(request.messages);
    const described = offered && !refunded.has(offered) ? verifiedOrders(known, history).get(offered) : undefined;
    if (described) return afterTool({ name: 'ledger_lookup', input: { order_id: offered }, result: described, isError: false }, use, en ? 'en' : 'pt');
    return t('Sinto muito pelo problema! Pode me informar o número do pedido para eu verificar?', "I'm sorry about that! Could you tell me the order number so I can check it?");
  }
  if (/\b(oi|ola|bom dia|boa tarde|boa noite|hello|hi|hey|e ai|opa)\b/.test(n)) {
    return t('Olá! Sou o assistente da loja. Posso ajudar com estornos de pedidos: me diga o número do pedido e o que aconteceu.', "Hello! I'm the store's assistant. I can help with refunds: tell me the order number and what happened.");
  }
  return use('notify_customer', { template: 'handoff' });
}

/** Orders this conversation already refunded (a successful pay_refund), with the amount. */
function refundedOrders(history: Array<{ name: string; input: Json; isError: boolean }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const h of history) if (h.name === 'pay_refund' && !h.isError) out.set(String(h.input.order_id).replace(/^#/, ''), Number(h.input.amount_cents));
  return out;
}

function alreadyRefunded(order: string, amountCents: number | null, en: boolean): PolicyResponse {
  const amount = amountCents !== null && Number.isSafeInteger(amountCents) && amountCents > 0 ? formatBRL(amountCents) : null;
  return en
    ? text(`The refund${amount ? ` of ${amount}` : ''} for order #${order} has already been made; there is nothing left to refund on it. Can I help with anything else?`)
    : text(`O estorno${amount ? ` de ${amount}` : ''} do pedido #${order} já foi feito; não há mais nada a estornar nele. Posso ajudar com mais alguma coisa?`);
}

/** "Não sei o número": the recent orders from the context, so the customer can pick one. */
function recentOrdersAnswer(known: Map<string, Json>, refunded: Map<string, number>, en: boolean): PolicyResponse {
  const rows = [...known.values()].map((o) => {
    const p = (o.payment ?? {}) as Json;
    const paid = Number(p.amount_cents ?? o.total_cents);
    const state = refunded.has(String(o.order_id)) || o.ineligible_reason === 'fully_refunded' ? (en ? ' (already refunded)' : ' (já estornado)') : '';
    const date = p.paid_at ? dateBR(String(p.paid_at)) : o.placed_at ? dateBR(String(o.placed_at)) : '';
    return `#${String(o.order_id)}${date ? ` de ${date}` : ''}${Number.isSafeInteger(paid) && paid > 0 ? `, ${formatBRL(paid)}` : ''}${state}`;
  });
  if (rows.length === 0) {
    return text(en ? 'No problem! The order number is in the confirmation e-mail. Could you check it and send it here?' : 'Sem problema! O número do pedido está no e-mail de confirmação da compra. Pode conferir e me enviar?');
  }
  return text(en ? `No problem! These are your recent orders:\n${rows.join('\n')}\nWhich one is it?` : `Sem problema! Estes são os seus pedidos recentes:\n${rows.join('\n')}\nQual deles é?`);
}

/** The conversation's language, from the customer's last words. */
function lang(messages: Message[]): 'pt' | 'en' {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Message;
    if (m.role !== 'user') continue;
    const words = blocks(m).filter((b) => b.type === 'text' && !isContext(b.text) && !LABELLED.test(b.text ?? '')).map((b) => b.text ?? '').join(' ');
    if (words.trim()) return english(words) ? 'en' : 'pt';
  }
  return 'pt';
}

const CONTEXT = /<customer_context>([\s\S]*)<\/customer_context>/;
const isContext = (t: string | undefined) => typeof t === 'string' && CONTEXT.test(t);

/** Orders the service placed in the conversation's context, by number. */
function contextOrders(messages: Message[]): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const m of messages) {
    if (m.role !== 'user') continue;
    for (const b of blocks(m)) {
      const match = b.type === 'text' && b.text ? CONTEXT.exec(b.text) : null;
      if (!match) continue;
      try {
        for (const o of ((JSON.parse(match[1] as string) as Json).recent_orders ?? []) as Json[]) out.set(String(o.order_id), o);
      } catch {
        // not ours: ignore
      }
    }
  }
  return out;
}

/** The order number in the assistant's last confirmation question. */
/** Orders verified so far: those in the context, then those the ledger lookups found. */
function verifiedOrders(known: Map<string, Json>, history: ReturnType<typeof toolHistory>): Map<string, Json> {
  const lookups = new Map(known);
  for (const h of history) if (h.name === 'ledger_lookup' && h.result.found === true) lookups.set(String(h.result.order_id), h.result);
  return lookups;
}

function lastOffer(messages: Message[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Message;
    if (m.role !== 'assistant') continue;
    const t = blocks(m).filter((b) => b.type === 'text').map((b) => b.text ?? '').join(' ');
    const match = /#(\d+)[\s\S]*(Confirma|confirm)\?/.exec(t);
    if (match) return match[1] as string;
  }
  return null;
}

/** The customer's latest words about this order (else their first words). */
function complaintAbout(messages: Message[], orderId: string): string {
  const texts = messages
    .filter((m) => m.role === 'user')
    .map((m) => blocks(m).filter((b) => b.type === 'text' && !isContext(b.text) && !LABELLED.test(b.text ?? '')).map((b) => b.text ?? '').join(' ').trim())
    .filter(Boolean);
  return [...texts].reverse().find((t) => t.includes(orderId)) ?? texts[0] ?? 'problema com o pedido';
}

function afterTool(done: { name: string; input: Json; result: Json; isError: boolean }, use: (name: string, input: Json) => PolicyResponse, language: 'pt' | 'en' = 'pt'): PolicyResponse {
  const r = done.result;
  const en = language === 'en';
  switch (done.name) {
    case 'ledger_lookup': {
      if (done.isError && r.reason === 'identity_required') return text('Para sua segurança, preciso confirmar sua identidade. Pode me enviar o CPF usado na compra?');
      if (done.isError) return use('notify_customer', { template: 'handoff' });
      if (r.found !== true && en) return text(`I could not find order #${String(done.input.order_id ?? '').replace(/^#/, '')} for this number. Could you check the order number?`);
      if (r.found !== true) return text(`Não encontrei o pedido #${String(done.input.order_id ?? '').replace(/^#/, '')} vinculado a este número. Pode conferir o número do pedido?`);
      const payment = (r.payment ?? {}) as Json;
      const items = ((r.items ?? []) as Json[]).map((i) => `${String(i.quantity)}x ${String(i.description)}`).join(', ');
      if (r.refund_eligible === true) {
        const refundable = Number(payment.refundable_cents);
        const paid = Number(payment.amount_cents);
        const partial = refundable < paid ? ` (já houve estorno de ${formatBRL(paid - refundable)}; restam ${formatBRL(refundable)})` : '';
        if (en) {
          return text(
            `I found your order #${String(r.order_id)}: ${items}, paid by Pix on ${dateBR(String(payment.paid_at))}, ${formatBRL(paid)}${refundable < paid ? ` (${formatBRL(refundable)} left to refund)` : ''}.\n` +
              `I can refund ${formatBRL(refundable)} to the account that paid. Do you confirm? (yes/no)`,
          );
        }
        return text(
          `Encontrei seu pedido #${String(r.order_id)}: ${items}, pago via Pix em ${dateBR(String(payment.paid_at))}, no valor de ${formatBRL(paid)}${partial}.\n` +
            `Posso fazer o estorno de ${formatBRL(refundable)} para a mesma conta que fez o Pix. Confirma? (sim/não)`,
        );
      }
      switch (r.ineligible_reason) {
        case 'unsupported_rail':
          return use('notify_customer', { template: 'handoff' });
        case 'outside_refund_window':
          // The handoff itself tells the customer why and what happens next.
          return use('notify_customer', { template: 'handoff' });
        case 'fully_refunded':
          return alreadyRefunded(String(r.order_id), null, en);
        default:
          return text(`Não consigo fazer o estorno automático do pedido #${String(r.order_id)}. Uma pessoa da nossa equipe vai te ajudar.`);
      }
    }
    case 'pay_refund': {
      const amount = Number(done.input.amount_cents);
      const value = Number.isSafeInteger(amount) && amount > 0 ? formatBRL(amount) : 'o valor';
      if (!done.isError && en) return text(`Done! I requested the refund of ${value} by Pix to the account that paid. You will get the confirmation with the receipt shortly.`);
      if (!done.isError) {
        return text(`Pronto! Solicitei o estorno de ${value} via Pix para a conta que fez o pagamento. Você vai receber a confirmação com o comprovante em instantes.`);
      }
      const approval = r.approval as Json | undefined;
      if (approval?.status === 'pending' && en) return text(`The refund of ${value} needs our team's approval. I have sent the request and we will let you know as soon as it is reviewed.`);
      if (approval?.status === 'pending') return text(`O estorno de ${value} precisa da aprovação da nossa equipe. Já enviei o pedido e avisaremos você assim que ele for analisado.`);
      const reasons: Record<string, string> = {
        exceeds_refundable: 'o valor é maior do que o que ainda pode ser estornado neste pedido.',
        order_not_found: 'não encontrei esse pedido vinculado a este número.',
        unsupported_rail: 'esse pedido não foi pago via Pix; uma pessoa da equipe vai te ajudar.',
        // The window is the configured one (pay_refund says it), never a number written here.
        outside_refund_window: Number(r.refund_window_days) > 0 ? `o prazo de ${Number(r.refund_window_days)} dias do Pix para devolução já passou.` : 'o prazo do Pix para devolução já passou.',
        provider_unavailable: 'nossos sistemas estão instáveis agora. Tentaremos novamente em instantes.',
      };
      return text(`Não consegui fazer o estorno: ${reasons[String(r.reason)] ?? 'no momento não é possível fazê-lo automaticamente. Uma pessoa da equipe vai acompanhar o seu caso.'}`);
    }
    case 'notify_customer':
      return { content: [], stop_reason: 'end_turn' };
    case 'invoice_credit_note':
      return text(done.isError ? 'A nota fiscal de devolução sai assim que o estorno for concluído.' : `A nota fiscal de devolução é a nº ${String(r.number ?? '')}.`);
    default:
      return text('Certo.');
  }
}
