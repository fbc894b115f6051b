import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { cpfDigits, isValidCpf } from '../core/phone.ts';
import type { Logger } from '../core/logger.ts';
import { outboxKeys } from '../core/keys.ts';
import type { Conversation } from '../data/conversations.ts';
import type { InboxRow } from '../data/inbox.ts';
import { templates } from '../prompts/templates.ts';
import type { HandoffReason } from '../data/conversations.ts';
import { asksForPerson } from '../conversations/state.ts';
import type { Services } from '../services/context.ts';

/**
 * An `@lid` chat carries no phone number, so nothing ties it to the orders of
 * an ERP customer. A CPF is not proof (anyone may know it): the chat proves it
 * controls the customer's WhatsApp number on file by typing back a code sent
 * there. The answer to a CPF is the same whether it exists or not; CPFs and
 * codes are counted before any lookup or comparison, and limited.
 */

export const IDENTITY_LIMITS = {
  /** CPFs a chat may try per hour. */
  cpfPerHour: 5,
  /** Codes a chat may type per hour (over all challenges). */
  codesPerHour: 10,
  /** Wrong codes before a challenge is locked. */
  wrongCodesPerChallenge: 5,
  codeTtlMs: 10 * 60_000,
} as const;

export type IdentifyResult =
  | { bound: true; customerCode: number }
  /** `handoff`: a person takes it from here (the customer asked, or the chat is locked); `prefix` goes before the handoff message. */
  | { bound: false; handoff?: { reason: HandoffReason; prefix: string | null } };

export async function identifyChat(
  services: Pick<Services, 'store' | 'erp' | 'now'>,
  conversation: Conversation,
  pending: InboxRow[],
  say: (text: string, dedupeKey: string) => void,
  log: Logger,
): Promise<IdentifyResult> {
  const { store } = services;
  const now = services.now();
  const nowIso = now.toISOString();
  const hourAgo = new Date(now.getTime() - 3_600_000).toISOString();
  const text = pending.map((r) => r.text ?? '').join(' ');
  const lastId = pending.at(-1)?.id ?? 0;
  // Nobody is made to prove who they are to reach a person.
  if (asksForPerson(text)) return { bound: false, handoff: { reason: 'customer_asked', prefix: null } };
  const locked = { bound: false, handoff: { reason: 'not_understood', prefix: templates.identity_locked() } } as const;

  const challenge = await store.identity.openFor(conversation.id, nowIso);
  const code = text.match(/(?<!\d)\d{6}(?!\d)/)?.[0];
  if (challenge && code) {
    const tries = await store.tx(async () => await store.identity.countAttempt(conversation.id, 'code', nowIso, hourAgo));
    if (tries > IDENTITY_LIMITS.codesPerHour) return locked;
    if (codeMatches(challenge.code_hash, conversation.id, code)) {
      await store.tx(async () => {
        if (await store.identity.verify(challenge.id, nowIso)) await store.conversations.bindCustomer(conversation.id, challenge.customer_code, nowIso);
      });
      log.info({ customerCode: challenge.customer_code }, 'chat identified by a code sent to the number on file');
      return { bound: true, customerCode: challenge.customer_code };
    }
    const after = await store.tx(async () => await store.identity.wrongCode(challenge.id, IDENTITY_LIMITS.wrongCodesPerChallenge));
    if (after.status === 'locked') return locked;
    say(templates.identity_code_wrong(), outboxKeys.identityCodeWrong(lastId));
    return { bound: false };
  }

  const cpf = text.match(/\d{3}\.?\d{3}\.?\d{3}-?\d{2}/g)?.map(cpfDigits).find(isValidCpf);
  if (!cpf) {
    say(challenge ? templates.identity_code_sent() : templates.ask_cpf(), outboxKeys.identityPrompt(lastId));
    return { bound: false };
  }
  // Counted before the lookup: a flood of CPFs costs one ERP call each only up to the limit.
  const tries = await store.tx(async () => await store.identity.countAttempt(conversation.id, 'cpf', nowIso, hourAgo));
  if (tries > IDENTITY_LIMITS.cpfPerHour) return locked;
  const customer = await services.erp.findCustomerByTaxId(cpf);
  const phone = customer?.phones[0];
  if (customer && phone) {
    const secret = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await store.tx(async () => {
      await store.identity.open({
        conversation_id: conversation.id,
        customer_code: customer.code,
        phone_on_file: phone,
        code_hash: codeHash(conversation.id, secret),
        created_at: nowIso,
        expires_at: new Date(now.getTime() + IDENTITY_LIMITS.codeTtlMs).toISOString(),
      });
      const onFile = await store.conversations.ensure(phone, phone, nowIso);
      await store.outbox.enqueue({ conversation_id: onFile.id, chat_id: onFile.chat_id, text: templates.identity_code({ code: secret }), source: 'system', dedupe_key: outboxKeys.identityCode(conversation.id, lastId), now: nowIso });
    });
    log.info({ customerCode: customer.code }, 'identification code sent to the number on file');
  }
  // The same answer whether the CPF exists or not: a chat cannot test CPFs against our customers.
  say(templates.identity_code_sent(), outboxKeys.identityPrompt(lastId));
  return { bound: false };
}

function codeHash(conversationId: string, code: string): string {
  return createHash('sha256').update(`${conversationId}:${code}`).digest('hex');
}

function codeMatches(hash: string, conversationId: string, code: string): boolean {
  return timingSafeEqual(Buffer.from(hash, 'hex'), Buffer.from(codeHash(conversationId, code), 'hex'));
}
