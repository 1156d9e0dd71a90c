import type { Client } from 'aedes';

/** A connected, authenticated device. */
export interface DeviceSession {
  serialNumber: string;
  gatewayId: string;
  client: Client;
  /** Source address of the connection (IPv4-mapped IPv6 shown as IPv4). */
  address: string;
  connectedAt: Date;
  /** When the broker last heard anything from it, pings included (Unix ms). */
  lastPacketAt: number;
  /** Device events accepted in the current minute (a flood guard, see event.ts). */
  eventWindow: EventWindow;
}

/** The address a client connected from: the socket's, or the HTTP request's for WebSocket. */
export function addressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  const raw = client.req?.socket?.remoteAddress ?? conn.remoteAddress ?? 'unknown';
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

/** A device's device events in the current minute: counted, and those over budget dropped. */
export interface EventWindow {
  startedAt: number;
  count: number;
  dropped: number;
}

/** Devices whose event windows are kept before those over a minute old are swept. */
const MAX_EVENT_WINDOWS = 20_000;

/**
 * Which connection is the device's current session. aedes takes over a client id by closing the
 * older connection after the newer one authenticated; the older one's disconnect and Will must
 * then not mark the device offline, so the newer client is remembered from authentication on.
 */
export class DeviceSessions {
  private readonly ready = new Map<string, DeviceSession>();
  private readonly authenticated = new Map<string, DeviceSession>();
  private readonly reasons = new WeakMap<Client, string>();
  private readonly eventWindows = new Map<string, EventWindow>();

  /** CONNECT passed authentication; the session becomes current when aedes reports it ready. */
  admit(client: Client, serialNumber: string, gatewayId: string, address: string, now: Date): void {
    this.authenticated.set(serialNumber, {
      serialNumber,
      gatewayId,
      client,
      address,
      connectedAt: now,
      lastPacketAt: now.getTime(),
      eventWindow: this.eventWindowOf(serialNumber, now.getTime()),
    });
  }

  /**
   * The device's event budget (see event.ts) is its own, not its connection's: reconnecting does
   * not buy a flooding device a fresh minute. Windows over a minute old are forgotten when many
   * are kept, which a window starting afresh would do anyway.
   */
  private eventWindowOf(serialNumber: string, nowMs: number): EventWindow {
    const kept = this.eventWindows.get(serialNumber);
    if (kept) return kept;
    if (this.eventWindows.size >= MAX_EVENT_WINDOWS) {
      for (const [serial, window] of this.eventWindows)
        if (nowMs - window.startedAt >= 60_000) this.eventWindows.delete(serial);
    }
    const window = { startedAt: nowMs, count: 0, dropped: 0 };
    this.eventWindows.set(serialNumber, window);
    return window;
  }

  /**
   * aedes accepted the connection (CONNACK sent): it is the device's session now. `replaced` is
   * the older session of the same device when that one has not finished closing yet.
   */
  activate(client: Client): { session: DeviceSession; replaced: DeviceSession | undefined } | undefined {
    const pending = this.authenticated.get(client.id);
    if (!pending || pending.client !== client) return undefined;
    this.authenticated.delete(client.id);
    const previous = this.ready.get(client.id);
    this.ready.set(client.id, pending);
    return { session: pending, replaced: previous?.client !== client ? previous : undefined };
  }

  /** The session `client` is, only if it is still the device's current one. */
  current(client: Client | null): DeviceSession | undefined {
    if (!client?.id) return undefined;
    const session = this.ready.get(client.id);
    return session?.client === client ? session : undefined;
  }

  bySerial(serialNumber: string): DeviceSession | undefined {
    return this.ready.get(serialNumber);
  }

  /** The device's connection still open, current or admitted and waiting for its CONNACK. */
  live(serialNumber: string): DeviceSession | undefined {
    const open = (session: DeviceSession | undefined) => (session?.client.closed ? undefined : session);
    return open(this.ready.get(serialNumber)) ?? open(this.authenticated.get(serialNumber));
  }

  /**
   * Ends every session of the device now, before its connections finish closing, so nothing it
   * still sends counts (unbinding). Returns the current one, if any, for the offline record.
   */
  end(serialNumber: string): { current: DeviceSession | undefined; clients: Client[] } {
    const current = this.ready.get(serialNumber);
    const pending = this.authenticated.get(serialNumber);
    this.ready.delete(serialNumber);
    this.authenticated.delete(serialNumber);
    const clients = [current?.client, pending?.client].filter((c): c is Client => c !== undefined);
    return { current, clients };
  }

