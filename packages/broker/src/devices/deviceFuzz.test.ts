import {
  DEVICE_TOPIC_KINDS,
  type DeviceTopicKind,
  decodeAck,
  decodeDesiredConfig,
  decodeEvent,
  decodeHello,
  decodePresence,
  decodeReport,
  encodeAck,
  encodeEvent,
  encodeHello,
  isProtocolError,
  LIMITS,
} from '@opensag/proto';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setNetwork } from '../domain/operations/index.js';
import { payloadFor, varint } from './deviceFuzz.arbitraries.js';
import { eventually, startTestLink, type TestDevice, type TestLink } from './testLink.js';

/**
 * Protocol fuzzing of the broker's device side: generated payloads on every device topic of a
 * bound, connected device. Whatever it sends, the broker answers the PUBLISH, refuses what does
 * not decode with the decoder's typed error logged under the device's serial, never logs an
 * error of its own, leaves Object.prototype alone, and keeps another device converging.
 */

const DECODERS: Record<DeviceTopicKind, (bytes: Uint8Array) => unknown> = {
  hello: decodeHello,
  report: decodeReport,
  ack: decodeAck,
  event: decodeEvent,
  presence: decodePresence,
};

/**
 * Cases per topic kind, 2,700 in all (10–20 s on a shared core). Presence gets fewer: every valid
 * OFFLINE ends the session, and the next case pays for a new CONNECT and proof.
 */
const RUNS: Record<DeviceTopicKind, number> = {
  hello: 600,
  report: 600,
  ack: 600,
  event: 600,
  presence: 300,
};

let t: TestLink;
let hostile: TestDevice;
let good: TestDevice;
let attacker: MqttClient;
let goodRevision = 0;
const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayPrototypeNames = Object.getOwnPropertyNames(Array.prototype).sort();
const unhandled: unknown[] = [];
/** Cases per topic kind and outcome (the decoder's error code, or taken), shown at the end. */
const tally = new Map<string, number>();
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  t = await startTestLink();
  hostile = t.device({ active: true });
  good = t.device({ active: true });
  attacker = await t.connect(hostile);
  await startAckingDevice(good);
});

afterAll(async () => {
  console.info('device fuzz outcomes', Object.fromEntries([...tally].sort()));
  process.off('unhandledRejection', onUnhandled);
  await t.close();
});

/** A well-behaved agent: says hello, applies and acks every config it gets. */
async function startAckingDevice(device: TestDevice): Promise<void> {
  const client = await t.connectAgent(device);
  client.on('message', (topic, payload) => {
    if (!topic.endsWith('/config')) return;
    const config = decodeDesiredConfig(payload);
    client.publish(
      `sag/v1/d/${device.serialNumber}/ack`,
      encodeAck({ revision: config.revision, hash: config.hash, result: 'APPLIED' }),
      { qos: 1 },
    );
  });
  await client.publishAsync(
    `sag/v1/d/${device.serialNumber}/hello`,
    encodeHello({ agentVersion: '0.1.0', state: 'running', dataplane: 'emulated', role: 'branch' }),
    { qos: 1 },
  );
  await goodInSync();
}

/** Changes the good device's network, then waits until its device applied the new revision. */
async function goodInSync(change = false): Promise<void> {
  const cp = t.controlPlane;
  if (change) {
    goodRevision += 1;
    const cidr = `172.${16 + (goodRevision % 16)}.0.0/16`;
    cp.mutate('fuzz', (topology, ctx) =>
      setNetwork(topology, ctx, good.gatewayId, { privateCidrs: [cidr], ccnId: null }),
    );
  }
  const desired = cp.configRecord(good.gatewayId)?.revision;
  await eventually(() => {
    const status = cp.gatewayStatus(good.gatewayId);
    return status.sync === 'in-sync' && status.appliedRevision === desired;
  }, 5000);
}

/** The hostile device's connection, again if a valid OFFLINE presence made the broker close it. */
async function attackerClient(): Promise<MqttClient> {
  if (!attacker.connected) attacker = await t.connect(hostile);
  return attacker;
}

