/**
 * The tunnel keepalive probe: a small UDP datagram the agent sends to each access point and the
 * access point echoes back. Shared by the agent (prober) and the broker's embedded access point
 * (responder) so both ends agree on every byte.
 *
 * Layout (big-endian):
 *   0  'SAGK' magic          4  version (1)       5  type (1 request, 2 reply)
 *   6  seq u32              10  sentAtMs f64     18  serial length n (0-64)
 *  19  serial number, n ASCII bytes
 * A reply echoes the request's fields, so it is never larger than the request (no amplification).
 */

export const KEEPALIVE_MAGIC = 'SAGK';
export const KEEPALIVE_VERSION = 1;
const HEADER_BYTES = 19;
const MAX_SERIAL_BYTES = 64;
export const KEEPALIVE_MAX_BYTES = HEADER_BYTES + MAX_SERIAL_BYTES;

const TYPE_CODES = { request: 1, reply: 2 } as const;
const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;

export interface KeepaliveProbeFields {
  /** Sequence number chosen by the prober, 0 to 2^32-1. */
  seq: number;
  /** The prober's clock when it sent the probe, in milliseconds. */
  sentAtMs: number;
  serialNumber?: string;
}

export interface KeepaliveRequest extends KeepaliveProbeFields {
  type: 'request';
}

export interface KeepaliveReply extends KeepaliveProbeFields {
  type: 'reply';
}

export type KeepaliveProbe = KeepaliveRequest | KeepaliveReply;

function encode(type: KeepaliveProbe['type'], fields: KeepaliveProbeFields): Uint8Array {
  const { seq, sentAtMs, serialNumber } = fields;
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff)
    throw new RangeError(`probe seq ${seq} is not a u32`);
  if (!Number.isFinite(sentAtMs) || sentAtMs < 0)
    throw new RangeError(`probe sentAtMs ${sentAtMs} is not a time`);
  if (serialNumber !== undefined && !SERIAL.test(serialNumber)) {
    throw new RangeError(`probe serial number "${serialNumber}" is not 1-64 of A-Z a-z 0-9 _ -`);
  }
  const serial = serialNumber ?? '';
  const bytes = new Uint8Array(HEADER_BYTES + serial.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = KEEPALIVE_MAGIC.charCodeAt(i);
  bytes[4] = KEEPALIVE_VERSION;
  bytes[5] = TYPE_CODES[type];
  view.setUint32(6, seq);
  view.setFloat64(10, sentAtMs);
  bytes[18] = serial.length;
  for (let i = 0; i < serial.length; i++) bytes[HEADER_BYTES + i] = serial.charCodeAt(i);
  return bytes;
}

/** Encodes a probe request; throws RangeError on fields that cannot be encoded. */
export function encodeProbe(fields: KeepaliveProbeFields): Uint8Array {
  return encode('request', fields);
}

/** The reply a responder sends back for a request: the same fields, type reply. */
export function probeReply(request: KeepaliveRequest): Uint8Array {
  return encode('reply', request);
}

/** Decodes a probe or reply; null for anything that is not exactly a well-formed version-1 probe. */
export function decodeProbe(buf: Uint8Array): KeepaliveProbe | null {
  if (!(buf instanceof Uint8Array) || buf.length < HEADER_BYTES || buf.length > KEEPALIVE_MAX_BYTES)
    return null;
  for (let i = 0; i < 4; i++) if (buf[i] !== KEEPALIVE_MAGIC.charCodeAt(i)) return null;
  if (buf[4] !== KEEPALIVE_VERSION) return null;
  const type = buf[5] === TYPE_CODES.request ? 'request' : buf[5] === TYPE_CODES.reply ? 'reply' : null;
  if (!type) return null;
  const serialLength = buf[18];
  if (buf.length !== HEADER_BYTES + serialLength) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const seq = view.getUint32(6);
  const sentAtMs = view.getFloat64(10);
  if (!Number.isFinite(sentAtMs) || sentAtMs < 0) return null;
  const message: KeepaliveProbe = { type, seq, sentAtMs };
  if (serialLength > 0) {
    const serialNumber = String.fromCharCode(...buf.subarray(HEADER_BYTES));
    if (!SERIAL.test(serialNumber)) return null;
    message.serialNumber = serialNumber;
  }
  return message;
}

/**
 * The keepalive settings a device accepts (SPEC §5). The broker checks its configuration against
 * the same bounds, so it can never compile a config every device would reject.
 */
export const KEEPALIVE_LIMITS = {
  intervalMs: { min: 50, max: 60_000 },
  multiplier: { min: 1, max: 20 },
  lossWindow: { min: 1, max: 1000 },
  holdDownMs: { min: 0, max: 3_600_000 },
} as const;
