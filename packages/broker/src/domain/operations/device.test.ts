import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud, scenarioPublicKey } from '../../testing/referenceCloud.js';
import { emptyTopology, type Gateway } from '../types.js';
import { bindDevice, unbindDevice } from './device.js';
import { activateGateway, createGateway } from './gateway.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

function orderedGateway() {
  const topology = emptyTopology();
  const ctx = fixedContext();
  const input = {
    name: 'Hangzhou branch',
    area: 'china-mainland',
    spec: 'sag-100wm',
    bandwidthMbps: 2,
    subscriptionMonths: 1,
  };
  const gateway = applyAndGet<Gateway>(topology, createGateway(topology, ctx, input));
  return { topology, ctx, id: gateway.id };
}

const device = { serialNumber: 'SN-HZ-0001', publicKey: scenarioPublicKey(7) };

describe('bindDevice', () => {
  it('binds the device and ships an ordered gateway', () => {
    const { topology, ctx, id } = orderedGateway();
    const changeset = bindDevice(topology, ctx, id, device);
    expect(changeset.audit).toMatchObject({
      action: 'gateway.device.bind',
      resourceType: 'gateway',
      resourceId: id,
    });
    expect(changeset.audit.after).toMatchObject({ ...device, lifecycle: 'shipped' });
  });

  it('keeps an active gateway active when a replacement device is bound', () => {
    const { topology, ctx, id } = orderedGateway();
    applyAndGet(topology, bindDevice(topology, ctx, id, device));
    applyAndGet(topology, activateGateway(topology, ctx, id));
    applyAndGet(topology, unbindDevice(topology, ctx, id));
    const replaced = applyAndGet<Gateway>(
      topology,
      bindDevice(topology, ctx, id, { ...device, serialNumber: 'SN-HZ-0002' }),
    );
    expect(replaced).toMatchObject({ lifecycle: 'active', serialNumber: 'SN-HZ-0002' });
  });

  it('refuses a serial number bound to another gateway, naming it', () => {
    const { topology, ctx, ningbo } = buildReferenceCloud();
    applyAndGet(topology, unbindDevice(topology, ctx, ningbo));
    const err = refusal(() =>
      bindDevice(topology, ctx, ningbo, { serialNumber: 'SN-HZ-0001', publicKey: device.publicKey }),
    );
    expect(err.code).toBe('ALREADY_BOUND');
    expect(err.message).toContain('device SN-HZ-0001 is already bound to gateway sag-1 (Hangzhou branch)');
  });

  it('refuses a second device on one gateway', () => {
    const { topology, ctx, hangzhou } = buildReferenceCloud();
    const err = refusal(() => bindDevice(topology, ctx, hangzhou, { ...device, serialNumber: 'SN-NEW' }));
    expect(err.code).toBe('ALREADY_BOUND');
    expect(err.message).toContain('gateway sag-1 (Hangzhou branch) already has device SN-HZ-0001');
  });

  it.each(['', '#', '+', 'a/b', 'constructor', '__proto__', 'sn 1', 'x'.repeat(65)])(
    'refuses serial number %j',
    (serialNumber) => {
      const { topology, ctx, id } = orderedGateway();
      const err = refusal(() => bindDevice(topology, ctx, id, { ...device, serialNumber }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toContain('serialNumber');
    },
  );

  it.each([
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['base64url', Buffer.alloc(32, 0xfb).toString('base64url')],
    ['no padding', Buffer.alloc(32, 1).toString('base64').replace('=', '')],
    ['not base64', `${'!'.repeat(43)}=`],
  ])('refuses a public key of %s', (_why, publicKey) => {
    const { topology, ctx, id } = orderedGateway();
    const err = refusal(() => bindDevice(topology, ctx, id, { ...device, publicKey }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('32-byte Ed25519 key');
  });
});

describe('unbindDevice', () => {
  it('returns a shipped gateway to ordered', () => {
    const { topology, ctx, id } = orderedGateway();
    applyAndGet(topology, bindDevice(topology, ctx, id, device));
    expect(unbindDevice(topology, ctx, id).audit.after).toMatchObject({
      lifecycle: 'ordered',
      serialNumber: null,
      publicKey: null,
    });
  });

  it('keeps an active gateway active', () => {
    const { topology, ctx, hangzhou } = buildReferenceCloud();
    expect(unbindDevice(topology, ctx, hangzhou).audit.after).toMatchObject({
      lifecycle: 'active',
      serialNumber: null,
    });
  });

  it('refuses when no device is bound', () => {
    const { topology, ctx, id } = orderedGateway();
    const err = refusal(() => unbindDevice(topology, ctx, id));
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toContain('gateway sag-1 (Hangzhou branch) has no device bound');
  });
});
