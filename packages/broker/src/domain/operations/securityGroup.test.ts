import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud } from '../../testing/referenceCloud.js';
import type { SecurityGroup } from '../types.js';
import {
  addSecurityGroupRule,
  createSecurityGroup,
  deleteSecurityGroup,
  removeSecurityGroupRule,
} from './securityGroup.js';
import { deleteInstance } from './vpc.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const ssh = {
  direction: 'ingress',
  policy: 'accept',
  priority: 1,
  protocol: 'tcp',
  portRange: '22/22',
  cidr: '172.16.0.0/16',
};

describe('security groups', () => {
  it('creates a group in an existing VPC', () => {
    const cloud = buildReferenceCloud();
    const changeset = createSecurityGroup(cloud.topology, cloud.ctx, {
      name: 'Admin',
      vpcId: cloud.beijingVpc,
    });
    expect(changeset.audit.after).toMatchObject({ name: 'Admin', vpcId: cloud.beijingVpc, rules: [] });
    expect(
      refusal(() => createSecurityGroup(cloud.topology, cloud.ctx, { name: 'Admin', vpcId: 'vpc-9' })).code,
    ).toBe('NOT_FOUND');
    expect(
      refusal(() => createSecurityGroup(cloud.topology, cloud.ctx, { name: '', vpcId: cloud.beijingVpc }))
        .code,
    ).toBe('INVALID_NAME');
  });

  it('refuses to delete a group instances use, naming them', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const err = refusal(() => deleteSecurityGroup(topology, ctx, cloud.shanghaiGroup));
    expect(err.code).toBe('IN_USE');
    expect(err.message).toContain(
      `security group ${cloud.shanghaiGroup} (Shanghai web) is used by 1 instance(s) (${cloud.shanghaiInstance})`,
    );
    applyAndGet(topology, deleteInstance(topology, ctx, cloud.shanghaiInstance));
    expect(deleteSecurityGroup(topology, ctx, cloud.shanghaiGroup).audit.action).toBe('securityGroup.delete');
  });

  it('appends rules with ids and removes them', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const group = applyAndGet<SecurityGroup>(
      topology,
      addSecurityGroupRule(topology, ctx, cloud.shanghaiGroup, ssh),
    );
    expect(group.rules).toEqual([{ id: 'sgr-1', ...ssh, createdAt: '2025-01-15T08:00:00.000Z' }]);
    const emptied = applyAndGet<SecurityGroup>(
      topology,
      removeSecurityGroupRule(topology, ctx, group.id, 'sgr-1'),
    );
    expect(emptied.rules).toEqual([]);
    const err = refusal(() => removeSecurityGroupRule(topology, ctx, group.id, 'sgr-1'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`rule sgr-1 not found in security group ${group.id} (Shanghai web)`);
  });

  it('validates rules and the per-group rule quota', () => {
    const cloud = buildReferenceCloud({ ctx: fixedContext({ quotas: { rulesPerSecurityGroup: 1 } }) });
    const { topology, ctx } = cloud;
    expect(
      refusal(() => addSecurityGroupRule(topology, ctx, cloud.shanghaiGroup, { ...ssh, priority: 101 })).code,
    ).toBe('INVALID_RULE');
    expect(
      refusal(() => addSecurityGroupRule(topology, ctx, cloud.shanghaiGroup, { ...ssh, protocol: 'all' }))
        .code,
    ).toBe('INVALID_RULE');
    applyAndGet(topology, addSecurityGroupRule(topology, ctx, cloud.shanghaiGroup, ssh));
    const err = refusal(() => addSecurityGroupRule(topology, ctx, cloud.shanghaiGroup, ssh));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toEqual({ quota: 'rulesPerSecurityGroup', limit: 1 });
    expect(err.message).toContain('rules in security group');
  });
});
