import type express from 'express';
import type { Config } from '../core/config.ts';
import type { Estorno } from '../server/app.ts';

/** The staff and admin console (issue "The console"); until it lands, /console says so. */
export function mountConsole(app: express.Express, _estorno: Estorno, _config: Config): { bannerLines: string[] } {
  app.get('/console', (_req, res) => {
    res.status(503).type('text/plain').send('The console is not built yet.');
  });
  return { bannerLines: [] };
}
