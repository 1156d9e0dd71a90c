import { type Static, Type } from '@sinclair/typebox';
import { Cidr, Description, Name, Nullable, Region, Timestamp } from './common.js';

export const VpcCreate = Type.Object(
  {
    name: Name,
    region: Region,
    cidrBlocks: Type.Array(Cidr, { maxItems: 64, description: '1-5 blocks, /8-/28, canonical' }),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type VpcCreate = Static<typeof VpcCreate>;

export const Vpc = Type.Object({
  id: Type.String({ examples: ['vpc-1a2b3c'] }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  region: Type.String(),
  cidrBlocks: Type.Array(Type.String()),
  cenId: Nullable(Type.String({ description: 'The CEN this VPC is attached to' })),
  createdAt: Timestamp,
});
export type Vpc = Static<typeof Vpc>;
