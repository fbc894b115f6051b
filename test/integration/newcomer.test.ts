import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerInfo } from '../../bin/server-file.ts';
import { waitFor } from '../helpers/estorno.ts';
import { runCli, startServer } from '../helpers/spawn.ts';

/**
 * A newcomer's path through the README, against `npm start` run as a child
 * process on a custom port and DATA_DIR: the commands find it through
 * DATA_DIR/server.json, every URL in the banner answers, piped chat works,
 * a second start on the same port says so in one line, and a clean stop
 * removes the file.
 */
describe('npm start, then the other commands', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-newcomer-'));
  const env = { DATA_DIR: dataDir };
  const serverFile = path.join(dataDir, 'server.json');
  let server: Awaited<ReturnType<typeof startServer>>;
  let info: ServerInfo;

  beforeAll(async () => {
    server = startServer({ ...env, PORT: '0' });
    await waitFor('server.json', () => existsSync(serverFile) && server.output().includes('Try it:'), 30_000);
    info = JSON.parse(readFileSync(serverFile, 'utf8')) as ServerInfo;
  }, 40_000);
  afterAll(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes DATA_DIR/server.json (mode 0600) with the port, URL, webhook token, data dir and pid', () => {
    expect(statSync(serverFile).mode & 0o777).toBe(0o600);
    expect(info).toMatchObject({ pid: server.child.pid, url: `http://127.0.0.1:${info.port}`, data_dir: dataDir, sandbox: true, webhook_token: readFileSync(path.join(dataDir, 'zapi-webhook-token'), 'utf8').trim() });
    expect(info.port).toBeGreaterThan(0);
  });

  it('every URL printed in the startup banner answers (webhooks, which take POST only, answer a POST)', async () => {
    const urls = [...new Set(server.output().match(/https?:\/\/[^\s)]+/g) ?? [])].filter((u) => !u.includes('<'));
    expect(urls).toEqual(expect.arrayContaining([`${info.url}/sandbox`, `${info.url}/console`, `${info.url}/healthz`, `${info.url}/r/public-key.pem`]));
    for (const url of urls) {
      const webhook = new URL(url).pathname.startsWith('/webhooks/');
      const res = await fetch(url, webhook ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } : { redirect: 'manual' });
      if (webhook) expect([400, 401], url).toContain(res.status);
      else expect(res.status, url).toBeLessThan(400);
    }
  });

  it('npm run chat with three piped lines sends each, waits for the last replies and exits 0', async () => {
    const r = await runCli('chat', [], { env: { ...env, CHAT_QUIET_MS: '1500' }, input: 'o pedido 8421 veio errado, quero meu dinheiro de volta\nsim\nobrigado\n' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const said = (text: string) => lines.indexOf(`> ${text}`);
    expect(said('o pedido 8421 veio errado, quero meu dinheiro de volta')).toBeGreaterThanOrEqual(0);
    expect(said('sim')).toBeGreaterThan(said('o pedido 8421 veio errado, quero meu dinheiro de volta'));
    expect(said('obrigado')).toBeGreaterThan(said('sim'));
    const before = (a: number, b: number) => lines.slice(a, b).join('\n');
    expect(before(said('o pedido 8421 veio errado, quero meu dinheiro de volta'), said('sim'))).toContain('Encontrei seu pedido #8421');
    expect(before(said('sim'), said('obrigado'))).toMatch(new RegExp(`Comprovante: ${info.url.replace(/[.:/]/g, '\\$&')}/r/rcp_[a-z0-9]+`));
    expect(lines.slice(said('obrigado') + 1).some((l) => l.startsWith('Estorno:'))).toBe(true); // the last line's reply came too
  }, 60_000);

  it('verify, user and mandate work on the DATA_DIR they are given', async () => {
    const verify = await runCli('verify', ['--all'], { env });
    expect(verify.out).toMatch(/rcp_[a-z0-9]+: valid — 7 records, sealed \(settled\)/);
    expect(verify.code).toBe(0);
    expect((await runCli('user', ['list'], { env })).out).toContain('admin@estorno.local');
    expect((await runCli('mandate', ['list'], { env })).out).toContain('cm_support v1 agent=support-agent status=active signature ok');
  }, 30_000);

  it('a second npm start on the same DATA_DIR is refused in one line, exit 1', async () => {
    const second = startServer({ ...env, PORT: '0' });
    expect(await second.exited).toBe(1);
    expect(second.output()).toBe(`Estorno is already running with DATA_DIR=${dataDir} (pid ${info.pid}, ${info.url}). Stop it first, or use another DATA_DIR.\n`);
    expect(JSON.parse(readFileSync(serverFile, 'utf8'))).toMatchObject({ pid: server.child.pid });
  }, 30_000);

  it('a second npm start on the same port is one readable line and exit 1, and leaves the running one alone', async () => {
    const otherDir = mkdtempSync(path.join(tmpdir(), 'estorno-newcomer-'));
    const second = startServer({ DATA_DIR: otherDir, PORT: String(info.port) });
    expect(await second.exited).toBe(1);
    const out = second.output().trim();
    expect(out).toMatch(new RegExp(`^estorno cannot listen on 127\\.0\\.0\\.1:${info.port}: the port is in use .*PORT=3001 npm start$`));
    expect(out.split('\n')).toHaveLength(1);
    expect(existsSync(path.join(otherDir, 'server.json'))).toBe(false);
    expect(JSON.parse(readFileSync(serverFile, 'utf8'))).toMatchObject({ pid: server.child.pid });
    rmSync(otherDir, { recursive: true, force: true });
  }, 30_000);

  it('a clean stop removes server.json, and then chat says where it looked and what to do', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(serverFile)).toBe(false);
    const r = await runCli('chat', [], { env, input: 'oi\n' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`no server.json in ${dataDir}`);
    expect(r.err).toContain('npm start');
    expect(r.out).toBe('');
  }, 30_000);
});

