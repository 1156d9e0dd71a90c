import { type Static, Type } from '@sinclair/typebox';
import { Ipv4, Name, Timestamp } from './common.js';

export const InstanceCreate = Type.Object(
  {
    name: Name,
    vpcId: Type.String({ maxLength: 128 }),
    privateIp: Ipv4,
    securityGroupIds: Type.Array(Type.String({ maxLength: 128 }), {
      maxItems: 16,
      description: '1-5 security groups of the same VPC',
    }),
  },
  { additionalProperties: false },
);
export type InstanceCreate = Static<typeof InstanceCreate>;

export const Instance = Type.Object({
  id: Type.String({ examples: ['i-5d6e7f'] }),
  name: Type.String(),
  vpcId: Type.String(),
  privateIp: Type.String(),
  securityGroupIds: Type.Array(Type.String()),
  createdAt: Timestamp,
});
export type Instance = Static<typeof Instance>;

export const VpcFilterQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    vpcId: Type.Optional(Type.String({ maxLength: 128, description: 'Only those of this VPC' })),
  },
  { additionalProperties: false },
);
export type VpcFilterQuery = Static<typeof VpcFilterQuery>;
