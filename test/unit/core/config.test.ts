import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';

describe('configuration', () => {
  it('defaults to the sandbox on 127.0.0.1:3000 with every provider emulated', () => {
    const config = parseConfig({});
    expect(config.env.PORT).toBe(3000);
    expect(config.env.HOST).toBe('127.0.0.1');
    expect(config.sandbox).toBe(true);
    expect(config.emulated).toEqual({ model: true, zapi: true, omie: true, pix: true, fiscal: true });
  });

  it('switches each provider to real independently when its credentials are given', () => {
    const config = parseConfig({ ANTHROPIC_API_KEY: 'sk-test', OMIE_APP_KEY: 'k', OMIE_APP_SECRET: 's' });
    expect(config.emulated).toEqual({ model: false, zapi: true, omie: false, pix: true, fiscal: true });
  });

  it('stops with a message naming the bad variable', () => {
    expect(() => parseConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => parseConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => parseConfig({ MERCHANT_CNPJ: '12.345' })).toThrow(/MERCHANT_CNPJ/);
  });

  it('names the missing half of a provider credential pair', () => {
    expect(() => parseConfig({ OMIE_APP_KEY: 'k' })).toThrow(/OMIE_APP_SECRET: required when OMIE_APP_KEY is set/);
  });

  it('takes PostgreSQL from DATABASE_URL (schema public unless DATABASE_SCHEMA), and refuses any other URL without echoing it', () => {
    expect(parseConfig({}).env.DATABASE_URL).toBeUndefined();
    const pg = parseConfig({ DATABASE_URL: 'postgresql://u:secret@db:5432/estorno' });
    expect(pg.env.DATABASE_URL).toBe('postgresql://u:secret@db:5432/estorno');
    expect(pg.env.DATABASE_SCHEMA).toBe('public');
    expect(parseConfig({ DATABASE_URL: 'postgres://db/x', DATABASE_SCHEMA: 'tenant_1' }).env.DATABASE_SCHEMA).toBe('tenant_1');
    expect(() => parseConfig({ DATABASE_URL: 'mysql://u:secret@db/x' })).toThrow(/DATABASE_URL: must be a PostgreSQL URL/);
    expect(() => parseConfig({ DATABASE_URL: 'mysql://u:secret@db/x' })).not.toThrow(/secret/);
    expect(() => parseConfig({ DATABASE_URL: 'postgres://db/x', DATABASE_SCHEMA: 'Bad-Name' })).toThrow(/DATABASE_SCHEMA/);
  });

  it('refuses the BCB rail without its credentials (it has no emulator)', () => {
    expect(() => parseConfig({ PIX_RAIL: 'bcb' })).toThrow(/PIX_RAIL/);
  });
});

describe('configuration from a copied .env.example', () => {
  it('treats empty values as unset', () => {
    const config = parseConfig({ ANTHROPIC_BASE_URL: '', PORT: '', MERCHANT_CNPJ: ' ' });
    expect(config.env.PORT).toBe(3000);
    expect(config.env.ANTHROPIC_BASE_URL).toBeUndefined();
  });
});
