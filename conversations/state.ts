import { CONVERSATION } from '../data/states.ts';
import type { Conversation, ConversationState, HandoffReason } from '../data/conversations.ts';
import type { Services } from '../services/context.ts';
import { outboxKeys } from '../core/keys.ts';

/**
 * The conversation's life as a closed state machine (STYLE "Typed
 * transitions"): the agent answers in `agent`; a handoff queues it for a
 * person (`waiting_for_staff`, with a reason and the time it started
 * waiting); staff take it (`with_staff`), hand it back (`agent`) or close it.
 * Moves are compare-and-set; an illegal one raises.
 */

/** The conversation's legal moves: one table, in data/states.ts. */
export const LEGAL_MOVES = CONVERSATION.moves;

export class IllegalTransition extends Error {
  override name = 'IllegalTransition';
}

/** True when a person holds the conversation (or it waits for one): the agent must stay silent and move no money. */
export function heldByStaff(c: Pick<Conversation, 'state'> | undefined): boolean {
  return !c || c.state === 'waiting_for_staff' || c.state === 'with_staff';
}

/**
 * True when a running turn must stop without a word: a person holds the
 * conversation, or staff closed it (a closed conversation opens again only
 * with new words from the customer, at the start of the next turn).
 */
export function agentMustStop(c: Pick<Conversation, 'state'> | undefined): boolean {
  return !c || c.state !== 'agent';
}

/** Moves a conversation; raises on an illegal move, returns false when someone else moved it first. */
export async function transition(store: Services['store'], id: string, to: ConversationState, now: string, reason: HandoffReason | null = null): Promise<boolean> {
  const current = await store.conversations.get(id);
  if (!current) throw new IllegalTransition(`no conversation ${id}`);
  if (current.state === to) return false;
  if (!LEGAL_MOVES[current.state].includes(to)) throw new IllegalTransition(`${current.state} → ${to}`);
  const waitingSince = to === 'waiting_for_staff' ? now : to === 'with_staff' ? current.waiting_since : null;
  const keptReason = to === 'agent' || to === 'closed' ? null : (reason ?? current.handoff_reason);
  return await store.conversations.moveState(id, current.state, to, keptReason, waitingSince, now);
}

/** Staff opening hours, in São Paulo time: days 0 (Sunday) … 6, and [from, to) in minutes of the day. */
export interface BusinessHours {
  days: number[];
  fromMin: number;
  toMin: number;
}

/** "1-5 09:00-18:00" (Monday to Friday, 9h to 18h). */
export function parseBusinessHours(text: string): BusinessHours {
  const m = /^\s*([0-6])-([0-6])\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!m) throw new Error(`business hours "${text}": expected like "1-5 09:00-18:00"`);
  const [a, b] = [Number(m[1]), Number(m[2])];
  const days: number[] = [];
  for (let d = a; ; d = (d + 1) % 7) {
    days.push(d);
    if (d === b) break;
  }
  return { days, fromMin: Number(m[3]) * 60 + Number(m[4]), toMin: Number(m[5]) * 60 + Number(m[6]) };
}

let hours: BusinessHours = parseBusinessHours('1-5 09:00-18:00');

/** Set once at start from the configuration (BUSINESS_HOURS). */
export function configureBusinessHours(h: BusinessHours): void {
  hours = h;
}

export function withinBusinessHours(at: Date, h: BusinessHours = hours): boolean {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Sao_Paulo', weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  const minutes = Number(get('hour')) * 60 + Number(get('minute'));
  return h.days.includes(day) && minutes >= h.fromMin && minutes < h.toMin;
}

const hh = (min: number) => `${Math.floor(min / 60)}h${min % 60 ? String(min % 60).padStart(2, '0') : ''}`;
const DAYS_PT = ['domingo', 'segunda', 'terça', 'quarta', 'quinta', 'sexta', 'sábado'];
const DAYS_EN = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export type Lang = 'pt' | 'en';

