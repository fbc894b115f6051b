import { ConfigError } from '../core/errors.ts';
import { loadDotEnv, parseConfig, parsePairs } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startEstorno } from '../server/app.ts';
import { mountConsole } from '../console/routes.ts';

/** `npm start`: the whole service; in sandbox mode everything runs on this machine. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = parseConfig();
  const logger = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  let consoleLines: string[] = [];
  const hooks = parsePairs(config.env.SANDBOX_PIX_WEBHOOKS);
  const estorno = await startEstorno({
    config,
    logger,
    extend: (app, e) => {
      consoleLines = mountConsole(app, e, config).bannerLines;
    },
    sandboxLatency: parsePairs(config.env.SANDBOX_LATENCY),
    ...(hooks.created !== undefined && hooks.settled !== undefined ? { pixWebhookDelaysMs: { created: hooks.created, settled: hooks.settled } } : {}),
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
    ...(config.sandbox ? [`  sandbox         ${estorno.url}/sandbox  (outbox: ${estorno.url}/sandbox/zapi/outbox)`] : []),
    `  health          ${estorno.url}/healthz`,
    `  data            ${config.dataDir}`,
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
  process.stderr.write(`estorno failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
