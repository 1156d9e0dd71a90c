import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AclRule, Topology } from '../domain/types.js';
import {
  acl,
  aclRule,
  gateway,
  referenceTopology,
  SCENARIO_NOW,
  SCENARIO_SETTINGS,
} from '../testing/referenceTopology.js';
import { aclHop, branchAddressHop, deviceHop, gatewayStateHop, type Traffic } from './accessHops.js';
import { compileGatewayConfig } from './gatewayConfig.js';

function toNumber(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Deliberately simple: an address is in a block when they agree on the prefix's leading bits. */
function naiveInCidr(ip: string, cidr: string): boolean {
  const [network, prefix] = cidr.split('/');
  const size = 2 ** (32 - Number(prefix));
  return Math.floor(toNumber(ip) / size) === Math.floor(toNumber(network) / size);
}

function naivePortMatch(range: string, port: number | undefined): boolean {
  if (range === '-1/-1') return true;
  const [from, to] = range.split('/').map(Number);
  return port !== undefined && from <= port && port <= to;
}

function naiveMatches(rule: AclRule, direction: 'in' | 'out', traffic: Traffic): boolean {
  if (rule.direction !== direction) return false;
  if (rule.protocol !== 'all' && rule.protocol !== traffic.protocol) return false;
  if (!naiveInCidr(traffic.sourceIp, rule.sourceCidr) || !naiveInCidr(traffic.destIp, rule.destCidr))
    return false;
  if (traffic.protocol === 'icmp') return true;
  // The access test knows no source port, so only "any" source port ranges match.
  return naivePortMatch(rule.sourcePortRange, undefined) && naivePortMatch(rule.destPortRange, traffic.port);
}

/** The oracle: walk priorities 1..100, each in insertion order; the first match decides. */
function naiveOrder(rules: AclRule[]): AclRule[] {
  const ordered: AclRule[] = [];
  for (let priority = 1; priority <= 100; priority++) {
    for (const rule of rules) if (rule.priority === priority) ordered.push(rule);
  }
  return ordered;
}

function naiveDecision(rules: AclRule[], direction: 'in' | 'out', traffic: Traffic): AclRule | undefined {
  return naiveOrder(rules).find((rule) => naiveMatches(rule, direction, traffic));
}

const ruleArb = fc.record({
  direction: fc.constantFrom('in' as const, 'out' as const),
  policy: fc.constantFrom('accept' as const, 'drop' as const),
  priority: fc.integer({ min: 1, max: 4 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const, 'all' as const),
  sourceCidr: fc.constantFrom('0.0.0.0/0', '172.16.0.0/16', '172.16.0.10/32', '10.0.0.0/8'),
  sourcePortRange: fc.constantFrom('-1/-1', '-1/-1', '1024/65535'),
  destCidr: fc.constantFrom('0.0.0.0/0', '10.1.0.0/16', '10.1.0.10/32', '172.17.0.0/16', '172.16.0.0/12'),
  destPortRange: fc.constantFrom('-1/-1', '22/22', '20/80', '443/443'),
});

const trafficArb = fc.record({
  protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const),
  port: fc.constantFrom(22, 80, 443),
  sourceIp: fc.constantFrom('172.16.0.10', '172.16.3.3', '10.1.0.10'),
  destIp: fc.constantFrom('10.1.0.10', '10.1.0.20', '172.17.0.10', '192.168.0.1'),
});

function withAcl(rules: AclRule[]): Topology {
  const topology = referenceTopology();
  topology.acls.set('acl-p', acl({ id: 'acl-p', name: 'prop', rules }));
  topology.gateways.set('sag-hz', { ...topology.gateways.get('sag-hz')!, aclId: 'acl-p' });
  return topology;
}

describe('gateway ACL: first match in (priority, insertion) order', () => {
  it('the ACL hop decides as the naive oracle does, and names the deciding rule', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 8 }),
        trafficArb,
        fc.constantFrom('in' as const, 'out' as const),
        (specs, traffic, direction) => {
          const rules = specs.map((spec, index) => aclRule({ id: `acl-rule-${index}`, ...spec }));
          const topology = withAcl(rules);
          const hop = aclHop(topology, topology.gateways.get('sag-hz')!, direction, traffic);
          const expected = naiveDecision(rules, direction, traffic);
          expect(hop.verdict).toBe(expected?.policy === 'drop' ? 'block' : 'pass');
          if (expected) expect(hop.reason).toContain(`rule ${expected.id} `);
          else expect(hop.reason).toContain('(default accept)');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the compiled config lists the rules in the oracle order', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 10 }), (specs) => {
        const rules = specs.map((spec, index) => aclRule({ id: `acl-rule-${index}`, ...spec }));
        const config = compileGatewayConfig(withAcl(rules), 'sag-hz', SCENARIO_SETTINGS);
        expect(config.aclRules.map((rule) => rule.id)).toEqual(naiveOrder(rules).map((rule) => rule.id));
      }),
    );
  });
});

describe('single hops', () => {
  it('a gateway with no ACL accepts and says so', () => {
    const hop = aclHop(referenceTopology(), gateway({ id: 'sag-x', name: 'X' }), 'out', {
      protocol: 'udp',
      port: 53,
      sourceIp: '172.16.0.1',
      destIp: '10.1.0.2',
    });
    expect(hop).toEqual({
      kind: 'acl-out',
      resourceId: 'sag-x',
      verdict: 'pass',
      reason: 'gateway sag-x (X) has no ACL: udp/53 out to 10.1.0.2 is accepted',
    });
  });

  it('an ordered gateway needs a device and activation; one without a device is blocked on the device', () => {
    const ordered = gateway({ id: 'sag-o', name: 'Ordered', lifecycle: 'ordered', serialNumber: null });
    expect(gatewayStateHop(ordered, SCENARIO_NOW).reason).toBe(
      'gateway sag-o (Ordered) is not active (lifecycle ordered); bind a device and activate it',
    );
    expect(deviceHop(ordered, () => undefined).reason).toBe('gateway sag-o (Ordered) has no device bound');
  });

  it('a gateway with no private blocks says none are configured', () => {
    expect(branchAddressHop(gateway({ id: 'sag-e', name: 'Empty' }), '172.16.0.1').reason).toBe(
      '172.16.0.1 is not inside any private CIDR block of gateway sag-e (Empty) (none configured)',
    );
  });
});
