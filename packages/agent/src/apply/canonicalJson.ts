import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal content always gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry === undefined) continue;
    // A `__proto__` key (JSON.parse makes it an own property) must stay a plain key and be hashed,
    // not set the prototype and drop out of the text. Defined only for it: an object without a
    // prototype would be a slow dictionary for every key (60% slower here).
    if (key === '__proto__')
      Object.defineProperty(sorted, key, {
        value: sortKeys(entry),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else sorted[key] = sortKeys(entry);
  }
  return sorted;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
