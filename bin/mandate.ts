import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { formatBRL } from '../core/money.ts';
import { changeCaps, issueMandate, listMandates, setMandateStatus } from '../refunds/mandate.ts';
import { DB_FILE } from '../data/store.ts';
import { cliSigningKey, fail, openConfiguredStore, orFail, parseCli, signingKeyPlaces } from './cli.ts';
import { missingDatabaseMessage, newDatabaseNote } from './server-file.ts';

/**
 * `npm run mandate -- <command>`: the admin's spend mandates, on the same
 * database the service uses (safe while it runs).
 *
 *   list
 *   show <id>
 *   issue --id <id> --agent <agent_id> --per-refund-cents N --window-cap-cents N [--window-seconds 86400] [--expires ISO]
 *   caps <id> [--per-refund-cents N] [--window-cap-cents N] [--window-seconds N] [--expires ISO]   (re-signed as a new version)
 *   pause <id> --reason "…" | resume <id> --reason "…" | revoke <id> --reason "…"
 *   export-public-key
 */
const USAGE = `
usage: npm run mandate -- <command>

  list
  show <id>
  issue --id <id> --agent <agent_id> --per-refund-cents N --window-cap-cents N [--window-seconds 86400] [--expires ISO]
  caps <id> [--per-refund-cents N] [--window-cap-cents N] [--window-seconds N] [--expires ISO]   (re-signed as a new version)
  pause <id> --reason "…" | resume <id> --reason "…" | revoke <id> --reason "…"
  export-public-key

Works on DATA_DIR's database (default var/), safe while the server runs; the
next refund the server guards sees the change. --actor names who did it
(default cli:$USER).
`;

loadDotEnv();
const { values, positionals } = parseCli(
  USAGE,
  {
    id: { type: 'string' },
    agent: { type: 'string' },
    'per-refund-cents': { type: 'string' },
    'window-cap-cents': { type: 'string' },
    'window-seconds': { type: 'string' },
    expires: { type: 'string' },
    reason: { type: 'string' },
    actor: { type: 'string' },
  },
  true,
);
values.actor ??= process.env.USER ? `cli:${process.env.USER}` : 'cli';
const [command, target] = positionals;
const config = orFail(() => parseConfig());
if (!command) fail(USAGE.trim());
if (!['list', 'show', 'issue', 'caps', 'pause', 'resume', 'revoke', 'export-public-key'].includes(command)) fail(`unknown command "${command}"\n\n${USAGE.trim()}`);
// Exporting never mints a key: a wrong DATA_DIR would print a key no mandate was signed with.
const key =
  (await cliSigningKey(config, 'mandate-ed25519', config.env.MANDATE_SIGNING_KEY, command !== 'export-public-key')) ??
  fail(missingDatabaseMessage(config.dataDir, `no mandate key at ${signingKeyPlaces(config, 'mandate-ed25519')}`));
const now = new Date();

function cents(name: 'per-refund-cents' | 'window-cap-cents' | 'window-seconds'): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw)) fail(`--${name} must be a non-negative integer (cents or seconds), got "${raw}"`);
  return Number(raw);
}

if (command === 'export-public-key') {
  process.stdout.write(key.publicKeyPem);
  process.exit(0);
}
if (!config.env.DATABASE_URL && !existsSync(path.join(config.dataDir, DB_FILE))) process.stderr.write(`${newDatabaseNote(config.dataDir)}\n`);
const store = await openConfiguredStore(config);
try {
  switch (command) {
    case 'list':
    case 'show': {
      const all = (await listMandates(store, key, now)).filter((m) => command === 'list' || m.id === target);
      if (command === 'show' && all.length === 0) fail(`no mandate ${target}`);
      for (const m of all) {
        const d = m.document as { per_refund_cap_cents?: number; window_cap_cents?: number; window_seconds?: number; expires_at?: string } | null;
        process.stdout.write(
          `${m.id} v${m.version} agent=${m.agent_id} status=${m.status} ${m.verifies ? 'signature ok' : 'SIGNATURE BAD'}` +
            (d ? ` per-refund=${formatBRL(d.per_refund_cap_cents ?? 0)} window=${formatBRL(d.window_cap_cents ?? 0)}/${d.window_seconds}s expires=${d.expires_at}` : '') +
            `${m.usable ? '' : ` (refusing: ${m.refusal})`}\n`,
        );
        if (command === 'show') process.stdout.write(`${JSON.stringify({ document: m.document, signature: m.signature, key_id: m.key_id }, null, 2)}\n`);
      }
      break;
    }
    case 'issue': {
      if (!values.id || !values.agent) fail('issue needs --id and --agent');
      const perRefund = cents('per-refund-cents');
      const windowCap = cents('window-cap-cents');
      if (perRefund === undefined || windowCap === undefined) fail('issue needs --per-refund-cents and --window-cap-cents');
      if (await store.mandates.latest(values.id)) fail(`mandate ${values.id} exists; use "caps" to change it`);
      const doc = await issueMandate(store, key, {
        id: values.id,
        agent_id: values.agent,
        per_refund_cap_cents: perRefund,
        window_cap_cents: windowCap,
        window_seconds: cents('window-seconds') ?? 86_400,
        issued_by: values.actor as string,
        ...(values.expires ? { expires_at: new Date(values.expires).toISOString() } : {}),
      }, now);
      process.stdout.write(`issued ${doc.id} v${doc.version} for ${doc.agent_id}\n`);
      break;
    }
    case 'caps': {
      if (!target) fail(USAGE.trim());
      const caps = {
        ...(cents('per-refund-cents') !== undefined ? { per_refund_cap_cents: cents('per-refund-cents') as number } : {}),
        ...(cents('window-cap-cents') !== undefined ? { window_cap_cents: cents('window-cap-cents') as number } : {}),
        ...(cents('window-seconds') !== undefined ? { window_seconds: cents('window-seconds') as number } : {}),
        ...(values.expires ? { expires_at: new Date(values.expires).toISOString() } : {}),
      };
      if (Object.keys(caps).length === 0) fail('caps needs at least one of --per-refund-cents, --window-cap-cents, --window-seconds, --expires');
      const result = await changeCaps(store, key, target, caps, values.actor as string, now);
      if (!result.ok) fail(result.error);
      process.stdout.write(`${target} is now v${result.mandate.version} (re-signed)\n`);
      break;
    }
    case 'pause':
    case 'resume':
    case 'revoke': {
      if (!target) fail(USAGE.trim());
      if (!values.reason) fail(`${command} needs --reason "…"`);
      const result = await setMandateStatus(store, target, command, values.actor as string, values.reason, now);
      if (!result.ok) fail(result.error);
      process.stdout.write(`${target} is ${result.status}\n`);
      break;
    }
    default:
      fail(`unknown command "${command}"\n\n${USAGE.trim()}`);
  }
} finally {
  await store.close();
}
