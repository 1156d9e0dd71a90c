import {
  type EdgeInstanceConfig,
  type EdgePeerConfig,
  type EdgeSecurityGroupConfig,
  type EdgeSecurityGroupRuleConfig,
  type EdgeSettings,
  type EdgeVpcConfig,
  parsePortRange,
} from '@opensag/proto';
import { blocksOverlap, type Ipv4Block, parseCidr, parseIpv4 } from '../../ipv4.js';

/** One branch gateway terminated on the edge: its tunnel key and the branch blocks behind it. */
export type EdgePeer = EdgePeerConfig;
export type EdgeInstance = EdgeInstanceConfig;
/** A security-group rule as SPEC §3 defines it (the broker's SecurityGroupRule without bookkeeping). */
export type EdgeSecurityGroupRule = EdgeSecurityGroupRuleConfig;
export type EdgeSecurityGroup = EdgeSecurityGroupConfig;

/** A VPC the edge reaches over a local link (a veth or a cloud interface). */
export interface EdgeVpc extends EdgeVpcConfig {
  /** The link toward the VPC; traffic to and from its instances crosses it. */
  interface: string;
}

/**
 * What an access point ("edge") applies: the broker's EdgeSettings with each VPC's local link
 * resolved (see vpcInterfaces.ts).
 */
export interface EdgeConfig extends Omit<EdgeSettings, 'vpcs'> {
  vpcs: EdgeVpc[];
}

const WG_KEY = /^[A-Za-z0-9+/]{43}=$/;
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
const PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'all']);

function blocks(list: readonly string[], field: string, errors: string[]): Ipv4Block[] {
  const parsed: Ipv4Block[] = [];
  list.forEach((text, index) => {
    const block = parseCidr(text);
    if (block) parsed.push(block);
    else errors.push(`${field}[${index}] ${JSON.stringify(text)} is not a canonical IPv4 CIDR block`);
  });
  return parsed;
}

function validateRouteSets(config: Pick<EdgeSettings, 'routeSets'>, errors: string[]): void {
  const ids = new Set<string>();
  (config.routeSets ?? []).forEach((set, index) => {
    const field = `routeSets[${index}] (${set.id})`;
    if (ids.has(set.id)) errors.push(`${field}.id is listed twice`);
    ids.add(set.id);
    blocks(set.destinations, `${field}.destinations`, errors);
  });
}

function validatePeers(config: Pick<EdgeSettings, 'peers' | 'routeSets'>, errors: string[]): void {
  const owners: { block: Ipv4Block; gatewayId: string }[] = [];
  const keys = new Map<string, string>();
  config.peers.forEach((peer, index) => {
    const field = `peers[${index}] (gateway ${peer.gatewayId})`;
    if (!WG_KEY.test(peer.publicKey)) errors.push(`${field}.publicKey is not a base64 WireGuard key`);
    const other = keys.get(peer.publicKey);
    if (other) errors.push(`${field}.publicKey is also the key of gateway ${other}`);
    keys.set(peer.publicKey, peer.gatewayId);
    if (peer.routeSet !== undefined && !config.routeSets?.some((set) => set.id === peer.routeSet))
      errors.push(`${field}.routeSet ${peer.routeSet} is not in routeSets`);
    for (const block of blocks(peer.allowedIps, `${field}.allowedIps`, errors)) {
      // WireGuard hands a block to one peer only; an overlap would steal another branch's replies.
      const clash = owners.find((owner) => blocksOverlap(owner.block, block));
      if (clash)
        errors.push(
          `${field}.allowedIps ${block.text} overlaps ${clash.block.text} of gateway ${clash.gatewayId}`,
        );
      owners.push({ block, gatewayId: peer.gatewayId });
    }
  });
}

