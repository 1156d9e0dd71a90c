import { createProof } from '@opensag/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudApi, orderGatewayFor } from '../support/cloud.js';
import { connectAs, proofOf, testDevice } from '../support/deviceClient.js';
import { Lab } from '../support/lab.js';
import type { BrokerProcess } from '../support/processes.js';
import { waitFor } from '../support/waitFor.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

/** MQTT 3.1.1 CONNACK codes 4 (bad user name or password) and 5 (not authorized). */
function expectRefused(outcome: Awaited<ReturnType<typeof connectAs>>) {
  if (outcome.connected) {
    outcome.client.end(true);
    throw new Error('the broker accepted the CONNECT');
  }
  const { error } = outcome;
  expect(
    error.code === 4 || error.code === 5 || /not authori[sz]ed/i.test(error.message),
    `${error.message} (code ${error.code})`,
  ).toBe(true);
}

/** The broker's pino line for a refused CONNECT with this reason and serial number. */
function refusalLogged(broker: BrokerProcess, reason: string, serialNumber: string) {
  const refusals = () => broker.logEntries().filter((entry) => String(entry.msg).includes('refused'));
  const matching = (entry: Record<string, unknown>) =>
    entry.reason === reason && entry.serialNumber === serialNumber && String(entry.msg).includes(reason);
  return waitFor(`the broker to log the refusal (${reason}, ${serialNumber})`, () =>
    refusals().find(matching),
  ).catch((err) => {
    throw new Error(`${err.message}\nrefusals logged: ${JSON.stringify(refusals())}`);
  });
}

describe('device CONNECT authentication against a real broker', () => {
  it('refuses a wrong key, a replayed proof, a stale timestamp and an unknown serial, logging why', async () => {
    const broker = await lab.broker();
    const cloud = cloudApi(broker);
    const device = testDevice('SAGE2E-AUTH1');
    await orderGatewayFor(cloud, 'Ningbo branch', device);

    const impostor = testDevice('SAGE2E-AUTH1');
    expectRefused(await connectAs(broker.mqttUrl, device.serialNumber, proofOf(impostor)));
    const wrongKey = await refusalLogged(broker, 'bad-signature', device.serialNumber);
    expect(wrongKey.level).toBeGreaterThanOrEqual(40);

    // The same password twice: accepted once, then refused as a replay.
    const password = proofOf(device);
    const first = await connectAs(broker.mqttUrl, device.serialNumber, password);
    expect(first.connected, first.connected ? '' : first.error.message).toBe(true);
    if (first.connected) await first.client.endAsync();
    expectRefused(await connectAs(broker.mqttUrl, device.serialNumber, password));
    await refusalLogged(broker, 'replayed', device.serialNumber);

    const staleProof = proofOf(device, Date.now() - 301_000);
    expectRefused(await connectAs(broker.mqttUrl, device.serialNumber, staleProof));
    await refusalLogged(broker, 'stale', device.serialNumber);

    const stranger = testDevice('SAGE2E-NOBODY');
    const strangerProof = createProof(stranger.serialNumber, stranger.privateKeyPem, Date.now());
    expectRefused(await connectAs(broker.mqttUrl, stranger.serialNumber, strangerProof));
    await refusalLogged(broker, 'unknown-serial', stranger.serialNumber);

    // After four refusals from this address a correct proof is still accepted (under the burst limit).
    const fresh = await connectAs(broker.mqttUrl, device.serialNumber, proofOf(device));
    expect(fresh.connected).toBe(true);
    if (fresh.connected) await fresh.client.endAsync();
  }, 30_000);
});
