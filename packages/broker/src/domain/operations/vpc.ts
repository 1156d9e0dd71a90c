import { SagError } from '../../errors.js';
import { validateRegion } from '../catalogue.js';
import { blockContains, parseAddress, parseBlock } from '../cidr.js';
import { validateDescription, validateName } from '../names.js';
import { cidrConflictError, findOwnConflict, vpcOwner } from '../overlap.js';
import type { Changeset, Instance, OperationContext, Topology, Vpc } from '../types.js';
import { created, deleted } from './changeset.js';
import { findEntity, label, listIds } from './lookup.js';

export interface CreateVpcInput {
  name: string;
  region: string;
  cidrBlocks: string[];
  description?: string;
}

export interface CreateInstanceInput {
  name: string;
  vpcId: string;
  privateIp: string;
  securityGroupIds: string[];
}

export const MAX_VPC_BLOCKS = 5;
export const VPC_CIDR_PREFIX = { min: 8, max: 28 };
export const MAX_GROUPS_PER_INSTANCE = 5;

export function createVpc(_topology: Topology, ctx: OperationContext, input: CreateVpcInput): Changeset {
  const name = validateName(input.name, 'name');
  const description = validateDescription(input.description, 'description');
  const region = validateRegion(input.region);
  const blocks = input.cidrBlocks;
  if (!Array.isArray(blocks) || blocks.length < 1 || blocks.length > MAX_VPC_BLOCKS) {
    throw new SagError('INVALID_ARGUMENT', `cidrBlocks: a VPC has 1 to ${MAX_VPC_BLOCKS} CIDR blocks`, {
      field: 'cidrBlocks',
    });
  }
  const vpc: Vpc = {
    id: ctx.newId('vpc'),
    name,
    ...(description !== undefined ? { description } : {}),
    region,
    cidrBlocks: blocks.map((cidr, i) => parseBlock(cidr, `cidrBlocks[${i}]`, VPC_CIDR_PREFIX).text),
    cenId: null,
    createdAt: ctx.now.toISOString(),
  };
  const conflict = findOwnConflict(vpcOwner(vpc));
  if (conflict) throw cidrConflictError(conflict);
  return created('vpc.create', 'vpc', vpc);
}

export function deleteVpc(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const vpc = findEntity(topology, 'vpc', id);
  const instances = [...topology.instances.values()].filter((i) => i.vpcId === id).map((i) => i.id);
  const groups = [...topology.securityGroups.values()].filter((g) => g.vpcId === id).map((g) => g.id);
  const users = [...instances, ...groups];
  if (users.length > 0) {
    throw new SagError(
      'IN_USE',
      `${label('vpc', vpc)} still holds ${instances.length} instance(s) and ${groups.length} security group(s) (${listIds(users)}); delete them first`,
      { vpcId: vpc.id, instanceIds: instances, securityGroupIds: groups },
    );
  }
  if (vpc.cenId !== null) {
    throw new SagError(
      'IN_USE',
      `${label('vpc', vpc)} is attached to CEN ${vpc.cenId}; detach it first (DELETE /v1/cens/${vpc.cenId}/attachments/${vpc.id})`,
      { vpcId: vpc.id, cenId: vpc.cenId },
    );
  }
  return deleted('vpc.delete', 'vpc', vpc);
}

/** The address must be a host address of one of the VPC's blocks and free in that VPC. */
function validatePrivateIp(topology: Topology, vpc: Vpc, ip: string): string {
  const address = parseAddress(ip, 'privateIp');
  const block = vpc.cidrBlocks
    .map((cidr) => parseBlock(cidr, 'cidrBlocks', { min: 0, max: 32 }))
    .find((candidate) => blockContains(candidate, address));
  if (!block) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `privateIp: ${ip} is outside ${label('vpc', vpc)}, whose blocks are ${vpc.cidrBlocks.join(', ')}`,
      { field: 'privateIp', value: ip, cidrBlocks: vpc.cidrBlocks },
    );
  }
  if (address === block.first || address === block.last) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `privateIp: ${ip} is the network or broadcast address of ${block.text}; use a host address`,
      { field: 'privateIp', value: ip },
    );
  }
  const holder = [...topology.instances.values()].find((i) => i.vpcId === vpc.id && i.privateIp === ip);
  if (holder) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `privateIp: ${ip} is already used by ${label('instance', holder)} in ${label('vpc', vpc)}`,
      { field: 'privateIp', value: ip, instanceId: holder.id },
    );
  }
  return ip;
}

function validateGroups(topology: Topology, vpc: Vpc, ids: string[]): string[] {
  if (
    !Array.isArray(ids) ||
    ids.length < 1 ||
    ids.length > MAX_GROUPS_PER_INSTANCE ||
    new Set(ids).size !== ids.length
  ) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `securityGroupIds: an instance belongs to 1 to ${MAX_GROUPS_PER_INSTANCE} distinct security groups of its VPC`,
      { field: 'securityGroupIds' },
    );
  }
  for (const id of ids) {
    const group = findEntity(topology, 'securityGroup', id);
    if (group.vpcId !== vpc.id) {
      throw new SagError(
        'INVALID_ARGUMENT',
        `securityGroupIds: ${label('securityGroup', group)} belongs to VPC ${group.vpcId}, not to ${label('vpc', vpc)}`,
        { field: 'securityGroupIds', value: id },
      );
    }
  }
  return [...ids];
}

export function createInstance(
  topology: Topology,
  ctx: OperationContext,
  input: CreateInstanceInput,
): Changeset {
  const name = validateName(input.name, 'name');
  const vpc = findEntity(topology, 'vpc', input.vpcId);
  const instance: Instance = {
    id: ctx.newId('i'),
    name,
    vpcId: vpc.id,
    privateIp: validatePrivateIp(topology, vpc, input.privateIp),
    securityGroupIds: validateGroups(topology, vpc, input.securityGroupIds),
    createdAt: ctx.now.toISOString(),
  };
  return created('instance.create', 'instance', instance);
}

export function deleteInstance(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  return deleted('instance.delete', 'instance', findEntity(topology, 'instance', id));
}
