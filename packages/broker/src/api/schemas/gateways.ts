import { type Static, Type } from '@sinclair/typebox';
import {
  Area,
  Cidr,
  Description,
  Ipv4,
  Name,
  Nullable,
  Policy,
  PortRange,
  Protocol,
  Timestamp,
} from './common.js';

export const GatewaySpec = Type.Union(
  [Type.Literal('sag-100wm'), Type.Literal('sag-1000'), Type.Literal('sag-vcpe')],
  { description: 'sag-100wm: 2-50 Mbps, sag-1000: 10-500 Mbps, sag-vcpe: 10-1000 Mbps' },
);
export const Lifecycle = Type.Union([
  Type.Literal('ordered'),
  Type.Literal('shipped'),
  Type.Literal('active'),
]);
export const Presence = Type.Union([Type.Literal('online'), Type.Literal('offline')]);
const SubscriptionMonths = Type.Integer({ description: 'One of 1-9, 12, 24, 36', examples: [1] });
const BandwidthMbps = Type.Integer({ description: 'Within the range of the spec', examples: [2] });

export const WanPort = Type.Object(
  {
    name: Type.String({ maxLength: 32, examples: ['wan0'] }),
    mode: Type.Union([Type.Literal('dhcp'), Type.Literal('static'), Type.Literal('pppoe')]),
    address: Type.Optional(Type.String({ maxLength: 64, description: 'static: address with prefix' })),
    gateway: Type.Optional(Ipv4),
    dns: Type.Optional(Type.Array(Ipv4, { maxItems: 4 })),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    username: Type.Optional(Type.String({ maxLength: 128, description: 'pppoe only' })),
    password: Type.Optional(Type.String({ maxLength: 128, description: 'pppoe only' })),
  },
  { additionalProperties: false },
);

