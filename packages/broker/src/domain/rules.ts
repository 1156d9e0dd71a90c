import { parsePortRange } from '@opensag/proto';
import { SagError } from '../errors.js';
import { parseBlock } from './cidr.js';
import { validateDescription, validateName } from './names.js';
import type { AclRule, Policy, Protocol, SecurityGroupRule } from './types.js';

/** ACL and security-group rule fields (SPEC §3 "Gateway ACL" and "Security groups"). */

export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'icmp', 'all'];
export const POLICIES: readonly Policy[] = ['accept', 'drop'];
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 100;

/** Rules may name any canonical block, from 0.0.0.0/0 down to a single host. */
export const RULE_CIDR_PREFIX = { min: 0, max: 32 };

export interface AclRuleInput {
  name?: string;
  direction: string;
  policy: string;
  priority: number;
  protocol: string;
  sourceCidr: string;
  sourcePortRange: string;
  destCidr: string;
  destPortRange: string;
}

export interface SecurityGroupRuleInput {
  direction: string;
  policy: string;
  priority: number;
  protocol: string;
  portRange: string;
  cidr: string;
  description?: string;
}

function invalidRule(field: string, value: unknown, expected: string): SagError {
  return new SagError(
    'INVALID_RULE',
    `${field}: ${JSON.stringify(value) ?? 'missing'} is not valid; ${expected}`,
    {
      field,
      value,
    },
  );
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidRule(field, value, `expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function validatePriority(priority: number, field = 'priority'): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw invalidRule(
      field,
      priority,
      `priority is a whole number from ${MIN_PRIORITY} (evaluated first) to ${MAX_PRIORITY}`,
    );
  }
  return priority;
}

export function validateProtocol(protocol: string, field = 'protocol'): Protocol {
  return oneOf(protocol, PROTOCOLS, field);
}

export function validatePolicy(policy: string, field = 'policy'): Policy {
  return oneOf(policy, POLICIES, field);
}

/** `a/b` with 1 ≤ a ≤ b ≤ 65535, or `-1/-1`; icmp and all carry no ports, so only `-1/-1`. */
export function validatePortRange(range: string, protocol: Protocol, field: string): string {
  const parsed = typeof range === 'string' ? parsePortRange(range) : null;
  if (!parsed) {
    throw invalidRule(
      field,
      range,
      'a port range is "from/to" with 1 <= from <= to <= 65535, or "-1/-1" for any port',
    );
  }
  if ((protocol === 'icmp' || protocol === 'all') && !parsed.any) {
    throw invalidRule(field, range, `protocol ${protocol} has no ports; use "-1/-1"`);
  }
  return range;
}

/** Canonical IPv4 block, /0 to /32; INVALID_CIDR suggests the canonical form when host bits are set. */
export function validateRuleCidr(cidr: string, field: string): string {
  return parseBlock(cidr, field, RULE_CIDR_PREFIX).text;
}

export function validateAclRule(input: AclRuleInput, field = 'rule'): Omit<AclRule, 'id' | 'createdAt'> {
  const protocol = validateProtocol(input.protocol, `${field}.protocol`);
  const rule: Omit<AclRule, 'id' | 'createdAt'> = {
    direction: oneOf(input.direction, ['in', 'out'] as const, `${field}.direction`),
    policy: validatePolicy(input.policy, `${field}.policy`),
    priority: validatePriority(input.priority, `${field}.priority`),
    protocol,
    sourceCidr: validateRuleCidr(input.sourceCidr, `${field}.sourceCidr`),
    sourcePortRange: validatePortRange(input.sourcePortRange, protocol, `${field}.sourcePortRange`),
    destCidr: validateRuleCidr(input.destCidr, `${field}.destCidr`),
    destPortRange: validatePortRange(input.destPortRange, protocol, `${field}.destPortRange`),
  };
  if (input.name !== undefined) rule.name = validateName(input.name, `${field}.name`);
  return rule;
}

export function validateSecurityGroupRule(
  input: SecurityGroupRuleInput,
  field = 'rule',
): Omit<SecurityGroupRule, 'id' | 'createdAt'> {
  const protocol = validateProtocol(input.protocol, `${field}.protocol`);
  const rule: Omit<SecurityGroupRule, 'id' | 'createdAt'> = {
    direction: oneOf(input.direction, ['ingress', 'egress'] as const, `${field}.direction`),
    policy: validatePolicy(input.policy, `${field}.policy`),
    priority: validatePriority(input.priority, `${field}.priority`),
    protocol,
    portRange: validatePortRange(input.portRange, protocol, `${field}.portRange`),
    cidr: validateRuleCidr(input.cidr, `${field}.cidr`),
  };
  const description = validateDescription(input.description, `${field}.description`);
  if (description !== undefined) rule.description = description;
  return rule;
}
