import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, totalmem } from 'node:os';
import { loadSigningKey } from '../core/signing.ts';
import { changeCaps } from '../refunds/mandate.ts';
import { extraCustomer } from '../sandbox/seed.ts';
import { pgAnswers } from '../test/helpers/pg.ts';
import { startReplicas } from '../test/helpers/replicas.ts';
import { dropTestSchemas } from '../test/helpers/test-store.ts';
import { replaceSection } from './results-file.ts';

/**
 * `npm run bench:replicas`: refunds per second with 1, 2 and 3 replicas on one
 * PostgreSQL (started as the README's "Replicas" section does, the first
 * hosting the sandbox), every customer complaining at once, each message sent
 * to the next replica round-robin, confirming as soon as asked. The model
 * answers after SANDBOX_LATENCY (1 s a call), as in the many-conversations
 * benchmark. Writes its part of bench/RESULTS.md.
 */
const N = Number(process.argv.find((a) => a.startsWith('--customers='))?.slice(12) ?? 30);
const progress = (m: string) => process.stderr.write(`[bench:replicas] ${m}\n`);

if (!(await pgAnswers())) {
  progress('no PostgreSQL answers (DATABASE_URL, else 127.0.0.1:5432): nothing measured');
  process.exit(2);
}

const rows: string[] = [];
for (const count of [1, 2, 3]) {
  progress(`${count} replica(s), ${N} customers`);
  const set = await startReplicas(count, { env: { SANDBOX_EXTRA_CUSTOMERS: String(N), SANDBOX_LATENCY: 'model=1000', MODEL_CALLS_PER_MINUTE: '100000', MODEL_CALLS_PER_CUSTOMER_PER_MINUTE: '1000' } });
  try {
    // N refunds of ~R$ 50 exceed the default R$ 2.000 a day: raise the window cap as an admin would (re-signed
    // with the replicas' mandate key, which every replica copies into its DATA_DIR).
    const raised = await changeCaps(set.store(), loadSigningKey(set.replicas[0]!.dataDir, 'mandate-ed25519'), 'cm_support', { window_cap_cents: 100_000_000 }, 'bench', new Date());
    if (!raised.ok) throw new Error(raised.error);
    const customers = Array.from({ length: N }, (_, i) => ({ phone: extraCustomer(i).customer.whatsapp, order: extraCustomer(i).orderNumber }));
    let next = 0;
    const rr = () => next++ % count;
    const started = performance.now();
    await Promise.all(customers.map((c) => set.send(rr(), c.phone, `o pedido ${c.order} veio errado, quero meu dinheiro de volta`)));
    const confirmed = new Set<string>();
    const done = new Set<string>();
    const deadline = Date.now() + 300_000;
    while (done.size < N && Date.now() < deadline) {
      await sleep(300);
      const toConfirm: string[] = [];
      for (const m of await set.outbox()) {
        if (m.message.includes('Confirma') && !confirmed.has(m.phone)) {
          confirmed.add(m.phone);
          toConfirm.push(m.phone);
        }
        if (m.message.includes('Comprovante')) done.add(m.phone);
      }
      await Promise.all(toConfirm.map((p) => set.send(rr(), p, 'sim')));
    }
    const wall = (performance.now() - started) / 1000;
    const refused = N - done.size;
    rows.push(`| ${count} | ${done.size}/${N} | ${wall.toFixed(1)} s | ${(done.size / wall).toFixed(2)} |${refused ? ` ${refused} not finished by the deadline` : ''}`);
    progress(`${count}: ${done.size}/${N} in ${wall.toFixed(1)} s`);
  } finally {
    await set.close();
    await dropTestSchemas([set.schema]);
  }
}

const part = [
  '# Replicas on PostgreSQL',
  '',
  `Command: \`npm run bench:replicas${N === 30 ? '' : ` -- --customers=${N}`}\` (${N} customers; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}). Each replica is \`node bin/start.ts\` on one PostgreSQL schema, the first hosting the sandbox (SANDBOX_LATENCY=model=1000), messages round-robin over the replicas; all replicas and the PostgreSQL server share this machine, so more replicas add processes, not cores.`,
  '',
  '| replicas | refunds told to the customer | wall | refunds/s |',
  '|---|---|---|---|',
  ...rows,
].join('\n');
replaceSection(path.resolve('bench/RESULTS.md'), '<!-- replicas: npm run bench:replicas -->', '<!-- /replicas -->', part);
process.stdout.write(`${part}\n`);
process.exit(0);
