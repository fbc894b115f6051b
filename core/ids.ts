import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `prefix_` + 20 random base36 characters, e.g. `rf_k3…`. */
export function newId(prefix: string, length = 20): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
}

/** An idempotency key for a rail: `[A-Za-z0-9]{1,35}` (API Pix DevolucaoId), here 32 chars. */
export function newIdempotencyKey(): string {
  return `ES${newId('x', 30).slice(2)}`;
}
