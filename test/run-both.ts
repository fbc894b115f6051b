import { spawn } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { PG_URL, pgProblem, pgWhere, TEST_SCHEMA_PREFIX } from './helpers/pg.ts';

/**
 * `npm test`: the whole suite on SQLite, then again on PostgreSQL (issue 16).
 *
 * The PostgreSQL pass uses ESTORNO_TEST_DATABASE_URL, else DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test (trust auth, database `test`, as on
 * these machines; test/helpers/pg.ts). ESTORNO_TEST_PG=auto (the default) runs
 * it when that server answers and skips it, saying so, when none does;
 * =required (.ci/run) fails the run when none answers; =skip never runs it. Arguments go to vitest (`npm test -- test/unit`
 * runs those files twice). PostgreSQL-only files run once: in the PostgreSQL pass,
 * or in the SQLite pass when none follows (ESTORNO_TEST_PG_PASS tells pass 1;
 * pgSuite() in test/helpers/test-store.ts). Every schema a test names starts
 * `estorno_t_<run>_` (both passes share the run); whatever this run leaves is dropped at the end.
 */
const args = process.argv.slice(2);
// auto (the default): the PostgreSQL pass runs when a server answers and is skipped, said so,
// when none does; skip: never; required (.ci/run): a server must answer, else the run fails.
const mode = process.env.ESTORNO_TEST_PG ?? 'auto';
if (!['auto', 'skip', 'required'].includes(mode)) {
  process.stderr.write(`ESTORNO_TEST_PG must be auto, skip or required, not "${mode}"\n`);
  process.exit(2);
}
const url = PG_URL;
const where = pgWhere(url);
const vitest = path.resolve('node_modules/vitest/vitest.mjs');

interface Pass {
  name: string;
  code: number | null;
  seconds: number;
  tests: string;
}

function banner(text: string): void {
  const line = '='.repeat(Math.min(100, Math.max(60, text.length + 4)));
  process.stdout.write(`\n${line}\n=== ${text}\n${line}\n\n`);
}

async function runPass(name: string, env: Record<string, string>): Promise<Pass> {
  banner(`npm test, ${name}`);
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, ESTORNO_TEST_DATABASE_URL: url };
  // A DATABASE_URL of the caller names the server; the servers under test get theirs from the helpers.
  delete childEnv.DATABASE_URL;
  delete childEnv.DATABASE_SCHEMA;
  const child = spawn(process.execPath, [vitest, 'run', ...args], { env: childEnv, stdio: ['inherit', 'pipe', 'inherit'] });
  let tail = '';
  child.stdout.on('data', (d: Buffer) => {
    process.stdout.write(d);
    tail = (tail + d.toString()).slice(-4_000);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  // eslint-disable-next-line no-control-regex
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, '');
  const tests = /Tests\s+(.+?)\s*\(\d+\)/.exec(plain)?.[1] ?? 'see above';
  return { name, code, seconds: Math.round((Date.now() - started) / 1000), tests };
}

/** Drops the schemas this run's tests left behind (a test killed midway, a schema still in use at its file's end). */
async function sweep(): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${TEST_SCHEMA_PREFIX.replaceAll('_', '\\_')}%`]);
    for (const r of rows) await client.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
    return rows.length;
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const passes: Pass[] = [];
// Decided before pass 1, which is told whether pass 2 follows (PostgreSQL-only files then wait for it).
let skipped: string | null = null;
let unreachable: string | null = null;
if (mode === 'skip') skipped = 'ESTORNO_TEST_PG=skip';
else {
  const why = await pgProblem(url);
  if (why && mode === 'required') unreachable = why;
  else if (why) skipped = `no PostgreSQL answers at ${where} (${why}); start one there or point DATABASE_URL at one (ESTORNO_TEST_PG=skip: do not try)`;
}
const pgPass = !skipped && !unreachable;
passes.push(await runPass('pass 1 of 2: SQLite', { ESTORNO_TEST_STORE: 'sqlite', ESTORNO_TEST_PG_PASS: pgPass ? '1' : '0' }));
if (unreachable) {
  banner(`npm test, pass 2 of 2: PostgreSQL — FAILED: no PostgreSQL answers at ${where} (${unreachable})`);
  process.stdout.write('ESTORNO_TEST_PG=required: start PostgreSQL there, or point DATABASE_URL at one.\n');
  passes.push({ name: 'pass 2 of 2: PostgreSQL', code: 1, seconds: 0, tests: `unreachable: ${unreachable}` });
}
if (skipped) banner(`npm test, pass 2 of 2: PostgreSQL — SKIPPED: ${skipped}`);
if (pgPass) passes.push(await runPass(`pass 2 of 2: PostgreSQL (${where})`, { ESTORNO_TEST_STORE: 'postgres', ESTORNO_TEST_PG_PASS: '1' }));
// Pass 1 runs PostgreSQL-only files too when no pass 2 follows: sweep whenever a server answers.
const left = unreachable ? 0 : await sweep();
if (left) process.stdout.write(`dropped ${left} schema(s) left by this run\n`);

banner('npm test, summary');
for (const p of passes) process.stdout.write(`${p.code === 0 ? 'PASS' : 'FAIL'}  ${p.name}: ${p.tests}, ${p.seconds} s\n`);
if (skipped) process.stdout.write(`SKIP  pass 2 of 2: PostgreSQL: ${skipped}\n`);
process.exit(passes.every((p) => p.code === 0) ? 0 : 1);
