import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The one logger. Phones, CPFs, Pix keys, message text, tokens and secrets are
 * redacted by path wherever they appear in a log object (PROVIDERS.md §7.2);
 * call sites log ids (message id, order id, refund id), never content.
 */
export const REDACT_PATHS = [
  'phone', '*.phone', 'chatId', '*.chatId', 'cpf', '*.cpf', 'taxId', '*.taxId', 'pixKey', '*.pixKey',
  'text', '*.text', 'message', '*.message', 'body', '*.body',
  'token', '*.token', 'secret', '*.secret', 'password', '*.password', 'apiKey', '*.apiKey',
  'authorization', '*.authorization', 'headers.authorization', 'headers["client-token"]', 'headers["x-webhook-token"]',
  'headers["x-webhook-secret"]', 'headers["x-webhook-signature"]', 'url', '*.url', 'req.url',
];

export function createLogger(options: { level: string; format: 'auto' | 'pretty' | 'json'; destination?: pino.DestinationStream }): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true && !options.destination);
  const base: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/**
 * A string a provider or the model chose (an event type, a rail id, a message
 * id), made fit for a log line: kept when it looks like an identifier, else
 * replaced by a short hash, so that no free text (a name, a CPF, a message)
 * reaches the logs through a field that should hold an id.
 */
export function logToken(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  if (/^[A-Za-z0-9_.:@-]{1,80}$/.test(value) && !/\d{11}/.test(value)) return value;
  return `h:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
}

/**
 * What a log line may say about an error: its class, code, the first line of
 * its message with long digit runs masked (a CPF, a phone, a key inside a
 * provider's text) and the stack's frames — never the message's other lines
 * or the error's properties, which for a body parse error quote the request
 * body (a password, a customer's message).
 */
export function errorSummary(err: unknown): { type: string; code?: string; message?: string; frames?: string[] } {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const bodyError = typeof (err as { type?: unknown }).type === 'string' && 'body' in err;
  const frames = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8).map((l) => l.trim());
  return {
    type: err.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...(bodyError ? {} : { message: (err.message.split('\n')[0] ?? '').replace(/\d[\d.\-/ ]{5,}\d/g, '[digits]').slice(0, 200) }),
    ...(frames.length ? { frames } : {}),
  };
}

