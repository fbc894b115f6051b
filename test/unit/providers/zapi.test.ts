import nock from 'nock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useNock } from '../../helpers/nock.ts';
import { ProviderError } from '../../../core/errors.ts';
import { createZapiClient, splitMessage } from '../../../providers/zapi.ts';

const BASE = 'https://api.z-api.io';
const PATH = '/instances/3C4F1A2B/token/INSTANCE-SECRET-TOKEN/send-text';

describe('Z-API adapter (send-text)', () => {
  useNock();
  const client = (baseUrl?: string) =>
    createZapiClient({ ...(baseUrl ? { baseUrl } : {}), instanceId: '3C4F1A2B', instanceToken: 'INSTANCE-SECRET-TOKEN', clientToken: 'ACCOUNT-CT', timeoutMs: 200 });
  const send = (message = 'Olá, Marina!') => client().sendText('5511987654321', message);
  const failureOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => e);

  it('posts {phone, message} to the instance path on api.z-api.io by default, with the Client-Token header', async () => {
    let sent: unknown;
    nock(BASE, { reqheaders: { 'client-token': 'ACCOUNT-CT', 'content-type': /application\/json/ } })
      .post(PATH, (b) => ((sent = b), true))
      .reply(200, { zaapId: '3999984263738042930CD6ECDE9VDWSA', messageId: 'D241XXXX732339502B68', id: 'D241XXXX732339502B68' });
    expect(await send()).toEqual({ messageId: 'D241XXXX732339502B68', zaapId: '3999984263738042930CD6ECDE9VDWSA' });
    expect(sent).toEqual({ phone: '5511987654321', message: 'Olá, Marina!' });
  });

  it('talks to another base URL (the sandbox) under the same path', async () => {
    const scope = nock('http://127.0.0.1:4999').post(`/sandbox/zapi${PATH}`).reply(200, { zaapId: 'Z', messageId: 'M', id: 'M' });
    expect(await client('http://127.0.0.1:4999/sandbox/zapi/').sendText('5511987654321', 'oi')).toEqual({ messageId: 'M', zaapId: 'Z' });
    expect(scope.isDone()).toBe(true);
  });

  it('refuses a message over 4096 characters, or an empty one, without calling Z-API', async () => {
    const scope = nock(BASE).post(PATH).reply(200, { zaapId: 'Z', messageId: 'M' });
    await expect(send('a'.repeat(4097))).rejects.toThrow(RangeError);
    await expect(send('')).rejects.toThrow(RangeError);
    expect(scope.isDone()).toBe(false);
    expect(await send('a'.repeat(4096))).toMatchObject({ messageId: 'M' });
  });

  it('maps a missing client token to unauthorized and other 400s to rejected', async () => {
    nock(BASE).post(PATH).reply(400, { error: 'your client-token is not configured' });
    expect(await failureOf(send())).toMatchObject({ provider: 'zapi', failure: 'unauthorized', status: 400 });
    nock(BASE).post(PATH).reply(400, { error: 'phone is required' });
    expect(await failureOf(send())).toMatchObject({ failure: 'rejected', status: 400, outcomeUnknown: false });
  });

  it('maps 401/403 to unauthorized, 405/415 to rejected, 429 to rate_limited, 5xx to unavailable', async () => {
    const cases: Array<[number, string]> = [[401, 'unauthorized'], [403, 'unauthorized'], [405, 'rejected'], [415, 'rejected'], [429, 'rate_limited'], [500, 'unavailable'], [502, 'unavailable']];
    for (const [status, failure] of cases) {
      nock(BASE).post(PATH).reply(status, { error: 'x' });
      expect(await failureOf(send())).toMatchObject({ failure, status });
    }
  });

  it('times out, and never shows the instance token in an error', async () => {
    nock(BASE).post(PATH).delay(1_000).reply(200, { zaapId: 'Z', messageId: 'M' });
    const timeout = await failureOf(send());
    expect(timeout).toBeInstanceOf(ProviderError);
    expect(timeout).toMatchObject({ failure: 'timeout', outcomeUnknown: true });
    nock(BASE).post(PATH).reply(404, { error: 'instance not found' });
    const notFound = await failureOf(send());
    for (const e of [timeout, notFound]) expect((e as Error).message).not.toContain('INSTANCE-SECRET-TOKEN');
  });
});

describe('splitMessage', () => {
  it('keeps a short text whole and drops blank input', () => {
    expect(splitMessage('curta')).toEqual(['curta']);
    expect(splitMessage('  \n\n ')).toEqual([]);
  });

  it('prefers a paragraph break, then a line break, then a space', () => {
    const a = 'a'.repeat(30);
    const b = 'b'.repeat(30);
    const c = 'c'.repeat(10);
    // The paragraph break at 30 wins over the later space at 42 (limit 50).
    expect(splitMessage(`${a}\n\nbbbbbbbbbb ${c}${c}`, 50)).toEqual([a, `bbbbbbbbbb ${c}${c}`]);
    // The line break at 30 wins over the later space at 36 (limit 40).
    expect(splitMessage(`${a}\nbbbbb ${c}`, 40)).toEqual([a, `bbbbb ${c}`]);
    expect(splitMessage(`${a} ${b}`, 40)).toEqual([a, b]);
    // A paragraph break in the first half would leave a tiny part: the late space wins (limit 40).
    expect(splitMessage(`aa\n\n${'b'.repeat(20)} ${a}`, 40)).toEqual([`aa\n\n${'b'.repeat(20)}`, a]);
  });

  it('cuts inside a word only when the word alone is longer than the limit', () => {
    expect(splitMessage('x'.repeat(5000)).map((p) => p.length)).toEqual([4096, 904]);
    expect(splitMessage(`curto ${'y'.repeat(50)}`, 20)).toEqual(['curto', 'y'.repeat(20), 'y'.repeat(20), 'y'.repeat(10)]);
  });

  it('does not split an emoji in two', () => {
    const parts = splitMessage(`${'a'.repeat(9)}${'😀'.repeat(3)}`, 10);
    expect(parts.join('')).toBe(`${'a'.repeat(9)}${'😀'.repeat(3)}`);
    for (const p of parts) expect(p).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/);
  });

  it('for any text: no empty part, none over the limit, and the words come back in order', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'ç', 'é'), minLength: 1, maxLength: 30 });
    const sep = fc.constantFrom(' ', '\n', '\n\n', '  ');
    const text = fc.array(fc.tuple(word, sep), { minLength: 1, maxLength: 200 }).map((pairs) => pairs.map(([w, s]) => w + s).join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 31, max: 300 }), (t, max) => {
        const parts = splitMessage(t, max);
        expect(parts.every((p) => p.length > 0 && p.length <= max && p === p.trim())).toBe(true);
        expect(parts.flatMap((p) => p.split(/\s+/))).toEqual(t.trim().split(/\s+/));
      }),
    );
  });
});