/** English when the customer plainly writes English; Portuguese otherwise. */
export function detectLang(text: string): Lang {
  const t = text.toLowerCase();
  const en = (t.match(/\b(the|my|i|you|please|order|refund|money|back|hello|hi|thanks|thank|want|wrong|broken|is|was|with|need|what|how)\b/g) ?? []).length;
  const pt = (t.match(/\b(o|a|meu|minha|pedido|estorno|quero|obrigad[oa]|oi|ola|olá|voce|você|não|nao|sim|com|veio|por|favor|de|um|uma)\b/g) ?? []).length;
  return en > pt && en >= 2 ? 'en' : 'pt';
}

const WHY_PT: Record<HandoffReason, string> = {
  card_payment: 'Pagamentos com cartão são atendidos pela nossa equipe.',
  outside_window: 'O prazo para devolução automática via Pix já passou, então uma pessoa precisa avaliar o seu caso.',
  mandate_inactive: 'No momento os estornos automáticos estão suspensos, então uma pessoa vai cuidar do seu pedido.',
  model_unavailable: 'Nosso atendimento automático está indisponível agora.',
  not_understood: 'Isso eu não consigo resolver por aqui.',
  customer_asked: '',
  media_needs_person: 'Ainda não consigo abrir esse tipo de mensagem.',
  job_failed: 'Tivemos um problema para concluir o processo automaticamente.',
  payment_unverified: 'Não consegui confirmar automaticamente o pagamento Pix deste pedido, então uma pessoa vai conferir.',
};
const WHY_EN: Record<HandoffReason, string> = {
  card_payment: 'Card payments are handled by our team.',
  outside_window: 'The automatic Pix refund window has passed, so a person needs to review your case.',
  mandate_inactive: 'Automatic refunds are paused right now, so a person will handle your request.',
  model_unavailable: 'Our automated support is unavailable right now.',
  not_understood: 'I cannot solve this one here.',
  customer_asked: '',
  media_needs_person: 'I cannot open this kind of message yet.',
  job_failed: 'We had a problem finishing this automatically.',
  payment_unverified: "I could not confirm this order's Pix payment automatically, so a person will check it.",
};

/** The honest handoff message: the reason where it helps, that a person is queued, and when they work. */
export function handoffMessage(reason: HandoffReason, lang: Lang, at: Date, h: BusinessHours = hours): string {
  const open = withinBusinessHours(at, h);
  const first = h.days[0] as number;
  const last = h.days.at(-1) as number;
  if (lang === 'en') {
    const when = open
      ? 'Someone will reply here shortly.'
      : `Our team works ${DAYS_EN[first]} to ${DAYS_EN[last]}, ${hh(h.fromMin)} to ${hh(h.toMin)} (Brasília time); we will reply here as soon as we open.`;
    return [WHY_EN[reason], 'I have passed your conversation to a person on our team.', when].filter(Boolean).join(' ');
  }
  const when = open
    ? 'Em breve alguém responde por aqui.'
    : `Nossa equipe atende de ${DAYS_PT[first]} a ${DAYS_PT[last]}, das ${hh(h.fromMin)} às ${hh(h.toMin)} (horário de Brasília); respondemos por aqui assim que o atendimento abrir.`;
  return [WHY_PT[reason], 'Passei sua conversa para uma pessoa da nossa equipe.', when].filter(Boolean).join(' ');
}

/** The language of the customer's latest words in this conversation. */
export async function customerLang(store: Services['store'], conversationId: string): Promise<Lang> {
  const texts = (await store.inbox.forConversation(conversationId)).filter((r) => r.kind === 'text' && r.text).slice(-3).map((r) => r.text as string);
  return detectLang(texts.join('\n'));
}

/**
 * Inside a transaction whose own message already tells the customer a person
 * is on it: the conversation waits for one, with its reason (left as it is
 * when a person already holds it).
 */
export async function queueForPersonInTx(store: Services['store'], conversationId: string, reason: HandoffReason, now: string): Promise<void> {
  if (!heldByStaff(await store.conversations.get(conversationId))) await transition(store, conversationId, 'waiting_for_staff', now, reason);
}

/**
 * Queues the conversation for a person: moves it to `waiting_for_staff` with
 * the reason, and tells the customer once what happens next. A conversation
 * already waiting for or with staff is left as it is (nobody is told twice).
 */
