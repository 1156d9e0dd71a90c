import type { AclRule, GatewayPorts } from '../domain/types.js';

/**
 * A gateway's desired configuration: what the compiler produces and what the device receives
 * (encoded as the `DesiredConfig` protobuf message). Plain data, deterministic for a given
 * topology, so its hash changes only when its content does.
 */
export interface GatewayConfig {
  gatewayId: string;
  serialNumber: string | null;
  ports: GatewayPorts;
  privateCidrs: string[];
  tunnels: TunnelConfig[];
  keepalive: KeepaliveSettings;
  /** Only active routes; sorted by destination. */
  routes: RouteEntry[];
  /** ACL rules in evaluation order (priority, then insertion); empty when no ACL is bound. */
  aclRules: AclRule[];
  aclId: string | null;
}

export interface AccessPoint {
  id: string;
  /** host:port of the tunnel endpoint / probe responder. */
  address: string;
  /** WireGuard public key of the access point, when it has one. */
  publicKey?: string;
}

export interface TunnelConfig {
  accessPoint: string;
  address: string;
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

/** What the compiler needs besides the topology. */
export interface CompileSettings {
  accessPoints: AccessPoint[];
  keepalive: KeepaliveSettings;
}
