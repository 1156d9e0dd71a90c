import { describe, expect, it } from 'vitest';
import { instance, securityGroup, securityGroupRule, topologyOf } from '../testing/referenceTopology.js';
import { evaluateSecurityGroups, securityGroupRuleMatches } from './securityGroupMatch.js';
import type { SecurityGroupRule } from './types.js';

function setup(rulesWeb: SecurityGroupRule[] = [], rulesDb: SecurityGroupRule[] = []) {
  const topology = topologyOf({
    securityGroups: [
      securityGroup({ id: 'sg-web', name: 'web', vpcId: 'vpc-1', rules: rulesWeb }),
      securityGroup({ id: 'sg-db', name: 'db', vpcId: 'vpc-1', rules: rulesDb }),
    ],
    instances: [
      instance({
        id: 'i-web',
        name: 'web-1',
        vpcId: 'vpc-1',
        privateIp: '10.1.0.10',
        securityGroupIds: ['sg-web'],
      }),
      instance({
        id: 'i-web2',
        name: 'web-2',
        vpcId: 'vpc-1',
        privateIp: '10.1.0.11',
        securityGroupIds: ['sg-web'],
      }),
      instance({
        id: 'i-db',
        name: 'db-1',
        vpcId: 'vpc-1',
        privateIp: '10.1.0.20',
        securityGroupIds: ['sg-db'],
      }),
      instance({
        id: 'i-both',
        name: 'both',
        vpcId: 'vpc-1',
        privateIp: '10.1.0.30',
        securityGroupIds: ['sg-web', 'sg-db'],
      }),
    ],
  });
  return { topology, web: topology.instances.get('i-web')!, both: topology.instances.get('i-both')! };
}

const sshFromBranch = { direction: 'ingress', protocol: 'tcp', peerIp: '172.16.0.10', port: 22 } as const;

describe('evaluateSecurityGroups: defaults', () => {
  it('denies ingress with no rule, naming the group and the default', () => {
    const { topology, web } = setup();
    expect(evaluateSecurityGroups(topology, web, sshFromBranch)).toEqual({
      policy: 'drop',
      rule: null,
      reason:
        'security group sg-web (web) of instance i-web (web-1) denies tcp/22 ingress from 172.16.0.10: ' +
        'no rule allows it (default ingress deny)',
    });
  });

  it('allows ingress from an instance sharing a group, not from one in another group', () => {
    const { topology, web } = setup();
    const fromPeer = evaluateSecurityGroups(topology, web, { ...sshFromBranch, peerIp: '10.1.0.11' });
    expect(fromPeer.policy).toBe('accept');
    expect(fromPeer.reason).toContain('10.1.0.11 is instance i-web2 (web-2) of the same group');
    expect(evaluateSecurityGroups(topology, web, { ...sshFromBranch, peerIp: '10.1.0.20' }).policy).toBe(
      'drop',
    );
    expect(evaluateSecurityGroups(topology, web, { ...sshFromBranch, peerIp: '10.1.0.30' }).policy).toBe(
      'accept',
    );
  });

  it('allows egress with no rule', () => {
    const { topology, web } = setup();
    const verdict = evaluateSecurityGroups(topology, web, {
      direction: 'egress',
      protocol: 'udp',
      peerIp: '8.8.8.8',
      port: 53,
    });
    expect(verdict).toMatchObject({ policy: 'accept', rule: null });
    expect(verdict.reason).toContain(
      'allows udp/53 egress to 8.8.8.8: no rule matches (default egress allow)',
    );
  });

  it('names every group of an instance with several when the default denies', () => {
    const { topology, both } = setup();
    expect(evaluateSecurityGroups(topology, both, sshFromBranch).reason).toMatch(
      /^security groups sg-web \(web\), sg-db \(db\) of instance i-both \(both\) deny tcp\/22/,
    );
  });
});

