import { type Static, Type } from '@sinclair/typebox';
import { Area, Description, Name, Timestamp } from './common.js';

export const CenCreate = Type.Object(
  { name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CenCreate = Static<typeof CenCreate>;

export const InstanceType = Type.Union([Type.Literal('vpc'), Type.Literal('ccn')]);

export const CenAttachmentCreate = Type.Object(
  { instanceType: InstanceType, instanceId: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);
export type CenAttachmentCreate = Static<typeof CenAttachmentCreate>;

export const CenAttachmentParams = Type.Object({
  id: Type.String({ maxLength: 128 }),
  instanceId: Type.String({ maxLength: 128 }),
});
export type CenAttachmentParams = Static<typeof CenAttachmentParams>;

export const BandwidthPackage = Type.Object(
  {
    areas: Type.Array(Area, {
      minItems: 2,
      maxItems: 2,
      description: 'The pair of areas the package connects',
    }),
    bandwidthMbps: Type.Integer({ description: '1-10000' }),
  },
  { additionalProperties: false },
);
export const BandwidthPackages = Type.Array(BandwidthPackage, {
  maxItems: 64,
  description: 'Replaces the CEN’s packages',
});
export type BandwidthPackages = Static<typeof BandwidthPackages>;

export const CenAttachment = Type.Object({ instanceType: InstanceType, instanceId: Type.String() });

export const Cen = Type.Object({
  id: Type.String({ examples: ['cen-3b9e42'] }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  bandwidthPackages: Type.Array(
    Type.Object({ areas: Type.Array(Type.String()), bandwidthMbps: Type.Integer() }),
  ),
  attachments: Type.Array(CenAttachment, { description: 'CCNs and VPCs attached to this CEN' }),
  createdAt: Timestamp,
});
export type Cen = Static<typeof Cen>;

export const CenRoute = Type.Object({
  destination: Type.String(),
  sourceResourceId: Type.String({ description: 'The gateway or VPC that owns the block' }),
  sourceKind: Type.Union([Type.Literal('gateway'), Type.Literal('vpc')]),
  learnerResourceId: Type.String({ description: 'The gateway or VPC that learns the route' }),
  learnerKind: Type.Union([Type.Literal('gateway'), Type.Literal('vpc')]),
  state: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
  reason: Type.Optional(Type.String({ description: 'Why the route is inactive' })),
});
export type CenRoute = Static<typeof CenRoute>;
