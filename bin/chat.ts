import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { MARINA } from '../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../sandbox/credentials.ts';
import { fail, orFail, parseCli } from './cli.ts';
import { locateServer, noServerMessage } from './server-file.ts';

/**
 * `npm run chat [-- --phone 5511987654321]`: you are a customer on WhatsApp.
 * Each line you type reaches the running server as a Z-API "on message
 * received" webhook; the replies are read back from the Z-API emulator's outbox.
 * With piped input (`printf 'oi\nsim\n' | npm run chat`) each line waits for
 * its replies before the next one goes, and the command exits 0 at the end.
 */
const USAGE = `
usage: npm run chat [-- --phone <number>] [--name <name>] [--url <base url> --token <webhook token>]

You are a customer on WhatsApp, talking to the running server (npm start), found
through DATA_DIR/server.json. Type a message per line; Ctrl+D to leave.
  --phone   the customer's WhatsApp number (default ${MARINA.whatsapp}, Marina; 5521912345678 is João;
            an @lid id such as 65998849469@lid is a customer WhatsApp hides the number of)
  --name    the sender name on the webhook (default Cliente)
  --url     a server not started from this DATA_DIR, e.g. http://127.0.0.1:3001
  --token   its Z-API webhook token (printed in its startup banner)
Piped input: each line waits for its replies (quiet for CHAT_QUIET_MS, default
2000, at most CHAT_REPLY_TIMEOUT_MS, default 30000), then the command exits 0.
`;

loadDotEnv();
const { values } = parseCli(USAGE, {
  phone: { type: 'string' },
  name: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
});
const phone = values.phone ?? MARINA.whatsapp;
const name = values.name ?? 'Cliente';
if (!/^\d{8,15}(@lid)?$/.test(phone)) fail(`--phone must be digits only, like ${MARINA.whatsapp} (or a WhatsApp id like 65998849469@lid)`);

let base: string;
/** The sandbox this server uses: its own, or the replica's that hosts it (SANDBOX_HOST). */
let sandboxBase: string;
let token: string | undefined = values.token ?? process.env.ZAPI_WEBHOOK_TOKEN;
if (values.url) {
  base = values.url.replace(/\/$/, '');
  sandboxBase = `${base}/sandbox`;
  if (!token) fail('--url needs --token (the Z-API webhook token from that server\'s startup banner)');
} else {
  const dataDir = orFail(() => parseConfig()).dataDir;
  const found = await locateServer(dataDir);
  if (!found.ok) fail(noServerMessage(found, ', or pass --url and --token'), 1);
  if (!found.info.sandbox) fail(`The server at ${found.info.url} is not in sandbox mode: npm run chat talks to the Z-API emulator only.`, 1);
  base = found.info.url;
  sandboxBase = found.info.sandbox_url ?? `${base}/sandbox`;
  token ??= found.info.webhook_token ?? undefined;
  if (!token) fail(`The server at ${base} uses a configured ZAPI_WEBHOOK_TOKEN: pass it with --token.`);
}

type Sent = { phone: string; message: string; messageId: string; at: string };
const seen = new Set<string>();
async function outbox(): Promise<Sent[]> {
  const res = await fetch(`${sandboxBase}/zapi/outbox?phone=${encodeURIComponent(phone)}`);
  if (!res.ok) throw new Error(`the outbox answered ${res.status}`);
  return (await res.json()) as Sent[];
}
try {
  for (const m of await outbox()) seen.add(m.messageId);
} catch (error) {
  fail(`Cannot reach ${base} (${(error as Error).message}). Is \`npm start\` running?`, 1);
}

const interactive = Boolean(process.stdin.isTTY);
const color = (text: string) => (process.stdout.isTTY ? `\x1b[32m${text}\x1b[0m` : text);
/** Prints the replies not seen yet; returns how many there were. */
async function printNew(): Promise<number> {
  let count = 0;
  for (const m of await outbox()) {
    if (seen.has(m.messageId)) continue;
    seen.add(m.messageId);
    count++;
    process.stdout.write(`${interactive ? '\n' : ''}${color('Estorno:')} ${m.message.replace(/\n/g, '\n         ')}\n${interactive ? '> ' : ''}`);
  }
  return count;
}

async function send(text: string): Promise<void> {
  const body = {
    type: 'ReceivedCallback',
    instanceId: SANDBOX_CREDENTIALS.zapi.instanceId,
    messageId: `CHAT${randomBytes(8).toString('hex').toUpperCase()}`,
    phone,
    fromMe: false,
    isGroup: false,
    isNewsletter: false,
    momment: Date.now(),
    status: 'RECEIVED',
    chatName: name,
    senderName: name,
    text: { message: text },
  };
  const res = await fetch(`${base}/webhooks/zapi/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) process.stdout.write(`(the server answered ${res.status}: ${await res.text()})\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Piped input: waits until at least one reply came and then nothing for `quietMs` (or gives up after `timeoutMs`). */
async function awaitReplies(quietMs: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let got = 0;
  let lastAt = started;
  while (Date.now() - started < timeoutMs) {
    await sleep(200);
    const n = await printNew().catch(() => 0);
    if (n > 0) {
      got += n;
      lastAt = Date.now();
    } else if (got > 0 && Date.now() - lastAt >= quietMs) {
      return;
    }
  }
  if (got === 0) process.stdout.write(`(no reply within ${Math.round(timeoutMs / 1000)} s)\n`);
}

const rl = createInterface({ input: process.stdin, terminal: interactive, ...(interactive ? { output: process.stdout, prompt: '> ' } : {}) });
if (interactive) {
  process.stdout.write(`Chatting as ${phone} with ${base}. Type a message; Ctrl+D to leave.\n`);
  const poll = setInterval(() => void printNew().catch(() => undefined), 400); // the server may be restarting: keep polling
  let closed = false;
  rl.prompt();
  // Lines are sent in order, one at a time, even when typed faster than the server answers.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    const text = line.trim();
    chain = chain.then(async () => {
      if (text) await send(text).catch((error: unknown) => process.stdout.write(`(not sent: ${(error as Error).message})\n`));
      if (!closed) rl.prompt();
    });
  });
  rl.on('close', () => {
    closed = true;
    void chain.then(() => {
      clearInterval(poll);
      process.stdout.write('\n');
      process.exit(0);
    });
  });
} else {
  const quietMs = Number(process.env.CHAT_QUIET_MS ?? 2_000);
  const timeoutMs = Number(process.env.CHAT_REPLY_TIMEOUT_MS ?? 30_000);
  // Reading with `for await` keeps every line of a pipe that closes early; nothing is written to a closed interface.
  for await (const line of rl) {
    const text = line.trim();
    if (!text) continue;
    process.stdout.write(`> ${text}\n`);
    await send(text).catch((error: unknown) => fail(`Cannot reach ${base} (${(error as Error).message}). Is \`npm start\` still running?`, 1));
    await awaitReplies(quietMs, timeoutMs);
  }
  process.exit(0);
}