describe('evaluateSecurityGroups: rules', () => {
  it('accepts with a rule authorizing the branch CIDR and names the rule', () => {
    const rule = securityGroupRule({ id: 'sgr-1', cidr: '172.16.0.0/16', portRange: '22/22' });
    const { topology, web } = setup([rule]);
    const verdict = evaluateSecurityGroups(topology, web, sshFromBranch);
    expect(verdict).toMatchObject({ policy: 'accept', rule: { securityGroupId: 'sg-web', rule } });
    expect(verdict.reason).toBe(
      'security group sg-web (web) of instance i-web (web-1) allows tcp/22 ingress from 172.16.0.10: ' +
        'rule sgr-1 (priority 1, accept tcp 22/22 172.16.0.0/16)',
    );
  });

  it('the lowest priority number wins across all groups of the instance', () => {
    const { topology, both } = setup(
      [securityGroupRule({ id: 'sgr-accept', priority: 10, cidr: '172.16.0.0/16' })],
      [securityGroupRule({ id: 'sgr-drop', priority: 20, policy: 'drop', cidr: '0.0.0.0/0' })],
    );
    expect(evaluateSecurityGroups(topology, both, sshFromBranch).rule?.rule.id).toBe('sgr-accept');
  });

  it('at equal priority drop wins, whatever the order', () => {
    const accept = securityGroupRule({ id: 'sgr-accept', priority: 5, cidr: '172.16.0.0/16' });
    const drop = securityGroupRule({ id: 'sgr-drop', priority: 5, policy: 'drop', cidr: '172.16.0.0/12' });
    for (const rules of [
      [accept, drop],
      [drop, accept],
    ]) {
      const { topology, web } = setup(rules);
      expect(evaluateSecurityGroups(topology, web, sshFromBranch)).toMatchObject({
        policy: 'drop',
        rule: { rule: { id: 'sgr-drop' } },
      });
    }
  });

  it('an explicit drop overrides the same-group default', () => {
    const { topology, web } = setup([
      securityGroupRule({ id: 'sgr-drop', policy: 'drop', cidr: '10.1.0.11/32' }),
    ]);
    expect(evaluateSecurityGroups(topology, web, { ...sshFromBranch, peerIp: '10.1.0.11' }).policy).toBe(
      'drop',
    );
  });

  it('an egress drop rule blocks egress', () => {
    const { topology, web } = setup([
      securityGroupRule({
        id: 'sgr-e',
        direction: 'egress',
        policy: 'drop',
        protocol: 'all',
        cidr: '0.0.0.0/0',
      }),
    ]);
    const verdict = evaluateSecurityGroups(topology, web, {
      direction: 'egress',
      protocol: 'icmp',
      peerIp: '1.1.1.1',
    });
    expect(verdict.policy).toBe('drop');
    expect(verdict.reason).toContain('denies icmp egress to 1.1.1.1: rule sgr-e');
  });
});

describe('securityGroupRuleMatches', () => {
  const base = securityGroupRule({ id: 'r', protocol: 'tcp', portRange: '20/25', cidr: '172.16.0.0/16' });
  const query = { direction: 'ingress', protocol: 'tcp', peerIp: '172.16.3.4', port: 22 } as const;

  it('matches direction, protocol, peer and port range', () => {
    expect(securityGroupRuleMatches(base, query)).toBe(true);
    expect(securityGroupRuleMatches(base, { ...query, direction: 'egress' })).toBe(false);
    expect(securityGroupRuleMatches(base, { ...query, protocol: 'udp' })).toBe(false);
    expect(securityGroupRuleMatches(base, { ...query, peerIp: '172.17.0.1' })).toBe(false);
    expect(securityGroupRuleMatches(base, { ...query, port: 26 })).toBe(false);
    expect(securityGroupRuleMatches(base, { ...query, port: 20 })).toBe(true);
    expect(securityGroupRuleMatches(base, { ...query, port: undefined })).toBe(false);
  });

  it('protocol all and -1/-1 match anything; icmp ignores ports', () => {
    const any = { ...base, protocol: 'all' as const, portRange: '-1/-1' };
    expect(securityGroupRuleMatches(any, { ...query, protocol: 'udp', port: 9999 })).toBe(true);
    const icmp = { ...base, protocol: 'icmp' as const, portRange: '-1/-1' };
    expect(securityGroupRuleMatches(icmp, { ...query, protocol: 'icmp', port: undefined })).toBe(true);
    expect(securityGroupRuleMatches({ ...base, portRange: 'bogus' }, query)).toBe(false);
  });
});