export const LanPort = Type.Object(
  {
    name: Type.String({ maxLength: 32, examples: ['lan0'] }),
    address: Type.String({
      maxLength: 64,
      description: 'Interface address with prefix',
      examples: ['172.16.0.1/24'],
    }),
    dhcp: Type.Optional(
      Type.Object(
        { start: Ipv4, end: Ipv4, leaseMinutes: Type.Integer({ minimum: 1, maximum: 525600 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const GatewayPorts = Type.Object(
  {
    wan: Type.Array(WanPort, { maxItems: 16, description: '1-4 WAN ports' }),
    lan: Type.Array(LanPort, { maxItems: 16, description: '0-8 LAN ports' }),
  },
  { additionalProperties: false },
);
export type GatewayPorts = Static<typeof GatewayPorts>;

export const GatewayCreate = Type.Object(
  {
    name: Name,
    area: Area,
    spec: GatewaySpec,
    bandwidthMbps: BandwidthMbps,
    subscriptionMonths: SubscriptionMonths,
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type GatewayCreate = Static<typeof GatewayCreate>;

export const GatewayPatch = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    bandwidthMbps: Type.Optional(BandwidthMbps),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type GatewayPatch = Static<typeof GatewayPatch>;

export const GatewayRenew = Type.Object(
  { subscriptionMonths: SubscriptionMonths },
  { additionalProperties: false },
);
export type GatewayRenew = Static<typeof GatewayRenew>;

export const DeviceBinding = Type.Object(
  {
    serialNumber: Type.String({ minLength: 1, maxLength: 128, examples: ['SAG100WM-0001'] }),
    publicKey: Type.String({
      maxLength: 128,
      description: 'Standard base64 of the raw 32-byte Ed25519 public key',
    }),
  },
  { additionalProperties: false },
);
export type DeviceBinding = Static<typeof DeviceBinding>;

export const GatewayNetwork = Type.Object(
  {
    privateCidrs: Type.Array(Cidr, { maxItems: 64, description: '1-5 blocks, /8-/31, canonical' }),
    ccnId: Nullable(
      Type.String({ maxLength: 128, description: 'The CCN to bind to; null leaves the gateway in none' }),
    ),
    cenId: Type.Optional(
      Nullable(
        Type.String({ maxLength: 128, description: 'Also attach the CCN to this CEN, in the same change' }),
      ),
    ),
  },
  { additionalProperties: false },
);
export type GatewayNetwork = Static<typeof GatewayNetwork>;

export const GatewayAclBinding = Type.Object(
  { aclId: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);
export type GatewayAclBinding = Static<typeof GatewayAclBinding>;

export const Gateway = Type.Object({
  id: Type.String({ examples: ['sag-8f2a1c'] }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  area: Type.String(),
  spec: GatewaySpec,
  bandwidthMbps: Type.Integer(),
  subscriptionMonths: Type.Integer(),
  createdAt: Timestamp,
  lifecycle: Lifecycle,
  locked: Type.Boolean({
    description: 'Expired: the device stays connected but gets no new config until renewed',
  }),
  presence: Presence,
  serialNumber: Nullable(Type.String()),
  publicKey: Nullable(Type.String()),
  activatedAt: Nullable(Timestamp),
  expiresAt: Nullable(Timestamp),
  privateCidrs: Type.Array(Type.String()),
  ccnId: Nullable(Type.String()),
  aclId: Nullable(Type.String()),
  ports: GatewayPorts,
});
export type Gateway = Static<typeof Gateway>;

export const GatewayListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    ccnId: Type.Optional(Type.String({ maxLength: 128, description: 'Only gateways bound to this CCN' })),
  },
  { additionalProperties: false },
);
export type GatewayListQuery = Static<typeof GatewayListQuery>;

export const Tunnel = Type.Object({
  accessPoint: Type.String(),
  role: Type.String({ description: 'active or standby' }),
  state: Type.String({ description: 'up or down' }),
  rttMs: Nullable(Type.Number()),
  lossPct: Nullable(Type.Number()),
  jitterMs: Nullable(Type.Number()),
});

export const GatewayStatus = Type.Object({
  gatewayId: Type.String(),
  lifecycle: Lifecycle,
  locked: Type.Boolean(),
  presence: Presence,
  lastSeenAt: Nullable(Timestamp),
  desiredRevision: Nullable(Type.Integer()),
  appliedRevision: Nullable(Type.Integer()),
  sync: Type.Union([Type.Literal('in-sync'), Type.Literal('pending'), Type.Literal('failed')]),
  syncError: Nullable(Type.String()),
  tunnels: Type.Array(Tunnel),
  ports: Type.Array(Type.Unknown(), { description: 'As last reported by the device' }),
});
export type GatewayStatus = Static<typeof GatewayStatus>;

const CompiledAclRule = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  policy: Policy,
  priority: Type.Integer(),
  protocol: Protocol,
  sourceCidr: Type.String(),
  sourcePortRange: PortRange,
  destCidr: Type.String(),
  destPortRange: PortRange,
  createdAt: Timestamp,
});

export const GatewayConfig = Type.Object({
  gatewayId: Type.String(),
  serialNumber: Nullable(Type.String()),
  ports: GatewayPorts,
  privateCidrs: Type.Array(Type.String()),
  tunnels: Type.Array(
    Type.Object({
      accessPoint: Type.String(),
      address: Type.String(),
      publicKey: Type.Optional(Type.String()),
      role: Type.Union([Type.Literal('active'), Type.Literal('standby')]),
    }),
  ),
  keepalive: Type.Object({
    intervalMs: Type.Integer(),
    multiplier: Type.Integer(),
    lossWindow: Type.Integer(),
    holdDownMs: Type.Integer(),
  }),
  routes: Type.Array(
    Type.Object({
      destination: Type.String(),
      nextHop: Type.Literal('tunnel'),
      sourceResourceId: Type.String(),
      sourceKind: Type.Union([Type.Literal('gateway'), Type.Literal('vpc')]),
    }),
  ),
  aclRules: Type.Array(CompiledAclRule, { description: 'In evaluation order' }),
  aclId: Nullable(Type.String()),
});

export const GatewayConfigView = Type.Object({
  gatewayId: Type.String(),
  revision: Type.Integer(),
  hash: Type.String(),
  compiledAt: Timestamp,
  config: GatewayConfig,
});
export type GatewayConfigView = Static<typeof GatewayConfigView>;
