import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { mediaBlocks, type Transcriber } from '../../../agent/media.ts';
import type { InboxRow } from '../../../data/inbox.ts';
import { mediaFromCallback } from '../../../webhooks/zapi-media.ts';

/** Z-API's documented ReceivedCallback media samples (Z-API/z-api-docs, docs/webhooks/on-message-received.md), URLs filled in. */
const SAMPLES = {
  image: { image: { mimeType: 'image/jpeg', imageUrl: 'https://storage.z-api.io/a.jpeg', thumbnailUrl: 'https://storage.z-api.io/t.jpeg', caption: '' } },
  audio: { audio: { audioUrl: 'https://storage.z-api.io/a.ogg', mimeType: 'audio/ogg; codecs=opus', ptt: true, seconds: 7 } },
  video: { video: { videoUrl: 'https://storage.z-api.io/v.mp4', caption: '', mimeType: 'video/mp4' } },
  document: { document: { documentUrl: 'https://storage.z-api.io/d.pdf', mimeType: 'application/pdf', title: 'nome', pageCount: 1, fileName: 'nome.pdf' } },
  sticker: { sticker: { stickerUrl: 'https://storage.z-api.io/s.webp', mimeType: 'image/webp' } },
  location: { location: { longitude: -46.63, latitude: -23.55, address: '', url: '' } },
  contact: { contact: { displayName: 'Cesar Baleco', vCard: 'BEGIN:VCARD\nEND:VCARD', phones: ['5544999999999'] } },
};

describe('Z-API media messages', () => {
  it('parses each documented media kind into a descriptor', () => {
    expect(mediaFromCallback(SAMPLES.image)).toEqual({ kind: 'image', url: 'https://storage.z-api.io/a.jpeg', mimeType: 'image/jpeg', caption: null });
    expect(mediaFromCallback(SAMPLES.audio)).toMatchObject({ kind: 'audio', ptt: true, seconds: 7, mimeType: 'audio/ogg; codecs=opus' });
    expect(mediaFromCallback(SAMPLES.video)).toMatchObject({ kind: 'video', url: 'https://storage.z-api.io/v.mp4' });
    expect(mediaFromCallback(SAMPLES.document)).toMatchObject({ kind: 'document', fileName: 'nome.pdf' });
    expect(mediaFromCallback(SAMPLES.sticker)).toMatchObject({ kind: 'sticker' });
    expect(mediaFromCallback(SAMPLES.location)).toMatchObject({ kind: 'location', latitude: -23.55 });
    expect(mediaFromCallback(SAMPLES.contact)).toMatchObject({ kind: 'contact', name: 'Cesar Baleco' });
    expect(mediaFromCallback({ text: { message: 'oi' } })).toBeNull();
    expect(mediaFromCallback({ image: { imageUrl: 'file:///etc/passwd' } })).toBeNull();
  });

  const row = (id: number, media: unknown): InboxRow => ({ id, message_id: `m${id}`, conversation_id: 'cv', kind: 'text', ignore_reason: null, text: null, payload: '{}', received_at: '', processed_at: null, turn_id: null, media: JSON.stringify(media) });
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  const fakeFetch = (async () => new Response(png, { headers: { 'content-type': 'image/png' } })) as unknown as typeof fetch;

  it('sends an image to the model as a base64 image block, and hands audio to a person when no transcriber is set', async () => {
    const logger = pino({ level: 'silent' });
    const image = await mediaBlocks([row(1, { kind: 'image', url: 'https://x/a.png', mimeType: 'image/png', caption: 'chegou quebrado' })], { transcriber: null, lang: 'pt', logger, fetchImpl: fakeFetch });
    expect(image.needsPerson).toBeNull();
    expect(image.blocks.get(1)).toEqual([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') } }, { type: 'text', text: 'chegou quebrado' }]);
    const audio = await mediaBlocks([row(2, { kind: 'audio', url: 'https://x/a.ogg', seconds: 7 })], { transcriber: null, lang: 'pt', logger });
    expect(audio.needsPerson).toBe('Recebi seu áudio.');
  });

  it('reads a voice note through a transcription adapter when one is configured', async () => {
    const transcriber: Transcriber = { transcribe: async () => 'o pedido 8421 veio errado' };
    const audio = await mediaBlocks([row(3, { kind: 'audio', url: 'https://x/a.ogg', seconds: 7 })], { transcriber, lang: 'pt', logger: pino({ level: 'silent' }) });
    expect(audio.needsPerson).toBeNull();
    expect(audio.blocks.get(3)).toEqual([{ type: 'text', text: '[áudio transcrito automaticamente] o pedido 8421 veio errado' }]);
  });
});
