import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Store } from '../data/store.ts';
import type { UserRow } from '../data/users.ts';

/**
 * Console authentication: scrypt password hashes, sessions in an HttpOnly
 * SameSite=Strict cookie (only its SHA-256 is stored), and a CSRF token bound
 * to the session, required in `x-csrf-token` on every write.
 */

export const SESSION_COOKIE = 'estorno_session';
const SESSION_MS = 12 * 3_600_000;
const SCRYPT = { N: 16_384, r: 8, p: 1, keylen: 32 };

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export interface ConsoleUser {
  id: number;
  email: string;
  name: string;
  role: 'staff' | 'admin';
  csrf: string;
  sessionHash: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: ConsoleUser;
  }
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export function startSession(store: Store, res: Response, req: Request, user: UserRow, now: Date): { csrf: string } {
  const value = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  store.users.createSession({ id_hash: sha256(value), user_id: user.id, csrf_token: csrf, created_at: now.toISOString(), expires_at: new Date(now.getTime() + SESSION_MS).toISOString() });
  res.cookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: SESSION_MS });
  return { csrf };
}

/** Loads the session's user into `req.user`; answers 401 when there is none. */
export function requireSession(store: () => Store, now: () => Date) {
  return (req: Request, res: Response, next: NextFunction) => {
    const value = readCookie(req, SESSION_COOKIE);
    const found = value ? store().users.session(sha256(value), now().toISOString()) : undefined;
    if (!found) return void res.status(401).json({ error: 'unauthorized', message: 'log in first' });
    req.user = { id: found.user.id, email: found.user.email, name: found.user.name, role: found.user.role, csrf: found.session.csrf_token, sessionHash: found.session.id_hash };
    next();
  };
}

/** Every write carries the session's CSRF token (SameSite=Strict is the second lock). */
export function requireCsrf(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const given = req.get('x-csrf-token') ?? '';
  const expected = req.user?.csrf ?? '';
  const a = Buffer.from(sha256(given));
  const b = Buffer.from(sha256(expected));
  if (!given || !timingSafeEqual(a, b)) return void res.status(403).json({ error: 'csrf', message: 'missing or wrong x-csrf-token' });
  next();
}

export function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  if (req.user?.role !== 'admin') return void res.status(403).json({ error: 'forbidden', message: 'admins only' });
  next();
}

/** Failed logins per email + address: 10 per 15 minutes. */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  blocked(key: string, now = Date.now()): boolean {
    const recent = (this.failures.get(key) ?? []).filter((t) => now - t < 15 * 60_000);
    this.failures.set(key, recent);
    return recent.length >= 10;
  }
  fail(key: string, now = Date.now()): void {
    this.failures.set(key, [...(this.failures.get(key) ?? []), now]);
  }
  clear(key: string): void {
    this.failures.delete(key);
  }
}
