import { randomBytes } from 'node:crypto';
import {
  DEVICE_TOPIC_KINDS,
  decodeDesiredConfig,
  encodeAck,
  encodeCommand,
  encodeHello,
} from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, inbox, startTestLink, type TestLink } from './testLink.js';

let t: TestLink;
beforeEach(async () => {
  t = await startTestLink();
});
afterEach(() => t.close());

const GARBAGE: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['random bytes', randomBytes(64)],
  ['a truncated varint', Buffer.from([0x08, 0xff, 0xff])],
  ['another message type', encodeCommand({ commandId: 'x', reboot: {} })],
  ['a future schema version', Buffer.from([0x08, 0x63])],
  ['over 1 MiB', Buffer.alloc(1024 * 1024 + 1, 0x41)],
];

describe('device message dispatch', () => {
  it('logs and drops garbage on every device topic while another device keeps converging', async () => {
    const hostile = t.device({ active: true });
    const good = t.device({ active: true });
    const attacker = await t.connectAgent(hostile);
    const client = await t.connectAgent(good);
    const seen = inbox(client);
    for (const kind of DEVICE_TOPIC_KINDS) {
      for (const [, payload] of GARBAGE) {
        await attacker.publishAsync(`sag/v1/d/${hostile.serialNumber}/${kind}`, payload, { qos: 1 });
      }
    }
    const dropped = t.logsWith(/^device \w+ dropped: /);
    expect(dropped.length).toBeGreaterThanOrEqual(DEVICE_TOPIC_KINDS.length * (GARBAGE.length - 1));
    expect(dropped.every((l) => l.serialNumber === hostile.serialNumber)).toBe(true);
    expect(t.logsWith(/handling failed/)).toEqual([]);
    expect(attacker.connected).toBe(true);
    expect(Object.keys(Object.prototype)).toEqual([]);

    await client.publishAsync(
      `sag/v1/d/${good.serialNumber}/hello`,
      encodeHello({ agentVersion: '0.1.0', state: 'running', dataplane: 'emulated', role: 'branch' }),
      { qos: 1 },
    );
    const message = await eventually(() => seen.find((m) => m.topic.endsWith('/config')));
    const config = decodeDesiredConfig(message.payload);
    await client.publishAsync(
      `sag/v1/d/${good.serialNumber}/ack`,
      encodeAck({ revision: config.revision, hash: config.hash, result: 'APPLIED' }),
      { qos: 1 },
    );
    await eventually(() => t.controlPlane.gatewayStatus(good.gatewayId).sync === 'in-sync');
    expect(t.controlPlane.gatewayStatus(hostile.gatewayId).appliedRevision).toBeNull();
  });
});
