import type { AgentLog, LogLevel } from '../session/log.js';

/**
 * Every own property of the built-in prototypes a hostile payload could try to reach through
 * `__proto__` or `constructor.prototype`, with its value, so a test can tell if one was added,
 * removed or replaced.
 */
export function prototypeFingerprint(): unknown[] {
  const seen: unknown[] = [];
  const prototypes: [string, object][] = [
    ['Object', Object.prototype],
    ['Array', Array.prototype],
    ['String', String.prototype],
    ['Function', Function.prototype],
  ];
  for (const [name, proto] of prototypes) {
    for (const key of Reflect.ownKeys(proto)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(proto, key);
      seen.push(`${name}.${String(key)}`, descriptor?.value ?? descriptor?.get);
    }
  }
  return seen;
}

/** Whether two fingerprints are the same, entry for entry (by identity, so it stays cheap). */
export function samePrototypes(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((entry, i) => entry === b[i]);
}

export interface LogEntry {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

/** A log that keeps what was written, for tests to read. */
export function recordingLog(): AgentLog & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      entries.push({ level, message, fields });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
