import type { AgentLog } from './log.js';

export interface OutboxMessage {
  topic: string;
  payload: Buffer;
}

/** How many QoS 1 messages wait for the broker; past that the oldest go first. */
export const OUTBOX_LIMIT = 500;

/**
 * QoS 1 messages (acks, events) produced while the broker is away, sent after the next hello.
 * Bounded, because an outage may last days while tunnels keep flapping.
 */
export class Outbox {
  private messages: OutboxMessage[] = [];
  private dropped = 0;

  constructor(
    private readonly log: AgentLog,
    private readonly limit = OUTBOX_LIMIT,
  ) {}

  get size(): number {
    return this.messages.length;
  }

  push(message: OutboxMessage): void {
    this.messages.push(message);
    if (this.messages.length > this.limit) {
      this.messages.shift();
      this.dropped++;
    }
  }

  /** Everything waiting, oldest first; empties the outbox. */
  drain(): OutboxMessage[] {
    if (this.dropped > 0) {
      this.log.warn('messages dropped while the broker was unreachable', {
        dropped: this.dropped,
        limit: this.limit,
      });
    }
    const messages = this.messages;
    this.messages = [];
    this.dropped = 0;
    return messages;
  }
}
