import { ConfigError } from '../core/errors.ts';
import { loadDotEnv, parseConfig, parsePairs } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startEstorno } from '../server/app.ts';
import { describeDatabase } from '../data/open.ts';
import { mountConsole } from '../console/routes.ts';
import { parseCli } from './cli.ts';
import { locateServer, removeServerFile, serverFilePath, writeServerFile } from './server-file.ts';

const USAGE = `
usage: npm start

Starts the whole service. With no provider credentials in the environment (or
.env) every provider is emulated on this server (sandbox mode). The settings
come from the environment; .env.example documents each one, e.g.

  PORT=3001 npm start              another port (0 picks a free one)
  DATA_DIR=/srv/estorno npm start  another data directory (default var/)

While it runs, DATA_DIR/server.json tells \`npm run chat\`, \`verify\`, \`mandate\`
and \`user\` where it is; it is removed on a clean stop (Ctrl+C, SIGTERM).
`;

/** `npm start`: the whole service; in sandbox mode everything runs on this machine. */
async function main(): Promise<void> {
  parseCli(USAGE, {});
  loadDotEnv();
  const config = parseConfig();
  // Two servers on one database would each think they own it (turns, workers, the sandbox world).
  const running = await locateServer(config.dataDir, 1_000);
  if (running.ok) {
    process.stderr.write(`Estorno is already running with DATA_DIR=${config.dataDir} (pid ${running.info.pid}, ${running.info.url}). Stop it first, or use another DATA_DIR.\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  let consoleLines: string[] = [];
  const hooks = parsePairs(config.env.SANDBOX_PIX_WEBHOOKS);
  const estorno = await startEstorno({
    config,
    logger,
    extend: async (app, e) => {
      consoleLines = (await mountConsole(app, e, config)).bannerLines;
    },
    sandboxLatency: parsePairs(config.env.SANDBOX_LATENCY),
    ...(hooks.created !== undefined && hooks.settled !== undefined ? { pixWebhookDelaysMs: { created: hooks.created, settled: hooks.settled } } : {}),
  });
  const publicBaseUrl = config.env.PUBLIC_BASE_URL ?? estorno.url;
  writeServerFile({
    pid: process.pid,
    port: estorno.port,
    url: estorno.url,
    public_base_url: publicBaseUrl,
    // A real Z-API's webhook token stays out of the file: `npm run chat` only talks to the emulator.
    webhook_token: config.emulated.zapi ? estorno.webhookToken : null,
    data_dir: config.dataDir,
    sandbox: config.sandbox,
    sandbox_url: config.sandbox ? `${config.env.SANDBOX_HOST ?? estorno.url}/sandbox` : null,
    started_at: new Date().toISOString(),
  });
  const e = config.emulated;
  const mode = (emulated: boolean) => (emulated ? 'emulated (sandbox)' : 'real');
  const lines = [
    '',
    `Estorno is listening on ${estorno.url}`,
    `  Z-API webhook   ${estorno.url}/webhooks/zapi/${config.sandbox ? estorno.webhookToken : '<ZAPI_WEBHOOK_TOKEN>'}`,
    `  Pix webhook     ${estorno.url}/webhooks/pix`,
    `  console         ${estorno.url}/console`,
    ...consoleLines.map((l) => `                  ${l}`),
    ...(config.sandbox ? [`  sandbox         ${config.env.SANDBOX_HOST ?? estorno.url}/sandbox  (outbox: ${config.env.SANDBOX_HOST ?? estorno.url}/sandbox/zapi/outbox)${config.env.SANDBOX_HOST ? '  (hosted by another replica)' : ''}`] : []),
    `  receipts        ${publicBaseUrl}/r/<receipt id>  (public key: ${publicBaseUrl}/r/public-key.pem)`,
    `  health          ${estorno.url}/healthz`,
    `  data            ${config.dataDir}  (this server: ${serverFilePath(config.dataDir)})`,
    `  database        ${describeDatabase(config)}`,
    'Providers:',
    `  model   ${e.model ? 'emulated (scripted model)' : `real (Anthropic, ${config.env.ANTHROPIC_MODEL})`}`,
    `  zapi    ${mode(e.zapi)}`,
    `  omie    ${mode(e.omie)}`,
    `  pix     ${e.pix ? 'emulated (Trio sandbox)' : `real (${config.env.PIX_RAIL})`}`,
    `  fiscal  ${mode(e.fiscal)}`,
    ...(config.sandbox ? ['Try it:  npm run chat   (you are Marina; type "o pedido 8421 veio errado, quero meu dinheiro de volta")'] : []),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing turns in flight');
    await estorno.close();
    removeServerFile(config.dataDir);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const { address, port } = error as { address?: string; port?: number };
    const where = `${address ?? process.env.HOST ?? '127.0.0.1'}:${port ?? process.env.PORT ?? 3000}`;
    const line =
      code === 'EADDRINUSE'
        ? `estorno cannot listen on ${where}: the port is in use (another Estorno or another program). Stop it, or pick another port: PORT=3001 npm start`
        : code === 'EACCES'
          ? `estorno cannot listen on ${where}: permission denied (ports below 1024 need privileges). Pick another port: PORT=3001 npm start`
          : `estorno cannot listen on ${where}: HOST is not an address of this machine. Use HOST=127.0.0.1 or HOST=0.0.0.0`;
    process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  process.stderr.write(`estorno failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
