import protobuf from 'protobufjs/minimal.js';
import { ProtocolError } from './errors.js';
import { opensag } from './gen/messages.js';
import {
  type Ack,
  type AckInput,
  type Command,
  type CommandInput,
  type DesiredConfig,
  type DesiredConfigInput,
  type Event,
  type EventInput,
  type Hello,
  type HelloInput,
  type Presence,
  type PresenceInput,
  type ProbeResult,
  type ProbeResultInput,
  type Report,
  type ReportInput,
  SCHEMA_VERSION,
} from './messages.js';
import {
  checkAck,
  checkCommand,
  checkDesiredConfig,
  checkEvent,
  checkHello,
  checkPresence,
  checkProbeResult,
  checkReport,
  checkShape,
  LIMITS,
} from './validation.js';

/** The static methods every generated message class has and the codec relies on. */
interface GeneratedType {
  fromObject(object: Record<string, unknown>): object;
  encode(message: object): protobuf.Writer;
  decode(reader: protobuf.Reader): object;
  toObject(message: object, options: protobuf.IConversionOptions): Record<string, unknown>;
}

interface Codec<T> {
  name: string;
  type: GeneratedType;
  check: (message: T) => void;
}

// Plain objects only: longs as numbers, enums by name, every field present, the oneof named.
const PLAIN: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
};

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function decodeWith<T>(codec: Codec<T>, bytes: Uint8Array): T {
  const { name, type } = codec;
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError('MALFORMED', `${name} payload is ${typeof bytes}, not bytes`);
  }
  if (bytes.length > LIMITS.maxPayloadBytes) {
    throw new ProtocolError(
      'TOO_LARGE',
      `${name} payload is ${bytes.length} bytes; the limit is ${LIMITS.maxPayloadBytes}`,
    );
  }
  let plain: Record<string, unknown>;
  try {
    const reader = protobuf.Reader.create(bytes);
    // Unknown fields are skipped, never kept: nothing the peer invents reaches the caller.
    reader.discardUnknown = true;
    plain = type.toObject(type.decode(reader), PLAIN);
  } catch (error) {
    throw new ProtocolError('MALFORMED', `${name} payload is not a valid message: ${reasonOf(error)}`);
  }
  checkVersion(name, plain.schemaVersion);
  checkShape(name, plain);
  codec.check(plain as T);
  return plain as T;
}

function checkVersion(name: string, version: unknown): void {
  if (typeof version !== 'number' || version === 0) {
    throw new ProtocolError('UNSUPPORTED_VERSION', `${name} carries no schema version`, 'schemaVersion');
  }
  if (version > SCHEMA_VERSION) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      `${name} has schema version ${version}; this side reads up to ${SCHEMA_VERSION}`,
      'schemaVersion',
    );
  }
}

function encodeWith<T>(codec: Codec<T>, input: object): Buffer {
  let bytes: Uint8Array;
  try {
    const message = codec.type.fromObject({ ...input, schemaVersion: SCHEMA_VERSION });
    bytes = codec.type.encode(message).finish();
  } catch (error) {
    throw new ProtocolError('INVALID_FIELD', `${codec.name} cannot be encoded: ${reasonOf(error)}`);
  }
  // Refuse to send what the peer's decoder would refuse, so the mistake shows at its source.
  decodeWith(codec, bytes);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const v1 = opensag.v1;
const hello: Codec<Hello> = { name: 'Hello', type: v1.Hello, check: checkHello };
const report: Codec<Report> = { name: 'Report', type: v1.Report, check: checkReport };
const ack: Codec<Ack> = { name: 'Ack', type: v1.Ack, check: checkAck };
const event: Codec<Event> = { name: 'Event', type: v1.Event, check: checkEvent };
const presence: Codec<Presence> = { name: 'Presence', type: v1.Presence, check: checkPresence };
const probeResult: Codec<ProbeResult> = {
  name: 'ProbeResult',
  type: v1.ProbeResult,
  check: (m) => checkProbeResult(m),
};
const desiredConfig: Codec<DesiredConfig> = {
  name: 'DesiredConfig',
  type: v1.DesiredConfig,
  check: checkDesiredConfig,
};
const command: Codec<Command> = { name: 'Command', type: v1.Command, check: checkCommand };

export function encodeHello(message: HelloInput): Buffer {
  return encodeWith(hello, message);
}
export function decodeHello(bytes: Uint8Array): Hello {
  return decodeWith(hello, bytes);
}

export function encodeReport(message: ReportInput): Buffer {
  return encodeWith(report, message);
}
export function decodeReport(bytes: Uint8Array): Report {
  return decodeWith(report, bytes);
}

export function encodeAck(message: AckInput): Buffer {
  return encodeWith(ack, message);
}
export function decodeAck(bytes: Uint8Array): Ack {
  return decodeWith(ack, bytes);
}

export function encodeEvent(message: EventInput): Buffer {
  const inner = message.probeResult;
  // The embedded probe result is a message of its own and carries its own version stamp.
  const stamped = inner ? { ...message, probeResult: { ...inner, schemaVersion: SCHEMA_VERSION } } : message;
  return encodeWith(event, stamped);
}
export function decodeEvent(bytes: Uint8Array): Event {
  return decodeWith(event, bytes);
}

export function encodePresence(message: PresenceInput): Buffer {
  return encodeWith(presence, message);
}
export function decodePresence(bytes: Uint8Array): Presence {
  return decodeWith(presence, bytes);
}

export function encodeProbeResult(message: ProbeResultInput): Buffer {
  return encodeWith(probeResult, message);
}
export function decodeProbeResult(bytes: Uint8Array): ProbeResult {
  return decodeWith(probeResult, bytes);
}

export function encodeDesiredConfig(message: DesiredConfigInput): Buffer {
  return encodeWith(desiredConfig, message);
}
export function decodeDesiredConfig(bytes: Uint8Array): DesiredConfig {
  return decodeWith(desiredConfig, bytes);
}

export function encodeCommand(message: CommandInput): Buffer {
  return encodeWith(command, message);
}
export function decodeCommand(bytes: Uint8Array): Command {
  return decodeWith(command, bytes);
}
