import { createHash } from 'node:crypto';
import { parsePortRange } from '@opensag/proto';
import type { Change, Command } from '../linux/runner.js';
import {
  type EdgeConfig,
  type EdgeInstance,
  type EdgeSecurityGroupRule,
  vpcOfAddress,
} from './edgeConfig.js';
import { EDGE_INTERFACE } from './edgeWireguard.js';

/** The one nftables table the edge's security groups live in; nothing else in the ruleset is touched. */
export const SECURITY_GROUP_TABLE = 'inet opensag_edge';

/** What one nft rule matches; every field present must match. */
export interface NftMatch {
  /** `ct state established,related`: a flow is judged by its first packet. */
  established?: true;
  iifname?: string;
  /** Any of these addresses or blocks. */
  saddr?: string[];
  daddr?: string[];
  l4?: 'tcp' | 'udp' | 'icmp' | 'tcp+udp';
  /** Only with l4 tcp, udp or tcp+udp. */
  dport?: { from: number; to: number };
}

export type NftVerdict = 'accept' | 'drop' | 'return' | { jump: string };

export interface NftRule {
  match: NftMatch;
  verdict: NftVerdict;
  /** Every rule carries one, so a read-back can compare chains rule by rule. */
  comment: string;
}

export interface NftChain {
  name: string;
  rules: NftRule[];
}

export interface RenderedSecurityGroups {
  /** `forward` first (the hooked chain), then one ingress and one egress chain per instance. */
  chains: NftChain[];
  /** The `table inet opensag_edge { … }` definition. */
  text: string;
  /** sha256 of the chains' text, stored as the table's comment. */
  fingerprint: string;
}

/** Evaluation order of SPEC §3: lowest priority number first; at equal priority drop before accept. */
export function inSecurityGroupOrder<R extends Pick<EdgeSecurityGroupRule, 'priority' | 'policy'>>(
  rules: readonly R[],
): R[] {
  const rank = (rule: R) => rule.priority * 2 + (rule.policy === 'drop' ? 0 : 1);
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => rank(a.rule) - rank(b.rule) || a.index - b.index)
    .map(({ rule }) => rule);
}

/**
 * The nft rules for one security-group rule. An egress accept is `return`: the packet still meets
 * the destination instance's ingress rules. `all` with a port range matches tcp and udp on those
 * ports and any icmp, as the broker's `securityGroupRuleMatches` does.
 */
export function renderSecurityGroupRule(groupId: string, rule: EdgeSecurityGroupRule): NftRule[] {
  const peer: NftMatch = rule.direction === 'ingress' ? { saddr: [rule.cidr] } : { daddr: [rule.cidr] };
  const verdict: NftVerdict =
    rule.direction === 'egress' && rule.policy === 'accept' ? 'return' : rule.policy;
  const comment = `${groupId}/${rule.id} priority ${rule.priority} ${rule.policy}`;
  const range = parsePortRange(rule.portRange);
  const dport = range && !range.any ? { dport: { from: range.from, to: range.to } } : {};
  const rule1 = (match: NftMatch): NftRule => ({ match: { ...peer, ...match }, verdict, comment });
  switch (rule.protocol) {
    case 'icmp':
      return [rule1({ l4: 'icmp' })];
    case 'tcp':
    case 'udp':
      return [rule1({ l4: rule.protocol, ...dport })];
    case 'all':
      return 'dport' in dport ? [rule1({ l4: 'tcp+udp', ...dport }), rule1({ l4: 'icmp' })] : [rule1({})];
  }
}

function pooledRules(config: EdgeConfig, instance: EdgeInstance) {
  const groups = new Map(config.securityGroups.map((group) => [group.id, group]));
  return [...new Set(instance.securityGroupIds)].flatMap((id) =>
    (groups.get(id)?.rules ?? []).map((rule) => ({ ...rule, groupId: id })),
  );
}

/** Other instances of the same VPC sharing a group, by the link they arrive on (no spoofing from a branch). */
function groupPeerRules(config: EdgeConfig, instance: EdgeInstance): NftRule[] {
  const vpc = vpcOfAddress(config, instance.privateIp);
  if (!vpc) return [];
  const groups = new Set(instance.securityGroupIds);
  const peers = config.instances.filter(
    (other) =>
      other.instanceId !== instance.instanceId &&
      other.privateIp !== instance.privateIp &&
      vpcOfAddress(config, other.privateIp)?.vpcId === vpc.vpcId &&
      other.securityGroupIds.some((id) => groups.has(id)),
  );
  if (peers.length === 0) return [];
  return [
    {
      match: { iifname: vpc.interface, saddr: peers.map((peer) => peer.privateIp) },
      verdict: 'accept',
      comment: `instance ${instance.instanceId}: default ingress allow within a group`,
    },
  ];
}

