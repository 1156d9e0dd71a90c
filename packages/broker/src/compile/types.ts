import type { EdgeSettings, KeepaliveSettings, RouteEntry, TunnelConfig } from '@opensag/proto';
import type { AclRule, GatewayPorts } from '../domain/types.js';

export type { EdgeSettings, KeepaliveSettings, RouteEntry, TunnelConfig } from '@opensag/proto';

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
  /**
   * Only in the config of an access point run by an edge agent, which shares the gateway's
   * message and pipeline: its peers, VPCs and security groups. Its ports and lists are empty.
   */
  edge?: EdgeSettings;
}

export interface AccessPoint {
  id: string;
  /** host:port of the tunnel endpoint / probe responder. */
  address: string;
  /**
   * WireGuard public key of the access point: set in the broker's config file, or reported by
   * the edge agent that runs the access point (which then wins).
   */
  publicKey?: string;
  /** The serial number of the edge agent running this access point, when one does. */
  serialNumber?: string;
  /** Standard base64 of that edge agent's raw Ed25519 identity key (`sag-agent init`). */
  identityKey?: string;
}

/** What the compiler needs besides the topology. */
export interface CompileSettings {
  accessPoints: AccessPoint[];
  keepalive: KeepaliveSettings;
  /**
   * The area a VPC region lies in, for the cross-area rule. Defaults to the domain catalogue
   * (`areaOfRegion` of domain/catalogue.ts) when omitted.
   */
  areaOfRegion?: AreaOfRegion;
}

/** Looks up the area of a region; undefined for a region no area holds. */
export type AreaOfRegion = (region: string) => string | undefined;

/** One entry of a CEN's effective route table: `learner` reaches `destination` via `source`. */
export interface CenRoute {
  destination: string;
  sourceResourceId: string;
  sourceKind: 'gateway' | 'vpc';
  learnerResourceId: string;
  learnerKind: 'gateway' | 'vpc';
  state: 'active' | 'inactive';
  /** Why the route is inactive, in words an operator can act on. */
  reason?: string;
}

export type AccessSource = { gatewayId: string; ip: string } | { instanceId: string };
export type AccessDestination = { ip: string } | { instanceId: string };

/** The access test request (SPEC §3 "Access test"), as the API receives it. */
export interface AccessRequest {
  source: AccessSource;
  destination: AccessDestination;
  protocol: 'tcp' | 'udp' | 'icmp';
  port?: number;
}

export type HopKind =
  | 'gateway'
  | 'device'
  | 'branch-address'
  | 'acl-out'
  | 'security-group-egress'
  | 'ccn'
  | 'vpc'
  | 'cen'
  | 'route'
  | 'acl-in'
  | 'security-group-ingress'
  | 'destination';

export interface AccessHop {
  kind: HopKind;
  resourceId: string;
  verdict: 'pass' | 'block';
  reason: string;
}

export interface AccessAnswer {
  reachable: boolean;
  /** Why: the first blocking hop's reason, or a summary of the path when reachable. */
  reason: string;
  hops: AccessHop[];
}

/** What the broker knows of a gateway's device, for the access test. */
export interface DeviceView {
  presence: 'online' | 'offline';
  sync: 'in-sync' | 'pending' | 'failed';
}
