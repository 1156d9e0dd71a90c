import {
  type DesiredConfig,
  decodeCommand,
  decodeDesiredConfig,
  encodeAck,
  encodeHello,
} from '@opensag/proto';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteGateway, renewGateway, setPorts, unbindDevice } from '../domain/operations/index.js';
import { eventually, inbox, startTestLink, type TestDevice, type TestLink } from './testLink.js';

let t: TestLink;
afterEach(() => t.close());

const configs = (messages: { topic: string; payload: Buffer }[]): DesiredConfig[] =>
  messages.filter((m) => m.topic.endsWith('/config')).map((m) => decodeDesiredConfig(m.payload));

function changePorts(device: TestDevice, priority: number): void {
  t.controlPlane.mutate('test', (topology, ctx) =>
    setPorts(topology, ctx, device.gatewayId, { wan: [{ name: 'wan0', mode: 'dhcp', priority }], lan: [] }),
  );
}

function ack(
  client: MqttClient,
  device: TestDevice,
  config: DesiredConfig,
  result: 'APPLIED' | 'ROLLED_BACK',
  error = '',
) {
  return client.publishAsync(
    `sag/v1/d/${device.serialNumber}/ack`,
    encodeAck({ revision: config.revision, hash: config.hash, result, error }),
    { qos: 1 },
  );
}

function hello(client: MqttClient, device: TestDevice, appliedRevision: number, appliedHash: string) {
  return client.publishAsync(
    `sag/v1/d/${device.serialNumber}/hello`,
    encodeHello({
      agentVersion: '0.1.0',
      model: 'sag-100wm',
      appliedRevision,
      appliedHash,
      state: 'running',
      dataplane: 'emulated',
      role: 'branch',
    }),
    { qos: 1 },
  );
}

describe('activation', () => {
  it('sends a waiting device its activation and first config within a second of activateGateway', async () => {
    t = await startTestLink();
    const device = t.device({ active: false });
    const client = await t.connectAgent(device);
    const messages = inbox(client);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(messages).toEqual([]);
    const started = Date.now();
    t.activate(device.gatewayId);
    await eventually(() => configs(messages).length === 1, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    const command = decodeCommand(messages[0].payload);
    expect(messages[0].topic).toBe(`sag/v1/c/${device.serialNumber}/cmd`);
    expect(command).toMatchObject({ payload: 'activation', activation: { gatewayId: device.gatewayId } });
    const config = configs(messages)[0];
    expect(config).toMatchObject({
      gatewayId: device.gatewayId,
      serialNumber: device.serialNumber,
      revision: t.controlPlane.configRecord(device.gatewayId)?.revision,
      hash: t.controlPlane.configRecord(device.gatewayId)?.hash,
    });
  });
});

describe('config push and acks', () => {
  it('marks the gateway in-sync with the same revision when the device acks applied', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const messages = inbox(client);
    await hello(client, device, 0, '');
    const [config] = await eventually(() => configs(messages).length > 0 && configs(messages));
    expect(t.controlPlane.gatewayStatus(device.gatewayId).sync).toBe('pending');
    await ack(client, device, config, 'APPLIED');
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).sync === 'in-sync');
    const status = t.controlPlane.gatewayStatus(device.gatewayId);
    expect(status.appliedRevision).toBe(status.desiredRevision);
    expect(status.appliedRevision).toBe(config.revision);
    await eventually(() => t.events(device.gatewayId).some((e) => e.action === 'config.applied'));
  });

  it('shows failed with the device error after a rolled-back ack, and pending again on a new revision', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const messages = inbox(client);
    await hello(client, device, 0, '');
    const [config] = await eventually(() => configs(messages).length > 0 && configs(messages));
    await ack(client, device, config, 'ROLLED_BACK', 'verify failed: route 10.1.0.0/16 missing after apply');
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).sync === 'failed');
    expect(t.controlPlane.gatewayStatus(device.gatewayId).syncError).toBe(
      'verify failed: route 10.1.0.0/16 missing after apply',
    );
    const failed = await eventually(() =>
      t.events(device.gatewayId).find((e) => e.action === 'config.failed'),
    );
    expect(failed.details).toMatchObject({ result: 'rolled-back', revision: config.revision });
    changePorts(device, 5);
    const status = t.controlPlane.gatewayStatus(device.gatewayId);
    expect(status).toMatchObject({ sync: 'pending', syncError: null });
    await eventually(() => configs(messages).length === 2);
  });

  it('ignores a stale ack', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const messages = inbox(client);
    await hello(client, device, 0, '');
    const [first] = await eventually(() => configs(messages).length > 0 && configs(messages));
    changePorts(device, 7);
    await eventually(() => configs(messages).length === 2);
    await ack(client, device, first, 'APPLIED');
    await eventually(() => t.logsWith('stale config ack ignored').length === 1);
    expect(t.controlPlane.gatewayStatus(device.gatewayId)).toMatchObject({
      sync: 'pending',
      appliedRevision: null,
    });
  });

  it('re-sends only when the hello reports another revision than desired', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const record = t.controlPlane.configRecord(device.gatewayId);
    if (!record) throw new Error('no config compiled');
    const current = await t.connectAgent(device);
    const seenCurrent = inbox(current);
    await hello(current, device, record.revision, record.hash);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(configs(seenCurrent)).toEqual([]);
    expect(t.controlPlane.gatewayStatus(device.gatewayId).sync).toBe('in-sync');
    await current.endAsync();

    const stale = await t.connectAgent(device);
    const seenStale = inbox(stale);
    await hello(stale, device, record.revision - 1, 'older');
    await eventually(() => configs(seenStale).length === 1);
    expect(configs(seenStale)[0].revision).toBe(record.revision);
  });

  it('reissues the config above the revision of a device that is ahead (restored broker data)', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const record = t.controlPlane.configRecord(device.gatewayId);
    if (!record) throw new Error('no config compiled');
    const ahead = await t.connectAgent(device);
    const seen = inbox(ahead);
    await hello(ahead, device, record.revision + 40, 'from-before-the-restore');
    await eventually(() => configs(seen).length === 1);
    const pushed = configs(seen)[0];
    expect(pushed.revision).toBe(record.revision + 41);
    expect(pushed.hash).toBe(record.hash);
    await ack(ahead, device, pushed, 'APPLIED');
    await eventually(() => t.controlPlane.gatewayStatus(device.gatewayId).sync === 'in-sync');
    expect(t.controlPlane.gatewayStatus(device.gatewayId).desiredRevision).toBe(record.revision + 41);
  });

  it('retries an unacked config with backoff while the device stays connected', async () => {
    t = await startTestLink({ push: { initialRetryMs: 100, maxRetryMs: 400 } });
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const messages = inbox(client);
    await hello(client, device, 0, '');
    const started = Date.now();
    await eventually(() => configs(messages).length >= 4);
    // 0, +100, +200, +400 ms: backoff doubles.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    const [config] = configs(messages);
    await ack(client, device, config, 'APPLIED');
    const count = configs(messages).length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(configs(messages).length).toBe(count);
  });

  it('sends a locked gateway nothing new until it is renewed', async () => {
    let now = new Date();
    t = await startTestLink({}, { now: () => now });
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const messages = inbox(client);
    const record = t.controlPlane.configRecord(device.gatewayId);
    await hello(client, device, record?.revision ?? 0, record?.hash ?? '');
    now = new Date(Date.now() + 40 * 86_400_000);
    changePorts(device, 9);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(configs(messages)).toEqual([]);
    t.controlPlane.mutate('test', (topology, ctx) =>
      renewGateway(topology, ctx, device.gatewayId, { subscriptionMonths: 1 }),
    );
    await eventually(() => configs(messages).length === 1);
  });
});

