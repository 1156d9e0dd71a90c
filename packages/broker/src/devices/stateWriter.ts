import type { Logger } from 'pino';
import type { DeviceStateRecord, NewEvent, Store } from '../store/store.js';

/** Events kept for a retry after a failed write; past this the oldest are dropped (and logged). */
const MAX_PENDING_EVENTS = 10_000;

/**
 * Coalesces device-state and device-event writes: thousands of acks a second must not mean
 * thousands of fsyncs. Memory is updated by the caller at once; this only delays the disk, by at
 * most `delayMs`. Only the latest state of each gateway is written, and all events of a window
 * go in one `appendEvents` transaction.
 */
export class DeviceStateWriter {
  private readonly states = new Map<string, DeviceStateRecord>();
  private events: NewEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Pick<Store, 'putDeviceStates' | 'appendEvents'>,
    private readonly log: Logger,
    private readonly delayMs = 50,
  ) {}

  put(state: DeviceStateRecord): void {
    this.states.set(state.gatewayId, state);
    this.schedule();
  }

  append(events: NewEvent[]): void {
    if (events.length === 0) return;
    this.events.push(...events);
    this.schedule();
  }

  /** Forgets a gateway's pending state (the gateway was deleted). */
  forget(gatewayId: string): void {
    this.states.delete(gatewayId);
  }

  get pending(): number {
    return this.states.size + this.events.length;
  }

  /** Writes everything pending now; called by the timer and before the store closes. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const states = [...this.states.values()];
    const events = this.events;
    this.states.clear();
    this.events = [];
    try {
      if (events.length > 0) this.store.appendEvents(events);
    } catch (err) {
      this.requeueEvents(events, err);
    }
    try {
      if (states.length > 0) this.store.putDeviceStates(states);
    } catch (err) {
      // Keep each newest state for the next attempt unless a newer one arrived meanwhile.
      for (const state of states)
        if (!this.states.has(state.gatewayId)) this.states.set(state.gatewayId, state);
      this.log.error({ err, states: states.length }, 'device state write failed; will retry');
    }
    // Anything still pending failed to write: try again a little later.
    if (this.pending > 0) this.schedule(1000);
  }

  private requeueEvents(events: NewEvent[], err: unknown): void {
    const kept = [...events, ...this.events];
    const dropped = Math.max(0, kept.length - MAX_PENDING_EVENTS);
    this.events = kept.slice(dropped);
    this.log.error({ err, events: events.length, dropped }, 'device event write failed; will retry');
  }

  private schedule(delayMs = this.delayMs): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), delayMs);
    this.timer.unref();
  }
}
