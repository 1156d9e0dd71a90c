import {
  ACK_RESULTS,
  AGENT_ROLES,
  AGENT_STATES,
  DATAPLANES,
  type DeviceTopicKind,
  EVENT_KINDS,
  encodeAck,
  encodeEvent,
  encodeHello,
  encodePresence,
  encodeReport,
  LIMITS,
  LINK_STATES,
  PORT_KINDS,
  PRESENCE_STATES,
  TUNNEL_ROLES,
  WAN_MODES,
} from '@opensag/proto';
import fc from 'fast-check';

/**
 * Generated device payloads for the protocol fuzz test: messages the encoders accept, with field
 * values at the edges (JavaScript property names, MQTT syntax, the longest strings, the largest
 * numbers), hand-assembled protobuf fields the encoders would never write, and plain noise.
 */

/** Strings a device is never trusted with: prototype names, MQTT syntax, control and lone surrogates. */
export const hostileString = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '#',
    '+',
    '$SYS',
    '',
    'sag/v1/c/SAGTEST-00002/config',
    '\u0000',
    '\ud800',
    'x'.repeat(4096),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Counters, revisions and clocks, at the edges as often as in the middle. */
export const extremeCount = fc.oneof(
  fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 8.64e15, 8.64e15 + 1, Number.MAX_SAFE_INTEGER),
  fc.nat(),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

/** Revisions and device clocks as a device may claim them; beyond the bounds comes as raw fields. */
const revision = fc.oneof(fc.constantFrom(0, 1, LIMITS.maxDeviceRevision), fc.nat());
const timestamp = fc.oneof(
  fc.constantFrom(0, 1, LIMITS.maxTimestampMs),
  fc.integer({ min: 0, max: LIMITS.maxTimestampMs }),
);

const measure = (max: number) =>
  fc.oneof(fc.constantFrom(0, max, Number.MIN_VALUE), fc.double({ min: 0, max, noNaN: true }));

const port = fc.record({
  name: hostileString,
  kind: fc.constantFrom(...PORT_KINDS),
  state: fc.constantFrom(...LINK_STATES),
  address: hostileString,
  mode: fc.constantFrom('' as const, ...WAN_MODES),
  error: hostileString,
});

const wireguardKey = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('base64'));

const hello = fc.record({
  agentVersion: hostileString,
  model: hostileString,
  appliedRevision: revision,
  appliedHash: hostileString,
  ports: fc.array(port, { maxLength: 6 }),
  state: fc.constantFrom(...AGENT_STATES),
  dataplane: fc.constantFrom(...DATAPLANES),
  role: fc.constantFrom(...AGENT_ROLES),
  tunnelPublicKey: fc.oneof(hostileString, wireguardKey),
});

const tunnel = fc.record({
  accessPoint: hostileString,
  address: hostileString,
  role: fc.constantFrom(...TUNNEL_ROLES),
  state: fc.constantFrom(...LINK_STATES),
  carryingTraffic: fc.boolean(),
  rttMs: measure(Number.MAX_SAFE_INTEGER),
  lossPct: measure(100),
  jitterMs: measure(Number.MAX_SAFE_INTEGER),
  probesSent: extremeCount,
  probesLost: extremeCount,
});

const report = fc.record({
  appliedRevision: revision,
  tunnels: fc.array(tunnel, { maxLength: 3 }),
  ports: fc.array(port, { maxLength: 4 }),
  counters: fc.record({
    rxPackets: extremeCount,
    txPackets: extremeCount,
    rxBytes: extremeCount,
    txBytes: extremeCount,
    aclDroppedPackets: extremeCount,
  }),
  uptimeMs: extremeCount,
});

const ack = fc.record({
  revision,
  hash: hostileString,
  result: fc.constantFrom(...ACK_RESULTS),
  error: hostileString,
});

const probeResult = fc.record({
  probeId: hostileString,
  reachable: fc.boolean(),
  rttMs: measure(Number.MAX_SAFE_INTEGER),
  reason: hostileString,
  seenBy: hostileString,
});

const event = fc.record({
  kind: fc.constantFrom(...EVENT_KINDS),
  atMs: timestamp,
  accessPoint: hostileString,
  detail: hostileString,
  probeResult: fc.option(probeResult, { nil: null }),
});

