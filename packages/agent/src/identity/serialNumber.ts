const SERIAL_NUMBER = /^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$/;
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Why a serial number is unusable, or null when it is fine. The serial is an MQTT client id and a
 * topic level, so it must be plain and must never collide with an object's built-in properties.
 */
export function serialNumberProblem(serialNumber: unknown): string | null {
  if (typeof serialNumber !== 'string') return 'serial number must be a string';
  if (!SERIAL_NUMBER.test(serialNumber)) {
    return `serial number "${serialNumber}" must be 2-64 characters: a letter or digit, then letters, digits, "_" or "-"`;
  }
  if (RESERVED.has(serialNumber)) return `serial number "${serialNumber}" is a reserved name`;
  return null;
}
