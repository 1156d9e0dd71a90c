import { ipInCidr, parsePortRange } from '@opensag/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EdgeConfig, EdgeInstance, EdgeSecurityGroup, EdgeSecurityGroupRule } from './edgeConfig.js';
import { edgeConfig } from './sampleEdgeConfig.js';
import {
  type NftChain,
  type NftMatch,
  nftRuleText,
  parseSecurityGroupListing,
  planSecurityGroups,
  renderSecurityGroups,
} from './securityGroupsNft.js';

interface Packet {
  iif: string;
  saddr: string;
  daddr: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  port: number;
}

/** Runs a new packet through the abstract chains as nft would: first match decides, jumps return. */
function nftVerdict(chains: NftChain[], packet: Packet): 'accept' | 'drop' {
  const byName = new Map(chains.map((chain) => [chain.name, chain]));
  const matches = (m: NftMatch) =>
    !m.established &&
    (m.iifname === undefined || m.iifname === packet.iif) &&
    (m.saddr === undefined || m.saddr.some((c) => ipInCidr(packet.saddr, c.includes('/') ? c : `${c}/32`))) &&
    (m.daddr === undefined || m.daddr.some((c) => ipInCidr(packet.daddr, c.includes('/') ? c : `${c}/32`))) &&
    (m.l4 === undefined || m.l4 === packet.protocol || (m.l4 === 'tcp+udp' && packet.protocol !== 'icmp')) &&
    (m.dport === undefined ||
      (packet.protocol !== 'icmp' && packet.port >= m.dport.from && packet.port <= m.dport.to));
  const run = (name: string): 'accept' | 'drop' | 'return' => {
    for (const rule of byName.get(name)!.rules) {
      if (!matches(rule.match)) continue;
      if (typeof rule.verdict === 'string') return rule.verdict;
      const inner = run(rule.verdict.jump);
      if (inner !== 'return') return inner;
    }
    return 'return';
  };
  const verdict = run('forward');
  return verdict === 'return' ? 'accept' : verdict;
}

// SPEC §3 restated on its own (not imported from the broker): pooled rules, lowest priority wins,
// drop wins ties; no match: ingress only from a member of a shared group, egress allowed.
function ruleMatches(rule: EdgeSecurityGroupRule, direction: string, peer: string, packet: Packet) {
  if (rule.direction !== direction) return false;
  if (rule.protocol !== 'all' && rule.protocol !== packet.protocol) return false;
  if (!ipInCidr(peer, rule.cidr)) return false;
  if (packet.protocol === 'icmp') return true;
  const range = parsePortRange(rule.portRange)!;
  return range.any || (packet.port >= range.from && packet.port <= range.to);
}

function groupVerdict(
  config: EdgeConfig,
  instance: EdgeInstance,
  direction: string,
  peer: string,
  packet: Packet,
) {
  let best: EdgeSecurityGroupRule | null = null;
  for (const group of config.securityGroups.filter((g) => instance.securityGroupIds.includes(g.id)))
    for (const rule of group.rules) {
      if (!ruleMatches(rule, direction, peer, packet)) continue;
      if (
        !best ||
        rule.priority < best.priority ||
        (rule.priority === best.priority && rule.policy === 'drop')
      )
        best = rule;
    }
  return best?.policy ?? null;
}

function expectedVerdict(config: EdgeConfig, vpcOf: (ip: string) => string | undefined, packet: Packet) {
  const source = config.instances.find((i) => i.privateIp === packet.saddr);
  const dest = config.instances.find((i) => i.privateIp === packet.daddr);
  if (source && groupVerdict(config, source, 'egress', packet.daddr, packet) === 'drop') return 'drop';
  if (!dest) return 'accept';
  const decided = groupVerdict(config, dest, 'ingress', packet.saddr, packet);
  if (decided) return decided;
  const shares =
    source !== undefined &&
    source.instanceId !== dest.instanceId &&
    vpcOf(source.privateIp) === vpcOf(dest.privateIp) &&
    source.securityGroupIds.some((id) => dest.securityGroupIds.includes(id));
  return shares ? 'accept' : 'drop';
}

