import { describe, expect, it } from 'vitest';
import { areaOfRegion } from '../domain/catalogue.js';
import type { Topology } from '../domain/types.js';
import { isSagError } from '../errors.js';
import {
  acl,
  aclRule,
  instance,
  referenceTopology,
  SCENARIO_NOW,
  securityGroup,
  securityGroupRule,
  vpc,
} from '../testing/referenceTopology.js';
import { analyzeAccess, type DeviceLookup, type TimedAccessRequest } from './access.js';
import type { DeviceView } from './types.js';

const healthy: DeviceLookup = () => ({ presence: 'online', sync: 'in-sync' });

function test(
  topology: Topology,
  request: Omit<TimedAccessRequest, 'now'>,
  devices: DeviceLookup = healthy,
  now = SCENARIO_NOW,
) {
  return analyzeAccess(topology, devices, { ...request, now }, areaOfRegion);
}

const hzToShanghaiSsh = {
  source: { gatewayId: 'sag-hz', ip: '172.16.0.10' },
  destination: { instanceId: 'i-sh' },
  protocol: 'tcp',
  port: 22,
} as const;

function authorizeBranch(topology: Topology, sgId = 'sg-sh'): void {
  const group = topology.securityGroups.get(sgId)!;
  const rule = securityGroupRule({ id: 'sgr-branch', cidr: '172.16.0.0/16', portRange: '22/22' });
  topology.securityGroups.set(sgId, { ...group, rules: [rule] });
}

function bindAcl(topology: Topology, gatewayId: string, rules: ReturnType<typeof aclRule>[]): void {
  topology.acls.set('acl-branch', acl({ id: 'acl-branch', name: 'branch-acl', rules }));
  topology.gateways.set(gatewayId, { ...topology.gateways.get(gatewayId)!, aclId: 'acl-branch' });
}

const denySsh = aclRule({
  id: 'acl-rule-1',
  name: 'deny ssh',
  direction: 'out',
  policy: 'drop',
  protocol: 'tcp',
  destCidr: '10.1.0.0/16',
  destPortRange: '22/22',
});

describe('access test: the reference scenario, Hangzhou to the Shanghai instance', () => {
  it('is unreachable before the security-group rule and names the group', () => {
    const answer = test(referenceTopology(), hzToShanghaiSsh);
    expect(answer.reachable).toBe(false);
    expect(answer.reason).toBe(
      'security group sg-sh (web) of instance i-sh (shanghai-web) denies tcp/22 ingress from 172.16.0.10: ' +
        'no rule allows it (default ingress deny)',
    );
    expect(answer.hops.map((hop) => `${hop.kind} ${hop.resourceId} ${hop.verdict}`)).toEqual([
      'gateway sag-hz pass',
      'device sag-hz pass',
      'branch-address sag-hz pass',
      'acl-out sag-hz pass',
      'ccn ccn-branches pass',
      'cen cen-main pass',
      'route sag-hz pass',
      'security-group-ingress sg-sh block',
    ]);
    expect(answer.hops[6].reason).toBe('route 10.1.0.0/16 from vpc-sh on sag-hz is active');
  });

  it('is reachable after an ingress rule authorizing 172.16.0.0/16', () => {
    const topology = referenceTopology();
    authorizeBranch(topology);
    const answer = test(topology, hzToShanghaiSsh);
    expect(answer.reachable).toBe(true);
    expect(answer.hops.every((hop) => hop.verdict === 'pass')).toBe(true);
    expect(answer.reason).toBe(
      '172.16.0.10 behind gateway sag-hz (Hangzhou branch) reaches instance i-sh (shanghai-web) 10.1.0.10 ' +
        'in vpc vpc-sh (Shanghai VPC) over tcp/22',
    );
    expect(answer.hops.at(-1)?.reason).toContain('rule sgr-branch');
  });

  it('is unreachable again with an ACL drop rule, naming the rule; later hops are still shown', () => {
    const topology = referenceTopology();
    authorizeBranch(topology);
    bindAcl(topology, 'sag-hz', [denySsh]);
    const answer = test(topology, hzToShanghaiSsh);
    expect(answer.reachable).toBe(false);
    expect(answer.reason).toBe(
      'ACL acl-branch (branch-acl) rule acl-rule-1 (deny ssh) drops tcp/22 out to 10.1.0.10',
    );
    expect(answer.hops.find((hop) => hop.kind === 'acl-out')).toMatchObject({
      resourceId: 'acl-branch',
      verdict: 'block',
    });
    expect(answer.hops.at(-1)).toMatchObject({ kind: 'security-group-ingress', verdict: 'pass' });
  });

  it('resolves an IP destination that belongs to an instance to that instance', () => {
    const topology = referenceTopology();
    const byIp = test(topology, { ...hzToShanghaiSsh, destination: { ip: '10.1.0.10' } });
    expect(byIp.reason).toContain('security group sg-sh (web) of instance i-sh');
  });

  it('also reaches the Beijing instance once its group authorizes the branch', () => {
    const topology = referenceTopology();
    authorizeBranch(topology, 'sg-bj');
    expect(test(topology, { ...hzToShanghaiSsh, destination: { instanceId: 'i-bj' } }).reachable).toBe(true);
  });
});

