import { encodeEvent } from '@opensag/proto';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestLink, type TestDevice, type TestLink } from './testLink.js';

let t: TestLink;
afterEach(() => t.close());

const portChanges = (t: TestLink, device: TestDevice) =>
  t.events(device.gatewayId).filter((e) => e.action === 'port.change');

async function sendPortChanges(client: MqttClient, device: TestDevice, count: number, from: number) {
  for (let i = 0; i < count; i++) {
    await client.publishAsync(
      `sag/v1/d/${device.serialNumber}/event`,
      encodeEvent({ kind: 'PORT_CHANGE', detail: `wan0 flap ${from + i}`, atMs: Date.now() }),
      { qos: 1 },
    );
  }
}

describe('the device event budget', () => {
  it('records 120 events a minute per device, and reconnecting does not buy a fresh minute', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const first = await t.connectAgent(device);
    await sendPortChanges(first, device, 130, 0);
    await eventually(() => portChanges(t, device).length === 120, 3000);
    await first.endAsync();
    const second = await t.connectAgent(device);
    await sendPortChanges(second, device, 10, 130);
    // The second connection's events are handled (its QoS 1 publishes were acknowledged) but dropped.
    await new Promise((resolve) => setTimeout(resolve, 200));
    t.controlPlane.flushDeviceWrites();
    expect(portChanges(t, device)).toHaveLength(120);
  });
});
