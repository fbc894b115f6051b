/**
 * Brazilian WhatsApp numbers. Z-API sends `55` + DDD + number (12–13 digits),
 * or an `@lid` id that cannot be mapped to a number (PROVIDERS.md §1.4).
 * Omie stores DDD and number apart, often with punctuation (§2.3).
 */

export type ChatId =
  | { kind: 'phone'; phone: string }
  | { kind: 'lid'; lid: string };

const LID = /^\d{5,20}@lid$/;

/** Parses Z-API's `phone` field; null for groups, newsletters and anything else. */
export function parseChatId(raw: string): ChatId | null {
  const value = raw.trim();
  if (LID.test(value)) return { kind: 'lid', lid: value };
  const phone = normalizePhone(value);
  return phone ? { kind: 'phone', phone } : null;
}

/** Digits only, with the 55 country code (required); null when it is not a plausible BR number. */
export function normalizePhone(raw: string): string | null {
  if (/[a-z@]/i.test(raw)) return null;
  const digits = raw.replace(/\D/g, '');
  if (!digits.startsWith('55') || (digits.length !== 12 && digits.length !== 13)) return null;
  return digits;
}

/** Joins Omie's `telefone1_ddd` + `telefone1_numero` into a normalised number. */
export function phoneFromParts(ddd: string | undefined, number: string | undefined): string | null {
  if (!ddd || !number) return null;
  return normalizePhone(`55${ddd.replace(/\D/g, '')}${number.replace(/\D/g, '')}`);
}

/**
 * Both spellings of a mobile number: older WhatsApp accounts may appear without
 * the ninth digit (PROVIDERS.md §6.4), so 5511987654321 and 551187654321 match.
 * Only a mobile has a legacy form, and a legacy mobile number began with 6–9:
 * 5511933334444 never matches the landline 551133334444 (landlines begin 2–5).
 */
export function phoneVariants(phone: string): string[] {
  const variants = new Set([phone]);
  if (phone.length === 13 && phone[4] === '9' && /[6-9]/.test(phone[5] ?? '')) variants.add(phone.slice(0, 4) + phone.slice(5));
  if (phone.length === 12 && /[6-9]/.test(phone[4] ?? '')) variants.add(`${phone.slice(0, 4)}9${phone.slice(4)}`);
  return [...variants];
}

export function samePhone(a: string, b: string): boolean {
  const vb = new Set(phoneVariants(b));
  return phoneVariants(a).some((v) => vb.has(v));
}

/** "*********4321": what logs and the console may show of a number. */
export function maskPhone(phone: string): string {
  return phone.length <= 4 ? '****' : `${'*'.repeat(phone.length - 4)}${phone.slice(-4)}`;
}

/** CPF check digits (Receita Federal; PROVIDERS.md §6.2). */
export function isValidCpf(raw: string): boolean {
  const d = raw.replace(/\D/g, '');
  if (d.length !== 11 || /^(\d)\1{10}$/.test(d)) return false;
  const digit = (len: number): number => {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += Number(d[i]) * (len + 1 - i);
    const r = sum % 11;
    return r < 2 ? 0 : 11 - r;
  };
  return digit(9) === Number(d[9]) && digit(10) === Number(d[10]);
}

export function cpfDigits(raw: string): string {
  return raw.replace(/\D/g, '');
}
