import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../core/config.ts';

/** A provider switched to real with a secret missing must stop the start, naming the variable (issue 12). */
describe('a real provider without its secrets', () => {
  it('Z-API credentials without ZAPI_WEBHOOK_TOKEN stop the start naming it', () => {
    expect(() => parseConfig({ ZAPI_INSTANCE_ID: 'i', ZAPI_INSTANCE_TOKEN: 't', ZAPI_CLIENT_TOKEN: 'c' })).toThrow(/ZAPI_WEBHOOK_TOKEN: required/);
  });

  it('Trio credentials without the webhook secret or signing key stop the start naming them', () => {
    const trio = { TRIO_CLIENT_ID: 'id', TRIO_CLIENT_SECRET: 's', TRIO_VIRTUAL_ACCOUNT_ID: 'va' };
    expect(() => parseConfig(trio)).toThrow(/TRIO_WEBHOOK_SECRET, TRIO_WEBHOOK_SIGNING_KEY: required/);
    expect(() => parseConfig({ ...trio, TRIO_WEBHOOK_SECRET: 'w' })).toThrow(/TRIO_WEBHOOK_SIGNING_KEY: required/);
  });

  it('the BCB rail without its client certificate and key stops the start naming them', () => {
    const bcb = { PIX_RAIL: 'bcb', BCB_PIX_BASE_URL: 'https://pix.example.com', BCB_PIX_CLIENT_ID: 'id', BCB_PIX_CLIENT_SECRET: 's' };
    expect(() => parseConfig(bcb)).toThrow(/BCB_PIX_CERT, BCB_PIX_KEY: required/);
    // (Real money needs the real ERP and fiscal API beside it.)
    const rest = { OMIE_APP_KEY: 'k', OMIE_APP_SECRET: 's', FOCUS_TOKEN: 't', MERCHANT_CNPJ: '12345678000195' };
    expect(parseConfig({ ...bcb, ...rest, BCB_PIX_CERT: '/x/cert.pem', BCB_PIX_KEY: '/x/key.pem' }).emulated.pix).toBe(false);
  });

  it('reads the receipt key and the token request style from the environment', () => {
    const config = parseConfig({ RECEIPT_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\\nabc', BCB_PIX_TOKEN_STYLE: 'form_scope', SANDBOX_LATENCY: 'sefaz=8000' });
    expect(config.env.RECEIPT_SIGNING_KEY).toContain('BEGIN PRIVATE KEY');
    expect(config.env.BCB_PIX_TOKEN_STYLE).toBe('form_scope');
    expect(() => parseConfig({ BCB_PIX_TOKEN_STYLE: 'xml' })).toThrow(/BCB_PIX_TOKEN_STYLE/);
  });
});

describe('RECEIPT_SIGNING_KEY', () => {
  it('seals receipts with the key from the environment, so every machine of a deployment signs alike', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { startTestEstorno } = await import('../../helpers/estorno.ts');
    const { publicKeyId } = await import('../../../core/signing.ts');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).replace(/\n/g, '\\n');
    const e = await startTestEstorno({ RECEIPT_SIGNING_KEY: pem });
    try {
      expect(e.services.keys.receipt.keyId).toBe(publicKeyId(publicKey));
      expect(e.services.keys.mandate.keyId).not.toBe(publicKeyId(publicKey));
    } finally {
      await e.stop();
    }
  });
});
