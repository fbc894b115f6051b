import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config.ts';

/** Issue 16: what replicas need from the configuration. */
const PG = 'postgres://postgres@127.0.0.1:5432/test';
const REAL = {
  ZAPI_INSTANCE_ID: 'i', ZAPI_INSTANCE_TOKEN: 't', ZAPI_CLIENT_TOKEN: 'c', ZAPI_WEBHOOK_TOKEN: 'w',
  OMIE_APP_KEY: 'k', OMIE_APP_SECRET: 's',
  TRIO_CLIENT_ID: 'a', TRIO_CLIENT_SECRET: 'b', TRIO_VIRTUAL_ACCOUNT_ID: 'v', TRIO_WEBHOOK_SECRET: 'x', TRIO_WEBHOOK_SIGNING_KEY: 'y',
  FOCUS_TOKEN: 'f', MERCHANT_CNPJ: '12345678000195',
};

describe('configuration for replicas', () => {
  it('lets ZAPI_WEBHOOK_TOKEN alone fix the webhook token in sandbox mode (Z-API stays emulated)', () => {
    const config = parseConfig({ ZAPI_WEBHOOK_TOKEN: 'shared-token-0123456789' });
    expect(config.sandbox).toBe(true);
    expect(config.emulated.zapi).toBe(true);
    expect(config.env.ZAPI_WEBHOOK_TOKEN).toBe('shared-token-0123456789');
    // Real Z-API credentials still need their webhook token.
    expect(() => parseConfig({ ZAPI_INSTANCE_ID: 'i', ZAPI_INSTANCE_TOKEN: 't', ZAPI_CLIENT_TOKEN: 'c' })).toThrow(/ZAPI_WEBHOOK_TOKEN: required/);
  });

  it('requires the signing keys and the webhook token from the environment on PostgreSQL outside sandbox mode', () => {
    expect(() => parseConfig({ ...REAL, DATABASE_URL: PG })).toThrow(/MANDATE_SIGNING_KEY, RECEIPT_SIGNING_KEY: required with DATABASE_URL outside sandbox/);
    expect(() => parseConfig({ ...REAL, DATABASE_URL: PG, MANDATE_SIGNING_KEY: 'm', RECEIPT_SIGNING_KEY: 'r' })).not.toThrow();
    // One real provider is enough to leave sandbox mode; then the webhook token is required too.
    expect(() => parseConfig({ OMIE_APP_KEY: 'k', OMIE_APP_SECRET: 's', DATABASE_URL: PG })).toThrow(/MANDATE_SIGNING_KEY, RECEIPT_SIGNING_KEY, ZAPI_WEBHOOK_TOKEN: required/);
    // SQLite (one machine) keeps generating them under DATA_DIR; sandbox mode on PostgreSQL keeps them in the database.
    expect(() => parseConfig(REAL)).not.toThrow();
    expect(parseConfig({ DATABASE_URL: PG }).sandbox).toBe(true);
  });

  it('takes SANDBOX_HOST only in sandbox mode on PostgreSQL', () => {
    const config = parseConfig({ DATABASE_URL: PG, SANDBOX_HOST: 'http://127.0.0.1:3000/' });
    expect(config.env.SANDBOX_HOST).toBe('http://127.0.0.1:3000');
    expect(() => parseConfig({ SANDBOX_HOST: 'http://127.0.0.1:3000' })).toThrow(/SANDBOX_HOST: replicas share one PostgreSQL/);
    expect(() => parseConfig({ ...REAL, DATABASE_URL: PG, MANDATE_SIGNING_KEY: 'm', RECEIPT_SIGNING_KEY: 'r', SANDBOX_HOST: 'http://127.0.0.1:3000' })).toThrow(/SANDBOX_HOST: only in sandbox mode/);
    expect(() => parseConfig({ DATABASE_URL: PG, SANDBOX_HOST: 'not a url' })).toThrow(/SANDBOX_HOST/);
  });
});
