import ipaddr from 'ipaddr.js';

/**
 * The gateway ACL's semantics, shared by the broker (access analysis) and the agent (data plane)
 * so the two ends can never disagree on what a rule means.
 *
 * Rules are evaluated in (priority ascending, insertion order) order; the first rule whose
 * direction, protocol, addresses and ports all match decides. No match means accept.
 */

export type AclDirection = 'in' | 'out';
export type AclPolicy = 'accept' | 'drop';
export type AclProtocol = 'tcp' | 'udp' | 'icmp' | 'all';

export interface AclRuleSpec {
  id?: string;
  name?: string;
  direction: AclDirection;
  policy: AclPolicy;
  priority: number;
  protocol: AclProtocol;
  sourceCidr: string;
  sourcePortRange: string;
  destCidr: string;
  destPortRange: string;
}

export interface Packet {
  direction: AclDirection;
  protocol: 'tcp' | 'udp' | 'icmp';
  sourceIp: string;
  destIp: string;
  /** Ports are ignored for icmp. */
  sourcePort?: number;
  destPort?: number;
}

export interface PortRange {
  /** -1/-1 means any port. */
  any: boolean;
  from: number;
  to: number;
}

export interface AclVerdict<R extends AclRuleSpec = AclRuleSpec> {
  policy: AclPolicy;
  /** The rule that decided, or null when no rule matched (default accept). */
  rule: R | null;
}

const PORT_RANGE = /^(-1|\d{1,5})\/(-1|\d{1,5})$/;

/** Parses `a/b` (1–65535, a ≤ b) or `-1/-1`; returns null when malformed. */
export function parsePortRange(text: string): PortRange | null {
  const match = PORT_RANGE.exec(text);
  if (!match) return null;
  const from = Number(match[1]);
  const to = Number(match[2]);
  if (from === -1 || to === -1) return from === -1 && to === -1 ? { any: true, from: 1, to: 65535 } : null;
  if (from < 1 || to > 65535 || from > to) return null;
  return { any: false, from, to };
}

/** Rules sorted into evaluation order without reordering equal priorities. */
export function inEvaluationOrder<R extends AclRuleSpec>(rules: readonly R[]): R[] {
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => a.rule.priority - b.rule.priority || a.index - b.index)
    .map(({ rule }) => rule);
}

export function ipInCidr(ip: string, cidr: string): boolean {
  try {
    const address = ipaddr.IPv4.parse(ip);
    const [network, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    return address.match(network, prefix);
  } catch {
    return false;
  }
}

function portMatches(range: string, port: number | undefined): boolean {
  const parsed = parsePortRange(range);
  if (!parsed) return false;
  if (parsed.any) return true;
  return port !== undefined && port >= parsed.from && port <= parsed.to;
}

export function aclRuleMatches(rule: AclRuleSpec, packet: Packet): boolean {
  if (rule.direction !== packet.direction) return false;
  if (rule.protocol !== 'all' && rule.protocol !== packet.protocol) return false;
  if (!ipInCidr(packet.sourceIp, rule.sourceCidr) || !ipInCidr(packet.destIp, rule.destCidr)) return false;
  // Ports only mean something for tcp and udp; an icmp packet matches any port range.
  if (packet.protocol === 'icmp') return true;
  return (
    portMatches(rule.sourcePortRange, packet.sourcePort) && portMatches(rule.destPortRange, packet.destPort)
  );
}

/** First match wins in evaluation order; no match accepts. */
export function evaluateAcl<R extends AclRuleSpec>(rules: readonly R[], packet: Packet): AclVerdict<R> {
  for (const rule of inEvaluationOrder(rules)) {
    if (aclRuleMatches(rule, packet)) return { policy: rule.policy, rule };
  }
  return { policy: 'accept', rule: null };
}
