import express from 'express';

/**
 * The sandbox's media host: the URLs a Z-API media webhook points at
 * (`imageUrl`, `audioUrl`, `documentUrl`…) resolve here, so the agent fetches
 * real bytes over HTTP as it would from Z-API's storage. Tiny fixed files.
 */

// A 1×1 PNG (a valid image the Messages API accepts).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
// An Ogg page header: enough for a client that only stores or forwards it.
const OGG = Buffer.from('OggS\0\x02\0\0\0\0\0\0\0\0', 'binary');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n', 'utf8');

const FILES: Record<string, { type: string; body: Buffer }> = {
  'produto-quebrado.png': { type: 'image/png', body: PNG },
  'foto.png': { type: 'image/png', body: PNG },
  'audio.ogg': { type: 'audio/ogg; codecs=opus', body: OGG },
  'nota.pdf': { type: 'application/pdf', body: PDF },
  'video.mp4': { type: 'video/mp4', body: Buffer.alloc(32) },
  'sticker.webp': { type: 'image/webp', body: Buffer.alloc(32) },
};

export function mediaRouter(): express.Router {
  const router = express.Router();
  router.get('/:name', (req, res) => {
    const file = FILES[req.params.name as string];
    if (!file) return void res.status(404).json({ error: 'not_found' });
    res.type(file.type).send(file.body);
  });
  return router;
}
