import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson, rememberJson } from './json.js';

describe('encodeJson', () => {
  it('serialises a value, and undefined as SQL NULL', () => {
    expect(encodeJson({ a: 1, b: [2] })).toBe('{"a":1,"b":[2]}');
    expect(encodeJson(undefined)).toBeNull();
  });

  it('writes the text remembered for a value instead of serialising it again', () => {
    const value = Object.freeze({ b: 1, a: 2 });
    rememberJson(value, '{"a":2,"b":1}');
    expect(encodeJson(value)).toBe('{"a":2,"b":1}');
    expect(decodeJson(encodeJson(value) as string)).toEqual(value);
    // Only that very object: an equal one is serialised as usual.
    expect(encodeJson({ b: 1, a: 2 })).toBe('{"b":1,"a":2}');
  });
});
