import type { AclRule, DeviceConfig, TunnelConfig } from '../config.js';

/**
 * The seam between the agent and the machine it configures: `emulated` (an in-memory model) and
 * `linux` (kernel routes, nftables, WireGuard). The applier only ever talks to this interface.
 */
export interface DataPlane {
  readonly kind: 'emulated' | 'linux';
  /**
   * The WireGuard public key (base64) of a data plane that builds tunnels; the hello reports it so
   * the broker can hand it to the other end. The emulated data plane has none.
   */
  readonly tunnelPublicKey?: string;
  /** Installs `config` completely or not at all; on rejection the previous state is intact. */
  apply(config: DeviceConfig): Promise<void>;
  /** Differences between what `config` asks for and what is installed; empty when they agree. */
  verify(config: DeviceConfig): Promise<string[]>;
  /** Removes everything the agent installed (used when a first config cannot be kept). */
  reset(): Promise<void>;
  snapshot(): DataPlaneState;
  /** What the keepalive monitor learned: which tunnels are up and which carries traffic. */
  setTunnelStates(states: readonly TunnelLinkState[]): void;
  /** Whether traffic from the branch to `destination` would get through, and why (not). */
  probe(request: PathProbe): Promise<PathProbeResult>;
  close(): Promise<void>;
}

export type LinkStatus = 'up' | 'down' | 'unknown';

export interface PortState {
  name: string;
  kind: 'wan' | 'lan';
  status: 'up' | 'down';
  mode?: 'dhcp' | 'static' | 'pppoe';
  address?: string;
  dhcpPool?: string;
}

/** connected: a LAN subnet; private: the branch's own blocks; tunnel: learned from the cloud. */
export type RouteKind = 'connected' | 'private' | 'tunnel';

export interface RouteState {
  destination: string;
  kind: RouteKind;
  /** The LAN port for connected routes. */
  interface?: string;
  sourceResourceId?: string;
}

export interface TunnelLinkState {
  accessPoint: string;
  status: LinkStatus;
  /** True for the one tunnel traffic is routed into. */
  carrying: boolean;
  rttMs?: number;
}

export interface TunnelState extends TunnelConfig, TunnelLinkState {}

export interface DataPlaneState {
  /** Revision and hash of the installed config; null before anything is applied. */
  revision: number | null;
  hash: string | null;
  ports: PortState[];
  /** Sorted by destination, then kind. */
  routes: RouteState[];
  /** In evaluation order. */
  aclRules: AclRule[];
  tunnels: TunnelState[];
}

export interface PathProbe {
  destination: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  port?: number;
  /** The branch-side source address; defaults to the first LAN port's address. */
  source?: string;
}

export interface PathProbeResult {
  reachable: boolean;
  rttMs?: number;
  reason: string;
}

/** "tcp/22 to 10.1.0.10", "icmp to 10.1.0.10": how probe answers name the traffic. */
export function describeTraffic(request: PathProbe): string {
  const proto =
    request.protocol === 'icmp' || request.port === undefined
      ? request.protocol
      : `${request.protocol}/${request.port}`;
  return `${proto} to ${request.destination}`;
}
