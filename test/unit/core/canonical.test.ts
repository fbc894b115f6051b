import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../core/canonical.ts';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, recursively, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 2 }], '\u00e9': 0, Z: 1 })).toBe('{"Z":1,"a":[true,null,{"c":2,"d":"x"}],"b":1,"é":0}');
  });

  it('prints numbers the ECMAScript way and escapes strings like JSON.stringify', () => {
    expect(canonicalJson([1e21, 0.000001, -0, 'a"\n\u2028'])).toBe('[1e+21,0.000001,0,"a\\"\\n\u2028"]');
  });

  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });

  it('is stable: the same value hashes the same whatever the key order', () => {
    expect(sha256Hex(canonicalJson({ a: 1, b: 2 }))).toBe(sha256Hex(canonicalJson({ b: 2, a: 1 })));
  });
});
