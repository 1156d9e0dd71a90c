/**
 * The network's state as plain data. Every entity here is what the store persists and what the
 * API serves (plus derived fields such as `locked` and `presence`). Pure code in `domain/` and
 * `compile/` works only on these types.
 */

export type GatewaySpec = 'sag-100wm' | 'sag-1000' | 'sag-vcpe';
export type Lifecycle = 'ordered' | 'shipped' | 'active';
export type Policy = 'accept' | 'drop';
export type Protocol = 'tcp' | 'udp' | 'icmp' | 'all';

export interface WanPort {
  name: string;
  mode: 'dhcp' | 'static' | 'pppoe';
  address?: string;
  gateway?: string;
  dns?: string[];
  priority?: number;
  username?: string;
  password?: string;
}

export interface LanPort {
  name: string;
  /** Interface address with prefix, e.g. 172.16.0.1/24. */
  address: string;
  dhcp?: { start: string; end: string; leaseMinutes: number };
}

export interface GatewayPorts {
  wan: WanPort[];
  lan: LanPort[];
}

export interface Gateway {
  id: string;
  name: string;
  description?: string;
  area: string;
  spec: GatewaySpec;
  bandwidthMbps: number;
  subscriptionMonths: number;
  createdAt: string;
  lifecycle: Lifecycle;
  serialNumber: string | null;
  /** Standard base64 of the raw 32-byte Ed25519 public key of the bound device. */
  publicKey: string | null;
  activatedAt: string | null;
  /** Billing runs from activation; null until activated. */
  expiresAt: string | null;
  privateCidrs: string[];
  ccnId: string | null;
  aclId: string | null;
  ports: GatewayPorts;
}

export interface Ccn {
  id: string;
  name: string;
  description?: string;
  area: string;
  /** The CEN this CCN is attached to. */
  cenId: string | null;
  createdAt: string;
}

export interface BandwidthPackage {
  /** A pair of areas, stored sorted. */
  areas: [string, string];
  bandwidthMbps: number;
}

export interface Cen {
  id: string;
  name: string;
  description?: string;
  bandwidthPackages: BandwidthPackage[];
  createdAt: string;
}

export interface Vpc {
  id: string;
  name: string;
  description?: string;
  region: string;
  cidrBlocks: string[];
  /** The CEN this VPC is attached to. */
  cenId: string | null;
  createdAt: string;
}

export interface Instance {
  id: string;
  name: string;
  vpcId: string;
  privateIp: string;
  securityGroupIds: string[];
  createdAt: string;
}

export interface SecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  policy: Policy;
  priority: number;
  protocol: Protocol;
  /** `a/b`, `-1/-1` for any. */
  portRange: string;
  cidr: string;
  description?: string;
  createdAt: string;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description?: string;
  vpcId: string;
  /** In insertion order. */
  rules: SecurityGroupRule[];
  createdAt: string;
}

export interface AclRule {
  id: string;
  name?: string;
  direction: 'in' | 'out';
  policy: Policy;
  priority: number;
  protocol: Protocol;
  sourceCidr: string;
  sourcePortRange: string;
  destCidr: string;
  destPortRange: string;
  createdAt: string;
}

export interface Acl {
  id: string;
  name: string;
  description?: string;
  /** In insertion order; evaluation order is (priority, insertion). */
  rules: AclRule[];
  createdAt: string;
}

/** Every kind of entity the store holds, keyed by the name of its collection. */
export interface EntityKinds {
  gateway: Gateway;
  ccn: Ccn;
  cen: Cen;
  vpc: Vpc;
  instance: Instance;
  securityGroup: SecurityGroup;
  acl: Acl;
}
export type EntityKind = keyof EntityKinds;
export const ENTITY_KINDS: readonly EntityKind[] = [
  'gateway',
  'ccn',
  'cen',
  'vpc',
  'instance',
  'securityGroup',
  'acl',
];

export interface Topology {
  gateways: Map<string, Gateway>;
  ccns: Map<string, Ccn>;
  cens: Map<string, Cen>;
  vpcs: Map<string, Vpc>;
  instances: Map<string, Instance>;
  securityGroups: Map<string, SecurityGroup>;
  acls: Map<string, Acl>;
}

/** One entity written or removed by a mutation. */
export type Change =
  | { [K in EntityKind]: { op: 'put'; kind: K; value: EntityKinds[K] } }[EntityKind]
  | { op: 'delete'; kind: EntityKind; id: string };

/**
 * What a mutation does, computed purely from the topology and the request, before anything is
 * written: the entity changes plus the audit record that describes them.
 */
export interface Changeset {
  changes: Change[];
  audit: { action: string; resourceType: EntityKind; resourceId: string; before: unknown; after: unknown };
}

/** What a pure domain operation needs from the outside world, passed in so tests control it. */
export interface OperationContext {
  now: Date;
  newId(prefix: 'sag' | 'ccn' | 'cen' | 'vpc' | 'i' | 'sg' | 'sgr' | 'acl' | 'aclr'): string;
  settings: DomainSettings;
}

export interface Quotas {
  gateways: number;
  ccns: number;
  acls: number;
  rulesPerAcl: number;
  privateCidrsPerGateway: number;
  rulesPerSecurityGroup: number;
}

export interface DomainSettings {
  /** Areas that accept gateways (and CCNs). */
  enabledAreas: string[];
  quotas: Quotas;
}

export function emptyTopology(): Topology {
  return {
    gateways: new Map(),
    ccns: new Map(),
    cens: new Map(),
    vpcs: new Map(),
    instances: new Map(),
    securityGroups: new Map(),
    acls: new Map(),
  };
}
