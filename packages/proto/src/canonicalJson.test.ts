import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonicalJson.js';

/** Values as configs hold them: JSON data, undefined members, and keys such as `__proto__`. */
const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('any')),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString')), tie('any')),
  ),
})).any;

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null }, e: undefined })).toBe(
      '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}',
    );
  });

  it('gives the same text whatever order the keys were built in', () => {
    expect(canonicalJson({ x: 1, y: 'two' })).toBe(canonicalJson({ y: 'two', x: 1 }));
  });

  it("gives the broker's first canonical form, so stored config hashes stay valid", () => {
    // The definition the broker's config hashes have always been computed with; devices echo them.
    const reference = (v: unknown): string => {
      if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
      if (Array.isArray(v)) return `[${v.map((item) => reference(item ?? null)).join(',')}]`;
      const record = v as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`);
      return `{${members.join(',')}}`;
    };
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
    );
  });

  it("gives the agent's first canonical form, so last-known-good files written before stay valid", () => {
    // The definition the agent hashed last-known-good with: a sorted copy, then JSON.stringify.
    // A copy lists integer-like keys ("0", "17") first whatever the order they were added in, so
    // the two forms differ for those; a config has none (its keys are field names), and a file
    // that did would fail its hash check and come back from the broker.
    const sortKeys = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(sortKeys);
      if (v === null || typeof v !== 'object') return v;
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const entry = (v as Record<string, unknown>)[key];
        if (entry === undefined) continue;
        Object.defineProperty(sorted, key, { value: sortKeys(entry), enumerable: true, writable: true });
      }
      return sorted;
    };
    const fieldName = fc.oneof(
      fc.string().filter((key) => !/^(0|[1-9][0-9]*)$/.test(key)),
      fc.constantFrom('__proto__', 'constructor', 'toString'),
    );
    const config = fc.letrec((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        fc.constant(undefined),
        fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null)),
        fc.array(tie('any')),
        fc.dictionary(fieldName, tie('any')),
      ),
    })).any;
    fc.assert(
      fc.property(config, (v) => {
        fc.pre(v !== undefined);
        expect(canonicalJson(v)).toBe(JSON.stringify(sortKeys(v)));
      }),
    );
  });

  it('hashes an own `__proto__` key like any other, and leaves the prototype alone', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"polluted":true}}') as object;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"polluted":true},"b":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives a frozen value the same text as an unfrozen copy, also when asked again', () => {
    const route = Object.freeze({ sourceResourceId: 'vpc-1', destination: '10.1.0.0/16', nextHop: 'tunnel' });
    const copy = { ...route };
    expect(canonicalJson([route])).toBe(canonicalJson([copy]));
    expect(canonicalJson({ routes: [route, route] })).toBe(canonicalJson({ routes: [copy, copy] }));
  });
});
