import { hashPassword } from '../../console/auth.ts';
import type { TestEstorno } from './estorno.ts';

export const ADMIN = { email: 'admin@loja.test', password: 'admin-password-1', name: 'Ana Admin' };
export const STAFF = { email: 'staff@loja.test', password: 'staff-password-1', name: 'Sergio Staff' };

/** Creates the two console users a test logs in with. */
export async function seedUsers(e: TestEstorno): Promise<void> {
  for (const [u, role] of [[ADMIN, 'admin'], [STAFF, 'staff']] as const) {
    if (!await e.services.store.users.byEmail(u.email)) await e.services.store.users.create({ email: u.email, name: u.name, role, password_hash: await hashPassword(u.password), now: new Date().toISOString() });
  }
}

export interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

export async function login(e: TestEstorno, who: { email: string; password: string }): Promise<Session> {
  const res = await fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: who.email, password: who.password }) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] as string;
  const { csrf } = (await res.json()) as { csrf: string };
  return {
    cookie,
    csrf,
    setCookie,
    async call(method, path, body, headers = {}) {
      const r = await fetch(`${e.url}${path}`, {
        method,
        headers: { cookie, 'x-csrf-token': csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON (a PEM, say)
      }
      return { status: r.status, body: parsed };
    },
  };
}
