import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MARINA } from '../../sandbox/seed.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { fault, startTestEstorno, waitFor } from '../helpers/estorno.ts';

/** A full refund, faults included, logged at trace level: no phone, CPF, Pix key, message text or secret in clear. */
describe('privacy of the logs', () => {
  it('holds none of the customer data or secrets', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const e = await startTestEstorno({ LOG_LEVEL: 'trace', TURN_RETRY_DELAY_MS: '50', PROVIDER_TIMEOUT_MS: '300' }, { logTo: sink });
    const complaint = 'o pedido 8421 veio errado, minha chave pix é marina.souza@example.com';
    await fault(e, 'omie', 'http500', 1);
    await e.say(MARINA.whatsapp, complaint);
    await waitFor('the summary', async () => (await e.outbox(MARINA.whatsapp)).some((m) => m.message.includes('R$ 186,00')));
    await fault(e, 'pix', 'drop_response', 1);
    await e.say(MARINA.whatsapp, 'sim');
    await e.say('81896604192873@lid', 'meu cpf é 529.982.247-25');
    await e.settle();
    await waitFor('the seal', async () => await e.services.store.database.one("SELECT 1 FROM cases WHERE status = 'sealed'"));
    const adminPassword = readFileSync(path.join(e.dataDir, 'console-admin-password'), 'utf8').trim();
    await e.stop();

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(5);
    // The logs did record the path (ids, not content): the checks below look at real lines.
    for (const event of ['whatsapp message stored', 'recent orders unavailable', 'turn done', 'Pix refund event applied']) expect(log).toContain(event);
    const forbidden = [
      MARINA.whatsapp, '987654321', '98765-4321', '87654321',
      '529.982.247-25', '52998224725', '81896604192873',
      'marina.souza@example.com', 'veio errado', complaint,
      e.webhookToken, SANDBOX_CREDENTIALS.omie.appSecret, SANDBOX_CREDENTIALS.zapi.instanceToken, SANDBOX_CREDENTIALS.zapi.clientToken,
      SANDBOX_CREDENTIALS.trio.clientSecret, SANDBOX_CREDENTIALS.trio.webhookSecret, SANDBOX_CREDENTIALS.trio.webhookSigningKey, SANDBOX_CREDENTIALS.focus.token,
      SANDBOX_CREDENTIALS.anthropic.apiKey, adminPassword, 'BEGIN PRIVATE KEY',
    ];
    for (const secret of forbidden) expect(log.includes(secret), `log contains ${secret.slice(0, 12)}…`).toBe(false);
  });
});