const VPCS = [
  { vpcId: 'vpc-a', cidrBlocks: ['10.1.0.0/24'], interface: 'vpc-a0' },
  { vpcId: 'vpc-b', cidrBlocks: ['10.2.0.0/24'], interface: 'vpc-b0' },
];
const INSTANCE_IPS = ['10.1.0.10', '10.1.0.11', '10.1.0.12', '10.2.0.10', '10.2.0.11'];
const BRANCH_IPS = ['172.16.0.5', '172.16.1.9', '192.168.3.4'];
const vpcOf = (ip: string) => VPCS.find((v) => ipInCidr(ip, v.cidrBlocks[0]))?.vpcId;

const ruleArb = fc.record({
  id: fc.constantFrom('r1', 'r2', 'r3'),
  direction: fc.constantFrom('ingress' as const, 'egress' as const),
  policy: fc.constantFrom('accept' as const, 'drop' as const),
  priority: fc.integer({ min: 1, max: 4 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const, 'all' as const),
  portRange: fc.constantFrom('-1/-1', '22/22', '20/80', '443/443'),
  cidr: fc.constantFrom(
    '0.0.0.0/0',
    '172.16.0.0/16',
    '172.16.1.0/24',
    '10.1.0.0/24',
    '10.2.0.10/32',
    '192.168.3.0/24',
  ),
});
const groupsArb = fc
  .array(fc.array(ruleArb, { maxLength: 5 }), { minLength: 1, maxLength: 3 })
  .map((lists) => lists.map((rules, g): EdgeSecurityGroup => ({ id: `sg-${g}`, rules })));
const configArb = groupsArb.chain((groups) =>
  fc
    .array(
      fc.record({
        ip: fc.constantFrom(...INSTANCE_IPS),
        groups: fc.subarray(
          groups.map((g) => g.id),
          { minLength: 1 },
        ),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((list): EdgeConfig => {
      const unique = [...new Map(list.map((i) => [i.ip, i])).values()];
      return {
        listenPort: 51820,
        peers: [],
        vpcs: VPCS,
        instances: unique.map((i, n) => ({
          instanceId: `i-${n}`,
          privateIp: i.ip,
          securityGroupIds: i.groups,
        })),
        securityGroups: groups,
      };
    }),
);
const packetArb = fc.record({
  saddr: fc.constantFrom(...INSTANCE_IPS, ...BRANCH_IPS),
  daddr: fc.constantFrom(...INSTANCE_IPS, ...BRANCH_IPS),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'icmp' as const),
  port: fc.constantFrom(22, 23, 80, 443, 8080),
});

describe('security groups in nftables', () => {
  it('gives every packet the verdict of the SPEC §3 security-group semantics', () => {
    fc.assert(
      fc.property(configArb, packetArb, (config, p) => {
        const iif = VPCS.find((v) => vpcOf(p.saddr) === v.vpcId)?.interface ?? 'sag-edge0';
        const packet = { ...p, iif };
        const { chains } = renderSecurityGroups(config);
        expect(nftVerdict(chains, packet)).toBe(expectedVerdict(config, vpcOf, packet));
      }),
      { numRuns: 3000 },
    );
  });

  const config: EdgeConfig = {
    listenPort: 51820,
    peers: [],
    vpcs: VPCS,
    instances: [
      { instanceId: 'i-web', privateIp: '10.1.0.10', securityGroupIds: ['sg-web'] },
      { instanceId: 'i-db', privateIp: '10.1.0.11', securityGroupIds: ['sg-web'] },
    ],
    securityGroups: [
      {
        id: 'sg-web',
        rules: [
          {
            id: 'r-ssh',
            direction: 'ingress',
            policy: 'accept',
            priority: 10,
            protocol: 'tcp',
            portRange: '22/22',
            cidr: '172.16.0.0/16',
          },
          {
            id: 'r-deny',
            direction: 'ingress',
            policy: 'drop',
            priority: 10,
            protocol: 'all',
            portRange: '20/80',
            cidr: '172.16.9.0/24',
          },
          {
            id: 'r-out',
            direction: 'egress',
            policy: 'accept',
            priority: 5,
            protocol: 'icmp',
            portRange: '-1/-1',
            cidr: '0.0.0.0/0',
          },
        ],
      },
    ],
  };

  it('renders drop before accept at equal priority, egress accept as return, and a default deny', () => {
    const { text } = renderSecurityGroups(config);
    const ingress = text.slice(text.indexOf('chain ingress_1'));
    expect(ingress.indexOf('r-deny')).toBeLessThan(ingress.indexOf('r-ssh'));
    expect(text).toContain(
      'ip saddr 172.16.9.0/24 meta l4proto { tcp, udp } th dport 20-80 drop comment "sg-web/r-deny priority 10 drop"',
    );
    expect(text).toContain('ip saddr 172.16.9.0/24 meta l4proto icmp drop');
    expect(text).toContain(
      'ip saddr 172.16.0.0/16 tcp dport 22 accept comment "sg-web/r-ssh priority 10 accept"',
    );
    expect(text).toContain('ip daddr 0.0.0.0/0 meta l4proto icmp return');
    expect(text).toContain('iifname "vpc-a0" ip saddr 10.1.0.11 accept');
    expect(text).toMatch(
      /ct state established,related accept comment "established flows"\n\s+ip saddr 10.1.0.11 jump egress_0/,
    );
    expect(text).toContain('drop comment "instance i-web: default ingress deny"');
  });

  it('changes nothing when the listed table matches and replaces it atomically otherwise', () => {
    const rendered = renderSecurityGroups(config);
    expect(planSecurityGroups(rendered, null)[0].commands[0].input).toMatch(
      /^add table inet opensag_edge\ndelete table inet opensag_edge\ntable inet opensag_edge \{/,
    );
    // What `nft list table` prints: the same chains, reformatted, with the type line and comments.
    const listing = rendered.text.replace(/\{ tcp, udp \}/g, '{ tcp, udp }').replace(/^ {2}/gm, '\t');
    const installed = parseSecurityGroupListing(listing);
    expect(planSecurityGroups(rendered, installed)).toEqual([]);
    const tampered = parseSecurityGroupListing(listing.replace(/\n.*r-ssh.*\n/, '\n'));
    expect(planSecurityGroups(rendered, tampered)[0].reason).toContain('nftables chain ingress_');
    expect(planSecurityGroups(null, installed)[0].reason).toContain('installed but not configured');
    expect(planSecurityGroups(null, null)).toEqual([]);
  });

  it('drops what a gateway sends from its tunnel past its own routes, and nothing else', () => {
    const config = edgeConfig({
      peers: [
        {
          gatewayId: 'sag-hz',
          publicKey: `${'A'.repeat(43)}=`,
          allowedIps: ['172.16.0.0/16'],
          routeSet: 'routes-1',
        },
        {
          gatewayId: 'sag-wz',
          publicKey: `${'C'.repeat(43)}=`,
          allowedIps: ['172.20.0.0/16'],
          routeSet: 'routes-2',
        },
      ],
      routeSets: [
        { id: 'routes-1', destinations: ['10.1.0.0/16'] },
        { id: 'routes-2', destinations: [] },
      ],
      securityGroups: [{ id: 'sg-web', rules: [] }],
      instances: [],
    });
    const { chains, text } = renderSecurityGroups(config);
    const from = (saddr: string, daddr: string, iif = 'sag-edge0') =>
      nftVerdict(chains, { iif, saddr, daddr, protocol: 'tcp', port: 80 });
    expect(from('172.16.0.10', '10.1.0.10')).toBe('accept');
    expect(from('172.16.0.10', '10.2.0.10')).toBe('drop');
    expect(from('172.20.0.10', '10.1.0.10')).toBe('drop');
    // Replies from a VPC come in on its link, not the tunnel.
    expect(from('10.2.0.10', '172.16.0.10', 'vpc0')).toBe('accept');
    expect(text).toContain('iifname "sag-edge0" ip saddr 172.16.0.0/16 jump routes_0');
    expect(text).toContain('ip daddr 10.1.0.0/16 return');
    // A config from before the field: no filter for that peer.
    const legacy = renderSecurityGroups(
      edgeConfig({ securityGroups: [{ id: 'sg-web', rules: [] }], instances: [] }),
    );
    expect(legacy.chains.map((chain) => chain.name)).toEqual(['forward']);
  });

  it('writes tcp/udp port ranges without a separate protocol match', () => {
    expect(
      nftRuleText({
        match: { daddr: ['10.0.0.0/8'], l4: 'udp', dport: { from: 53, to: 53 } },
        verdict: 'drop',
        comment: 'x',
      }),
    ).toBe('ip daddr 10.0.0.0/8 udp dport 53 drop comment "x"');
  });
});
