import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud } from '../../testing/referenceCloud.js';
import { emptyTopology, type SecurityGroup } from '../types.js';
import { detachFromCen } from './cen.js';
import { createSecurityGroup, deleteSecurityGroup } from './securityGroup.js';
import { createInstance, createVpc, deleteInstance, deleteVpc } from './vpc.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const shanghai = { name: 'Shanghai VPC', region: 'cn-shanghai', cidrBlocks: ['10.1.0.0/16'] };

describe('createVpc', () => {
  it('creates a VPC in a known region of any area', () => {
    const changeset = createVpc(emptyTopology(), fixedContext(), { ...shanghai, region: 'eu-central-1' });
    expect(changeset.audit.after).toEqual({
      id: 'vpc-1',
      name: 'Shanghai VPC',
      region: 'eu-central-1',
      cidrBlocks: ['10.1.0.0/16'],
      cenId: null,
      createdAt: '2025-01-15T08:00:00.000Z',
    });
  });

  it.each([
    [{ region: 'cn-nowhere' }, 'INVALID_REGION', 'valid regions: cn-hangzhou'],
    [{ name: 'S' }, 'INVALID_NAME', 'name: "S"'],
    [{ cidrBlocks: [] }, 'INVALID_ARGUMENT', '1 to 5 CIDR blocks'],
    [
      {
        cidrBlocks: [
          '10.1.0.0/16',
          '10.2.0.0/16',
          '10.3.0.0/16',
          '10.4.0.0/16',
          '10.5.0.0/16',
          '10.6.0.0/16',
        ],
      },
      'INVALID_ARGUMENT',
      '1 to 5',
    ],
    [{ cidrBlocks: ['10.1.0.0/29'] }, 'INVALID_CIDR', '/8 to /28'],
    [{ cidrBlocks: ['10.0.0.0/7'] }, 'INVALID_CIDR', '/8 to /28'],
    [{ cidrBlocks: ['10.1.0.1/16'] }, 'INVALID_CIDR', 'did you mean 10.1.0.0/16?'],
    [
      { cidrBlocks: ['10.1.0.0/16', '10.1.2.0/24'] },
      'CIDR_CONFLICT',
      'VPC vpc-1 (Shanghai VPC) overlaps its own block 10.1.0.0/16',
    ],
  ])('refuses %j with %s', (change, code, text) => {
    const err = refusal(() => createVpc(emptyTopology(), fixedContext(), { ...shanghai, ...change }));
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });
});

describe('deleteVpc', () => {
  it('refuses while instances, security groups or a CEN attachment remain', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const held = refusal(() => deleteVpc(topology, ctx, cloud.shanghaiVpc));
    expect(held.code).toBe('IN_USE');
    expect(held.message).toContain(
      `holds 1 instance(s) and 1 security group(s) (${cloud.shanghaiInstance}, ${cloud.shanghaiGroup})`,
    );
    applyAndGet(topology, deleteInstance(topology, ctx, cloud.shanghaiInstance));
    applyAndGet(topology, deleteSecurityGroup(topology, ctx, cloud.shanghaiGroup));
    const attached = refusal(() => deleteVpc(topology, ctx, cloud.shanghaiVpc));
    expect(attached.code).toBe('IN_USE');
    expect(attached.message).toContain(`attached to CEN ${cloud.cen}`);
    applyAndGet(topology, detachFromCen(topology, ctx, cloud.cen, cloud.shanghaiVpc));
    expect(deleteVpc(topology, ctx, cloud.shanghaiVpc).changes).toEqual([
      { op: 'delete', kind: 'vpc', id: cloud.shanghaiVpc },
    ]);
  });
});

describe('createInstance', () => {
  it('creates an instance at a free host address in its security groups', () => {
    const cloud = buildReferenceCloud();
    const changeset = createInstance(cloud.topology, cloud.ctx, {
      name: 'Shanghai db',
      vpcId: cloud.shanghaiVpc,
      privateIp: '10.1.3.4',
      securityGroupIds: [cloud.shanghaiGroup],
    });
    expect(changeset.audit.after).toMatchObject({ vpcId: cloud.shanghaiVpc, privateIp: '10.1.3.4' });
  });

  it.each([
    [
      { privateIp: '10.9.0.5' },
      'INVALID_ARGUMENT',
      'outside VPC vpc-1 (Shanghai VPC), whose blocks are 10.1.0.0/16',
    ],
    [{ privateIp: '10.1.0.0' }, 'INVALID_ARGUMENT', 'network or broadcast address of 10.1.0.0/16'],
    [{ privateIp: '10.1.255.255' }, 'INVALID_ARGUMENT', 'network or broadcast'],
    [
      { privateIp: '10.1.0.10' },
      'INVALID_ARGUMENT',
      '10.1.0.10 is already used by instance i-1 (Shanghai web 1)',
    ],
    [{ privateIp: '10.1.0' }, 'INVALID_ARGUMENT', 'not an IPv4 address'],
    [{ securityGroupIds: [] }, 'INVALID_ARGUMENT', '1 to 5 distinct security groups'],
    [{ securityGroupIds: ['sg-1', 'sg-1'] }, 'INVALID_ARGUMENT', 'distinct'],
    [
      { securityGroupIds: ['sg-2'] },
      'INVALID_ARGUMENT',
      'security group sg-2 (Beijing web) belongs to VPC vpc-2',
    ],
    [{ securityGroupIds: ['sg-9'] }, 'NOT_FOUND', 'security group sg-9 not found'],
    [{ vpcId: 'vpc-9' }, 'NOT_FOUND', 'VPC vpc-9 not found'],
    [{ name: 'db!' }, 'INVALID_NAME', 'name: "db!"'],
  ])('refuses %j with %s', (change, code, text) => {
    const cloud = buildReferenceCloud();
    const input = {
      name: 'Shanghai db',
      vpcId: 'vpc-1',
      privateIp: '10.1.3.4',
      securityGroupIds: ['sg-1'],
      ...change,
    };
    const err = refusal(() => createInstance(cloud.topology, cloud.ctx, input));
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });

  it('refuses more than five security groups', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const ids = Array.from({ length: 6 }, (_, i) => {
      const group = applyAndGet<SecurityGroup>(
        topology,
        createSecurityGroup(topology, ctx, { name: `Group ${i}`, vpcId: cloud.shanghaiVpc }),
      );
      return group.id;
    });
    const input = { name: 'Many', vpcId: cloud.shanghaiVpc, privateIp: '10.1.0.20', securityGroupIds: ids };
    expect(refusal(() => createInstance(topology, ctx, input)).message).toContain('1 to 5');
    expect(
      createInstance(topology, ctx, { ...input, securityGroupIds: ids.slice(0, 5) }).audit.after,
    ).toMatchObject({
      securityGroupIds: ids.slice(0, 5),
    });
  });
});

describe('deleteInstance', () => {
  it('deletes an instance and answers NOT_FOUND for an unknown one', () => {
    const cloud = buildReferenceCloud();
    expect(deleteInstance(cloud.topology, cloud.ctx, cloud.beijingInstance).audit).toMatchObject({
      action: 'instance.delete',
      resourceType: 'instance',
    });
    expect(refusal(() => deleteInstance(cloud.topology, cloud.ctx, 'i-9')).message).toBe(
      'instance i-9 not found',
    );
  });
});
