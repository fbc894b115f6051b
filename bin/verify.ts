import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { loadSigningKey } from '../core/signing.ts';
import { openStore, DB_FILE } from '../data/store.ts';
import { loadReceipt, publicKeyFromPem, verifyReceipt } from '../agent/verify.ts';

/**
 * `npm run verify -- <receipt id>`: exit 0 when the receipt verifies, 1 when it
 * does not (naming the step that breaks), 2 on a usage error.
 * `--all` verifies every receipt; `--public-key <file>` uses a given PEM;
 * `--export-public-key` prints the receipt public key.
 */
loadDotEnv();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { all: { type: 'boolean' }, 'public-key': { type: 'string' }, 'export-public-key': { type: 'boolean' }, json: { type: 'boolean' } },
});
const config = parseConfig();
const dbFile = path.join(config.dataDir, DB_FILE);
const keyFile = values['public-key'];
const publicKey = keyFile
  ? publicKeyFromPem(readFileSync(keyFile, 'utf8'))
  : loadSigningKey(config.dataDir, 'receipt-ed25519', config.env.RECEIPT_SIGNING_KEY).publicKey;
if (values['export-public-key']) {
  process.stdout.write(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  process.exit(0);
}
if (!existsSync(dbFile)) {
  process.stderr.write(`no database at ${dbFile} (DATA_DIR=${config.dataDir})\n`);
  process.exit(2);
}
const store = openStore(config.dataDir);
const ids = values.all ? store.cases.ids() : positionals;
if (ids.length === 0) {
  process.stderr.write('usage: npm run verify -- <receipt id> | --all\n');
  process.exit(2);
}
let failures = 0;
const started = Date.now();
for (const id of ids) {
  const receipt = loadReceipt(store, id);
  if (!receipt) {
    failures++;
    process.stdout.write(`${id}: INVALID — no such receipt\n`);
    continue;
  }
  const verdict = verifyReceipt(receipt, publicKey);
  if (verdict.valid) {
    process.stdout.write(`${id}: valid — ${verdict.records} records, ${verdict.sealed ? `sealed (${verdict.outcome})` : 'open (not sealed yet)'}\n`);
  } else {
    failures++;
    process.stdout.write(`${id}: INVALID — ${verdict.step}: ${verdict.reason}\n`);
  }
}
if (ids.length > 1) process.stdout.write(`${ids.length - failures}/${ids.length} valid in ${Date.now() - started} ms\n`);
store.close();
process.exit(failures === 0 ? 0 : 1);
