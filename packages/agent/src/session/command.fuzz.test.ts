import {
  type Command,
  decodeCommand,
  encodeCommand,
  encodeEvent,
  isProtocolError,
  LIMITS,
} from '@opensag/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmulatedDataPlane } from '../dataplane/emulated/emulatedDataPlane.js';
import { prototypeFingerprint, recordingLog, samePrototypes } from '../testing/hostileInput.js';
import { sampleConfig } from '../testing/sampleConfig.js';
import { encodeWire, fields, type WireValue } from '../testing/wire.js';
import {
  CommandDispatcher,
  DEFAULT_PROBE_TIMEOUT_MS,
  MAX_PROBE_TIMEOUT_MS,
  probeTimeoutMs,
  runProbe,
} from './command.js';

const PROTOTYPES = prototypeFingerprint();

const hostileText = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    '#',
    '+',
    '',
    '10.1.0.10',
    '172.16.0.1',
    'tcp',
    'icmp',
    'x'.repeat(LIMITS.maxStringLength),
    'x'.repeat(LIMITS.maxStringLength + 1),
  ),
  fc.string({ maxLength: 30 }),
);
/** Mostly a value the decoder accepts, so handlers run; now and then something hostile. */
const text = (...valid: string[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: hostileText });
const uint32 = fc.oneof(fc.constantFrom(0, 1, 22, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1), fc.nat());
const uint64 = fc.oneof(
  fc.constantFrom(0n, 2n ** 53n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

/** Command payloads: each kind, none, or several at once (a oneof the encoder would never send). */
const payload = fc.oneof(
  fc.record({ gatewayId: text('sag-1a9', '__proto__'), at: uint64, expires: uint64 }).map((a) => ({
    field: 3,
    value: fields({ 1: a.gatewayId, 2: a.at, 3: a.expires }),
  })),
  fc
    .record({
      id: hostileText,
      destination: hostileText,
      protocol: hostileText,
      port: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 22, 443) }, { weight: 1, arbitrary: uint32 }),
      timeout: uint32,
    })
    .map((p) => ({
      field: 4,
      value: fields({ 1: p.id, 2: p.destination, 3: p.protocol, 4: p.port, 5: p.timeout }),
    })),
  fc.constantFrom(5, 6).map((field) => ({ field, value: new Uint8Array(0) as WireValue })),
);
const payloads = fc.oneof(
  { weight: 6, arbitrary: payload.map((one) => [one]) },
  { weight: 1, arbitrary: fc.array(payload, { maxLength: 2 }) },
);

const commandWire = fc
  .record({
    version: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: uint32 }),
    commandId: text('cmd-1', '__proto__', 'constructor'),
    payloads,
  })
  .map((c) => encodeWire([...fields({ 1: c.version, 2: c.commandId }), ...c.payloads]));

const handledBy = new Map<string, number>();

/**
 * One command through the dispatcher with the session's own probe handling: it never throws, an
 * undecodable one fails with a ProtocolError and runs nothing, a decodable one runs exactly its
 * handler once, and a probe's answer is always an event the broker can decode.
 */
async function checkCommand(payload: Uint8Array): Promise<void> {
  let command: Command | null = null;
  try {
    command = decodeCommand(payload);
  } catch (err) {
    expect(isProtocolError(err), `not a ProtocolError: ${String(err)}`).toBe(true);
  }
  const dataPlane = new EmulatedDataPlane();
  await dataPlane.apply(sampleConfig());
  const ran: string[] = [];
  const log = recordingLog();
  const dispatcher = new CommandDispatcher(
    {
      activation: () => void ran.push('activation'),
      probeRequest: async (request) => {
        ran.push('probeRequest');
        const result = await runProbe(dataPlane, request, 'SN-HZ-0001');
        expect(() => encodeEvent({ kind: 'PROBE_RESULT', atMs: 1, probeResult: result })).not.toThrow();
      },
      reboot: () => void ran.push('reboot'),
      resync: () => void ran.push('resync'),
    },
    log,
  );
  await dispatcher.handle(payload);
  await dispatcher.handle(payload);
  expect(log.entries.filter((e) => e.level === 'error')).toEqual([]);
  expect(ran).toEqual(command ? [command.payload] : []);
  handledBy.set(command?.payload ?? 'refused', (handledBy.get(command?.payload ?? 'refused') ?? 0) + 1);
  expect(samePrototypes(prototypeFingerprint(), PROTOTYPES), 'a built-in prototype changed').toBe(true);
}

describe('commands under hostile input', () => {
  it('generated Command payloads and random bytes: no crash, typed refusals, each handler once', async () => {
    handledBy.clear();
    const bytes = fc.oneof(
      { weight: 3, arbitrary: commandWire },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }) },
    );
    await fc.assert(fc.asyncProperty(bytes, checkCommand), { numRuns: 2000 });
    console.info('command outcomes', Object.fromEntries(handledBy));
    for (const kind of ['refused', 'activation', 'probeRequest', 'reboot', 'resync'])
      expect(handledBy.get(kind), kind).toBeGreaterThan(0);
  }, 60_000);

  it('runs a command named __proto__ once, and ignores its redelivery', async () => {
    const ran: string[] = [];
    const dispatcher = new CommandDispatcher(
      {
        activation: () => undefined,
        probeRequest: async () => undefined,
        reboot: () => void ran.push('reboot'),
        resync: () => void ran.push('resync'),
      },
      recordingLog(),
    );
    for (const commandId of ['__proto__', 'constructor', '__proto__', 'constructor'])
      await dispatcher.handle(encodeCommand({ commandId, resync: {} }));
    expect(ran).toEqual(['resync', 'resync']);
  });

  it('bounds a probe timeout the broker could not mean, instead of letting the timer overflow', () => {
    expect(probeTimeoutMs({ timeoutMs: 2 ** 32 - 1 })).toBe(MAX_PROBE_TIMEOUT_MS);
    expect(probeTimeoutMs({ timeoutMs: 2 ** 31 })).toBe(MAX_PROBE_TIMEOUT_MS);
    expect(probeTimeoutMs({ timeoutMs: 300 })).toBe(300);
    expect(probeTimeoutMs({ timeoutMs: 0 })).toBe(DEFAULT_PROBE_TIMEOUT_MS);
  });
});
