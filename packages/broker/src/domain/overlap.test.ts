import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../errors.js';
import { buildReferenceCloud } from '../testing/referenceCloud.js';
import { applyChangeset } from './apply.js';
import { attachToCen, createVpc } from './operations/index.js';
import {
  assertCcnBlocksFree,
  assertGatewayBlocksFree,
  assertVpcBlocksFree,
  cidrConflictError,
  reachableFromCcn,
  reachableFromGateway,
  reachableFromVpc,
} from './overlap.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const names = (reachable: ReturnType<typeof reachableFromGateway>) =>
  reachable.map(({ owner, via }) => `${owner.name} via ${via.kind}`);

describe('what a block owner reaches', () => {
  it('a gateway reaches the other gateways of its CCN and everything in the CCN’s CEN', () => {
    const cloud = buildReferenceCloud();
    expect(names(reachableFromGateway(cloud.topology, cloud.hangzhou))).toEqual([
      'Ningbo branch via ccn',
      'Shanghai VPC via cen',
      'Beijing VPC via cen',
    ]);
  });

  it('a VPC reaches every branch and every other VPC of its CEN', () => {
    const cloud = buildReferenceCloud();
    expect(names(reachableFromVpc(cloud.topology, cloud.shanghaiVpc))).toEqual([
      'Hangzhou branch via cen',
      'Ningbo branch via cen',
      'Beijing VPC via cen',
    ]);
  });

  it('a CCN reaches what its CEN holds, not its own gateways', () => {
    const cloud = buildReferenceCloud();
    expect(names(reachableFromCcn(cloud.topology, cloud.ccn))).toEqual([
      'Shanghai VPC via cen',
      'Beijing VPC via cen',
    ]);
  });

  it('counts a VPC in another area even without a bandwidth package', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const create = createVpc(topology, ctx, {
      name: 'Frankfurt VPC',
      region: 'eu-central-1',
      cidrBlocks: ['10.9.0.0/16'],
    });
    applyChangeset(topology, create);
    applyChangeset(
      topology,
      attachToCen(topology, ctx, cloud.cen, { instanceType: 'vpc', instanceId: create.audit.resourceId }),
    );
    expect(names(reachableFromGateway(topology, cloud.ningbo))).toContain('Frankfurt VPC via cen');
  });

  it('an unbound gateway or unattached VPC reaches nothing', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const create = createVpc(topology, ctx, {
      name: 'Lab VPC',
      region: 'cn-hangzhou',
      cidrBlocks: ['172.16.0.0/16'],
    });
    applyChangeset(topology, create);
    expect(reachableFromVpc(topology, create.audit.resourceId)).toEqual([]);
    expect(() => assertVpcBlocksFree(topology, create.audit.resourceId)).not.toThrow();
    topology.gateways.set(cloud.hangzhou, { ...topology.gateways.get(cloud.hangzhou)!, ccnId: null });
    expect(reachableFromGateway(topology, cloud.hangzhou)).toEqual([]);
  });
});

describe('overlap checks', () => {
  it('pass on the reference scenario', () => {
    const { topology, hangzhou, ningbo, ccn, shanghaiVpc, beijingVpc } = buildReferenceCloud();
    for (const id of [hangzhou, ningbo]) expect(() => assertGatewayBlocksFree(topology, id)).not.toThrow();
    for (const id of [shanghaiVpc, beijingVpc]) expect(() => assertVpcBlocksFree(topology, id)).not.toThrow();
    expect(() => assertCcnBlocksFree(topology, ccn)).not.toThrow();
  });

  it('name the CEN through which a branch meets a VPC', () => {
    const { topology, hangzhou, shanghaiVpc, cen } = buildReferenceCloud();
    const gateway = topology.gateways.get(hangzhou)!;
    topology.gateways.set(hangzhou, { ...gateway, privateCidrs: ['172.16.0.0/16', '10.1.128.0/17'] });
    const err = refusal(() => assertGatewayBlocksFree(topology, hangzhou));
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.message).toBe(
      `CIDR 10.1.128.0/17 of gateway ${hangzhou} (Hangzhou branch) overlaps 10.1.0.0/16 of VPC ${shanghaiVpc} (Shanghai VPC) reachable through CEN ${cen} (Company network); choose blocks that do not overlap`,
    );
    expect(err.details).toMatchObject({
      cidr: '10.1.128.0/17',
      resourceId: hangzhou,
      conflictingCidr: '10.1.0.0/16',
      conflictingResourceId: shanghaiVpc,
      via: cen,
    });
  });

  it('name one owner twice when its own blocks overlap', () => {
    const err = cidrConflictError({
      owner: { kind: 'vpc', id: 'vpc-1', name: 'Shanghai VPC', cidrs: [] },
      cidr: '10.1.0.0/24',
      other: { kind: 'vpc', id: 'vpc-1', name: 'Shanghai VPC', cidrs: [] },
      otherCidr: '10.1.0.0/16',
      via: null,
    });
    expect(err.message).toContain(
      'CIDR 10.1.0.0/24 of VPC vpc-1 (Shanghai VPC) overlaps its own block 10.1.0.0/16',
    );
    expect(err.details).toMatchObject({ resourceId: 'vpc-1', conflictingResourceId: 'vpc-1', via: null });
  });
});
