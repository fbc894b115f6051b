import { readFileSync } from 'node:fs';
import type express from 'express';

const SVG = readFileSync(new URL('../console/public/favicon.svg', import.meta.url));

/** `/favicon.ico`, which browsers ask for on every page without a link tag (the JSON routes, the sandbox): the console's SVG icon. */
export function favicon(): express.RequestHandler {
  return (_req, res) => {
    res.type('image/svg+xml').set('cache-control', 'public, max-age=86400').send(SVG);
  };
}
