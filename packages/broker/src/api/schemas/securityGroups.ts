import { type Static, Type } from '@sinclair/typebox';
import { Cidr, Description, Name, Policy, PortRange, Protocol, Timestamp } from './common.js';

export const SecurityGroupCreate = Type.Object(
  { name: Name, vpcId: Type.String({ maxLength: 128 }), description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type SecurityGroupCreate = Static<typeof SecurityGroupCreate>;

const Direction = Type.Union([Type.Literal('ingress'), Type.Literal('egress')]);

export const SecurityGroupRuleCreate = Type.Object(
  {
    direction: Direction,
    policy: Policy,
    priority: Type.Integer({ description: '1-100, lower first' }),
    protocol: Protocol,
    portRange: PortRange,
    cidr: Cidr,
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type SecurityGroupRuleCreate = Static<typeof SecurityGroupRuleCreate>;

export const SecurityGroupRuleParams = Type.Object({
  id: Type.String({ maxLength: 128 }),
  ruleId: Type.String({ maxLength: 128 }),
});
export type SecurityGroupRuleParams = Static<typeof SecurityGroupRuleParams>;

export const SecurityGroupRule = Type.Object({
  id: Type.String({ examples: ['sgr-0a1b2c'] }),
  direction: Direction,
  policy: Policy,
  priority: Type.Integer(),
  protocol: Protocol,
  portRange: Type.String(),
  cidr: Type.String(),
  description: Type.Optional(Type.String()),
  createdAt: Timestamp,
});
export type SecurityGroupRule = Static<typeof SecurityGroupRule>;

export const SecurityGroup = Type.Object({
  id: Type.String({ examples: ['sg-9f8e7d'] }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  vpcId: Type.String(),
  rules: Type.Array(SecurityGroupRule, { description: 'In insertion order' }),
  createdAt: Timestamp,
});
export type SecurityGroup = Static<typeof SecurityGroup>;
