import { decodeDesiredConfig, encodeAck, encodeDesiredConfig, isProtocolError, LIMITS } from '@opensag/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigApplier } from '../apply/applier.js';
import { type DeviceConfig, validateDeviceConfig } from '../config.js';
import { EmulatedDataPlane } from '../dataplane/emulated/emulatedDataPlane.js';
import { prototypeFingerprint, recordingLog, samePrototypes } from '../testing/hostileInput.js';
import { sampleConfig } from '../testing/sampleConfig.js';
import { encodeWire, fields, type WireValue } from '../testing/wire.js';
import { handleConfigPush } from './config.js';
import { deviceConfigFromDesired } from './desiredConfig.js';

/** Taken before any hostile input; every case must leave the built-ins exactly so. */
const PROTOTYPES = prototypeFingerprint();
const SERIAL = 'SN-HZ-0001';
const APPLIED_REVISION = 5;
const applied = () => sampleConfig({ revision: APPLIED_REVISION, hash: 'sha256:hz-5', serialNumber: SERIAL });

/** Names that break code using them as object keys, plus the protocol's own edge cases. */
const HOSTILE_TEXT = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
  '#',
  '+',
  '',
  '\u0000',
  '\u{1F4A5}',
  'x'.repeat(LIMITS.maxStringLength),
  'x'.repeat(LIMITS.maxStringLength + 1),
];

/** Mostly the valid value, so many cases get far into the pipeline, sometimes something hostile. */
const text = (valid: string, ...alsoValid: string[]) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(valid, ...alsoValid) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_TEXT) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );

const uint = (valid: number) =>
  fc.oneof(
    { weight: 20, arbitrary: fc.constant(valid) },
    { weight: 2, arbitrary: fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1) },
    { weight: 1, arbitrary: fc.nat() },
  );

/** uint64: around the applied revision, and past 2^53 where numbers stop being exact. */
const revision = fc.oneof(
  fc.constantFrom(
    0n,
    1n,
    4n,
    5n,
    6n,
    7n,
    2n ** 48n,
    2n ** 48n + 1n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 63n,
    2n ** 64n - 1n,
  ),
  fc.bigInt({ min: 6n, max: 1_000_000n }),
);

const list = <T>(item: fc.Arbitrary<T>, valid: T[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(valid) },
    { weight: 4, arbitrary: item.map((one) => [one]) },
    { weight: 3, arbitrary: fc.array(item, { maxLength: 4 }) },
    // Many bad entries: the refusal names each, and the ack must still be sendable.
    { weight: 1, arbitrary: fc.array(item, { minLength: 30, maxLength: 40 }) },
  );

const sample = applied();
const wan = fc
  .record({
    name: text('wan0', 'wan1', 'wan7'),
    mode: text('dhcp'),
    address: text(''),
    priority: uint(0),
    dns: fc.array(text('223.5.5.5'), { maxLength: 2 }),
  })
  .map((p) => fields({ 1: p.name, 2: p.mode, 3: p.address, 5: p.dns, 6: p.priority }));
const lan = fc
  .record({
    name: text('lan0', 'lan2', 'lan9', 'constructor'),
    address: text('172.16.0.1/24'),
    dhcp: fc.option(fc.record({ start: text('172.16.0.100'), end: text('172.16.0.200'), lease: uint(720) })),
  })
  .map((p) =>
    fields({
      1: p.name,
      2: p.address,
      3: p.dhcp ? fields({ 1: p.dhcp.start, 2: p.dhcp.end, 3: p.dhcp.lease }) : undefined,
    }),
  );
const tunnel = fc
  .record({
    accessPoint: text('ap-sh-1'),
    address: text('127.0.0.1:7000'),
    publicKey: text(''),
    role: text('active'),
  })
  .map((t) => fields({ 1: t.accessPoint, 2: t.address, 3: t.publicKey, 4: t.role }));
const route = fc
  .record({
    destination: text('10.1.0.0/16'),
    nextHop: text('tunnel'),
    source: text('vpc-sh'),
    kind: text('vpc'),
  })
  .map((r) => fields({ 1: r.destination, 2: r.nextHop, 3: r.source, 4: r.kind }));
const aclRule = fc
  .record({
    id: text('aclr-1'),
    name: text('deny ssh'),
    direction: text('out'),
    policy: text('drop'),
    priority: uint(1),
    protocol: text('tcp'),
    sourceCidr: text('0.0.0.0/0'),
    sourcePorts: text('-1/-1'),
    destCidr: text('10.1.0.0/16'),
    destPorts: text('22/22'),
  })
  .map((r) =>
    fields({
      1: r.id,
      2: r.name,
      3: r.direction,
      4: r.policy,
      5: r.priority,
      6: r.protocol,
      7: r.sourceCidr,
      8: r.sourcePorts,
      9: r.destCidr,
      10: r.destPorts,
    }),
  );