const presence = fc.record({ state: fc.constantFrom(...PRESENCE_STATES) });

/**
 * A message of `kind` as its encoder writes it; null when the encoder itself refuses the values
 * (a tunnel event without an access point, say), which the test checks is a typed refusal.
 */
function encoded<T>(arb: fc.Arbitrary<T>, encode: (message: T) => Buffer) {
  return arb.map((message) => ({ message, encode: () => encode(message) }));
}

export const VALID = {
  hello: encoded(hello, encodeHello),
  report: encoded(report, encodeReport),
  ack: encoded(ack, encodeAck),
  event: encoded(event, encodeEvent),
  presence: encoded(presence, encodePresence),
} satisfies Record<DeviceTopicKind, unknown>;

/** A varint of up to 64 bits (protobuf wire format). */
export function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

const tag = (field: number, wireType: number) => varint((BigInt(field) << 3n) | BigInt(wireType));
const delimited = (field: number, bytes: Uint8Array) =>
  Buffer.concat([tag(field, 2), varint(BigInt(bytes.length)), bytes]);

const fieldNumber = fc.oneof(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 2 ** 29 - 1 }));

/** Varint values around every bound a decoder or a Date has, and anywhere in 64 bits. */
const varintValue = fc.oneof(
  fc.constantFrom(
    ...[31, 32, 48, 53, 63, 64].flatMap((bits) => [
      2n ** BigInt(bits) - 1n,
      2n ** BigInt(bits),
      2n ** BigInt(bits) + 1n,
    ]),
    8_640_000_000_000_000n,
    8_640_000_000_000_001n,
  ),
  fc.bigInt({ min: 0n, max: 2n ** 53n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

/** One field as a peer could put it on the wire, in any wire type and with any value. */
const scalarField = fc.oneof(
  fc.tuple(fieldNumber, varintValue).map(([f, v]) => Buffer.concat([tag(f, 0), varint(v)])),
  fc.tuple(fieldNumber, fc.double()).map(([f, v]) => {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(v);
    return Buffer.concat([tag(f, 1), bytes]);
  }),
  fc.tuple(fieldNumber, fc.integer()).map(([f, v]) => {
    const bytes = Buffer.alloc(4);
    bytes.writeInt32LE(v);
    return Buffer.concat([tag(f, 5), bytes]);
  }),
  fc.tuple(fieldNumber, hostileString).map(([f, s]) => delimited(f, Buffer.from(s, 'utf8'))),
  fc.tuple(fieldNumber, fc.uint8Array({ maxLength: 48 })).map(([f, b]) => delimited(f, b)),
);

/** Hand-assembled fields, nested one level, mostly behind a valid schema version. */
export const rawMessage = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        { weight: 3, arbitrary: scalarField },
        {
          weight: 1,
          arbitrary: fc
            .tuple(fieldNumber, fc.array(scalarField, { maxLength: 6 }))
            .map(([f, inner]) => delimited(f, Buffer.concat(inner))),
        },
      ),
      { maxLength: 10 },
    ),
  )
  .map(([versioned, fields]) =>
    Buffer.concat([versioned ? Buffer.from([0x08, 0x01]) : Buffer.alloc(0), ...fields]),
  );

export const noise = fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes));

/** Payloads for one topic kind: its own messages, edited, extended, another kind's, or noise. */
export function payloadFor(kind: DeviceTopicKind): fc.Arbitrary<Buffer | { encode: () => Buffer }> {
  const own = VALID[kind];
  const other = fc
    .constantFrom(...Object.values(VALID))
    .chain((arb) => arb as fc.Arbitrary<{ encode: () => Buffer }>);
  return fc.oneof(
    { weight: 4, arbitrary: own },
    // Protobuf merges repeated fields: what follows a valid message overrides or extends it.
    {
      weight: 3,
      arbitrary: fc
        .tuple(own, rawMessage)
        .map(([m, tail]) => ({ encode: () => Buffer.concat([m.encode(), tail]) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(own, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }))
        .map(([m, edits]) => ({
          encode: () => {
            const bytes = Buffer.from(m.encode());
            for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
            return bytes;
          },
        })),
    },
    { weight: 1, arbitrary: other },
    { weight: 3, arbitrary: rawMessage },
    { weight: 2, arbitrary: noise },
  );
}