function instanceChains(config: EdgeConfig, instance: EdgeInstance, index: number): NftChain[] {
  const ordered = inSecurityGroupOrder(pooledRules(config, instance));
  const rendered = (direction: 'ingress' | 'egress') =>
    ordered
      .filter((rule) => rule.direction === direction)
      .flatMap((rule) => renderSecurityGroupRule(rule.groupId, rule));
  return [
    {
      name: `ingress_${index}`,
      rules: [
        ...rendered('ingress'),
        ...groupPeerRules(config, instance),
        { match: {}, verdict: 'drop', comment: `instance ${instance.instanceId}: default ingress deny` },
      ],
    },
    { name: `egress_${index}`, rules: rendered('egress') },
  ];
}

/**
 * A packet from a gateway's tunnel may go only where that gateway's own routes go (its CEN): a
 * branch that routes more into its tunnel than its config says gets it dropped here.
 */
function peerChains(config: EdgeConfig): { jumps: NftRule[]; chains: NftChain[] } {
  const sets = config.routeSets ?? [];
  const chainOf = new Map(sets.map((set, index) => [set.id, `routes_${index}`]));
  const jumps = config.peers
    .filter((peer) => peer.routeSet !== undefined && chainOf.has(peer.routeSet))
    .sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : 1))
    .map(
      (peer): NftRule => ({
        match: { iifname: EDGE_INTERFACE, saddr: peer.allowedIps },
        verdict: { jump: chainOf.get(peer.routeSet as string) as string },
        comment: `gateway ${peer.gatewayId} routes`,
      }),
    );
  const chains = sets.map((set, index): NftChain => {
    const rules: NftRule[] = set.destinations.length
      ? [{ match: { daddr: set.destinations }, verdict: 'return', comment: `route set ${set.id}` }]
      : [];
    rules.push({ match: {}, verdict: 'drop', comment: `no route of set ${set.id} goes there` });
    return { name: `routes_${index}`, rules };
  });
  return { jumps, chains };
}

/**
 * The edge's forward path as abstract chains: established flows pass; a packet from a gateway's
 * tunnel must be headed where that gateway's routes go; a packet from an instance meets its
 * egress rules (drop ends it, accept returns), then a packet to an instance meets that instance's
 * ingress rules; anything else (branch to branch) passes.
 */
export function securityGroupChains(config: EdgeConfig): NftChain[] {
  const instances = [...config.instances].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  const peers = peerChains(config);
  const forward: NftRule[] = [
    { match: { established: true }, verdict: 'accept', comment: 'established flows' },
    ...peers.jumps,
  ];
  instances.forEach((instance, index) => {
    forward.push({
      match: { saddr: [instance.privateIp] },
      verdict: { jump: `egress_${index}` },
      comment: `instance ${instance.instanceId} egress`,
    });
  });
  instances.forEach((instance, index) => {
    forward.push({
      match: { daddr: [instance.privateIp] },
      verdict: { jump: `ingress_${index}` },
      comment: `instance ${instance.instanceId} ingress`,
    });
  });
  return [
    { name: 'forward', rules: forward },
    ...peers.chains,
    ...instances.flatMap((instance, i) => instanceChains(config, instance, i)),
  ];
}

function quote(text: string): string {
  // nft strings have no escapes; keep them printable and short.
  return `"${text.replace(/["\\\n\r\t]/g, ' ').slice(0, 120)}"`;
}

const addresses = (list: string[]) => (list.length === 1 ? list[0] : `{ ${list.join(', ')} }`);
const ports = (range: { from: number; to: number }) =>
  range.from === range.to ? `${range.from}` : `${range.from}-${range.to}`;

function l4Text(match: NftMatch): string[] {
  if (!match.l4) return [];
  if (match.l4 === 'icmp') return ['meta l4proto icmp'];
  if (match.l4 === 'tcp+udp')
    return ['meta l4proto { tcp, udp }', ...(match.dport ? [`th dport ${ports(match.dport)}`] : [])];
  // `tcp dport 22` implies the protocol.
  return [match.dport ? `${match.l4} dport ${ports(match.dport)}` : `meta l4proto ${match.l4}`];
}

