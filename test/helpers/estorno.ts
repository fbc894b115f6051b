import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { parseConfig } from '../../core/config.ts';
import { startEstorno, type Estorno, type StartOptions } from '../../server/app.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { mountConsole } from '../../console/routes.ts';
import { testStoreEnv } from './test-store.ts';

/**
 * The real service on a random port in sandbox mode, with its own data
 * directory, and the calls a test makes from outside: WhatsApp messages in as
 * Z-API webhooks, and what reached the emulated providers out.
 */
export interface TestEstorno extends Estorno {
  dataDir: string;
  /** Sends one WhatsApp text from `phone` as a Z-API ReceivedCallback; returns the HTTP answer. */
  say(phone: string, text: string, extra?: Record<string, unknown>): Promise<{ status: number; body: unknown; messageId: string }>;
  /** Queues exact model responses (CONTRACT.md /sandbox/model/script). */
  script(responses: Array<{ content: unknown[]; stop_reason: string }>): Promise<void>;
  outbox(phone?: string): Promise<Array<{ phone: string; message: string; messageId: string; at: string }>>;
  pixRefunds(): Promise<Array<{ refund_document_id: string; collecting_document_id: string; amount_cents: number; status: string }>>;
  fiscalNotes(): Promise<Array<{ number: string; refund_id: string; order_id: string; amount_cents: number }>>;
  /** Waits until the service is idle (turns, jobs, outbox and rail webhooks all done). */
  settle(): Promise<void>;
  /** The customer complains, the service answers, the customer says "sim", the service answers. */
  complainAndConfirm(phone: string, complaint: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestEstorno(
  env: Record<string, string> = {},
  options: Partial<Omit<StartOptions, 'config' | 'logger'>> & { dataDir?: string; keepDataDir?: boolean; logTo?: pino.DestinationStream } = {},
): Promise<TestEstorno> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'estorno-test-'));
  const config = parseConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROVIDER_TIMEOUT_MS: '2000', MODEL_MAX_RETRIES: '0', ...testStoreEnv(dataDir), ...env });
  // The service's own logger (with its redaction) when a test reads the logs.
  const logger = options.logTo ? createLogger({ level: env.LOG_LEVEL ?? 'trace', format: 'json', destination: options.logTo }) : pino({ level: env.LOG_LEVEL ?? 'silent' });
  const estorno = await startEstorno({ config, logger, pixWebhookDelaysMs: { created: 5, settled: 30 }, extend: async (app, e) => { await mountConsole(app, e, config); }, ...options });
  const json = async (url: string, init?: RequestInit) => {
    const res = await fetch(`${estorno.url}${url}`, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return Object.assign(estorno, {
    dataDir,
    async say(phone: string, text: string, extra: Record<string, unknown> = {}) {
      const messageId = `TEST${randomBytes(8).toString('hex').toUpperCase()}`;
      const res = await json(`/webhooks/zapi/${estorno.webhookToken}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'ReceivedCallback',
          instanceId: SANDBOX_CREDENTIALS.zapi.instanceId,
          messageId,
          phone,
          fromMe: false,
          isGroup: false,
          momment: Date.now(),
          status: 'RECEIVED',
          senderName: 'Cliente',
          text: { message: text },
          ...extra,
        }),
      });
      return { ...res, messageId };
    },
    async script(responses: Array<{ content: unknown[]; stop_reason: string }>) {
      const res = await json('/sandbox/model/script', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ responses }) });
      if (res.status !== 200) throw new Error(`script refused: ${JSON.stringify(res.body)}`);
    },
    async outbox(phone?: string) {
      return (await json(`/sandbox/zapi/outbox${phone ? `?phone=${phone}` : ''}`)).body;
    },
    async pixRefunds() {
      return (await json('/sandbox/pix/refunds')).body;
    },
    async fiscalNotes() {
      return (await json('/sandbox/fiscal/notes')).body;
    },
    async settle() {
      await estorno.idle();
    },
    async complainAndConfirm(phone: string, complaint: string) {
      await this.say(phone, complaint);
      await this.settle();
      await this.say(phone, 'sim');
      await this.settle();
    },
    async stop() {
      await estorno.close();
      if (!options.keepDataDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Polls until `check` holds (or fails the test after `timeoutMs`). */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function fault(e: { url: string }, provider: string, mode: string, count = 1): Promise<void> {
  const res = await fetch(`${e.url}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider, mode, count }) });
  if (res.status !== 200) throw new Error(`fault refused: ${await res.text()}`);
}

/**
 * One server for the whole describe block, back to the seed world (both the
 * emulators and the service's database) before each test.
 */
export function useResetEstorno(set: (e: TestEstorno) => void): void {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno();
    set(e);
  });
  afterAll(async () => {
    await e.stop();
  });
  beforeEach(async () => {
    await resetSandbox(e);
  });
}

/** `POST /sandbox/reset`, failing loudly: a test must not go on in the old world when a reset did not happen. */
export async function resetSandbox(e: { url: string }): Promise<void> {
  const res = await fetch(`${e.url}/sandbox/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`POST /sandbox/reset answered ${res.status}: ${await res.text()}`);
}