const validTunnels = sample.tunnels.map((t) => fields({ 1: t.accessPoint, 2: t.address, 4: t.role }));
const validRoutes = sample.routes.map((r) =>
  fields({ 1: r.destination, 2: r.nextHop, 3: r.sourceResourceId, 4: r.sourceKind }),
);

/** Fields no version of the schema has, of every wire type, which the decoder must skip. */
const unknownFields = fc.array(
  fc.record({
    field: fc.integer({ min: 14, max: 2 ** 29 - 1 }),
    value: fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.string(),
      fc.uint8Array({ maxLength: 16 }),
    ) as fc.Arbitrary<WireValue>,
  }),
  { maxLength: 3 },
);

/** A DesiredConfig on the wire: valid-shaped, with extreme values and hostile names mixed in. */
const desiredConfigWire = fc
  .record({
    schemaVersion: fc.oneof(
      { weight: 9, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.constantFrom(0, 2, 2 ** 32 - 1) },
    ),
    revision,
    hash: text('sha256:hz-next'),
    gatewayId: text('sag-1a9'),
    serialNumber: fc.constantFrom(SERIAL, '', 'SN-OTHER-0002', '__proto__'),
    wan: list(wan, [fields({ 1: 'wan1', 2: 'dhcp' })]),
    lan: list(lan, []),
    privateCidrs: list(text('172.16.0.0/16'), ['172.16.0.0/16']),
    tunnels: list(tunnel, validTunnels),
    keepalive: fc.record({
      interval: uint(1000),
      multiplier: uint(3),
      window: uint(20),
      holdDown: uint(10_000),
    }),
    routes: list(route, validRoutes),
    aclRules: list(aclRule, []),
    aclId: text(''),
    // Now and then an access point's section, which a branch must refuse.
    edge: fc.oneof(
      { weight: 19, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constant(fields({ 1: 51821 })) },
    ),
    unknown: unknownFields,
  })
  .map((c) =>
    encodeWire([
      ...fields({
        1: c.schemaVersion,
        2: c.revision,
        3: c.hash,
        4: c.gatewayId,
        5: c.serialNumber,
        6: fields({ 1: c.wan, 2: c.lan }),
        7: c.privateCidrs,
        8: c.tunnels,
        9: fields({
          1: c.keepalive.interval,
          2: c.keepalive.multiplier,
          3: c.keepalive.window,
          4: c.keepalive.holdDown,
        }),
        10: c.routes,
        11: c.aclRules,
        12: c.aclId,
        13: c.edge ?? undefined,
      }),
      ...c.unknown,
    ]),
  );

const validBytes = encodeDesiredConfig({ ...applied(), revision: 6, hash: 'sha256:hz-6' });

/** A valid push with bytes flipped, cut short or spliced in. */
const damagedValid = fc
  .record({
    flips: fc.array(fc.record({ at: fc.nat(validBytes.length - 1), to: fc.integer({ min: 0, max: 255 }) }), {
      maxLength: 4,
    }),
    cut: fc.option(fc.nat(validBytes.length)),
    splice: fc.option(fc.record({ at: fc.nat(validBytes.length), bytes: fc.uint8Array({ maxLength: 12 }) })),
  })
  .map(({ flips, cut, splice }) => {
    let bytes = Uint8Array.from(validBytes);
    for (const { at, to } of flips) bytes[at] = to;
    if (splice)
      bytes = Uint8Array.from([
        ...bytes.subarray(0, splice.at),
        ...splice.bytes,
        ...bytes.subarray(splice.at),
      ]);
    return cut === null ? bytes : bytes.subarray(0, cut);
  });

/** A device with revision 5 applied, its data plane and what it last persisted. */
async function device() {
  const dataPlane = new EmulatedDataPlane();
  let persisted: DeviceConfig | null = null;
  const applier = new ConfigApplier({
    stateDir: '/nonexistent',
    dataPlane,
    persist: async (_dir, config) => {
      persisted = structuredClone(config);
    },
  });
  await applier.apply(applied());
  return { dataPlane, applier, persisted: () => persisted };
}

/**
 * One push, checked end to end: whatever the bytes, the push handler answers, a payload that does
 * not decode fails with a ProtocolError, any ack can be encoded, and the device holds exactly the
 * previous config or exactly the new one — on the data plane and in last-known-good alike.
 */
/** How the cases ended, so a run shows it reached every branch of the pipeline. */
const outcomes = new Map<string, number>();

