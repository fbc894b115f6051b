import { z } from 'zod';
import type { MediaDescriptor } from '../agent/media.ts';

/**
 * The media parts of Z-API's ReceivedCallback (docs/webhooks/on-message-received.md
 * in Z-API/z-api-docs: image, audio, video, document, sticker, location,
 * contact), reduced to the descriptor the inbox stores. Only http(s) URLs are
 * kept; anything unexpected in a part leaves that part out (the message is
 * still stored, with its raw payload).
 */

const httpUrl = z.string().max(4096).regex(/^https?:\/\//);
const text = z.string().max(65_536).nullish();
const mime = z.string().max(200).nullish();

const parts = {
  image: z.looseObject({ imageUrl: httpUrl, mimeType: mime, caption: text }),
  audio: z.looseObject({ audioUrl: httpUrl, mimeType: mime, ptt: z.boolean().nullish(), seconds: z.number().nonnegative().nullish() }),
  video: z.looseObject({ videoUrl: httpUrl, mimeType: mime, caption: text, seconds: z.number().nonnegative().nullish() }),
  document: z.looseObject({ documentUrl: httpUrl, mimeType: mime, fileName: z.string().max(500).nullish(), title: z.string().max(500).nullish(), caption: text }),
  sticker: z.looseObject({ stickerUrl: httpUrl, mimeType: mime }),
  location: z.looseObject({ latitude: z.number(), longitude: z.number(), name: z.string().max(500).nullish(), address: z.string().max(1000).nullish() }),
  contact: z.looseObject({ displayName: z.string().max(500).nullish(), vCard: z.string().max(10_000).nullish() }),
};

/** The media of a ReceivedCallback, or null when it carries none we understand. */
export function mediaFromCallback(body: Record<string, unknown>): MediaDescriptor | null {
  const image = parts.image.safeParse(body.image);
  if (image.success) return { kind: 'image', url: image.data.imageUrl, mimeType: image.data.mimeType ?? null, caption: image.data.caption || null };
  const audio = parts.audio.safeParse(body.audio);
  if (audio.success) return { kind: 'audio', url: audio.data.audioUrl, mimeType: audio.data.mimeType ?? null, ptt: audio.data.ptt ?? null, seconds: audio.data.seconds ?? null };
  const video = parts.video.safeParse(body.video);
  if (video.success) return { kind: 'video', url: video.data.videoUrl, mimeType: video.data.mimeType ?? null, caption: video.data.caption || null, seconds: video.data.seconds ?? null };
  const doc = parts.document.safeParse(body.document);
  if (doc.success) return { kind: 'document', url: doc.data.documentUrl, mimeType: doc.data.mimeType ?? null, fileName: doc.data.fileName ?? doc.data.title ?? null, caption: doc.data.caption || null };
  const sticker = parts.sticker.safeParse(body.sticker);
  if (sticker.success) return { kind: 'sticker', url: sticker.data.stickerUrl, mimeType: sticker.data.mimeType ?? null };
  const location = parts.location.safeParse(body.location);
  if (location.success) return { kind: 'location', latitude: location.data.latitude, longitude: location.data.longitude, name: location.data.name ?? location.data.address ?? null };
  const contact = parts.contact.safeParse(body.contact);
  if (contact.success) return { kind: 'contact', name: contact.data.displayName ?? null };
  return null;
}
