import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { withTestStore } from './test-store.ts';

/** A child's environment: this process's, quiet, on the store of this pass for its DATA_DIR unless `extra` names a database itself. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = withTestStore({ ...process.env, LOG_LEVEL: 'silent', ...extra });
  if (extra.DATABASE_URL !== undefined) Object.assign(env, { DATABASE_URL: extra.DATABASE_URL, DATABASE_SCHEMA: extra.DATABASE_SCHEMA ?? '' });
  return env;
}

/** Runs `node bin/<script>.ts …` to completion, with `input` piped to its stdin. */
export function runCli(
  script: string,
  args: string[] = [],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve(`bin/${script}.ts`), ...args], {
      env: childEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms:\n${out}\n${err}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** `npm start` as a child process; `output()` is what it printed so far (its last 200-400 kB once it printed more). */
export function startServer(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.resolve('bin/start.ts')], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (d: Buffer) => {
    text += d.toString();
    if (text.length > 400_000) text = text.slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}
