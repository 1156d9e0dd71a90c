/**
 * The JSON codec of every stored document. Rows can hold what devices reported (`report`,
 * `details`), so decoding drops the keys that could reach a prototype when code later merges or
 * copies the value (`__proto__`, and `constructor.prototype`).
 */

/** JSON texts already built for values that do not change (an edge config of megabytes). */
const knownText = new WeakMap<object, string>();

/**
 * Records the JSON text of a value that will not change (same content, any key order), so that
 * storing it does not serialise it again.
 */
export function rememberJson(value: object, text: string): void {
  knownText.set(value, text);
}

/** Serialises a value for a `data`/JSON column; `undefined` becomes SQL NULL. */
export function encodeJson(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value === 'object' && value !== null) {
    const known = knownText.get(value);
    if (known !== undefined) return known;
  }
  return JSON.stringify(value);
}

/** Parses a stored JSON column; SQL NULL becomes `undefined`. */
export function decodeJson(text: string | null): unknown {
  if (text === null) return undefined;
  return JSON.parse(text, dropPrototypeKeys);
}

function dropPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined;
  if (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value) {
    return undefined;
  }
  return value;
}
