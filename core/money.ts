/**
 * Money is integer cents (BRL) everywhere on the money path (DESIGN invariant 8).
 * Providers that speak decimals (Omie's JSON numbers, API Pix's "7.89" strings)
 * are converted here, by string arithmetic, never by multiplying floats.
 */

const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });

/** A non-negative safe integer amount in cents. */
export function isCents(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** "R$ 186,00" for 18600. The formatter takes a float only to print it. */
export function formatBRL(cents: number): string {
  assertCents(cents);
  return brl.format(cents / 100).replace(/\u00a0/g, ' ');
}

export function assertCents(cents: number): void {
  if (!isCents(cents)) throw new RangeError(`not an amount in cents: ${String(cents)}`);
}

/**
 * Parses a decimal amount in reais ("186", "75.5", 75.5, "0.07") into cents.
 * Rejects more than two decimals, exponents and negatives instead of rounding.
 */
export function reaisToCents(value: number | string): number {
  const text = typeof value === 'number' ? numberToPlainString(value) : value.trim();
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new RangeError(`not a decimal amount in reais: ${JSON.stringify(value)}`);
  const whole = match[1] as string;
  const fraction = (match[2] ?? '').padEnd(2, '0');
  const cents = Number(whole) * 100 + Number(fraction);
  assertCents(cents);
  return cents;
}

/** 789 -> "7.89", the API Pix `valor` format. */
export function centsToDecimalString(cents: number): string {
  assertCents(cents);
  const whole = Math.trunc(cents / 100);
  const fraction = String(cents % 100).padStart(2, '0');
  return `${whole}.${fraction}`;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not an amount: ${value}`);
  // Number#toString gives the shortest round-trip decimal ("75.5" for 75.5),
  // which is exactly what the provider meant; exponent forms are rejected above.
  return value.toString();
}
