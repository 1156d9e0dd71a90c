import type { AclDirection, AclPolicy, AclProtocol } from './acl.js';
import type { opensag } from './gen/messages.js';

/**
 * The device messages as plain objects, derived from the types generated from the .proto files:
 * 64-bit integers are numbers, proto enums are their value names, absent scalars are their
 * defaults. Enum-like strings carry the API's own values and are narrowed to them here; the
 * decoder guarantees a decoded message holds only these values.
 */

/** The schema version this package writes and the highest it reads. */
export const SCHEMA_VERSION = 1;

export const PORT_KINDS = ['wan', 'lan'] as const;
export const LINK_STATES = ['up', 'down'] as const;
export const WAN_MODES = ['dhcp', 'static', 'pppoe'] as const;
export const AGENT_STATES = ['waiting-for-activation', 'running'] as const;
export const DATAPLANES = ['emulated', 'linux'] as const;
export const AGENT_ROLES = ['branch', 'edge'] as const;
export const TUNNEL_ROLES = ['active', 'standby'] as const;
export const SECURITY_GROUP_DIRECTIONS = ['ingress', 'egress'] as const;
export const NEXT_HOPS = ['tunnel'] as const;
export const ROUTE_SOURCE_KINDS = ['gateway', 'vpc'] as const;
export const ACL_DIRECTIONS: readonly AclDirection[] = ['in', 'out'];
export const ACL_POLICIES: readonly AclPolicy[] = ['accept', 'drop'];
export const ACL_PROTOCOLS: readonly AclProtocol[] = ['tcp', 'udp', 'icmp', 'all'];
export const PROBE_PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export const ACK_RESULTS = ['APPLIED', 'REJECTED', 'ROLLED_BACK'] as const;
export const EVENT_KINDS = [
  'TUNNEL_UP',
  'TUNNEL_DOWN',
  'FAILOVER',
  'FAILBACK',
  'PORT_CHANGE',
  'PROBE_RESULT',
  'CONFIG_APPLIED',
  'CONFIG_FAILED',
] as const;
export const PRESENCE_STATES = ['ONLINE', 'OFFLINE'] as const;

export type PortKind = (typeof PORT_KINDS)[number];
export type LinkState = (typeof LINK_STATES)[number];
export type WanMode = (typeof WAN_MODES)[number];
export type AgentState = (typeof AGENT_STATES)[number];
export type Dataplane = (typeof DATAPLANES)[number];
export type AgentRole = (typeof AGENT_ROLES)[number];
export type TunnelRole = (typeof TUNNEL_ROLES)[number];
export type SecurityGroupDirection = (typeof SECURITY_GROUP_DIRECTIONS)[number];
export type NextHop = (typeof NEXT_HOPS)[number];
export type RouteSourceKind = (typeof ROUTE_SOURCE_KINDS)[number];
export type ProbeProtocol = (typeof PROBE_PROTOCOLS)[number];

/** Proto enum value names, without the `*_UNSPECIFIED` zero value the decoder refuses. */
type EnumName<E> = Exclude<keyof E, `${string}_UNSPECIFIED`>;
export type AckResult = EnumName<typeof opensag.v1.Ack.Result>;
export type EventKind = EnumName<typeof opensag.v1.Event.Kind>;
export type PresenceState = EnumName<typeof opensag.v1.Presence.State>;

type LongLike = { low: number; high: number; unsigned: boolean };
type PlainValue<T> = T extends LongLike
  ? number
  : T extends readonly (infer E)[]
    ? PlainValue<E>[]
    : T extends object
      ? Plain<T>
      : T;
/** A generated `$Properties` interface as the decoder returns it: every field present, no Long. */
type Plain<P> = { [K in Exclude<keyof P, '$unknowns' | 'payload'>]-?: PlainValue<NonNullable<P[K]>> };
/** Replaces the fields named in U; flattened so editors show the resulting shape. */
type With<T, U> = { [K in keyof (Omit<T, keyof U> & U)]: (Omit<T, keyof U> & U)[K] };

export type PortStatus = With<
  Plain<opensag.v1.PortStatus.$Properties>,
  { kind: PortKind; state: LinkState; mode: WanMode | '' }
>;
export type Hello = With<
  Plain<opensag.v1.Hello.$Properties>,
  { ports: PortStatus[]; state: AgentState; dataplane: Dataplane; role: AgentRole }
