import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud, scenarioPublicKey } from '../../testing/referenceCloud.js';
import { applyChangeset } from '../apply.js';
import { isLocked } from '../lifecycle.js';
import { emptyTopology, type Gateway } from '../types.js';
import { unbindCcnGateway } from './ccn.js';
import { bindDevice } from './device.js';
import {
  activateGateway,
  type CreateGatewayInput,
  createGateway,
  deleteGateway,
  renewGateway,
  updateGateway,
} from './gateway.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const hangzhou: CreateGatewayInput = {
  name: 'Hangzhou branch',
  area: 'china-mainland',
  spec: 'sag-100wm',
  bandwidthMbps: 2,
  subscriptionMonths: 1,
};

describe('createGateway', () => {
  it('orders a gateway with DHCP WAN, no LAN, no device, no network', () => {
    const ctx = fixedContext();
    const changeset = createGateway(emptyTopology(), ctx, { ...hangzhou, description: 'West Lake office' });
    const expected: Gateway = {
      id: 'sag-1',
      name: 'Hangzhou branch',
      description: 'West Lake office',
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 1,
      createdAt: '2025-01-15T08:00:00.000Z',
      lifecycle: 'ordered',
      serialNumber: null,
      publicKey: null,
      activatedAt: null,
      expiresAt: null,
      privateCidrs: [],
      ccnId: null,
      aclId: null,
      ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
    };
    expect(changeset).toEqual({
      changes: [{ op: 'put', kind: 'gateway', value: expected }],
      audit: {
        action: 'gateway.create',
        resourceType: 'gateway',
        resourceId: 'sag-1',
        before: null,
        after: expected,
      },
    });
  });

  it.each([
    [{ name: '9 branch' }, 'INVALID_NAME', 'name: "9 branch"'],
    [{ area: 'europe' }, 'INVALID_AREA', 'enabled areas: china-mainland'],
    [{ spec: 'sag-5' }, 'INVALID_SPEC', '"sag-5" is not a gateway spec'],
    [{ bandwidthMbps: 51 }, 'INVALID_SPEC', 'sag-100wm (2-50 Mbps'],
    [{ spec: 'sag-1000', bandwidthMbps: 5 }, 'INVALID_SPEC', 'sag-1000 (10-500 Mbps'],
    [{ subscriptionMonths: 11 }, 'INVALID_SUBSCRIPTION', '11 is not a subscription term'],
  ])('refuses %j with %s', (change, code, text) => {
    const err = refusal(() => createGateway(emptyTopology(), fixedContext(), { ...hangzhou, ...change }));
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });

  it('accepts gateways in any enabled area', () => {
    const ctx = fixedContext({ enabledAreas: ['china-mainland', 'europe'] });
    expect(createGateway(emptyTopology(), ctx, { ...hangzhou, area: 'europe' }).audit.after).toMatchObject({
      area: 'europe',
    });
  });

  it('refuses the gateway past the quota', () => {
    const topology = emptyTopology();
    const ctx = fixedContext({ quotas: { gateways: 1 } });
    applyAndGet(topology, createGateway(topology, ctx, hangzhou));
    const err = refusal(() => createGateway(topology, ctx, { ...hangzhou, name: 'Ningbo branch' }));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toEqual({ quota: 'gateways', limit: 1 });
    expect(err.message).toContain('at most 1 gateways');
  });
});

