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
