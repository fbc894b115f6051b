import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Config } from '../core/config.ts';
import type { Estorno } from '../server/app.ts';
import { consoleApi } from './api.ts';
import { generatePassword, hashPassword } from './auth.ts';

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Mounts the console: the JSON API under /api and the page under /console
 * (plain ES modules and CSS, no build step). In sandbox mode the first admin
 * and a staff user are created on first start; their passwords live under
 * DATA_DIR (mode 0600) and are printed in the banner.
 */
export function mountConsole(app: express.Express, estorno: Estorno, config: Config): { bannerLines: string[] } {
  app.use('/api', consoleApi(estorno));
  app.use('/console', express.static(PUBLIC, { index: 'index.html', maxAge: 0, fallthrough: true }));
  const bannerLines: string[] = [];
  if (config.sandbox) {
    for (const [email, name, role] of [['admin@estorno.local', 'Sandbox Admin', 'admin'], ['staff@estorno.local', 'Sandbox Staff', 'staff']] as const) {
      const password = sandboxPassword(config.dataDir, role);
      if (!estorno.services.store.users.byEmail(email)) {
        void hashPassword(password).then((hash) => {
          const store = estorno.services.store;
          // The service may have stopped while the hash was computed.
          if (store.db.open && !store.users.byEmail(email)) store.users.create({ email, name, role, password_hash: hash, now: new Date().toISOString() });
        });
      }
      bannerLines.push(`${role.padEnd(5)} login: ${email} / ${password}`);
    }
  }
  return { bannerLines };
}

function sandboxPassword(dataDir: string, role: string): string {
  const file = path.join(dataDir, `console-${role}-password`);
  if (!existsSync(file)) writeFileSync(file, generatePassword(), { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}
