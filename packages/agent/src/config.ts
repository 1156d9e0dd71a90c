import {
  type AclRuleSpec,
  type AgentRole,
  type EdgeSettings,
  KEEPALIVE_LIMITS,
  type KeepaliveSettings,
  LIMITS,
  parsePortRange,
  type RouteEntry,
  type TunnelConfig,
} from '@opensag/proto';
import { validateEdgeSection } from './edgeSettings.js';
import { parseCidr } from './ipv4.js';
import { type DevicePorts, isRecord, validatePorts } from './ports/validatePorts.js';

export type { EdgeSettings, KeepaliveSettings, RouteEntry, TunnelConfig } from '@opensag/proto';
export type { DevicePorts, LanPortConfig, WanPortConfig } from './ports/validatePorts.js';

/**
 * The configuration a gateway receives from the broker: the compiler's GatewayConfig plus the
 * revision and content hash the broker pushed it with. Plain data, persisted as last-known-good.
 */
export interface DeviceConfig {
  revision: number;
  hash: string;
  gatewayId: string;
  serialNumber: string | null;
  ports: DevicePorts;
  privateCidrs: string[];
  tunnels: TunnelConfig[];
  keepalive: KeepaliveSettings;
  /** Only active routes; sorted by destination. */
  routes: RouteEntry[];
  /** ACL rules in evaluation order (priority, then insertion). */
  aclRules: AclRule[];
  aclId: string | null;
  /** Only in an access point's config: the branch tunnels it terminates and the VPCs it guards. */
  edge?: EdgeSettings;
}

export interface AclRule extends AclRuleSpec {
  id: string;
  name?: string;
  createdAt?: string;
}

/** Inclusive bounds the agent accepts for keepalive settings. */
export { KEEPALIVE_LIMITS };

/** Branch private blocks: /8 to /31 (SPEC §3). */
const PRIVATE_PREFIX = { min: 8, max: 31 };

/** What a config must look like for this device. */
export interface DeviceConfigRules {
  /**
   * `branch` (the default): 1–2 tunnels and no `edge` section. `edge` (an access point): an
   * `edge` section, and no ports, private blocks, tunnels, routes or ACL of its own.
   */
  role?: AgentRole;
  /** An access point's probe port; its `edge.listenPort` must be this + 1. */
  probePort?: number;
}

/**
 * Every problem with a config, each naming its field (`tunnels[1].address: ...`); empty when the
 * config can be applied. Defensive: the input may come off the wire or from disk.
 */
export function validateDeviceConfig(config: unknown, rules: DeviceConfigRules = {}): string[] {
  const errors: string[] = [];
  if (!isRecord(config)) return ['config: not an object'];
  if (!Number.isSafeInteger(config.revision) || (config.revision as number) < 1) {
    errors.push(`revision: ${String(config.revision)} is not a positive integer`);
  } else if ((config.revision as number) > LIMITS.maxDeviceRevision) {
    // Applied, it could never be reported: every later hello and ack would fail to encode.
    errors.push(
      `revision: ${String(config.revision)} is above ${LIMITS.maxDeviceRevision}, the highest a device can report`,
    );
  }
  if (typeof config.hash !== 'string' || config.hash === '') errors.push('hash: missing');
  if (typeof config.gatewayId !== 'string' || config.gatewayId === '') errors.push('gatewayId: missing');
  if (config.serialNumber !== null && typeof config.serialNumber !== 'string') {
    errors.push('serialNumber: must be a string or null');
  }
  if (config.aclId !== null && typeof config.aclId !== 'string')
    errors.push('aclId: must be a string or null');
  validatePorts(config.ports, errors);
  validatePrivateCidrs(config.privateCidrs, errors);
  if (rules.role !== 'edge') validateTunnels(config.tunnels, errors);
  validateKeepalive(config.keepalive, errors);
  validateRoutes(config.routes, errors);
  validateAclRules(config.aclRules, errors);
  if (rules.role === 'edge') validateAccessPoint(config, rules.probePort, errors);
  else if (config.edge !== undefined) {
    errors.push(
      'edge: this device runs in the branch role, and this config (with an edge section) is for an access point; run the access point with --role edge',
    );
  }
  return errors;
}

/** An access point terminates tunnels and guards VPCs; anything a branch would install is refused. */
function validateAccessPoint(
  config: Record<string, unknown>,
  probePort: number | undefined,
  errors: string[],
): void {
  if (config.edge === undefined || config.edge === null) {
    errors.push(
      'edge: missing; this device runs in the edge role (an access point) and this config is for a branch gateway',
    );
  } else validateEdgeSection(config.edge, probePort, errors);
  const branchOnly = {
    'ports.wan': isRecord(config.ports) ? config.ports.wan : [],
    'ports.lan': isRecord(config.ports) ? config.ports.lan : [],
    privateCidrs: config.privateCidrs,
    tunnels: config.tunnels,
    routes: config.routes,
    aclRules: config.aclRules,
  };
  for (const [field, value] of Object.entries(branchOnly)) {
    if (!Array.isArray(value)) {
      if (field === 'tunnels') errors.push('tunnels: not a list');
    } else if (value.length > 0) {
      errors.push(
        `${field}: an access point (edge role) has none, found ${value.length}; these belong in a branch gateway's config`,
      );
    }
  }
}

