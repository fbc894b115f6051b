import express from 'express';
import { z } from 'zod';
import type { Services } from '../../services/context.ts';
import { decoyHash, LoginThrottle, SESSION_COOKIE, startSession, verifyPassword } from '../auth.ts';
import { parseBody } from '../http.ts';

/**
 * Logging in and out. `/login` is the one route that answers without a
 * session; console/api.ts puts the session and CSRF checks between it and
 * everything else, `/me` and `/logout` included.
 */

export interface LoginOptions {
  /** Runs before each login (the sandbox re-creates its users after a reset). */
  beforeLogin?: () => void | Promise<void>;
}

export function loginRoutes(services: Pick<Services, 'store' | 'now'>, options: LoginOptions = {}): express.Router {
  const router = express.Router();
  const store = () => services.store;
  // Counted in the database: every replica sees every attempt.
  const throttle = new LoginThrottle(store);
  router.post('/login', async (req, res) => {
    const body = parseBody(z.object({ email: z.string().email().max(200), password: z.string().min(1).max(200) }).strict(), req, res);
    if (!body) return;
    const key = `${body.email.toLowerCase()}|${req.ip}`;
    // Counted before the password is hashed: parallel guesses cannot all slip past the limit.
    if (!(await throttle.attempt(key))) return void res.status(429).json({ error: 'too_many_attempts', message: 'too many failed logins; wait 15 minutes' });
    await options.beforeLogin?.();
    const user = await store().users.byEmail(body.email);
    // An unknown or disabled user costs the same scrypt run: the answer time does not tell which emails exist.
    const matches = await verifyPassword(body.password, user?.password_hash ?? decoyHash());
    if (!user || user.active !== 1 || !matches) {
      return void res.status(401).json({ error: 'bad_credentials', message: 'wrong email or password' });
    }
    await throttle.clear(key);
    const { csrf } = await startSession(store(), res, req, user, services.now());
    res.json({ id: user.id, email: user.email, name: user.name, role: user.role, csrf });
  });
  return router;
}

/** The signed-in user, and logging out (behind the session and CSRF checks). */
export function sessionRoutes(services: Pick<Services, 'store'>): express.Router {
  const router = express.Router();
  router.get('/me', (req, res) => {
    const u = req.user!;
    res.json({ id: u.id, email: u.email, name: u.name, role: u.role, csrf: u.csrf });
  });
  router.post('/logout', async (req, res) => {
    await services.store.users.deleteSession(req.user!.sessionHash);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.json({ ok: true });
  });
  return router;
}
