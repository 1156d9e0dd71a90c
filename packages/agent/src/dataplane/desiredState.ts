import type { DeviceConfig } from '../config.js';
import { formatIpv4, parseInterfaceAddress } from '../ipv4.js';
import type { DataPlaneState, PortState, RouteState } from './dataplane.js';

const KIND_ORDER = { connected: 0, private: 1, tunnel: 2 } as const;

export function compareRoutes(a: RouteState, b: RouteState): number {
  if (a.destination !== b.destination) return a.destination < b.destination ? -1 : 1;
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
}

export function desiredPorts(config: DeviceConfig): PortState[] {
  const wan = config.ports.wan.map(
    (port): PortState => ({
      name: port.name,
      kind: 'wan',
      status: 'up',
      mode: port.mode,
      ...(port.mode === 'static' && port.address ? { address: port.address } : {}),
    }),
  );
  const lan = config.ports.lan.map(
    (port): PortState => ({
      name: port.name,
      kind: 'lan',
      status: 'up',
      address: port.address,
      ...(port.dhcp ? { dhcpPool: `${port.dhcp.start}-${port.dhcp.end}` } : {}),
    }),
  );
  return [...wan, ...lan];
}

/** Every route a config implies: LAN subnets, the branch's private blocks, and the cloud's routes. */
export function desiredRoutes(config: DeviceConfig): RouteState[] {
  const routes: RouteState[] = [];
  for (const port of config.ports.lan) {
    const parsed = parseInterfaceAddress(port.address);
    if (parsed) {
      routes.push({
        destination: `${formatIpv4(parsed.subnet.network)}/${parsed.subnet.prefix}`,
        kind: 'connected',
        interface: port.name,
      });
    }
  }
  for (const cidr of config.privateCidrs) routes.push({ destination: cidr, kind: 'private' });
  for (const route of config.routes) {
    routes.push({ destination: route.destination, kind: 'tunnel', sourceResourceId: route.sourceResourceId });
  }
  return routes.sort(compareRoutes);
}

/** What a data plane should hold for `config`, ignoring run-time status (link state, carrier). */
export function desiredState(
  config: DeviceConfig,
): Omit<DataPlaneState, 'tunnels'> & { tunnels: DeviceConfig['tunnels'] } {
  return {
    revision: config.revision,
    hash: config.hash,
    ports: desiredPorts(config),
    routes: desiredRoutes(config),
    aclRules: config.aclRules,
    tunnels: config.tunnels,
  };
}
