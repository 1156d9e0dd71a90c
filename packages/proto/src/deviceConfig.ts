/**
 * Parts of a gateway's desired config as plain data, shared by the broker (which compiles them)
 * and the agent (which applies them) so the two cannot describe the contract differently. On the
 * wire they travel inside the DesiredConfig message.
 */

export interface TunnelConfig {
  accessPoint: string;
  /** host:port of the access point's probe responder; its WireGuard listens on port + 1. */
  address: string;
  /** WireGuard public key of the access point, when it has one. */
  publicKey?: string;
  role: 'active' | 'standby';
}

export interface KeepaliveSettings {
  intervalMs: number;
  multiplier: number;
  /** Number of most recent probes over which loss is measured. */
  lossWindow: number;
  /** How long the active tunnel must stay up before traffic fails back to it. */
  holdDownMs: number;
}

export interface RouteEntry {
  destination: string;
  nextHop: 'tunnel';
  /** The resource the route was learned from: a gateway (`sag-…`) or a VPC (`vpc-…`). */
  sourceResourceId: string;
  sourceKind: 'gateway' | 'vpc';
}

/** A branch gateway terminated on an access point: its tunnel key and the blocks behind it. */
export interface EdgePeerConfig {
  gatewayId: string;
  /** The gateway's WireGuard public key (standard base64 of 32 bytes). */
  publicKey: string;
  /** The branch private blocks; replies to them go back into this gateway's tunnel. */
  allowedIps: string[];
  /**
   * The route set (EdgeSettings.routeSets) of the destinations the gateway's active routes allow;
   * the edge drops anything else arriving from its tunnel. Absent (a config from before this
   * field) means no such filter.
   */
  routeSet?: string;
}

/** Destinations shared by every gateway whose routes are the same, listed once. */
export interface EdgeRouteSetConfig {
  id: string;
  destinations: string[];
}

export interface EdgeVpcConfig {
  vpcId: string;
  cidrBlocks: string[];
}

export interface EdgeInstanceConfig {
  instanceId: string;
  privateIp: string;
  /** 1–5 groups, as SPEC §3 allows. */
  securityGroupIds: string[];
}

/** A security-group rule as SPEC §3 defines it, without the broker's bookkeeping. */
export interface EdgeSecurityGroupRuleConfig {
  id: string;
  direction: 'ingress' | 'egress';
  policy: 'accept' | 'drop';
  /** 1–100; the lowest number wins. */
  priority: number;
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  /** `a/b`, `-1/-1` for any. */
  portRange: string;
  /** The other end: the source for ingress, the destination for egress. */
  cidr: string;
}

export interface EdgeSecurityGroupConfig {
  id: string;
  rules: EdgeSecurityGroupRuleConfig[];
}

/**
 * The part of an access point's config that only an access point ("edge" role) has: the branch
 * tunnels it terminates and the VPCs whose instances it guards. Travels as DesiredConfig.edge.
 */
export interface EdgeSettings {
  /** The WireGuard port: the access point's probe port + 1. */
  listenPort: number;
  peers: EdgePeerConfig[];
  vpcs: EdgeVpcConfig[];
  instances: EdgeInstanceConfig[];
  securityGroups: EdgeSecurityGroupConfig[];
  /** What the peers may reach; absent in a config from before route sets. */
  routeSets?: EdgeRouteSetConfig[];
}