describe('unbinding and deleting', () => {
  it('disconnects the device when it is unbound, and records it offline', async () => {
    t = await startTestLink();
    const device = t.device({ active: true });
    const client = await t.connectAgent(device);
    const closed = new Promise((resolve) => client.once('close', resolve));
    t.controlPlane.mutate('test', (topology, ctx) => unbindDevice(topology, ctx, device.gatewayId));
    await closed;
    const offline = await eventually(() =>
      t.events(device.gatewayId).find((e) => e.action === 'device.offline'),
    );
    expect(offline.details).toMatchObject({ reason: 'the device was unbound from its gateway' });
    await expect(t.connect(device)).rejects.toThrow(/Not authorized/);
  });

  it('disconnects the device when its gateway is deleted', async () => {
    t = await startTestLink();
    const device = t.device({ active: false });
    const client = await t.connectAgent(device);
    const closed = new Promise((resolve) => client.once('close', resolve));
    t.controlPlane.mutate('test', (topology, ctx) => deleteGateway(topology, ctx, device.gatewayId));
    await closed;
    expect(t.link.connectedDevices()).toBe(0);
  });
});

describe('a config that cannot be encoded', () => {
  it('is logged with its gateway and cancelled, and the other devices still get theirs', async () => {
    t = await startTestLink();
    const broken = t.device({ active: true });
    const fine = t.device({ active: true });
    const brokenClient = await t.connectAgent(broken);
    const fineClient = await t.connectAgent(fine);
    const brokenInbox = inbox(brokenClient);
    const fineInbox = inbox(fineClient);
    await hello(brokenClient, broken, 0, '');
    await hello(fineClient, fine, 0, '');
    await eventually(() => configs(brokenInbox).length === 1 && configs(fineInbox).length === 1, 2000);
    // A stored revision past what the protocol can carry (2^48): the encoder refuses it.
    const configRecord = t.controlPlane.configRecord.bind(t.controlPlane);
    t.controlPlane.configRecord = (id) => {
      const record = configRecord(id);
      return id === broken.gatewayId && record ? { ...record, revision: 2 ** 53 } : record;
    };
    changePorts(broken, 2);
    changePorts(fine, 2);
    await eventually(() => configs(fineInbox).length === 2, 2000);
    await eventually(() => t.logsWith('config push failed: the config could not be sent').length === 1, 2000);
    expect(t.logsWith('config push failed: the config could not be sent')[0]).toMatchObject({
      level: 50,
      gatewayId: broken.gatewayId,
    });
    expect(configs(brokenInbox)).toHaveLength(1);
  });
});
