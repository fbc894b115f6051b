import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadSigningKey } from '../../core/signing.ts';
import { onPostgres, testStore, withTestStore } from '../helpers/test-store.ts';
import { checkMandate } from '../../refunds/mandate.ts';
import { runCli } from '../helpers/spawn.ts';

const run = promisify(execFile);
const cli = (dataDir: string, script: string, ...args: string[]) =>
  run(process.execPath, [path.resolve(`bin/${script}.ts`), ...args], { env: withTestStore({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }) }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );

describe('npm run mandate', () => {
  it('issues, changes caps (re-signed, old version kept), pauses, resumes and revokes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    expect((await cli(dir, 'mandate', 'issue', '--id', 'cm_night', '--agent', 'support-agent', '--per-refund-cents', '20000', '--window-cap-cents', '100000', '--actor', 'ana')).out).toContain('issued cm_night v1');
    expect((await cli(dir, 'mandate', 'caps', 'cm_night', '--per-refund-cents', '30000')).out).toContain('v2 (re-signed)');
    expect((await cli(dir, 'mandate', 'pause', 'cm_night')).code).toBe(2); // a reason is required
    expect((await cli(dir, 'mandate', 'pause', 'cm_night', '--reason', 'audit')).out).toContain('paused');
    const list = await cli(dir, 'mandate', 'list');
    expect(list.out).toMatch(/cm_night v2 agent=support-agent status=paused signature ok per-refund=R\$ 300,00/);
    expect((await cli(dir, 'mandate', 'resume', 'cm_night', '--reason', 'ok')).out).toContain('active');
    expect((await cli(dir, 'mandate', 'revoke', 'cm_night', '--reason', 'leak')).out).toContain('revoked');
    expect((await cli(dir, 'mandate', 'resume', 'cm_night', '--reason', 'x')).code).toBe(2);
    expect((await cli(dir, 'mandate', 'issue', '--id', 'cm_bad', '--agent', 'a', '--per-refund-cents', '1.5', '--window-cap-cents', '1')).err).toContain('--per-refund-cents must be a non-negative integer');
    const store = await testStore(dir);
    expect((await store.mandates.versions('cm_night')).map((v) => v.version)).toEqual([1, 2]);
    expect(await checkMandate(store, loadSigningKey(dir, 'mandate-ed25519'), 'cm_night', new Date())).toMatchObject({ ok: false, reason: 'mandate_inactive' });
    await store.close();
    expect((await cli(dir, 'mandate', 'export-public-key')).out).toContain('BEGIN PUBLIC KEY');
  }, 60_000);

  it('verify exits 2 without a database (saying where it looked, minting no key), 1 for an unknown receipt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    const missing = await cli(dir, 'verify', 'rcp_x');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(new RegExp(`^Nothing has run with DATA_DIR=${dir}: .*npm start`));
    expect(existsSync(path.join(dir, 'keys'))).toBe(false);
    await (await testStore(dir)).close();
    loadSigningKey(dir, 'receipt-ed25519');
    const r = await cli(dir, 'verify', 'rcp_x');
    expect(r.code).toBe(1);
    expect(r.out).toContain('no such receipt');
  }, 60_000);
});

const CLIS = ['start', 'chat', 'verify', 'mandate', 'user'] as const;

describe('every command', () => {
  it.each(CLIS)('%s answers --help and -h with its usage, exit 0', async (script) => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli(script, [flag], { env: { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'estorno-cli-')) } });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^usage: npm (start|run \w+)/);
      expect(r.err).toBe('');
    }
  });

  it.each(CLIS)('%s refuses an unknown flag with the usage, exit 2, and no stack trace', async (script) => {
    const r = await runCli(script, ['--no-such-flag'], { env: { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'estorno-cli-')) } });
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--no-such-flag'");
    expect(r.err).toContain('usage: npm');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('mandate and user refuse an unknown command before touching DATA_DIR', async () => {
    for (const script of ['mandate', 'user']) {
      const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
      const r = await cli(dir, script, 'lsit');
      expect(r.code).toBe(2);
      expect(r.err).toContain('unknown command "lsit"');
      expect(existsSync(path.join(dir, 'estorno.db'))).toBe(false);
    }
  });

  it('mandate export-public-key in a DATA_DIR without a key says so instead of minting one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    const r = await cli(dir, 'mandate', 'export-public-key');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`no mandate key at ${path.join(dir, 'keys', 'mandate-ed25519.pem')}`);
    expect(existsSync(path.join(dir, 'keys'))).toBe(false);
  });

  // SQLite only: the note is about a new database file in DATA_DIR; on PostgreSQL the database is the server's.
  it.skipIf(onPostgres)('user and mandate say so when they create a database, as a mistaken DATA_DIR would', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    expect((await cli(dir, 'user', 'list')).err).toContain(`note: no database in ${dir} yet`);
    expect((await cli(dir, 'user', 'list')).err).toBe('');
  });
});

describe('the admin commands on PostgreSQL', () => {
  it('say in one line, exit 2, when the server at DATABASE_URL does not answer (no password, no stack trace)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    for (const args of [['user', 'list'], ['mandate', 'list']]) {
      const r = await runCli(args[0]!, args.slice(1), { env: { DATA_DIR: dir, DATABASE_URL: 'postgres://estorno:s3cret@127.0.0.1:1/estorno', DATABASE_SCHEMA: 'estorno_cli' } });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^cannot open the PostgreSQL database at postgresql:\/\/127\.0\.0\.1:1\/estorno \(schema estorno_cli\): .+\n$/);
      expect(r.err).not.toContain('s3cret');
    }
  });
});

describe('npm run chat without a running server', () => {
  it('with no server.json: one line saying where it looked and what to do, exit 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    const r = await runCli('chat', [], { env: { DATA_DIR: dir }, input: 'oi\n' });
    expect(r.code).toBe(1);
    expect(r.err).toBe(`No running Estorno server found: no server.json in ${dir}. Start one with \`npm start\` (with the same DATA_DIR), or pass --url and --token.\n`);
  });

  it('with a server.json left by a crash (dead pid): says the pid is not running', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(path.join(dir, 'server.json'), JSON.stringify({ pid: dead, port: 1, url: 'http://127.0.0.1:1', public_base_url: 'http://127.0.0.1:1', webhook_token: 't', data_dir: dir, sandbox: true, started_at: new Date().toISOString() }));
    const r = await runCli('chat', [], { env: { DATA_DIR: dir }, input: 'oi\n' });
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`names pid ${dead}, which is not running`);
  });

  it('with a live pid whose port does not answer: says nothing answers at the URL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    writeFileSync(path.join(dir, 'server.json'), JSON.stringify({ pid: process.pid, port: 9, url: 'http://127.0.0.1:9', public_base_url: 'http://127.0.0.1:9', webhook_token: 't', data_dir: dir, sandbox: true, started_at: new Date().toISOString() }));
    const r = await runCli('chat', [], { env: { DATA_DIR: dir }, input: 'oi\n' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('nothing answers at http://127.0.0.1:9');
  });
});
