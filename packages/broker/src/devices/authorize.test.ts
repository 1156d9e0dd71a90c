import { encodeAck, encodeCommand } from '@opensag/proto';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, inbox, startTestLink, type TestDevice, type TestLink } from './testLink.js';

let t: TestLink;
let a: TestDevice;
let b: TestDevice;
let clientA: MqttClient;
let clientB: MqttClient;
beforeEach(async () => {
  t = await startTestLink();
  a = t.device({ active: false });
  b = t.device({ active: false });
  clientA = await t.connectAgent(a);
  clientB = await t.connectAgent(b);
});
afterEach(() => t.close());

const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));

describe('topic authorization', () => {
  it("refuses A's subscriptions to B's topics, wildcards and $SYS, and A then sees none of B's traffic", async () => {
    const seenByA = inbox(clientA);
    const seenByB = inbox(clientB);
    const filters = [
      `sag/v1/c/${b.serialNumber}/#`,
      `sag/v1/c/${b.serialNumber}/config`,
      `sag/v1/c/+/config`,
      'sag/v1/#',
      '#',
      '+/+/+/+/+',
      '$SYS/#',
      `sag/v1/d/${b.serialNumber}/ack`,
    ];
    // MQTT.js turns a SUBACK of 0x80 into an error that carries the packet.
    const err = await clientA.subscribeAsync(filters, { qos: 1 }).then(
      () => null,
      (e: { packet?: { granted?: number[] } }) => e,
    );
    expect(err?.packet?.granted).toEqual(filters.map(() => 128));
    expect(t.logsWith('device subscription refused: not one of its own cloud topics')).toHaveLength(
      filters.length,
    );

    t.activate(b.gatewayId);
    await eventually(() => seenByB.some((m) => m.topic.endsWith('/config')));
    await clientB.publishAsync(
      `sag/v1/d/${b.serialNumber}/ack`,
      encodeAck({ revision: 1, hash: 'x', result: 'APPLIED' }),
      { qos: 1 },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seenByA).toEqual([]);
    expect(clientA.connected).toBe(true);
  });

  it.each(['ack', 'hello', 'presence'])(
    "disconnects A when it publishes on B's %s topic; B keeps working",
    async (kind) => {
      const seenByB = inbox(clientB);
      const aClosed = closed(clientA);
      clientA.publish(
        `sag/v1/d/${b.serialNumber}/${kind}`,
        encodeAck({ revision: 1, hash: 'x', result: 'APPLIED' }),
        { qos: 1 },
      );
      await aClosed;
      expect(t.logsWith('device publish refused: not one of its own device topics')[0]).toMatchObject({
        serialNumber: a.serialNumber,
      });
      expect(t.controlPlane.deviceState(b.gatewayId)?.appliedRevision ?? null).toBeNull();
      t.activate(b.gatewayId);
      await eventually(() => seenByB.some((m) => m.topic === `sag/v1/c/${b.serialNumber}/config`));
      expect(clientB.connected).toBe(true);
    },
  );

  it("refuses A commanding B on B's cloud topics", async () => {
    const seenByB = inbox(clientB);
    const aClosed = closed(clientA);
    clientA.publish(`sag/v1/c/${b.serialNumber}/cmd`, encodeCommand({ commandId: 'c1', reboot: {} }), {
      qos: 1,
    });
    await aClosed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seenByB).toEqual([]);
  });

  it('refuses $SYS, retained and QoS 2 publishes even on own topics', async () => {
    const cases: [string, { qos: 0 | 1 | 2; retain?: boolean }][] = [
      ['$SYS/broker/hack', { qos: 0 }],
      [`sag/v1/d/${a.serialNumber}/report`, { qos: 0, retain: true }],
      [`sag/v1/d/${a.serialNumber}/event`, { qos: 2 }],
    ];
    for (const [topic, options] of cases) {
      const client = await t.connect(a);
      const done = closed(client);
      client.publish(topic, Buffer.from('x'), options);
      await done;
    }
    expect(t.logsWith(/^device publish refused/)).toHaveLength(3);
  });

  it('survives hostile topic names', async () => {
    const topics = [
      '__proto__',
      'constructor/prototype',
      `sag/v1/d/${a.serialNumber}/__proto__`,
      'x'.repeat(65_000),
      'a/'.repeat(50),
    ];
    for (const topic of topics) {
      const client = await t.connect(a);
      const done = closed(client);
      await client.subscribeAsync(topic).catch(() => undefined);
      client.publish(topic, Buffer.from('x'), { qos: 1 });
      await done;
    }
    expect(({} as Record<string, unknown>).prototype).toBeUndefined();
    const again = await t.connectAgent(a);
    expect(again.connected).toBe(true);
    expect(clientB.connected).toBe(true);
  });
});