describe('access test: between branches and from a VPC', () => {
  const hzToNb = {
    source: { gatewayId: 'sag-hz', ip: '172.16.0.10' },
    destination: { ip: '172.17.0.10' },
    protocol: 'icmp',
  } as const;

  it('Hangzhou and Ningbo reach each other through their CCN', () => {
    const topology = referenceTopology();
    const there = test(topology, hzToNb);
    expect(there.reachable).toBe(true);
    expect(there.hops.map((hop) => `${hop.kind} ${hop.resourceId}`)).toEqual([
      'gateway sag-hz',
      'device sag-hz',
      'branch-address sag-hz',
      'acl-out sag-hz',
      'ccn ccn-branches',
      'gateway sag-nb',
      'device sag-nb',
      'acl-in sag-nb',
    ]);
    const back = test(topology, {
      ...hzToNb,
      source: { gatewayId: 'sag-nb', ip: '172.17.0.10' },
      destination: { ip: '172.16.0.10' },
    });
    expect(back.reachable).toBe(true);
  });

  it("the destination gateway's ACL in can drop traffic into the branch", () => {
    const topology = referenceTopology();
    bindAcl(topology, 'sag-nb', [
      aclRule({ id: 'acl-rule-in', name: 'no ping', direction: 'in', policy: 'drop', protocol: 'icmp' }),
    ]);
    const answer = test(topology, hzToNb);
    expect(answer.reachable).toBe(false);
    expect(answer.reason).toBe(
      'ACL acl-branch (branch-acl) rule acl-rule-in (no ping) drops icmp in from 172.16.0.10',
    );
  });

  it('a VPC instance reaches a branch: egress, CEN, route, gateway, ACL in', () => {
    const topology = referenceTopology();
    const answer = test(topology, {
      source: { instanceId: 'i-sh' },
      destination: { ip: '172.16.0.10' },
      protocol: 'tcp',
      port: 80,
    });
    expect(answer.reachable).toBe(true);
    expect(answer.hops.map((hop) => `${hop.kind} ${hop.resourceId}`)).toEqual([
      'security-group-egress sg-sh',
      'cen cen-main',
      'route vpc-sh',
      'gateway sag-hz',
      'device sag-hz',
      'acl-in sag-hz',
    ]);
    expect(answer.hops[2].reason).toBe('route 172.16.0.0/16 from sag-hz on vpc-sh is active');
  });

  it('instances in one VPC reach each other when their groups allow it', () => {
    const topology = referenceTopology();
    topology.instances.set(
      'i-sh2',
      instance({ id: 'i-sh2', vpcId: 'vpc-sh', privateIp: '10.1.0.11', securityGroupIds: ['sg-sh'] }),
    );
    const answer = test(topology, {
      source: { instanceId: 'i-sh2' },
      destination: { instanceId: 'i-sh' },
      protocol: 'tcp',
      port: 22,
    });
    expect(answer.reachable).toBe(true);
    expect(answer.hops.map((hop) => hop.kind)).toEqual([
      'security-group-egress',
      'vpc',
      'security-group-ingress',
    ]);
  });
});

