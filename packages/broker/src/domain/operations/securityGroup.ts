import { SagError } from '../../errors.js';
import { validateDescription, validateName } from '../names.js';
import { assertQuota } from '../quotas.js';
import { type SecurityGroupRuleInput, validateSecurityGroupRule } from '../rules.js';
import type { Changeset, OperationContext, SecurityGroup, SecurityGroupRule, Topology } from '../types.js';
import { copy, created, deleted, updated } from './changeset.js';
import { findEntity, label, listIds } from './lookup.js';

export interface CreateSecurityGroupInput {
  name: string;
  vpcId: string;
  description?: string;
}

export function createSecurityGroup(
  topology: Topology,
  ctx: OperationContext,
  input: CreateSecurityGroupInput,
): Changeset {
  const name = validateName(input.name, 'name');
  const description = validateDescription(input.description, 'description');
  const vpc = findEntity(topology, 'vpc', input.vpcId);
  const group: SecurityGroup = {
    id: ctx.newId('sg'),
    name,
    ...(description !== undefined ? { description } : {}),
    vpcId: vpc.id,
    rules: [],
    createdAt: ctx.now.toISOString(),
  };
  return created('securityGroup.create', 'securityGroup', group);
}

export function deleteSecurityGroup(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const group = findEntity(topology, 'securityGroup', id);
  const users = [...topology.instances.values()]
    .filter((i) => i.securityGroupIds.includes(id))
    .map((i) => i.id);
  if (users.length > 0) {
    throw new SagError(
      'IN_USE',
      `${label('securityGroup', group)} is used by ${users.length} instance(s) (${listIds(users)}); delete them first`,
      { securityGroupId: group.id, instanceIds: users },
    );
  }
  return deleted('securityGroup.delete', 'securityGroup', group);
}

/** Appends a rule; the group comes back as the audited entity, the new rule last in its list. */
export function addSecurityGroupRule(
  topology: Topology,
  ctx: OperationContext,
  sgId: string,
  input: SecurityGroupRuleInput,
): Changeset {
  const group = findEntity(topology, 'securityGroup', sgId);
  const fields = validateSecurityGroupRule(input);
  assertQuota(
    ctx.settings,
    'rulesPerSecurityGroup',
    group.rules.length + 1,
    `rules in ${label('securityGroup', group)}`,
  );
  const rule: SecurityGroupRule = { id: ctx.newId('sgr'), ...fields, createdAt: ctx.now.toISOString() };
  const next = { ...copy(group), rules: [...copy(group.rules), rule] };
  return updated('securityGroup.rule.add', 'securityGroup', group, next);
}

export function removeSecurityGroupRule(
  topology: Topology,
  _ctx: OperationContext,
  sgId: string,
  ruleId: string,
): Changeset {
  const group = findEntity(topology, 'securityGroup', sgId);
  if (!group.rules.some((rule) => rule.id === ruleId)) {
    throw new SagError('NOT_FOUND', `rule ${ruleId} not found in ${label('securityGroup', group)}`, {
      securityGroupId: group.id,
      ruleId,
    });
  }
  const next = { ...copy(group), rules: copy(group.rules).filter((rule) => rule.id !== ruleId) };
  return updated('securityGroup.rule.remove', 'securityGroup', group, next);
}
