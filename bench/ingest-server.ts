import { parseConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startEstorno } from '../server/app.ts';

/**
 * Estorno with turn processing off, so that the ingest benchmark measures the
 * webhook path alone: authentication, validation, dedupe, durable insert.
 * Logs at the default level (info), as in production. usage: node bench/ingest-server.ts
 */
const config = parseConfig();
const logger = createLogger({ level: config.env.LOG_LEVEL, format: 'json' });
const estorno = await startEstorno({ config, logger, ingestOnly: true });
process.stdout.write(`ready ${estorno.webhookToken}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void estorno.close().then(() => process.exit(0)));
}
