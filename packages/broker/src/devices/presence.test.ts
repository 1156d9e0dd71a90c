import { connect as netConnect } from 'node:net';
import { createProof } from '@opensag/proto';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unbindDevice } from '../domain/operations/index.js';
import { eventually, startTestLink, type TestDevice, type TestLink } from './testLink.js';

let t: TestLink;
beforeEach(async () => {
  t = await startTestLink();
});
afterEach(() => t.close());

const actions = (device: TestDevice) => t.events(device.gatewayId).map((e) => e.action);

/** A device that connects with a 1 s keepalive and then says nothing at all. */
async function silentDevice(device: TestDevice) {
  const socket = netConnect({ host: '127.0.0.1', port: t.link.mqttAddress.port });
  socket.on('error', () => undefined);
  const connack = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: device.serialNumber,
      keepalive: 1,
      username: device.serialNumber,
      password: Buffer.from(createProof(device.serialNumber, device.identity.privateKeyPem, Date.now())),
    }),
  );
  await connack;
  return socket;
}

describe('presence', () => {
  it('records online on connect and offline on disconnect, with events and last seen', async () => {
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).presence === 'online');
    await client.endAsync();
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).presence === 'offline');
    const status = t.controlPlane.gatewayStatus(device.gatewayId);
    expect(Date.parse(status.lastSeenAt ?? '')).toBeGreaterThan(Date.now() - 5000);
    await eventually(() => actions(device).includes('device.offline'));
    expect(actions(device)).toEqual(['device.offline', 'device.online']);
    expect(t.controlPlane.gatewayView(t.controlPlane.get('gateway', device.gatewayId)).presence).toBe(
      'offline',
    );
  });

  it('marks a silent device offline within 1.5 × keepalive', async () => {
    const device = t.device({ active: true });
    const socket = await silentDevice(device);
    const connected = Date.now();
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).presence === 'online');
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).presence === 'offline', 4000);
    expect(Date.now() - connected).toBeLessThan(2500);
    const offline = await eventually(() =>
      t.events(device.gatewayId).find((e) => e.action === 'device.offline'),
    );
    expect(offline.details).toMatchObject({ reason: expect.stringMatching(/keepalive expired/) });
    socket.destroy();
  });

  it('keeps a device online when a newer connection of it takes over, and records the replacement', async () => {
    const device = t.device({ active: true });
    const first = await t.connectAgent(device);
    const firstClosed = new Promise((resolve) => first.once('close', resolve));
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).presence === 'online');
    const second = await t.connectAgent(device);
    await firstClosed;
    await eventually(() => actions(device).includes('device.session-replaced'));
    expect(actions(device)).not.toContain('device.offline');
    expect(t.controlPlane.gatewayStatus(device.gatewayId).presence).toBe('online');
    expect(second.connected).toBe(true);
  });

  it('records every device offline when the link closes, and persists it', async () => {
    const device = t.device({ active: true });
    const overWebSocket = t.device({ active: true });
    await t.connectAgent(device);
    await mqtt.connectAsync(t.wsUrl, t.options(overWebSocket));
    await eventually(() => t.controlPlane.gatewayStatus(overWebSocket.gatewayId).presence === 'online');
    await t.link.close();
    expect(t.controlPlane.gatewayStatus(device.gatewayId).presence).toBe('offline');
    expect(t.controlPlane.gatewayStatus(overWebSocket.gatewayId).presence).toBe('offline');
    const offline = t.events(device.gatewayId).find((e) => e.action === 'device.offline');
    expect(offline?.details).toMatchObject({ reason: 'the broker is stopping' });
  });

  it('takes an unbound device offline at the unbinding commit, before its connection has closed', async () => {
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const cut = new Promise((resolve) => client.once('close', resolve));
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).presence === 'online');
    t.controlPlane.mutate('test', (topology, ctx) => unbindDevice(topology, ctx, device.gatewayId));
    // Same tick: whatever the old connection still sends from here on has no session to count for.
    expect(t.controlPlane.gatewayStatus(device.gatewayId).presence).toBe('offline');
    expect(t.link.connectedDevices()).toBe(0);
    await cut;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const offline = t.events(device.gatewayId).filter((e) => e.action === 'device.offline');
    expect(offline.map((e) => e.details)).toEqual([
      expect.objectContaining({ reason: 'the device was unbound from its gateway' }),
    ]);
  });
});