/** What the broker must do with `bytes` on `kind`: take it, or drop it with this typed error. */
function verdictOf(kind: DeviceTopicKind, bytes: Buffer): { code: string; message: string } | null {
  try {
    DECODERS[kind](bytes);
    return null;
  } catch (err) {
    // The decoder's only way to refuse is the typed ProtocolError, never a TypeError or RangeError.
    if (!isProtocolError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

function expectPrototypesUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayPrototypeNames);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}

async function publishCase(kind: DeviceTopicKind, bytes: Buffer): Promise<void> {
  const verdict = verdictOf(kind, bytes);
  const mark = t.logs.length;
  const client = await attackerClient();
  // QoS 1: the PUBACK comes after the broker's handler ran, so its log lines are in by then.
  // Only a valid OFFLINE presence (the device saying goodbye) makes the broker hang up.
  let onClose = () => {};
  const closed = new Promise<'closed'>((resolve) => {
    onClose = () => resolve('closed');
    client.once('close', onClose);
  });
  const topic = `sag/v1/d/${hostile.serialNumber}/${kind}`;
  const answer = await Promise.race([client.publishAsync(topic, bytes, { qos: 1 }), closed]);
  const goodbye = kind === 'presence' && !verdict && decodePresence(bytes).state === 'OFFLINE';
  // A goodbye may still be acknowledged before the broker hangs up; anything else keeps the line.
  if (goodbye) await closed;
  else expect(answer).not.toBe('closed');
  client.off('close', onClose);
  const outcome = `${kind}: ${verdict?.code ?? 'taken'}`;
  tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
  // What a message sets off (a config push, say) runs on the next turns of the event loop.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  const lines = t.logs.slice(mark);
  const dropped = lines.filter((l) => l.msg.startsWith(`device ${kind} dropped: `));
  expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  if (verdict) {
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({
      level: 40,
      serialNumber: hostile.serialNumber,
      gatewayId: hostile.gatewayId,
      topic: kind,
      code: verdict.code,
      reason: verdict.message,
    });
  } else {
    expect(dropped).toEqual([]);
  }
  expectPrototypesUntouched();
  expect(unhandled).toEqual([]);
}

describe('device protocol fuzzing', () => {
  it.each(DEVICE_TOPIC_KINDS)(
    'handles %s payloads of every shape with a typed, logged refusal or not at all',
    async (kind) => {
      let refusedByEncoder = 0;
      await fc.assert(
        fc.asyncProperty(payloadFor(kind), async (payload) => {
          let bytes: Buffer;
          try {
            bytes = Buffer.isBuffer(payload) ? payload : payload.encode();
          } catch (err) {
            // The encoders refuse, typed, what their peer's decoder would refuse.
            expect(isProtocolError(err), String(err)).toBe(true);
            refusedByEncoder += 1;
            return;
          }
          await publishCase(kind, bytes);
        }),
        { numRuns: RUNS[kind] },
      );
      expect(refusedByEncoder).toBeLessThan(RUNS[kind] / 2);
      await goodInSync(true);
    },
    30_000,
  );

  it('drops deep group nesting, a 1 MiB run of one byte and the largest varints, typed', async () => {
    const extremes = [
      Buffer.alloc(LIMIT_BYTES, 0x0b), // start-group tags nested a million deep
      Buffer.alloc(LIMIT_BYTES, 0xff),
      Buffer.concat([Buffer.from([0x08, 0x01]), Buffer.alloc(LIMIT_BYTES - 2, 0x00)]),
      Buffer.from([0x08, 0x01, 0x10, ...Array(9).fill(0xff), 0x01]),
      Buffer.from([0x08, 0x01, 0x32, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a length past the end
    ];
    for (const kind of DEVICE_TOPIC_KINDS) for (const bytes of extremes) await publishCase(kind, bytes);
    await goodInSync(true);
  }, 30_000);

  it('refuses revisions that leave no room to count up and clocks past the last Date, typed', async () => {
    const hello = encodeHello({ state: 'running', dataplane: 'emulated', role: 'branch' });
    const event = encodeEvent({ kind: 'TUNNEL_UP', accessPoint: 'ap-test', atMs: 1 });
    const ack = encodeAck({ revision: 1, hash: 'h', result: 'APPLIED' });
    const cases: [DeviceTopicKind, Buffer][] = [
      // A hello at 2^53 - 1 once had its gateway's config reissued at 2^53, which no encoder takes.
      ['hello', Buffer.concat([hello, Buffer.from([0x20]), varint(2n ** 53n - 1n)])],
      ['hello', Buffer.concat([hello, Buffer.from([0x20]), varint(2n ** 48n + 1n)])],
      ['report', Buffer.from([0x08, 0x01, 0x10, ...varint(2n ** 52n)])],
      ['ack', Buffer.concat([ack, Buffer.from([0x10]), varint(2n ** 53n - 1n)])],
      // new Date(8.64e15 + 1).toISOString() throws a RangeError.
      ['event', Buffer.concat([event, Buffer.from([0x18]), varint(8_640_000_000_000_001n)])],
    ];
    for (const [kind, bytes] of cases) {
      expect(verdictOf(kind, bytes)?.code, kind).toBe('INVALID_FIELD');
      await publishCase(kind, bytes);
    }
    const hostileRecord = t.controlPlane.configRecord(hostile.gatewayId);
    expect(hostileRecord?.revision).toBeLessThanOrEqual(LIMITS.maxDeviceRevision + 1);
  }, 30_000);

  it('keeps the hostile device bound and the other device in sync after it all', async () => {
    await goodInSync(true);
    expect(t.controlPlane.gatewayStatus(good.gatewayId)).toMatchObject({
      presence: 'online',
      sync: 'in-sync',
    });
    expect(t.logsWith(/handling failed/)).toEqual([]);
  });
});

const LIMIT_BYTES = 1024 * 1024;