export async function handOff(services: Pick<Services, 'store' | 'now' | 'wake' | 'publish' | 'logger'>, conversationId: string, reason: HandoffReason, prefix: string | null = null): Promise<boolean> {
  const { store } = services;
  const at = services.now();
  const now = at.toISOString();
  const moved = await store.tx(async () => {
    const c = await store.conversations.get(conversationId);
    if (!c || heldByStaff(c)) return false;
    if (!await transition(store, conversationId, 'waiting_for_staff', now, reason)) return false;
    await store.outbox.enqueue({
      conversation_id: c.id,
      chat_id: c.chat_id,
      text: `${prefix ? `${prefix} ` : ''}${handoffMessage(reason, await customerLang(store, c.id), at)}`,
      source: 'template',
      template: 'handoff',
      dedupe_key: outboxKeys.handoff(c.id, now),
      now,
    });
    return true;
  });
  if (moved) {
    // Inside a caller's transaction this waits for its commit: no event, and no worker pass, for a hand-off that may still roll back.
    store.database.afterCommit(() => {
      services.wake();
      services.publish({ type: 'handoff', conversationId, reason });
      services.logger.info({ conversationId, reason }, 'conversation handed to staff');
    });
  }
  return moved;
}

/** What a refusal or an ineligible order means for a handoff; null when the agent can carry on. */
export function handoffReasonFor(refusal: string | null | undefined): HandoffReason | null {
  switch (refusal) {
    case 'unsupported_rail':
      return 'card_payment';
    case 'outside_refund_window':
      return 'outside_window';
    case 'mandate_inactive':
    case 'mandate_missing':
    case 'mandate_unreadable':
    case 'bad_signature':
    case 'mandate_agent_mismatch':
      return 'mandate_inactive';
    case 'payment_not_confirmed':
    case 'payment_ambiguous':
      return 'payment_unverified';
    case 'provider_unavailable':
    case 'rail_refused':
    case 'internal_error':
      return 'job_failed';
    default:
      return null;
  }
}

/** The customer asked for a person in so many words. */
export function asksForPerson(text: string): boolean {
  const n = text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return /\b(atendente|humano|pessoa|alguem da equipe|falar com (alguem|uma pessoa|um atendente)|human|agent|real person|someone)\b/.test(n);
}

/** Why the agent hands this conversation off now: the turn's last refusal or ineligible order, else the customer's words. */
export async function inferHandoffReason(store: Services['store'], conversationId: string, turnId: string | null): Promise<HandoffReason> {
  const calls = (await store.turns.toolCalls(conversationId)).filter((t) => turnId === null || t.turn_id === turnId).reverse();
  for (const call of calls) {
    const byRefusal = call.outcome === 'refused' ? handoffReasonFor(call.reason) : null;
    if (byRefusal) return byRefusal;
    if (call.name === 'ledger_lookup' && call.result) {
      try {
        const r = JSON.parse(call.result) as { ineligible_reason?: string };
        const byOrder = handoffReasonFor(r.ineligible_reason);
        if (byOrder) return byOrder;
      } catch {
        // a result we did not write: no reason from it
      }
    }
  }
  const last = (await store.inbox.forConversation(conversationId)).filter((r) => r.kind === 'text').at(-1);
  if (last?.text && asksForPerson(last.text)) return 'customer_asked';
  // The order the customer named may have been described in the first turn's context (no lookup call).
  const named = new Set(last?.text?.match(/\d{3,10}/g) ?? []);
  for (const row of (await store.turns.history(conversationId)).reverse()) {
    const m = row.role === 'user' ? /<customer_context>([\s\S]*?)<\/customer_context>/.exec(row.content.replace(/\\"/g, '"')) : null;
    if (!m) continue;
    try {
      const orders = (JSON.parse(m[1] as string) as { recent_orders?: Array<{ order_id?: string; ineligible_reason?: string }> }).recent_orders ?? [];
      for (const o of orders) {
        const byOrder = named.has(String(o.order_id)) ? handoffReasonFor(o.ineligible_reason) : null;
        if (byOrder) return byOrder;
      }
    } catch {
      // not a context we can read
    }
    break;
  }
  return 'not_understood';
}
