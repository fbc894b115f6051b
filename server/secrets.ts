import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.ts';
import { loadSigningKey, signingKeyFile, type SigningKey } from '../core/signing.ts';
import type { Store } from '../data/store.ts';

/**
 * Where the secrets a server generates for itself live (issue 16).
 *
 * - SQLite, or any mode on one machine: files under DATA_DIR (mode 0600), as
 *   always: the webhook token, the console's sandbox passwords, the signing keys.
 * - Sandbox mode on PostgreSQL: the table `sandbox_secrets`, generated once
 *   under the store's lock and read by every replica, so all of them accept the
 *   same webhook token, log in the same sandbox users and sign with the same keys.
 * - Outside sandbox on PostgreSQL nothing is generated: core/config.ts requires
 *   MANDATE_SIGNING_KEY, RECEIPT_SIGNING_KEY and ZAPI_WEBHOOK_TOKEN.
 * A key or token given in the environment always wins.
 */
export interface Secrets {
  readonly where: 'data_dir' | 'database';
  /** The named secret, made by `generate` the first time anyone asks. */
  get(name: string, generate?: () => string): Promise<string>;
  signingKey(name: SigningKeyName, pem: string | undefined): Promise<SigningKey>;
  /** After the sandbox's PostgreSQL schema was recreated: the secrets this process uses are written back. */
  restore(store: Store): Promise<void>;
}

export const randomToken = (): string => randomBytes(24).toString('base64url');

export type SigningKeyName = 'mandate-ed25519' | 'receipt-ed25519';

export function secretsFor(config: Config, store: () => Store): Secrets {
  if (secretsInDatabase(config)) return databaseSecrets(store, () => new Date(), config.dataDir);
  return {
    where: 'data_dir',
    async get(name, generate = randomToken) {
      return fileSecret(config.dataDir, name, generate);
    },
    async signingKey(name, pem) {
      return loadSigningKey(config.dataDir, name, pem);
    },
    async restore() {},
  };
}

function databaseSecrets(store: () => Store, now: () => Date, dataDir: string): Secrets {
  const known = new Map<string, string>();
  const get = async (name: string, generate: () => string = randomToken): Promise<string> => {
    const cached = known.get(name);
    if (cached !== undefined) return cached;
    const s = store();
    // Replicas starting together may each generate one: the first insert wins (ON CONFLICT DO
    // NOTHING) and everyone reads back the value that is stored.
    const value = (await s.sandboxSecrets.get(name)) ?? (await s.sandboxSecrets.putIfAbsent(name, generate(), now().toISOString()));
    known.set(name, value);
    mirror(dataDir, name, value);
    return value;
  };
  return {
    where: 'database',
    get,
    async signingKey(name, pem) {
      if (pem) return loadSigningKey('', name, pem);
      const stored = await get(name, () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      return loadSigningKey('', name, stored);
    },
    async restore(s) {
      for (const [name, value] of known) await s.sandboxSecrets.putIfAbsent(name, value, now().toISOString());
    },
  };
}

/**
 * The database's value copied under DATA_DIR (mode 0600) where a single server
 * keeps it (`keys/<name>.pem` for keys), so the tools that read DATA_DIR (npm run
 * chat, verify, mandate, a person) keep working on each replica. The database
 * stays the source: a copy that differs is overwritten.
 */
function mirror(dataDir: string, name: string, value: string): void {
  const file = name.endsWith('-ed25519') ? signingKeyFile(dataDir, name) : path.join(dataDir, name);
  try {
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === value.trim()) return;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, value, { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch {
    // A read-only DATA_DIR: the database still has it.
  }
}

/** A secret generated on first use and kept under DATA_DIR (mode 0600). */
export function fileSecret(dataDir: string, name: string, generate: () => string = randomToken): string {
  const file = path.join(dataDir, name);
  if (!existsSync(file)) writeFileSync(file, generate(), { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}

/** Whether generated secrets live in the database (sandbox mode on PostgreSQL): what the CLIs ask before reading a key. */
export function secretsInDatabase(config: Pick<Config, 'sandbox'> & { env: Pick<Config['env'], 'DATABASE_URL'> }): boolean {
  return config.sandbox && Boolean(config.env.DATABASE_URL);
}

/** The replicas' key as stored in the database, never minted (null when there is none yet). */
export async function storedSigningKey(store: Store, name: SigningKeyName): Promise<SigningKey | null> {
  const stored = await store.sandboxSecrets.get(name);
  return stored ? loadSigningKey('', name, stored) : null;
}
