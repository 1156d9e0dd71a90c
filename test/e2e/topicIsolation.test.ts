import { encodeAck, encodeDesiredConfig, encodeHello } from '@opensag/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { agentStatus, initAgent } from '../support/agents.js';
import {
  type Cloud,
  cloudApi,
  events,
  gatewayConfig,
  gatewayStatus,
  lastEventId,
  orderGatewayFor,
} from '../support/cloud.js';
import {
  closed,
  connectAs,
  grantedQos,
  proofOf,
  type TestDevice,
  testDevice,
} from '../support/deviceClient.js';
import { Lab } from '../support/lab.js';
import type { BrokerProcess } from '../support/processes.js';
import { sleep, waitFor } from '../support/waitFor.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

const REFUSED = 128;

async function connectDevice(broker: BrokerProcess, device: TestDevice) {
  const outcome = await connectAs(broker.mqttUrl, device.serialNumber, proofOf(device));
  if (!outcome.connected) throw new Error(`device ${device.serialNumber} refused: ${outcome.error.message}`);
  return lab.client(outcome.client);
}

function waitInSync(cloud: Cloud, gatewayId: string, revision?: number) {
  return waitFor(`gateway ${gatewayId} in-sync${revision ? ` at revision ${revision}` : ''}`, async () => {
    const status = await gatewayStatus(cloud, gatewayId);
    const done = status.sync === 'in-sync' && (revision === undefined || status.appliedRevision === revision);
    return done ? status : null;
  });
}

describe('topic isolation between two devices on one broker', () => {
  it('refuses device A every way into device B’s topics while B keeps working', async () => {
    const broker = await lab.broker();
    const cloud = cloudApi(broker);
    const deviceA = testDevice('SAGE2E-TOPA');
    const gatewayA = await orderGatewayFor(cloud, 'Hangzhou branch', deviceA);
    await cloud.post(`/v1/gateways/${gatewayA}/activate`);
    const deviceB = await initAgent('SAGE2E-TOPB');
    const gatewayB = await orderGatewayFor(cloud, 'Ningbo branch', deviceB);
    await cloud.post(`/v1/gateways/${gatewayB}/activate`);
    const agentB = lab.agent(deviceB, broker.mqttUrl);
    const syncedB = await waitInSync(cloud, gatewayB);
    const desiredB = await gatewayConfig(cloud, gatewayB);
    const B = deviceB.serialNumber;
    const marker = await lastEventId(cloud);
    const agentLogMark = agentB.logEntries().length;

    const a = await connectDevice(broker, deviceA);
    expect(await grantedQos(a, `sag/v1/c/${deviceA.serialNumber}/config`)).toBe(1);
    for (const filter of [`sag/v1/c/${B}/#`, `sag/v1/c/${B}/config`, 'sag/v1/#', '#']) {
      expect(await grantedQos(a, filter), filter).toBe(REFUSED);
    }
    expect(a.connected).toBe(true);

    // Each forged message, if it got through, would change what the API or agent B shows.
    const forgeries: [string, Buffer][] = [
      [
        `sag/v1/d/${B}/ack`,
        encodeAck({
          revision: desiredB.revision,
          hash: desiredB.hash,
          result: 'ROLLED_BACK',
          error: 'forged',
        }),
      ],
      [
        `sag/v1/d/${B}/hello`,
        encodeHello({
          agentVersion: '0.0.0',
          model: 'opensag-emulated',
          appliedRevision: 0,
          appliedHash: '',
          ports: [],
          state: 'waiting-for-activation',
          dataplane: 'emulated',
          role: 'branch',
        }),
      ],
      [
        `sag/v1/c/${B}/config`,
        encodeDesiredConfig({ ...desiredB.config, revision: desiredB.revision + 100, hash: desiredB.hash }),
      ],
    ];
    for (const [topic, payload] of forgeries) {
      const forger = await connectDevice(broker, deviceA);
      const disconnected = closed(forger);
      forger.publish(topic, payload, { qos: 1 });
      await disconnected;
    }

    // The broker logs each refusal; the pipe from its process may lag the disconnect a little.
    const refusalsOf = (prefix: string) =>
      broker
        .logEntries()
        .filter(
          (entry) => entry.serialNumber === deviceA.serialNumber && String(entry.msg).startsWith(prefix),
        );
    const published = await waitFor('every refused publish in the broker log', () => {
      const logged = refusalsOf('device publish refused');
      return logged.length >= forgeries.length ? logged : null;
    });
    expect(published.map((entry) => entry.topic)).toEqual(forgeries.map(([topic]) => topic));
    expect(refusalsOf('device subscription refused').map((entry) => entry.topic)).toEqual([
      `sag/v1/c/${B}/#`,
      `sag/v1/c/${B}/config`,
      'sag/v1/#',
      '#',
    ]);

    // B heard nothing of it: same revision, no config handled, nothing recorded against it.
    await sleep(300);
    const statusB = await gatewayStatus(cloud, gatewayB);
    expect(statusB).toMatchObject({
      presence: 'online',
      sync: 'in-sync',
      appliedRevision: syncedB.appliedRevision,
    });
    expect((await agentStatus(deviceB.stateDir)).revision).toBe(desiredB.revision);
    const heardB = agentB
      .logEntries()
      .slice(agentLogMark)
      .filter((entry) => /config|unexpected|command/.test(entry.msg));
    expect(heardB).toEqual([]);
    // (Tunnel events are B's own keepalive at work; anything else would have come from A.)
    const recordedB = await events(cloud, { resourceId: gatewayB }, marker);
    expect(recordedB.filter((event) => !event.action.startsWith('tunnel.'))).toEqual([]);

    // And B keeps working: a change made afterwards reaches it and is applied.
    await cloud.put(`/v1/gateways/${gatewayB}/network`, { privateCidrs: ['172.17.0.0/16'], ccnId: null });
    const next = await gatewayConfig(cloud, gatewayB);
    expect(next.revision).toBeGreaterThan(desiredB.revision);
    await waitInSync(cloud, gatewayB, next.revision);
    const appliedB = await agentStatus(deviceB.stateDir);
    expect(appliedB).toMatchObject({ revision: next.revision, hash: next.hash });
  }, 30_000);
});
