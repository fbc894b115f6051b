import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { errorSummary, type Logger } from '../core/logger.ts';

/** Live updates for the console's server-sent events: what changed, never customer content. */
export interface LiveEvent {
  type: string;
  conversationId?: string | undefined;
  [k: string]: unknown;
}

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; events are a few hundred. */
const MAX_PAYLOAD = 7_900;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/** The NOTIFY channel of one schema (replicas of one deployment share it; another schema never hears it). */
export function eventsChannel(schema: string): string {
  const name = `estorno_events_${schema}`;
  return name.length <= 63 ? name : `estorno_events_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/**
 * The console's live events. In one process (SQLite) an in-process emitter;
 * on PostgreSQL (`listenAcross`) each event is also sent with `NOTIFY` and
 * every replica `LISTEN`s on a dedicated connection, delivering the other
 * replicas' events to its own subscribers. The listening connection is made
 * again when it drops (events sent meanwhile are missed; subscribers then get
 * `{type: 'resync'}` and reload what they show).
 */
export class LiveEvents {
  private readonly emitter = new EventEmitter();
  /** This process's mark on what it sends, so it does not deliver its own events twice. */
  private readonly origin = randomBytes(8).toString('hex');
  private remote: { url: string; pool: pg.Pool; channel: string; logger: Logger } | null = null;
  private listener: pg.Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  publish(event: LiveEvent): void {
    const full = { ...event, at: new Date().toISOString() };
    this.emitter.emit('event', full);
    const remote = this.remote;
    if (!remote || this.closed) return;
    const payload = JSON.stringify({ origin: this.origin, event: full });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) return void remote.logger.warn({ type: event.type }, 'live event too large for NOTIFY; other replicas miss it');
    remote.pool.query('SELECT pg_notify($1, $2)', [remote.channel, payload]).catch((error: unknown) => {
      remote.logger.warn({ err: errorSummary(error) }, 'live event not sent to the other replicas');
    });
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** PostgreSQL: share events with every replica on `schema` (resolves once listening). */
  async listenAcross(options: { url: string; schema: string; logger: Logger }): Promise<void> {
    const channel = eventsChannel(options.schema);
    const pool = new pg.Pool({ connectionString: options.url, max: 2, idleTimeoutMillis: 30_000 });
    pool.on('error', (error) => options.logger.warn({ err: errorSummary(error) }, 'live events: idle connection failed'));
    this.remote = { url: options.url, pool, channel, logger: options.logger };
    await this.connect(RECONNECT_MIN_MS, false);
  }

  private async connect(backoffMs: number, resync: boolean): Promise<void> {
    const remote = this.remote;
    if (!remote || this.closed) return;
    const client = new pg.Client({ connectionString: remote.url, keepAlive: true });
    let dropped = false;
    const drop = (error?: Error) => {
      if (dropped) return;
      dropped = true;
      if (this.listener === client) this.listener = null;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.closed) return;
      remote.logger.warn({ err: error ? errorSummary(error) : undefined, retryInMs: backoffMs }, 'live events: listening connection lost; reconnecting');
      this.reconnectTimer = setTimeout(() => void this.connect(Math.min(backoffMs * 2, RECONNECT_MAX_MS), true), backoffMs);
      this.reconnectTimer.unref();
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', (message) => {
      if (message.channel !== remote.channel || !message.payload) return;
      try {
        const { origin, event } = JSON.parse(message.payload) as { origin: string; event: LiveEvent };
        if (origin !== this.origin) this.emitter.emit('event', event);
      } catch {
        remote.logger.warn('live events: unreadable notification ignored');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${remote.channel}"`);
    } catch (error) {
      if (!resync) {
        // At start a database that does not answer is the caller's error, not a retry loop.
        dropped = true;
        await client.end().catch(() => undefined);
        throw error;
      }
      drop(error as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    backoffMs = RECONNECT_MIN_MS;
    if (resync) {
      remote.logger.info('live events: listening again');
      this.emitter.emit('event', { type: 'resync', at: new Date().toISOString() });
    }
  }

  /** Stops listening and sending (the in-process subscribers stay). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.remote?.pool.end().catch(() => undefined);
  }

  /** Test hook: the listening connection drops as if the network failed. */
  dropListener(): void {
    this.listener?.emit('error', new Error('connection dropped (test)'));
  }
}