describe('updateGateway', () => {
  it('renames and changes bandwidth within the spec', () => {
    const { topology, ctx, hangzhou: id } = buildReferenceCloud();
    const changeset = updateGateway(topology, ctx, id, {
      name: 'Hangzhou HQ',
      bandwidthMbps: 50,
      description: 'x',
    });
    expect(changeset.audit.after).toMatchObject({
      id,
      name: 'Hangzhou HQ',
      bandwidthMbps: 50,
      description: 'x',
    });
    expect(changeset.audit.before).toBe(topology.gateways.get(id));
  });

  it('refuses bandwidth outside the spec and unknown gateways', () => {
    const { topology, ctx, hangzhou: id } = buildReferenceCloud();
    expect(refusal(() => updateGateway(topology, ctx, id, { bandwidthMbps: 100 })).code).toBe('INVALID_SPEC');
    expect(refusal(() => updateGateway(topology, ctx, id, { name: 'x' })).code).toBe('INVALID_NAME');
    const missing = refusal(() => updateGateway(topology, ctx, 'sag-xyz', { name: 'Other' }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe('gateway sag-xyz not found');
  });
});

describe('deleteGateway', () => {
  it('refuses with IN_USE while the gateway is bound to a CCN, naming both', () => {
    const { topology, ctx, hangzhou: id, ccn } = buildReferenceCloud();
    const err = refusal(() => deleteGateway(topology, ctx, id));
    expect(err.code).toBe('IN_USE');
    expect(err.status).toBe(409);
    expect(err.message).toContain(`gateway ${id} (Hangzhou branch) is bound to CCN ${ccn} (Branches)`);
    applyAndGet(topology, unbindCcnGateway(topology, ctx, ccn, id));
    const changeset = deleteGateway(topology, ctx, id);
    expect(changeset.changes).toEqual([{ op: 'delete', kind: 'gateway', id }]);
    expect(changeset.audit).toMatchObject({ action: 'gateway.delete', before: { id }, after: null });
  });
});

describe('activateGateway and renewGateway', () => {
  function ordered() {
    const topology = emptyTopology();
    const ctx = fixedContext();
    const gateway = applyAndGet<Gateway>(
      topology,
      createGateway(topology, ctx, { ...hangzhou, subscriptionMonths: 3 }),
    );
    return { topology, ctx, id: gateway.id };
  }

  it('refuses activation before a device is bound', () => {
    const { topology, ctx, id } = ordered();
    const err = refusal(() => activateGateway(topology, ctx, id));
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toContain('bind a device first');
    expect(err.message).toContain('Hangzhou branch');
  });

  it('activates a shipped gateway, starting billing now, and only once', () => {
    const { topology, ctx, id } = ordered();
    applyAndGet(
      topology,
      bindDevice(topology, ctx, id, { serialNumber: 'SN1', publicKey: scenarioPublicKey(1) }),
    );
    ctx.now = new Date('2025-03-31T10:00:00.000Z');
    const active = applyAndGet<Gateway>(topology, activateGateway(topology, ctx, id));
    expect(active).toMatchObject({
      lifecycle: 'active',
      activatedAt: '2025-03-31T10:00:00.000Z',
      expiresAt: '2025-06-30T10:00:00.000Z',
    });
    const again = refusal(() => activateGateway(topology, ctx, id));
    expect(again.code).toBe('INVALID_STATE');
    expect(again.message).toContain('already active');
  });

  it('renews from the expiry, or from now once expired, which unlocks', () => {
    const { topology, ctx, id } = ordered();
    applyAndGet(
      topology,
      bindDevice(topology, ctx, id, { serialNumber: 'SN1', publicKey: scenarioPublicKey(1) }),
    );
    const refused = refusal(() => renewGateway(topology, ctx, id, { subscriptionMonths: 1 }));
    expect(refused.code).toBe('INVALID_STATE');
    expect(refused.message).toContain('shipped, not active');
    applyAndGet(topology, activateGateway(topology, ctx, id));
    const early = renewGateway(topology, ctx, id, { subscriptionMonths: 12 }).audit.after as Gateway;
    expect(early.expiresAt).toBe('2026-04-15T08:00:00.000Z');
    ctx.now = new Date('2025-06-01T00:00:00.000Z');
    expect(isLocked(topology.gateways.get(id)!, ctx.now)).toBe(true);
    const renewed = applyAndGet<Gateway>(
      topology,
      renewGateway(topology, ctx, id, { subscriptionMonths: 1 }),
    );
    expect(renewed.expiresAt).toBe('2025-07-01T00:00:00.000Z');
    expect(isLocked(renewed, ctx.now)).toBe(false);
    expect(refusal(() => renewGateway(topology, ctx, id, { subscriptionMonths: 0 })).code).toBe(
      'INVALID_SUBSCRIPTION',
    );
  });
});

describe('changesets are complete new objects', () => {
  it('never hands back the entity held by the topology', () => {
    const { topology, ctx, hangzhou: id } = buildReferenceCloud();
    const changeset = updateGateway(topology, ctx, id, { name: 'Renamed' });
    applyChangeset(topology, changeset);
    const stored = topology.gateways.get(id)!;
    expect(stored).not.toBe(changeset.audit.before);
    expect(stored.ports).not.toBe((changeset.audit.before as Gateway).ports);
  });
});
