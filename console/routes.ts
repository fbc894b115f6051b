import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Config } from '../core/config.ts';
import type { Estorno } from '../server/app.ts';
import { consoleApi } from './api.ts';
import { generatePassword, hashPasswordSync } from './auth.ts';

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));

/** The sandbox's two console users; their passwords are generated, never fixed in code. */
const SANDBOX_USERS = [
  { email: 'admin@estorno.local', name: 'Sandbox Admin', role: 'admin' },
  { email: 'staff@estorno.local', name: 'Sandbox Staff', role: 'staff' },
] as const;

/**
 * Mounts the console: the JSON API under /api and the page under /console
 * (plain ES modules and CSS, no build step). In sandbox mode, and only there,
 * an admin and a staff user exist from the first start: their passwords live
 * under DATA_DIR (mode 0600), or in the database on PostgreSQL, and are printed in the banner. Outside sandbox
 * mode the first admin comes from `npm run user -- add … --role admin`.
 */
export async function mountConsole(app: express.Express, estorno: Estorno, config: Config): Promise<{ bannerLines: string[] }> {
  // Their passwords: DATA_DIR files, or the database on PostgreSQL (every replica logs in the same users).
  const sandboxUsers = config.sandbox ? await Promise.all(SANDBOX_USERS.map(async (u) => ({ ...u, password: await estorno.secrets.get(`console-${u.role}-password`, generatePassword) }))) : [];
  // Also run before each login: POST /sandbox/reset starts a fresh database, and the banner's logins must keep working.
  const ensureSandboxUsers = async () => {
    const store = estorno.services.store;
    if (sandboxUsers.length === 0) return;
    const missing = [];
    for (const u of sandboxUsers) if (!await store.users.byEmail(u.email)) missing.push(u);
    if (missing.length === 0) return;
    // Hashed outside the transaction; created under a lock, so replicas starting together make each user once.
    const hashed = missing.map((u) => ({ ...u, hash: hashPasswordSync(u.password) }));
    await store.tx(async () => {
      await store.lock('sandbox-console-users');
      for (const u of hashed) {
        if (!await store.users.byEmail(u.email)) await store.users.create({ email: u.email, name: u.name, role: u.role, password_hash: u.hash, now: new Date().toISOString() });
      }
    });
  };
  await ensureSandboxUsers();

  app.use('/api', await consoleApi(estorno, { beforeLogin: ensureSandboxUsers }));
  app.use('/console', express.static(PUBLIC, { index: 'index.html', maxAge: 0 }));
  app.get('/', (_req, res) => res.redirect(302, '/console/'));
  return { bannerLines: sandboxUsers.map((u) => `${u.role.padEnd(5)} login: ${u.email} / ${u.password}`) };
}
