import { connect, type Socket } from 'node:net';

/**
 * Hand-made MQTT 3.1.1 bytes over a plain TCP socket, for packets no well-behaved client library
 * would send: wrong lengths, missing payloads, reserved types, non-UTF-8 strings.
 */

/** The remaining-length varint of MQTT (1–4 bytes). */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let rest = length;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    bytes.push(digit);
  } while (rest > 0);
  return Buffer.from(bytes);
}

/** A packet from its first byte (type and flags) and body. */
export function packet(firstByte: number, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

/** A length-prefixed string; a Buffer goes out as is (for bytes that are not UTF-8). */
export function mqttString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

export interface ConnectFields {
  clientId: string | Buffer;
  username?: string | Buffer;
  password?: string | Buffer;
  keepalive?: number;
  /** Protocol level: 4 is MQTT 3.1.1, 3 is MQTT 3.1 (protocol name MQIsdp). */
  level?: number;
}

export function connectPacket(fields: ConnectFields): Buffer {
  const level = fields.level ?? 4;
  let flags = 0x02; // clean session
  const tail: Buffer[] = [mqttString(fields.clientId)];
  if (fields.username !== undefined) {
    flags |= 0x80;
    tail.push(mqttString(fields.username));
  }
  if (fields.password !== undefined) {
    flags |= 0x40;
    tail.push(mqttString(fields.password));
  }
  const keepalive = fields.keepalive ?? 30;
  const header = Buffer.concat([
    mqttString(level === 3 ? 'MQIsdp' : 'MQTT'),
    Buffer.from([level, flags, keepalive >> 8, keepalive & 0xff]),
  ]);
  return packet(0x10, Buffer.concat([header, ...tail]));
}

export function publishPacket(
  topic: string | Buffer,
  payload: Buffer,
  options: { qos?: 0 | 1 | 2; retain?: boolean; id?: number } = {},
): Buffer {
  const qos = options.qos ?? 1;
  const first = 0x30 | (qos << 1) | (options.retain ? 1 : 0);
  const id = options.id ?? 1;
  const packetId = qos > 0 ? Buffer.from([id >> 8, id & 0xff]) : Buffer.alloc(0);
  return packet(first, Buffer.concat([mqttString(topic), packetId, payload]));
}

export function subscribePacket(id: number, filters: (string | Buffer)[]): Buffer {
  const body = filters.map((filter) => Buffer.concat([mqttString(filter), Buffer.from([1])]));
  return packet(0x82, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), ...body]));
}

export function unsubscribePacket(id: number, filters: (string | Buffer)[]): Buffer {
  return packet(0xa2, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), ...filters.map(mqttString)]));
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);

/** One TCP connection to the broker, with everything it received and whether the broker closed it. */
export class RawConnection {
  received = Buffer.alloc(0);
  closedAt: number | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    socket.on('close', () => {
      this.closedAt = Date.now();
    });
    // EPIPE or ECONNRESET after the broker hung up: the close is what the tests look at.
    socket.on('error', () => undefined);
  }

  static open(port: number, localAddress?: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  send(...chunks: Buffer[]): void {
    for (const chunk of chunks) if (!this.socket.destroyed) this.socket.write(chunk);
  }

  /** The CONNACK return code, once the first four bytes are a CONNACK. */
  get connackCode(): number | null {
    const r = this.received;
    return r.length >= 4 && r[0] === 0x20 && r[1] === 0x02 ? r[3] : null;
  }

  /** Resolves when `predicate` holds or after `timeoutMs`, whichever comes first. */
  async until(predicate: (connection: RawConnection) => boolean, timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }

  untilClosed(timeoutMs = 3000): Promise<boolean> {
    return this.until((c) => c.closed, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