>;

export type TunnelStatus = With<
  Plain<opensag.v1.TunnelStatus.$Properties>,
  { role: TunnelRole; state: LinkState }
>;
export type Counters = Plain<opensag.v1.Counters.$Properties>;
export type Report = With<
  Plain<opensag.v1.Report.$Properties>,
  { tunnels: TunnelStatus[]; ports: PortStatus[] }
>;

export type Ack = With<Plain<opensag.v1.Ack.$Properties>, { result: AckResult }>;

export type ProbeResult = Plain<opensag.v1.ProbeResult.$Properties>;
export type Event = With<
  Plain<opensag.v1.Event.$Properties>,
  { kind: EventKind; probeResult: ProbeResult | null }
>;

export type Presence = With<Plain<opensag.v1.Presence.$Properties>, { state: PresenceState }>;

export type WanPort = With<Plain<opensag.v1.WanPort.$Properties>, { mode: WanMode }>;
export type LanDhcp = Plain<opensag.v1.LanDhcp.$Properties>;
/** `dhcp` is null when the port serves no DHCP. */
export type LanPort = With<Plain<opensag.v1.LanPort.$Properties>, { dhcp: LanDhcp | null }>;
export type Ports = { wan: WanPort[]; lan: LanPort[] };
export type Tunnel = With<Plain<opensag.v1.Tunnel.$Properties>, { role: TunnelRole }>;
export type Keepalive = Plain<opensag.v1.Keepalive.$Properties>;
export type Route = With<
  Plain<opensag.v1.Route.$Properties>,
  { nextHop: NextHop; sourceKind: RouteSourceKind }
>;
export type AclRule = With<
  Plain<opensag.v1.AclRule.$Properties>,
  { direction: AclDirection; policy: AclPolicy; protocol: AclProtocol }
>;
export type EdgeSecurityGroupRuleMessage = With<
  Plain<opensag.v1.EdgeSecurityGroupRule.$Properties>,
  { direction: SecurityGroupDirection; policy: AclPolicy; protocol: AclProtocol }
>;
export type EdgeSettingsMessage = With<
  Plain<opensag.v1.EdgeSettings.$Properties>,
  { securityGroups: { id: string; rules: EdgeSecurityGroupRuleMessage[] }[] }
>;
/** `edge` is null in a gateway's config and present in an access point's. */
export type DesiredConfig = With<
  Plain<opensag.v1.DesiredConfig.$Properties>,
  { ports: Ports; tunnels: Tunnel[]; routes: Route[]; aclRules: AclRule[]; edge: EdgeSettingsMessage | null }
>;

export type Activation = Plain<opensag.v1.Activation.$Properties>;
export type ProbeRequest = With<Plain<opensag.v1.ProbeRequest.$Properties>, { protocol: ProbeProtocol }>;
type Empty = Record<string, never>;
/** Exactly one payload is present; `payload` names it. */
export type CommandPayload =
  | { payload: 'activation'; activation: Activation }
  | { payload: 'probeRequest'; probeRequest: ProbeRequest }
  | { payload: 'reboot'; reboot: Empty }
  | { payload: 'resync'; resync: Empty };
export type Command = { schemaVersion: number; commandId: string } & CommandPayload;

/**
 * What the encoders accept: any field may be left out or null (it encodes as its default; the
 * encoder still refuses a message its peer's decoder would refuse). `schemaVersion` is stamped.
 */
export type Input<T> = T extends readonly (infer E)[]
  ? readonly Input<E>[]
  : T extends object
    ? { [K in keyof T]?: Input<T[K]> | null }
    : T;
type MessageInput<T> = Input<Omit<T, 'schemaVersion'>>;

export type HelloInput = MessageInput<Hello>;
export type ReportInput = MessageInput<Report>;
export type AckInput = MessageInput<Ack>;
export type EventInput = MessageInput<Event>;
export type PresenceInput = MessageInput<Presence>;
export type ProbeResultInput = MessageInput<ProbeResult>;
export type DesiredConfigInput = MessageInput<DesiredConfig>;
export type CommandInput = { commandId: string } & (
  | { activation: Input<Activation> }
  | { probeRequest: Input<ProbeRequest> }
  | { reboot: Empty }
  | { resync: Empty }
);
