import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStore, type Store } from '../../data/store.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { freshPgDatabase, PG_URL, testSchemaName } from './pg.ts';
import { startServer } from './spawn.ts';

/**
 * Replicas as the README's "Replicas" section starts them: `node bin/start.ts`
 * processes (what `npm start` runs), one PostgreSQL schema, each with its own
 * PORT and DATA_DIR; the first hosts the sandbox, the others get
 * SANDBOX_HOST=<first's URL>. Tests talk to them over HTTP only, and read the
 * shared database through `store()` for their verdicts.
 */
interface Replica {
  name: string;
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  pid: number;
  /** Everything it printed (banner, warnings, errors). */
  output(): string;
  exited: Promise<number | null>;
}

export interface ReplicaSet {
  schema: string;
  replicas: Replica[];
  /** The first replica's URL: it hosts the sandbox. */
  host: string;
  webhookToken: string;
  /** A store on the replicas' schema (for the test's verdicts). */
  store(): Store;
  /** SIGKILL (no clean-up at all), as a machine dying. */
  kill(index: number): Promise<void>;
  /** Starts replica `index` again with its DATA_DIR and PORT (and its own variables, unless `without` names some to drop). */
  restart(index: number, without?: string[]): Promise<Replica>;
  /** A Z-API "message received" webhook to replica `index` (a fresh messageId unless given). */
  send(index: number, phone: string, text: string, messageId?: string): Promise<{ status: number; messageId: string }>;
  /** What the Z-API emulator sent to `phone` (the host's outbox). */
  outbox(phone?: string): Promise<Array<{ phone: string; message: string; messageId: string; at: string }>>;
  /** SIGTERM all, wait, remove the data directories (the schema is dropped after the test file). */
  close(): Promise<void>;
}

interface ReplicaOptions {
  /** Extra variables for every replica (e.g. SANDBOX_EXTRA_CUSTOMERS, SANDBOX_LATENCY). */
  env?: Record<string, string>;
  /** Extra variables for one replica, by index (e.g. a crash point for replica B alone). */
  envOf?: Record<number, Record<string, string>>;
  /** How long each may take to answer /healthz (the README promises 120 s). */
  healthyWithinMs?: number;
}

/** Whether the server at `url` answers /healthz with 2xx within `timeoutMs`. */
export async function healthy(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })).ok;
  } catch {
    return false;
  }
}

async function started(name: string, dataDir: string, proc: ReturnType<typeof startServer>, withinMs: number): Promise<Replica> {
  const file = path.join(dataDir, 'server.json');
  const deadline = Date.now() + withinMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`replica ${name} exited (${exitCode}) while starting:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`replica ${name} not healthy within ${withinMs} ms:\n${proc.output()}`);
    if (existsSync(file)) {
      try {
        const info = JSON.parse(readFileSync(file, 'utf8')) as { url: string; port: number; pid: number };
        if (info.pid === proc.child.pid && (await healthy(info.url))) {
          return { name, url: info.url, port: info.port, dataDir, child: proc.child, pid: info.pid, output: proc.output, exited: proc.exited };
        }
      } catch {
        // half-written: read again
      }
    }
    await sleep(100);
  }
}

export async function startReplicas(count: number, options: ReplicaOptions = {}): Promise<ReplicaSet> {
  const schema = testSchemaName();
  const withinMs = options.healthyWithinMs ?? 120_000;
  const common = {
    DATABASE_URL: PG_URL,
    DATABASE_SCHEMA: schema,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    TURN_RETRY_DELAY_MS: '200',
    ...options.env,
  };
  // Never inherited: each replica is told exactly what the README tells it.
  const clean = { SANDBOX_HOST: '', PORT: '', DATA_DIR: '' };
  const dirs: string[] = [];
  const envs: Array<Record<string, string>> = [];
  const replicas: Replica[] = [];
  const launch = async (i: number, env: Record<string, string>): Promise<Replica> => {
    const name = String.fromCharCode(65 + i);
    return started(name, env.DATA_DIR as string, startServer(env), withinMs);
  };
  const stores: Store[] = [];
  const set: ReplicaSet = {
    schema,
    replicas,
    host: '',
    webhookToken: '',
    store() {
      const s = createStore(freshPgDatabase({ schema, max: 4 }));
      stores.push(s);
      return s;
    },
    async kill(index) {
      const r = replicas[index]!;
      r.child.kill('SIGKILL');
      await r.exited;
    },
    async restart(index, without = []) {
      const env = { ...envs[index]! };
      for (const name of without) delete env[name];
      const r = await launch(index, env);
      replicas[index] = r;
      return r;
    },
    async send(index, phone, text, messageId = `RPL${randomBytes(8).toString('hex').toUpperCase()}`) {
      const body = JSON.stringify({ type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId, phone, fromMe: false, text: { message: text } });
      const res = await fetch(`${replicas[index]!.url}/webhooks/zapi/${set.webhookToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return { status: res.status, messageId };
    },
    async outbox(phone) {
      const res = await fetch(`${set.host}/sandbox/zapi/outbox${phone ? `?phone=${phone}` : ''}`, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`outbox: ${res.status}`);
      return (await res.json()) as Array<{ phone: string; message: string; messageId: string; at: string }>;
    },
    async close() {
      await Promise.all(
        replicas.map(async (r) => {
          if (r.child.exitCode !== null || r.child.signalCode !== null) return;
          r.child.kill('SIGTERM');
          const done = await Promise.race([r.exited.then(() => true), sleep(15_000).then(() => false)]);
          if (!done) {
            r.child.kill('SIGKILL');
            await r.exited;
          }
        }),
      );
      for (const s of stores.splice(0)) await s.close().catch(() => undefined);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
  try {
    const ports = await freePorts(count);
    for (let i = 0; i < count; i++) {
      const dataDir = mkdtempSync(path.join(tmpdir(), `estorno-replica-${String.fromCharCode(97 + i)}-`));
      dirs.push(dataDir);
      envs.push({ ...clean, ...common, ...options.envOf?.[i], PORT: String(ports[i]), DATA_DIR: dataDir });
    }
    // The first hosts the sandbox, the others point at it; all start at once, as the README's block does.
    set.host = `http://127.0.0.1:${ports[0]}`;
    for (let i = 1; i < count; i++) envs[i]!.SANDBOX_HOST = set.host;
    replicas.push(...(await Promise.all(envs.map((env, i) => launch(i, env)))));
    const tokens = replicas.map((r) => (JSON.parse(readFileSync(path.join(r.dataDir, 'server.json'), 'utf8')) as { webhook_token: string }).webhook_token);
    if (new Set(tokens).size !== 1) throw new Error(`replicas accept different webhook tokens: ${tokens.join(', ')}`);
    set.webhookToken = tokens[0]!;
  } catch (error) {
    await set.close();
    throw error;
  }
  return set;
}

/** `n` distinct ports free right now (bound to 0, read, released). */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    ports.add(
      await new Promise<number>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as net.AddressInfo;
          server.close(() => resolve(port));
        });
      }),
    );
  }
  return [...ports];
}
