import { describe, expect, it } from 'vitest';
import { isLocked } from '../domain/lifecycle.js';
import { setNetwork } from '../domain/operations/index.js';
import { isSagError, type SagError } from '../errors.js';
import { buildReferenceCloud } from './referenceCloud.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

describe('the reference scenario, cloud side', () => {
  it('builds two active branches in one CCN attached to the CEN of both VPCs', () => {
    const cloud = buildReferenceCloud();
    const { topology } = cloud;
    const hangzhou = topology.gateways.get(cloud.hangzhou)!;
    const ningbo = topology.gateways.get(cloud.ningbo)!;
    expect(hangzhou).toMatchObject({
      name: 'Hangzhou branch',
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      lifecycle: 'active',
      serialNumber: 'SN-HZ-0001',
      privateCidrs: ['172.16.0.0/16'],
      ccnId: cloud.ccn,
      activatedAt: '2025-01-15T08:00:00.000Z',
      expiresAt: '2025-02-15T08:00:00.000Z',
    });
    expect(ningbo).toMatchObject({ lifecycle: 'active', privateCidrs: ['172.17.0.0/16'], ccnId: cloud.ccn });
    expect(isLocked(hangzhou, cloud.ctx.now)).toBe(false);
    expect(topology.ccns.get(cloud.ccn)?.cenId).toBe(cloud.cen);
    expect(topology.vpcs.get(cloud.shanghaiVpc)).toMatchObject({
      region: 'cn-shanghai',
      cidrBlocks: ['10.1.0.0/16'],
      cenId: cloud.cen,
    });
    expect(topology.vpcs.get(cloud.beijingVpc)).toMatchObject({
      region: 'cn-beijing',
      cidrBlocks: ['10.2.0.0/16'],
      cenId: cloud.cen,
    });
    expect(topology.instances.get(cloud.shanghaiInstance)).toMatchObject({
      privateIp: '10.1.0.10',
      securityGroupIds: [cloud.shanghaiGroup],
    });
    expect(topology.securityGroups.get(cloud.shanghaiGroup)?.rules).toEqual([]);
  });

  it('adds the step 5 ingress rules on request', () => {
    const cloud = buildReferenceCloud({ securityGroupRules: true });
    const rules = cloud.topology.securityGroups.get(cloud.beijingGroup)!.rules;
    expect(rules.map((r) => [r.direction, r.policy, r.protocol, r.portRange, r.cidr])).toEqual([
      ['ingress', 'accept', 'tcp', '22/22', '172.16.0.0/16'],
      ['ingress', 'accept', 'tcp', '22/22', '172.17.0.0/16'],
    ]);
  });

  it('refuses Ningbo 172.16.0.0/12 after Hangzhou 172.16.0.0/16, naming both gateways', () => {
    const cloud = buildReferenceCloud();
    const err = refusal(() =>
      setNetwork(cloud.topology, cloud.ctx, cloud.ningbo, {
        privateCidrs: ['172.16.0.0/12'],
        ccnId: cloud.ccn,
      }),
    );
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.status).toBe(409);
    expect(err.message).toBe(
      `CIDR 172.16.0.0/12 of gateway ${cloud.ningbo} (Ningbo branch) overlaps 172.16.0.0/16 of gateway ${cloud.hangzhou} (Hangzhou branch) in CCN ${cloud.ccn} (Branches); choose blocks that do not overlap`,
    );
    expect(err.details).toEqual({
      cidr: '172.16.0.0/12',
      resourceId: cloud.ningbo,
      resourceType: 'gateway',
      conflictingCidr: '172.16.0.0/16',
      conflictingResourceId: cloud.hangzhou,
      conflictingResourceType: 'gateway',
      via: cloud.ccn,
    });
  });
});
