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
  eventWindow: { startedAt: number; count: number; dropped: number };
}

/** The address a client connected from: the socket's, or the HTTP request's for WebSocket. */
export function addressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  const raw = client.req?.socket?.remoteAddress ?? conn.remoteAddress ?? 'unknown';
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

/**
 * Which connection is the device's current session. aedes takes over a client id by closing the
 * older connection after the newer one authenticated; the older one's disconnect and Will must
 * then not mark the device offline, so the newer client is remembered from authentication on.
 */
export class DeviceSessions {
  private readonly ready = new Map<string, DeviceSession>();
  private readonly authenticated = new Map<string, DeviceSession>();
  private readonly reasons = new WeakMap<Client, string>();

  /** CONNECT passed authentication; the session becomes current when aedes reports it ready. */
  admit(client: Client, serialNumber: string, gatewayId: string, address: string, now: Date): void {
    this.authenticated.set(serialNumber, {
      serialNumber,
      gatewayId,
      client,
      address,
      connectedAt: now,
      lastPacketAt: now.getTime(),
      eventWindow: { startedAt: now.getTime(), count: 0, dropped: 0 },
    });
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