export function nftRuleText(rule: NftRule): string {
  const { match, verdict } = rule;
  return [
    ...(match.established ? ['ct state established,related'] : []),
    ...(match.iifname ? [`iifname ${quote(match.iifname)}`] : []),
    ...(match.saddr ? [`ip saddr ${addresses(match.saddr)}`] : []),
    ...(match.daddr ? [`ip daddr ${addresses(match.daddr)}`] : []),
    ...l4Text(match),
    typeof verdict === 'string' ? verdict : `jump ${verdict.jump}`,
    `comment ${quote(rule.comment)}`,
  ].join(' ');
}

/** The security groups as one nftables table (text and abstract chains). */
export function renderSecurityGroups(config: EdgeConfig): RenderedSecurityGroups {
  const chains = securityGroupChains(config);
  const body = chains
    .flatMap((chain) => [
      `  chain ${chain.name} {`,
      ...(chain.name === 'forward' ? ['    type filter hook forward priority filter; policy accept;'] : []),
      ...chain.rules.map((rule) => `    ${nftRuleText(rule)}`),
      '  }',
    ])
    .join('\n');
  const fingerprint = createHash('sha256').update(body).digest('hex').slice(0, 32);
  return {
    chains,
    text: `table ${SECURITY_GROUP_TABLE} {\n  comment "opensag-edge ${fingerprint}"\n${body}\n}\n`,
    fingerprint,
  };
}

/** One `nft -f -` transaction: create-if-missing, delete, define; the swap is atomic. */
export function securityGroupBatch(rendered: RenderedSecurityGroups | null): Command {
  const head = `add table ${SECURITY_GROUP_TABLE}\ndelete table ${SECURITY_GROUP_TABLE}\n`;
  return { cmd: 'nft', args: ['-f', '-'], input: rendered ? `${head}${rendered.text}` : head };
}

export function readSecurityGroupsCommand(): Command {
  return { cmd: 'nft', args: ['list', 'table', ...SECURITY_GROUP_TABLE.split(' ')] };
}

/** What `nft list table inet opensag_edge` shows, reduced to what the read-back compares. */
export interface InstalledSecurityGroups {
  fingerprint: string | null;
  /** Rule comments per chain, in order. */
  chains: Record<string, string[]>;
}

export function parseSecurityGroupListing(text: string): InstalledSecurityGroups | null {
  if (!/^table inet opensag_edge \{/m.test(text)) return null;
  const fingerprint = /^\s*comment "opensag-edge ([0-9a-f]+)"/m.exec(text)?.[1] ?? null;
  const chains: Record<string, string[]> = {};
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const chain = /^\s*chain (\S+) \{/.exec(line);
    if (chain) current = chains[chain[1]] = [];
    else if (/^\s*\}/.test(line)) current = null;
    else if (current && !/^\s*type /.test(line)) {
      const comment = /comment "([^"]*)"\s*$/.exec(line);
      current.push(comment ? comment[1] : '(uncommented rule)');
    }
  }
  return { fingerprint, chains };
}

function difference(
  rendered: RenderedSecurityGroups,
  installed: InstalledSecurityGroups | null,
): string | null {
  if (!installed) return `nftables table ${SECURITY_GROUP_TABLE} is missing`;
  if (installed.fingerprint !== rendered.fingerprint)
    return `nftables table ${SECURITY_GROUP_TABLE} holds ruleset ${installed.fingerprint ?? '(unmarked)'}, want ${rendered.fingerprint}`;
  const want = Object.fromEntries(
    rendered.chains.map((c) => [c.name, c.rules.map((r) => quote(r.comment).slice(1, -1))]),
  );
  for (const name of new Set([...Object.keys(want), ...Object.keys(installed.chains)])) {
    const have = installed.chains[name] ?? [];
    const wanted = want[name] ?? [];
    if (have.join('\n') !== wanted.join('\n'))
      return `nftables chain ${name} of ${SECURITY_GROUP_TABLE} holds rules [${have.join(', ')}], want [${wanted.join(', ')}]`;
  }
  return null;
}

/** The change that brings the installed table to `rendered` (none when it already matches). */
export function planSecurityGroups(
  rendered: RenderedSecurityGroups | null,
  installed: InstalledSecurityGroups | null,
): Change[] {
  if (rendered === null)
    return installed
      ? [
          {
            reason: `nftables table ${SECURITY_GROUP_TABLE} is installed but not configured`,
            commands: [securityGroupBatch(null)],
          },
        ]
      : [];
  const reason = difference(rendered, installed);
  return reason ? [{ reason, commands: [securityGroupBatch(rendered)] }] : [];
}