function validateRule(rule: EdgeSecurityGroupRule, field: string, errors: string[]): void {
  if (rule.direction !== 'ingress' && rule.direction !== 'egress')
    errors.push(`${field}.direction must be ingress or egress`);
  if (rule.policy !== 'accept' && rule.policy !== 'drop')
    errors.push(`${field}.policy must be accept or drop`);
  if (!Number.isInteger(rule.priority) || rule.priority < 1 || rule.priority > 100)
    errors.push(`${field}.priority ${rule.priority} is not an integer from 1 to 100`);
  if (!PROTOCOLS.has(rule.protocol)) errors.push(`${field}.protocol must be tcp, udp, icmp or all`);
  if (!parsePortRange(rule.portRange))
    errors.push(`${field}.portRange ${rule.portRange} is not a/b or -1/-1`);
  if (!parseCidr(rule.cidr)) errors.push(`${field}.cidr ${rule.cidr} is not a canonical IPv4 CIDR block`);
}

/** The VPC whose blocks hold `ip`, if any. */
export function vpcOfAddress<V extends { cidrBlocks: string[] }>(
  config: { vpcs: readonly V[] },
  ip: string,
): V | undefined {
  const address = parseIpv4(ip);
  if (address === null) return undefined;
  return config.vpcs.find((vpc) =>
    vpc.cidrBlocks.some((text) => {
      const block = parseCidr(text);
      return block !== null && address >= block.first && address <= block.last;
    }),
  );
}

function validateInstances(config: EdgeSettings, errors: string[]): void {
  const groups = new Set(config.securityGroups.map((group) => group.id));
  const addresses = new Map<string, string>();
  config.instances.forEach((instance, index) => {
    const field = `instances[${index}] (instance ${instance.instanceId})`;
    if (parseIpv4(instance.privateIp) === null)
      errors.push(`${field}.privateIp ${instance.privateIp} is not an IPv4 address`);
    else if (!vpcOfAddress(config, instance.privateIp))
      errors.push(`${field}.privateIp ${instance.privateIp} is in no VPC's cidrBlocks`);
    const other = addresses.get(instance.privateIp);
    if (other)
      errors.push(`${field}.privateIp ${instance.privateIp} is also the address of instance ${other}`);
    addresses.set(instance.privateIp, instance.instanceId);
    const ids = instance.securityGroupIds;
    if (ids.length < 1 || ids.length > 5)
      errors.push(`${field}.securityGroupIds has ${ids.length} groups, want 1 to 5`);
    if (new Set(ids).size !== ids.length) errors.push(`${field}.securityGroupIds lists a group twice`);
    for (const id of ids)
      if (!groups.has(id))
        errors.push(`${field}.securityGroupIds names ${id}, which is not in securityGroups`);
  });
}

/** Every problem with an edge config, one sentence each naming the field; empty when it can be applied. */
export function validateEdgeConfig(config: EdgeConfig): string[] {
  return validateEdge(config, true);
}

/**
 * The same rules for the edge section as the broker sends it, before each VPC's interface is
 * resolved on the machine (so everything but the interface names).
 */
export function validateEdgeSettings(settings: EdgeSettings): string[] {
  return validateEdge(settings, false);
}

function validateEdge(config: EdgeSettings | EdgeConfig, withInterfaces: boolean): string[] {
  const errors: string[] = [];
  if (!Number.isInteger(config.listenPort) || config.listenPort < 1 || config.listenPort > 65535)
    errors.push(`listenPort ${config.listenPort} is not a port from 1 to 65535`);
  validateRouteSets(config, errors);
  validatePeers(config, errors);
  config.vpcs.forEach((vpc, index) => {
    const field = `vpcs[${index}] (vpc ${vpc.vpcId})`;
    const name = (vpc as Partial<EdgeVpc>).interface;
    if (withInterfaces && (typeof name !== 'string' || !INTERFACE_NAME.test(name)))
      errors.push(`${field}.interface ${JSON.stringify(name)} is not an interface name`);
    blocks(vpc.cidrBlocks, `${field}.cidrBlocks`, errors);
  });
  validateInstances(config, errors);
  const seen = new Set<string>();
  config.securityGroups.forEach((group, index) => {
    if (seen.has(group.id)) errors.push(`securityGroups[${index}].id ${group.id} is listed twice`);
    seen.add(group.id);
    group.rules.forEach((rule, r) => {
      validateRule(rule, `securityGroups[${index}] (${group.id}).rules[${r}] (${rule.id})`, errors);
    });
  });
  return errors;
}
