import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config.ts';

describe('PUBLIC_BASE_URL', () => {
  it('is optional (the server then uses its own URL) and loses a trailing slash', () => {
    expect(parseConfig({}).env.PUBLIC_BASE_URL).toBeUndefined();
    expect(parseConfig({ PUBLIC_BASE_URL: 'https://loja.example/suporte/' }).env.PUBLIC_BASE_URL).toBe('https://loja.example/suporte');
  });

  it('refuses what is not an http(s) URL, naming the variable', () => {
    expect(() => parseConfig({ PUBLIC_BASE_URL: 'loja.example' })).toThrow(/PUBLIC_BASE_URL/);
    expect(() => parseConfig({ PUBLIC_BASE_URL: 'ftp://loja.example' })).toThrow(/PUBLIC_BASE_URL/);
  });
});
