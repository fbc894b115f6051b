import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
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

/** `scrypt$N$r$p$salt$key` with a random 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return encodeHash(salt, key);
}

/** The same hash, blocking: only for the sandbox's users at start, before any request is served. */
export function hashPasswordSync(password: string): string {
  const salt = randomBytes(16);
  return encodeHash(salt, scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }));
}

const encodeHash = (salt: Buffer, key: Buffer) => `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;

let decoy: string | undefined;
/** A hash of no one's password: an unknown email costs the same scrypt run as a wrong password. */
export function decoyHash(): string {
  decoy ??= hashPasswordSync(randomBytes(16).toString('hex'));
  return decoy;
}

/** Constant-time check of a password against a stored `scrypt$…` hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** 16 random characters (96 bits), URL-safe: for the sandbox users and `npm run user -- add`. */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The logged-in user of a console request. */
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

/** One cookie's value from the request (no cookie-parser dependency for a single cookie). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** A new session: 32 random bytes in the cookie, their SHA-256 and a CSRF token in the database, 12 h. */
export async function startSession(store: Store, res: Response, req: Request, user: UserRow, now: Date): Promise<{ csrf: string }> {
  await store.users.deleteExpiredSessions(now.toISOString());
  const value = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  await store.users.createSession({ id_hash: sha256(value), user_id: user.id, csrf_token: csrf, created_at: now.toISOString(), expires_at: new Date(now.getTime() + SESSION_MS).toISOString() });
  res.cookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: SESSION_MS });
  return { csrf };
}

/** Loads the session's user into `req.user`; answers 401 when there is none. */
export function requireSession(store: () => Store, now: () => Date) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const value = readCookie(req, SESSION_COOKIE);
    const found = value ? await (await store()).users.session(sha256(value), (await now()).toISOString()) : undefined;
    if (!found) return void res.status(401).json({ error: 'unauthorized', message: 'log in first' });
    req.user = { id: found.user.id, email: found.user.email, name: found.user.name, role: found.user.role, csrf: found.session.csrf_token, sessionHash: found.session.id_hash };
    await next();
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

/** Admin-only routes: staff get 403. */
export function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  if (req.user?.role !== 'admin') return void res.status(403).json({ error: 'forbidden', message: 'admins only' });
  next();
}

/**
 * Failed logins per email + address: 10 per 15 minutes, counted in the database
 * (rate_events) so every replica sees every attempt.
 */
export class LoginThrottle {
  static readonly MAX = 10;
  static readonly WINDOW_MS = 15 * 60_000;
  private readonly store: () => Store;

  constructor(store: () => Store) {
    this.store = store;
  }

  /**
   * Counts an attempt before the password is hashed (a failure until it
   * succeeds): parallel guesses, on one replica or several, cannot all slip
   * past the limit while scrypt runs. False when the key is blocked.
   */
  async attempt(key: string, now = Date.now()): Promise<boolean> {
    const s = this.store();
    return s.tx(async (t) => {
      await s.lock(`rate:login:${key}`);
      return (await t.rates.take('login', [{ key, max: LoginThrottle.MAX }], now, LoginThrottle.WINDOW_MS)) === 0;
    });
  }

  async clear(key: string): Promise<void> {
    await this.store().rates.clear('login', key);
  }
}
