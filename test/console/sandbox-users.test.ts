import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { testStore } from '../helpers/test-store.ts';
import type { Estorno } from '../../server/app.ts';
import { mountConsole } from '../../console/routes.ts';
import { startTestEstorno } from '../helpers/estorno.ts';

const loginStatus = async (url: string, email: string, password: string) =>
  (await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).status;

describe('the console in sandbox mode', () => {
  it('creates an admin and a staff user on first start, with 0600 password files, printed in the banner, and keeps them across a restart and a sandbox reset', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-console-'));
    const config = parseConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    let banner: string[] = [];
    const e = await startTestEstorno({}, { dataDir, extend: async (app, estorno) => void (banner = (await mountConsole(app, estorno, config)).bannerLines) });
    const admin = readFileSync(path.join(dataDir, 'console-admin-password'), 'utf8');
    const staff = readFileSync(path.join(dataDir, 'console-staff-password'), 'utf8');
    expect(statSync(path.join(dataDir, 'console-admin-password')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, 'console-staff-password')).mode & 0o777).toBe(0o600);
    expect(admin).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(admin).not.toBe(staff);
    expect(banner).toEqual([`admin login: admin@estorno.local / ${admin}`, `staff login: staff@estorno.local / ${staff}`]);
    expect((await e.services.store.users.list()).map((u) => [u.email, u.role])).toEqual([['admin@estorno.local', 'admin'], ['staff@estorno.local', 'staff']]);
    // Stored as scrypt hashes, never as the password.
    expect((await e.services.store.users.byEmail('admin@estorno.local'))!.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(JSON.stringify(await e.services.store.users.list())).not.toContain(admin);
    expect(await loginStatus(e.url, 'admin@estorno.local', admin)).toBe(200);
    expect(await loginStatus(e.url, 'staff@estorno.local', staff)).toBe(200);
    expect(await loginStatus(e.url, 'staff@estorno.local', admin)).toBe(401);

    expect((await fetch(`${e.url}/sandbox/reset`, { method: 'POST' })).status).toBe(200);
    expect(await loginStatus(e.url, 'admin@estorno.local', admin)).toBe(200);
    await e.stop();

    const again = await startTestEstorno({}, { dataDir, extend: async (app, estorno) => void (banner = (await mountConsole(app, estorno, config)).bannerLines) });
    expect(banner[0]).toBe(`admin login: admin@estorno.local / ${admin}`);
    expect(await again.services.store.users.count()).toBe(2);
    await again.stop();
  });

  it('creates no user and prints no password outside sandbox mode', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-console-'));
    const store = await testStore(dataDir);
    const config = { ...parseConfig({ DATA_DIR: dataDir }), sandbox: false };
    const { bannerLines } = await mountConsole(express(), { services: { store } } as unknown as Estorno, config);
    expect(bannerLines).toEqual([]);
    expect(await store.users.count()).toBe(0);
    expect(existsSync(path.join(dataDir, 'console-admin-password'))).toBe(false);
    await store.close();
  });
});