async function checkPush(payload: Uint8Array): Promise<void> {
  let decoded: DeviceConfig | null = null;
  try {
    decoded = deviceConfigFromDesired(decodeDesiredConfig(payload));
    expect(validateDeviceConfig(decoded)).toBeInstanceOf(Array);
  } catch (err) {
    expect(isProtocolError(err), `not a ProtocolError: ${String(err)}`).toBe(true);
  }
  const { dataPlane, applier, persisted } = await device();
  const log = recordingLog();
  const previous = structuredClone(applier.applied);
  const result = await handleConfigPush(payload, { serialNumber: SERIAL, applier, log });
  const outcome = `${decoded ? 'decoded' : 'undecodable'} → ${result.ack?.result ?? 'no ack'}`;
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);

  if (result.ack) {
    expect(() => encodeAck(result.ack as NonNullable<typeof result.ack>)).not.toThrow();
    if (result.ack.result !== 'APPLIED') expect(result.ack.error).not.toBe('');
  } else expect(log.entries.some((e) => e.level === 'warn')).toBe(true);

  const now = applier.applied;
  if (result.applied) {
    expect(decoded).not.toBeNull();
    expect(result.ack).toMatchObject({ result: 'APPLIED', revision: decoded?.revision, error: '' });
    expect(now).toEqual(decoded);
    expect(now?.revision).toBeGreaterThan(APPLIED_REVISION);
  } else {
    expect(now).toEqual(previous);
    if (result.ack?.result === 'APPLIED') expect(result.ack.revision).toBe(APPLIED_REVISION);
  }
  expect(persisted()).toEqual(now);
  expect(dataPlane.snapshot().revision).toBe(now?.revision);
  expect(await dataPlane.verify(now as DeviceConfig)).toEqual([]);
  expect(samePrototypes(prototypeFingerprint(), PROTOTYPES), 'a built-in prototype changed').toBe(true);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('config push decoding under hostile input', () => {
  it('generated DesiredConfig payloads: no crash, typed refusals, old or new config, prototypes intact', async () => {
    outcomes.clear();
    await fc.assert(fc.asyncProperty(desiredConfigWire, checkPush), { numRuns: 2000 });
    console.info('generated DesiredConfig outcomes', Object.fromEntries(outcomes));
    for (const reached of [
      'decoded → APPLIED',
      'decoded → REJECTED',
      'decoded → ROLLED_BACK',
      'undecodable → REJECTED',
    ])
      expect(outcomes.get(reached), reached).toBeGreaterThan(0);
  }, 60_000);

  it('random bytes and damaged valid pushes: the same guarantees', async () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 256 }), damagedValid);
    outcomes.clear();
    await fc.assert(fc.asyncProperty(bytes, checkPush), { numRuns: 2000 });
    console.info('random and damaged bytes outcomes', Object.fromEntries(outcomes));
  }, 60_000);

  it('applies a hostile-named but valid config exactly as sent', async () => {
    const config = applied();
    const hostile: DeviceConfig = {
      ...config,
      revision: 6,
      gatewayId: '__proto__',
      tunnels: [{ accessPoint: '__proto__', address: '127.0.0.1:7000', role: 'active' }],
      aclRules: [{ ...sampleConfig().aclRules[0], id: '__proto__', name: 'constructor' }],
      aclId: 'toString',
    };
    const { applier } = await device();
    const result = await handleConfigPush(encodeDesiredConfig(hostile), {
      serialNumber: SERIAL,
      applier,
      log: recordingLog(),
    });
    expect(result.ack).toMatchObject({ result: 'APPLIED', revision: 6 });
    expect(applier.applied).toEqual(hostile);
    expect(Object.getPrototypeOf(applier.applied?.aclRules[0])).toBe(Object.prototype);
  });

  it('sends a refusal ack the broker can decode even when every one of many entries is bad', async () => {
    const routes = Array.from({ length: 200 }, (_, i) => ({
      destination: `not-a-cidr-${'x'.repeat(100)}-${i}`,
      nextHop: 'tunnel',
      sourceResourceId: 'vpc-sh',
      sourceKind: 'vpc',
    }));
    const { applier } = await device();
    const payload = encodeDesiredConfig({ ...applied(), revision: 6, routes });
    const { ack } = await handleConfigPush(payload, { serialNumber: SERIAL, applier, log: recordingLog() });
    expect(ack).toMatchObject({ result: 'REJECTED', revision: 6 });
    expect(ack?.error).toMatch(/^revision 6 rejected: routes\[0\]\.destination/);
    expect(() => encodeAck(ack as NonNullable<typeof ack>)).not.toThrow();
  });
});
