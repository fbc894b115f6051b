import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** An Ed25519 key pair and its short id (first 16 hex of SHA-256 over the SPKI DER). */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
}

/** Where a signing key lives under DATA_DIR. */
export function signingKeyFile(dataDir: string, name: string): string {
  return path.join(dataDir, 'keys', `${name}.pem`);
}

/**
 * Loads the named Ed25519 key: from `pem` (an env variable) when given, else
 * from `DATA_DIR/keys/<name>.pem`, generated with mode 0600 on first use. The
 * key never lives in the database (outside the sandbox's replicas, server/secrets.ts),
 * so a database edit cannot re-sign anything.
 */
export function loadSigningKey(dataDir: string, name: string, pem?: string): SigningKey {
  let privatePem = pem?.replace(/\\n/g, '\n');
  if (!privatePem) {
    const file = signingKeyFile(dataDir, name);
    const dir = path.dirname(file);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
    }
    privatePem = readFileSync(file, 'utf8');
  }
  const privateKey = createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${name}: not an Ed25519 private key`);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: publicKeyId(publicKey),
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function publicKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function signText(key: SigningKey, text: string): string {
  return sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64');
}

/** Ed25519 verification; false (never a throw) for a malformed signature. */
export function verifyText(publicKey: KeyObject, text: string, signatureB64: string): boolean {
  try {
    const signature = Buffer.from(signatureB64, 'base64');
    if (signature.length !== 64) return false;
    return verify(null, Buffer.from(text, 'utf8'), publicKey, signature);
  } catch {
    return false;
  }
}