describe('access test: what blocks, in plain words', () => {
  it('a route to a VPC in another area is inactive until a bandwidth package exists', () => {
    const topology = referenceTopology();
    topology.vpcs.set(
      'vpc-sg',
      vpc({
        id: 'vpc-sg',
        name: 'Singapore VPC',
        region: 'ap-southeast-1',
        cidrBlocks: ['10.3.0.0/16'],
        cenId: 'cen-main',
      }),
    );
    topology.securityGroups.set('sg-sg', securityGroup({ id: 'sg-sg', name: 'web', vpcId: 'vpc-sg' }));
    topology.instances.set(
      'i-sg',
      instance({ id: 'i-sg', vpcId: 'vpc-sg', privateIp: '10.3.0.10', securityGroupIds: ['sg-sg'] }),
    );
    authorizeBranch(topology, 'sg-sg');
    const request = { ...hzToShanghaiSsh, destination: { instanceId: 'i-sg' } };
    const before = test(topology, request);
    expect(before.reachable).toBe(false);
    expect(before.reason).toBe(
      'route 10.3.0.0/16 from vpc-sg on sag-hz is inactive: ap-southeast-1 (vpc-sg) is in area asia-pacific and ' +
        'ccn-branches is in area china-mainland; add a bandwidth package for asia-pacific ↔ china-mainland to cen-main',
    );
    topology.cens.set('cen-main', {
      ...topology.cens.get('cen-main')!,
      bandwidthPackages: [{ areas: ['asia-pacific', 'china-mainland'], bandwidthMbps: 10 }],
    });
    expect(test(topology, request).reachable).toBe(true);
  });

  const deviceCases: [string, DeviceView | undefined, string][] = [
    [
      'offline',
      { presence: 'offline', sync: 'in-sync' },
      'device SN-sag-hz of gateway sag-hz (Hangzhou branch) is offline',
    ],
    [
      'pending',
      { presence: 'online', sync: 'pending' },
      'device SN-sag-hz of gateway sag-hz (Hangzhou branch) has not applied its latest config yet (sync pending)',
    ],
    [
      'failed',
      { presence: 'online', sync: 'failed' },
      'device SN-sag-hz of gateway sag-hz (Hangzhou branch) failed to apply its latest config (sync failed)',
    ],
    [
      'unknown',
      undefined,
      'device SN-sag-hz of gateway sag-hz (Hangzhou branch) has never connected to the broker',
    ],
  ];
  for (const [label, view, reason] of deviceCases) {
    it(`the source device being ${label} blocks`, () => {
      const topology = referenceTopology();
      authorizeBranch(topology);
      const devices: DeviceLookup = (id) =>
        id === 'sag-hz' ? view : { presence: 'online', sync: 'in-sync' };
      const answer = test(topology, hzToShanghaiSsh, devices);
      expect(answer).toMatchObject({ reachable: false, reason });
      expect(answer.hops.filter((hop) => hop.verdict === 'block').map((hop) => hop.kind)).toEqual(['device']);
    });
  }

  it('a locked (expired) or inactive gateway blocks', () => {
    const topology = referenceTopology();
    authorizeBranch(topology);
    const later = new Date('2025-03-01T00:00:00.000Z');
    expect(test(topology, hzToShanghaiSsh, healthy, later).reason).toBe(
      'gateway sag-hz (Hangzhou branch) expired at 2025-02-01T00:00:00.000Z and is locked: it gets no config until renewed',
    );
    topology.gateways.set('sag-hz', { ...topology.gateways.get('sag-hz')!, lifecycle: 'shipped' });
    expect(test(topology, hzToShanghaiSsh).reason).toBe(
      'gateway sag-hz (Hangzhou branch) is not active (lifecycle shipped); activate it',
    );
  });

  it('a source address outside the branch blocks', () => {
    const answer = test(referenceTopology(), {
      ...hzToShanghaiSsh,
      source: { gatewayId: 'sag-hz', ip: '172.17.0.10' },
    });
    expect(answer.reason).toBe(
      '172.17.0.10 is not inside any private CIDR block of gateway sag-hz (Hangzhou branch) (172.16.0.0/16)',
    );
  });

  it('a gateway with no CCN, or a CCN with no CEN, blocks with the missing link', () => {
    const topology = referenceTopology();
    authorizeBranch(topology);
    topology.ccns.set('ccn-branches', { ...topology.ccns.get('ccn-branches')!, cenId: null });
    expect(test(topology, hzToShanghaiSsh).reason).toBe(
      'CCN ccn-branches (branches) is not attached to a CEN, so it cannot reach vpc vpc-sh (Shanghai VPC)',
    );
    topology.gateways.set('sag-hz', { ...topology.gateways.get('sag-hz')!, ccnId: null });
    const answer = test(topology, hzToShanghaiSsh);
    expect(answer.reason).toBe('gateway sag-hz (Hangzhou branch) is not bound to a CCN, so it has no routes');
    expect(answer.hops.map((hop) => hop.kind)).not.toContain('cen');
  });

  it('a VPC reaches another VPC of its CEN, subject to the destination security group', () => {
    const topology = referenceTopology();
    const shanghaiToBeijing = {
      source: { instanceId: 'i-sh' },
      destination: { instanceId: 'i-bj' },
      protocol: 'tcp',
      port: 22,
    } as const;
    const before = test(topology, shanghaiToBeijing);
    expect(before.reachable).toBe(false);
    expect(before.hops.find((hop) => hop.kind === 'route')).toMatchObject({ verdict: 'pass' });
    expect(before.hops.at(-1)).toMatchObject({ kind: 'security-group-ingress', verdict: 'block' });
    const group = topology.securityGroups.get('sg-bj')!;
    const rule = securityGroupRule({ id: 'sgr-sh', cidr: '10.1.0.0/16', portRange: '22/22' });
    topology.securityGroups.set('sg-bj', { ...group, rules: [rule] });
    expect(test(topology, shanghaiToBeijing).reachable).toBe(true);
  });

  it('a VPC attached elsewhere is named', () => {
    const topology = referenceTopology();
    topology.vpcs.set('vpc-sh', { ...topology.vpcs.get('vpc-sh')!, cenId: null });
    expect(test(topology, hzToShanghaiSsh).reason).toBe(
      'vpc vpc-sh (Shanghai VPC) is not attached to CEN cen-main (main)',
    );
  });

  it('an address no one holds has no route; a VPC address with no instance has no one to answer', () => {
    const topology = referenceTopology();
    expect(test(topology, { ...hzToShanghaiSsh, destination: { ip: '8.8.8.8' } }).reason).toBe(
      'no route to 8.8.8.8: no gateway or VPC has a block containing it',
    );
    expect(test(topology, { ...hzToShanghaiSsh, destination: { ip: '10.1.0.99' } }).reason).toBe(
      'no instance in vpc vpc-sh (Shanghai VPC) has 10.1.0.99',
    );
  });

  it('traffic to the branch itself stays on its LAN', () => {
    const answer = test(referenceTopology(), { ...hzToShanghaiSsh, destination: { ip: '172.16.5.5' } });
    expect(answer.reachable).toBe(true);
    expect(answer.reason).toContain('stays on the branch LAN');
  });

  it('unknown ids are NOT_FOUND and malformed addresses INVALID_ARGUMENT', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isSagError(err) ? `${err.code}: ${err.message}` : String(err);
      }
      return 'no error';
    };
    const topology = referenceTopology();
    expect(
      codeOf(() => test(topology, { ...hzToShanghaiSsh, source: { gatewayId: 'sag-x', ip: '1.1.1.1' } })),
    ).toBe('NOT_FOUND: gateway sag-x not found');
    expect(codeOf(() => test(topology, { ...hzToShanghaiSsh, destination: { instanceId: 'i-x' } }))).toBe(
      'NOT_FOUND: instance i-x not found',
    );
    expect(codeOf(() => test(topology, { ...hzToShanghaiSsh, destination: { ip: '10.1.0' } }))).toMatch(
      /^INVALID_ARGUMENT: destination.ip/,
    );
  });
});
