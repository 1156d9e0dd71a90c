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
