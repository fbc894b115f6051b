import { EventEmitter } from 'node:events';

/** Live updates for the console's server-sent events: what changed, never customer content. */
export interface LiveEvent {
  type: string;
  conversationId?: string | undefined;
  [k: string]: unknown;
}

export class LiveEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  publish(event: LiveEvent): void {
    this.emitter.emit('event', { ...event, at: new Date().toISOString() });
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
