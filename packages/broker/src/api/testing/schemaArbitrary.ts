import fc from 'fast-check';

/**
 * fast-check arbitraries from the JSON Schemas of the OpenAPI document: values the schema accepts,
 * values one or two edits away from that, and hostile values (wrong types, huge strings, odd
 * unicode, prototype keys). Covers the keywords the document uses: type, enum, const, anyOf,
 * properties, required, additionalProperties, minProperties, items, min/maxItems, min/maxLength,
 * minimum/maximum, examples.
 */

export type JsonSchema = Record<string, unknown>;

/**
 * Domain-shaped values for a property name (ids, CIDRs, areas), drawn alongside the schema's own:
 * random strings alone would almost never get past the first domain check.
 */
export type Hint = (property: string) => fc.Arbitrary<unknown> | undefined;

const noHint: Hint = () => undefined;

/** Longest array and string a generated valid value gets, so bodies stay small and cases fast. */
const MAX_ITEMS = 3;
const MAX_STRING = 24;

/** Values the schema accepts (string lengths counted in UTF-16 units, as the server counts them). */
export function validValue(schema: JsonSchema, hint: Hint = noHint, property = ''): fc.Arbitrary<unknown> {
  const hinted = property && isScalar(schema) ? hint(property) : undefined;
  const own = schemaValue(schema, hint, property);
  return hinted ? fc.oneof({ weight: 6, arbitrary: hinted }, { weight: 1, arbitrary: own }) : own;
}

/** Hints stand for strings and numbers: arrays pass the property's name on to their items. */
function isScalar(schema: JsonSchema): boolean {
  if (Array.isArray(schema.anyOf))
    return (schema.anyOf as JsonSchema[]).every((s) => s.type === 'null' || isScalar(s));
  return schema.type === 'string' || schema.type === 'integer' || schema.type === 'number';
}

function schemaValue(schema: JsonSchema, hint: Hint, property: string): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf)) {
    return fc.oneof(...(schema.anyOf as JsonSchema[]).map((s) => validValue(s, hint, property)));
  }
  switch (schema.type) {
    case 'string':
      return stringValue(schema);
    case 'integer':
      return integerValue(schema);
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: num(schema.minimum, -1e9),
        max: num(schema.maximum, 1e9),
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return arrayValue(schema, hint, property);
    case 'object':
      return objectValue(schema, hint);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const num = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);

function stringValue(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = num(schema.minLength, 0);
  const maxLength = Math.max(minLength, Math.min(num(schema.maxLength, MAX_STRING), MAX_STRING));
  const within = (s: string) => s.length >= minLength && s.length <= num(schema.maxLength, Infinity);
  const variants: fc.Arbitrary<string>[] = [
    fc.string({ minLength, maxLength }),
    fc.string({ minLength, maxLength, unit: 'grapheme' }).filter(within),
    fc.string({ minLength, maxLength, unit: 'binary' }).filter(within),
  ];
  const examples = ((schema.examples ?? []) as unknown[]).filter(
    (e): e is string => typeof e === 'string' && within(e),
  );
  if (examples.length > 0) variants.push(fc.constantFrom(...examples));
  // The longest string the schema allows: the edge a length check is most often wrong at.
  if (typeof schema.maxLength === 'number') variants.push(fc.constant('x'.repeat(schema.maxLength)));
  return fc.oneof(...variants);
}

function integerValue(schema: JsonSchema): fc.Arbitrary<number> {
  const min = num(schema.minimum, -(2 ** 31));
  const max = num(schema.maximum, 2 ** 31 - 1);
  return fc.oneof(
    fc.integer({ min, max }),
    fc.constantFrom(...[min, max, 0, 1, -1].filter((n) => n >= min && n <= max)),
  );
}

function arrayValue(schema: JsonSchema, hint: Hint, property: string): fc.Arbitrary<unknown[]> {
  const minLength = num(schema.minItems, 0);
  const maxLength = Math.max(minLength, Math.min(num(schema.maxItems, MAX_ITEMS), MAX_ITEMS));
  const items = (schema.items ?? {}) as JsonSchema;
  const some = fc.array(validValue(items, hint, property), { minLength, maxLength });
  if (typeof schema.maxItems !== 'number' || schema.maxItems <= maxLength) return some;
  // Now and then as many items as allowed: the edge a count check is most often wrong at.
  const full = fc.array(validValue(items, hint, property), {
    minLength: schema.maxItems,
    maxLength: schema.maxItems,
  });
  return fc.oneof({ weight: 9, arbitrary: some }, { weight: 1, arbitrary: full });
}

