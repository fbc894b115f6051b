import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * The whole configuration, parsed once at start (CONTRACT.md "Commands").
 * A provider is real when its credentials are present, emulated otherwise;
 * each switch is independent.
 */

const optional = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);
const url = z.url({ protocol: /^https?$/ });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65535),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** A request (headers and body) must arrive whole within this time. */
  HTTP_REQUEST_TIMEOUT_MS: int(15_000, 500, 300_000),
  /** Open sockets at most; more are closed at once. */
  HTTP_MAX_CONNECTIONS: int(2_048, 1, 100_000),
  DATA_DIR: z.string().min(1).default('var'),
  /** PostgreSQL instead of SQLite in DATA_DIR: postgres://user:password@host:5432/database. Replicas share one. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a PostgreSQL URL, postgres://user:password@host:5432/database (unset: SQLite in DATA_DIR)')
    .optional(),
  /** The PostgreSQL schema Estorno's tables live in (created if missing). */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lowercase letters, digits and _, at most 63').default('public'),
  /** Where customers reach this server (receipt links in WhatsApp); defaults to the server's own URL. */
  PUBLIC_BASE_URL: url.transform((v) => v.replace(/\/+$/, '')).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),

  ANTHROPIC_API_KEY: optional,
  ANTHROPIC_BASE_URL: url.optional(),
  ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
  MODEL_TIMEOUT_MS: int(60_000, 1_000, 600_000),
  MODEL_MAX_RETRIES: int(2, 0, 10),
  AGENT_MAX_ITERATIONS: int(8, 1, 50),
  AGENT_MAX_TOKENS: int(1024, 64, 32_000),
  /** Unset: 1500 ms in production (one answer per burst), 0 elsewhere (tests drive bursts explicitly). */
  TURN_DEBOUNCE_MS: z.coerce.number().int().min(0).max(10_000).optional(),
  /** How long the model may keep failing a turn before the conversation goes to staff (reason model_unavailable). */
  MODEL_OUTAGE_HANDOFF_MS: int(120_000, 0, 86_400_000),
  /** Staff hours in São Paulo time, told to customers at a handoff: "<first day>-<last day> HH:MM-HH:MM", days 0 (Sunday) to 6. */
  BUSINESS_HOURS: z.string().regex(/^[0-6]-[0-6] \d{1,2}:\d{2}-\d{1,2}:\d{2}$/, 'like "1-5 09:00-18:00"').default('1-5 09:00-18:00'),
  TURN_CONCURRENCY: int(128, 1, 10_000),
  AGENT_PREFETCH_ORDERS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: int(20, 1, 10_000),
  /** Model calls per minute for all customers together (a budget against floods of new chats). */
  MODEL_CALLS_PER_MINUTE: int(600, 1, 1_000_000),
  TURN_RETRY_DELAY_MS: int(5_000, 10, 600_000),

  ZAPI_BASE_URL: url.default('https://api.z-api.io'),
  ZAPI_INSTANCE_ID: optional,
  ZAPI_INSTANCE_TOKEN: optional,
  ZAPI_CLIENT_TOKEN: optional,
  ZAPI_WEBHOOK_TOKEN: optional,

  OMIE_BASE_URL: url.default('https://app.omie.com.br'),
  OMIE_APP_KEY: optional,
  OMIE_APP_SECRET: optional,
  /** Where the merchant's integration stores the Pix EndToEndId/txid in the order (dotted path), if it does. */
  OMIE_PIX_ID_FIELD: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'a dotted path like "cabecalho.codigo_pedido_integracao"').optional(),

  PIX_RAIL: z.enum(['trio', 'bcb']).default('trio'),
  TRIO_BASE_URL: url.default('https://api.trio.com.br'),
  TRIO_CLIENT_ID: optional,
  TRIO_CLIENT_SECRET: optional,
  TRIO_VIRTUAL_ACCOUNT_ID: optional,
  TRIO_WEBHOOK_SECRET: optional,
  TRIO_WEBHOOK_SIGNING_KEY: optional,
  BCB_PIX_BASE_URL: url.optional(),
  BCB_PIX_CLIENT_ID: optional,
  BCB_PIX_CLIENT_SECRET: optional,
  /** PSP-issued client certificate and key (mTLS on every call, token included): PEM file path, PEM text or base64 PEM. */
  BCB_PIX_CERT: optional,
  BCB_PIX_KEY: optional,
  BCB_PIX_CA: optional,
  BCB_PIX_KEY_PASSPHRASE: optional,
  BCB_PIX_TOKEN_STYLE: z.enum(['json_basic', 'form_scope']).default('json_basic'),
  BCB_PIX_TOKEN_PATH: optional,
  BCB_PIX_TOKEN_SCOPE: z.string().trim().min(1).default('pix.read pix.write'),
  BCB_PIX_API_PREFIX: z.string().regex(/^(\/[A-Za-z0-9._-]+)*$/, 'like "/v2" or "/pix/v2"').default('/v2'),

  FOCUS_BASE_URL: url.default('https://api.focusnfe.com.br'),
  FOCUS_TOKEN: optional,
  MERCHANT_CNPJ: z.string().regex(/^\d{14}$/, 'must be 14 digits').optional(),
  /** The merchant's UF: intra/interstate CFOP of a return when the sale's CFOP does not tell. */
  MERCHANT_UF: z.string().regex(/^[A-Z]{2}$/, 'two capital letters, e.g. SP').optional(),
  /** Tax situations of the NF-e de devolução items (Omie's NF-e carries none per item). Defaults: Focus's own devolução example. */
  FOCUS_ICMS_ORIGEM: z.string().regex(/^[0-8]$/).default('0'),
  FOCUS_ICMS_SITUACAO: z.string().regex(/^\d{2,3}$/).default('103'),
  FOCUS_PIS_SITUACAO: z.string().regex(/^\d{2}$/).default('99'),
  FOCUS_COFINS_SITUACAO: z.string().regex(/^\d{2}$/).default('99'),

  PROVIDER_TIMEOUT_MS: int(10_000, 100, 120_000),
  /** How long a query may wait for another process's SQLite lock (the event loop waits with it). */
  SQLITE_BUSY_TIMEOUT_MS: int(250, 0, 10_000),
  PIX_REFUND_WINDOW_DAYS: int(90, 1, 365),
  RECONCILE_PENDING_AFTER_MS: int(600_000, 1_000, 86_400_000),
  /** A refund the rail neither confirmed nor denied is put in front of staff after this long. */
  UNKNOWN_REFUND_REVIEW_AFTER_MS: int(1_800_000, 1_000, 7 * 86_400_000),
  /**
   * Sandbox mode: unset = automatic (on when WhatsApp, ERP, Pix rail and fiscal
   * API are all emulated); "1" = required (refuses to start next to any real
   * credential); "0" = forbidden (refuses to start with any provider emulated).
   */
  SANDBOX: z.enum(['0', '1']).optional(),
  MANDATE_SIGNING_KEY: optional,
  /** Ed25519 PKCS#8 PEM that seals receipts; every machine of one deployment must share it. */
  RECEIPT_SIGNING_KEY: optional,

  /** Sandbox only: emulated latencies, e.g. "model=1500,omie=300,pix=500,fiscal=800,zapi=0". */
  SANDBOX_LATENCY: z.string().regex(/^(\s*(model|omie|pix|fiscal|zapi|sefaz)=\d{1,6}\s*)(,\s*(model|omie|pix|fiscal|zapi|sefaz)=\d{1,6}\s*)*$/, 'like "model=1500,omie=300,sefaz=8000"').optional(),
  /** Sandbox only: when the emulated rail posts its refund webhooks, e.g. "created=20,settled=2000". */
  SANDBOX_PIX_WEBHOOKS: z.string().regex(/^created=\d{1,6},settled=\d{1,6}$/, 'like "created=20,settled=2000"').optional(),
  SANDBOX_EXTRA_CUSTOMERS: int(0, 0, 20_000),
  /**
   * Replicas in sandbox mode: the base URL of the replica that hosts the sandbox
   * (e.g. http://127.0.0.1:3000). This replica then runs no emulators and no
   * /sandbox routes of its own; its providers and the scripted model are that
   * replica's /sandbox/... (README "Replicas"). Needs DATABASE_URL.
   */
  SANDBOX_HOST: url.transform((v) => v.replace(/\/+$/, '')).optional(),
});

