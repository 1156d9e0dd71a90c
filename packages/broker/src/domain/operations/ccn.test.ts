import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud } from '../../testing/referenceCloud.js';
import { type Ccn, emptyTopology, type Gateway } from '../types.js';
import { bindCcnGateway, createCcn, deleteCcn, unbindCcnGateway } from './ccn.js';
import { detachFromCen } from './cen.js';
import { createGateway } from './gateway.js';
import { setNetwork } from './network.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

/** The reference cloud with Ningbo taken out of the CCN, ready to be bound again. */
function withNingboUnbound() {
  const cloud = buildReferenceCloud();
  applyAndGet(cloud.topology, unbindCcnGateway(cloud.topology, cloud.ctx, cloud.ccn, cloud.ningbo));
  return cloud;
}

describe('createCcn', () => {
  it('creates a CCN in an enabled area, attached to no CEN', () => {
    const changeset = createCcn(emptyTopology(), fixedContext(), {
      name: 'Branches',
      area: 'china-mainland',
    });
    expect(changeset.audit.after).toEqual({
      id: 'ccn-1',
      name: 'Branches',
      area: 'china-mainland',
      cenId: null,
      createdAt: '2025-01-15T08:00:00.000Z',
    });
  });

  it('refuses bad names, disabled areas and the quota', () => {
    const topology = emptyTopology();
    const ctx = fixedContext({ quotas: { ccns: 1 } });
    expect(refusal(() => createCcn(topology, ctx, { name: '-', area: 'china-mainland' })).code).toBe(
      'INVALID_NAME',
    );
    const area = refusal(() => createCcn(topology, ctx, { name: 'Sydney', area: 'australia' }));
    expect(area.code).toBe('INVALID_AREA');
    expect(area.message).toContain('enabled areas: china-mainland');
    applyAndGet(topology, createCcn(topology, ctx, { name: 'Branches', area: 'china-mainland' }));
    const quota = refusal(() => createCcn(topology, ctx, { name: 'More', area: 'china-mainland' }));
    expect(quota.code).toBe('QUOTA_EXCEEDED');
    expect(quota.details).toEqual({ quota: 'ccns', limit: 1 });
  });
});

describe('deleteCcn', () => {
  it('refuses while gateways are bound, listing them', () => {
    const { topology, ctx, ccn, hangzhou, ningbo } = buildReferenceCloud();
    const err = refusal(() => deleteCcn(topology, ctx, ccn));
    expect(err.code).toBe('IN_USE');
    expect(err.message).toContain(
      `CCN ${ccn} (Branches) still has 2 gateway(s) bound (${hangzhou}, ${ningbo})`,
    );
  });

  it('refuses while attached to a CEN, then deletes once detached', () => {
    const { topology, ctx, ccn, cen, hangzhou, ningbo } = buildReferenceCloud();
    for (const id of [hangzhou, ningbo]) applyAndGet(topology, unbindCcnGateway(topology, ctx, ccn, id));
    const err = refusal(() => deleteCcn(topology, ctx, ccn));
    expect(err.code).toBe('IN_USE');
    expect(err.message).toContain(`is attached to CEN ${cen}`);
    applyAndGet(topology, detachFromCen(topology, ctx, cen, ccn));
    expect(deleteCcn(topology, ctx, ccn).changes).toEqual([{ op: 'delete', kind: 'ccn', id: ccn }]);
  });
});

describe('bindCcnGateway', () => {
  it('binds a gateway of the same area; the gateway is the audited entity', () => {
    const { topology, ctx, ccn, ningbo } = withNingboUnbound();
    const changeset = bindCcnGateway(topology, ctx, ccn, { gatewayId: ningbo });
    expect(changeset.audit).toMatchObject({
      action: 'ccn.gateway.bind',
      resourceType: 'gateway',
      resourceId: ningbo,
    });
    expect(changeset.audit.after).toMatchObject({ ccnId: ccn });
  });

  it('refuses a gateway already in a CCN, naming it', () => {
    const { topology, ctx, ccn, hangzhou } = buildReferenceCloud();
    const err = refusal(() => bindCcnGateway(topology, ctx, ccn, { gatewayId: hangzhou }));
    expect(err.code).toBe('ALREADY_BOUND');
    expect(err.message).toContain(
      `gateway ${hangzhou} (Hangzhou branch) is already bound to CCN ${ccn} (Branches)`,
    );
  });

  it('refuses a gateway of another area', () => {
    const topology = emptyTopology();
    const ctx = fixedContext({ enabledAreas: ['china-mainland', 'asia-pacific'] });
    const input = {
      name: 'HK branch',
      area: 'asia-pacific',
      spec: 'sag-1000',
      bandwidthMbps: 10,
      subscriptionMonths: 1,
    };
    const gateway = applyAndGet<Gateway>(topology, createGateway(topology, ctx, input));
    const ccn = applyAndGet<Ccn>(
      topology,
      createCcn(topology, ctx, { name: 'Mainland', area: 'china-mainland' }),
    );
    const err = refusal(() => bindCcnGateway(topology, ctx, ccn.id, { gatewayId: gateway.id }));
    expect(err.code).toBe('AREA_MISMATCH');
    expect(err.message).toContain(
      'gateway sag-1 (HK branch) is in area asia-pacific but CCN ccn-1 (Mainland) is in china-mainland',
    );
  });

  it('refuses a gateway whose blocks overlap a CCN peer or what the CEN holds', () => {
    const { topology, ctx, ccn, ningbo, hangzhou, beijingVpc, cen } = withNingboUnbound();
    applyAndGet(
      topology,
      setNetwork(topology, ctx, ningbo, { privateCidrs: ['172.16.128.0/17'], ccnId: null }),
    );
    const peer = refusal(() => bindCcnGateway(topology, ctx, ccn, { gatewayId: ningbo }));
    expect(peer.code).toBe('CIDR_CONFLICT');
    expect(peer.message).toContain(`of gateway ${hangzhou} (Hangzhou branch) in CCN ${ccn}`);
    applyAndGet(topology, setNetwork(topology, ctx, ningbo, { privateCidrs: ['10.2.3.0/24'], ccnId: null }));
    const vpc = refusal(() => bindCcnGateway(topology, ctx, ccn, { gatewayId: ningbo }));
    expect(vpc.code).toBe('CIDR_CONFLICT');
    expect(vpc.details).toMatchObject({ conflictingResourceId: beijingVpc, via: cen });
  });

  it('answers NOT_FOUND for an unknown CCN or gateway', () => {
    const { topology, ctx, ccn, ningbo } = withNingboUnbound();
    expect(refusal(() => bindCcnGateway(topology, ctx, 'ccn-x', { gatewayId: ningbo })).message).toBe(
      'CCN ccn-x not found',
    );
    expect(refusal(() => bindCcnGateway(topology, ctx, ccn, { gatewayId: 'sag-x' })).message).toBe(
      'gateway sag-x not found',
    );
  });
});

describe('unbindCcnGateway', () => {
  it('unbinds a member and refuses a gateway that is not one', () => {
    const { topology, ctx, ccn, ningbo } = withNingboUnbound();
    const err = refusal(() => unbindCcnGateway(topology, ctx, ccn, ningbo));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(`gateway ${ningbo} (Ningbo branch) is not bound to CCN ${ccn} (Branches)`);
  });
});
