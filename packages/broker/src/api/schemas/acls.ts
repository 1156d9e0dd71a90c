import { type Static, Type } from '@sinclair/typebox';
import { Cidr, Description, Name, Policy, PortRange, Protocol, Timestamp } from './common.js';

export const AclCreate = Type.Object(
  { name: Name, description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type AclCreate = Static<typeof AclCreate>;

const Direction = Type.Union([Type.Literal('in'), Type.Literal('out')], {
  description: '`in`: overlay to branch LAN; `out`: branch LAN to overlay',
});
const RuleName = Type.String({ maxLength: 1024 });
const Priority = Type.Integer({ description: '1-100, lower first; equal priority: earlier rule first' });

export const AclRuleCreate = Type.Object(
  {
    name: Type.Optional(RuleName),
    direction: Direction,
    policy: Policy,
    priority: Priority,
    protocol: Protocol,
    sourceCidr: Cidr,
    sourcePortRange: PortRange,
    destCidr: Cidr,
    destPortRange: PortRange,
  },
  { additionalProperties: false },
);
export type AclRuleCreate = Static<typeof AclRuleCreate>;

export const AclRulePatch = Type.Partial(AclRuleCreate, { additionalProperties: false, minProperties: 1 });
export type AclRulePatch = Static<typeof AclRulePatch>;

export const AclRuleParams = Type.Object({
  id: Type.String({ maxLength: 128 }),
  ruleId: Type.String({ maxLength: 128 }),
});
export type AclRuleParams = Static<typeof AclRuleParams>;

export const AclRule = Type.Object({
  id: Type.String({ examples: ['aclr-4c5d6e'] }),
  name: Type.Optional(Type.String()),
  direction: Direction,
  policy: Policy,
  priority: Type.Integer(),
  protocol: Protocol,
  sourceCidr: Type.String(),
  sourcePortRange: Type.String(),
  destCidr: Type.String(),
  destPortRange: Type.String(),
  createdAt: Timestamp,
});
export type AclRule = Static<typeof AclRule>;

export const Acl = Type.Object({
  id: Type.String({ examples: ['acl-2b3c4d'] }),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  rules: Type.Array(AclRule, { description: 'In insertion order; evaluated by (priority, insertion)' }),
  createdAt: Timestamp,
});
export type Acl = Static<typeof Acl>;