function objectValue(schema: JsonSchema, hint: Hint): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = (schema.required ?? []) as string[];
  const model = Object.fromEntries(
    Object.entries(properties).map(([name, s]) => [name, validValue(s, hint, name)]),
  );
  let value: fc.Arbitrary<Record<string, unknown>> = fc.record(model, { requiredKeys: required });
  const extra = schema.additionalProperties;
  if (Object.keys(properties).length === 0 && extra !== false) {
    value = fc.dictionary(
      fc.string({ maxLength: 8 }),
      validValue(extra === true ? {} : (extra as JsonSchema)),
      {
        maxKeys: 3,
      },
    );
  }
  const minProperties = num(schema.minProperties, 0);
  return minProperties > 0 ? value.filter((v) => Object.keys(v).length >= minProperties) : value;
}

/** Keys that have broken JSON handlers: prototype pollution, shadowed methods, server-set fields. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '',
  ' ',
  'id',
  'createdAt',
  'lifecycle',
  'é',
  '\u0000',
  'k'.repeat(300),
];

/** Strings that have broken parsers, databases and loggers. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '\u0000',
  '\uD800',
  '\uDFFF',
  '😀',
  'e\u0301',
  '\u202Eabc',
  '\uFEFF',
  'ℌ𝔄',
  '../../etc/passwd',
  '%00',
  '%zz',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'toString',
  '10.0.0.0/8',
  '255.255.255.255/0',
  '1.2.3.4/33',
  '-1/-1',
  '65535/0',
  'a'.repeat(129),
  'é'.repeat(1025),
  'x'.repeat(65_536),
];

/** Numbers at and beyond the edges of every range in the document. */
export const HOSTILE_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  0.1,
  101,
  501,
  65_536,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  5e-324,
];

/** Any JSON value, leaning on the hostile ones. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, ...HOSTILE_NUMBERS, ...HOSTILE_STRINGS),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 4 }),
  fc.constant(Array.from({ length: 20_000 }, (_, i) => i)),
  fc.constant({ constructor: { prototype: { polluted: 'yes' } } }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Sets an own enumerable key, even `__proto__`, so JSON.stringify writes it as sent on the wire. */
export function setOwn(
  target: Record<string, unknown> | unknown[],
  key: string | number,
  value: unknown,
): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export interface Mutation {
  /** Picks the spot in the value, modulo the number of spots. */
  at: number;
  kind: 'replace' | 'remove' | 'addKey';
  key: string;
  value: unknown;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom<Mutation['kind']>('replace', 'remove', 'addKey'),
  key: fc.constantFrom(...HOSTILE_KEYS),
  value: hostileValue,
});

/** A valid value with one or two edits: a replaced leaf, a removed property, an added hostile key. */
export function nearValue(schema: JsonSchema, hint: Hint = noHint): fc.Arbitrary<unknown> {
  return fc
    .tuple(validValue(schema, hint), fc.array(mutation, { minLength: 1, maxLength: 2 }))
    .map(([value, edits]) => edits.reduce(applyMutation, copy(value)));
}

/** A deep copy of plain objects and arrays; anything else (placeholders) is shared. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, copy(v));
    return out;
  }
  return value;
}

type Spot = { parent: Record<string, unknown> | unknown[] | null; key: string | number; value: unknown };

function spots(value: unknown, parent: Spot['parent'] = null, key: string | number = ''): Spot[] {
  const here: Spot = { parent, key, value };
  if (Array.isArray(value)) return [here, ...value.flatMap((v, i) => spots(v, value, i))];
  if (isPlainObject(value)) {
    return [here, ...Object.entries(value).flatMap(([k, v]) => spots(v, value, k))];
  }
  return [here];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

function applyMutation(root: unknown, { at, kind, key, value: shared }: Mutation): unknown {
  // Generated values may be shared (fc.constant): edits work on copies, so no case sees another's.
  const edit = { at, kind, key, value: copy(shared) };
  const all = spots(root);
  const spot = all[edit.at % all.length];
  if (edit.kind === 'addKey') {
    const objects = all.filter((s) => isPlainObject(s.value));
    if (objects.length === 0) return edit.value;
    setOwn(objects[edit.at % objects.length].value as Record<string, unknown>, edit.key, edit.value);
    return root;
  }
  if (spot.parent === null) return edit.kind === 'replace' ? edit.value : undefined;
  if (edit.kind === 'replace') setOwn(spot.parent, spot.key, edit.value);
  else if (Array.isArray(spot.parent)) spot.parent.splice(Number(spot.key), 1);
  else delete spot.parent[spot.key as string];
  return root;
}
