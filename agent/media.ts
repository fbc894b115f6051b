import type Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../core/logger.ts';
import type { InboxRow } from '../data/inbox.ts';
import { templates } from '../prompts/templates.ts';

/**
 * Media messages (Z-API's image, audio, video, document, sticker, location,
 * contact): images reach the model as image content blocks; a voice note is
 * read only through a transcription adapter (none by default); everything
 * else is acknowledged and goes to a person.
 */

export type MediaKind = 'image' | 'audio' | 'video' | 'document' | 'sticker' | 'location' | 'contact';

/** What the webhook stores for a media message (the inbox's `media` column). */
export interface MediaDescriptor {
  kind: MediaKind;
  url?: string | null;
  mimeType?: string | null;
  caption?: string | null;
  fileName?: string | null;
  seconds?: number | null;
  ptt?: boolean | null;
  latitude?: number | null;
  longitude?: number | null;
  name?: string | null;
}

/** Turns a voice note into text; returns null when it cannot. */
export interface Transcriber {
  transcribe(audio: { url: string; mimeType: string | null; seconds: number | null }): Promise<string | null>;
}

export function mediaOf(row: Pick<InboxRow, 'media'>): MediaDescriptor | null {
  if (!row.media) return null;
  try {
    return JSON.parse(row.media) as MediaDescriptor;
  } catch {
    return null;
  }
}

/** The Messages API takes images up to about 5 MB, in these types. */
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
const MAX_IMAGE_BYTES = 3_750_000;

const NAMES_PT: Record<MediaKind, string> = { image: 'imagem', audio: 'áudio', video: 'vídeo', document: 'documento', sticker: 'figurinha', location: 'localização', contact: 'contato' };
const NAMES_EN: Record<MediaKind, string> = { image: 'image', audio: 'voice message', video: 'video', document: 'document', sticker: 'sticker', location: 'location', contact: 'contact' };

/** Fetches an image and returns it as a base64 image block; null when it cannot be read. */
export async function fetchImageBlock(url: string, mimeType: string | null, fetchImpl: typeof fetch = fetch): Promise<Anthropic.ImageBlockParam | null> {
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) return null;
  const type = (res.headers.get('content-type') ?? mimeType ?? '').split(';')[0]!.trim().toLowerCase();
  const mediaType = (IMAGE_TYPES as readonly string[]).includes(type) ? (type as (typeof IMAGE_TYPES)[number]) : null;
  if (!mediaType) return null;
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length === 0 || bytes.length > MAX_IMAGE_BYTES) return null;
  return { type: 'image', source: { type: 'base64', media_type: mediaType, data: bytes.toString('base64') } };
}

/**
 * The content blocks of the pending media messages (by inbox id), and the
 * acknowledgement to send when one of them needs a person.
 */
export async function mediaBlocks(
  pending: InboxRow[],
  opts: { transcriber: Transcriber | null; lang: 'pt' | 'en'; logger: Logger; fetchImpl?: typeof fetch },
): Promise<{ blocks: Map<number, Anthropic.ContentBlockParam[]>; needsPerson: string | null }> {
  const blocks = new Map<number, Anthropic.ContentBlockParam[]>();
  const unread: MediaKind[] = [];
  for (const row of pending) {
    const media = mediaOf(row);
    if (!media) continue;
    const caption: Anthropic.ContentBlockParam[] = media.caption ? [{ type: 'text', text: media.caption }] : [];
    if (media.kind === 'image' && media.url) {
      const image = await fetchImageBlock(media.url, media.mimeType ?? null, opts.fetchImpl).catch(() => null);
      if (image) {
        blocks.set(row.id, [image, ...(caption.length ? caption : [{ type: 'text' as const, text: '[imagem enviada pelo cliente, sem legenda]' }])]);
        continue;
      }
      opts.logger.warn({ inboxId: row.id }, 'image could not be fetched; a person will look');
    }
    if (media.kind === 'audio' && media.url && opts.transcriber) {
      const said = await opts.transcriber.transcribe({ url: media.url, mimeType: media.mimeType ?? null, seconds: media.seconds ?? null }).catch(() => null);
      if (said) {
        blocks.set(row.id, [{ type: 'text', text: `[áudio transcrito automaticamente] ${said}` }]);
        continue;
      }
    }
    blocks.set(row.id, [{ type: 'text', text: `[${NAMES_EN[media.kind]} sent by the customer${media.fileName ? `: ${media.fileName}` : ''}; a person from the team will look at it]` }, ...caption]);
    unread.push(media.kind);
  }
  if (unread.length === 0) return { blocks, needsPerson: null };
  const kind = unread[0] as MediaKind;
  return { blocks, needsPerson: opts.lang === 'en' ? templates.media_received_en(NAMES_EN[kind]) : templates.media_received(NAMES_PT[kind]) };
}
