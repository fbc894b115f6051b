import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { DB_FILE } from '../data/store.ts';
import { loadReceipt, publicKeyFromPem, verifyReceipt, type Verdict } from '../refunds/verify-receipt.ts';
import { verifyAllReceipts } from '../refunds/verify-all-receipts.ts';
import { cliSigningKey, fail, openConfiguredStore, orFail, parseCli, signingKeyPlaces } from './cli.ts';
import { missingDatabaseMessage } from './server-file.ts';

/**
 * `npm run verify -- <receipt id>`: exit 0 when the receipt verifies, 1 when it
 * does not (naming the step that breaks), 2 on a usage error.
 * `--all` verifies every receipt; `--public-key <file>` uses a given PEM;
 * `--export-public-key` prints the receipt public key.
 */
const USAGE = `
usage: npm run verify -- <receipt id>... | --all [--public-key <file.pem>]
       npm run verify -- --export-public-key > receipt-public-key.pem

Verifies receipts in DATA_DIR's database (default var/), or in PostgreSQL when
DATABASE_URL is set (safe while the server runs): each record's hash, the chain,
and the Ed25519 seal. Exit 0 when all are valid, 1 when one is not (naming the
step that breaks), 2 on a usage error.
`;

loadDotEnv();
const { values, positionals } = parseCli(USAGE, { all: { type: 'boolean' }, 'public-key': { type: 'string' }, 'export-public-key': { type: 'boolean' }, json: { type: 'boolean' } }, true);
const config = orFail(() => parseConfig());
const dbFile = path.join(config.dataDir, DB_FILE);
const keyFile = values['public-key'];
if (keyFile && !existsSync(keyFile)) fail(`--public-key: no file ${path.resolve(keyFile)}`);
// Never mint a key here: a wrong DATA_DIR would print a public key no receipt was signed with.
const publicKey = keyFile
  ? publicKeyFromPem(readFileSync(keyFile, 'utf8'))
  : ((await cliSigningKey(config, 'receipt-ed25519', config.env.RECEIPT_SIGNING_KEY, false)) ??
      fail(missingDatabaseMessage(config.dataDir, `no receipt key at ${signingKeyPlaces(config, 'receipt-ed25519')}`))).publicKey;
if (values['export-public-key']) {
  process.stdout.write(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  process.exit(0);
}
if (!config.env.DATABASE_URL && !existsSync(dbFile)) fail(missingDatabaseMessage(config.dataDir, `no database at ${dbFile}`));
const store = await openConfiguredStore(config);
const ids = values.all ? await store.cases.ids() : positionals;
if (ids.length === 0) fail(USAGE.trim());
let failures = 0;
let total = ids.length;
const started = Date.now();
const report = (id: string, verdict: Verdict) => {
  if (verdict.valid) {
    process.stdout.write(`${id}: valid — ${verdict.records} records, ${verdict.sealed ? `sealed (${verdict.outcome})` : 'open (not sealed yet)'}\n`);
  } else {
    failures++;
    process.stdout.write(`${id}: INVALID — ${verdict.step}: ${verdict.reason}\n`);
  }
};
if (values.all) {
  // One streaming read, verified on every core (refunds/verify-all-receipts.ts); a few receipts stay in this thread.
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  // PostgreSQL: every worker thread opens a small pool of its own.
  const source = config.env.DATABASE_URL ? { url: config.env.DATABASE_URL, schema: config.env.DATABASE_SCHEMA } : { dbFile };
  const verdicts = await verifyAllReceipts(source, pem, ids.length < 200 ? { workers: 1 } : {});
  total = verdicts.length;
  for (const { id, verdict } of verdicts) report(id, verdict);
} else {
  for (const id of ids) {
    const receipt = await loadReceipt(store, id);
    if (!receipt) {
      failures++;
      process.stdout.write(`${id}: INVALID — no such receipt\n`);
      continue;
    }
    report(id, verifyReceipt(receipt, publicKey));
  }
}
if (total > 1) process.stdout.write(`${total - failures}/${total} valid in ${Date.now() - started} ms\n`);
await store.close();
process.exit(failures === 0 ? 0 : 1);
