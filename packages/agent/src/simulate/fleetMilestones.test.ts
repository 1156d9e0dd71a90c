import { createPrivateKey } from 'node:crypto';
import { cloudTopic, decodeAck, deviceTopic, encodeDesiredConfig, generateIdentity } from '@opensag/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, TestBroker } from '../testing/aedesBroker.js';
import { sampleConfig } from '../testing/sampleConfig.js';
import { type DeviceMilestone, type Fleet, startFleet } from './fleet.js';
import { simulatedSerial } from './fleetIdentities.js';

/** The milestones a benchmark times a fleet by: connected, applied, acked (PUBACK), disconnected. */

let broker: TestBroker | null = null;
let fleet: Fleet | null = null;

afterEach(async () => {
  await fleet?.close();
  fleet = null;
  await broker?.stop();
  broker = null;
});

function identities(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const stored = { serialNumber: simulatedSerial(i + 1), ...generateIdentity() };
    return { ...stored, privateKey: createPrivateKey(stored.privateKeyPem) };
  });
}

function fleetOf(count: number, milestones: DeviceMilestone[]) {
  const devices = identities(count);
  return {
    devices,
    start: (brokerUrl: string) =>
      startFleet({
        identities: devices,
        brokerUrl,
        concurrency: 2,
        reportIntervalMs: 60_000,
        keepaliveSeconds: 30,
        settleTimeoutMs: 10_000,
        onMilestone: (m) => milestones.push(m),
      }),
  };
}

const kinds = (milestones: DeviceMilestone[], serialNumber: string) =>
  milestones.filter((m) => m.serialNumber === serialNumber).map((m) => m.kind);

describe('fleet milestones', () => {
  it('reports each device connecting, applying a pushed revision, and the broker taking its ack', async () => {
    const milestones: DeviceMilestone[] = [];
    const pending = fleetOf(2, milestones);
    broker = await TestBroker.start({
      devices: new Map(pending.devices.map((d) => [d.serialNumber, d.publicKey])),
    });
    fleet = await pending.start(broker.url);
    const second = pending.devices[1].serialNumber;
    await eventually(() => broker?.on(deviceTopic(second, 'hello')).length === 1, 5000, 'hello');
    const connected = milestones.find((m) => m.kind === 'connected' && m.serialNumber === second);
    expect(connected).toMatchObject({ index: 1 });
    expect(connected?.atMs).toBeGreaterThan(fleet.startedAtMs);

    const before = performance.now();
    const config = sampleConfig({ serialNumber: second, revision: 7, hash: 'sha256:r7' });
    await broker.publish(cloudTopic(second, 'config'), encodeDesiredConfig(config));
    const acked = await eventually(
      () => milestones.find((m) => m.kind === 'acked' && m.serialNumber === second),
      5000,
      'the ack milestone',
    );
    expect(acked).toMatchObject({ index: 1, revision: 7, result: 'APPLIED', via: 'ack' });
    expect(acked.atMs).toBeGreaterThan(before);
    // The broker has the ack by the time the device hears its PUBACK.
    expect(broker.on(deviceTopic(second, 'ack')).map((p) => decodeAck(p.payload).revision)).toEqual([7]);
    expect(kinds(milestones, second)).toEqual(['connected', 'applied', 'acked']);
    const applied = milestones.find((m) => m.kind === 'applied' && m.serialNumber === second);
    expect(applied).toMatchObject({ revision: 7 });
    expect(applied?.atMs).toBeLessThanOrEqual(acked.atMs);
    expect(kinds(milestones, pending.devices[0].serialNumber)).toEqual(['connected']);
  });

  it('counts a reconnect hello that carries the applied revision as the broker taking it', async () => {
    const milestones: DeviceMilestone[] = [];
    const pending = fleetOf(1, milestones);
    const devices = new Map(pending.devices.map((d) => [d.serialNumber, d.publicKey]));
    broker = await TestBroker.start({ devices });
    fleet = await pending.start(broker.url);
    const serial = pending.devices[0].serialNumber;
    await eventually(() => broker?.on(deviceTopic(serial, 'hello')).length === 1, 5000, 'hello');
    // The first hello (nothing applied yet) says nothing about a revision.
    expect(milestones.some((m) => m.kind === 'acked')).toBe(false);
    await broker.publish(
      cloudTopic(serial, 'config'),
      encodeDesiredConfig(sampleConfig({ serialNumber: serial, revision: 4, hash: 'sha256:r4' })),
    );
    await eventually(() => milestones.some((m) => m.kind === 'acked'), 5000, 'the ack milestone');
    const { port, seenNonces } = broker;
    await broker.stop();
    broker = await TestBroker.start({ devices, port, seenNonces });
    const viaHello = await eventually(
      () => milestones.find((m) => m.kind === 'acked' && m.via === 'hello'),
      10_000,
      'the hello milestone after the restart',
    );
    expect(viaHello).toMatchObject({ index: 0, revision: 4, result: 'APPLIED' });
  });

  it('reports a refused connection as disconnected with its reason', async () => {
    const milestones: DeviceMilestone[] = [];
    broker = await TestBroker.start({ devices: new Map() });
    const unknown = fleetOf(1, milestones);
    fleet = await unknown.start(broker.url);
    const refused = await eventually(
      () => milestones.find((m) => m.kind === 'disconnected'),
      5000,
      'the disconnected milestone',
    );
    expect(refused).toMatchObject({ index: 0, serialNumber: unknown.devices[0].serialNumber });
    expect(refused.kind === 'disconnected' && refused.reason).toMatch(/not authori[sz]ed|refused/i);
    expect(milestones.some((m) => m.kind === 'connected')).toBe(false);
  });
});
