import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createZapiClient, splitMessage } from '../../../tools/rails/zapi-whatsapp.ts';

const BASE = 'https://api.z-api.io';

describe('Z-API adapter (send-text)', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  const client = () => createZapiClient({ baseUrl: BASE, instanceId: 'INST', instanceToken: 'TOK', clientToken: 'CT', timeoutMs: 300 });

  it('posts {phone, message} to the instance path with the Client-Token header', async () => {
    nock(BASE, { reqheaders: { 'client-token': 'CT', 'content-type': 'application/json' } })
      .post('/instances/INST/token/TOK/send-text', { phone: '5511987654321', message: 'Olá' })
      .reply(200, { zaapId: 'Z1', messageId: 'M1', id: 'M1' });
    expect(await client().sendText('5511987654321', 'Olá')).toEqual({ messageId: 'M1', zaapId: 'Z1' });
  });

  it('maps a missing client token to unauthorized and 5xx to unavailable', async () => {
    nock(BASE).post('/instances/INST/token/TOK/send-text').reply(400, { error: 'your client-token is not configured' });
    await expect(client().sendText('5511987654321', 'x')).rejects.toMatchObject({ provider: 'zapi', failure: 'unauthorized' });
    nock(BASE).post('/instances/INST/token/TOK/send-text').reply(502, 'bad gateway');
    await expect(client().sendText('5511987654321', 'x')).rejects.toMatchObject({ failure: 'unavailable' });
  });

  it('refuses a message over 4096 characters before sending it', async () => {
    await expect(client().sendText('5511987654321', 'a'.repeat(4097))).rejects.toThrow(RangeError);
  });

  it('splits long replies on paragraph, line or word boundaries', () => {
    const para = `${'palavra '.repeat(400).trim()}\n\n${'outra '.repeat(400).trim()}`;
    const parts = splitMessage(para, 4096);
    expect(parts.every((p) => p.length > 0 && p.length <= 4096)).toBe(true);
    expect(parts.join(' ').replace(/\s+/g, ' ')).toBe(para.replace(/\s+/g, ' '));
    expect(parts[0]?.endsWith('palavra')).toBe(true);
    expect(splitMessage('curta')).toEqual(['curta']);
    expect(splitMessage('x'.repeat(5000)).map((p) => p.length)).toEqual([4096, 904]);
  });
});
