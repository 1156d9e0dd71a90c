import type { DeviceConfig } from '../../config.js';
import { configuredPorts, desiredAddresses, type PortAddress, wanDefaultRoutes } from './addresses.js';
import { type DhcpServer, desiredDhcp } from './dnsmasq.js';
import { type RenderedAcl, renderAcl } from './nftables.js';
import type { DesiredRoute } from './routes.js';
import { desiredWanDhcp, type WanDhcpClient } from './wanDhcp.js';
import {
  type DesiredTunnel,
  desiredTunnels,
  type SkippedTunnel,
  type WireguardOptions,
} from './wireguard.js';

/** Everything the linux data plane installs for one config; `config: null` is the empty state. */
export interface LinuxDesired {
  config: DeviceConfig | null;
  acl: RenderedAcl | null;
  ports: string[];
  addresses: PortAddress[];
  /** A udhcpc per DHCP WAN port. */
  wanDhcp: WanDhcpClient[];
  forwarding: boolean;
  tunnels: DesiredTunnel[];
  skipped: SkippedTunnel[];
  /** The tunnel interface the cloud's routes lead into, or null when no tunnel is built. */
  routeDevice: string | null;
  routes: DesiredRoute[];
  dhcp: DhcpServer[];
}

/**
 * The interface traffic goes into: the carrying tunnel's when it is built, else the active one's,
 * else any built tunnel's.
 */
export function routeDeviceFor(tunnels: readonly DesiredTunnel[], carrying: string | null): string | null {
  const built = (accessPoint: string | null) => tunnels.find((t) => t.accessPoint === accessPoint);
  return (built(carrying) ?? tunnels.find((t) => t.role === 'active') ?? tunnels[0])?.name ?? null;
}

export function desiredLinux(
  config: DeviceConfig | null,
  options: { stateDir: string; wireguard: WireguardOptions; carrying: string | null },
): LinuxDesired {
  const { tunnels, skipped } = desiredTunnels(config, options.wireguard);
  const routeDevice = routeDeviceFor(tunnels, options.carrying);
  const tunnelRoutes: DesiredRoute[] =
    routeDevice === null
      ? []
      : (config?.routes ?? []).map((route) => ({ destination: route.destination, dev: routeDevice }));
  return {
    config,
    acl: config ? renderAcl(config) : null,
    ports: configuredPorts(config),
    addresses: desiredAddresses(config),
    wanDhcp: desiredWanDhcp(config, options.stateDir),
    forwarding: config !== null,
    tunnels,
    skipped,
    routeDevice,
    routes: [...wanDefaultRoutes(config), ...tunnelRoutes],
    dhcp: desiredDhcp(config, options.stateDir),
  };
}
