import { type Static, Type } from '@sinclair/typebox';
import { Nullable, Timestamp } from './common.js';

export const AccessPointView = Type.Object({
  id: Type.String({ examples: ['ap-edge-a'] }),
  address: Type.String({ description: 'host:port of its probe responder; WireGuard listens on port + 1' }),
  role: Type.Union([Type.Literal('active'), Type.Literal('standby'), Type.Literal('spare')], {
    description: "Its place in every gateway's tunnels; spare past the first two",
  }),
  serialNumber: Nullable(Type.String({ description: 'The edge agent running it; null when none does' })),
  tunnelPublicKey: Nullable(Type.String({ description: 'WireGuard public key the gateways get' })),
  presence: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  lastSeenAt: Nullable(Timestamp),
  desiredRevision: Nullable(Type.Integer()),
  appliedRevision: Nullable(Type.Integer()),
  sync: Type.Union([Type.Literal('in-sync'), Type.Literal('pending'), Type.Literal('failed')]),
  syncError: Nullable(Type.String()),
  peers: Type.Integer({ description: 'Gateways whose tunnels it terminates' }),
  omittedPeers: Type.Array(Type.Object({ gatewayId: Type.String(), reason: Type.String() }), {
    description: 'Active gateways left out of its peers, and why',
  }),
});
export type AccessPointView = Static<typeof AccessPointView>;

const SecurityGroupRule = Type.Object({
  id: Type.String(),
  direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
  policy: Type.Union([Type.Literal('accept'), Type.Literal('drop')]),
  priority: Type.Integer(),
  protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp'), Type.Literal('all')]),
  portRange: Type.String(),
  cidr: Type.String(),
});

export const EdgeSettings = Type.Object({
  listenPort: Type.Integer({ description: 'WireGuard port' }),
  peers: Type.Array(
    Type.Object({
      gatewayId: Type.String(),
      publicKey: Type.String(),
      allowedIps: Type.Array(Type.String()),
      routeSet: Type.Optional(
        Type.String({
          description: "routeSets entry of what the gateway's routes reach; the rest is dropped",
        }),
      ),
    }),
  ),
  vpcs: Type.Array(Type.Object({ vpcId: Type.String(), cidrBlocks: Type.Array(Type.String()) })),
  instances: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      privateIp: Type.String(),
      securityGroupIds: Type.Array(Type.String()),
    }),
  ),
  securityGroups: Type.Array(Type.Object({ id: Type.String(), rules: Type.Array(SecurityGroupRule) })),
  routeSets: Type.Optional(
    Type.Array(Type.Object({ id: Type.String(), destinations: Type.Array(Type.String()) }), {
      description: 'Destinations shared by gateways whose routes are the same',
    }),
  ),
});

export const AccessPointConfigView = Type.Object({
  gatewayId: Type.String({ description: 'The access point id (devices are keyed by it)' }),
  revision: Type.Integer(),
  hash: Type.String(),
  compiledAt: Timestamp,
  config: Type.Object({
    gatewayId: Type.String(),
    serialNumber: Nullable(Type.String()),
    edge: EdgeSettings,
  }),
});
