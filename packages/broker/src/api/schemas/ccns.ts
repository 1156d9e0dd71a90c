import { type Static, Type } from '@sinclair/typebox';
import { Area, Description, Name, Nullable, Timestamp } from './common.js';

export const CcnCreate = Type.Object(
  { name: Name, area: Area, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CcnCreate = Static<typeof CcnCreate>;

export const CcnGatewayBinding = Type.Object(
  { gatewayId: Type.String({ maxLength: 128 }) },
  { additionalProperties: false },
);
export type CcnGatewayBinding = Static<typeof CcnGatewayBinding>;

export const CcnGatewayParams = Type.Object({
  id: Type.String({ maxLength: 128 }),
  gatewayId: Type.String({ maxLength: 128 }),
});
export type CcnGatewayParams = Static<typeof CcnGatewayParams>;

export const Ccn = Type.Object({
  id: Type.String({ examples: ['ccn-77c0d1'] }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  area: Type.String(),
  cenId: Nullable(Type.String({ description: 'The CEN this CCN is attached to' })),
  gatewayIds: Type.Array(Type.String(), { description: 'Gateways bound to this CCN, in creation order' }),
  createdAt: Timestamp,
});
export type Ccn = Static<typeof Ccn>;
