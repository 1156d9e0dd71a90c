import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud } from '../../testing/referenceCloud.js';
import { type Acl, emptyTopology } from '../types.js';
import { addAclRule, createAcl, deleteAcl, removeAclRule, updateAclRule } from './acl.js';
import { removeGatewayAcl, setGatewayAcl } from './network.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const dropSsh = {
  name: 'no ssh',
  direction: 'out',
  policy: 'drop',
  priority: 10,
  protocol: 'tcp',
  sourceCidr: '172.16.0.0/16',
  sourcePortRange: '-1/-1',
  destCidr: '10.1.0.0/16',
  destPortRange: '22/22',
};

function withAcl(quotas = {}) {
  const topology = emptyTopology();
  const ctx = fixedContext({ quotas });
  const acl = applyAndGet<Acl>(
    topology,
    createAcl(topology, ctx, { name: 'Office', description: 'branch firewall' }),
  );
  return { topology, ctx, id: acl.id };
}

describe('ACLs', () => {
  it('creates an ACL and refuses past the quota', () => {
    const { topology, ctx, id } = withAcl({ acls: 1 });
    expect(topology.acls.get(id)).toMatchObject({
      name: 'Office',
      description: 'branch firewall',
      rules: [],
    });
    const err = refusal(() => createAcl(topology, ctx, { name: 'Second' }));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toEqual({ quota: 'acls', limit: 1 });
    expect(refusal(() => createAcl(topology, ctx, { name: 'é' })).code).toBe('INVALID_NAME');
  });

  it('refuses to delete an ACL gateways use, naming them', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const acl = applyAndGet<Acl>(topology, createAcl(topology, ctx, { name: 'Office' }));
    applyAndGet(topology, setGatewayAcl(topology, ctx, cloud.ningbo, { aclId: acl.id }));
    const err = refusal(() => deleteAcl(topology, ctx, acl.id));
    expect(err.code).toBe('IN_USE');
    expect(err.message).toContain(`ACL ${acl.id} (Office) is used by 1 gateway(s) (${cloud.ningbo})`);
    applyAndGet(topology, removeGatewayAcl(topology, ctx, cloud.ningbo));
    expect(deleteAcl(topology, ctx, acl.id).audit.action).toBe('acl.delete');
  });
});

describe('ACL rules', () => {
  it('appends rules in insertion order with ids', () => {
    const { topology, ctx, id } = withAcl();
    applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    const acl = applyAndGet<Acl>(
      topology,
      addAclRule(topology, ctx, id, { ...dropSsh, name: 'web', destPortRange: '80/80' }),
    );
    expect(acl.rules.map((r) => [r.id, r.name])).toEqual([
      ['aclr-1', 'no ssh'],
      ['aclr-2', 'web'],
    ]);
    expect(acl.rules[0]).toEqual({ id: 'aclr-1', ...dropSsh, createdAt: '2025-01-15T08:00:00.000Z' });
  });

  it('refuses the rule past rulesPerAcl', () => {
    const { topology, ctx, id } = withAcl({ rulesPerAcl: 2 });
    applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    const err = refusal(() => addAclRule(topology, ctx, id, dropSsh));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toEqual({ quota: 'rulesPerAcl', limit: 2 });
    expect(err.message).toContain(`rules in ACL ${id} (Office)`);
  });

  it('holds 50 rules by default', () => {
    const { topology, ctx, id } = withAcl();
    for (let i = 0; i < 50; i++) applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    expect(refusal(() => addAclRule(topology, ctx, id, dropSsh)).details).toEqual({
      quota: 'rulesPerAcl',
      limit: 50,
    });
  });

  it('validates fields', () => {
    const { topology, ctx, id } = withAcl();
    expect(refusal(() => addAclRule(topology, ctx, id, { ...dropSsh, priority: 0 })).code).toBe(
      'INVALID_RULE',
    );
    expect(refusal(() => addAclRule(topology, ctx, id, { ...dropSsh, destCidr: '10.1.0.1/16' })).code).toBe(
      'INVALID_CIDR',
    );
    expect(refusal(() => addAclRule(topology, ctx, 'acl-9', dropSsh)).message).toBe('ACL acl-9 not found');
  });

  it('updates some fields in place, keeping id, position and creation time', () => {
    const { topology, ctx, id } = withAcl();
    applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    applyAndGet(topology, addAclRule(topology, ctx, id, { ...dropSsh, name: 'second' }));
    ctx.now = new Date('2025-02-01T00:00:00.000Z');
    const acl = applyAndGet<Acl>(
      topology,
      updateAclRule(topology, ctx, id, 'aclr-1', { policy: 'accept', priority: 20 }),
    );
    expect(acl.rules.map((r) => r.id)).toEqual(['aclr-1', 'aclr-2']);
    expect(acl.rules[0]).toEqual({
      id: 'aclr-1',
      ...dropSsh,
      policy: 'accept',
      priority: 20,
      createdAt: '2025-01-15T08:00:00.000Z',
    });
  });

  it('validates the merged rule on update', () => {
    const { topology, ctx, id } = withAcl();
    applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    const err = refusal(() => updateAclRule(topology, ctx, id, 'aclr-1', { protocol: 'icmp' }));
    expect(err.code).toBe('INVALID_RULE');
    expect(err.message).toContain('protocol icmp has no ports');
    const ok = updateAclRule(topology, ctx, id, 'aclr-1', { protocol: 'icmp', destPortRange: '-1/-1' });
    expect((ok.audit.after as Acl).rules[0].protocol).toBe('icmp');
    expect(refusal(() => updateAclRule(topology, ctx, id, 'aclr-9', { priority: 5 })).code).toBe('NOT_FOUND');
  });

  it('removes a rule and answers NOT_FOUND for an unknown one', () => {
    const { topology, ctx, id } = withAcl();
    applyAndGet(topology, addAclRule(topology, ctx, id, dropSsh));
    expect((removeAclRule(topology, ctx, id, 'aclr-1').audit.after as Acl).rules).toEqual([]);
    const err = refusal(() => removeAclRule(topology, ctx, id, 'aclr-2'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`rule aclr-2 not found in ACL ${id} (Office)`);
  });
});
