import type Anthropic from '@anthropic-ai/sdk';
import type { InboxRow } from '../data/inbox.ts';
import type { Conversation } from '../data/conversations.ts';
import type { Logger } from '../core/logger.ts';
import type { Services } from '../services/context.ts';
import { detectLang } from '../conversations/state.ts';
import { mediaBlocks, mediaOf, type Transcriber } from './media.ts';

/**
 * Inbox → history: the customer's pending messages (and what staff said or
 * noted since the model's last view) become one user message, and are marked
 * processed in the same transaction.
 */

type ContentBlock = Anthropic.ContentBlockParam;

/** Marks what staff wrote, so the model never mistakes it for the customer's words. */
export const STAFF_PREAMBLE =
  'System context, not written by the customer: what the store\'s team or the service itself sent to the customer (<staff_message>, <sent_to_customer>) or noted internally (<staff_note>) since the assistant last spoke, in time order between the customer\'s own messages.';

const isLabelled = (t: string) => /^<(staff_message|staff_note|sent_to_customer)\b/.test(t);

/** Staff messages, notes and automatic messages created after `since`, as labelled text blocks with their time. */
async function staffSince(store: Services['store'], conversationId: string, since: string): Promise<Array<{ at: string; blocks: ContentBlock[] }>> {
  const out: Array<{ at: string; blocks: ContentBlock[] }> = [];
  for (const m of await store.outbox.forConversation(conversationId)) {
    if (m.created_at <= since || m.source === 'agent') continue;
    const tag = m.source === 'staff' ? 'staff_message' : 'sent_to_customer';
    out.push({ at: m.created_at, blocks: [{ type: 'text', text: `<${tag}${m.source === 'staff' ? '' : ` source="${m.template ?? m.source}"`}>${m.text}</${tag}>` }] });
  }
  for (const n of await store.conversations.notes(conversationId)) {
    if (n.created_at <= since) continue;
    out.push({ at: n.created_at, blocks: [{ type: 'text', text: `<staff_note>${n.text}</staff_note>` }] });
  }
  return out;
}

/**
 * The pending messages become one user message in the history, and are
 * marked processed, atomically (call inside `store.tx`). What staff said and
 * noted since the model's last view comes first, labelled as such,
 * interleaved in time with the customer's messages (so after a hand back the
 * model knows what a person promised, and answers what the customer wrote meanwhile).
 */
export async function absorbInTx(services: Pick<Services, 'store' | 'now'>, conversation: Pick<Conversation, 'id'>, turnId: string | null, pending: InboxRow[], context: string | null = null, media: Map<number, ContentBlock[]> = new Map()): Promise<void> {
  const { store } = services;
  if (pending.length === 0) return;
  const since = (await store.turns.lastHistory(conversation.id))?.created_at ?? '';
  const items: Array<{ at: string; blocks: ContentBlock[] }> = [];
  for (const r of pending) {
    const own = media.get(r.id);
    items.push({ at: r.received_at, blocks: own ?? (r.text ? [{ type: 'text', text: r.text }] : mediaOf(r) ? [{ type: 'text', text: `[${mediaOf(r)!.kind}]` }] : []) });
  }
  const staff = await staffSince(store, conversation.id, since);
  items.push(...staff);
  items.sort((a, b) => a.at.localeCompare(b.at));
  // Consecutive plain customer texts stay one block, as before (one answer per burst).
  const merged: ContentBlock[] = [];
  for (const b of items.flatMap((i) => i.blocks)) {
    const prev = merged.at(-1);
    if (prev?.type === 'text' && b.type === 'text' && !isLabelled(prev.text) && !isLabelled(b.text)) prev.text = `${prev.text}\n${b.text}`;
    else merged.push(b.type === 'text' ? { ...b } : b);
  }
  const blocks: ContentBlock[] = [
    ...(context ? [{ type: 'text' as const, text: context }] : []),
    ...(staff.length > 0 ? [{ type: 'text' as const, text: STAFF_PREAMBLE }] : []),
    ...merged,
  ];
  if (blocks.length === 0) blocks.push({ type: 'text', text: '[mensagem vazia]' });
  const now = services.now().toISOString();
  await store.turns.appendHistory(conversation.id, turnId, 'user', blocks, now);
  await store.inbox.markProcessed(pending.map((r) => r.id), turnId ?? 'staff', now);
}

/** Images are fetched for the model; other media are stored and, unless transcribed, go to a person. */
export async function prepareMedia(pending: InboxRow[], transcriber: Transcriber | null, log: Logger): Promise<{ blocks: Map<number, ContentBlock[]>; needsPerson: string | null }> {
  return mediaBlocks(pending, { transcriber, lang: detectLang(pending.map((p) => p.text ?? '').join('\n')), logger: log });
}

/** Stands in, in the model's history, for the answer a person gave before closing the conversation. */
export const CLOSED_BY_STAFF_MARKER = '[no reply from the assistant: a person from the team handled these messages and closed the conversation]';

/**
 * Staff closed the conversation: what the customer wrote while they held it
 * was answered by a person, so it enters the history as handled (with what
 * staff said) instead of waiting for the agent.
 */
export async function absorbHandledByStaff(services: Pick<Services, 'store' | 'now'>, conversationId: string): Promise<void> {
  const { store } = services;
  const now = services.now().toISOString();
  await store.tx(async () => {
    const pending = await store.inbox.pending(conversationId);
    if (pending.length === 0) return;
    const since = (await store.turns.lastHistory(conversationId))?.created_at ?? '';
    const items = [
      ...pending.map((r) => ({ at: r.received_at, text: r.text ?? `[${mediaOf(r)?.kind ?? 'message'}]` })),
      ...(await staffSince(store, conversationId, since)).map((i) => ({ at: i.at, text: (i.blocks[0] as { text: string }).text })),
    ].sort((a, b) => a.at.localeCompare(b.at));
    await store.turns.appendHistory(conversationId, null, 'user', [{ type: 'text', text: STAFF_PREAMBLE }, ...items.map((i) => ({ type: 'text', text: i.text }))], now);
    await store.turns.appendHistory(conversationId, null, 'assistant', [{ type: 'text', text: CLOSED_BY_STAFF_MARKER }], now);
    await store.inbox.markProcessed(pending.map((r) => r.id), 'staff', now);
  });
}

