import { ProtocolError } from './errors.js';

/**
 * Topic names of the device protocol: devices publish under `sag/v1/d/{sn}/…` and subscribe under
 * `sag/v1/c/{sn}/…`. The serial number is a topic level, so it must never carry MQTT syntax.
 */

export const DEVICE_TOPIC_KINDS = ['hello', 'report', 'ack', 'event', 'presence'] as const;
export const CLOUD_TOPIC_KINDS = ['config', 'cmd'] as const;

export type DeviceTopicKind = (typeof DEVICE_TOPIC_KINDS)[number];
export type CloudTopicKind = (typeof CLOUD_TOPIC_KINDS)[number];

export type ParsedTopic =
  | { side: 'device'; serialNumber: string; kind: DeviceTopicKind }
  | { side: 'cloud'; serialNumber: string; kind: CloudTopicKind };

const SERIAL_NUMBER = /^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$/;

/**
 * The own properties of Object.prototype (as Node 20 lists them). A serial number becomes a map key
 * in the broker, so none of these may ever be one.
 */
const OBJECT_PROTOTYPE_NAMES: ReadonlySet<string> = new Set([
  'constructor',
  '__defineGetter__',
  '__defineSetter__',
  'hasOwnProperty',
  '__lookupGetter__',
  '__lookupSetter__',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toString',
  'valueOf',
  '__proto__',
  'toLocaleString',
]);

/** 2–64 characters of letters, digits, `_` and `-`, starting with a letter or digit. */
export function isValidSerialNumber(serialNumber: unknown): serialNumber is string {
  return (
    typeof serialNumber === 'string' &&
    serialNumber.length <= 64 &&
    SERIAL_NUMBER.test(serialNumber) &&
    !OBJECT_PROTOTYPE_NAMES.has(serialNumber)
  );
}

function requireSerialNumber(serialNumber: string): void {
  if (!isValidSerialNumber(serialNumber)) {
    const shown = String(serialNumber).slice(0, 40);
    throw new ProtocolError(
      'INVALID_FIELD',
      `serial number ${JSON.stringify(shown)} is not valid: expected 2–64 letters, digits, _ or -, starting with a letter or digit`,
      'serialNumber',
    );
  }
}

/** `sag/v1/d/{sn}/{kind}`: where a device publishes. */
export function deviceTopic(serialNumber: string, kind: DeviceTopicKind): string {
  requireSerialNumber(serialNumber);
  if (!DEVICE_TOPIC_KINDS.includes(kind)) {
    throw new ProtocolError('INVALID_FIELD', `device topic kind ${JSON.stringify(kind)} is unknown`, 'kind');
  }
  return `sag/v1/d/${serialNumber}/${kind}`;
}

/** `sag/v1/c/{sn}/{kind}`: where the cloud publishes to a device. */
export function cloudTopic(serialNumber: string, kind: CloudTopicKind): string {
  requireSerialNumber(serialNumber);
  if (!CLOUD_TOPIC_KINDS.includes(kind)) {
    throw new ProtocolError('INVALID_FIELD', `cloud topic kind ${JSON.stringify(kind)} is unknown`, 'kind');
  }
  return `sag/v1/c/${serialNumber}/${kind}`;
}

// Longest valid topic: "sag/v1/d/" + 64 + "/" + "presence".
const MAX_TOPIC_LENGTH = 9 + 64 + 1 + 8;

/** The side, serial number and kind of an exact protocol topic; null for anything else, wildcards included. */
export function parseTopic(topic: unknown): ParsedTopic | null {
  if (typeof topic !== 'string' || topic.length > MAX_TOPIC_LENGTH) return null;
  const levels = topic.split('/');
  if (levels.length !== 5 || levels[0] !== 'sag' || levels[1] !== 'v1') return null;
  const [, , side, serialNumber, kind] = levels;
  if (!isValidSerialNumber(serialNumber)) return null;
  if (side === 'd' && (DEVICE_TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { side: 'device', serialNumber, kind: kind as DeviceTopicKind };
  }
  if (side === 'c' && (CLOUD_TOPIC_KINDS as readonly string[]).includes(kind)) {
    return { side: 'cloud', serialNumber, kind: kind as CloudTopicKind };
  }
  return null;
}
