import { SagError } from '../../errors.js';
import { validateDescription, validateName } from '../names.js';
import { assertQuota } from '../quotas.js';
import { type AclRuleInput, validateAclRule } from '../rules.js';
import type { Acl, AclRule, Changeset, OperationContext, Topology } from '../types.js';
import { copy, created, deleted, updated } from './changeset.js';
import { findEntity, label, listIds } from './lookup.js';

export interface CreateAclInput {
  name: string;
  description?: string;
}

export function createAcl(topology: Topology, ctx: OperationContext, input: CreateAclInput): Changeset {
  const name = validateName(input.name, 'name');
  const description = validateDescription(input.description, 'description');
  assertQuota(ctx.settings, 'acls', topology.acls.size + 1, 'ACLs');
  const acl: Acl = {
    id: ctx.newId('acl'),
    name,
    ...(description !== undefined ? { description } : {}),
    rules: [],
    createdAt: ctx.now.toISOString(),
  };
  return created('acl.create', 'acl', acl);
}

export function deleteAcl(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const acl = findEntity(topology, 'acl', id);
  const users = [...topology.gateways.values()].filter((g) => g.aclId === id).map((g) => g.id);
  if (users.length > 0) {
    throw new SagError(
      'IN_USE',
      `${label('acl', acl)} is used by ${users.length} gateway(s) (${listIds(users)}); remove it from them first`,
      { aclId: acl.id, gatewayIds: users },
    );
  }
  return deleted('acl.delete', 'acl', acl);
}

function findRule(acl: Acl, ruleId: string): AclRule {
  const rule = acl.rules.find((candidate) => candidate.id === ruleId);
  if (!rule) {
    throw new SagError('NOT_FOUND', `rule ${ruleId} not found in ${label('acl', acl)}`, {
      aclId: acl.id,
      ruleId,
    });
  }
  return rule;
}

/** Appends a rule (equal priorities keep insertion order); the new rule is last in the ACL's list. */
export function addAclRule(
  topology: Topology,
  ctx: OperationContext,
  aclId: string,
  input: AclRuleInput,
): Changeset {
  const acl = findEntity(topology, 'acl', aclId);
  const fields = validateAclRule(input);
  assertQuota(ctx.settings, 'rulesPerAcl', acl.rules.length + 1, `rules in ${label('acl', acl)}`);
  const rule: AclRule = { id: ctx.newId('aclr'), ...fields, createdAt: ctx.now.toISOString() };
  return updated('acl.rule.add', 'acl', acl, { ...copy(acl), rules: [...copy(acl.rules), rule] });
}

/** Changes some fields of a rule in place: it keeps its id and its position among equal priorities. */
export function updateAclRule(
  topology: Topology,
  _ctx: OperationContext,
  aclId: string,
  ruleId: string,
  input: Partial<AclRuleInput>,
): Changeset {
  const acl = findEntity(topology, 'acl', aclId);
  const current = findRule(acl, ruleId);
  const defined = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  const fields = validateAclRule({ ...current, ...defined });
  const rule: AclRule = { id: current.id, ...fields, createdAt: current.createdAt };
  const rules = copy(acl.rules).map((candidate) => (candidate.id === ruleId ? rule : candidate));
  return updated('acl.rule.update', 'acl', acl, { ...copy(acl), rules });
}

export function removeAclRule(
  topology: Topology,
  _ctx: OperationContext,
  aclId: string,
  ruleId: string,
): Changeset {
  const acl = findEntity(topology, 'acl', aclId);
  findRule(acl, ruleId);
  const rules = copy(acl.rules).filter((rule) => rule.id !== ruleId);
  return updated('acl.rule.remove', 'acl', acl, { ...copy(acl), rules });
}