  /**
   * The connection closed. Returns its session if it was current, and whether a newer connection
   * of the same device is taking over (then the device is not offline).
   */
  closed(client: Client): { session: DeviceSession; replacedBy: DeviceSession | undefined } | undefined {
    const pending = this.authenticated.get(client.id);
    if (pending?.client === client) this.authenticated.delete(client.id);
    const session = this.current(client);
    if (!session) return undefined;
    this.ready.delete(client.id);
    const next = this.authenticated.get(client.id);
    return { session, replacedBy: next && !next.client.closed ? next : undefined };
  }

  /** Notes why the broker is closing a connection, for the offline event. */
  setCloseReason(client: Client, reason: string): void {
    if (!this.reasons.has(client)) this.reasons.set(client, reason);
  }

  closeReason(client: Client): string | undefined {
    return this.reasons.get(client);
  }

  all(): DeviceSession[] {
    return [...this.ready.values()];
  }

  get size(): number {
    return this.ready.size;
  }
}

export interface TakeoverLimitOptions {
  /** Takeovers of one serial number within `windowMs` that start a hold-down (the last still passes). */
  takeovers: number;
  windowMs: number;
  /** The first hold-down; each next one before the serial went quiet doubles, up to `maxHoldDownMs`. */
  holdDownMs: number;
  maxHoldDownMs: number;
  /** A serial number without takeovers (and out of hold-down) this long starts over. */
  quietMs: number;
  /** Serial numbers tracked at most; the least recently taken over are forgotten first. */
  maxSerials: number;
}

/**
 * A device that reconnects over its own half-open session takes over once or twice a minute at
 * most; 5 in a minute is two holders of one key fighting. Then the session that holds stays for
 * 10 s, 20 s, ... up to 5 min: two clones cause at most 5 takeovers (and 5 events) plus one
 * hold-down event per cycle, about 70 events an hour at worst instead of thousands a minute.
 */
export const DEFAULT_TAKEOVER_LIMIT: TakeoverLimitOptions = {
  takeovers: 5,
  windowMs: 60_000,
  holdDownMs: 10_000,
  maxHoldDownMs: 300_000,
  quietMs: 600_000,
  maxSerials: 10_000,
};

/** A hold-down just started: `takeovers` within `windowMs` reached the limit. */
export interface TakeoverHoldDown {
  takeovers: number;
  windowMs: number;
  holdDownMs: number;
  untilMs: number;
}

export type TakeoverVerdict =
  | { allowed: true; holdDown?: TakeoverHoldDown }
  /** `refused` counts the takeovers refused in this hold-down, this one included. */
  | { allowed: false; untilMs: number; refused: number };

interface TakeoverRecord {
  recent: number[];
  holdDownUntil: number;
  holdDowns: number;
  lastAt: number;
  refused: number;
}

/**
 * Takeovers per serial number (a new connection while another one of the same device is open):
 * past the limit, further takeovers are refused for a hold-down and the session that holds stays.
 * A device alone is never held out longer than its stale session lives (1.5 × keepalive).
 */
export class TakeoverLimit {
  private readonly serials = new Map<string, TakeoverRecord>();

  constructor(private readonly options: TakeoverLimitOptions = DEFAULT_TAKEOVER_LIMIT) {}

  /** A connection of `serialNumber` with a valid proof is about to take over its open session. */
  takeover(serialNumber: string, nowMs: number): TakeoverVerdict {
    const { takeovers, windowMs, holdDownMs, maxHoldDownMs, quietMs } = this.options;
    let record = this.serials.get(serialNumber);
    this.serials.delete(serialNumber);
    if (record && nowMs - Math.max(record.lastAt, record.holdDownUntil) > quietMs) record = undefined;
    record ??= { recent: [], holdDownUntil: 0, holdDowns: 0, lastAt: nowMs, refused: 0 };
    this.remember(serialNumber, record);
    if (nowMs < record.holdDownUntil) {
      record.refused += 1;
      return { allowed: false, untilMs: record.holdDownUntil, refused: record.refused };
    }
    record.recent = record.recent.filter((at) => nowMs - at < windowMs);
    record.recent.push(nowMs);
    record.lastAt = nowMs;
    if (record.recent.length < takeovers) return { allowed: true };
    const heldMs = Math.min(maxHoldDownMs, holdDownMs * 2 ** record.holdDowns);
    record.holdDowns += 1;
    record.recent = [];
    record.refused = 0;
    record.holdDownUntil = nowMs + heldMs;
    const holdDown = { takeovers, windowMs, holdDownMs: heldMs, untilMs: record.holdDownUntil };
    return { allowed: true, holdDown };
  }

  get size(): number {
    return this.serials.size;
  }

  private remember(serialNumber: string, record: TakeoverRecord): void {
    this.serials.set(serialNumber, record);
    while (this.serials.size > this.options.maxSerials)
      this.serials.delete(this.serials.keys().next().value as string);
  }
}
