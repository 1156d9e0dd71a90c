import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../errors.js';
import {
  type AclRuleInput,
  type SecurityGroupRuleInput,
  validateAclRule,
  validateSecurityGroupRule,
} from './rules.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const aclRule: AclRuleInput = {
  name: 'block ssh',
  direction: 'out',
  policy: 'drop',
  priority: 10,
  protocol: 'tcp',
  sourceCidr: '172.16.0.0/16',
  sourcePortRange: '-1/-1',
  destCidr: '10.1.0.0/16',
  destPortRange: '22/22',
};

const sgRule: SecurityGroupRuleInput = {
  direction: 'ingress',
  policy: 'accept',
  priority: 1,
  protocol: 'tcp',
  portRange: '22/22',
  cidr: '172.16.0.0/16',
};

describe('validateAclRule', () => {
  it('accepts a well-formed rule and keeps only rule fields', () => {
    expect(validateAclRule({ ...aclRule, extra: 'x' } as AclRuleInput)).toEqual(aclRule);
  });

  it('accepts the whole address space and single hosts', () => {
    const rule = validateAclRule({ ...aclRule, sourceCidr: '0.0.0.0/0', destCidr: '10.1.0.10/32' });
    expect(rule.sourceCidr).toBe('0.0.0.0/0');
    expect(rule.destCidr).toBe('10.1.0.10/32');
  });

  it.each([1, 100])('accepts priority %i', (priority) => {
    expect(validateAclRule({ ...aclRule, priority }).priority).toBe(priority);
  });

  it.each([0, 101, 2.5, -1])('refuses priority %s with INVALID_RULE', (priority) => {
    const err = refusal(() => validateAclRule({ ...aclRule, priority }));
    expect(err.code).toBe('INVALID_RULE');
    expect(err.message).toContain('rule.priority');
    expect(err.message).toContain('1 (evaluated first) to 100');
  });

  it.each([
    ['protocol', 'gre', 'tcp, udp, icmp, all'],
    ['direction', 'ingress', 'in, out'],
    ['policy', 'allow', 'accept, drop'],
  ])('refuses %s %j naming the allowed values', (field, value, allowed) => {
    const err = refusal(() => validateAclRule({ ...aclRule, [field]: value }));
    expect(err.code).toBe('INVALID_RULE');
    expect(err.message).toContain(`rule.${field}`);
    expect(err.message).toContain(allowed);
  });

  it.each(['1/65535', '80/80', '-1/-1', '1024/2048'])('accepts port range %s', (range) => {
    expect(validateAclRule({ ...aclRule, destPortRange: range }).destPortRange).toBe(range);
  });

  it.each(['0/80', '80/79', '1/65536', '-1/80', '22', 'a/b', '22-23', ''])(
    'refuses port range %j',
    (range) => {
      const err = refusal(() => validateAclRule({ ...aclRule, sourcePortRange: range }));
      expect(err.code).toBe('INVALID_RULE');
      expect(err.message).toContain('rule.sourcePortRange');
    },
  );

  it.each(['icmp', 'all'])('requires -1/-1 ports for %s', (protocol) => {
    const err = refusal(() => validateAclRule({ ...aclRule, protocol }));
    expect(err.code).toBe('INVALID_RULE');
    expect(err.message).toContain(`protocol ${protocol} has no ports`);
    const ok = validateAclRule({ ...aclRule, protocol, destPortRange: '-1/-1' });
    expect(ok.protocol).toBe(protocol);
  });

  it('refuses a block with host bits, suggesting the canonical form', () => {
    const err = refusal(() => validateAclRule({ ...aclRule, destCidr: '10.1.2.3/16' }));
    expect(err.code).toBe('INVALID_CIDR');
    expect(err.message).toContain('rule.destCidr');
    expect(err.message).toContain('10.1.0.0/16');
  });

  it('refuses a missing field', () => {
    const { destCidr: _omitted, ...partial } = aclRule;
    expect(refusal(() => validateAclRule(partial as AclRuleInput)).code).toBe('INVALID_CIDR');
    const { protocol: _p, ...noProtocol } = aclRule;
    expect(refusal(() => validateAclRule(noProtocol as AclRuleInput)).message).toContain('missing');
  });

  it('refuses a bad rule name', () => {
    expect(refusal(() => validateAclRule({ ...aclRule, name: '#1' })).code).toBe('INVALID_NAME');
  });
});

describe('validateSecurityGroupRule', () => {
  it('accepts a well-formed rule', () => {
    expect(validateSecurityGroupRule({ ...sgRule, description: 'branches' })).toEqual({
      ...sgRule,
      description: 'branches',
    });
  });

  it('refuses an ACL direction', () => {
    const err = refusal(() => validateSecurityGroupRule({ ...sgRule, direction: 'in' }));
    expect(err.code).toBe('INVALID_RULE');
    expect(err.message).toContain('ingress, egress');
  });

  it('requires -1/-1 for icmp', () => {
    expect(refusal(() => validateSecurityGroupRule({ ...sgRule, protocol: 'icmp' })).code).toBe(
      'INVALID_RULE',
    );
    expect(validateSecurityGroupRule({ ...sgRule, protocol: 'icmp', portRange: '-1/-1' }).protocol).toBe(
      'icmp',
    );
  });

  it('refuses priority 0 and a malformed peer CIDR', () => {
    expect(refusal(() => validateSecurityGroupRule({ ...sgRule, priority: 0 })).code).toBe('INVALID_RULE');
    expect(refusal(() => validateSecurityGroupRule({ ...sgRule, cidr: '172.16.0.0/33' })).code).toBe(
      'INVALID_CIDR',
    );
  });
});
