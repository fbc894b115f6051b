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
 * | anything else (a question)            | tool_use notify_customer {template: "handoff"}      |
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
  const results = lastBlocks.filter((b) => b.type === 'tool_result');
  const history = toolHistory(request.messages);

  if (results.length > 0) {
    const done = history.at(-1);
    if (!done) return text('Certo.');
    return afterTool(done, use);
  }

  const said = lastBlocks.filter((b) => b.type === 'text' && !isContext(b.text)).map((b) => b.text ?? '').join('\n');
  const n = norm(said);
  const known = contextOrders(request.messages);
  const order = orderNumberIn(said);
  if (order) {
    // Already verified in the first turn's context: no lookup round trip needed.
    const described = known.get(order);
    if (described) return afterTool({ name: 'ledger_lookup', input: { order_id: order }, result: described, isError: false }, use);
    return use('ledger_lookup', { order_id: order });
  }
  if (YES.test(n)) {
    const refunded = new Set(history.filter((h) => h.name === 'pay_refund' && !h.isError).map((h) => String(h.input.order_id)));
    const lookups = new Map(known);
    for (const h of history) if (h.name === 'ledger_lookup' && h.result.found === true) lookups.set(String(h.result.order_id), h.result);
    // The order the assistant last offered to refund ("… #8421 … Confirma?").
    const offered = lastOffer(request.messages);
    const eligible = offered ? lookups.get(offered) : undefined;
    if (!eligible || eligible.refund_eligible !== true || refunded.has(String(eligible.order_id))) return text('Claro! Para eu verificar, qual é o número do seu pedido?');
    const payment = (eligible.payment ?? {}) as Json;
    return use('pay_refund', { order_id: String(eligible.order_id), amount_cents: Number(payment.refundable_cents), reason: `Cliente relatou: ${complaintAbout(request.messages, String(eligible.order_id))}`.slice(0, 200) });
  }
  if (NO.test(n)) return text('Tudo bem, não vou fazer nenhum estorno. Se precisar de algo mais, é só chamar!');
  if (/\b(oi|ola|bom dia|boa tarde|boa noite|hello|hi|hey)\b/.test(n) || /(estorno|reembolso|devolu|dinheiro de volta|refund|money back|errado|quebrad|defeito|wrong|broken)/.test(n)) {
    return text('Sinto muito pelo problema! Pode me informar o número do pedido para eu verificar?');
  }
  return use('notify_customer', { template: 'handoff' });
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
function lastOffer(messages: Message[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Message;
    if (m.role !== 'assistant') continue;
    const t = blocks(m).filter((b) => b.type === 'text').map((b) => b.text ?? '').join(' ');
    const match = /#(\d+)[\s\S]*Confirma\?/.exec(t);
    if (match) return match[1] as string;
  }
  return null;
}

/** The customer's latest words about this order (else their first words). */
function complaintAbout(messages: Message[], orderId: string): string {
  const texts = messages
    .filter((m) => m.role === 'user')
    .map((m) => blocks(m).filter((b) => b.type === 'text' && !isContext(b.text)).map((b) => b.text ?? '').join(' ').trim())
    .filter(Boolean);
  return [...texts].reverse().find((t) => t.includes(orderId)) ?? texts[0] ?? 'problema com o pedido';
}

function afterTool(done: { name: string; input: Json; result: Json; isError: boolean }, use: (name: string, input: Json) => PolicyResponse): PolicyResponse {
  const r = done.result;
  switch (done.name) {
    case 'ledger_lookup': {
      if (done.isError && r.reason === 'identity_required') return text('Para sua segurança, preciso confirmar sua identidade. Pode me enviar o CPF usado na compra?');
      if (done.isError) return use('notify_customer', { template: 'handoff' });
      if (r.found !== true) return text(`Não encontrei o pedido #${String(done.input.order_id ?? '').replace(/^#/, '')} vinculado a este número. Pode conferir o número do pedido?`);
      const payment = (r.payment ?? {}) as Json;
      const items = ((r.items ?? []) as Json[]).map((i) => `${String(i.quantity)}x ${String(i.description)}`).join(', ');
      if (r.refund_eligible === true) {
        const refundable = Number(payment.refundable_cents);
        const paid = Number(payment.amount_cents);
        const partial = refundable < paid ? ` (já houve estorno de ${formatBRL(paid - refundable)}; restam ${formatBRL(refundable)})` : '';
        return text(
          `Encontrei seu pedido #${String(r.order_id)}: ${items}, pago via Pix em ${dateBR(String(payment.paid_at))}, no valor de ${formatBRL(paid)}${partial}.\n` +
            `Posso fazer o estorno de ${formatBRL(refundable)} para a mesma conta que fez o Pix. Confirma? (sim/não)`,
        );
      }
      switch (r.ineligible_reason) {
        case 'unsupported_rail':
          return use('notify_customer', { template: 'handoff' });
        case 'outside_refund_window':
          return text(`O pedido #${String(r.order_id)} foi pago há mais de 90 dias, e o prazo do Pix para devolução já passou. Vou pedir para uma pessoa da equipe avaliar o seu caso.`);
        case 'fully_refunded':
          return text(`O pedido #${String(r.order_id)} já foi totalmente estornado.`);
        default:
          return text(`Não consigo fazer o estorno automático do pedido #${String(r.order_id)}. Uma pessoa da nossa equipe vai te ajudar.`);
      }
    }
    case 'pay_refund': {
      const amount = Number(done.input.amount_cents);
      const value = Number.isSafeInteger(amount) && amount > 0 ? formatBRL(amount) : 'o valor';
      if (!done.isError) {
        return text(`Pronto! Solicitei o estorno de ${value} via Pix para a conta que fez o pagamento. Você vai receber a confirmação com o comprovante em instantes.`);
      }
      const approval = r.approval as Json | undefined;
      if (approval?.status === 'pending') return text(`O estorno de ${value} precisa da aprovação da nossa equipe. Já enviei o pedido e avisaremos você assim que ele for analisado.`);
      const reasons: Record<string, string> = {
        exceeds_refundable: 'o valor é maior do que o que ainda pode ser estornado neste pedido.',
        order_not_found: 'não encontrei esse pedido vinculado a este número.',
        unsupported_rail: 'esse pedido não foi pago via Pix; uma pessoa da equipe vai te ajudar.',
        outside_refund_window: 'o prazo de 90 dias do Pix para devolução já passou.',
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
