import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testStore, withTestStore } from '../helpers/test-store.ts';
import { MARINA } from '../../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { startTestEstorno, waitFor } from '../helpers/estorno.ts';

/** SIGTERM: stop taking webhooks, finish the turn in flight, close the database; the next start resumes. */
describe('graceful shutdown', () => {
  it('finishes the turn in flight, refuses new webhooks meanwhile, and exits cleanly', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'estorno-term-'));
    const port = 4100 + Math.floor(Math.random() * 500);
    const env = withTestStore({ ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', SANDBOX_LATENCY: 'model=700' });
    const base = `http://127.0.0.1:${port}`;
    const startServer = () => spawn(process.execPath, ['bin/start.ts'], { env, stdio: 'ignore' });
    const health = async () => fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    let child = startServer();
    await waitFor('the server', health);
    const token = readFileSync(path.join(dataDir, 'zapi-webhook-token'), 'utf8').trim();
    const say = (messageId: string, text: string) =>
      fetch(`${base}/webhooks/zapi/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId, phone: MARINA.whatsapp, text: { message: text } }) });

    expect((await say('TERM-1', 'o pedido 8421 veio errado')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200)); // the first model call (700 ms) is in flight
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const during = await say('TERM-2', 'alô?').then((r) => r.status, () => 'closed');
    expect([503, 'closed']).toContain(during);
    expect(await exited).toBe(0);

    const store = await testStore(dataDir);
    expect((await store.inbox.byMessageId('TERM-1'))?.processed_at).toEqual(expect.any(String));
    expect(await store.database.all("SELECT status FROM turns")).toEqual([{ status: 'done' }]);
    expect(await store.inbox.byMessageId('TERM-2')).toBeUndefined();
    await store.close();

    child = startServer();
    await waitFor('the server again', health);
    expect((await say('TERM-2', 'alô?')).status).toBe(200);
    await waitFor('both answers', async () => {
      const out = (await (await fetch(`${base}/sandbox/zapi/outbox?phone=${MARINA.whatsapp}`)).json()) as Array<{ message: string }>;
      return out.some((m) => m.message.includes('R$ 186,00')) && out.length >= 2;
    });
    const stopped = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await stopped;
  }, 60_000);
});

/** Starting: the port is taken before the routes are mounted; a request in between is told to retry, never "404". */
describe('starting', () => {
  it('answers 503 with retry-after until every route is mounted, then serves them', async () => {
    const seen: Array<{ path: string; status: number; retryAfter: string | null }> = [];
    // `extend` runs after the sandbox and API routes are mounted but before the server says it is ready.
    const estorno = await startTestEstorno({}, {
      extend: async (_app, e) => {
        for (const p of ['/healthz', '/sandbox/zapi/outbox', '/sandbox/focus/v2/nfe/any']) {
          const res = await fetch(`${e.url}${p}`);
          seen.push({ path: p, status: res.status, retryAfter: res.headers.get('retry-after') });
        }
      },
    });
    try {
      expect(seen).toEqual([
        { path: '/healthz', status: 503, retryAfter: '1' },
        { path: '/sandbox/zapi/outbox', status: 503, retryAfter: '1' },
        { path: '/sandbox/focus/v2/nfe/any', status: 503, retryAfter: '1' },
      ]);
      expect((await fetch(`${estorno.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${estorno.url}/sandbox/zapi/outbox`)).status).toBe(200);
    } finally {
      await estorno.stop();
    }
  });
});
