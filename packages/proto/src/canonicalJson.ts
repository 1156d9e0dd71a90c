/** Canonical text of frozen values, which cannot change: route entries shared by many configs. */
const frozenText = new WeakMap<object, string>();

/**
 * JSON with object keys sorted at every level, so equal content always gives equal text whatever
 * order the fields were built in. The text is exactly `JSON.stringify` of the value with its keys
 * sorted: members that are undefined (or functions) are left out, and in arrays they are `null`.
 * Written out directly rather than by sorting a copy and stringifying it: the broker hashes every
 * config it compiles and the agent every config it applies, and the copy was most of the cost.
 * An own `__proto__` key (JSON.parse makes one) is an ordinary key here, hashed like any other.
 */
export function canonicalJson(value: unknown): string {
  return textOf(value) ?? 'null';
}

function textOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const known = frozenText.get(value);
  if (known !== undefined) return known;
  let text: string;
  if (Array.isArray(value)) {
    text = '[';
    for (let i = 0; i < value.length; i++) text += `${i === 0 ? '' : ','}${textOf(value[i]) ?? 'null'}`;
    text += ']';
  } else {
    const record = value as Record<string, unknown>;
    text = '{';
    for (const key of Object.keys(record).sort()) {
      const member = textOf(record[key]);
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${member}`;
    }
    text += '}';
  }
  if (Object.isFrozen(value)) frozenText.set(value, text);
  return text;
}
