import { createHash } from 'node:crypto';

/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values we store: objects with
 * keys sorted by UTF-16 code units, no whitespace, strings escaped as
 * JSON.stringify does (which matches RFC 8785 §3.2.2.2), and numbers as
 * ECMAScript prints them. Non-finite numbers and undefined are refused.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold a non-finite number');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
        return `${out}]`;
      }
      // Array#sort without a comparator orders strings by UTF-16 code units, as RFC 8785 §3.2.3 asks.
      const keys = Object.keys(value as object).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

/**
 * `canonicalJson(parsed) === text` for `parsed = JSON.parse(text)`, without
 * rebuilding the string in JavaScript when it can be avoided: when every
 * object's own key order is already sorted, the canonical form is exactly
 * what the native JSON.stringify prints (same escaping, same numbers, no
 * undefined in parsed JSON). Key orders JavaScript rearranges (integer-like
 * keys come first) take the reference path.
 */
export function isCanonicalText(parsed: unknown, text: string): boolean {
  return keysSorted(parsed) ? JSON.stringify(parsed) === text : canonicalJson(parsed) === text;
}

function keysSorted(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    for (const v of value) if (!keysSorted(v)) return false;
    return true;
  }
  let prev: string | null = null;
  for (const k of Object.keys(value as object)) {
    if (prev !== null && !(prev < k)) return false;
    if (!keysSorted((value as Record<string, unknown>)[k])) return false;
    prev = k;
  }
  return true;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
