import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { loadSigningKey, signingKeyFile, type SigningKey } from '../core/signing.ts';
import { secretsFor, secretsInDatabase, storedSigningKey, type SigningKeyName } from '../server/secrets.ts';
import { openDatabaseStore, type StoreConfig } from '../data/open.ts';
import type { Store } from '../data/store.ts';

/**
 * What the commands in bin/ share: `--help`/`-h` prints the usage (exit 0), an
 * unknown flag prints the error and the usage (exit 2), and a bad environment
 * is one line, never a stack trace.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCli<O extends Options>(usage: string, options: O, allowPositionals = false) {
  const all: Options = { ...options, help: { type: 'boolean', short: 'h' } };
  let parsed: { values: Record<string, string | boolean | Array<string | boolean> | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ options: all, allowPositionals, strict: true, args: process.argv.slice(2) });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage.trim()}\n`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  return parsed as unknown as { values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] };
}

/** Prints one line to stderr and exits (2: the command line or the environment is wrong; 1: the world is). */
export function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Runs `load` (usually parseConfig), turning a ConfigError into its message instead of a stack trace. */
export function orFail<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

/** The store the configuration names (SQLite in DATA_DIR, or PostgreSQL with DATABASE_URL); a database that cannot be opened is a message, not a stack trace. */
export async function openConfiguredStore(config: StoreConfig): Promise<Store> {
  try {
    return await openDatabaseStore(config);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

/**
 * A signing key as a command-line tool finds it: the PEM from the environment,
 * else DATA_DIR's file, else — sandbox mode on PostgreSQL — the replicas' key
 * in the database. Made only when `mint` (issuing a mandate makes the key a
 * first start would); exporting or verifying never mints, since a wrong
 * DATA_DIR or schema would print a key nothing was signed with: null then.
 */
export async function cliSigningKey(config: Config, name: SigningKeyName, pem: string | undefined, mint: boolean): Promise<SigningKey | null> {
  if (pem || existsSync(signingKeyFile(config.dataDir, name))) return loadSigningKey(config.dataDir, name, pem);
  if (!secretsInDatabase(config)) return mint ? loadSigningKey(config.dataDir, name) : null;
  const store = await openConfiguredStore(config);
  try {
    return mint ? await secretsFor(config, () => store).signingKey(name, undefined) : await storedSigningKey(store, name);
  } finally {
    await store.close();
  }
}

/** Where `cliSigningKey` looked, for the message when it found nothing. */
export function signingKeyPlaces(config: Config, name: SigningKeyName): string {
  const file = signingKeyFile(config.dataDir, name);
  return secretsInDatabase(config) ? `${file}, nor in the database (schema ${config.env.DATABASE_SCHEMA})` : file;
}
