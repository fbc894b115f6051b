import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { loadDotEnv } from '../core/config.ts';
import { MARINA } from '../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../sandbox/credentials.ts';

/**
 * `npm run chat [-- --phone 5511987654321]`: you are a customer on WhatsApp.
 * Each line you type reaches the running server as a Z-API "on message
 * received" webhook; the replies are read back from the Z-API emulator's outbox.
 */
loadDotEnv();
const { values } = parseArgs({
  options: {
    phone: { type: 'string', default: MARINA.whatsapp },
    name: { type: 'string', default: 'Cliente' },
    url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? '3000'}` },
    token: { type: 'string' },
  },
});
const base = (values.url as string).replace(/\/$/, '');
const phone = values.phone as string;
const tokenFile = path.resolve(process.env.DATA_DIR ?? 'var', 'zapi-webhook-token');
const token = values.token ?? process.env.ZAPI_WEBHOOK_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
if (!token) {
  process.stderr.write(`No webhook token: start the server first (npm start), or pass --token.\n`);
  process.exit(2);
}

const seen = new Set<string>();
async function outbox(): Promise<Array<{ phone: string; message: string; messageId: string; at: string }>> {
  const res = await fetch(`${base}/sandbox/zapi/outbox?phone=${encodeURIComponent(phone)}`);
  if (!res.ok) throw new Error(`outbox answered ${res.status}`);
  return (await res.json()) as Array<{ phone: string; message: string; messageId: string; at: string }>;
}

try {
  for (const m of await outbox()) seen.add(m.messageId);
} catch (error) {
  process.stderr.write(`Cannot reach ${base} (${(error as Error).message}). Is \`npm start\` running?\n`);
  process.exit(2);
}

process.stdout.write(`Chatting as ${phone} with ${base}. Type a message; Ctrl+D to leave.\n`);
const poll = setInterval(async () => {
  try {
    for (const m of await outbox()) {
      if (seen.has(m.messageId)) continue;
      seen.add(m.messageId);
      process.stdout.write(`\n\x1b[32mEstorno:\x1b[0m ${m.message.replace(/\n/g, '\n         ')}\n> `);
    }
  } catch {
    // The server may be restarting: keep polling.
  }
}, 400);

const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });
rl.prompt();
for await (const line of rl) {
  const text = line.trim();
  if (text) {
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
      chatName: values.name,
      senderName: values.name,
      text: { message: text },
    };
    const res = await fetch(`${base}/webhooks/zapi/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) process.stdout.write(`(the server answered ${res.status}: ${await res.text()})\n`);
  }
  rl.prompt();
}
// Input ended (Ctrl+D, or a piped script): give the last replies a moment to arrive.
await new Promise((r) => setTimeout(r, process.stdin.isTTY ? 0 : Number(process.env.CHAT_LINGER_MS ?? 5_000)));
clearInterval(poll);
process.stdout.write('\n');