/** "model=1500,omie=300" → {model: 1500, omie: 300}. */
export function parsePairs(text: string | undefined): Record<string, number> {
  if (!text) return {};
  return Object.fromEntries(text.split(',').map((p) => p.trim().split('=')).map(([k, v]) => [k as string, Number(v)]));
}

export type Env = z.infer<typeof schema>;

export interface Config {
  env: Env;
  dataDir: string;
  /** Which providers are the emulators on this server. */
  emulated: { model: boolean; zapi: boolean; omie: boolean; pix: boolean; fiscal: boolean };
  /**
   * The whole service is a sandbox: every provider that reaches customers,
   * orders, money or the tax authority is emulated. Only then do the sandbox's
   * control routes, its console users and its published credentials exist.
   * (The model alone may be real: it reaches none of those.)
   */
  sandbox: boolean;
}

/** Reads `.env` (if present) under the process's own environment, which wins. */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = path.join(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

export function parseConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty value (as copied from .env.example) means "not set".
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const env = result.data;
  const bothOrNeither = (names: Array<keyof Env>): boolean => {
    const set = names.filter((n) => env[n] !== undefined);
    if (set.length !== 0 && set.length !== names.length) {
      const missing = names.filter((n) => env[n] === undefined);
      throw new ConfigError(`invalid configuration:\n  ${missing.join(', ')}: required when ${set.join(', ')} is set`);
    }
    return set.length === names.length;
  };
  // ZAPI_WEBHOOK_TOKEN alone keeps Z-API emulated: it only fixes the token every replica accepts.
  const zapiReal = bothOrNeither(['ZAPI_INSTANCE_ID', 'ZAPI_INSTANCE_TOKEN', 'ZAPI_CLIENT_TOKEN']);
  if (zapiReal) bothOrNeither(['ZAPI_INSTANCE_ID', 'ZAPI_WEBHOOK_TOKEN']);
  const omieReal = bothOrNeither(['OMIE_APP_KEY', 'OMIE_APP_SECRET']);
  const pixReal =
    env.PIX_RAIL === 'trio'
      ? bothOrNeither(['TRIO_CLIENT_ID', 'TRIO_CLIENT_SECRET', 'TRIO_VIRTUAL_ACCOUNT_ID', 'TRIO_WEBHOOK_SECRET', 'TRIO_WEBHOOK_SIGNING_KEY'])
      : bothOrNeither(['BCB_PIX_BASE_URL', 'BCB_PIX_CLIENT_ID', 'BCB_PIX_CLIENT_SECRET', 'BCB_PIX_CERT', 'BCB_PIX_KEY']);
  const fiscalReal = bothOrNeither(['FOCUS_TOKEN', 'MERCHANT_CNPJ']);
  if (env.PIX_RAIL === 'bcb' && !pixReal) {
    throw new ConfigError('invalid configuration:\n  PIX_RAIL: "bcb" has no emulator; set BCB_PIX_* or use "trio"');
  }
  const emulated = {
    model: env.ANTHROPIC_API_KEY === undefined,
    zapi: !zapiReal,
    omie: !omieReal,
    pix: !pixReal,
    fiscal: !fiscalReal,
  };
  // Real customers are never told of emulated orders, refunds or notes, and real money
  // never moves for an emulated order or without a real credit note.
  const needs = (what: string, real: boolean, others: Array<[string, boolean]>) => {
    const fake = others.filter(([, emulatedOther]) => emulatedOther).map(([name]) => name);
    if (real && fake.length > 0) throw new ConfigError(`invalid configuration:\n  ${what} is real but ${fake.join(', ')} ${fake.length > 1 ? 'are' : 'is'} emulated: give their credentials too, or remove ${what}'s`);
  };
  needs('Z-API (ZAPI_*)', !emulated.zapi, [['Omie (OMIE_*)', emulated.omie], ['the Pix rail', emulated.pix], ['the fiscal API (FOCUS_TOKEN, MERCHANT_CNPJ)', emulated.fiscal]]);
  needs('the Pix rail', !emulated.pix, [['Omie (OMIE_*)', emulated.omie], ['the fiscal API (FOCUS_TOKEN, MERCHANT_CNPJ)', emulated.fiscal]]);
  const world = { zapi: emulated.zapi, omie: emulated.omie, pix: emulated.pix, fiscal: emulated.fiscal };
  const sandbox = Object.values(world).every(Boolean);
  if (env.SANDBOX === '1') {
    const real = (Object.keys(emulated) as Array<keyof typeof emulated>).filter((k) => !emulated[k]);
    if (real.length > 0) throw new ConfigError(`invalid configuration:\n  SANDBOX: "1" refuses to start next to real credentials (${real.join(', ')}); remove them or unset SANDBOX`);
  }
  if (env.SANDBOX === '0') {
    const fake = (Object.keys(emulated) as Array<keyof typeof emulated>).filter((k) => emulated[k]);
    if (fake.length > 0) throw new ConfigError(`invalid configuration:\n  SANDBOX: "0" needs every provider real; emulated: ${fake.join(', ')}`);
  }
  if (env.SANDBOX_HOST !== undefined) {
    if (!sandbox) throw new ConfigError('invalid configuration:\n  SANDBOX_HOST: only in sandbox mode (every provider emulated); remove it next to real credentials');
    if (env.DATABASE_URL === undefined) throw new ConfigError('invalid configuration:\n  SANDBOX_HOST: replicas share one PostgreSQL; set DATABASE_URL too');
  }
  if (env.DATABASE_URL !== undefined && !sandbox) {
    // Every replica must accept the same webhooks and sign with the same keys: never generated per machine.
    const missing = (['MANDATE_SIGNING_KEY', 'RECEIPT_SIGNING_KEY', 'ZAPI_WEBHOOK_TOKEN'] as const).filter((n) => env[n] === undefined);
    if (missing.length > 0) throw new ConfigError(`invalid configuration:\n  ${missing.join(', ')}: required with DATABASE_URL outside sandbox mode (every replica shares them; they are never generated per machine)`);
  }
  return {
    env,
    dataDir: path.resolve(env.DATA_DIR),
    emulated,
    sandbox,
  };
}
