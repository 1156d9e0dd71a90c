import { ipInCidr, parsePortRange } from '@opensag/proto';
import type { Instance, Policy, SecurityGroup, SecurityGroupRule, Topology } from './types.js';

/**
 * Security-group evaluation (SPEC §3 "Security groups"): the rules of all of an instance's groups
 * are pooled; among the matching rules the lowest priority number wins and, at equal priority,
 * `drop` wins. With no matching rule, ingress is denied except from members of a shared group and
 * egress is allowed.
 */

export interface SecurityGroupQuery {
  direction: 'ingress' | 'egress';
  protocol: 'tcp' | 'udp' | 'icmp';
  /** The other end: the source for ingress, the destination for egress. */
  peerIp: string;
  /** Ignored for icmp. */
  port?: number;
}

export interface SecurityGroupVerdict {
  policy: Policy;
  /** The rule that decided, or null when a default decided. */
  rule: { securityGroupId: string; rule: SecurityGroupRule } | null;
  reason: string;
}

export function securityGroupRuleMatches(rule: SecurityGroupRule, query: SecurityGroupQuery): boolean {
  if (rule.direction !== query.direction) return false;
  if (rule.protocol !== 'all' && rule.protocol !== query.protocol) return false;
  if (!ipInCidr(query.peerIp, rule.cidr)) return false;
  if (query.protocol === 'icmp') return true;
  const range = parsePortRange(rule.portRange);
  if (!range) return false;
  return range.any || (query.port !== undefined && query.port >= range.from && query.port <= range.to);
}

function describeTraffic(query: SecurityGroupQuery): string {
  const service =
    query.protocol === 'icmp' || query.port === undefined
      ? query.protocol
      : `${query.protocol}/${query.port}`;
  const peer = query.direction === 'ingress' ? `from ${query.peerIp}` : `to ${query.peerIp}`;
  return `${service} ${query.direction} ${peer}`;
}

function describeGroups(groups: readonly SecurityGroup[]): string {
  if (groups.length === 0) return 'no security group';
  const names = groups.map((group) => `${group.id} (${group.name})`).join(', ');
  return groups.length === 1 ? `security group ${names}` : `security groups ${names}`;
}

function describeRule(rule: SecurityGroupRule): string {
  const description = rule.description ? ` "${rule.description}"` : '';
  return (
    `rule ${rule.id}${description} (priority ${rule.priority}, ${rule.policy} ${rule.protocol} ` +
    `${rule.portRange} ${rule.cidr})`
  );
}

function winningRule(groups: readonly SecurityGroup[], query: SecurityGroupQuery) {
  let best: { securityGroupId: string; rule: SecurityGroupRule } | null = null;
  for (const group of groups) {
    for (const rule of group.rules) {
      if (!securityGroupRuleMatches(rule, query)) continue;
      const better =
        !best ||
        rule.priority < best.rule.priority ||
        (rule.priority === best.rule.priority && rule.policy === 'drop' && best.rule.policy === 'accept');
      if (better) best = { securityGroupId: group.id, rule };
    }
  }
  return best;
}

/** An instance other than `instance` that has `ip` and shares a group with it. */
function groupPeer(topology: Topology, instance: Instance, groups: readonly SecurityGroup[], ip: string) {
  const groupIds = new Set(groups.map((group) => group.id));
  for (const other of topology.instances.values()) {
    if (other.id === instance.id || other.vpcId !== instance.vpcId || other.privateIp !== ip) continue;
    const shared = other.securityGroupIds.find((id) => groupIds.has(id));
    if (shared) return { other, shared };
  }
  return undefined;
}

export function evaluateSecurityGroups(
  topology: Topology,
  instance: Instance,
  query: SecurityGroupQuery,
): SecurityGroupVerdict {
  const groups = instance.securityGroupIds
    .map((id) => topology.securityGroups.get(id))
    .filter((group): group is SecurityGroup => group !== undefined);
  const subject = `of instance ${instance.id} (${instance.name})`;
  const traffic = describeTraffic(query);
  const decided = winningRule(groups, query);
  if (decided) {
    const group = groups.find((candidate) => candidate.id === decided.securityGroupId)!;
    const verb = decided.rule.policy === 'accept' ? 'allows' : 'denies';
    return {
      policy: decided.rule.policy,
      rule: decided,
      reason: `${describeGroups([group])} ${subject} ${verb} ${traffic}: ${describeRule(decided.rule)}`,
    };
  }
  if (query.direction === 'egress') {
    return {
      policy: 'accept',
      rule: null,
      reason: `${describeGroups(groups)} ${subject} allows ${traffic}: no rule matches (default egress allow)`,
    };
  }
  const peer = groupPeer(topology, instance, groups, query.peerIp);
  if (peer) {
    const group = groups.find((candidate) => candidate.id === peer.shared)!;
    return {
      policy: 'accept',
      rule: null,
      reason:
        `${describeGroups([group])} ${subject} allows ${traffic}: ${query.peerIp} is instance ` +
        `${peer.other.id} (${peer.other.name}) of the same group (default ingress allow within a group)`,
    };
  }
  const verb = groups.length === 1 ? 'denies' : 'deny';
  return {
    policy: 'drop',
    rule: null,
    reason: `${describeGroups(groups)} ${subject} ${verb} ${traffic}: no rule allows it (default ingress deny)`,
  };
}
