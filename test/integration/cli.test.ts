import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadSigningKey } from '../../core/signing.ts';
import { openStore } from '../../data/store.ts';
import { checkMandate } from '../../tools/mandate.ts';

const run = promisify(execFile);
const cli = (dataDir: string, script: string, ...args: string[]) =>
  run(process.execPath, [path.resolve(`bin/${script}.ts`), ...args], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' } }).then(
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
    const store = openStore(dir);
    expect(store.mandates.versions('cm_night').map((v) => v.version)).toEqual([1, 2]);
    expect(checkMandate(store, loadSigningKey(dir, 'mandate-ed25519'), 'cm_night', new Date())).toMatchObject({ ok: false, reason: 'mandate_inactive' });
    store.close();
    expect((await cli(dir, 'mandate', 'export-public-key')).out).toContain('BEGIN PUBLIC KEY');
  }, 60_000);

  it('verify exits 2 without a database, 1 for an unknown receipt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'estorno-cli-'));
    expect((await cli(dir, 'verify', 'rcp_x')).code).toBe(2);
    openStore(dir).close();
    const r = await cli(dir, 'verify', 'rcp_x');
    expect(r.code).toBe(1);
    expect(r.out).toContain('no such receipt');
  }, 60_000);
});
