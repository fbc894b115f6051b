import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../console/auth.ts';
import { testStore, withTestStore } from '../helpers/test-store.ts';

const run = promisify(execFile);
const user = (dataDir: string, ...args: string[]) =>
  run(process.execPath, [path.resolve('bin/user.ts'), ...args], { env: withTestStore({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }) }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

describe('npm run user', () => {
  it('adds an admin with a generated password, lists and disables users', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-user-'));
    const added = await user(dir, 'add', '--email', 'ana@loja.test', '--name', 'Ana', '--role', 'admin');
    expect(added.code).toBe(0);
    const password = /with password (\S+)/.exec(added.out)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await user(dir, 'add', '--email', 'bia@loja.test', '--name', 'Bia', '--password', 'uma-senha-longa')).out).toBe('created staff bia@loja.test\n');
    expect((await user(dir, 'add', '--email', 'ana@loja.test', '--name', 'Ana')).code).toBe(2);
    expect((await user(dir, 'add', '--email', 'c@loja.test', '--name', 'C', '--role', 'root')).err).toContain('--role must be staff or admin');
    expect((await user(dir, 'add', '--email', 'd@loja.test', '--name', 'D', '--password', 'curta')).err).toContain('at least 10 characters');
    expect((await user(dir, 'disable', '--email', 'bia@loja.test')).out).toBe('disabled bia@loja.test\n');
    expect((await user(dir, 'list')).out).toBe('1\tana@loja.test\tadmin\tactive\n2\tbia@loja.test\tstaff\tdisabled\n');
    const store = await testStore(dir);
    expect(await verifyPassword(password!, (await store.users.byEmail('ana@loja.test'))!.password_hash)).toBe(true);
    expect(await verifyPassword('uma-senha-longa', (await store.users.byEmail('bia@loja.test'))!.password_hash)).toBe(true);
    await store.close();
  }, 60_000);
});
