import type { DeviceConfig } from '../../config.js';
import type { DesiredRoute } from './routes.js';
import type { Change, Command } from './runner.js';

/** An IPv4 address with prefix on a port, e.g. lan1 172.16.0.1/24. */
export interface PortAddress {
  dev: string;
  address: string;
}

export interface InstalledLink {
  name: string;
  up: boolean;
  /** The kernel's operational state (`UP`, `DOWN`, `LOWERLAYERDOWN`, …). */
  operstate: string;
  /** IPv4 addresses with prefix. */
  addresses: string[];
}

const key = (a: PortAddress) => `${a.dev} ${a.address}`;

function withPrefix(address: string): string {
  return address.includes('/') ? address : `${address}/32`;
}

/**
 * Every address the config puts on a port: each LAN port's address, and a static WAN port's.
 * A DHCP WAN port's address comes from its lease (`wanDhcp.ts`); PPPoE is left to the system's PPP
 * daemon: the agent only brings that port up.
 */
export function desiredAddresses(config: DeviceConfig | null): PortAddress[] {
  if (!config) return [];
  const wan = config.ports.wan
    .filter((port) => port.mode === 'static' && port.address)
    .map((port) => ({ dev: port.name, address: withPrefix(port.address as string) }));
  const lan = config.ports.lan.map((port) => ({ dev: port.name, address: port.address }));
  return [...wan, ...lan];
}

/** Every port the config names, WAN and LAN; each must exist and be up. */
export function configuredPorts(config: DeviceConfig | null): string[] {
  return config ? [...config.ports.wan, ...config.ports.lan].map((port) => port.name) : [];
}

/**
 * The metric of each WAN port's default route, lower `priority` preferred (then config order):
 * 100, 101, … Static ports with a gateway and DHCP ports are ranked together, so no two default
 * routes share a metric and one never replaces another.
 */
export function wanRouteMetrics(config: DeviceConfig | null): Map<string, number> {
  const ranked = (config?.ports.wan ?? [])
    .map((port, index) => ({ port, index }))
    .filter(({ port }) => (port.mode === 'static' && port.gateway) || port.mode === 'dhcp')
    .sort((a, b) => (a.port.priority ?? 0) - (b.port.priority ?? 0) || a.index - b.index);
  return new Map(ranked.map(({ port }, rank) => [port.name, 100 + rank]));
}

/** Default routes for static WAN ports; a WAN address without a prefix reaches its gateway `onlink`. */
export function wanDefaultRoutes(config: DeviceConfig | null): DesiredRoute[] {
  const metrics = wanRouteMetrics(config);
  return (config?.ports.wan ?? [])
    .filter((port) => port.mode === 'static' && port.gateway)
    .map((port) => ({
      destination: '0.0.0.0/0',
      dev: port.name,
      via: port.gateway as string,
      metric: metrics.get(port.name) as number,
      ...(port.address?.includes('/') ? {} : { onlink: true }),
    }))
    .sort((a, b) => a.metric - b.metric);
}

export function readLinksCommand(): Command {
  return { cmd: 'ip', args: ['-json', 'address', 'show'] };
}

export function parseLinks(json: string): InstalledLink[] {
  const links = (json.trim() === '' ? [] : JSON.parse(json)) as {
    ifname: string;
    flags?: string[];
    operstate?: string;
    addr_info?: { family: string; local: string; prefixlen: number }[];
  }[];
  return links.map((link) => ({
    name: link.ifname,
    up: link.flags?.includes('UP') ?? false,
    operstate: link.operstate ?? 'UNKNOWN',
    addresses: (link.addr_info ?? [])
      .filter((info) => info.family === 'inet')
      .map((info) => `${info.local}/${info.prefixlen}`),
  }));
}

/**
 * Brings configured ports up, adds missing addresses, and removes addresses this data plane put
 * there earlier (`owned`) that the config no longer has; addresses it never added are left alone.
 * A port missing from the machine fails at `ip link set`, which names it.
 */
export function planAddresses(
  ports: readonly string[],
  desired: readonly PortAddress[],
  links: readonly InstalledLink[],
  owned: readonly PortAddress[],
): Change[] {
  const byName = new Map(links.map((link) => [link.name, link]));
  const changes: Change[] = [];
  for (const name of ports) {
    const link = byName.get(name);
    if (link?.up) continue;
    changes.push({
      reason: link ? `port ${name} is down` : `port ${name} does not exist on this device`,
      commands: [{ cmd: 'ip', args: ['link', 'set', 'dev', name, 'up'] }],
    });
  }
  for (const want of desired) {
    if (byName.get(want.dev)?.addresses.includes(want.address)) continue;
    changes.push({
      reason: `port ${want.dev} lacks address ${want.address}`,
      commands: [{ cmd: 'ip', args: ['address', 'replace', want.address, 'dev', want.dev] }],
    });
  }
  const wanted = new Set(desired.map(key));
  for (const old of owned) {
    if (wanted.has(key(old)) || !byName.get(old.dev)?.addresses.includes(old.address)) continue;
    changes.push({
      reason: `port ${old.dev} still holds ${old.address}, which the config no longer has`,
      commands: [{ cmd: 'ip', args: ['address', 'del', old.address, 'dev', old.dev] }],
    });
  }
  return changes;
}

/** What this data plane owns after a step: what it wanted or owned that is now on the machine. */
export function ownedAfter(
  owned: readonly PortAddress[],
  desired: readonly PortAddress[],
  links: readonly InstalledLink[],
): PortAddress[] {
  const byName = new Map(links.map((link) => [link.name, link]));
  const seen = new Set<string>();
  return [...owned, ...desired].filter((a) => {
    if (seen.has(key(a)) || !byName.get(a.dev)?.addresses.includes(a.address)) return false;
    seen.add(key(a));
    return true;
  });
}
