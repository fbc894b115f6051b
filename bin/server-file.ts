import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `DATA_DIR/server.json`: how the other commands find the running server.
 * `npm start` writes it once it listens (mode 0600: it may hold the sandbox's
 * webhook token) and removes it on a clean shutdown; a file left by a crash
 * is recognised by its dead pid or its silent port.
 */

export const SERVER_FILE = 'server.json';

export interface ServerInfo {
  pid: number;
  port: number;
  /** The server's own base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** Where customers open receipts (PUBLIC_BASE_URL, or `url`). */
  public_base_url: string;
  /** The Z-API webhook secret, only when the sandbox generated it (never a real one). */
  webhook_token: string | null;
  data_dir: string;
  sandbox: boolean;
  /** The sandbox's base URL (`…/sandbox`): this server's, or the replica's that hosts it (SANDBOX_HOST). */
  sandbox_url?: string | null;
  started_at: string;
}

export function serverFilePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), SERVER_FILE);
}

export function writeServerFile(info: ServerInfo): string {
  const file = serverFilePath(info.data_dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Removes the file if it is still ours (a second server on the same DATA_DIR may have replaced it). */
export function removeServerFile(dataDir: string, pid = process.pid): void {
  const file = serverFilePath(dataDir);
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServerInfo>;
    if (info.pid === pid) unlinkSync(file);
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

export type Located = { ok: true; info: ServerInfo; file: string } | { ok: false; file: string; problem: string };

/** Finds the running server of `dataDir`: the file exists, its pid lives and its port answers /healthz. */
export async function locateServer(dataDir: string, timeoutMs = 2_000): Promise<Located> {
  const file = serverFilePath(dataDir);
  if (!existsSync(file)) return { ok: false, file, problem: `no ${SERVER_FILE} in ${path.dirname(file)}` };
  let info: ServerInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
    if (!Number.isInteger(info.pid) || typeof info.url !== 'string') throw new Error('incomplete');
  } catch {
    return { ok: false, file, problem: `${file} is unreadable` };
  }
  if (!alive(info.pid)) return { ok: false, file, problem: `${file} names pid ${info.pid}, which is not running (left by a crash)` };
  try {
    const res = await fetch(`${info.url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, file, problem: `the server at ${info.url} (pid ${info.pid}) answers /healthz with ${res.status}` };
  } catch {
    return { ok: false, file, problem: `nothing answers at ${info.url} (pid ${info.pid}, from ${file})` };
  }
  return { ok: true, info, file };
}

/** The one line a command prints when it needs a server and finds none. */
export function noServerMessage(located: Extract<Located, { ok: false }>, alternative = ''): string {
  return `No running Estorno server found: ${located.problem}. Start one with \`npm start\` (with the same DATA_DIR)${alternative}.`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The one line a command working on the database prints when DATA_DIR holds nothing of a server's. */
export function missingDatabaseMessage(dataDir: string, what: string): string {
  const running = existsSync(serverFilePath(dataDir)) ? '' : ` and no ${SERVER_FILE}`;
  return `Nothing has run with DATA_DIR=${path.resolve(dataDir)}: ${what}${running}. Set DATA_DIR to the directory your server uses, or start it once with \`npm start\`.`;
}

/** Said (on stderr) when a command creates the database: with a mistaken DATA_DIR the server would never see the change. */
export function newDatabaseNote(dataDir: string): string {
  return `note: no database in ${path.resolve(dataDir)} yet; creating one. A server sees it only when started with DATA_DIR=${path.resolve(dataDir)}.`;
}
