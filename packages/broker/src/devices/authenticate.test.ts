import { createProof, deviceTopic, generateIdentity } from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bindDevice, unbindDevice } from '../domain/operations/index.js';
import { eventually, startTestLink, type TestLink } from './testLink.js';

let t: TestLink;
beforeEach(async () => {
  t = await startTestLink({ authenticate: { failureLimit: { burst: 5, perMinute: 1 } } });
});
afterEach(() => t.close());

/** The refusal logged for a serial, as an operator would grep for it. */
const refusals = (reason: string) => t.logs.filter((l) => l.msg === `device connection refused: ${reason}`);

async function refused(promise: Promise<unknown>): Promise<Error & { code?: number }> {
  const err = await promise.then(
    () => null,
    (e: Error) => e,
  );
  if (!err) throw new Error('the connection was accepted');
  return err;
}

describe('CONNECT authentication', () => {
  it('accepts a fresh proof by the bound key and marks the device online', async () => {
    const device = t.device({ active: true });
    const client = await t.connect(device);
    expect(client.connected).toBe(true);
    await eventually(() => t.controlPlane.deviceState(device.gatewayId)?.presence === 'online');
    expect(t.link.connectedDevices()).toBe(1);
  });

  it('lets a bound device whose gateway is not activated connect and wait', async () => {
    const device = t.device({ active: false });
    const client = await t.connect(device);
    expect(client.connected).toBe(true);
    expect(t.controlPlane.topology.gateways.get(device.gatewayId)?.lifecycle).toBe('shipped');
  });

  it('checks proofs against the new key once the serial number is bound again to another key', async () => {
    const device = t.device({ active: true });
    const first = await t.connect(device);
    await first.endAsync(true);
    const cp = t.controlPlane;
    const rebound = { ...device, identity: generateIdentity() };
    cp.mutate('test', (topology, ctx) => unbindDevice(topology, ctx, device.gatewayId));
    cp.mutate('test', (topology, ctx) =>
      bindDevice(topology, ctx, device.gatewayId, {
        serialNumber: device.serialNumber,
        publicKey: rebound.identity.publicKey,
      }),
    );
    const err = await refused(t.connect(device));
    expect(err.code).toBe(5);
    expect(refusals('bad-signature')).toHaveLength(1);
    expect((await t.connect(rebound)).connected).toBe(true);
  });

  it('refuses a proof signed by another key with "not authorized", logging reason, serial and address', async () => {
    const device = t.device({ active: true });
    const impostor = generateIdentity();
    const password = createProof(device.serialNumber, impostor.privateKeyPem, Date.now());
    const err = await refused(t.connect(device, { password }));
    expect(err.code).toBe(5);
    expect(refusals('bad-signature')[0]).toMatchObject({
      serialNumber: device.serialNumber,
      address: '127.0.0.1',
    });
  });

  it('refuses a replayed proof even though its signature is good', async () => {
    const device = t.device({ active: true });
    const password = createProof(device.serialNumber, device.identity.privateKeyPem, Date.now());
    const first = await t.connect(device, { password });
    await first.endAsync();
    const err = await refused(t.connect(device, { password }));
    expect(err.code).toBe(5);
    expect(refusals('replayed')).toHaveLength(1);
  });

  it.each([
    ['more than 300 s old', -301_000],
    ['more than 300 s ahead', 301_000],
  ])('refuses a proof stamped %s', async (_what, offset) => {
    const device = t.device({ active: true });
    const password = createProof(device.serialNumber, device.identity.privateKeyPem, Date.now() + offset);
    const err = await refused(t.connect(device, { password }));
    expect(err.code).toBe(5);
    expect(refusals('stale')[0]).toMatchObject({ serialNumber: device.serialNumber });
  });

  it('accepts a proof 290 s old (within the skew window)', async () => {
    const device = t.device({ active: true });
    const password = createProof(device.serialNumber, device.identity.privateKeyPem, Date.now() - 290_000);
    await expect(t.connect(device, { password })).resolves.toBeTruthy();
  });

  it('refuses an unknown serial number', async () => {
    const stranger = { serialNumber: 'SAGTEST-99999', identity: generateIdentity(), gatewayId: 'none' };
    const err = await refused(t.connect(stranger));
    expect(err.code).toBe(5);
    expect(refusals('unknown-serial')[0]).toMatchObject({ serialNumber: 'SAGTEST-99999' });
  });

  it('refuses a client id that differs from the username', async () => {
    const device = t.device({ active: true });
    const other = t.device({ active: true });
    const err = await refused(t.connect(device, { clientId: other.serialNumber }));
    expect(err.code).toBe(5);
    expect(refusals('client-id-mismatch')[0]).toMatchObject({
      serialNumber: device.serialNumber,
      clientId: other.serialNumber,
    });
  });

  it('refuses hostile identifiers without harm', async () => {
    const device = t.device({ active: true });
    for (const id of ['__proto__', 'constructor', '#', '+', 'x'.repeat(65_000)]) {
      await refused(t.connect(device, { clientId: id, username: id }, '127.0.0.3'));
    }
    expect(refusals('invalid-serial').length).toBeGreaterThanOrEqual(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expect(t.connect(device)).resolves.toBeTruthy();
  });

  it('refuses a Will on any topic but the device own presence topic', async () => {
    const device = t.device({ active: true });
    const other = t.device({ active: true });
    const will = {
      topic: deviceTopic(other.serialNumber, 'presence'),
      payload: Buffer.from('x'),
      qos: 1 as const,
      retain: false,
    };
    const err = await refused(t.connect(device, { will }));
    expect(err.code).toBe(5);
    expect(refusals('bad-will')).toHaveLength(1);
  });

  it('refuses an address at once after repeated failures, while the device gets in from another', async () => {
    const device = t.device({ active: true });
    const impostor = generateIdentity();
    const guess = () => createProof(device.serialNumber, impostor.privateKeyPem, Date.now());
    for (let i = 0; i < 5; i++) await refused(t.connect(device, { password: guess() }, '127.0.0.2'));
    // Even a correct proof from the attacking address is now refused without being checked.
    await refused(t.connect(device, {}, '127.0.0.2'));
    expect(refusals('rate-limited')[0]).toMatchObject({ address: '127.0.0.2' });
    expect(refusals('bad-signature')).toHaveLength(5);
    const legit = await t.connect(device, {}, '127.0.0.1');
    expect(legit.connected).toBe(true);
  });

  it('accepts devices over WebSocket at /mqtt', async () => {
    const device = t.device({ active: true });
    const mqtt = await import('mqtt');
    const client = await mqtt.connectAsync(t.wsUrl, t.options(device));
    try {
      expect(client.connected).toBe(true);
      await eventually(() => t.controlPlane.deviceState(device.gatewayId)?.presence === 'online');
    } finally {
      await client.endAsync();
    }
  });

  it('holds takeovers down when two holders of one key keep taking the session from each other', async () => {
    await t.close();
    const figures = { takeovers: 2, windowMs: 60_000, holdDownMs: 300, maxHoldDownMs: 1000, quietMs: 60_000 };
    t = await startTestLink({
      authenticate: {
        failureLimit: { burst: 2, perMinute: 1 },
        takeoverLimit: { ...figures, maxSerials: 100 },
      },
    });
    const device = t.device({ active: true });
    await t.connect(device, {}, '127.0.0.21');
    await t.connect(device, {}, '127.0.0.22'); // takeover 1
    const holder = await t.connect(device, {}, '127.0.0.21'); // takeover 2: the hold-down starts
    for (let i = 0; i < 3; i++) expect((await refused(t.connect(device, {}, '127.0.0.22'))).code).toBe(5);
    expect(holder.connected).toBe(true);
    // Warned once (then debug), and not counted against the address (its failure burst is 2).
    expect(refusals('takeover-held-down').map((l) => l.level)).toEqual([40, 20, 20]);
    await eventually(() => t.events(device.gatewayId).some((e) => e.action === 'device.takeovers-held-down'));
    const heldDown = t.events(device.gatewayId).filter((e) => e.action === 'device.takeovers-held-down');
    expect(heldDown).toHaveLength(1);
    expect(heldDown[0].details).toMatchObject({
      takeovers: 2,
      holdDownSeconds: 0.3,
      previousAddress: '127.0.0.22',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await t.connect(device, {}, '127.0.0.22')).connected).toBe(true);
  });
});