function validatePrivateCidrs(value: unknown, errors: string[]): void {
  if (!Array.isArray(value)) {
    errors.push('privateCidrs: not a list');
    return;
  }
  value.forEach((text, i) => {
    const block = parseCidr(text);
    if (!block) errors.push(`privateCidrs[${i}]: "${String(text)}" is not a canonical IPv4 CIDR block`);
    else if (block.prefix < PRIVATE_PREFIX.min || block.prefix > PRIVATE_PREFIX.max) {
      errors.push(`privateCidrs[${i}]: ${block.text} has prefix /${block.prefix}; allowed are /8 to /31`);
    }
  });
}

/** `host:port` with a port of 1–65535; the host may be a name or an IPv4 address. */
export function parseHostPort(text: unknown): { host: string; port: number } | null {
  if (typeof text !== 'string') return null;
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { host: match[1], port } : null;
}

function validateTunnels(value: unknown, errors: string[]): void {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
    errors.push('tunnels: must list 1 or 2 access points (active, standby)');
    return;
  }
  const seen = new Set<string>();
  value.forEach((tunnel, i) => {
    const field = `tunnels[${i}]`;
    if (!isRecord(tunnel)) {
      errors.push(`${field}: not an object`);
      return;
    }
    if (typeof tunnel.accessPoint !== 'string' || tunnel.accessPoint === '') {
      errors.push(`${field}.accessPoint: missing`);
    } else if (seen.has(tunnel.accessPoint)) {
      errors.push(`${field}.accessPoint: ${tunnel.accessPoint} is listed twice`);
    } else seen.add(tunnel.accessPoint);
    if (!parseHostPort(tunnel.address)) {
      errors.push(`${field}.address: "${String(tunnel.address)}" is not host:port with a port of 1-65535`);
    }
    if (tunnel.role !== 'active' && tunnel.role !== 'standby') {
      errors.push(`${field}.role: "${String(tunnel.role)}" is not active or standby`);
    }
    if (tunnel.publicKey !== undefined && typeof tunnel.publicKey !== 'string') {
      errors.push(`${field}.publicKey: must be a string`);
    }
  });
  const active = value.filter((t) => isRecord(t) && t.role === 'active').length;
  if (active !== 1) errors.push(`tunnels: exactly one must be active (found ${active})`);
}

function validateKeepalive(value: unknown, errors: string[]): void {
  if (!isRecord(value)) {
    errors.push('keepalive: not an object');
    return;
  }
  for (const [key, { min, max }] of Object.entries(KEEPALIVE_LIMITS)) {
    const setting = value[key];
    if (!Number.isSafeInteger(setting) || (setting as number) < min || (setting as number) > max) {
      errors.push(`keepalive.${key}: ${String(setting)} is outside ${min}-${max}`);
    }
  }
}

function validateRoutes(value: unknown, errors: string[]): void {
  if (!Array.isArray(value)) {
    errors.push('routes: not a list');
    return;
  }
  const seen = new Set<string>();
  value.forEach((route, i) => {
    const field = `routes[${i}]`;
    if (!isRecord(route)) {
      errors.push(`${field}: not an object`);
      return;
    }
    const block = parseCidr(route.destination);
    if (!block)
      errors.push(`${field}.destination: "${String(route.destination)}" is not a canonical CIDR block`);
    else if (seen.has(block.text)) errors.push(`${field}.destination: ${block.text} is listed twice`);
    else seen.add(block.text);
    if (route.nextHop !== 'tunnel') errors.push(`${field}.nextHop: "${String(route.nextHop)}" is not tunnel`);
    if (typeof route.sourceResourceId !== 'string') errors.push(`${field}.sourceResourceId: missing`);
    if (route.sourceKind !== 'gateway' && route.sourceKind !== 'vpc') {
      errors.push(`${field}.sourceKind: "${String(route.sourceKind)}" is not gateway or vpc`);
    }
  });
}

const PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'all']);

function validateAclRules(value: unknown, errors: string[]): void {
  if (!Array.isArray(value)) {
    errors.push('aclRules: not a list');
    return;
  }
  value.forEach((rule, i) => {
    const field = `aclRules[${i}]`;
    if (!isRecord(rule)) {
      errors.push(`${field}: not an object`);
      return;
    }
    if (typeof rule.id !== 'string' || rule.id === '') errors.push(`${field}.id: missing`);
    if (rule.direction !== 'in' && rule.direction !== 'out') errors.push(`${field}.direction: not in or out`);
    if (rule.policy !== 'accept' && rule.policy !== 'drop')
      errors.push(`${field}.policy: not accept or drop`);
    if (!Number.isSafeInteger(rule.priority)) errors.push(`${field}.priority: not an integer`);
    if (!PROTOCOLS.has(rule.protocol as string)) {
      errors.push(`${field}.protocol: "${String(rule.protocol)}" is not tcp, udp, icmp or all`);
    }
    for (const key of ['sourceCidr', 'destCidr'] as const) {
      if (!parseCidr(rule[key]))
        errors.push(`${field}.${key}: "${String(rule[key])}" is not a canonical CIDR block`);
    }
    for (const key of ['sourcePortRange', 'destPortRange'] as const) {
      if (typeof rule[key] !== 'string' || !parsePortRange(rule[key])) {
        errors.push(`${field}.${key}: "${String(rule[key])}" is not a port range such as 22/22 or -1/-1`);
      }
    }
  });
}
