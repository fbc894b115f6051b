import Anthropic from '@anthropic-ai/sdk';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../sandbox/faults.ts';
import { createModelEmulator } from '../../sandbox/scripted-model/index.ts';

/** The scripted model speaks the Messages API well enough for the real SDK, errors included. */
describe('scripted model through the real Anthropic SDK', () => {
  let server: Server;
  let baseURL: string;
  const faults = new FaultInjector();
  const emulator = createModelEmulator({ faults });
  beforeAll(async () => {
    const app = express();
    app.use('/sandbox', emulator.router);
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/anthropic`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const client = (apiKey = 'k') => new Anthropic({ apiKey, baseURL, maxRetries: 0, timeout: 2_000 });
  const tools: Anthropic.Tool[] = [{ name: 'ledger_lookup', description: 'x', input_schema: { type: 'object', properties: { order_id: { type: 'string' } } } }];

  it('answers a complaint with a tool_use the SDK parses, with unique ids and plausible usage', async () => {
    const first = await client().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 100, tools, messages: [{ role: 'user', content: 'pedido 8421 veio errado' }] });
    const second = await client().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 100, tools, messages: [{ role: 'user', content: 'pedido 8421 veio errado' }] });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content[0]).toMatchObject({ type: 'tool_use', name: 'ledger_lookup', input: { order_id: '8421' } });
    expect(first.id).not.toBe(second.id);
    expect((first.content[0] as Anthropic.ToolUseBlock).id).toMatch(/^toolu_/);
    expect(first.usage.input_tokens).toBeGreaterThan(0);
  });

  it('uses queued responses first', async () => {
    emulator.reset();
    const res = await fetch(`${baseURL.replace('/anthropic', '')}/model/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ responses: [{ content: [{ type: 'text', text: 'roteiro' }], stop_reason: 'end_turn' }] }) });
    expect(await res.json()).toEqual({ queued: 1 });
    const m = await client().messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'pedido 8421' }] });
    expect(m.content).toEqual([{ type: 'text', text: 'roteiro' }]);
    expect(emulator.queued()).toBe(0);
  });

  it('surfaces errors the way the SDK expects them', async () => {
    faults.add('model', 'http429', 1);
    await expect(client().messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'oi' }] })).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    faults.add('model', 'http500', 1);
    const overloaded = await client().messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'oi' }] }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect((overloaded as { status: number }).status).toBe(529);
    await expect(client().messages.create({ model: 'm', max_tokens: 10, messages: [] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    faults.add('model', 'timeout', 1);
    await expect(new Anthropic({ apiKey: 'k', baseURL, maxRetries: 0, timeout: 200 }).messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'oi' }] })).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
  });

  it('reports cache creation, then cache reads for an identical cached prefix', async () => {
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: `prompt ${Math.random()}`, cache_control: { type: 'ephemeral' } }];
    const a = await client().messages.create({ model: 'm', max_tokens: 10, system, tools, messages: [{ role: 'user', content: 'oi' }] });
    const b = await client().messages.create({ model: 'm', max_tokens: 10, system, tools, messages: [{ role: 'user', content: 'olá de novo' }] });
    expect(a.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(a.usage.cache_read_input_tokens).toBe(0);
    expect(b.usage.cache_read_input_tokens).toBe(a.usage.cache_creation_input_tokens);
  });
});
